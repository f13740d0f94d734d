// What hardware assist costs, by the kernel's own nanobenchmarks (Adams & Agesen's method): the
// native kernel's `nanobench` on the bare machine, under trap-and-emulate and under hvm, with both
// cost profiles. The figures come from the profiles (VM exit/entry, second-stage walk levels, the
// monitor path); nothing here is tuned. Pinned: which primitives run at native speed, and where a
// VM exit makes hvm slower than the software trap of trap mode - the direction Adams & Agesen
// (ASPLOS 2006) found for first-generation VT-x.
import { beforeAll, describe, expect, it } from 'vitest';
import { bootNative } from '../../hypervisor/boot/native.ts';
import { runHvmMode } from '../../hypervisor/hvm/index.ts';
import { runTrapMode } from '../../hypervisor/trap/index.ts';
import { getProfile } from '../../machine/costs.ts';
import { Machine } from '../../machine/machine.ts';
import { buildGuestKernel, type GuestKernelBuild } from '../../toolchain/guest-kernel.ts';

type Figures = Record<string, number>;
const PROFILES = ['p4-2003', 'modern'] as const;

let build: GuestKernelBuild;
const figures: Record<string, { native: Figures; trap: Figures; hvm: Figures }> = {};

/** "nanobench NAME: C cycles/op" and "lmbench NAME: C cycles/op ..." lines as { NAME: C }. */
function parse(text: string): Figures {
  return Object.fromEntries([...text.matchAll(/^(?:nanobench|lmbench) ([a-z0-9-]+): (\d+) cycles\/op/gm)].map((m) => [m[1]!, Number(m[2])]));
}

beforeAll(() => {
  build = buildGuestKernel({ arch: 'native' });
  const cmdline = 'nanobench';
  const boot = { kernel: build.kernel, initrd: build.initrd, cmdline };
  for (const profile of PROFILES) {
    const m = new Machine({ profile });
    bootNative(m, boot);
    m.run({ maxCycles: 4_000_000_000 });
    const lm = new Machine({ profile });
    bootNative(lm, { ...boot, cmdline: 'lmbench null' });
    lm.run({ maxCycles: 4_000_000_000 });
    figures[profile] = {
      native: { ...parse(m.consoleOutput()), ...parse(lm.consoleOutput()) },
      trap: parse(runTrapMode(boot, { profile, maxCycles: 4_000_000_000 }).output),
      hvm: { ...parse(runHvmMode(boot, { profile, maxCycles: 4_000_000_000 }).output), ...parse(runHvmMode({ ...boot, cmdline: 'lmbench null' }, { profile }).output) },
    };
  }
});

describe('nanobench under hvm mode against the bare machine and trap mode', () => {
  it('primitives that neither exit nor miss the TLB cost exactly what they cost on bare hardware', () => {
    for (const profile of PROFILES) {
      const { native, hvm } = figures[profile]!;
      for (const op of ['irq-save-restore', 'pte-update', 'cr4-write', 'divide-fault', 'null']) {
        expect([profile, op, hvm[op]]).toEqual([profile, op, native[op]]);
      }
    }
  });

  it('a port read pays a VM exit, the monitor path and a VM entry, and costs more than the software trap of trap mode', () => {
    for (const profile of PROFILES) {
      const p = getProfile(profile);
      const { native, trap, hvm } = figures[profile]!;
      expect(hvm['port-read']! - native['port-read']!).toBeGreaterThanOrEqual(p.vmExit + p.monitorTrap + p.vmEntry);
      expect(hvm['port-read']).toBeGreaterThan(trap['port-read']!);
    }
  });

  it('an address-space switch costs more than on bare hardware (each refill walks both stages), far less than rebuilding shadows', () => {
    for (const profile of PROFILES) {
      const { native, trap, hvm } = figures[profile]!;
      expect(hvm['address-space-switch']).toBeGreaterThan(native['address-space-switch']!);
      expect(hvm['address-space-switch']! * 2).toBeLessThan(trap['address-space-switch']!);
    }
  });

  it('a system call never exits: it costs no more than under trap mode, which intercepts and reflects it', () => {
    for (const profile of PROFILES) {
      const { native, trap, hvm } = figures[profile]!;
      expect(hvm.syscall).toBeGreaterThanOrEqual(native.syscall!);
      expect(hvm.syscall).toBeLessThan(trap.syscall!);
    }
  });
});
