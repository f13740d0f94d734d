// The toolstack's requests to a pv guest (shutdown, reboot): a word in the shared-info page and a
// virtual interrupt, as Xen's toolstack writes the control/shutdown xenstore key and the guest's
// watch fires. The guest kernel acts on it (guest-kernel/arch/pv/control.ts); a guest that never
// bound VIRQ_CONTROL does not see it. Touches only the domain's shared-info page and its events.

import { Virq } from '../../hypercalls/numbers.ts';
import { SharedInfo, ControlRequest } from '../../hypercalls/structs.ts';
import { sendVirq } from './events.ts';
import type { PvDomain } from './state.ts';

/** The detail a pv domain stops with when it asked for a reboot (sched_op SHUTDOWN, REBOOT). */
export const REBOOT_DETAIL = 'reboot requested';

/** Post a balloon target (pages) and raise VIRQ_CONTROL: the guest's balloon driver follows it. */
export function requestMemoryTarget(d: PvDomain, pages: number): void {
  d.host.mem.write32(d.sharedInfoMfn * 4096 + SharedInfo.MEMORY_TARGET, pages);
  requestControl(d, ControlRequest.MEMORY);
}

/** Post a request (ControlRequest) to the guest and raise VIRQ_CONTROL. */
export function requestControl(d: PvDomain, request: ControlRequest): void {
  d.host.mem.write32(d.sharedInfoMfn * 4096 + SharedInfo.CONTROL_REQUEST, request);
  sendVirq(d, Virq.CONTROL);
}
