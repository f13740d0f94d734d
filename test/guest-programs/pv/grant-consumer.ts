// Exchange, domain 2: bind to domain 1's event channel, map the page it granted, read its
// message, write an answer, unmap the page and notify domain 1.
// Guest code (the TypeScript subset), compiled with --arch pv.

import { store8, load8, store32, load32, staticBuffer, cstr } from 'xl32';
import { schedShutdown, schedYield, evtchnBindInterdomain, evtchnSend, hcGrantTableOp, hcUpdateVaMapping } from '../../../hypercalls/guest.ts';
import { GnttabCmd, GntmapFlags, UvmFlags } from '../../../hypercalls/numbers.ts';
import { GntMap, GntUnmap } from '../../../hypercalls/structs.ts';
import { print, printNum } from './lib.ts';
import { Exchange } from './exchange.ts';

const map = staticBuffer(GntMap.BYTES);
const unmap = staticBuffer(GntUnmap.BYTES);

function copyString(dst: number, src: number): void {
  let k = 0;
  while (load8(src + k) !== 0) {
    store8(dst + k, load8(src + k));
    k = k + 1;
  }
  store8(dst + k, 0);
}

export function main(): void {
  // the producer may not have offered its port yet
  let port = evtchnBindInterdomain(Exchange.PRODUCER, Exchange.PORT);
  while (port < 0) {
    schedYield();
    port = evtchnBindInterdomain(Exchange.PRODUCER, Exchange.PORT);
  }
  // a free address to map the granted page at: take this domain's own page there away first
  hcUpdateVaMapping(Exchange.MAP_VA, 0, UvmFlags.INVLPG);
  store32(map + GntMap.HOST_ADDR, Exchange.MAP_VA);
  store32(map + GntMap.FLAGS, GntmapFlags.HOST_MAP);
  store32(map + GntMap.REF, Exchange.GREF);
  store32(map + GntMap.DOM, Exchange.PRODUCER);
  hcGrantTableOp(GnttabCmd.MAP_GRANT_REF, map, 1);
  if (load32(map + GntMap.STATUS) !== 0) {
    print(cstr('consumer: map failed '));
    printNum(load32(map + GntMap.STATUS));
    print(cstr('\n'));
    schedShutdown(1);
  }
  print(cstr('consumer: bound port '));
  printNum(port);
  print(cstr(', got: '));
  print(Exchange.MAP_VA);
  print(cstr('\n'));
  copyString(Exchange.MAP_VA, cstr('pong from domain 2'));
  store32(unmap + GntUnmap.HOST_ADDR, Exchange.MAP_VA);
  store32(unmap + GntUnmap.HANDLE, load32(map + GntMap.HANDLE));
  hcGrantTableOp(GnttabCmd.UNMAP_GRANT_REF, unmap, 1);
  evtchnSend(port);
  schedShutdown(0);
}
