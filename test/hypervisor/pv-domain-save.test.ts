// A pv domain of a shared machine saved on its own (hypervisor/save/pv-domain.ts) and restored on
// another machine whose frames are allocated differently (another domain took memory first): its
// page tables, p2m list, start_info and CR3 are renamed from pseudo-physical frames, and it ends
// exactly as the domain that was never saved - console output, cycles and instructions - at
// save points drawn by fast-check (more in pv-domain-save.deep.test.ts). The machines run in
// slices of SLICE cycles, as the daemon runs them: the save is taken at a slice boundary where the
// domain is quiet, and the uninterrupted run is sliced the same way.
import { describe, expect, test } from 'vitest';
import { SLICE, SPIN_INPUT, checkPvSavePoints, machine, guest } from './pv-domain-harness.ts';
import { loadPvDomainFile, restorePvDomain, runToQuietPoint, savePvDomain } from '../../hypervisor/save/pv-domain.ts';

describe('a pv domain restored on another machine ends as the uninterrupted one', () => {
  test('at a save slice drawn over the run', () => {
    checkPvSavePoints(1, 0x5a7e);
  });
});

test('the restored domain has other machine frames, and its tables name them', () => {
  const a = machine(false);
  const g = guest(a, SPIN_INPUT);
  for (let k = 0; k < 200; k++) a.hv.run({ maxCycles: SLICE });
  expect(runToQuietPoint(a.hv, a.mode, g.dom, () => a.hv.run({ maxCycles: SLICE }), 100)).toBe(null);
  const file = savePvDomain(a.hv, a.mode, g.dom, {});
  const b = machine(true);
  const t = guest(b, SPIN_INPUT);
  expect(t.dom.p2m[0]).not.toBe(g.dom.p2m[0]);
  restorePvDomain(b.hv, b.mode, loadPvDomainFile(file), t.dom);
  const d = b.mode.pv(t.dom);
  // the loaded directory is the restored domain's own frame, pinned, at the same pfn
  const pv = d.vcpus[0]!;
  expect(b.hv.frames.owner[pv.baseptr]).toBe(t.dom.id);
  expect(b.mode.host.m2p[pv.baseptr]).toBe(a.mode.host.m2p[a.mode.pv(g.dom).vcpus[0]!.baseptr]);
});
