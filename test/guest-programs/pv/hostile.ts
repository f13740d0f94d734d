// A hostile PV guest: it tries every rule the hypervisor enforces, printing the error code each
// attempt gets, and finally writes its own page table directly, which faults and (with no trap
// handler registered) gets the domain killed. It finds its own machine addresses in the p2m list
// (virtual = pseudo-physical in the bootstrap map). Guest code (the TypeScript subset, --arch pv).

import { load32, store32, staticBuffer, cstr } from 'xl32';
import {
  hcMmuUpdate, mmuextOne, hcUpdateVaMapping, hcMulticall, hcGrantTableOp, hcMemoryOp, hcSetTrapTable,
} from '../../../hypercalls/guest.ts';
import { Hc, MmuextCmd, UvmFlags, GnttabCmd, GntmapFlags, MemoryCmd, DomId, HvLayout } from '../../../hypercalls/numbers.ts';
import { StartInfo, MulticallEntry, GntMap, MemoryReservation, TrapInfo, MmuUpdate } from '../../../hypercalls/structs.ts';
import { print, printNum, startInfo, mfnOf } from './lib.ts';

const enum Pte {
  P = 1,
  W = 2,
}

const req = staticBuffer(MmuUpdate.BYTES);
const calls = staticBuffer(2 * MulticallEntry.BYTES);
const map = staticBuffer(GntMap.BYTES);
const res = staticBuffer(MemoryReservation.BYTES);
const list = staticBuffer(16);
const traps = staticBuffer(2 * TrapInfo.BYTES);

function report(what: number, r: number): void {
  print(what);
  print(cstr(': '));
  printNum(r);
  print(cstr('\n'));
}

/** One mmu_update of the entry at machine address ptr. */
function update(ptr: number, val: number): number {
  store32(req + MmuUpdate.PTR, ptr);
  store32(req + MmuUpdate.VAL, val);
  return hcMmuUpdate(req, 1, 0);
}

export function main(): void {
  const pages = startInfo(StartInfo.NR_PAGES);
  const l2va = startInfo(StartInfo.PT_BASE);
  const l2 = mfnOf(l2va) << 12; // machine addresses: what page-table entries and requests name
  const l1 = load32(l2va) & ~0xfff;
  const l1va = startInfo(StartInfo.PT_BASE) + 4096; // the bootstrap table after the directory
  const spare = 0x1f0000; // a page of its own, mapped writable by the bootstrap tables
  const spareEntry = l1 + (spare >>> 12) * 4;
  // the first frame past its own memory belongs to someone else (the hypervisor or another domain)
  report(cstr('map a frame it does not own'), update(spareEntry, ((pages + 16) << 12) | Pte.P | Pte.W));
  report(cstr('map its page table writable'), update(spareEntry, l1 | Pte.P | Pte.W));
  report(cstr('base pointer to an unvalidated frame'), mmuextOne(MmuextCmd.NEW_BASEPTR, mfnOf(spare)));
  report(cstr('pin a frame beyond memory'), mmuextOne(MmuextCmd.PIN_L1_TABLE, 0x7ffff));
  report(cstr('misaligned mapping address'), hcUpdateVaMapping(spare + 0x10, 0, UvmFlags.NONE));
  report(cstr('write the hypervisor slot'), update(l2 + HvLayout.PDE * 4, l1 | Pte.P | Pte.W));
  store32(calls + MulticallEntry.OP, Hc.MULTICALL);
  store32(calls + MulticallEntry.ARG1, calls);
  store32(calls + MulticallEntry.ARG2, 1);
  hcMulticall(calls, 1);
  report(cstr('nested multicall'), load32(calls + MulticallEntry.RESULT));
  store32(map + GntMap.HOST_ADDR, 0x5000);
  store32(map + GntMap.FLAGS, GntmapFlags.DEVICE_MAP);
  store32(map + GntMap.REF, 3);
  store32(map + GntMap.DOM, 2);
  hcGrantTableOp(GnttabCmd.MAP_GRANT_REF, map, 1);
  report(cstr('a grant it was not given'), load32(map + GntMap.STATUS));
  store32(res + MemoryReservation.EXTENT_START, list);
  store32(res + MemoryReservation.NR_EXTENTS, 1);
  store32(res + MemoryReservation.EXTENT_ORDER, 0);
  store32(res + MemoryReservation.DOMID, DomId.SELF);
  report(cstr('more memory than its quota'), hcMemoryOp(MemoryCmd.INCREASE_RESERVATION, res));
  store32(traps + TrapInfo.VECTOR, 14);
  store32(traps + TrapInfo.RING, 0);
  store32(traps + TrapInfo.ADDRESS, 0x100000);
  report(cstr('a handler at ring 0'), hcSetTrapTable(traps));
  print(cstr('writing its page table directly\n'));
  store32(l1va + 8, (mfnOf(spare) << 12) | Pte.P | Pte.W);
  print(cstr('not reached\n'));
}
