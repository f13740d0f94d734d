// Trap-and-emulate (`--mode trap`): classic full virtualization of an unmodified image. The guest
// kernel runs at real ring 1 with real IOPL 0, its user code at ring 3, and every vector is
// intercepted, so each privileged instruction, fault, system call and device access reaches the
// monitor first: privileged instructions are emulated on a virtual CPU, faults are either hidden
// (shadow paging) or reflected into the guest's own IDT, I/O goes to the device model, and virtual
// interrupts are injected when the virtual IF allows. The critical instructions are not caught.
// Touches the real CPU while one of its vCPUs is loaded, its domains' memory and shadow frames.

import type { Cpu } from '../../machine/cpu.ts';
import { CR0_PG, CR0_WP, CR4_TSD, FLAGS_COND, Flag, Vector } from '../../machine/isa.ts';
import { Exit, type InterruptController } from '../../machine/types.ts';
import type { Domain } from '../core/domain.ts';
import { DomainCreateError, type Hypervisor } from '../core/hypervisor.ts';
import { loadBoot } from '../core/loader.ts';
import type { BootSpec, Mode } from '../core/mode.ts';
import {
  CONTINUE,
  TO_LOOP,
  countExit,
  crashOnUnexpectedExit,
  deadlineExit,
  hostStopExit,
  startupCpuState,
  type Vcpu,
  type VcpuExit,
  stoppedExit,
} from '../core/vcpu.ts';
import { EMU_CONTINUE, EMU_DEAD, EMU_HLT, EMU_IO, EMU_REFLECT_GP, emulatePrivileged } from './emulate.ts';
import { RESERVED_TABLES, SHADOW_HIDDEN, SHADOW_TRUE, type ShadowKind } from './shadow.ts';
import { HYPERVISOR_IDT_BASE, realRing } from './state.ts';
import { KIND_EXTERNAL, KIND_FAULT, KIND_SOFTWARE, TrapVcpu, trapVcpu } from './virtual-cpu.ts';
import { hex } from '../../machine/hex.ts';
import { TraceKind } from '../core/trace.ts';
import { Ev } from '../../machine/ledger.ts';

export interface TrapModeOptions {
  /**
   * While a virtual interrupt is pending and the guest kernel has interrupts virtually off, the
   * monitor re-checks after this many cycles (a monitor timer; each check is charged as a host
   * interrupt), doubling the interval at each check that finds nothing changed, up to
   * POLL_BACKOFF_LIMIT times it. It is how the monitor notices the guest's IRET to ring 3, which
   * runs natively and does not trap. 0: no polling - the interrupt waits for the next exit.
   */
  interruptWindowPollCycles?: number;
  /** the virtual CPU each vCPU gets (bt: a TrapVcpu with its translation state); default TrapVcpu */
  vcpuState?: new (hv: Hypervisor, vcpu: Vcpu, shadow: ShadowKind) => TrapVcpu;
  /**
   * the shadow MMU: 'flush' (one shadow, dropped at every CR3 load; the default) or 'traced' (a
   * shadow per address space, kept coherent by write-protecting the guest's page tables)
   */
  shadow?: ShadowKind;
}

/** Default first interrupt-window poll interval (cycles). */
export const DEFAULT_INTERRUPT_WINDOW_POLL_CYCLES = 2000;
/** The poll interval backs off to at most this many times the first one. */
export const POLL_BACKOFF_LIMIT = 32;

const V_GP: number = Vector.GeneralProtection;
const V_PF: number = Vector.PageFault;
const F_IF: number = Flag.IF;
const COND: number = FLAGS_COND;
const EV_TRAP_DELIVERY: number = Ev.TrapDelivery;
const EV_INTERCEPT_RETURN: number = Ev.InterceptReturn;
const EV_MONITOR_TRAP: number = Ev.MonitorTrap;
const EV_MONITOR_WALK: number = Ev.MonitorWalk;

/** handleTrap() and emulate() return core/vcpu.ts's CONTINUE or TO_LOOP, and emulate() also: */
/** emulate() only: the privileged instruction retired (bt's unit goes on) */
export const EMULATED = 2;

export class TrapMode implements Mode {
  readonly name = 'trap';
  readonly pollCycles: number;
  private readonly VcpuState: new (hv: Hypervisor, vcpu: Vcpu, shadow: ShadowKind) => TrapVcpu;
  readonly shadowKind: ShadowKind;
  private hv!: Hypervisor;
  private cpu!: Cpu;

  constructor(opts: TrapModeOptions = {}) {
    this.pollCycles = opts.interruptWindowPollCycles ?? DEFAULT_INTERRUPT_WINDOW_POLL_CYCLES;
    this.VcpuState = opts.vcpuState ?? TrapVcpu;
    this.shadowKind = opts.shadow ?? 'flush';
  }

  attach(hv: Hypervisor): void {
    this.hv = hv;
    this.cpu = hv.cpu;
  }

  /**
   * A virtual CPU and a shadow MMU per vCPU (each vCPU's shadow is its TLB: the guest keeps them
   * coherent as it keeps TLBs, by its own flushes and shootdown IPIs). vCPUs other than 0 are
   * down until the guest starts them through its virtual local APIC (startVcpu). Traced shadows
   * follow page-table writes of the vCPU that owns them only: one vCPU per domain with them.
   */
  createDomain(domain: Domain): void {
    const n = domain.vcpus.length;
    if (n > 1 && this.shadowKind === 'traced') throw new DomainCreateError(`domain '${domain.name}': traced shadows follow one vCPU's page-table writes; a domain with ${n} vCPUs needs --shadow flush`);
    const shadowFrames = n * (1 + RESERVED_TABLES);
    if (this.hv.frames.freeFrames < shadowFrames) {
      throw new DomainCreateError(
        `domain '${domain.name}': no machine memory left for its shadow page tables (${shadowFrames} frames of 4 KiB)`,
      );
    }
    for (const v of domain.vcpus) {
      if (v.id !== 0) {
        v.up = false;
        v.runState = 'blocked';
      }
      const t = new this.VcpuState(this.hv, v, this.shadowKind);
      t.pollInterval = this.pollCycles;
      v.modeState = t;
    }
  }

  /**
   * Load the guest and turn the bare machine's entry state into the virtual CPU's: the guest
   * believes it is at ring 0 with paging off and interrupts off; really it is at ring 1 with
   * paging on (the shadow maps guest-physical memory), IF = 1 and IOPL = 0, and the real IDTR
   * is the hypervisor's.
   */
  build(domain: Domain, boot: BootSpec): void {
    const vcpu = domain.vcpus[0]!;
    loadBoot(domain, vcpu, boot);
    this.enterBootState(vcpu);
  }

  /** A secondary vCPU's start-up: the bare machine's state (CPL 0, paging off, IF 0, pc, sp), made virtual. */
  startVcpu(vcpu: Vcpu, pc: number, sp: number): void {
    vcpu.arch = startupCpuState(pc, sp);
    const t = trapVcpu(vcpu);
    t.v.midRing = 2;
    this.enterBootState(vcpu);
  }

  /** The vCPU's arch holds the bare machine's entry state: make it the virtual CPU's, and run it deprivileged. */
  private enterBootState(vcpu: Vcpu): void {
    const t = trapVcpu(vcpu);
    const a = vcpu.arch;
    const v = t.v;
    v.vIF = (a.flags & F_IF) !== 0;
    v.vIOPL = (a.flags >>> 12) & 3;
    v.cr0 = a.cr0;
    v.cr2 = a.cr2;
    v.cr3 = a.cr3;
    v.cr4 = a.cr4;
    v.idtBase = a.idtBase;
    v.idtLimit = a.idtLimit;
    v.ksp.set(a.ksp);
    if (t.shadow.tablesInUse > 0) t.shadow.flush();
    a.cpl = realRing(a.cpl);
    a.flags = (a.flags & COND) | F_IF;
    a.cr0 = CR0_PG | CR0_WP;
    a.cr2 = 0;
    a.cr3 = t.shadow.root;
    a.cr4 = v.cr4 & CR4_TSD;
    a.idtBase = HYPERVISOR_IDT_BASE;
    a.idtLimit = 256;
    a.ksp = [0, 0, 0];
    a.halted = false;
  }

  /** Claim every vector; no real interrupt or hypercall reaches a trap-mode guest. */
  load(_vcpu: Vcpu): void {
    const cpu = this.cpu;
    cpu.interceptVector.fill(1);
    cpu.interceptExternalInterrupts = true;
    cpu.hypercallExits = false;
  }

  unload(_vcpu: Vcpu): void {}

  hasPendingEvent(vcpu: Vcpu): boolean {
    const pic = vcpu.domain.devices?.interruptController(vcpu.id);
    if (!pic || pic.pendingVector() < 0) return false;
    const t = trapVcpu(vcpu);
    const cpl = vcpu.loaded ? this.cpu.cpl : vcpu.arch.cpl;
    return t.v.vIF || (cpl === 3 && !t.exactUserFlags);
  }

  destroyDomain(domain: Domain): void {
    for (const v of domain.vcpus) trapVcpu(v).shadow.destroy();
  }

  // ================================================================================ KVM_RUN

  runVcpu(vcpu: Vcpu, deadline: number): VcpuExit {
    const t = trapVcpu(vcpu);
    const cpu = this.cpu;
    const exit = vcpu.exit;
    const dom = vcpu.domain;
    const stats = dom.stats;
    const pic = dom.devices ? dom.devices.interruptController(vcpu.id) : null;
    vcpu.completeIo(cpu.regs);
    // Back from a stop the host's slicing alone made (hv.slicedByHost): the guest has not left
    // its run, so nothing is injected (its kernel may have gone to ring 3 by an IRET the monitor
    // does not see: the interrupt waits for the next exit, as in one run) and the
    // interrupt-window poll armed before stays where it was (re-armed from now, the host's
    // slices would move every poll).
    let entered = !t.hostSliced;
    t.hostSliced = false;
    for (;;) {
      if (dom.stopped) return stoppedExit(dom, exit);
      let runTo = deadline;
      if (entered) t.pollAt = Infinity;
      if (pic !== null && pic.pendingVector() >= 0) {
        if (entered && (cpu.cpl === 3 || t.v.vIF)) {
          t.pollInterval = this.pollCycles;
          this.inject(t, pic);
          continue;
        }
        if (this.pollCycles > 0) {
          if (entered) t.pollAt = cpu.cycles + t.pollInterval;
          runTo = Math.min(deadline, t.pollAt);
        }
      }
      if (cpu.cycles >= deadline) {
        t.hostSliced = !entered;
        return deadlineExit(exit);
      }
      const x: number = cpu.run(runTo);
      countExit(stats, x);
      // every CPU exit is an exit to the monitor (the poll's too) but a deadline or stop the
      // host's slicing made
      entered = !((x === Exit.Stopped && this.hv.beforeGuestDeadline()) || (x === Exit.Deadline && cpu.cycles < t.pollAt && this.hv.slicedByHost()));
      if (this.handleCpuExit(t, x, deadline, exit) === TO_LOOP) {
        if (x === Exit.Stopped) t.hostSliced = !entered;
        return exit;
      }
    }
  }

  /** One CPU exit of the guest, by reason (every vector is intercepted; nothing else is set to exit). */
  private handleCpuExit(t: TrapVcpu, x: number, deadline: number, exit: VcpuExit): number {
    const cpu = this.cpu;
    const dom = t.domain;
    switch (x) {
      case Exit.Exception:
        return this.handleTrap(t, exit);
      case Exit.Deadline:
        // short of the deadline (the poll's time, a stop a device model asked for); or the poll's
        // time short of every deadline but the host's slicing (the poll comes as in one run)
        if (cpu.cycles < deadline || (cpu.cycles >= t.pollAt && this.hv.beforeGuestDeadline())) {
          // the interrupt-window poll: a monitor timer interrupt; still nothing: wait longer
          dom.stats.interruptWindowPolls++;
          cpu.charge(EV_TRAP_DELIVERY, 1);
          cpu.charge(EV_INTERCEPT_RETURN, 1);
          this.hv.chargeMonitor(dom, EV_MONITOR_TRAP, 1);
          if (cpu.cpl !== 3 && !t.v.vIF && t.pollInterval < this.pollCycles * POLL_BACKOFF_LIMIT) t.pollInterval *= 2;
        }
        return CONTINUE;
      case Exit.ExternalInterrupt:
        // a real interrupt (the host's): nothing of the guest's to do
        return CONTINUE;
      case Exit.Stopped:
        hostStopExit(exit);
        return TO_LOOP;
      default:
        // HLT, triple fault, hypercall: impossible with every vector intercepted at ring 1/3
        crashOnUnexpectedExit(dom, 'trap', x, cpu.pc);
        return this.dead(dom, exit);
    }
  }

  /**
   * An intercepted trap. Every one costs the monitor path and the IRET back (the hardware entry
   * was charged by the CPU); shadow faults add the guest-table walk, emulated instructions their
   * own cost. Also the bt mode's handling of the traps its translated code and user code take.
   */
  handleTrap(t: TrapVcpu, exit: VcpuExit): number {
    const cpu = this.cpu;
    const dom = t.domain;
    const vector = cpu.exitVector;
    const kind: number = cpu.exitKind;
    const stats = dom.stats;
    stats.traps[vector]!++;
    if (stats.trace !== null) stats.trace.record(TraceKind.Trap, stats.traceDom, vector, 0);
    cpu.charge(EV_INTERCEPT_RETURN, 1);
    this.hv.chargeMonitor(dom, EV_MONITOR_TRAP, 1);

    if (kind === KIND_SOFTWARE) {
      // INT n: the gate's DPL is checked against the *virtual* CPL by the reflection
      return t.reflect(vector, 0, cpu.pc, KIND_SOFTWARE, cpu.exitInsnPc, -1) ? CONTINUE : this.dead(dom, exit);
    }
    if (vector === V_PF) {
      const va = cpu.cr2;
      const res = t.shadow.fault(va, cpu.exitError);
      cpu.charge(EV_MONITOR_WALK, t.walker.refs);
      if (res === SHADOW_HIDDEN) return CONTINUE;
      if (res === SHADOW_TRUE) {
        return t.reflect(V_PF, t.walker.faultError, cpu.pc, KIND_FAULT, cpu.pc, va) ? CONTINUE : this.dead(dom, exit);
      }
      t.crashBadGpa();
      return this.dead(dom, exit);
    }
    if (vector === V_GP && cpu.exitError === 0) {
      // a privileged instruction (or one the virtual CPL may not run: emulate() reflects the #GP)
      const r = this.emulate(t, exit);
      return r === EMULATED ? CONTINUE : r;
    }
    return t.reflect(vector, cpu.exitError, cpu.pc, kind, cpu.exitInsnPc, -1) ? CONTINUE : this.dead(dom, exit);
  }

  /**
   * Emulate the privileged instruction at the real pc on the virtual CPU (trap: the #GP(0) it
   * raised; bt: its callout) and say what the loop does next: EMULATED (it retired, pc past it),
   * CONTINUE (a #GP was reflected because the virtual CPL may not run it, or a HLT wakes at once),
   * TO_LOOP (`exit` holds an I/O or HLT exit, or the domain stopped).
   */
  emulate(t: TrapVcpu, exit: VcpuExit): number {
    const pc = this.cpu.pc;
    switch (emulatePrivileged(t, exit)) {
      case EMU_CONTINUE:
        return EMULATED;
      case EMU_IO:
        return TO_LOOP;
      case EMU_HLT:
        if (this.hasPendingEvent(t.vcpu)) return CONTINUE;
        exit.reason = 'hlt';
        return TO_LOOP;
      case EMU_DEAD:
        return this.dead(t.domain, exit);
      case EMU_REFLECT_GP:
        break;
    }
    // not allowed at the virtual CPL: the guest gets the #GP(0) fault the hardware would give
    return t.reflect(V_GP, 0, pc, KIND_FAULT, pc, -1) ? CONTINUE : this.dead(t.domain, exit);
  }

  /** Acknowledge the virtual PIC's line and deliver it through the guest's IDT (a host interrupt). */
  inject(t: TrapVcpu, pic: InterruptController): void {
    const v = pic.acknowledge();
    if (v < 0) return;
    const cpu = this.cpu;
    const stats = t.domain.stats;
    stats.injectedInterrupts++;
    if (stats.trace !== null) stats.trace.record(TraceKind.Interrupt, stats.traceDom, v, 0);
    // as a host interrupt would: hardware entry, the monitor's injection, the IRET to the guest
    cpu.charge(EV_TRAP_DELIVERY, 1);
    cpu.charge(EV_INTERCEPT_RETURN, 1);
    this.hv.chargeMonitor(t.domain, EV_MONITOR_TRAP, 1);
    t.reflect(v, 0, cpu.pc, KIND_EXTERNAL, cpu.pc, -1);
  }

  private dead(dom: Domain, exit: VcpuExit): number {
    stoppedExit(dom, exit);
    return TO_LOOP;
  }

}
