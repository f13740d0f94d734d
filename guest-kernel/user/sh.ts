// sh: a small shell. Reads a line, splits it into words, and runs the programs of a pipeline
// (`a | b | c`) from the initrd, each with its arguments, in a process group of their own that
// it makes the console's foreground group (so Ctrl-C kills them, not the shell), waiting for all
// of them. Keeps the last command's status; builtins: exit [status] (default: that status), help.
// Ends at end of input (Ctrl-D), with the last status. The line editor reads the console in raw
// mode: left/right arrows move in the line, backspace erases before the cursor, up/down walk the
// history of earlier lines.
// User program (the TypeScript subset, compiled with --user).

import { cstr, staticBuffer, load8, store8, load32, store32 } from 'xl32';
import { Err, Fd, ConsMode, ExitStatus } from '../kernel/abi.ts';
import { fork, exec, wait, exit, read, write, pipe, close, dup, puts, fputs, fputd, streq, atoi, strlen, memcpy, setpgid, fgpgrp, consmode } from './lib/ulib.ts';

const enum Sh {
  LINE_BYTES = 256,
  /** lines the history keeps */
  HISTORY = 16,
  /** status of a syntax error (as POSIX shells) */
  SYNTAX_STATUS = 2,
  MAX_WORDS = 32,
  MAX_STAGES = 8,
  SPACE = 32,
  TAB = 9,
  NEWLINE = 10,
  BAR = 124,
}

/** Keys the line editor knows. */
const enum Key {
  EOF = 4,
  BACKSPACE = 8,
  NEWLINE = 10,
  RETURN = 13,
  ESC = 27,
  SPACE = 32,
  /** after ESC: '[' starts a CSI sequence */
  CSI = 91,
  UP = 65,
  DOWN = 66,
  RIGHT = 67,
  LEFT = 68,
  DELETE = 127,
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
/** the last command's exit status ($? in a Unix shell) */
let lastStatus = 0;

// ---- the line editor ---------------------------------------------------------------------------

/** earlier lines, a ring of HISTORY entries of LINE_BYTES (NUL-terminated) */
const history = staticBuffer(Sh.HISTORY * Sh.LINE_BYTES);
/** lines ever added (the newest is entry histCount - 1) */
let histCount = 0;
const spaces = staticBuffer(4);

function histEntry(k: number): number {
  return history + (k % Sh.HISTORY) * Sh.LINE_BYTES;
}

function echoBytes(p: number, n: number): void {
  if (n > 0) write(Fd.STDOUT, p, n);
}

/** Move the terminal's cursor n places left (a backspace moves it without erasing). */
function cursorLeft(n: number): void {
  store8(spaces, Key.BACKSPACE);
  let k = 0;
  while (k < n) {
    write(Fd.STDOUT, spaces, 1);
    k = k + 1;
  }
}

function blanks(n: number): void {
  store8(spaces, Key.SPACE);
  let k = 0;
  while (k < n) {
    write(Fd.STDOUT, spaces, 1);
    k = k + 1;
  }
}

/** Read one key; -1 at end of input, 0 when a Ctrl-C interrupted the read. */
function readKey(): number {
  const r = read(Fd.STDIN, ch, 1);
  if (r === Err.EINTR) return 0;
  if (r <= 0) return -1;
  return load8(ch);
}

/**
 * Show the prompt and read one line (without its newline) into `line`, editing it on the screen.
 * Its length, -1 at end of input, -2 when Ctrl-C abandoned it (the kernel echoed ^C).
 */
function readLine(prompt: number): number {
  let n = 0;
  let cur = 0;
  /** the history entry shown (histCount: the line being typed) */
  let shown = histCount;
  // raw before the prompt shows: what is typed after it is seen, not line-edited, by the kernel
  consmode(ConsMode.RAW);
  puts(prompt);
  let result = -1;
  for (;;) {
    const c = readKey();
    if (c < 0) {
      result = n > 0 ? n : -1;
      break;
    }
    if (c === 0) {
      result = -2;
      break;
    }
    if (c === Key.NEWLINE || c === Key.RETURN) {
      write(Fd.STDOUT, cstr('\n'), 1);
      result = n;
      break;
    }
    if (c === Key.EOF) {
      if (n === 0) break;
      continue;
    }
    if (c === Key.BACKSPACE || c === Key.DELETE) {
      if (cur === 0) continue;
      memcpy(line + cur - 1, line + cur, n - cur);
      cur = cur - 1;
      n = n - 1;
      cursorLeft(1);
      echoBytes(line + cur, n - cur);
      blanks(1);
      cursorLeft(n - cur + 1);
      continue;
    }
    if (c === Key.ESC) {
      if (readKey() !== Key.CSI) continue;
      const k = readKey();
      if (k === Key.LEFT && cur > 0) {
        cur = cur - 1;
        cursorLeft(1);
      } else if (k === Key.RIGHT && cur < n) {
        echoBytes(line + cur, 1);
        cur = cur + 1;
      } else if ((k === Key.UP && shown > 0 && shown > histCount - Sh.HISTORY) || (k === Key.DOWN && shown < histCount)) {
        shown = k === Key.UP ? shown - 1 : shown + 1;
        // replace the line on the screen: back to its start, the entry, blanks over the rest
        cursorLeft(cur);
        const old = n;
        if (shown === histCount) n = 0;
        else {
          n = strlen(histEntry(shown));
          memcpy(line, histEntry(shown), n);
        }
        echoBytes(line, n);
        if (old > n) {
          blanks(old - n);
          cursorLeft(old - n);
        }
        cur = n;
      }
      continue;
    }
    if (c < Key.SPACE || n === Sh.LINE_BYTES - 1) continue;
    // insert at the cursor: shift the rest right, show it, come back
    let k = n;
    while (k > cur) {
      store8(line + k, load8(line + k - 1));
      k = k - 1;
    }
    store8(line + cur, c);
    n = n + 1;
    echoBytes(line + cur, n - cur);
    cur = cur + 1;
    cursorLeft(n - cur);
  }
  consmode(ConsMode.COOKED);
  if (result >= 0) store8(line + result, 0);
  if (result > 0) {
    // a line unlike the previous one goes into the history
    if (histCount === 0 || !streq(line, histEntry(histCount - 1))) {
      memcpy(histEntry(histCount), line, result + 1);
      histCount = histCount + 1;
    }
  }
  return result;
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

/** Run the parsed pipeline of n stages, in a process group in the foreground; the last stage's exit status. */
function runPipeline(n: number): number {
  let prevRead = -1;
  /** the pipeline's process group: the first stage's pid */
  let group = 0;
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
      // both sides set the group, so it is right whichever runs first
      setpgid(0, group);
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
    if (group === 0) group = pid;
    setpgid(pid, group);
    if (s === 0) fgpgrp(group);
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
        else if (load32(status) === ExitStatus.INTERRUPTED && result === 0) result = ExitStatus.INTERRUPTED;
      }
      k = k + 1;
    }
  }
  // the shell is the foreground again (no group: Ctrl-C at the prompt only interrupts the line)
  fgpgrp(0);
  if (result === ExitStatus.INTERRUPTED) fputs(Fd.STDERR, cstr('sh: killed by interrupt\n'));
  return result;
}

/** The builtins and every program in the initrd but init and sh, one line each. */
function help(): void {
  puts(cstr('builtins: exit [status], help; any other word runs that program from the initrd; join commands with |\n'));
  puts(cstr('keys: left/right move in the line, up/down recall earlier lines, Ctrl-C interrupts, Ctrl-D ends input\n'));
  puts(cstr('  cat                      copy standard input to standard output\n'));
  puts(cstr('  crash KIND               fault on purpose (crash alone lists the kinds)\n'));
  puts(cstr('  disk [read|write ...]    raw block-device sectors: capacity, read SECTOR, write SECTOR WORDS...\n'));
  puts(cstr('  diskbench [KIB]          disk throughput: sequential and random reads and writes\n'));
  puts(cstr('  echo WORDS...            print the words\n'));
  puts(cstr('  free                     free memory and processes\n'));
  puts(cstr('  ifconfig                 the network interface: addresses and counters\n'));
  puts(cstr('  lmbench [NAME|all] [N]   latencies: null fork exec ctx pipe pagefault sbrk\n'));
  puts(cstr('  nanobench [N]            kernel primitives through pvops, and a system call\n'));
  puts(cstr('  netbench [N] [SIZE]      UDP round trip and send throughput against the gateway\n'));
  puts(cstr('  nproc                    the number of CPUs online\n'));
  puts(cstr('  parbench [W] [ROUNDS]    parallel workload: W processes at once, speedup over one\n'));
  puts(cstr('  ping A.B.C.D [N]         ICMP echo: N requests (default 4) and their round trips\n'));
  puts(cstr('  ps                       the process table\n'));
  puts(cstr('  spin [N]                 burn the CPU (N million iterations; forever without N)\n'));
  puts(cstr('  true                     exit with status 0\n'));
  puts(cstr('  udpecho PORT [N]         send every UDP datagram on PORT back (stop after N)\n'));
  puts(cstr('  usertests [NAME...]      the system-call test suite\n'));
}

export function main(): number {
  // no foreground group while the shell reads: Ctrl-C at the prompt abandons the line only
  fgpgrp(0);
  for (;;) {
    const len = readLine(cstr('$ '));
    if (len === -2) {
      lastStatus = ExitStatus.INTERRUPTED;
      continue;
    }
    if (len < 0) {
      puts(cstr('\n'));
      return lastStatus;
    }
    const n = parse(len);
    if (n < 0) {
      fputs(Fd.STDERR, cstr('sh: syntax error\n'));
      lastStatus = Sh.SYNTAX_STATUS;
      continue;
    }
    if (n === 0) continue;
    const cmd = load32(words);
    if (n === 1 && streq(cmd, cstr('exit'))) {
      const arg = load32(words + 4);
      return arg === 0 ? lastStatus : atoi(arg);
    }
    if (n === 1 && streq(cmd, cstr('help'))) {
      help();
      lastStatus = 0;
      continue;
    }
    lastStatus = runPipeline(n);
  }
}
