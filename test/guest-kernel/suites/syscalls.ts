// The system calls, exercised by the guest test suite (guest-kernel/user/usertests.ts) running
// as process 1: every test prints PASS or FAIL, and the run's power-off status is the number of
// failures. One boot runs them all; each test below pins one behaviour's lines.
// The suite as a function of the harness: syscalls.test.ts runs it on the native kernel,
// test/hypervisor/pv-kernel-suite.test.ts on the pv kernel as a pv domain.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KernelHarness, SuiteRun } from './harness-type.ts';

export function syscallsSuite({ bootKernel }: KernelHarness): void {
  const TESTS = [
    'getpid', 'write', 'badptr', 'forkwait', 'cow', 'sbrk', 'pipe', 'pipelarge', 'pipebroken', 'dup',
    'execmissing', 'execargs', 'sleep', 'preempt', 'userfault', 'stackguard', 'pgroup', 'kill', 'badsyscall', 'misc', 'manyforks', 'leak', 'diskio',
    'kernelread', 'condflags', 'critical-rdcpl', 'critical-pushf', 'critical-popf', 'critical-sidt', 'smp-parallel', 'smp-unmap',
  ];

  /** the backtrace of a child of testKernelRead killed for its read */
  const KERNEL_READ_FRAMES = ['testKernelRead', 'run', 'main'].map((f, n) => expect.stringMatching(new RegExp(`^  #${n} 0x004[0-9a-f]{5} usertests\\.${f}\\+0x[0-9a-f]+ \\(usertests\\.ts:\\d+\\)$`))).concat(['  #3 0x00400010 _start+0x10']);
  /** the source line of the null write in testUserFault */
  const USERFAULT_LINE = readFileSync(new URL('../../../guest-kernel/user/usertests.ts', import.meta.url), 'utf8').split('\n').findIndex((l) => l.includes('store32(0, 1);')) + 1;

  let run: SuiteRun;
  let out: string[];

  beforeAll(() => {
    run = bootKernel({ cmdline: 'usertests' });
    out = run.output.split('\n');
  });

  /** The lines between "PASS <prev>" and "PASS <name>" (the test's own output), and its verdict. */
  function section(name: string): string[] {
    const end = out.findIndex((l) => l === `PASS ${name}` || l.startsWith(`PASS ${name} (`) || l.startsWith(`FAIL ${name}:`));
    expect(end, `no verdict for ${name}:\n${run.output}`).toBeGreaterThanOrEqual(0);
    let start = end - 1;
    while (start >= 0 && !/^(PASS|FAIL) /.test(out[start]!) && !out[start]!.startsWith('timer:')) start--;
    return out.slice(start + 1, end + 1);
  }

  describe('system calls (usertests as process 1)', () => {
    it('passes every test and powers off with status 0', () => {
      for (const name of TESTS) expect(out.some((l) => l === `PASS ${name}` || l.startsWith(`PASS ${name} (observed `)), `PASS ${name}\n${run.output}`).toBe(true);
      expect(out).toContain(`usertests: ${TESTS.length} passed, 0 failed`);
      expect(out.filter((l) => l.startsWith('FAIL'))).toEqual([]);
      expect(run.result.reason).toBe('poweroff');
      expect(run.result.status).toBe(0);
    });

    it('getpid/getppid: a child sees its parent', () => expect(section('getpid')).toEqual(['PASS getpid']));
    it('write: output, EBADF, EINVAL', () => expect(section('write')).toEqual(['write ok', 'PASS write']));
    it('bad pointers are refused with EFAULT, never a kernel crash', () => expect(section('badptr')).toEqual(['PASS badptr']));
    it('fork, exit and wait pass the exit status; ECHILD without children', () => expect(section('forkwait')).toEqual(['PASS forkwait']));
    it('fork is copy-on-write: parent and child do not see each other\'s writes', () => expect(section('cow')).toEqual(['PASS cow']));
    it('sbrk grows and shrinks a demand-zero heap', () => expect(section('sbrk')).toEqual(['PASS sbrk']));
    it('pipes carry bytes, end of file when the writer closes, EBADF on the wrong end', () => expect(section('pipe')).toEqual(['PASS pipe']));
    it('pipes block a writer when full (10000 bytes through a 4096-byte ring)', () => expect(section('pipelarge')).toEqual(['PASS pipelarge']));
    it('writing a pipe without readers is EPIPE', () => expect(section('pipebroken')).toEqual(['PASS pipebroken']));
    it('dup and close', () => expect(section('dup')).toEqual(['dup ok', 'PASS dup']));
    it('exec of a missing program is ENOENT', () => expect(section('execmissing')).toEqual(['PASS execmissing']));
    it('exec passes arguments', () => expect(section('execargs')).toEqual(['exec works', 'PASS execargs']));
    it('sleep and uptime', () => expect(section('sleep')).toEqual(['PASS sleep']));
    it('preemption: a spinning child does not starve its parent', () => expect(section('preempt')).toEqual(['PASS preempt']));
    it('a faulting child is killed with a message and status -1', () => {
      expect(section('userfault')).toEqual([
        expect.stringMatching(/^pid \d+ \(usertests\): page fault at 0x00000000 \(write, not present\), pc 0x004[0-9a-f]{5}: killed$/),
        // the function and source line of the fault, and the callers on the way to it
        expect.stringMatching(new RegExp(`^  #0 0x004[0-9a-f]{5} usertests\\.testUserFault\\+0x[0-9a-f]+ \\(usertests\\.ts:${USERFAULT_LINE}\\)$`)),
        expect.stringMatching(/^  #1 0x004[0-9a-f]{5} usertests\.run\+0x[0-9a-f]+ \(usertests\.ts:\d+\)$/),
        expect.stringMatching(/^  #2 0x004[0-9a-f]{5} usertests\.main\+0x[0-9a-f]+ \(usertests\.ts:\d+\)$/),
        '  #3 0x00400010 _start+0x10',
        'PASS userfault',
      ]);
    });
    it('a stack overflow faults on the guard page below the stack (named as such, with the backtrace of the recursion) and kills only the child', () => {
      expect(section('stackguard')).toEqual([
        expect.stringMatching(/^pid \d+ \(usertests\): page fault at 0x004[0-9a-f]{2}ffc \(write, not present\), pc 0x004[0-9a-f]{5}: killed \(stack overflow: the guard page below the stack\)$/),
        ...Array.from({ length: 6 }, (_, n) => expect.stringMatching(new RegExp(`^  #${n} 0x004[0-9a-f]{5} usertests\\.deeper(\\+0x[0-9a-f]+)? \\(usertests\\.ts:\\d+\\)$`))),
        'PASS stackguard',
      ]);
    });
    it('process groups: setpgid for us and a child only, the console foreground group and mode asked and set', () => expect(section('pgroup')).toEqual(['PASS pgroup']));
    it('kill ends a sleeping process; ESRCH for a missing pid', () => expect(section('kill')).toEqual(['PASS kill']));
    it('unknown system-call numbers are ENOSYS', () => expect(section('badsyscall')).toEqual(['PASS badsyscall']));
    it('yield, uptime, cycles and procinfo (with its errors)', () => expect(section('misc')).toEqual(['PASS misc']));
    it('forty forks are all reaped', () => expect(section('manyforks')).toEqual(['PASS manyforks']));

    it('diskio refuses 0 or 65 sectors, unknown ops and sectors past the end (no disk attached)', () => expect(section('diskio')).toEqual(['PASS diskio']));
    it('on bare hardware the kernel sees ring 0, IF off inside irqSave, ticks after irqRestore, and its own IDT; each PASS line says what was observed', () => {
      expect(['critical-rdcpl', 'critical-pushf', 'critical-popf', 'critical-sidt'].map((t) => section(t))).toEqual([
        ['PASS critical-rdcpl (observed 0)'],
        ['PASS critical-pushf (observed 0)'],
        ['PASS critical-popf (observed 1)'],
        ['PASS critical-sidt (observed 1)'],
      ]);
    });
    it('a user read of a present supervisor page (kernel text it has just run, the direct map) faults and kills the reader', () => {
      expect(section('kernelread')).toEqual([
        expect.stringMatching(/^pid \d+ \(usertests\): page fault at 0x001[0-9a-f]{5} \(read, protection\), pc 0x004[0-9a-f]{5}: killed$/),
        ...KERNEL_READ_FRAMES,
        expect.stringMatching(/^pid \d+ \(usertests\): page fault at 0xc0001000 \(read, protection\), pc 0x004[0-9a-f]{5}: killed$/),
        ...KERNEL_READ_FRAMES,
        'PASS kernelread',
      ]);
    });
    it('the condition bits survive a kernel divide fault and timer interrupts taken between POPF and PUSHF', () => expect(section('condflags')).toEqual(['PASS condflags']));
    it('returns every page: fork, exec, pipes and sbrk leak nothing once children are reaped', () => {
      expect(section('leak')).toEqual(['', '', '', '', '', '', 'PASS leak']);
    });
  });
}
