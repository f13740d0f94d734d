// The hypercall table: one handler per number (hypercalls/numbers.ts), looked up with a bounds
// check as xv6 looks up system calls, plus the handlers too small for a file of their own
// (stack_switch, sched_op, memory_op, multicall, xen_version, console_io, vcpu_op). Experiments
// register extra handlers in the EXPERIMENT range (docs/hypercalls.md "Adding a hypercall").
// Handlers touch only the calling domain's state and memory, through HcCtx.

import { HcErr } from '../../hypercalls/errors.ts';
import {
  ConsoleCmd, DomId, Hc, HcVersion, HvLayout, MemoryCmd, RunState, SchedOp, ShutdownReason, VcpuCmd, Virq, XenVersionCmd,
} from '../../hypercalls/numbers.ts';
import { MemoryReservation, MulticallEntry, VcpuGuestContext, VcpuRunstate } from '../../hypercalls/structs.ts';
import type { HcCtx } from './context.ts';
import { REBOOT_DETAIL } from './control.ts';
import { eventChannelOp, sendVirq, setUpcallMask, upcallPending } from './events.ts';
import { grantTableOp } from './grants.ts';
import { dom0Op } from './dom0.ts';
import { mmuextOp, mmuUpdate, updateVaMapping } from './mmu.ts';
import { systemTimeNs, setPeriodicTimer, setTimerOp, updateTime } from './time.ts';
import { PageType } from './page-types.ts';
import { resetCpuState } from '../core/vcpu.ts';
import { CR0_PG, CR0_WP, Flag } from '../../machine/isa.ts';
import { setCallbacks, setTrapTable } from './traps.ts';
import { runStateNumber, type PvDomain, type PvVcpu } from './state.ts';
import { Ev } from '../../machine/ledger.ts';

export type HcHandler = (ctx: HcCtx, a1: number, a2: number, a3: number, a4: number, a5: number) => number;

export interface HcEntry {
  readonly name: string;
  readonly handler: HcHandler;
}

const COUNT: number = Hc.COUNT;
const HV_BASE: number = HvLayout.BASE;
const SELF: number = DomId.SELF;
const CONSOLE_MAX = 4096;

/** The dispatch table. */
export class HypercallTable {
  readonly entries: (HcEntry | undefined)[] = new Array<HcEntry | undefined>(COUNT);

  /** Install a handler; a number may be taken once. */
  register(nr: number, name: string, handler: HcHandler): void {
    if (!Number.isInteger(nr) || nr < 0 || nr >= COUNT) throw new RangeError(`hypercall number ${nr} is outside 0..${COUNT - 1}`);
    if (this.entries[nr]) throw new Error(`hypercall ${nr} is already '${this.entries[nr]!.name}'`);
    this.entries[nr] = { name, handler };
  }

  name(nr: number): string {
    return (nr >>> 0) < COUNT ? (this.entries[nr]?.name ?? `hypercall_${nr}`) : `hypercall_${nr >>> 0}`;
  }

  /**
   * Run hypercall nr; ENOSYS for a number nobody registered. A handler that throws (an
   * experiment's bug, or a hypervisor invariant it broke) crashes the calling domain, with a
   * message naming the hypercall, instead of the host: other domains go on. The guest never sees
   * the result (EFAULT), its domain is stopped. A try block with nothing thrown costs nothing on
   * the fast path.
   */
  dispatch(ctx: HcCtx, nr: number, a1: number, a2: number, a3: number, a4: number, a5: number): number {
    const e = (nr >>> 0) < COUNT ? this.entries[nr] : undefined;
    if (!e) return HcErr.ENOSYS;
    try {
      return e.handler(ctx, a1, a2, a3, a4, a5);
    } catch (err) {
      const what = err instanceof Error ? err.message : String(err);
      ctx.preempted = false;
      ctx.crash(`hypercall ${nr} '${e.name}' failed in the hypervisor: ${what}`);
      return HcErr.EFAULT;
    }
  }
}

// ---- small handlers ------------------------------------------------------------------------------

/** stack_switch(sp): the ring-1 stack the CPU switches to on a trap or system call from ring 3. */
function stackSwitch(ctx: HcCtx, sp: number): number {
  if ((sp >>> 0) >= HV_BASE >>> 0) return HcErr.EPERM;
  if ((sp & 3) !== 0) return HcErr.EINVAL; // frames are pushed a word at a time
  ctx.host.cpu.ksp[1] = sp;
  ctx.charge(Ev.DescriptorLoad, 1);
  return 0;
}

/** sched_op(cmd, arg, arg2) */
function schedOp(ctx: HcCtx, cmd: number, arg: number, arg2: number): number {
  const d = ctx.d.domain;
  switch (cmd) {
    case SchedOp.YIELD:
      ctx.pv.yieldRequested = true;
      // a spinlock's yield says how long it spun (informational: counted, never trusted for anything)
      if (arg > 0) {
        const now = ctx.host.cpu.cycles;
        ctx.pv.spinYields++;
        ctx.pv.spinCycles += ctx.pv.ranSince(now - arg, now);
      }
      return 0;
    case SchedOp.BLOCK:
      // blocking re-enables upcalls, or an event arriving now would never wake the vCPU
      setUpcallMask(ctx.d, ctx.vcpu.id, false);
      if (!upcallPending(ctx.d, ctx.vcpu.id)) ctx.pv.blockRequested = true;
      return 0;
    case SchedOp.SHUTDOWN:
      switch (arg) {
        case ShutdownReason.POWEROFF:
          d.shutdown('poweroff', arg2);
          return 0;
        case ShutdownReason.REBOOT:
          d.shutdown('poweroff', arg2, REBOOT_DETAIL);
          return 0;
        case ShutdownReason.SUSPEND:
          d.shutdown('poweroff', arg2, 'suspend requested');
          return 0;
        case ShutdownReason.CRASH:
          d.shutdown('crashed', arg2, 'the guest reported a crash');
          return 0;
        default:
          return HcErr.EINVAL;
      }
    default:
      return HcErr.EINVAL;
  }
}

/** Frames the domain owns now (its p2m entries that name a frame). */
export function currentReservation(d: PvDomain): number {
  let n = 0;
  const p2m = d.domain.p2m;
  for (let k = 0; k < p2m.length; k++) if (p2m[k]! >= 0) n++;
  return n;
}

/** memory_op(cmd, arg): ballooning within the domain's quota (its p2m's length). */
function memoryOp(ctx: HcCtx, cmd: number, arg: number): number {
  const d = ctx.d;
  const host = ctx.host;
  const p2m = d.domain.p2m;
  if (cmd === MemoryCmd.CURRENT_RESERVATION) return currentReservation(d);
  if (cmd === MemoryCmd.MAXIMUM_RESERVATION) return p2m.length;
  if (cmd !== MemoryCmd.INCREASE_RESERVATION && cmd !== MemoryCmd.DECREASE_RESERVATION) return HcErr.EINVAL;
  const list = ctx.r32(arg + MemoryReservation.EXTENT_START);
  const nr = ctx.r32(arg + MemoryReservation.NR_EXTENTS);
  const order = ctx.r32(arg + MemoryReservation.EXTENT_ORDER);
  const dom = ctx.r32(arg + MemoryReservation.DOMID);
  if (ctx.faulted()) return HcErr.EFAULT;
  if (dom !== SELF && dom !== d.id) return HcErr.EPERM;
  if (order !== 0 || nr < 0) return HcErr.EINVAL;
  if (nr > 1024) return HcErr.E2BIG;
  const alloc = host.platform.frames;
  const types = host.types;
  let done = 0;
  if (cmd === MemoryCmd.INCREASE_RESERVATION) {
    let hole = 0;
    while (done < nr) {
      while (hole < p2m.length && p2m[hole]! >= 0) hole++;
      if (hole === p2m.length || alloc.freeFrames === 0) break; // quota (or the machine) exhausted
      if (ctx.gv.translate(ctx.cr3, list + done * 4, true) < 0) return done > 0 ? done : HcErr.EFAULT;
      const f = alloc.alloc(d.id);
      host.mem.fill(f * 4096, 4096, 0);
      types.clear(f);
      p2m[hole] = f;
      host.setP2mSlot(f, hole);
      ctx.w32(list + done * 4, f);
      done++;
    }
    ctx.charge(Ev.PvRequest, done + 1);
    return done === 0 && nr > 0 ? HcErr.ENOMEM : done;
  }
  let r = 0;
  while (done < nr) {
    const f = ctx.r32(list + done * 4);
    if (ctx.faulted()) {
      r = HcErr.EFAULT;
      break;
    }
    if (f < 0 || f >= types.frames) {
      r = HcErr.EINVAL;
      break;
    }
    if (types.owner[f] !== d.id) {
      r = HcErr.EPERM;
      break;
    }
    // still mapped, typed or pinned somewhere: it cannot leave yet
    if (types.refCount[f] !== 0 || types.typeCount[f] !== 0) {
      r = HcErr.EBUSY;
      break;
    }
    // the m2p entry is the guest's to set (MACHPHYS_UPDATE): the slot comes from the
    // hypervisor's own reverse map, one look per extent (no scan of the p2m)
    const pfn = host.p2mSlot[f]!;
    if (pfn >= 0 && pfn < p2m.length && p2m[pfn] === f) p2m[pfn] = -1;
    host.setP2mSlot(f, -1);
    types.clear(f);
    alloc.release(f, d.id);
    done++;
  }
  if (done > 0) host.cpu.mmu.flushTlb(); // no stale translation may reach a frame that left
  ctx.charge(Ev.PvRequest, done + 1);
  return done === 0 && r < 0 ? r : done;
}

/**
 * multicall(calls, count): each entry's result in its RESULT word; a nested multicall is refused.
 * The entries are counted in PvStats.multicalled, not as hypercalls: the guest entered the
 * hypervisor once (the multicall's own count and cycles cover them all).
 * A long one continues at the guest's next entry (as Xen's do_multicall): past the step's share
 * of work it stops before its next entry, and an entry that itself stopped early gets its
 * continuation's arguments written back into its ARG words (its RESULT is written when it
 * finishes); the multicall is then re-entered at that entry with the entries left.
 */
function multicall(ctx: HcCtx, calls: number, count: number, table: HypercallTable): number {
  if (ctx.inMulticall) return HcErr.EINVAL;
  if (count < 0) return HcErr.EINVAL;
  if (count > (MulticallEntry.MAX_BATCH as number)) return HcErr.E2BIG;
  ctx.inMulticall = true;
  let k = 0;
  try {
    for (; k < count; k++) {
      const e = (calls + k * MulticallEntry.BYTES) | 0;
      if (k > 0 && ctx.preemptCheck()) {
        ctx.continue(e, count - k, 0, 0, 0);
        break;
      }
      const op = ctx.r32(e + MulticallEntry.OP);
      const a1 = ctx.r32(e + MulticallEntry.ARG1);
      const a2 = ctx.r32(e + MulticallEntry.ARG2);
      const a3 = ctx.r32(e + MulticallEntry.ARG3);
      const a4 = ctx.r32(e + MulticallEntry.ARG4);
      const a5 = ctx.r32(e + MulticallEntry.ARG5);
      if (ctx.faulted()) return HcErr.EFAULT;
      const result = table.dispatch(ctx, op, a1, a2, a3, a4, a5); // a nested multicall refuses itself (inMulticall)
      if (ctx.preempted) {
        // the entry goes on at the next step, from the progress its arguments now record
        const c = ctx.contArgs;
        for (let j = 0; j < 5; j++) {
          if (!ctx.w32(e + MulticallEntry.ARG1 + 4 * j, c[j]!)) {
            ctx.preempted = false; // it cannot be continued: what it did stays done
            ctx.faulted();
            return HcErr.EFAULT;
          }
        }
        ctx.continue(e, count - k, 0, 0, 0);
        break;
      }
      if ((op >>> 0) < COUNT) ctx.d.stats.multicalled[op]!++;
      if (result < 0 && (op >>> 0) < COUNT) ctx.d.stats.failed[op]!++;
      if (!ctx.w32(e + MulticallEntry.RESULT, result)) return HcErr.EFAULT;
      if (ctx.d.domain.stopped) break;
    }
    ctx.charge(Ev.PvRequest, ctx.preempted ? k : count);
    return 0;
  } finally {
    ctx.inMulticall = false;
  }
}

const EXTRAVERSION = '-xenolith';
const CAPABILITIES = 'xl32-pv ring1 evtchn gnttab blkif';

/** Write `s` (at most max - 1 bytes of it, NUL-terminated) to the guest's buffer: 0, or EFAULT. */
function putString(ctx: HcCtx, buf: number, s: string, max: number): number {
  const bytes = new Uint8Array(Math.min(s.length, max - 1) + 1);
  for (let k = 0; k < bytes.length - 1; k++) bytes[k] = s.charCodeAt(k);
  return ctx.gv.writeBytes(ctx.cr3, buf, bytes) ? 0 : (ctx.faulted(), HcErr.EFAULT);
}

const XV_VERSION: number = XenVersionCmd.VERSION;
const XV_EXTRAVERSION: number = XenVersionCmd.EXTRAVERSION;
const XV_CAPABILITIES: number = XenVersionCmd.CAPABILITIES;
const VERSION_PACKED: number = HcVersion.PACKED;

/** xen_version(cmd, buf): the version word, or a string into buf (a module function: no closure per call). */
function xenVersion(ctx: HcCtx, cmd: number, buf: number): number {
  switch (cmd) {
    case XV_VERSION:
      return VERSION_PACKED;
    case XV_EXTRAVERSION:
      return putString(ctx, buf, EXTRAVERSION, 16);
    case XV_CAPABILITIES:
      return putString(ctx, buf, CAPABILITIES, 64);
    default:
      return HcErr.EINVAL;
  }
}

function consoleIo(ctx: HcCtx, cmd: number, count: number, buf: number): number {
  if (count < 0 || count > CONSOLE_MAX) return HcErr.EINVAL;
  const d = ctx.d;
  if (cmd === ConsoleCmd.WRITE) {
    const bytes = ctx.gv.readBytes(ctx.cr3, buf, count);
    if (!bytes) {
      ctx.faulted();
      return HcErr.EFAULT;
    }
    for (const b of bytes) d.domain.emitConsole(b);
    return count;
  }
  if (cmd === ConsoleCmd.READ) {
    const n = Math.min(count, d.consoleIn.length);
    if (n === 0) return 0;
    if (!ctx.gv.writeBytes(ctx.cr3, buf, d.consoleIn.peek(n))) {
      ctx.faulted();
      return HcErr.EFAULT;
    }
    d.consoleIn.drop(n);
    return n;
  }
  return HcErr.EINVAL;
}

/**
 * Type bytes on a PV domain's console: into its console ring once the guest has connected it,
 * before that queued for console_io(READ) and announced by VIRQ CONSOLE.
 */
export function feedConsole(d: PvDomain, input: string | Uint8Array): void {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  if (bytes.length === 0) return;
  if (d.console) {
    d.console.feed(bytes);
    return;
  }
  d.consoleIn.push(bytes);
  sendVirq(d, Virq.CONSOLE);
}

function vcpuOp(ctx: HcCtx, cmd: number, vcpuId: number, arg: number): number {
  const d = ctx.d;
  const pv = d.vcpus[vcpuId];
  if (vcpuId < 0 || !pv) return HcErr.ENOENT;
  const host = ctx.host;
  switch (cmd) {
    case VcpuCmd.IS_UP:
      return pv.vcpu.runState === 'stopped' || !pv.online ? 0 : 1;
    case VcpuCmd.GET_RUNSTATE_INFO: {
      const now = host.cpu.cycles;
      const ns = (c: number): number => systemTimeNs(host, c);
      const running = pv.vcpu.runCycles;
      const blocked = pv.blockedCycles + (pv.blockedSince >= 0 ? now - pv.blockedSince : 0);
      const offline = pv.offlineCycles + (pv.offlineSince >= 0 ? now - pv.offlineSince : 0);
      const runnable = Math.max(0, now - pv.createdAt - running - blocked - offline);
      const state =
        pv === ctx.pv ? RunState.RUNNING
        : !pv.online ? RunState.OFFLINE
        : runStateNumber(host.platform.vcpuRunstate(pv.vcpu));
      // STATE, a pad word, STATE_ENTRY_TIME, then TIME[RUNNING, RUNNABLE, BLOCKED, OFFLINE]; u64 as lo, hi
      const entry = ns(now + d.tscOffset); // the domain's own time (a restored domain's goes on from its save)
      const words: number[] = [state, 0, entry % 2 ** 32, Math.floor(entry / 2 ** 32)];
      for (const c of [running, runnable, blocked, offline]) words.push(ns(c) % 2 ** 32, Math.floor(ns(c) / 2 ** 32));
      if (ctx.gv.translate(ctx.cr3, arg, true) < 0 || ctx.gv.translate(ctx.cr3, arg + VcpuRunstate.BYTES - 1, true) < 0) return HcErr.EFAULT;
      for (let k = 0; k < words.length; k++) ctx.w32(arg + k * 4, words[k]!);
      return ctx.faulted() ? HcErr.EFAULT : 0;
    }
    case VcpuCmd.SET_PERIODIC_TIMER:
      return setPeriodicTimer(host, d, pv, arg >>> 0);
    case VcpuCmd.STOP_PERIODIC_TIMER:
      return setPeriodicTimer(host, d, pv, 0);
    case VcpuCmd.INITIALISE:
      return vcpuInitialise(ctx, pv, arg);
    case VcpuCmd.UP:
      if (!pv.initialised) return HcErr.EINVAL;
      if (pv.online || pv.vcpu.runState === 'stopped') return 0;
      pv.online = true;
      pv.offlineCycles += host.cpu.cycles - pv.offlineSince;
      pv.offlineSince = -1;
      host.platform.wake(pv.vcpu);
      return 0;
    case VcpuCmd.DOWN:
      if (!pv.online) return 0;
      pv.online = false;
      pv.offlineSince = host.cpu.cycles;
      // the caller leaves the CPU on the way out (mode.ts); another vCPU is taken off the scheduler now
      if (pv === ctx.pv) pv.blockRequested = true;
      else if (pv.vcpu.runState === 'runnable') host.platform.block(pv.vcpu);
      return 0;
    default:
      return HcErr.EINVAL;
  }
}

/**
 * VCPUOP_INITIALISE: set a down vCPU's starting state from a VcpuGuestContext (read whole and
 * checked before anything changes): ring 1, paging on with BASEPTR (a pinned directory of the
 * caller's, which takes a base-pointer reference as NEW_BASEPTR does), events masked, the
 * domain's trap table. A vCPU that has been initialised (vCPU 0 always) is EEXIST.
 */
function vcpuInitialise(ctx: HcCtx, pv: PvVcpu, arg: number): number {
  if (pv.initialised) return HcErr.EEXIST;
  const pc = ctx.r32(arg + VcpuGuestContext.PC);
  const sp = ctx.r32(arg + VcpuGuestContext.SP);
  const a1 = ctx.r32(arg + VcpuGuestContext.ARG);
  const base = ctx.r32(arg + VcpuGuestContext.BASEPTR);
  const ksp = ctx.r32(arg + VcpuGuestContext.KERNEL_SP);
  if (ctx.faulted()) return HcErr.EFAULT;
  if ((pc >>> 0) >= HV_BASE >>> 0 || (sp >>> 0) >= HV_BASE >>> 0 || (ksp >>> 0) >= HV_BASE >>> 0) return HcErr.EPERM;
  if ((sp & 3) !== 0 || (ksp & 3) !== 0) return HcErr.EINVAL;
  const types = ctx.host.types;
  if (base < 0 || base >= types.frames) return HcErr.EINVAL; // (the pinned check below refuses it too: belt and braces)
  // (another domain's directory: getType refuses it, EPERM)
  if (types.pinned[base] === 0 || types.type[base] !== PageType.L2) return HcErr.EINVAL;
  const r = types.getType(base, PageType.L2, ctx.d.id);
  if (r < 0) return r;
  pv.baseptr = base;
  pv.initialised = true;
  const a = resetCpuState();
  a.pc = pc >>> 0;
  a.cpl = 1;
  a.flags = Flag.IF;
  a.cr0 = CR0_PG | CR0_WP;
  a.cr3 = base * 4096;
  a.idtBase = HvLayout.IDT;
  a.idtLimit = 256;
  a.regs[1] = a1;
  a.regs[15] = sp;
  a.ksp[1] = ksp;
  pv.vcpu.arch = a;
  setUpcallMask(ctx.d, pv.vcpu.id, true);
  updateTime(ctx.host, ctx.d, pv.vcpu.id);
  ctx.charge(Ev.PvRequest, 1);
  return 0;
}

/** The standard table: every hypercall of hypercalls/numbers.ts. */
export function standardHypercalls(): HypercallTable {
  const t = new HypercallTable();
  t.register(Hc.SET_TRAP_TABLE, 'set_trap_table', (c, a1) => setTrapTable(c, a1));
  t.register(Hc.MMU_UPDATE, 'mmu_update', (c, a1, a2, a3) => mmuUpdate(c, a1, a2, a3));
  t.register(Hc.STACK_SWITCH, 'stack_switch', (c, a1) => stackSwitch(c, a1));
  t.register(Hc.SET_CALLBACKS, 'set_callbacks', (c, a1, a2) => setCallbacks(c, a1, a2));
  t.register(Hc.SCHED_OP, 'sched_op', (c, a1, a2, a3) => schedOp(c, a1, a2, a3));
  t.register(Hc.DOM0_OP, 'dom0_op', (c, a1, a2, a3, a4, a5) => dom0Op(c, a1, a2, a3, a4, a5));
  t.register(Hc.MEMORY_OP, 'memory_op', (c, a1, a2) => memoryOp(c, a1, a2));
  t.register(Hc.MULTICALL, 'multicall', (c, a1, a2) => multicall(c, a1, a2, t));
  t.register(Hc.UPDATE_VA_MAPPING, 'update_va_mapping', (c, a1, a2, a3) => updateVaMapping(c, a1, a2, a3));
  t.register(Hc.SET_TIMER_OP, 'set_timer_op', (c, a1, a2) => setTimerOp(c, a1, a2));
  t.register(Hc.EVENT_CHANNEL_OP, 'event_channel_op', (c, a1, a2) => eventChannelOp(c, a1, a2));
  t.register(Hc.XEN_VERSION, 'xen_version', (c, a1, a2) => xenVersion(c, a1, a2));
  t.register(Hc.CONSOLE_IO, 'console_io', (c, a1, a2, a3) => consoleIo(c, a1, a2, a3));
  t.register(Hc.GRANT_TABLE_OP, 'grant_table_op', (c, a1, a2, a3) => grantTableOp(c, a1, a2, a3));
  t.register(Hc.VCPU_OP, 'vcpu_op', (c, a1, a2, a3) => vcpuOp(c, a1, a2, a3));
  t.register(Hc.MMUEXT_OP, 'mmuext_op', (c, a1, a2, a3) => mmuextOp(c, a1, a2, a3));
  return t;
}
