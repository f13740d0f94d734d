// A PV guest taking an event upcall on each of its two paths: first on a hypercall's return (it
// blocks until a one-shot timer: the upcall is delivered as sched_op(block) returns), then while
// it runs (events unmasked, a second timer fires during a busy loop: an interrupt into the
// hypervisor). It prints nothing; its exit status is the number of upcalls.
// Guest code (the TypeScript subset), compiled with --arch pv.

import { store8, trapEntry } from 'xl32';
import { hcSetCallbacks, evtchnBindVirq, timerIn, schedBlock, schedShutdown, eventsScanBegin, eventsTakeWord } from '../../../hypercalls/guest.ts';
import { Virq } from '../../../hypercalls/numbers.ts';
import { BootLayout, SharedInfo, VcpuInfo } from '../../../hypercalls/structs.ts';

const enum G {
  SHARED = BootLayout.SHARED_INFO,
  MASK = BootLayout.SHARED_INFO + SharedInfo.VCPU_INFO + VcpuInfo.UPCALL_MASK,
}

let upcalls = 0;
/** work the busy loop does (kept in memory so the loop is not folded) */
let sink = 0;

function onEvent(_frame: number): void {
  upcalls = upcalls + 1;
  eventsScanBegin(G.SHARED);
  sink = sink + eventsTakeWord(G.SHARED, 0);
}

export function main(): void {
  hcSetCallbacks(trapEntry(onEvent), 0);
  evtchnBindVirq(Virq.TIMER);
  timerIn(G.SHARED, 1000000);
  while (upcalls === 0) schedBlock();
  // the upcall left events masked: unmask them and wait running
  store8(G.MASK, 0);
  timerIn(G.SHARED, 1000000);
  while (upcalls === 1) sink = sink + 1;
  schedShutdown(upcalls);
}
