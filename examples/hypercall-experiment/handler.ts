// The experiment's handler: checksum(va, bytes) reads guest memory through the caller's page
// tables (HcCtx.gv, with the guest kernel's rights) and charges the work to the domain with a
// cost derived from the machine's cost profile, so it can be compared with the guest doing it.
// Host code: registers one entry in the PV mode's hypercall table.

import { HcErr } from '../../hypercalls/errors.ts';
import type { HypercallTable } from '../../hypervisor/pv/hypercalls.ts';
import { Checksum } from './checksum.ts';

export function registerChecksum(table: HypercallTable): void {
  table.register(Checksum.HYPERCALL, 'checksum', (ctx, va, bytes) => {
    if (bytes < 0 || bytes > Checksum.MAX_BYTES || (bytes & 3) !== 0 || (va & 3) !== 0) return HcErr.EINVAL;
    let s = 0;
    for (let k = 0; k < bytes; k += 4) {
      const word = ctx.r32((va + k) | 0);
      if (ctx.faulted()) return HcErr.EFAULT;
      s = (Math.imul(s, 31) + word) & 0x7fffffff;
    }
    // per word: a load, a multiply, an add (the guest's loop pays the same, plus its branch)
    const p = ctx.host.platform.profile;
    ctx.chargeCycles((bytes / 4) * (p.load + p.mul + p.alu));
    return s;
  });
}
