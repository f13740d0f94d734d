// The shell (guest-kernel/user/sh.ts) under init, driven by console input given ahead of time:
// exact transcripts of programs with arguments, pipelines, ps, error messages, faulting
// programs, line editing and end of input.
// The suite as a function of the harness: shell.test.ts runs it on the native kernel,
// test/hypervisor/pv-kernel-suite.test.ts on the pv kernel as a pv domain.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { KernelHarness, SuiteRun } from './harness-type.ts';

export function shellSuite({ bootKernel, guest }: KernelHarness): void {
  /** Boot init -> sh with `input` typed; the transcript after the boot messages, and the run. */
  function session(input: string, memoryMiB = 32) {
    const run = bootKernel({ input, memoryMiB });
    const out = run.output;
    const start = out.indexOf('init: starting sh\n');
    expect(start, out).toBeGreaterThan(0);
    return { lines: out.slice(start).split('\n'), run };
  }

  const PC = '0x004[0-9a-f]{5}';

  /** help's program lines, exactly */
  const HELP_PROGRAMS = [
    '  cat                      copy standard input to standard output',
    '  crash KIND               fault on purpose (crash alone lists the kinds)',
    '  disk [read|write ...]    raw block-device sectors: capacity, read SECTOR, write SECTOR WORDS...',
    '  diskbench [KIB]          disk throughput: sequential and random reads and writes',
    '  echo WORDS...            print the words',
    '  free                     free memory and processes',
    '  ifconfig                 the network interface: addresses and counters',
    '  lmbench [NAME|all] [N]   latencies: null fork exec ctx pipe pagefault sbrk',
    '  nanobench [N]            kernel primitives through pvops, and a system call',
    '  netbench [N] [SIZE]      UDP round trip and send throughput against the gateway',
    '  nproc                    the number of CPUs online',
    '  parbench [W] [ROUNDS]    parallel workload: W processes at once, speedup over one',
    '  ping A.B.C.D [N]         ICMP echo: N requests (default 4) and their round trips',
    '  ps                       the process table',
    '  spin [N]                 burn the CPU (N million iterations; forever without N)',
    '  true                     exit with status 0',
    '  udpecho PORT [N]         send every UDP datagram on PORT back (stop after N)',
    '  usertests [NAME...]      the system-call test suite',
  ];

  describe('shell', () => {
    it('runs programs with arguments, pipelines and ps, and exits with a status', () => {
      const { lines, run } = session('echo hello world\nps\necho a b | cat\necho one | cat | cat\nexit 3\n');
      expect(lines).toEqual([
        'init: starting sh',
        '$ echo hello world',
        'hello world',
        '$ ps',
        '  PID  PPID STATE     MEMORY NAME',
        expect.stringMatching(/^ {4}1 {5}0 sleeping +\d+ init$/),
        expect.stringMatching(/^ {4}2 {5}1 sleeping +\d+ sh$/),
        expect.stringMatching(/^ +\d+ {5}2 running +\d+ ps$/),
        '$ echo a b | cat',
        'a b',
        '$ echo one | cat | cat',
        'one',
        '$ exit 3',
        'init exited with status 3: powering off',
        '',
      ]);
      expect(run.result.status).toBe(3);
    });

    it('reports missing programs and syntax errors, and keeps going', () => {
      const { lines } = session('nosuch\necho x | nosuch | cat\n| cat\necho a |\nhelp\nexit\n');
      expect(lines).toEqual([
        'init: starting sh',
        '$ nosuch',
        'sh: nosuch: not found',
        '$ echo x | nosuch | cat',
        'sh: nosuch: not found',
        '$ | cat',
        'sh: syntax error',
        '$ echo a |',
        'sh: syntax error',
        '$ help',
        'builtins: exit [status], help; any other word runs that program from the initrd; join commands with |',
        'keys: left/right move in the line, up/down recall earlier lines, Ctrl-C interrupts, Ctrl-D ends input',
        ...HELP_PROGRAMS,
        '$ exit',
        'init exited with status 0: powering off',
        '',
      ]);
    });

    it('help lists every program in the initrd except init and sh, in order', () => {
      const listed = HELP_PROGRAMS.map((l) => l.trim().split(' ')[0]);
      expect(listed).toEqual(guest().programs.filter((p) => p !== 'init' && p !== 'sh').sort());
    });

    it('shows each user fault the kernel kills a program for', () => {
      const kinds = ['null-read', 'null-write', 'text-write', 'kernel-read', 'kernel-write', 'divide', 'privileged', 'undefined', 'breakpoint'];
      const { lines } = session(kinds.map((k) => `crash ${k}\n`).join('') + 'echo still here\nexit\n');
      const report: Record<string, string> = {
        'null-read': `page fault at 0x00000000 \\(read, not present\\), pc ${PC}`,
        'null-write': `page fault at 0x00000004 \\(write, not present\\), pc ${PC}`,
        'text-write': `page fault at 0x004[0-9a-f]{5} \\(write, protection\\), pc ${PC}`,
        'kernel-read': `page fault at 0xc0000000 \\(read, not present\\), pc ${PC}`,
        'kernel-write': `page fault at 0x00100000 \\(write, protection\\), pc ${PC}`,
        divide: `divide error, pc ${PC}`,
        privileged: `general protection fault \\(error 0x00000000\\), pc ${PC}`,
        undefined: `invalid opcode, pc ${PC}`,
        breakpoint: `breakpoint, pc ${PC}`,
      };
      const source = readFileSync(new URL('../../../guest-kernel/user/crash.ts', import.meta.url), 'utf8').split('\n');
      /** the source line that faults for a kind: the one testing for its name */
      const lineOf = (k: string) => source.findIndex((l) => l.includes(`streq(kind, cstr('${k}'))`)) + 1;
      const expected: unknown[] = ['init: starting sh'];
      kinds.forEach((k, n) => {
        expected.push(`$ crash ${k}`, `crash: ${k}`, expect.stringMatching(new RegExp(`^pid ${n + 3} \\(crash\\): ${report[k]}: killed$`)));
        // the backtrace: where in main it faulted (undefined: in the zeroed buffer it called, no source line)
        expected.push(
          k === 'undefined' ? expect.stringMatching(/^  #0 0x004[0-9a-f]{5} [^ ]+$/) : expect.stringMatching(new RegExp(`^  #0 ${PC} crash\\.main\\+0x[0-9a-f]+ \\(crash\\.ts:${lineOf(k)}\\)$`)),
          '  #1 0x00400010 _start+0x10',
        );
      });
      expected.push('$ echo still here', 'still here', '$ exit', 'init exited with status 0: powering off', '');
      expect(lines).toEqual(expected);
    });

    it('edits lines with backspace and treats Ctrl-D as end of input', () => {
      const { lines, run } = session('echo hx\bi\ncat\nline one\nline two\n\x04echo after cat\n\x04');
      expect(lines).toEqual([
        'init: starting sh',
        '$ echo hi',
        'hi',
        '$ cat',
        'line one',
        'line one',
        'line two',
        'line two',
        '$ echo after cat',
        'after cat',
        '$ ',
        'init exited with status 0: powering off',
        '',
      ]);
      expect(run.result.status).toBe(0);
    });

    it('keeps the last command\'s status: exit without a status and end of input pass it on', () => {
      const nosuch = session('nosuch\nexit\n');
      expect(nosuch.lines.slice(-3)).toEqual(['$ exit', 'init exited with status 127: powering off', '']);
      expect(nosuch.run.result.status).toBe(127);
      const crashed = session('crash divide\n\x04');
      expect(crashed.lines.slice(-3)).toEqual(['$ ', 'init exited with status -1: powering off', '']);
      expect(crashed.run.result.status & 0xff).toBe(255);
      const fixed = session('nosuch\ntrue\n\x04');
      expect(fixed.run.result.status).toBe(0);
      const syntax = session('| cat\n\x04');
      expect(syntax.run.result.status).toBe(2);
    });

    it('kills a program that runs the machine out of memory, and recovers every page', () => {
      const { lines } = session('free\ncrash oom\nfree\nexit\n', 8);
      const at = lines.indexOf('$ crash oom');
      expect(lines.slice(at, at + 5)).toEqual([
        '$ crash oom',
        'crash: oom',
        expect.stringMatching(new RegExp(`^pid 4 \\(crash\\): out of memory: page fault at 0x[0-9a-f]{8} \\(write, not present\\), pc ${PC}: killed$`)),
        expect.stringMatching(new RegExp(`^  #0 ${PC} crash\\.main\\+0x[0-9a-f]+ \\(crash\\.ts:\\d+\\)$`)),
        '  #1 0x00400010 _start+0x10',
      ]);
      // the same pages are free before and after: every page the dead program took came back
      const before = lines[lines.indexOf('$ free') + 1];
      expect(before).toMatch(/^free: \d+ of \d+ pages free, 3 processes$/);
      expect(lines[lines.lastIndexOf('$ free') + 1]).toBe(before);
      expect(lines.slice(-3)).toEqual(['$ exit', 'init exited with status 0: powering off', '']);
    });
  });
}
