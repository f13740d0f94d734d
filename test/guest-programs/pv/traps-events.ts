// A PV guest exercising bounced exceptions and event upcalls: it registers a trap table for the
// divide error and the page fault and an event callback, divides by zero, reads page 0, then arms
// a one-shot timer and blocks until the timer's upcall. Each handler prints what its frame says.
// Guest code (the TypeScript subset), compiled with --arch pv.

import { load8, load32, store32, staticBuffer, trapEntry, cstr, TrapFrame } from 'xl32';
import {
  hcSetTrapTable, hcSetCallbacks, evtchnBindVirq, timerIn, schedBlock, schedShutdown, eventsScanBegin, eventsTakeWord,
} from '../../../hypercalls/guest.ts';
import { TrapFlags, Virq } from '../../../hypercalls/numbers.ts';
import { TrapInfo, BootLayout, SharedInfo, VcpuInfo } from '../../../hypercalls/structs.ts';
import { print, printNum } from './lib.ts';

const enum G {
  SHARED = BootLayout.SHARED_INFO,
  MASK = BootLayout.SHARED_INFO + SharedInfo.VCPU_INFO + VcpuInfo.UPCALL_MASK,
  CR2 = BootLayout.SHARED_INFO + SharedInfo.VCPU_INFO + VcpuInfo.CR2,
  IF = 0x200,
}

const table = staticBuffer(3 * TrapInfo.BYTES);
let zero = 0;
/** results the guest throws away (kept in memory so nothing is folded) */
let sink = 0;
let upcalls = 0;
let timerPort = 0;

function entry(k: number, vector: number, flags: number, handler: number): void {
  const e = table + k * TrapInfo.BYTES;
  store32(e + TrapInfo.VECTOR, vector);
  store32(e + TrapInfo.FLAGS, flags);
  store32(e + TrapInfo.RING, 1);
  store32(e + TrapInfo.ADDRESS, handler);
}

function describe(frame: number): void {
  print(cstr('vector '));
  printNum(load32(frame + TrapFrame.VECTOR));
  print(cstr(' error '));
  printNum(load32(frame + TrapFrame.ERROR));
  print(cstr(' cs '));
  printNum(load32(frame + TrapFrame.CS));
  print(cstr(' if '));
  printNum((load32(frame + TrapFrame.FLAGS) & G.IF) !== 0 ? 1 : 0);
  print(cstr(' mask '));
  printNum(load8(G.MASK));
}

function onTrap(frame: number): void {
  print(cstr('trap: '));
  describe(frame);
  if (load32(frame + TrapFrame.VECTOR) === 14) {
    print(cstr(' cr2 '));
    printNum(load32(G.CR2));
  }
  print(cstr('\n'));
  // skip the faulting instruction (a 4-byte div or load)
  store32(frame + TrapFrame.PC, load32(frame + TrapFrame.PC) + 4);
}

function onEvent(frame: number): void {
  upcalls = upcalls + 1;
  print(cstr('upcall: '));
  describe(frame);
  eventsScanBegin(G.SHARED);
  const bits = eventsTakeWord(G.SHARED, 0);
  print(cstr(' timer '));
  printNum((bits >>> timerPort) & 1);
  print(cstr('\n'));
}

export function main(): void {
  entry(0, 0, TrapFlags.MASK_EVENTS, trapEntry(onTrap));
  entry(1, 14, 0, trapEntry(onTrap));
  entry(2, 0, 0, 0);
  hcSetTrapTable(table);
  hcSetCallbacks(trapEntry(onEvent), 0);
  sink = 100 / zero;
  print(cstr('after the divide\n'));
  sink = load32(zero);
  print(cstr('after the fault\n'));
  timerPort = evtchnBindVirq(Virq.TIMER);
  timerIn(G.SHARED, 1000000);
  while (upcalls === 0) schedBlock();
  print(cstr('blocked until the timer; mask '));
  printNum(load8(G.MASK));
  print(cstr('\n'));
  schedShutdown(upcalls);
}
