// The guest's MMU as the trap-and-emulate monitor sees it: translate a guest-virtual address
// through the guest's *own* page tables (virtual CR0/CR3, guest-physical addresses) and then the
// domain's p2m, with the hardware's permission checks and accessed/dirty updates. The shadow
// pager fills shadow entries from it; the monitor uses it for the guest-memory accesses it makes
// on the guest's behalf (IDT gates, trap frames; the emulator's instruction and IRET-frame reads
// go through the shadow first, and come here on a miss: TrapVcpu.readAsCpu).
// Touches the guest's page tables (A/D bits) and nothing else.

import { CR0_PG, CR0_WP, PfErr, Pte } from '../../machine/isa.ts';
import type { PhysicalMemory } from '../../machine/memory.ts';
import { ACC_FETCH, ACC_WRITE, PAGE_MASK } from '../../machine/mmu.ts';
import type { GuestMemory } from '../core/guest-memory.ts';
import type { TrapVcpuState } from './state.ts';

/** Access kinds: the CPU's (machine/mmu.ts). */
export { ACC_FETCH, ACC_READ, ACC_WRITE } from '../../machine/mmu.ts';

/** walk() results besides a machine address (>= 0). */
export const WALK_FAULT = -1;
export const WALK_BAD_GPA = -2;

// isa.ts constants as local numbers (cross-file const enums are property loads under tsx)
const PTE_P: number = Pte.P;
const PTE_W: number = Pte.W;
const PTE_U: number = Pte.U;
const PTE_A: number = Pte.A;
const PTE_D: number = Pte.D;
const PG: number = CR0_PG;
const WP: number = CR0_WP;
const ERR_P: number = PfErr.Present;
const ERR_W: number = PfErr.Write;
const ERR_U: number = PfErr.User;
const ERR_F: number = PfErr.Fetch;

/*
 * Outputs of the last walk live in fields (no allocation per walk): on success `gpa`, `perm`
 * (the AND of both levels' P/W/U bits; W|U with guest paging off) and `dirty` (the guest PTE's D
 * after the walk); on WALK_FAULT the page-fault error code the guest must see (`faultError`, for
 * `faultAddr`); on WALK_BAD_GPA the guest-physical address that no frame of the domain backs
 * (`badGpa`) - a guest table or mapping pointing outside its own memory.
 */
export class GuestWalker {
  gpa = 0;
  perm = 0;
  dirty = false;
  faultError = 0;
  faultAddr = 0;
  badGpa = 0;
  /** guest page-table entries read (for charging the walk) */
  refs = 0;
  private readonly m32: Int32Array;
  private readonly p2m: Int32Array;
  private readonly frames: number;
  private readonly codePage: Uint8Array;

  constructor(
    private readonly mem: PhysicalMemory,
    guest: GuestMemory,
    private readonly v: TrapVcpuState,
  ) {
    this.m32 = mem.i32;
    this.codePage = mem.codePage;
    this.p2m = guest.p2m;
    this.frames = guest.frames;
  }

  /** Machine address of guest-physical gpa, or -1. */
  machineAddress(gpa: number): number {
    const gfn = gpa >>> 12;
    if (gfn >= this.frames) return -1;
    const mfn = this.p2m[gfn]!;
    return mfn < 0 ? -1 : mfn * 4096 + (gpa & 0xfff);
  }

  /**
   * Translate va for an access of kind `acc` at user (virtual CPL 3) or supervisor privilege.
   * commit: set A (and D on a write) in the guest's entries as the hardware's walk does.
   * Returns the machine address, WALK_FAULT or WALK_BAD_GPA.
   */
  walk(va: number, acc: number, user: boolean, commit: boolean): number {
    const v = this.v;
    const m32 = this.m32;
    const write = acc === ACC_WRITE;
    let gpa: number;
    let perm = PTE_W | PTE_U;
    let dirty = true;
    this.refs = 0;
    if ((v.cr0 & PG) === 0) {
      gpa = va >>> 0;
    } else {
      const pdeGpa = ((v.cr3 & PAGE_MASK) >>> 0) + (va >>> 22) * 4;
      const pdeMa = this.machineAddress(pdeGpa);
      if (pdeMa < 0) return this.bad(pdeGpa);
      const pde = m32[pdeMa >>> 2]!;
      this.refs = 1;
      if ((pde & PTE_P) === 0) return this.fault(va, acc, user, false);
      const pteGpa = ((pde & PAGE_MASK) >>> 0) + ((va >>> 12) & 0x3ff) * 4;
      const pteMa = this.machineAddress(pteGpa);
      if (pteMa < 0) return this.bad(pteGpa);
      const pte = m32[pteMa >>> 2]!;
      this.refs = 2;
      if ((pte & PTE_P) === 0) return this.fault(va, acc, user, false);
      perm = pde & pte & (PTE_P | PTE_W | PTE_U);
      if (user && (perm & PTE_U) === 0) return this.fault(va, acc, user, true);
      if (write && (perm & PTE_W) === 0 && (user || (v.cr0 & WP) !== 0)) return this.fault(va, acc, user, true);
      const npte = pte | PTE_A | (write ? PTE_D : 0);
      if (commit) {
        // host writes: a frame some engine caches code from is reported (PhysicalMemory.noteWrite),
        // and the frame is logged dirty when log-dirty is on
        if ((pde & PTE_A) === 0) {
          if (this.codePage[pdeMa >>> 12] !== 0) this.mem.noteWrite(pdeMa, 4);
          m32[pdeMa >>> 2] = pde | PTE_A;
          this.mem.markDirty(pdeMa >>> 12);
        }
        if (npte !== pte) {
          if (this.codePage[pteMa >>> 12] !== 0) this.mem.noteWrite(pteMa, 4);
          m32[pteMa >>> 2] = npte;
          this.mem.markDirty(pteMa >>> 12);
        }
      }
      dirty = ((commit ? npte : pte) & PTE_D) !== 0;
      gpa = ((pte & PAGE_MASK) >>> 0) + (va & 0xfff);
    }
    const ma = this.machineAddress(gpa);
    if (ma < 0) return this.bad(gpa);
    this.gpa = gpa;
    this.perm = perm;
    this.dirty = dirty;
    return ma;
  }

  private fault(va: number, acc: number, user: boolean, present: boolean): number {
    this.faultError = (present ? ERR_P : 0) | (acc === ACC_WRITE ? ERR_W : 0) | (user ? ERR_U : 0) | (acc === ACC_FETCH ? ERR_F : 0);
    this.faultAddr = va >>> 0;
    return WALK_FAULT;
  }

  private bad(gpa: number): number {
    this.badGpa = gpa >>> 0;
    return WALK_BAD_GPA;
  }
}
