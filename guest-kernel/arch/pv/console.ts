// arch/pv console: the front end of the console ring (structs.ts ConsoleRing), one page of the
// domain's memory shared with the hypervisor's console back end, and one event port both ways.
// Output bytes are published one by one, but the back end is notified only at the end of each
// kernel entry, before idling and before powering off (and when the ring is full), subject to
// the ring's hold-off - so a write() of a line costs one notification, not one hypercall per byte.
// Input arrives in the other ring; the console interrupt (the port's event) drains it.
// console_io remains for the messages before the ring is up.
// Guest code (the TypeScript subset); runs at ring 1.

import { load8, store8, load32, store32, staticBuffer } from 'xl32';
import { ConsoleRing, StartInfo } from '../../../hypercalls/structs.ts';
import { consoleWrite, consoleRead, evtchnSend } from '../../../hypercalls/guest.ts';
import { ringShouldNotify } from '../../../hypercalls/ring.ts';
import { p2v } from '../../kernel/vm.ts';
import { startInfo, mfnToPfn } from './xen.ts';

/** the ring page's pseudo-physical address (0: no ring, console_io only) */
let page = 0;
let port = 0;
/** our output producer index (we are the only producer: OUT_PROD is its published copy) */
let outProd = 0;
/** outProd when the back end was last considered for a notification */
let outNotified = 0;
/**
 * Output published since the back end was last considered for a notification (outProd !==
 * outNotified, kept as a flag so a kernel exit tests one word instead of calling pvConsoleFlush).
 */
export let pvConsoleUnflushed = false;
/** the input ring was full when we took from it: the back end may have more waiting */
let inWasFull = false;
const cbuf = staticBuffer(4);

/** Connect the console ring the builder set up (start_info CONSOLE_MFN, CONSOLE_EVTCHN). */
export function pvConsoleInit(): void {
  const mfn = startInfo(StartInfo.CONSOLE_MFN);
  const p = startInfo(StartInfo.CONSOLE_EVTCHN);
  if (mfn <= 0 || p <= 0) return;
  const pfn = mfnToPfn(mfn);
  if (pfn <= 0) return;
  page = pfn << 12;
  port = p;
  outProd = load32(p2v(page) + ConsoleRing.OUT_PROD);
  outNotified = outProd;
  // the first notification connects us: input goes through the ring from now on
  evtchnSend(port);
}

/** Tell the back end about the output published since the last time, if it asked to hear. */
export function pvConsoleFlush(): void {
  pvConsoleUnflushed = false;
  const prod = outProd;
  if (prod === outNotified) return;
  const notify = ringShouldNotify(outNotified, prod, load32(p2v(page) + ConsoleRing.OUT_EVENT));
  outNotified = prod;
  if (notify) evtchnSend(port);
}

export function pvConsolePutc(c: number): void {
  if (page === 0) {
    store8(cbuf, c);
    consoleWrite(cbuf, 1);
    return;
  }
  const r = p2v(page);
  const prod = outProd;
  if (prod - load32(r + ConsoleRing.OUT_CONS) >= ConsoleRing.OUT_BYTES) {
    // full: the back end takes everything at a notification
    outNotified = prod;
    evtchnSend(port);
    if (prod - load32(r + ConsoleRing.OUT_CONS) >= ConsoleRing.OUT_BYTES) return;
  }
  store8(r + ConsoleRing.OUT + (prod & (ConsoleRing.OUT_BYTES - 1)), c);
  outProd = prod + 1;
  store32(r + ConsoleRing.OUT_PROD, prod + 1);
  pvConsoleUnflushed = true;
}

/** The next input byte, or -1 (then the back end is asked to notify at the next one). */
export function pvConsoleGetc(): number {
  if (page === 0) {
    if (consoleRead(cbuf, 1) !== 1) return -1;
    return load8(cbuf);
  }
  const r = p2v(page);
  const cons = load32(r + ConsoleRing.IN_CONS);
  let prod = load32(r + ConsoleRing.IN_PROD);
  if (prod === cons) {
    store32(r + ConsoleRing.IN_EVENT, cons + 1);
    prod = load32(r + ConsoleRing.IN_PROD);
    if (prod === cons) {
      if (inWasFull) {
        // there is room now for what the back end could not give us
        inWasFull = false;
        evtchnSend(port);
      }
      return -1;
    }
  }
  if (prod - cons === ConsoleRing.IN_BYTES) inWasFull = true;
  const c = load8(r + ConsoleRing.IN + (cons & (ConsoleRing.IN_BYTES - 1)));
  store32(r + ConsoleRing.IN_CONS, cons + 1);
  return c;
}

/** The console's status, read once: input bytes waiting (the ring's indices are the device's registers). */
export function pvConsoleStatus(): number {
  if (page === 0) return consoleRead(cbuf, 0);
  const r = p2v(page);
  return load32(r + ConsoleRing.IN_PROD) - load32(r + ConsoleRing.IN_CONS);
}
