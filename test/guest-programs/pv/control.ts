// The control domain (domain 1, the privileged one): it manages domain 2 through dom0_op - reads
// its information, pauses it (its CPU time stops while it is paused) and unpauses it, changes its
// scheduling weight, reads its console, destroys it - and prints what each step answered.
// Guest code (the TypeScript subset), compiled with --arch pv.

import { load32, store8, staticBuffer, cstr } from 'xl32';
import { hcDom0Op, schedShutdown, schedBlock, evtchnBindVirq, timerIn, eventsIsPending, eventsClearPending } from '../../../hypercalls/guest.ts';
import { Dom0Cmd, Virq } from '../../../hypercalls/numbers.ts';
import { DomainInfo, BootLayout, StartInfo } from '../../../hypercalls/structs.ts';
import { print, printNum, startInfo } from './lib.ts';

const enum C {
  SHARED = BootLayout.SHARED_INFO,
  TARGET = 2,
  SELF = 1,
  MS = 1000000,
  TEXT = 40,
}

const info = staticBuffer(DomainInfo.BYTES);
const text = staticBuffer(C.TEXT + 4);
let timer = 0;

function sleepMs(ms: number): void {
  eventsClearPending(C.SHARED, timer);
  timerIn(C.SHARED, ms * C.MS);
  while (!eventsIsPending(C.SHARED, timer)) schedBlock();
  eventsClearPending(C.SHARED, timer);
}

function getInfo(dom: number): number {
  return hcDom0Op(Dom0Cmd.GETDOMAININFO, dom, info, 0, 0);
}

function field(f: number): number {
  return load32(info + f);
}

/** The target's CPU time so far, in cycles (the low word: enough for these few milliseconds). */
function targetCycles(): number {
  getInfo(C.TARGET);
  return field(DomainInfo.CPU_CYCLES);
}

function say(what: number, r: number): void {
  print(what);
  print(cstr(': '));
  printNum(r);
  print(cstr('\n'));
}

export function main(): void {
  say(cstr('control: start_info flags'), startInfo(StartInfo.FLAGS));
  timer = evtchnBindVirq(Virq.TIMER);
  sleepMs(2);
  say(cstr('info of domain 2'), getInfo(C.TARGET));
  say(cstr('  flags'), field(DomainInfo.FLAGS));
  say(cstr('  pages'), field(DomainInfo.NR_PAGES));
  say(cstr('  max pages'), field(DomainInfo.MAX_PAGES));
  say(cstr('  vcpus'), field(DomainInfo.NR_VCPUS));
  say(cstr('  weight'), field(DomainInfo.WEIGHT));
  say(cstr('  has run'), field(DomainInfo.CPU_CYCLES) !== 0 ? 1 : 0);
  say(cstr('pause'), hcDom0Op(Dom0Cmd.PAUSEDOMAIN, C.TARGET, 0, 0, 0));
  say(cstr('pause again'), hcDom0Op(Dom0Cmd.PAUSEDOMAIN, C.TARGET, 0, 0, 0));
  const c0 = targetCycles();
  say(cstr('  flags'), field(DomainInfo.FLAGS));
  sleepMs(2);
  say(cstr('  ran while paused'), targetCycles() !== c0 ? 1 : 0);
  say(cstr('unpause'), hcDom0Op(Dom0Cmd.UNPAUSEDOMAIN, C.TARGET, 0, 0, 0));
  sleepMs(2);
  say(cstr('  ran after unpause'), targetCycles() !== c0 ? 1 : 0);
  say(cstr('  flags'), field(DomainInfo.FLAGS));
  say(cstr('weight 3'), hcDom0Op(Dom0Cmd.ADJUSTDOM, C.TARGET, 3, 0, 0));
  getInfo(C.TARGET);
  say(cstr('  weight'), field(DomainInfo.WEIGHT));
  say(cstr('weight 0'), hcDom0Op(Dom0Cmd.ADJUSTDOM, C.TARGET, 0, 0, 0));
  const n = hcDom0Op(Dom0Cmd.READCONSOLE, C.TARGET, text, C.TEXT, 0);
  say(cstr('read console'), n);
  if (n > 0) {
    store8(text + n, 0);
    print(cstr('  "'));
    print(text);
    print(cstr('"\n'));
  }
  say(cstr('read past its end'), hcDom0Op(Dom0Cmd.READCONSOLE, C.TARGET, text, C.TEXT, 1000000));
  say(cstr('pause itself'), hcDom0Op(Dom0Cmd.PAUSEDOMAIN, C.SELF, 0, 0, 0));
  say(cstr('destroy'), hcDom0Op(Dom0Cmd.DESTROYDOMAIN, C.TARGET, 0, 0, 0));
  say(cstr('info of domain 2 or the next'), getInfo(C.TARGET));
  say(cstr('  flags'), field(DomainInfo.FLAGS));
  say(cstr('info of domain 4 or the next'), getInfo(4));
  say(cstr('unknown command'), hcDom0Op(9, C.TARGET, 0, 0, 0));
  schedShutdown(0);
}
