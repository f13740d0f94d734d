// Each mode's per-vCPU and per-domain state is reached through a typed accessor that checks the
// class (never a cast): a vCPU of one mode asked for another mode's state is refused by name.
import { describe, expect, it } from 'vitest';
import { BtMode, btCache } from '../../hypervisor/bt/mode.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { crashOnUnexpectedExit, stoppedExit } from '../../hypervisor/core/vcpu.ts';
import { Exit } from '../../machine/types.ts';
import { HvmMode } from '../../hypervisor/hvm/mode.ts';
import { hvmDomain, hvmVcpu } from '../../hypervisor/hvm/state.ts';
import { TrapMode } from '../../hypervisor/trap/mode.ts';
import { TrapVcpu, trapVcpu } from '../../hypervisor/trap/virtual-cpu.ts';
import { GUEST_MEMORY, guestImage } from './hvm-harness.ts';
import type { PvDomain } from '../../hypervisor/pv/state.ts';
import type { TranslationCache } from '../../hypervisor/bt/cache.ts';

const BODY = `
test_main:
        li      r0, 0
        ret
`;

function domains() {
  const hv = new Hypervisor({ memoryBytes: 4 * GUEST_MEMORY });
  const boot = { image: guestImage(BODY) };
  const trap = hv.createDomain(new TrapMode(), { name: 'trap', memoryBytes: GUEST_MEMORY }, boot);
  const bt = hv.createDomain(new BtMode(), { name: 'bt', memoryBytes: GUEST_MEMORY }, boot);
  const hvm = hv.createDomain(new HvmMode({ mmu: 'ept' }), { name: 'hvm', memoryBytes: GUEST_MEMORY }, boot);
  return { trap, bt, hvm };
}

describe('typed per-mode state', () => {
  it('bt keeps its vCPU state in the slot: a TrapVcpu with exact user flags; trap leaves them inexact', () => {
    const { trap, bt } = domains();
    const t = trapVcpu(trap.vcpus[0]!);
    const b = trapVcpu(bt.vcpus[0]!);
    expect(b).toBeInstanceOf(TrapVcpu);
    expect(b.constructor).not.toBe(TrapVcpu);
    expect([t.exactUserFlags, b.exactUserFlags]).toEqual([false, true]);
    expect(btCache(bt).stats.translations).toBe(0);
  });

  it("asking a vCPU or domain for another mode's state is refused with its name", () => {
    const { trap, bt, hvm } = domains();
    expect(() => trapVcpu(hvm.vcpus[0]!)).toThrow("vCPU 0 of domain 'hvm' is not a trap-mode vCPU");
    expect(() => hvmVcpu(bt.vcpus[0]!)).toThrow("vCPU 0 of domain 'bt' is not an hvm vCPU");
    expect(() => hvmDomain(trap)).toThrow("domain 'trap' is not an hvm domain");
    expect(() => btCache(hvm)).toThrow("domain 'hvm' is not a bt domain");
    expect(hvmDomain(hvm).ept).not.toBeNull();
    expect(hvmVcpu(hvm.vcpus[0]!).vmcs.eptRoot).toBe(hvmDomain(hvm).ept!.root);
  });
});

describe('modeState is typed: the union of what the modes register (checked by tsc in npm test)', () => {
  it('a cast of a vCPU state to a domain state, or of either to an unrelated type, does not compile', () => {
    const { trap, bt } = domains();
    // @ts-expect-error a vCPU's state is never a pv domain's state
    const wrong = trap.vcpus[0]!.modeState as PvDomain;
    // @ts-expect-error nor a number
    const alsoWrong = bt.modeState as number;
    // a domain's state may be a translation cache (bt registers it)
    const right = bt.modeState as TranslationCache;
    expect([(wrong as unknown) === trapVcpu(trap.vcpus[0]!), (alsoWrong as unknown) === btCache(bt), right === btCache(bt)]).toEqual([true, true, true]);
  });
});

describe('the one crash path for an exit a mode never arranges for', () => {
  it('crashes only that domain, naming the mode, the exit and the pc', () => {
    const { trap, bt } = domains();
    crashOnUnexpectedExit(trap, 'trap', Exit.Hlt, 0x1234);
    expect([trap.stopReason, trap.stopDetail]).toEqual(['crashed', `trap mode: unexpected CPU exit ${Exit.Hlt} (hlt) at pc 0x00001234`]);
    expect(stoppedExit(trap, trap.vcpus[0]!.exit).reason).toBe('crash');
    expect(bt.stopped).toBe(false);
  });
});
