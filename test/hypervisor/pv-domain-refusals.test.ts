// What binds a pv domain to another domain cannot move with it: its save is refused with one line
// naming the binding (hypervisor/save/pv-domain.ts pvBindings) - an interdomain event channel, a
// port offered to another domain, a grant offered to or mapped by another domain, another
// domain's grant it maps - and allowed again once the binding is gone. A domain that is not at a
// quiet point is refused with the reason.
import { describe, expect, it } from 'vitest';
import { Hc, EvtchnCmd, GnttabCmd, GntmapFlags, GrantFlags, UvmFlags } from '../../hypercalls/numbers.ts';
import { GntMap } from '../../hypercalls/structs.ts';
import type { Domain } from '../../hypervisor/core/domain.ts';
import { PvSaveRefused, pvBindings, savePvDomain } from '../../hypervisor/save/pv-domain.ts';
import { hc, pvDomain, pvHypervisor, r32, scratch, spinGuest, w32 } from './pv-helpers.ts';

const SELF = 0x7ff0;
const PAGE = 4096;

function two() {
  const { hv, mode } = pvHypervisor();
  const a = pvDomain(hv, mode, 'a', spinGuest());
  const b = pvDomain(hv, mode, 'b', spinGuest());
  const call = (d: Domain, nr: number, cmd: number, words: number[], count?: number): number => {
    const s = scratch(mode, d);
    words.forEach((v, k) => w32(d, s + k * 4, v));
    return count === undefined ? hc(hv, mode, d, nr, cmd, s) : hc(hv, mode, d, nr, cmd, s, count);
  };
  const bound = (d: Domain): string | null => pvBindings(mode.host, mode.pv(d));
  const refusal = (d: Domain): string => {
    try {
      savePvDomain(hv, mode, d, {});
    } catch (e) {
      expect(e).toBeInstanceOf(PvSaveRefused);
      expect((e as Error).message).not.toContain('\n');
      return (e as Error).message;
    }
    throw new Error('saved');
  };
  return { hv, mode, a, b, call, bound, refusal };
}

describe('a pv domain bound to another one is refused, in one line naming the binding', () => {
  it('an event channel offered, then bound, then closed', () => {
    const { a, b, call, bound, refusal } = two();
    expect(bound(a)).toBe(null);
    expect(call(a, Hc.EVENT_CHANNEL_OP, EvtchnCmd.ALLOC_UNBOUND, [SELF, b.id])).toBe(0);
    expect(refusal(a)).toBe(`its event channel 2 is offered to domain ${b.id} (an interdomain channel cannot move with it)`);
    expect(call(b, Hc.EVENT_CHANNEL_OP, EvtchnCmd.BIND_INTERDOMAIN, [a.id, 2])).toBe(0);
    expect(refusal(a)).toBe(`its event channel 2 is bound to domain ${b.id}'s port 2 (an interdomain channel cannot move with it)`);
    expect(refusal(b)).toBe(`its event channel 2 is bound to domain ${a.id}'s port 2 (an interdomain channel cannot move with it)`);
    expect(call(b, Hc.EVENT_CHANNEL_OP, EvtchnCmd.CLOSE, [2])).toBe(0);
    expect(bound(b)).toBe(null);
    expect(call(a, Hc.EVENT_CHANNEL_OP, EvtchnCmd.CLOSE, [2])).toBe(0);
    expect(bound(a)).toBe(null);
  });

  it('a grant offered, then mapped by the other domain, then unmapped and revoked', () => {
    const { hv, mode, a, b, call, bound, refusal } = two();
    const s = scratch(mode, a);
    expect(call(a, Hc.GRANT_TABLE_OP, GnttabCmd.SETUP_TABLE, [SELF, 1, -1, s + 0x100], 1)).toBe(0);
    const table = r32(a, s + 0x100);
    const frame = a.p2m[0x1f0]!;
    // the grant to the back ends (domain 0) binds nothing: they are the hypervisor's own
    hv.mem.write32(table * PAGE + 3 * 8 + 4, frame);
    hv.mem.write16(table * PAGE + 3 * 8, GrantFlags.PERMIT_ACCESS);
    expect(bound(a)).toBe(null);
    hv.mem.write32(table * PAGE + 10 * 8 + 4, frame);
    hv.mem.write16(table * PAGE + 10 * 8 + 2, b.id);
    hv.mem.write16(table * PAGE + 10 * 8, GrantFlags.PERMIT_ACCESS);
    expect(refusal(a)).toBe(`its grant 10 is offered to domain ${b.id} (a grant to another domain cannot move with it)`);
    // b maps it at a page of its own (unmapped first)
    const va = 0x1e0000;
    hc(hv, mode, b, Hc.UPDATE_VA_MAPPING, va, 0, UvmFlags.INVLPG);
    const op = scratch(mode, b);
    [va, GntmapFlags.HOST_MAP, 10, a.id, 99, 0, 0].forEach((v, k) => w32(b, op + k * 4, v));
    expect(hc(hv, mode, b, Hc.GRANT_TABLE_OP, GnttabCmd.MAP_GRANT_REF, op, 1)).toBe(0);
    expect(r32(b, op + GntMap.STATUS)).toBe(0);
    const handle = r32(b, op + GntMap.HANDLE);
    expect(refusal(b)).toBe(`it maps domain ${a.id}'s grant 10 (a foreign grant cannot move with it)`);
    expect(refusal(a)).toBe(`domain ${b.id} maps its grant 10 (a grant to another domain cannot move with it)`);
    [0, 0, handle, 99].forEach((v, k) => w32(b, op + k * 4, v));
    expect(hc(hv, mode, b, Hc.GRANT_TABLE_OP, GnttabCmd.UNMAP_GRANT_REF, op, 1)).toBe(0);
    expect(bound(b)).toBe(null);
    hv.mem.write16(table * PAGE + 10 * 8, GrantFlags.INVALID);
    expect(bound(a)).toBe(null);
  });

  it('a domain unbound but inside its kernel is refused with the reason', () => {
    const { a, refusal } = two();
    expect(refusal(a)).toBe('not at a quiet point: vCPU 0 is in its kernel (ring 1), which may hold machine frame numbers of its own');
  });
});
