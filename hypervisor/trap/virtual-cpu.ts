// One trap-and-emulate vCPU: its virtual privileged state, its guest-MMU walker and shadow page
// tables, the monitor's accesses to guest-virtual memory, and event reflection - delivering an
// exception, system call or virtual interrupt into the guest's *own* IDT exactly as the hardware
// would at the virtual CPL, with a frame that looks like ring 0's. Touches the real CPU's
// registers (while this vCPU is loaded), the domain's memory and its shadow frames.

import type { Cpu } from '../../machine/cpu.ts';
import { FLAGS_COND, Flag, Frame, Gate, REG_SP, Vector } from '../../machine/isa.ts';
import { EventKind } from '../../machine/vmx.ts';
import type { Domain } from '../core/domain.ts';
import type { Hypervisor } from '../core/hypervisor.ts';
import type { Vcpu } from '../core/vcpu.ts';
import { ACC_FETCH, ACC_READ, ACC_WRITE, GuestWalker, WALK_BAD_GPA } from './guest-mmu.ts';
import { ShadowMmu, type GuestShadow, type ShadowKind } from './shadow.ts';
import { TracedShadowMmu } from './traced-shadow.ts';
import { TrapVcpuState, realRing, virtualCpl } from './state.ts';
import { hex } from '../../machine/hex.ts';

// EventKind (machine/vmx.ts) as local numbers (cross-file const enums are property loads under tsx)
export const KIND_FAULT: number = EventKind.Fault;
export const KIND_TRAP: number = EventKind.Trap;
export const KIND_SOFTWARE: number = EventKind.Software;
export const KIND_EXTERNAL: number = EventKind.External;

const SP = REG_SP;
const F_IF: number = Flag.IF;
const IOPL_SHIFT: number = Flag.IOPL_SHIFT;
const COND: number = FLAGS_COND;
const V_DF: number = Vector.DoubleFault;
const V_GP: number = Vector.GeneralProtection;
const V_PF: number = Vector.PageFault;
const G_PRESENT: number = Gate.PRESENT;
const G_DPL_SHIFT: number = Gate.DPL_SHIFT;
const G_RING_SHIFT: number = Gate.RING_SHIFT;
const G_TRAP: number = Gate.TRAP;
const FRAME_BYTES: number = Frame.BYTES;
const PAGE_MASK = -4096;

/** The trap-mode (or bt) virtual CPU of a vCPU; a vCPU of another mode is a programming error. */
export function trapVcpu(vcpu: Vcpu): TrapVcpu {
  const t = vcpu.modeState;
  if (!(t instanceof TrapVcpu)) throw new Error(`vCPU ${vcpu.id} of domain '${vcpu.domain.name}' is not a trap-mode vCPU`);
  return t;
}

declare module '../core/vcpu.ts' {
  interface VcpuModeStates {
    /** trap mode's virtual CPU (bt's is a subclass) */
    trap: TrapVcpu;
  }
}

/** deliver() results */
const DELIVERED = 0;
const DELIVERY_FAULT = 1;
const DELIVERY_BAD_GPA = 2;

export class TrapVcpu {
  readonly v = new TrapVcpuState();
  readonly walker: GuestWalker;
  readonly shadow: GuestShadow;
  readonly domain: Domain;
  readonly cpu: Cpu;
  private readonly m32: Int32Array;
  private readonly m8: Uint8Array;
  private readonly codePage: Uint8Array;

  /** the current interrupt-window poll interval (TrapMode backs it off while nothing changes) */
  pollInterval = 0;
  /** when the armed interrupt-window poll fires (a cycle; meaningful while an interrupt waits for the virtual IF) */
  pollAt = Infinity;
  /** its last run ended at a stop the host's slicing alone made (Hypervisor.slicedByHost): the next run goes on as if it had not stopped */
  hostSliced = false;
  /**
   * The virtual IF holds in ring 3 too (bt: every entry into ring 3 is an emulated IRET or a
   * delivery the monitor makes, so it knows the IF the guest's user code runs with). Trap mode
   * leaves it false: its kernel's IRET to ring 3 runs unseen, so ring 3 is taken to run with
   * interrupts on (TrapVcpuState.vIF).
   */
  exactUserFlags = false;
  /** the last guest access failed: 0, or WALK_FAULT / WALK_BAD_GPA (details in the walker) */
  accessFail = 0;
  /** a fault raised while delivering an event (the hardware's "pending" fault) */
  private pendVector = 0;
  private pendError = 0;
  private pendAddr = 0;

  constructor(
    readonly hv: Hypervisor,
    readonly vcpu: Vcpu,
    shadowKind: ShadowKind = 'flush',
  ) {
    this.domain = vcpu.domain;
    this.cpu = hv.cpu;
    this.m32 = hv.mem.i32;
    this.m8 = hv.mem.u8;
    this.codePage = hv.mem.codePage;
    this.walker = new GuestWalker(hv.mem, this.domain.memory, this.v);
    this.shadow =
      shadowKind === 'traced'
        ? new TracedShadowMmu(hv, hv.cpu, this.walker, this.v, this.domain.stats)
        : new ShadowMmu(hv, hv.cpu, this.walker, this.domain.stats);
  }

  /** The guest's current privilege level (derived from the real one). */
  get vcpl(): number {
    return virtualCpl(this.cpu.cpl, this.v.midRing);
  }

  /** Interrupts virtually enabled: the virtual IF; in ring 3 always, unless exactUserFlags (see TrapVcpuState.vIF). */
  get interruptsEnabled(): boolean {
    return this.v.vIF || (this.cpu.cpl === 3 && !this.exactUserFlags);
  }

  /** The FLAGS value the guest would see at this point (condition bits real, IF and IOPL virtual). */
  virtualFlags(flags: number = this.cpu.flags): number {
    return (flags & COND) | (this.interruptsEnabled ? F_IF : 0) | (this.v.vIOPL << IOPL_SHIFT);
  }

  // ============================================================== guest-virtual memory, as the monitor reaches it

  /** Word at guest-virtual va (any alignment) with the hardware's checks for access `acc` (a read unless told); 0 and accessFail set on failure. */
  read32(va: number, user: boolean, acc: number = ACC_READ): number {
    this.accessFail = 0;
    if ((va & 0xfff) <= 0xffc) {
      const ma = this.walker.walk(va, acc, user, true);
      if (ma < 0) {
        this.accessFail = ma;
        return 0;
      }
      if ((ma & 3) === 0) return this.m32[ma >>> 2]!;
      const m = this.m8;
      return m[ma]! | (m[ma + 1]! << 8) | (m[ma + 2]! << 16) | (m[ma + 3]! << 24);
    }
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const ma = this.walker.walk((va + k) | 0, acc, user, true);
      if (ma < 0) {
        this.accessFail = ma;
        return 0;
      }
      v |= this.m8[ma]! << (8 * k);
    }
    return v;
  }

  /** Word fetch for decoding (supervisor or user as the guest was), checked as an instruction fetch (a #PF's error code has the fetch bit); 0 and accessFail on failure. */
  fetch32(va: number, user: boolean): number {
    return this.read32(va, user, ACC_FETCH);
  }

  /**
   * Word at guest-virtual va (any alignment) as the CPU reads it: through the shadow - the
   * guest's virtual TLB, which the real CPU walks - with the CPU's rights (user or supervisor),
   * so an entry the guest changed without INVLPG still gives what the CPU used (docs/hypervisor.md,
   * "What the emulator reads"). A byte the shadow does not give is walked in the guest's tables
   * as the hidden fault the CPU would take walks them (A/D set; a failure is the guest's #PF or a
   * table outside its memory), without filling the shadow. The shadow walk is the real tables'
   * look-only walk: no cycles, no TLB fill. 0 and accessFail set on failure.
   */
  readAsCpu(va: number, user: boolean): number {
    this.accessFail = 0;
    const mmu = this.cpu.mmu;
    if ((va & 0xfff) <= 0xffc) {
      const ma = mmu.translate(va, false, user);
      if (ma < 0) return this.read32(va, user);
      if ((ma & 3) === 0) return this.m32[ma >>> 2]!;
      const m = this.m8;
      return m[ma]! | (m[ma + 1]! << 8) | (m[ma + 2]! << 16) | (m[ma + 3]! << 24);
    }
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const b = (va + k) | 0;
      let ma = mmu.translate(b, false, user);
      if (ma < 0) {
        ma = this.walker.walk(b, ACC_READ, user, true);
        if (ma < 0) {
          this.accessFail = ma;
          return 0;
        }
      }
      v |= this.m8[ma]! << (8 * k);
    }
    return v;
  }

  // ============================================================== reflection

  /**
   * Deliver an event through the guest's IDT at the virtual CPL, as docs/isa.md "Traps and
   * interrupts" says the hardware does: a fault while delivering an exception becomes #DF, a fault
   * while delivering #DF shuts the domain down (triple fault); a fault while delivering INT n or
   * an interrupt is delivered in its place. `addr` is the #PF address for the virtual CR2 (-1:
   * none). Returns false if the domain died (triple fault, or a guest table outside its memory).
   */
  reflect(vector: number, error: number, savedPc: number, kind: number, insnPc: number, addr: number): boolean {
    let inDoubleFault = vector === V_DF && (kind === KIND_FAULT || kind === KIND_TRAP);
    // an exception or INT n delivered ends a block, as on the hardware; an interrupt is taken at one
    const boundary = kind !== KIND_EXTERNAL;
    for (;;) {
      if (vector === V_PF && addr >= 0) this.v.cr2 = addr >>> 0;
      const res = this.deliver(vector, error, savedPc, kind);
      if (res === DELIVERED) {
        this.domain.stats.reflected[vector]!++;
        if (boundary) this.cpu.instructionBoundary();
        return true;
      }
      if (res === DELIVERY_BAD_GPA) {
        this.crashBadGpa();
        return false;
      }
      if (inDoubleFault) {
        this.domain.shutdown('triple-fault', 0, `triple fault at pc ${hex(insnPc)}`);
        return false;
      }
      if (kind === KIND_FAULT || kind === KIND_TRAP) {
        vector = V_DF;
        error = 0;
        addr = -1;
        inDoubleFault = true;
      } else {
        vector = this.pendVector;
        error = this.pendError;
        addr = vector === V_PF ? this.pendAddr : -1;
      }
      kind = KIND_FAULT;
      savedPc = insnPc;
    }
  }

  /** The domain touched guest-physical memory it does not have: kill it (the hypervisor goes on). */
  crashBadGpa(): void {
    this.domain.shutdown(
      'crashed',
      0,
      `guest-physical address ${hex(this.walker.badGpa)} lies outside the domain's memory ` +
        `(${this.domain.quotaFrames} frames) at pc ${hex(this.cpu.pc)}`,
    );
  }

  /** One delivery attempt; nothing changes unless it succeeds. */
  private deliver(vector: number, error: number, savedPc: number, kind: number): number {
    const v = this.v;
    const cpu = this.cpu;
    if (vector >= v.idtLimit) return this.gp(vector * 8 + 2);
    const gate = (v.idtBase + vector * 8) | 0;
    const handler = this.read32(gate, false);
    if (this.accessFail !== 0) return this.accessFailure();
    const gflags = this.read32((gate + 4) | 0, false);
    if (this.accessFail !== 0) return this.accessFailure();
    if ((gflags & G_PRESENT) === 0) return this.gp(vector * 8 + 2);
    const dpl = (gflags >>> G_DPL_SHIFT) & 3;
    const ring = (gflags >>> G_RING_SHIFT) & 3;
    const vcpl = virtualCpl(cpu.cpl, v.midRing);
    if (kind === KIND_SOFTWARE && vcpl > dpl) return this.gp(vector * 8 + 2);
    if (ring > vcpl) return this.gp(vector * 8 + 2);

    const r = cpu.regs;
    const oldSp = r[SP]!;
    const newSp = ring < vcpl ? v.ksp[ring]! : oldSp;
    const base = (newSp - FRAME_BYTES) | 0;
    const frameUser = ring === 3;
    // translate both ends of the frame for writing before storing anything
    const w = this.walker;
    const ma0 = w.walk(base, ACC_WRITE, frameUser, true);
    if (ma0 < 0) return this.walkFailure(ma0);
    const last = (base + FRAME_BYTES - 1) | 0;
    let ma1 = -1;
    if (((last ^ base) & PAGE_MASK) !== 0) {
      ma1 = w.walk(last & PAGE_MASK, ACC_WRITE, frameUser, true);
      if (ma1 < 0) return this.walkFailure(ma1);
    }
    const effIF = v.vIF || (vcpl === 3 && !this.exactUserFlags);
    const flags = (cpu.flags & COND) | (effIF ? F_IF : 0) | (v.vIOPL << IOPL_SHIFT);
    this.storeFrameWord(base, Frame.VECTOR, vector, ma0, ma1);
    this.storeFrameWord(base, Frame.ERROR, error, ma0, ma1);
    this.storeFrameWord(base, Frame.PC, savedPc, ma0, ma1);
    this.storeFrameWord(base, Frame.CS, vcpl, ma0, ma1);
    this.storeFrameWord(base, Frame.FLAGS, flags, ma0, ma1);
    this.storeFrameWord(base, Frame.SP, oldSp, ma0, ma1);

    r[SP] = base;
    cpu.cpl = realRing(ring);
    if (ring === 1 || ring === 2) v.midRing = ring;
    v.vIF = (gflags & G_TRAP) !== 0 ? effIF : false;
    cpu.pc = handler >>> 0;
    return DELIVERED;
  }

  private gp(error: number): number {
    this.pendVector = V_GP;
    this.pendError = error;
    this.pendAddr = 0;
    return DELIVERY_FAULT;
  }

  private accessFailure(): number {
    return this.walkFailure(this.accessFail);
  }

  private walkFailure(code: number): number {
    if (code === WALK_BAD_GPA) return DELIVERY_BAD_GPA;
    this.pendVector = V_PF;
    this.pendError = this.walker.faultError;
    this.pendAddr = this.walker.faultAddr;
    return DELIVERY_FAULT;
  }

  /**
   * Store one frame word at base + off, given the machine addresses of the frame's pages. (A host
   * write: a frame some engine caches code from is reported, as PhysicalMemory's writes do.)
   */
  private storeFrameWord(base: number, off: number, value: number, ma0: number, ma1: number): void {
    const pageOff = base & 0xfff;
    if (ma1 < 0 && (ma0 & 3) === 0) {
      const ma = ma0 + off;
      if (this.codePage[ma >>> 12] !== 0) this.hv.mem.noteWrite(ma, 4);
      this.m32[ma >>> 2] = value;
      return;
    }
    const va = (base + off) | 0;
    for (let k = 0; k < 4; k++) {
      const b = (va + k) | 0;
      const ma = ((b ^ base) & PAGE_MASK) === 0 ? ma0 + (b & 0xfff) - pageOff : ma1 + (b & 0xfff);
      if (this.codePage[ma >>> 12] !== 0) this.hv.mem.noteWrite(ma, 1);
      this.m8[ma] = value >>> (8 * k);
    }
  }
}
