// Hardware-assisted virtualization (`--mode hvm`): the unmodified image runs in the CPU's non-root
// mode at its own CPL 0 (kernel) and 3 (user), with a VMCS per vCPU and either a second translation
// stage built from the domain's p2m (`--mmu ept`) or, as on first-generation VT-x, shadow page tables
// (`--mmu shadow`, the default for a profile without EPT: CR3 loads/stores, INVLPG, CR0 writes and
// page faults exit too, see state.ts). Only what the VMCS says exits: I/O (to the device model through
// the outer loop), HLT (block), CPUID and HYPERCALL (always), the interrupt window; virtual
// interrupts are injected through the VMCS entry fields when the guest's own IF allows. Privileged
// and critical instructions, page tables, traps and system calls all run natively in the guest.
// Touches the real CPU while one of its vCPUs is loaded, and its domains' second-stage frames.

import { type Cpu } from '../../machine/cpu.ts';
import type { InterruptController } from '../../machine/types.ts';
import type { CostProfile } from '../../machine/costs.ts';
import { CPUID_FEATURES_MACHINE, CpuidFeature, answerCpuid } from '../../machine/cpuid.ts';
import { Flag, Op, Vector } from '../../machine/isa.ts';
import { Exit } from '../../machine/types.ts';
import { CrQual, EptQual, EventKind, type Vmcs } from '../../machine/vmx.ts';
import type { Domain } from '../core/domain.ts';
import type { Hypervisor } from '../core/hypervisor.ts';
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
import { Ept } from './ept.ts';
import { hex } from '../../machine/hex.ts';
import { Ev } from '../../machine/ledger.ts';
import { SHADOW_BAD_GPA, SHADOW_HIDDEN, type ShadowKind } from '../trap/shadow.ts';
import { HvmDomainState, HvmShadow, HvmVcpu, SHADOW_CR0_OWNED, type HvmMmu, hvmVcpu } from './state.ts';
import { TraceKind } from '../core/trace.ts';

// machine/ const enums as local numbers (cross-file const enums are property loads under tsx)
const V_PF: number = Vector.PageFault;
const V_DF: number = Vector.DoubleFault;
const KIND_SOFTWARE: EventKind = EventKind.Software;
const KIND_TRAP: EventKind = EventKind.Trap;
const CR_MASK: number = CrQual.CR_MASK;
const CR_READ: number = CrQual.READ;
const CR_REG_SHIFT: number = CrQual.REG_SHIFT;
const PAGE_MASK = -4096;
const F_IF: number = Flag.IF;
const V_UD: number = Vector.InvalidOpcode;
const OP_CPUID: number = Op.CPUID;
const KIND_FAULT: EventKind = EventKind.Fault;
const KIND_EXTERNAL: EventKind = EventKind.External;
const Q_WRITE: number = EptQual.Write;
const Q_FETCH: number = EptQual.Fetch;
/** CPUID leaf 1 features of a guest: the machine's without non-root mode or a second stage (no nested virtualization) */
const CPUID_FEATURES_GUEST: number = CPUID_FEATURES_MACHINE & ~(CpuidFeature.NonRoot | CpuidFeature.SecondStage);

export interface HvmModeOptions {
  /** 'ept' (a second stage; the profile must have one) or 'shadow'; default: 'ept' if the profile has EPT, else 'shadow' */
  mmu?: HvmMmu;
  /** with shadow paging: 'flush' (one shadow, dropped at every CR3 load; the default) or 'traced' (a shadow per address space) */
  shadow?: ShadowKind;
  /**
   * Pause-loop exiting (`--ple`): every vCPU's VMCS turns it on, with PLE_Gap and PLE_Window in
   * cycles (default KVM's 128 and 4096); a PAUSE exit gives the vCPU's physical CPU to another
   * vCPU (machine/vmx.ts Vmcs.pauseLoopExiting; docs/hypervisor.md "Lock-holder preemption").
   */
  ple?: PleControl;
}

/** Pause-loop exiting's two VMCS fields, in cycles. */
export interface PleControl {
  gap: number;
  window: number;
}

/** KVM's defaults (arch/x86/kvm: ple_gap 128, ple_window 4096). */
export const PLE_DEFAULTS: PleControl = { gap: 128, window: 4096 };

export class HvmMode implements Mode {
  readonly name = 'hvm';
  private hv!: Hypervisor;
  private cpu!: Cpu;
  private readonly requestedMmu: HvmMmu | undefined;
  /** the shadow MMU's kind under `--mmu shadow` */
  readonly shadowKind: ShadowKind;
  /** the translation in use, decided when attached to a hypervisor (its profile) */
  mmu: HvmMmu = 'ept';
  /** the profile's clock (CPUID's answer); every cost is charged through the ledger's kinds (machine/ledger.ts) */
  private clockMHz = 0;
  /** pause-loop exiting's fields, or null when it is off */
  readonly ple: PleControl | null;

  constructor(opts: HvmModeOptions = {}) {
    this.requestedMmu = opts.mmu;
    this.shadowKind = opts.shadow ?? 'flush';
    const ple = opts.ple;
    if (ple !== undefined && !(Number.isInteger(ple.gap) && ple.gap >= 0 && Number.isInteger(ple.window) && ple.window >= 0)) {
      throw new RangeError(`hvm mode: PLE_Gap and PLE_Window are whole numbers of cycles, 0 or more (got ${ple.gap}, ${ple.window})`);
    }
    this.ple = ple === undefined ? null : { gap: ple.gap, window: ple.window };
  }

  attach(hv: Hypervisor): void {
    this.hv = hv;
    this.cpu = hv.cpu;
    const p = hv.profile;
    this.mmu = hvmMmuFor(p, this.requestedMmu);
    if (this.mmu === 'ept' && this.shadowKind !== 'flush') {
      throw new Error(`hvm mode: a ${this.shadowKind} shadow needs shadow paging (--mmu shadow), not a second stage (profile ${p.name})`);
    }
    this.clockMHz = p.clockMHz;
  }

  /**
   * The second stage from the p2m (shared by the vCPUs, as one EPT serves every vCPU of a VM) or a
   * shadow MMU per vCPU, and a VMCS per vCPU. vCPUs other than 0 are down until the guest starts
   * them through its virtual local APIC (startVcpu).
   */
  createDomain(domain: Domain): void {
    for (const v of domain.vcpus) {
      if (v.id === 0) continue;
      v.up = false;
      v.runState = 'blocked';
    }
    if (this.mmu === 'shadow') {
      domain.modeState = new HvmDomainState(null);
      for (const v of domain.vcpus) v.modeState = new HvmVcpu(v, -1, new HvmShadow(this.hv, v, this.shadowKind));
      this.setControls(domain);
      return;
    }
    const ept = new Ept(this.hv, domain.p2m);
    domain.modeState = new HvmDomainState(ept);
    // log-dirty write-protects the second stage itself (hypervisor/core/log-dirty.ts)
    domain.logDirtyStage = ept;
    for (const v of domain.vcpus) v.modeState = new HvmVcpu(v, ept.root);
    this.setControls(domain);
  }

  /**
   * The domain's VMCS controls. On a CPU with VPID (or ASID), each vCPU's translations are
   * tagged: vCPU k of domain d with (k << 20) | (d.id + 1) (vCPU 0: the domain's id + 1). Unique on
   * the CPU, since domain ids are never reused: the TLB keeps every tag's entries across world
   * switches (machine/mmu.ts), so two vCPUs - even of one domain, with their own CR3s - must never
   * share one. Pause-loop exiting if asked (--ple).
   */
  private setControls(domain: Domain): void {
    const ple = this.ple;
    if (ple !== null) {
      for (const v of domain.vcpus) {
        const vm = hvmVcpu(v).vmcs;
        vm.pauseLoopExiting = true;
        vm.pleGap = ple.gap;
        vm.pleWindow = ple.window;
      }
    }
    if (!this.hv.profile.vpid) return;
    for (const v of domain.vcpus) hvmVcpu(v).vmcs.vpid = ((v.id << 20) | (domain.id + 1)) >>> 0;
  }

  /**
   * Load the guest. The bare machine's entry state (CPL 0, interrupts off, paging off, pc at the
   * entry) is the guest's real state in non-root mode: nothing to translate.
   */
  build(domain: Domain, boot: BootSpec): void {
    const vcpu = domain.vcpus[0]!;
    loadBoot(domain, vcpu, boot);
    this.enterBootState(vcpu);
  }

  /** A secondary vCPU's start-up: the bare machine's (CPL 0, paging off, IF 0, pc, sp), in non-root mode as it is. */
  startVcpu(vcpu: Vcpu, pc: number, sp: number): void {
    vcpu.arch = startupCpuState(pc, sp);
    this.enterBootState(vcpu);
  }

  /** The vCPU's arch holds the bare machine's entry state: with shadow paging, turn it into the virtual one. */
  private enterBootState(vcpu: Vcpu): void {
    const h = hvmVcpu(vcpu);
    const s = h.shadow;
    if (!s) return;
    // shadow paging: the guest's CR0/CR3 become the virtual ones; the real CR3 is the shadow's
    const a = vcpu.arch;
    s.v.cr0 = a.cr0;
    s.v.cr3 = a.cr3;
    if (s.shadow.tablesInUse > 0) s.shadow.flush();
    h.vmcs.cr0ReadShadow = a.cr0 & SHADOW_CR0_OWNED;
    a.cr0 = (a.cr0 & ~SHADOW_CR0_OWNED) | SHADOW_CR0_OWNED;
    a.cr3 = s.shadow.root;
  }

  /** Make this vCPU's VMCS current; the root-mode intercept hooks are not used (the VMCS decides). */
  load(vcpu: Vcpu): void {
    const cpu = this.cpu;
    cpu.vmcs = hvmVcpu(vcpu).vmcs;
    cpu.interceptVector.fill(0);
    cpu.interceptExternalInterrupts = false;
    cpu.hypercallExits = false;
  }

  /** A vCPU leaves the CPU in root mode: if it was preempted in non-root mode, that is an exit. */
  unload(vcpu: Vcpu): void {
    if (this.cpu.nonRoot) this.preempt(hvmVcpu(vcpu));
  }


  /** A virtual interrupt the guest can take now (its own IF is 1). */
  hasPendingEvent(vcpu: Vcpu): boolean {
    const pic = vcpu.domain.devices?.interruptController(vcpu.id);
    if (!pic || pic.pendingVector() < 0) return false;
    const flags = vcpu.loaded ? this.cpu.flags : vcpu.arch.flags;
    return (flags & F_IF) !== 0;
  }

  destroyDomain(domain: Domain): void {
    // a domain whose creation failed part-way may hold no state yet
    const s = domain.modeState;
    if (s instanceof HvmDomainState) s.ept?.destroy();
    for (const v of domain.vcpus) if (v.modeState instanceof HvmVcpu) v.modeState.shadow?.shadow.destroy();
  }

  // ================================================================================ KVM_RUN

  /*
   * Between calls the guest is either in root mode (after an exit: I/O, HLT) or still in non-root
   * mode (the run reached its deadline - the simulator's time slice, not a guest event, so no exit
   * is charged; the guest resumes with cpu.run). A device event that fired in between may have
   * raised a virtual interrupt: then the monitor needs the CPU back to inject it, as KVM kicks a
   * running vCPU with an IPI - an external-interrupt exit (preempt). Unless the interrupt window
   * is already armed: the guest will exit by itself when its IF becomes 1.
   */
  runVcpu(vcpu: Vcpu, deadline: number): VcpuExit {
    const h = hvmVcpu(vcpu);
    const cpu = this.cpu;
    const vm = h.vmcs;
    const exit = vcpu.exit;
    const dom = vcpu.domain;
    const stats = dom.stats;
    const pic = dom.devices ? dom.devices.interruptController(vcpu.id) : null;
    vcpu.completeIo(cpu.regs);
    for (;;) {
      if (dom.stopped) return stoppedExit(dom, exit);
      if (cpu.nonRoot) {
        if (pic !== null && !vm.interruptWindowExiting && pic.pendingVector() >= 0) {
          this.preempt(h);
          continue;
        }
      } else {
        if (cpu.cycles >= deadline) return deadlineExit(exit);
        if (pic !== null) this.prepareInjection(h, pic);
        cpu.vmEntry(vm);
      }
      if (cpu.cycles >= deadline) return deadlineExit(exit);
      const x: number = cpu.run(deadline);
      countExit(stats, x);
      if (this.handleCpuExit(h, x, exit) === TO_LOOP) return exit;
    }
  }

  /**
   * Before an entry: inject the virtual PIC's line if the guest's IF is 1 (acknowledged now,
   * delivered by the CPU through the guest's IDT as the entry completes); otherwise ask for an
   * exit as soon as the guest can take it (interrupt-window exiting). An event already queued for
   * injection (a reflected #UD) goes first; the window brings the interrupt right after it.
   */
  private prepareInjection(h: HvmVcpu, pic: InterruptController): void {
    const vm = h.vmcs;
    vm.interruptWindowExiting = false;
    if (pic.pendingVector() < 0) return;
    if (vm.injectVector >= 0 || (this.cpu.flags & F_IF) === 0) {
      vm.interruptWindowExiting = true;
      return;
    }
    const v = pic.acknowledge();
    if (v < 0) return;
    vm.injectVector = v;
    vm.injectError = 0;
    vm.injectKind = KIND_EXTERNAL;
    const stats = h.vcpu.domain.stats;
    stats.injectedInterrupts++;
    stats.reflected[v]!++;
    if (stats.trace !== null) stats.trace.record(TraceKind.Interrupt, stats.traceDom, v, 0);
  }

  /**
   * One CPU exit, by reason: a VM exit (the monitor's software path with its VMREADs is charged
   * first), or the run's deadline or a stop request (root-mode returns, no VM exit).
   */
  private handleCpuExit(h: HvmVcpu, reason: number, exit: VcpuExit): number {
    const cpu = this.cpu;
    const vm = h.vmcs;
    const dom = h.vcpu.domain;
    if (reason === Exit.Deadline) return CONTINUE;
    if (reason === Exit.Stopped) {
      hostStopExit(exit);
      return TO_LOOP;
    }
    this.hv.chargeMonitor(dom, Ev.HvmExitPath, 1);
    switch (reason) {
      case Exit.Io:
        // KVM_EXIT_IO: the exit information names everything; the outer loop's device model answers
        exit.reason = 'io';
        exit.port = cpu.exitPort;
        exit.size = cpu.exitSize;
        exit.isWrite = cpu.exitIsWrite;
        exit.data = cpu.exitData;
        exit.reg = cpu.exitReg;
        // an OUT ends a block on the hardware; it completed with the exit
        if (cpu.exitIsWrite) cpu.instructionBoundary();
        return TO_LOOP;
      case Exit.Hlt:
        if ((cpu.flags & F_IF) === 0) {
          // as on bare hardware: nothing can ever wake it
          dom.shutdown('halted', 0, `hlt with interrupts disabled at pc ${hex(cpu.pc)}`);
          return this.dead(dom, exit);
        }
        if (this.hasPendingEvent(h.vcpu)) return CONTINUE;
        exit.reason = 'hlt';
        return TO_LOOP;
      case Exit.InterruptWindow:
        // the guest's IF is 1: the entry that follows injects
        vm.interruptWindowExiting = false;
        return CONTINUE;
      case Exit.Cpuid:
        this.cpuid(dom);
        return CONTINUE;
      case Exit.Hypercall:
        // no paravirtual interface here: HYPERCALL is what it is on bare hardware, #UD - which
        // retires nothing, while the exit retired it: take it back, so the guest's instruction
        // count (where instruction-counted interrupts land) is the bare machine's
        cpu.pc = vm.exitInsnPc;
        cpu.instructions--;
        vm.injectVector = V_UD;
        vm.injectError = 0;
        vm.injectKind = KIND_FAULT;
        dom.stats.reflected[V_UD]!++;
        return CONTINUE;
      case Exit.EptViolation:
        if ((vm.exitQualification & Q_WRITE) !== 0 && dom.logDirty !== null && dom.logDirty.secondStageWriteFault(vm.exitGuestPhys >>> 12)) {
          // log-dirty: a write to a read-only second-stage entry; the entry is writable again and
          // the frame logged. The access is retried; an event whose delivery it interrupted is
          // delivered again (as a hidden shadow fault's is)
          this.hv.chargeMonitor(dom, Ev.LogDirtyFault, 1);
          const first = vm.idtVectoring;
          if (first >= 0) {
            const kind = vm.idtVectoringKind;
            this.queue(vm, first, vm.idtVectoringError, kind);
            if (kind === KIND_SOFTWARE || kind === KIND_TRAP) {
              cpu.pc = vm.exitInsnPc >>> 0;
              vm.injectInsnLength = vm.exitInsnLength;
            }
          }
          return CONTINUE;
        }
        this.crashOutsideMemory(h);
        return this.dead(dom, exit);
      case Exit.TripleFault:
        dom.shutdown('triple-fault', 0, `triple fault at pc ${hex(cpu.pc)}`);
        return this.dead(dom, exit);
      case Exit.ExternalInterrupt:
        // a real interrupt (the host's): nothing of the guest's to do
        return CONTINUE;
      case Exit.Pause:
        // pause-loop exiting: the guest's kernel has spun longer than PLE_Window - likely on a
        // lock whose holder is not running. The PAUSE retired with the exit; the outer loop
        // gives the physical CPU to another vCPU (KVM's kvm_vcpu_on_spin)
        exit.reason = 'yield';
        return TO_LOOP;
      case Exit.CrAccess:
        if (h.shadow) return this.crAccess(h, h.shadow, exit);
        break;
      case Exit.Invlpg:
        if (h.shadow) {
          // the guest's INVLPG retired with the exit: the shadow entry goes, and the real TLB's
          h.shadow.shadow.invlpg(vm.exitQualification);
          cpu.charge(Ev.Invlpg, 1);
          return CONTINUE;
        }
        break;
      case Exit.Exception:
        if (h.shadow && vm.exitVector === V_PF) return this.shadowFault(h, h.shadow, exit);
        break;
    }
    // nothing else is set to exit: cannot happen
    crashOnUnexpectedExit(dom, 'hvm', reason, cpu.pc);
    return this.dead(dom, exit);
  }

  /**
   * A control-register access exit (shadow paging): CR3 loads and stores, CR0 writes. The
   * instruction retired with the exit; the monitor does what it would have done on the guest's
   * view. A CR0 write drops the whole shadow (the hardware flushes its TLB), a CR3 load too with
   * the flushing shadow, while the traced one switches the real CR3 to the new space's shadow;
   * both are charged the CR3 load the monitor does; the real CR0 stays PG|WP, the guest's bits go
   * to the read shadow.
   */
  private crAccess(h: HvmVcpu, s: HvmShadow, exit: VcpuExit): number {
    const cpu = this.cpu;
    const q = h.vmcs.exitQualification;
    const n = q & CR_MASK;
    const reg = (q >>> CR_REG_SHIFT) & 0xf;
    const r = cpu.regs;
    if ((q & CR_READ) !== 0) {
      if (n === 3) {
        r[reg] = s.v.cr3 | 0;
        return CONTINUE;
      }
    } else if (n === 3) {
      s.v.cr3 = (r[reg]! & PAGE_MASK) >>> 0;
      // the flushing shadow starts afresh; the traced one switches to the space's kept directory
      s.shadow.loadCr3();
      cpu.cr3 = s.shadow.root;
      cpu.charge(Ev.CrFlush, 1);
      // (no block boundary: the hardware's MOVCR retires within its block, as trap mode's emulation does)
      return CONTINUE;
    } else if (n === 0) {
      const value = r[reg]! & SHADOW_CR0_OWNED;
      s.v.cr0 = value;
      h.vmcs.cr0ReadShadow = value;
      s.shadow.flush();
      cpu.charge(Ev.CrFlush, 1);
      return CONTINUE;
    }
    const dom = h.vcpu.domain;
    dom.shutdown('crashed', 0, `hvm mode: unexpected control-register exit (qualification ${hex(q)}) at pc ${hex(cpu.pc)}`);
    return this.dead(dom, exit);
  }

  /**
   * A page-fault exit (shadow paging). The guest's walk decides: a hidden fault fills the shadow
   * entry and the guest retries (an event whose delivery took the fault is injected again, an
   * INT n with its length, as VT-x's entry instruction length); a true fault is injected with the guest's error
   * code and CR2 (during an exception's delivery: #DF, as the hardware would; during #DF's: a
   * triple fault); a guest table or mapping outside the domain's memory kills the domain. The
   * guest walk's references are charged as a TLB-miss walk's.
   */
  private shadowFault(h: HvmVcpu, s: HvmShadow, exit: VcpuExit): number {
    const cpu = this.cpu;
    const vm = h.vmcs;
    const dom = h.vcpu.domain;
    const va = vm.exitQualification;
    const res = s.shadow.fault(va, vm.exitError);
    cpu.charge(Ev.MonitorWalk, s.walker.refs);
    const first = vm.idtVectoring;
    if (res === SHADOW_HIDDEN) {
      if (first >= 0) {
        const kind = vm.idtVectoringKind;
        this.queue(vm, first, vm.idtVectoringError, kind);
        // an INT n (or BRK) is injected with its length, the guest's pc left on it: its frame
        // saves the next instruction, a fault in its delivery the INT itself (VT-x's entry
        // instruction length)
        if (kind === KIND_SOFTWARE || kind === KIND_TRAP) {
          cpu.pc = vm.exitInsnPc >>> 0;
          vm.injectInsnLength = vm.exitInsnLength;
        }
      }
      return CONTINUE;
    }
    if (res === SHADOW_BAD_GPA) {
      dom.shutdown(
        'crashed',
        0,
        `guest-physical address ${hex(s.walker.badGpa)} lies outside the domain's memory (${dom.quotaFrames} frames) at pc ${hex(cpu.pc)}`,
      );
      return this.dead(dom, exit);
    }
    // a true fault
    if (first >= 0 && vm.idtVectoringKind !== KIND_EXTERNAL && vm.idtVectoringKind !== KIND_SOFTWARE) {
      if (first === V_DF) {
        dom.shutdown('triple-fault', 0, `triple fault at pc ${hex(cpu.pc)}`);
        return this.dead(dom, exit);
      }
      this.queue(vm, V_DF, 0, KIND_FAULT);
      dom.stats.reflected[V_DF]!++;
      return CONTINUE;
    }
    cpu.cr2 = va >>> 0;
    this.queue(vm, V_PF, s.walker.faultError, KIND_FAULT);
    dom.stats.reflected[V_PF]!++;
    return CONTINUE;
  }

  /** Queue an event for injection at the next VM entry. */
  private queue(vm: Vmcs, vector: number, error: number, kind: EventKind): void {
    vm.injectVector = vector;
    vm.injectError = error;
    vm.injectKind = kind;
    vm.injectInsnLength = 0;
  }

  /** CPUID as the guest's virtual CPU answers it: the machine's, without non-root mode or a second stage (no nested virtualization). */
  private cpuid(dom: Domain): void {
    answerCpuid(this.cpu.regs, this.clockMHz, CPUID_FEATURES_GUEST, this.cpu.mmu.tlbEntries);
    dom.stats.emulated[OP_CPUID]!++;
  }


  /**
   * The second stage maps all of the domain's memory, so an EPT violation is an access (or a
   * guest page walk, or an event delivery) outside it: the domain is killed; the hypervisor and
   * the other domains never see it.
   */
  private crashOutsideMemory(h: HvmVcpu): void {
    const vm: Vmcs = h.vmcs;
    const dom = h.vcpu.domain;
    const q = vm.exitQualification;
    const access = (q & Q_WRITE) !== 0 ? 'write' : (q & Q_FETCH) !== 0 ? 'fetch' : 'read';
    const inside = dom.memory.contains(vm.exitGuestPhys);
    dom.shutdown(
      'crashed',
      0,
      inside
        ? `hvm mode: EPT violation at guest-physical ${hex(vm.exitGuestPhys)} inside the domain's memory (${access}) at pc ${hex(vm.exitInsnPc)}`
        : `guest-physical address ${hex(vm.exitGuestPhys)} lies outside the domain's memory ` +
            `(${dom.quotaFrames} frames) at pc ${hex(vm.exitInsnPc)} (EPT violation, ${access})`,
    );
  }

  /**
   * The monitor takes the CPU back from a guest in non-root mode: an external-interrupt VM exit
   * (KVM's kick IPI, or the host timer ending a slice). The simulated machine has no host
   * interrupt of its own (the run deadline plays the host timer), so the monitor records the
   * exit as the CPU does for any other: back to root mode, the exit's cost, the TLB flushed (no
   * VPID), the reason in the VMCS and the counters.
   */
  private preempt(h: HvmVcpu): void {
    const cpu = this.cpu;
    const vm = h.vmcs;
    const dom = h.vcpu.domain;
    cpu.nonRoot = false;
    cpu.charge(Ev.VmExit, 1);
    cpu.mmu.vmExitTlb();
    cpu.stats.vmExits++;
    vm.exitReason = Exit.ExternalInterrupt;
    vm.exitQualification = 0;
    vm.exitInsnPc = cpu.pc;
    vm.exitInsnLength = 0;
    vm.idtVectoring = -1;
    vm.exitCounts[Exit.ExternalInterrupt]!++;
    countExit(dom.stats, Exit.ExternalInterrupt);
    this.hv.chargeMonitor(dom, Ev.HvmExitPath, 1);
  }

  private dead(dom: Domain, exit: VcpuExit): number {
    stoppedExit(dom, exit);
    return TO_LOOP;
  }

}

/**
 * The MMU an hvm guest gets on `profile`: the one asked for, else a second stage if the CPU has
 * one and shadow paging if not. `ept` on a profile without EPT is a what-if (a second stage the
 * modelled CPU did not have, its references charged at the profile's eptWalkLevel).
 */
export function hvmMmuFor(profile: CostProfile, requested: HvmMmu | undefined): HvmMmu {
  return requested ?? (profile.ept ? 'ept' : 'shadow');
}
