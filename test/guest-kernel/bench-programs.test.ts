// The guest benchmark programs run and report every measurement (numbers are not asserted:
// benchmarks belong to bench/, not to tests; only their form, and facts that follow from the
// simulated machine's deterministic timing).
import { describe, expect, it } from 'vitest';
import { compile } from '../../toolchain/compiler/index.ts';
import { Machine } from '../../machine/machine.ts';
import { bootNative } from '../../hypervisor/boot/native.ts';
import { bootKernel, guest } from './harness.ts';

const NANOBENCH_OPS = ['irq-save-restore', 'pte-update', 'address-space-switch', 'port-read', 'cr4-write', 'divide-fault', 'syscall'];

function benchLines(output: string, prefix: string): string[] {
  return output.split('\n').filter((l) => l.startsWith(prefix));
}

describe('guest benchmark programs', () => {
  it('lmbench reports every latency', () => {
    const { output, result } = bootKernel({ cmdline: 'lmbench all 3' });
    const lines = benchLines(output, 'lmbench ');
    expect(lines.map((l) => l.split(':')[0])).toEqual(['null', 'fork', 'exec', 'ctx', 'pipe', 'pagefault', 'sbrk'].map((n) => `lmbench ${n}`));
    for (const l of lines) expect(l).toMatch(/^lmbench \w+: [1-9]\d* cycles\/op \(3 ops\)$/);
    expect(result.status).toBe(0);
  });

  it('nanobench reports every kernel primitive through pvops, and the system call, as positive cycles/op', () => {
    const { output, result } = bootKernel({ cmdline: 'nanobench 20' });
    const lines = benchLines(output, 'nanobench ');
    expect(lines.map((l) => l.split(':')[0])).toEqual(NANOBENCH_OPS.map((n) => `nanobench ${n}`));
    for (const l of lines) expect(l).toMatch(/^nanobench [\w-]+: [1-9]\d* cycles\/op$/);
    // exit status = primitives that failed; 0 also means every divide fault was fixed up (else EIO)
    expect(result.status).toBe(0);
  });

  it('the divide-fault primitive takes a kernel #DE and returns normally through the fixup, many times over', () => {
    const { output, result } = bootKernel({ cmdline: 'nanobench 300' });
    expect(output).not.toContain('panic');
    expect(output).toMatch(/^nanobench divide-fault: [1-9]\d* cycles\/op$/m);
    expect(output).toContain('init exited with status 0: powering off');
    expect(result.reason).toBe('poweroff');
    expect(result.status).toBe(0);
  });

  it('a port read costs at least the bus round trip of the cost profile', () => {
    // the one figure the program's arithmetic fixes: each INB is charged profile.ioPort cycles
    const { output, machine } = bootKernel({ cmdline: 'nanobench 20' });
    const cycles = Number(/^nanobench port-read: (\d+) cycles\/op$/m.exec(output)![1]);
    expect(cycles).toBeGreaterThanOrEqual(machine.profile.ioPort);
  });

  it('an architecture that leaves the optional benchmark slots empty still boots, and nanobench prints n/a for them', () => {
    const kernel = compile(new URL('../guest-programs/kernel/optional-pvops.ts', import.meta.url).pathname, { arch: 'native' }).image;
    const machine = new Machine();
    bootNative(machine, { kernel, initrd: guest().initrd, cmdline: 'nanobench 10' });
    const result = machine.run({ maxCycles: 500_000_000 });
    const lines = benchLines(machine.consoleOutput(), 'nanobench ');
    expect(lines.map((l) => l.split(':')[0])).toEqual(NANOBENCH_OPS.map((n) => `nanobench ${n}`));
    expect(lines.filter((l) => l.endsWith(': n/a'))).toEqual(['nanobench port-read: n/a', 'nanobench cr4-write: n/a']);
    expect(result.status).toBe(0);
  });

  it('nanobench refuses a non-positive count with a usage message', () => {
    const { output, result } = bootKernel({ cmdline: 'nanobench 0' });
    expect(output).toContain('usage: nanobench [N]   (N > 0 iterations per primitive)\n');
    expect(result.status).toBe(2);
  });
});
