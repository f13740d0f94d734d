// A pv domain of a shared machine saved on its own (hypervisor/save/pv-domain.ts) and restored on
// another machine whose frames are allocated differently (another domain took memory first): its
// page tables, p2m list, start_info and CR3 are renamed from pseudo-physical frames, and it ends
// exactly as the domain that was never saved - console output, cycles and instructions - at
// save points drawn by fast-check (more in pv-domain-save.deep.test.ts). The machines run in
// slices of SLICE cycles, as the daemon runs them: the save is taken at a slice boundary where the
// domain is quiet, and the uninterrupted run is sliced the same way.
import { describe, test } from 'vitest';
import { checkPvSavePoints } from './pv-domain-harness.ts';

describe('a pv domain restored on another machine ends as the uninterrupted one', () => {
  test('at a save slice drawn over the run', () => {
    checkPvSavePoints(1, 0x5a7e);
  });
});
