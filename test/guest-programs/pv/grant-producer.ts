// Exchange, domain 1: grant a page to domain 2, offer it an event channel, wait for its
// notification, then read its answer from the shared page and revoke the grant.
// Guest code (the TypeScript subset), compiled with --arch pv.

import { store8, load8, store32, load32, staticBuffer, cstr } from 'xl32';
import {
  schedShutdown, schedBlock, evtchnAllocUnbound, hcGrantTableOp, hcUpdateVaMapping, gnttabGrantAccess, gnttabEndAccess,
  eventsIsPending, eventsClearPending,
} from '../../../hypercalls/guest.ts';
import { GnttabCmd, DomId, UvmFlags } from '../../../hypercalls/numbers.ts';
import { GntSetup, BootLayout } from '../../../hypercalls/structs.ts';
import { print, printNum, mfnOf } from './lib.ts';
import { Exchange } from './exchange.ts';

const enum Pte {
  /** present, writable, accessed, dirty */
  KERNEL_RW = 0x63,
}

const page = staticBuffer(4096, 4096);
const setup = staticBuffer(GntSetup.BYTES);
const frames = staticBuffer(4);

function copyString(dst: number, src: number): void {
  let k = 0;
  while (load8(src + k) !== 0) {
    store8(dst + k, load8(src + k));
    k = k + 1;
  }
  store8(dst + k, 0);
}

export function main(): void {
  store32(setup + GntSetup.DOM, DomId.SELF);
  store32(setup + GntSetup.NR_FRAMES, 1);
  store32(setup + GntSetup.FRAME_LIST, frames);
  hcGrantTableOp(GnttabCmd.SETUP_TABLE, setup, 1);
  hcUpdateVaMapping(Exchange.GNTTAB_VA, (load32(frames) << 12) | Pte.KERNEL_RW, UvmFlags.INVLPG);
  copyString(page, cstr('ping from domain 1'));
  gnttabGrantAccess(Exchange.GNTTAB_VA, Exchange.GREF, Exchange.CONSUMER, mfnOf(page), false);
  const port = evtchnAllocUnbound(Exchange.CONSUMER);
  print(cstr('producer: offering port '));
  printNum(port);
  print(cstr(', grant '));
  printNum(Exchange.GREF);
  print(cstr('\n'));
  while (!eventsIsPending(BootLayout.SHARED_INFO, port)) schedBlock();
  eventsClearPending(BootLayout.SHARED_INFO, port);
  print(cstr('producer got: '));
  print(page);
  print(cstr('\nproducer: revoke '));
  printNum(gnttabEndAccess(Exchange.GNTTAB_VA, Exchange.GREF));
  print(cstr('\n'));
  schedShutdown(0);
}
