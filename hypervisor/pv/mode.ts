// The paravirtualization mode, a strategy over the hypervisor core: PV kernels run at ring 1 with
// HYPERCALL exits on and every vector but the system call intercepted. runVcpu is the inner loop:
// answer hypercalls through the table, bounce exceptions to the guest's handlers, deliver event
// upcalls when the virtual IF allows, and return to the core's loop at the deadline, when the
// guest blocks (sched_op block becomes the 'hlt' exit) or when its domain stops.
// Touches the real CPU's hooks while a PV vCPU is loaded, and the PV state of its domains.

import { Exit } from '../../machine/types.ts';
import { HvLayout } from '../../hypercalls/numbers.ts';
import { SharedInfo } from '../../hypercalls/structs.ts';
import { DomainCreateError } from '../core/hypervisor.ts';
import { OWNER_HYPERVISOR } from '../core/frames.ts';
import { HYPERCALL_SLOTS } from '../core/stats.ts';
import type { Domain } from '../core/domain.ts';
import type { Hypervisor } from '../core/hypervisor.ts';
import type { BootSpec, Mode } from '../core/mode.ts';
import {
  CONTINUE,
  TO_LOOP,
  countExit,
  crashOnUnexpectedExit,
  deadlineExit,
  hostStopExit,
  type Vcpu,
  type VcpuExit,
} from '../core/vcpu.ts';
import { hex } from '../../machine/hex.ts';
import { EventKind } from '../../machine/vmx.ts';
import { HcCtx, WORK_PER_STEP } from './context.ts';
import { buildPvDomain, type PvBootLayout } from './builder.ts';
import { closeAll, upcallMasked, upcallPending } from './events.ts';
import { unmapAll } from './grants.ts';
import { standardHypercalls, type HypercallTable } from './hypercalls.ts';
import { PvDomain, PvHost, STRETCHES, type PvVcpu, publishRunstate, pvDomain } from './state.ts';
import { bounceException, deliverUpcall, SYSCALL_VECTOR, syscallFastPath } from './traps.ts';
import { stopTimers, updateTime } from './time.ts';
import { TraceKind } from '../core/trace.ts';
import { Ev } from '../../machine/ledger.ts';

const GP = 13;
const MAX_VCPUS: number = SharedInfo.MAX_VCPUS;
/** HvLayout.VCPU_ID's word in the IDT's frame */
const VCPU_ID_WORD: number = ((HvLayout.VCPU_ID as number) - (HvLayout.IDT as number)) >>> 2;
export class PvMode implements Mode {
  readonly name = 'pv';
  /** the hypercall table (add experiments with table.register) */
  readonly table: HypercallTable;
  hv!: Hypervisor;
  host!: PvHost;
  private ctx!: HcCtx;
  /** boot layouts by domain id (for tools and tests) */
  readonly layouts = new Map<number, PvBootLayout>();
  /** the first domain took the control-domain role */
  private controlDomainMade = false;

  /** the bound on one hypercall entry's host work (context.ts WORK_PER_STEP) */
  private readonly workPerStep: number;

  constructor(opts: { table?: HypercallTable; workPerStep?: number } = {}) {
    this.table = opts.table ?? standardHypercalls();
    this.workPerStep = opts.workPerStep ?? WORK_PER_STEP;
  }

  attach(hv: Hypervisor): void {
    this.hv = hv;
    this.host = new PvHost(hv);
    this.ctx = new HcCtx(this.host, this.workPerStep);
  }

  /** The PV state of a domain run by this mode. */
  pv(domain: Domain): PvDomain {
    return pvDomain(domain);
  }

  createDomain(domain: Domain): void {
    if (domain.vcpus.length > MAX_VCPUS) {
      throw new DomainCreateError(`domain '${domain.name}': a pv domain has at most ${MAX_VCPUS} vCPUs (the shared-info page's vcpu_info slots; got ${domain.vcpus.length})`);
    }
    const d = new PvDomain(this.host, domain);
    // vCPU 0 starts at the kernel's entry; the others are down until the guest initialises them
    for (const pv of d.vcpus) {
      if (pv.vcpu.id === 0) continue;
      pv.online = false;
      pv.initialised = false;
      pv.createdAt = pv.offlineSince = this.hv.cpu.cycles;
      pv.vcpu.runState = 'blocked';
    }
    // the first PV domain of the hypervisor is the control domain (Xen's domain 0)
    d.privileged = !this.controlDomainMade;
    this.controlDomainMade = true;
    domain.modeState = d;
    this.host.initDomain(d);
  }

  build(domain: Domain, boot: BootSpec): void {
    const spec = 'image' in boot ? { kernel: boot.image } : boot;
    const d = this.pv(domain);
    this.layouts.set(domain.id, buildPvDomain(d, spec));
  }

  load(vcpu: Vcpu): void {
    const cpu = this.hv.cpu;
    const d = this.pv(vcpu.domain);
    cpu.hypercallExits = true;
    cpu.interceptExternalInterrupts = false;
    cpu.interceptVector.fill(1);
    cpu.interceptVector[SYSCALL_VECTOR] = syscallFastPath(d) ? 0 : 1;
    cpu.tscOffset = d.tscOffset;
    // the running vCPU's number, read-only at HvLayout.VCPU_ID (in the IDT's page)
    this.hv.mem.i32[(d.idtMfn << 10) + VCPU_ID_WORD] = vcpu.id;
    updateTime(this.host, d, vcpu.id);
  }

  unload(_vcpu: Vcpu): void {
    const cpu = this.hv.cpu;
    cpu.hypercallExits = false;
    cpu.interceptVector.fill(0);
    cpu.tscOffset = 0;
  }

  runstateChanged(domain: Domain): void {
    const d = domain.modeState;
    if (d instanceof PvDomain) publishRunstate(this.host, d);
  }

  hasPendingEvent(vcpu: Vcpu): boolean {
    const d = vcpu.domain.modeState;
    return d instanceof PvDomain && d.vcpus[vcpu.id]!.online && upcallPending(d, vcpu.id);
  }

  runVcpu(vcpu: Vcpu, deadline: number): VcpuExit {
    const pv = this.pv(vcpu.domain).vcpus[vcpu.id]!;
    const start = this.hv.cpu.cycles;
    pv.runningSince = start;
    publishRunstate(this.host, this.pv(vcpu.domain));
    const exit = this.runStretch(vcpu, deadline);
    // the stretch, for a spinning lock's account of the cycles it spun (PvVcpu.ranSince)
    const k = pv.stretchNext;
    pv.stretchStart[k] = start;
    pv.stretchEnd[k] = this.hv.cpu.cycles;
    pv.stretchNext = (k + 1) % STRETCHES;
    pv.runningSince = this.hv.cpu.cycles; // off the CPU: no current stretch
    return exit;
  }

  private runStretch(vcpu: Vcpu, deadline: number): VcpuExit {
    const cpu = this.hv.cpu;
    const events = this.hv.events;
    const host = this.host;
    const d = this.pv(vcpu.domain);
    const pv = d.vcpus[vcpu.id]!;
    const stats = vcpu.domain.stats;
    const exit = vcpu.exit;
    if (pv.blockedSince >= 0) {
      pv.blockedCycles += cpu.cycles - pv.blockedSince;
      pv.blockedSince = -1;
    }
    // Back from a stop the host's slicing alone made (hv.slicedByHost): the guest has not
    // entered the hypervisor, so nothing it could see happens here - no restamp, no upcall. (A
    // guest that unmasks a pending event by a plain store gets its upcall at its next real entry:
    // a hypercall, a trap, a device event or the end of its budget, in any slicing.)
    let entered = !pv.hostSliced;
    pv.hostSliced = false;
    // restamp the time record: the guest's TSC arithmetic needs a recent stamp
    if (entered && !vcpu.domain.stopped) updateTime(host, d, vcpu.id);
    for (;;) {
      if (vcpu.domain.stopped) return this.stopped(vcpu);
      if (entered && upcallPending(d, vcpu.id) && !upcallMasked(d, vcpu.id) && d.eventCallback !== 0) {
        if (!deliverUpcall(host, d, pv)) return this.stopped(vcpu);
      }
      const stop = Math.min(deadline, events.nextDeadline());
      if (cpu.cycles >= stop) {
        pv.hostSliced = !entered;
        return deadlineExit(exit);
      }
      pv.inHypercallReturn = false;
      const x: number = cpu.run(stop);
      countExit(stats, x);
      // every CPU exit is an entry into the hypervisor but a deadline or stop the host's slicing made
      entered = !((x === Exit.Stopped && this.hv.beforeGuestDeadline()) || (x === Exit.Deadline && this.hv.slicedByHost()));
      if (this.handleCpuExit(vcpu, d, pv, x) === TO_LOOP) {
        if (x === Exit.Stopped) pv.hostSliced = !entered;
        return exit;
      }
    }
  }

  /** One CPU exit, by reason: a hypercall, an intercepted exception, the deadline or a stop request. */
  private handleCpuExit(vcpu: Vcpu, d: PvDomain, pv: PvVcpu, x: number): number {
    const cpu = this.hv.cpu;
    const host = this.host;
    const exit = vcpu.exit;
    switch (x) {
      case Exit.Hypercall:
        return this.hypercallExit(vcpu, d, pv);
      case Exit.Exception:
        if (!bounceException(host, d, pv, cpu.exitVector, cpu.exitError, cpu.exitKind)) return this.stop(vcpu);
        return CONTINUE;
      case Exit.Deadline:
        return CONTINUE;
      case Exit.Stopped:
        hostStopExit(exit);
        return TO_LOOP;
      case Exit.TripleFault:
        vcpu.domain.shutdown('triple-fault', 0, `triple fault at pc ${hex(cpu.pc)}`);
        return this.stop(vcpu);
      default:
        crashOnUnexpectedExit(vcpu.domain, 'pv', x, cpu.pc);
        return this.stop(vcpu);
    }
  }

  /** A HYPERCALL exit: dispatch through the table, return to the guest, block or yield as it asked. */
  private hypercallExit(vcpu: Vcpu, d: PvDomain, pv: PvVcpu): number {
    const cpu = this.hv.cpu;
    const host = this.host;
    const stats = vcpu.domain.stats;
    const exit = vcpu.exit;
    const hcEntry = this.hv.profile.hypercallEntry;
    if (cpu.cpl === 3) {
      // the hypercall gate is not open to ring 3 (Xen's int 0x82 has DPL 1): #GP
      cpu.pc = cpu.exitInsnPc;
      bounceException(host, d, pv, GP, 0, EventKind.Fault);
      return CONTINUE;
    }
    const regs = cpu.regs;
    const nr = regs[0]!;
    const c0 = cpu.cycles - hcEntry;
    const ctx = this.ctx;
    ctx.enter(d, pv);
    host.charge(d, Ev.PvDispatch, 1);
    const r = this.table.dispatch(ctx, nr, regs[1]!, regs[2]!, regs[3]!, regs[4]!, regs[5]!);
    const slot = (nr >>> 0) < HYPERCALL_SLOTS ? nr : HYPERCALL_SLOTS - 1;
    stats.hypercalls[slot]!++;
    const work = ctx.work;
    if (work > d.stats.maxStepWork) d.stats.maxStepWork = work;
    if (vcpu.domain.stopped) {
      if (r < 0) d.stats.failed[slot]!++;
      stats.hypercallCycles[slot]! += cpu.cycles - c0;
      if (stats.trace !== null) stats.trace.recordAt(TraceKind.Hypercall, c0, stats.traceDom, nr, cpu.cycles - c0);
      return this.stop(vcpu);
    }
    if (ctx.preempted) {
      // A continuation: back to the guest at its HYPERCALL, r0 still the number and r1..r5
      // the progress, so pending events and other domains run before it goes on.
      d.stats.continuations++;
      const a = ctx.contArgs;
      for (let j = 0; j < 5; j++) regs[j + 1] = a[j]!;
      cpu.pc = cpu.exitInsnPc;
      cpu.hypercallReturn(nr);
      pv.inHypercallReturn = true;
      stats.hypercallCycles[slot]! += cpu.cycles - c0;
      if (stats.trace !== null) stats.trace.recordAt(TraceKind.Hypercall, c0, stats.traceDom, nr, cpu.cycles - c0);
      return CONTINUE;
    }
    if (r < 0) d.stats.failed[slot]!++;
    cpu.hypercallReturn(r);
    pv.inHypercallReturn = true;
    stats.hypercallCycles[slot]! += cpu.cycles - c0;
    if (stats.trace !== null) stats.trace.recordAt(TraceKind.Hypercall, c0, stats.traceDom, nr, cpu.cycles - c0);
    if (pv.blockRequested) {
      pv.blockRequested = false;
      // (a vCPU that took itself down leaves the CPU whatever is pending)
      if (!pv.online || !upcallPending(d, vcpu.id)) {
        pv.blockedSince = cpu.cycles;
        exit.reason = 'hlt';
        return TO_LOOP;
      }
    }
    if (pv.yieldRequested) {
      pv.yieldRequested = false;
      // (its own physical CPU's scheduler: with several, vCPUs on others are not in this queue)
      this.hv.yieldVcpu(vcpu);
      deadlineExit(exit).yielded = true;
      return TO_LOOP;
    }
    return CONTINUE;
  }

  /**
   * Make hypercall nr on behalf of a vCPU that is on the real CPU, as if it had executed HYPERCALL
   * (tools, the monitor and tests; the guest's registers are not touched). Returns the result.
   */
  hypercall(vcpu: Vcpu, nr: number, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0): number {
    if (!vcpu.loaded) throw new Error(`PvMode.hypercall: ${vcpu.label} is not on the CPU`);
    const d = this.pv(vcpu.domain);
    const ctx = this.ctx;
    ctx.enter(d, d.vcpus[vcpu.id]!);
    let r = this.table.dispatch(ctx, nr, a1 | 0, a2 | 0, a3 | 0, a4 | 0, a5 | 0);
    // a continuation is taken at once (there is no guest instruction to re-execute)
    while (ctx.preempted && !vcpu.domain.stopped) {
      d.stats.continuations++;
      const c = ctx.contArgs;
      const [b1, b2, b3, b4, b5] = [c[0]!, c[1]!, c[2]!, c[3]!, c[4]!];
      ctx.enter(d, d.vcpus[vcpu.id]!);
      r = this.table.dispatch(ctx, nr, b1, b2, b3, b4, b5);
    }
    const slot = (nr >>> 0) < HYPERCALL_SLOTS ? nr : HYPERCALL_SLOTS - 1;
    const stats = vcpu.domain.stats;
    stats.hypercalls[slot]!++;
    if (stats.trace !== null) stats.trace.record(TraceKind.Hypercall, stats.traceDom, nr, 0);
    if (r < 0) d.stats.failed[slot]!++;
    return r;
  }

  /** The domain stopped: fill vcpu.exit with it (to return to the outer loop). */
  private stop(vcpu: Vcpu): number {
    this.stopped(vcpu);
    return TO_LOOP;
  }

  private stopped(vcpu: Vcpu): VcpuExit {
    const exit = vcpu.exit;
    const dom = vcpu.domain;
    // the last console output the guest published, notified or not
    const d = dom.modeState;
    if (d instanceof PvDomain) d.console?.drain();
    exit.reason = dom.stopReason === 'poweroff' || dom.stopReason === 'destroyed' ? 'shutdown' : 'crash';
    exit.detail = dom.stopDetail;
    return exit;
  }

  /**
   * Tear a domain down: timers, back ends, ports, the grants it mapped, its page tables' type
   * references; frames another domain still maps through a grant stay alive (held by the
   * hypervisor) until unmapped; everything else goes back to the core with the domain.
   */
  destroyDomain(domain: Domain): void {
    const d = domain.modeState;
    if (!(d instanceof PvDomain)) return;
    const host = this.host;
    const types = host.types;
    for (const pv of d.vcpus) stopTimers(host, pv);
    d.blk?.destroy();
    d.blk = null;
    d.net?.destroy();
    d.net = null;
    d.console?.destroy();
    d.console = null;
    closeAll(d);
    unmapAll(host, d);
    const owner = host.platform.frames.owner;
    // directories whose validation or release a continuation left unfinished
    for (let f = 0; f < owner.length; f++) if (owner[f] === d.id && types.partial[f] !== 0) types.abortPartial(f, d.id);
    for (const pv of d.vcpus) {
      pv.pendingRelease = -1;
      if (pv.baseptr >= 0) types.putType(pv.baseptr, d.id);
      pv.baseptr = -1;
    }
    for (let f = 0; f < owner.length; f++) {
      if (owner[f] === d.id && types.pinned[f] !== 0) {
        types.pinned[f] = 0;
        types.putType(f, d.id);
      }
    }
    for (let f = 0; f < owner.length; f++) {
      if (owner[f] !== d.id) continue;
      host.setP2mSlot(f, -1);
      if (types.refCount[f]! > 0) {
        // still mapped by another domain through a grant: the hypervisor keeps it until unmapped
        owner[f] = OWNER_HYPERVISOR;
        host.zombies.add(f);
      } else {
        types.clear(f);
      }
    }
    host.cpu.mmu.flushTlb();
    host.releaseDomain(d);
    this.layouts.delete(domain.id);
  }
}
