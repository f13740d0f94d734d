// sh: a small shell. Reads a line, splits it into words, and runs the programs of a pipeline
// (`a | b | c`) from the initrd, each with its arguments, waiting for all of them. Builtins:
// exit [status], help. Ends at end of input (Ctrl-D).
// User program (the TypeScript subset, compiled with --user).

import { cstr, staticBuffer, load8, store8, load32, store32 } from 'xl32';
import { Err, Fd } from '../kernel/abi.ts';
import { fork, exec, wait, exit, read, pipe, close, dup, puts, fputs, fputd, streq, atoi } from './lib/ulib.ts';

const enum Sh {
  LINE_BYTES = 256,
  MAX_WORDS = 32,
  MAX_STAGES = 8,
  SPACE = 32,
  TAB = 9,
  NEWLINE = 10,
  BAR = 124,
}

const line = staticBuffer(Sh.LINE_BYTES);
/** word pointers, NULL-terminated per stage (a '|' word becomes the NULL ending its stage) */
const words = staticBuffer((Sh.MAX_WORDS + 1) * 4);
/** start of each stage's words within `words` */
const stages = staticBuffer(Sh.MAX_STAGES * 4);
const pids = staticBuffer(Sh.MAX_STAGES * 4);
const fds = staticBuffer(8);
const ch = staticBuffer(4);
const status = staticBuffer(4);

/** Read one line (without its newline) into `line`. Its length, or -1 at end of input. */
function readLine(): number {
  let n = 0;
  for (;;) {
    const r = read(Fd.STDIN, ch, 1);
    if (r <= 0) return n > 0 ? n : -1;
    const c = load8(ch);
    if (c === Sh.NEWLINE) break;
    if (n < Sh.LINE_BYTES - 1) {
      store8(line + n, c);
      n = n + 1;
    }
  }
  store8(line + n, 0);
  return n;
}

/** Split `line` in place into words and stages. The stage count (0: empty line), -1 on a syntax error. */
function parse(n: number): number {
  let nwords = 0;
  let nstages = 0;
  let k = 0;
  store32(stages, words);
  let stageWords = 0;
  while (k < n) {
    while (k < n && (load8(line + k) === Sh.SPACE || load8(line + k) === Sh.TAB)) {
      store8(line + k, 0);
      k = k + 1;
    }
    if (k === n) break;
    if (nwords === Sh.MAX_WORDS) return -1;
    const start = line + k;
    while (k < n && load8(line + k) !== Sh.SPACE && load8(line + k) !== Sh.TAB) k = k + 1;
    if (k < n) {
      store8(line + k, 0);
      k = k + 1;
    }
    if (load8(start) === Sh.BAR && load8(start + 1) === 0) {
      if (stageWords === 0 || nstages + 1 === Sh.MAX_STAGES) return -1;
      store32(words + nwords * 4, 0);
      nwords = nwords + 1;
      nstages = nstages + 1;
      store32(stages + nstages * 4, words + nwords * 4);
      stageWords = 0;
    } else {
      store32(words + nwords * 4, start);
      nwords = nwords + 1;
      stageWords = stageWords + 1;
    }
  }
  store32(words + nwords * 4, 0);
  if (stageWords === 0) return nstages === 0 ? 0 : -1;
  return nstages + 1;
}

function complain(name: number, what: number): void {
  fputs(Fd.STDERR, cstr('sh: '));
  fputs(Fd.STDERR, name);
  fputs(Fd.STDERR, what);
}

/** In a child: become the program of argv (does not return). */
function runProgram(argv: number): void {
  const name = load32(argv);
  const err = exec(name, argv);
  if (err === Err.ENOENT) {
    complain(name, cstr(': not found\n'));
  } else if (err === Err.ENOEXEC) {
    complain(name, cstr(': not an executable program\n'));
  } else {
    complain(name, cstr(': cannot run (error '));
    fputd(Fd.STDERR, err);
    fputs(Fd.STDERR, cstr(')\n'));
  }
  exit(127);
}

/** Run the parsed pipeline of n stages; the last stage's exit status. */
function runPipeline(n: number): number {
  let prevRead = -1;
  let s = 0;
  while (s < n) {
    const last = s === n - 1;
    if (!last && pipe(fds) < 0) {
      fputs(Fd.STDERR, cstr('sh: cannot make a pipe\n'));
      break;
    }
    const pid = fork();
    if (pid < 0) {
      fputs(Fd.STDERR, cstr('sh: cannot fork\n'));
      break;
    }
    if (pid === 0) {
      if (prevRead >= 0) {
        close(Fd.STDIN);
        dup(prevRead);
        close(prevRead);
      }
      if (!last) {
        close(Fd.STDOUT);
        dup(load32(fds + 4));
        close(load32(fds));
        close(load32(fds + 4));
      }
      runProgram(load32(stages + s * 4));
    }
    store32(pids + s * 4, pid);
    if (prevRead >= 0) close(prevRead);
    if (!last) {
      close(load32(fds + 4));
      prevRead = load32(fds);
    }
    s = s + 1;
  }
  if (prevRead >= 0 && s < n) close(prevRead);
  // wait for every stage started; the status is the last stage's
  let result = 0;
  let left = s;
  while (left > 0) {
    const w = wait(status);
    if (w < 0) break;
    let k = 0;
    while (k < s) {
      if (load32(pids + k * 4) === w) {
        left = left - 1;
        if (k === n - 1) result = load32(status);
      }
      k = k + 1;
    }
  }
  return result;
}

/** The builtins and every program in the initrd but init and sh, one line each. */
function help(): void {
  puts(cstr('builtins: exit [status], help; any other word runs that program from the initrd; join commands with |\n'));
  puts(cstr('  cat                      copy standard input to standard output\n'));
  puts(cstr('  crash KIND               fault on purpose (crash alone lists the kinds)\n'));
  puts(cstr('  disk [read|write ...]    raw block-device sectors: capacity, read SECTOR, write SECTOR WORDS...\n'));
  puts(cstr('  diskbench [KIB]          disk throughput: sequential and random reads and writes\n'));
  puts(cstr('  echo WORDS...            print the words\n'));
  puts(cstr('  free                     free memory and processes\n'));
  puts(cstr('  lmbench [NAME|all] [N]   latencies: null fork exec ctx pipe pagefault sbrk\n'));
  puts(cstr('  nanobench [N]            kernel primitives through pvops, and a system call\n'));
  puts(cstr('  ps                       the process table\n'));
  puts(cstr('  spin [N]                 burn the CPU (N million iterations; forever without N)\n'));
  puts(cstr('  true                     exit with status 0\n'));
  puts(cstr('  usertests [NAME...]      the system-call test suite\n'));
}

export function main(): number {
  for (;;) {
    puts(cstr('$ '));
    const len = readLine();
    if (len < 0) {
      puts(cstr('\n'));
      return 0;
    }
    const n = parse(len);
    if (n < 0) {
      fputs(Fd.STDERR, cstr('sh: syntax error\n'));
      continue;
    }
    if (n === 0) continue;
    const cmd = load32(words);
    if (n === 1 && streq(cmd, cstr('exit'))) {
      const arg = load32(words + 4);
      return arg === 0 ? 0 : atoi(arg);
    }
    if (n === 1 && streq(cmd, cstr('help'))) {
      help();
      continue;
    }
    runPipeline(n);
  }
}
