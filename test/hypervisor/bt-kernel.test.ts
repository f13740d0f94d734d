// The unmodified native guest kernel (guest-kernel/, arch native) under binary translation: its
// test suite passes *entirely*, the four critical-instruction probes included (PUSHF, POPF, RDCPL
// and SIDT are rewritten to use the virtual CPU, which trap-and-emulate cannot do), with the
// bare machine's console byte for byte; the shell and the block device give the same
// transcripts. And what it costs by the kernel's nanobenchmarks, next to trap-and-emulate: the
// privileged primitives are cheaper (a callout instead of a trap), kernel code pays a cache
// lookup at every indirect jump, call and return (Adams & Agesen's main overhead of BT).
import { beforeAll, describe, expect, it } from 'vitest';
import { btStatsSummary, runBtMode } from '../../hypervisor/bt/index.ts';
import { runTrapMode } from '../../hypervisor/trap/index.ts';
import { getProfile } from '../../machine/costs.ts';
import { buildNativeKernel, runKernelNatively, runKernelUnder, type KernelRunOptions } from './fixtures/native-kernel.ts';

buildNativeKernel();

const nativeRun = runKernelNatively;
const btRun = (opts: KernelRunOptions) => runKernelUnder(runBtMode, opts);

/** "nanobench NAME: C cycles/op" lines as { NAME: C }. */
function parse(text: string): Record<string, number> {
  return Object.fromEntries([...text.matchAll(/^(?:nanobench|lmbench) ([a-z0-9-]+): (\d+) cycles\/op/gm)].map((m) => [m[1]!, Number(m[2])]));
}

describe('the native kernel under bt mode', () => {
  it('passes every test of its suite, the critical-instruction probes included, with the bare machine console', () => {
    const native = nativeRun({ cmdline: 'usertests' });
    expect(native.status).toBe(0);
    const bt = btRun({ cmdline: 'usertests' });
    expect(bt.reason).toBe('poweroff');
    expect(bt.status).toBe(0);
    expect(bt.output).toMatch(/^usertests: \d+ passed, 0 failed$/m);
    for (const probe of ['critical-rdcpl', 'critical-pushf', 'critical-popf', 'critical-sidt']) {
      expect(bt.output).toMatch(new RegExp(`^PASS ${probe}`, 'm'));
    }
    expect(bt.output).toBe(native.output);
    const s = bt.domain.stats;
    const b = btStatsSummary(bt.domain);
    // the kernel never trapped for a privileged instruction: every one was a callout
    expect(s.traps[13]).toBe(0);
    expect(b.callouts.movcr).toBeGreaterThan(0);
    expect(b.callouts.invlpg).toBeGreaterThan(0);
    expect(b.callouts.iret).toBeGreaterThan(0);
    expect(b.inlined).toMatchObject({ pushf: expect.any(Number), popf: expect.any(Number), rdcpl: 1, sidt: 1 });
    // device I/O went through the core's I/O exit, one per IN/OUT callout
    const io = ['in', 'inb', 'inr', 'out', 'outb', 'outr'].reduce((a, k) => a + (b.callouts[k] ?? 0), 0);
    expect(s.loopExits.io).toBe(io);
    // user code ran directly: its system calls and faults trapped to the monitor as under trap mode
    expect(s.traps[0x80]).toBeGreaterThan(0);
    expect(s.hiddenFaults).toBeGreaterThan(s.trueFaults);
    expect(s.trueFaults).toBeGreaterThan(0);
    expect(b.indirectLookups).toBeGreaterThan(b.dispatchLookups);
    expect(b.chained).toBeGreaterThan(b.dispatchLookups);
    // the kernel's code fits the translation cache's default bound: never flushed
    expect([b.flushes, b.cacheUnits]).toEqual([0, b.translations - b.invalidations]);
  });

  it('runs the shell and the block device with the bare machine transcripts', () => {
    for (const opts of [
      { input: 'echo hello world\nps\necho a b | cat\necho one | cat | cat\nexit 3\n' },
      { input: 'disk\ndisk read 1\ndisk write 2 written by the guest\ndisk read 2\nexit\n', disk: true },
    ]) {
      const native = nativeRun(opts);
      const bt = btRun(opts);
      expect(bt.output).toBe(native.output);
      expect(bt.status).toBe(native.status);
    }
  });
});

describe('nanobench under bt mode against the bare machine and trap mode (p4-2003)', () => {
  const figures: Record<string, Record<string, number>> = {};
  let btResult: ReturnType<typeof runKernelUnder>;
  beforeAll(() => {
    const boot = { cmdline: 'nanobench 50' };
    figures.native = parse(runKernelNatively(boot).output);
    figures.trap = parse(runKernelUnder(runTrapMode, boot, 4_000_000_000).output);
    btResult = runKernelUnder(runBtMode, boot, 4_000_000_000);
    figures.bt = parse(btResult.output);
  });

  it('an INVLPG in kernel code is a callout; PUSHF/CLI/POPF and a same-value CR4 write are translated in line (no callout)', () => {
    const p = getProfile('p4-2003');
    const { native, bt } = figures as Record<string, Record<string, number>>;
    expect(bt!['pte-update']! - native!['pte-update']!).toBeGreaterThanOrEqual(p.btCallout);
    const s = btStatsSummary(btResult.domain);
    // each of the 50 irq-save-restore and cr4-write operations (and the warm-up) in line
    for (const op of ['pushf', 'cli', 'popf', 'movcr']) expect([op, (s.inlined[op] ?? 0) >= 50]).toEqual([op, true]);
    for (const op of ['pushf', 'cli', 'popf', 'sti']) expect([op, s.callouts[op]]).toEqual([op, undefined]);
    expect(s.callouts.invlpg).toBeGreaterThanOrEqual(50);
  });

  it('a system call costs more than under trap mode: the same trap in, plus a callout for the IRET and lookups for every return in kernel code', () => {
    const p = getProfile('p4-2003');
    const { trap, bt } = figures as Record<string, Record<string, number>>;
    expect(bt!.syscall! - trap!.syscall!).toBeGreaterThanOrEqual(p.btCallout + p.btLookup);
  });
});
