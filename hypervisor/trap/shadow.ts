// Shadow page tables for trap-and-emulate (KVM's MMU document, the "virtual TLB" form): the real
// CR3 points at a page directory the hypervisor builds, in hypervisor-owned machine frames, from
// the guest's own tables. Entries are filled lazily on #PF exits and dropped exactly when the
// hardware would drop a TLB entry (INVLPG, CR3/CR0 writes), so a guest PTE change without an
// INVLPG stays invisible, as on hardware. Touches its own frames, the guest's A/D bits (through
// GuestWalker) and the real CPU's TLB.

import type { Cpu } from '../../machine/cpu.ts';
import { PfErr, Pte } from '../../machine/isa.ts';
import type { Hypervisor } from '../core/hypervisor.ts';
import type { DomainStats } from '../core/stats.ts';
import { ACC_FETCH, ACC_READ, ACC_WRITE, WALK_BAD_GPA, WALK_FAULT, type GuestWalker } from './guest-mmu.ts';

/** fault() results */
export const SHADOW_HIDDEN = 0;
export const SHADOW_TRUE = 1;
export const SHADOW_BAD_GPA = 2;

/** shadowRights' bits: the shadow entry may be written / used from user mode */
export const SHADOW_W = 1;
export const SHADOW_U = 2;

/**
 * The rights a shadow entry gets from the guest's walk (perm: the walk's combined W and U; dirty:
 * the guest PTE's D bit after the walk): writable only once the guest entry is dirty (so the first
 * write faults and the monitor sets D), user as the guest says. A supervisor write to a read-only
 * page (only reachable with the guest's CR0.WP = 0, else the walk faulted) gets a writable,
 * supervisor-only entry. Both shadow kinds (flush, traced) fill by it.
 */
export function shadowRights(perm: number, dirty: boolean, acc: number, user: boolean): number {
  if (acc === ACC_WRITE && !user && (perm & PTE_W) === 0) return SHADOW_W;
  return ((perm & PTE_W) !== 0 && dirty ? SHADOW_W : 0) | ((perm & PTE_U) !== 0 ? SHADOW_U : 0);
}

const PTE_P: number = Pte.P;
const PTE_W: number = Pte.W;
const PTE_U: number = Pte.U;
const PTE_A: number = Pte.A;
const PTE_D: number = Pte.D;
const ERR_W: number = PfErr.Write;
const ERR_U: number = PfErr.User;
const ERR_F: number = PfErr.Fetch;
const PAGE_MASK = -4096;

/** What the trap-mode monitor (and bt) asks of a shadow MMU: ShadowMmu, or TracedShadowMmu (`--shadow traced`). */
export interface GuestShadow {
  /** machine address of the shadow directory in use: the real CR3 while this vCPU runs */
  readonly root: number;
  readonly tablesInUse: number;
  readonly framesHeld: number;
  /** a #PF exit at va with the real error code: SHADOW_HIDDEN, SHADOW_TRUE or SHADOW_BAD_GPA */
  fault(va: number, realError: number): number;
  /** the guest's INVLPG */
  invlpg(va: number): void;
  /** the guest wrote CR0 (and the monitor's own resets): drop every shadow entry */
  flush(): void;
  /** the guest loaded CR3 (the virtual CR3 holds it): afterwards the real CR3 must be `root` */
  loadCr3(): void;
  /** the shadow PTE for va in the shadow in use (0 if none) */
  entry(va: number): number;
  destroy(): void;
}

/** How the shadow follows the guest's address-space switches (`--shadow`). */
export type ShadowKind = 'flush' | 'traced';
export const SHADOW_KINDS: readonly ShadowKind[] = ['flush', 'traced'];

/** Shadow tables each shadow holds from its creation (see "Memory" below). */
export const RESERVED_TABLES = 4;

/*
 * Shape. One shadow directory per vCPU (its frame is the real CR3). Directory slot i, once any
 * address in [i << 22, (i + 1) << 22) has been filled, points at a shadow page table with P|W|U|A:
 * all rights are decided in the shadow PTE, which carries the AND of the guest's two levels.
 *
 * Rights of a shadow PTE, from the guest's walk (GuestWalker: perm, dirty):
 *  - U as the guest says;
 *  - W only if the guest allows writing *and* the guest PTE is already dirty, so the first write
 *    to a clean page faults (a hidden fault) and the monitor sets D in the guest PTE, as the
 *    hardware's walk would have;
 *  - the guest running with CR0.WP = 0 (supervisor writes ignore read-only pages) is emulated with
 *    the real WP kept at 1 (KVM's approach): a supervisor write to a read-only page is mapped
 *    writable but *not* user, so a later user access faults and refills the entry read-only.
 *
 * Why no write-protection of the guest's tables (KVM's "sync" shadows): XL32's TLB, like x86's,
 * may keep a translation until INVLPG or a CR3/CR0 write, so the guest must do one of those before
 * relying on a changed entry - and those all trap here. The shadow therefore behaves as a TLB of
 * unbounded size: it never shows a change the hardware was obliged to show, and it may keep an
 * entry the hardware's 256-entry TLB would have evicted (which the architecture allows).
 *
 * Guest paging off (virtual CR0.PG = 0): the walk is the identity on guest-physical addresses, so
 * the shadow maps guest-physical pages through the p2m, user and writable.
 *
 * Memory. A guest decides how many 4 MiB regions it touches, so it decides how many shadow tables
 * it needs (up to 1024); the machine may run out of frames first. Each shadow takes its directory
 * and RESERVED_TABLES spare tables when it is created, so it never depends on frames another
 * domain may have taken: when no frame is free it recycles its own (drops every entry, as a CR3
 * write would, which the TLB semantics allow at any time) instead of failing. RESERVED_TABLES
 * covers every directory slot one instruction can need at once (an instruction and its extension
 * word, a data access, each possibly crossing into the next 4 MiB), so the guest always makes
 * progress. A guest touching many regions thus only slows itself down.
 */
export class ShadowMmu implements GuestShadow {
  /** machine address of the shadow page directory: the real CR3 while this vCPU runs */
  readonly root: number;
  private readonly rootFrame: number;
  /** per directory slot: machine frame of its shadow page table, or -1 */
  private readonly tables = new Int32Array(1024).fill(-1);
  /** directory slots in use, in the order they were filled */
  private readonly usedSlots = new Int32Array(1024);
  private usedCount = 0;
  /** zeroed shadow page-table frames kept for reuse */
  private readonly pool: number[] = [];
  private readonly m32: Int32Array;

  constructor(
    private readonly hv: Hypervisor,
    private readonly cpu: Cpu,
    private readonly walker: GuestWalker,
    private readonly stats: DomainStats,
  ) {
    this.m32 = hv.mem.i32;
    this.rootFrame = hv.allocHypervisorFrame();
    this.root = this.rootFrame * 4096;
    try {
      for (let k = 0; k < RESERVED_TABLES; k++) this.pool.push(hv.allocHypervisorFrame());
    } catch (e) {
      this.destroy();
      throw e;
    }
  }

  /**
   * A #PF exit at va with the real error code: a hidden fault (the shadow lacked what the guest's
   * tables give: fill it), a true fault (the guest's own tables say no: the walker holds the
   * guest-visible error code), or a guest table/mapping that points outside the domain's memory.
   */
  fault(va: number, realError: number): number {
    const user = (realError & ERR_U) !== 0;
    const acc = (realError & ERR_F) !== 0 ? ACC_FETCH : (realError & ERR_W) !== 0 ? ACC_WRITE : ACC_READ;
    const w = this.walker;
    const ma = w.walk(va, acc, user, true);
    if (ma === WALK_BAD_GPA) return SHADOW_BAD_GPA;
    if (ma === WALK_FAULT) {
      this.stats.trueFaults++;
      return SHADOW_TRUE;
    }
    const rights = shadowRights(w.perm, w.dirty, acc, user);
    this.fill(va, ma, (rights & SHADOW_W) !== 0, (rights & SHADOW_U) !== 0);
    this.stats.hiddenFaults++;
    this.stats.shadowFills++;
    return SHADOW_HIDDEN;
  }

  /** The guest's INVLPG: drop the shadow entry for va (and the real TLB's). */
  invlpg(va: number): void {
    const t = this.tables[va >>> 22]!;
    if (t >= 0) this.m32[t * 1024 + ((va >>> 12) & 0x3ff)] = 0;
    this.cpu.mmu.invlpg(va);
    this.stats.shadowInvlpgs++;
  }

  /** The guest loaded CR3: one shadow for every address space, so it starts afresh. */
  loadCr3(): void {
    this.flush();
  }

  /** The guest wrote CR3 or CR0: drop every shadow entry (and the real TLB). */
  flush(): void {
    this.dropAll();
    this.stats.shadowFlushes++;
  }

  /** Every shadow table back to the pool, zeroed; the directory empty; the real TLB flushed. */
  private dropAll(): void {
    const m32 = this.m32;
    const rootWord = this.root >>> 2;
    for (let k = 0; k < this.usedCount; k++) {
      const slot = this.usedSlots[k]!;
      const t = this.tables[slot]!;
      m32.fill(0, t * 1024, t * 1024 + 1024);
      this.pool.push(t);
      this.tables[slot] = -1;
      m32[rootWord + slot] = 0;
    }
    this.usedCount = 0;
    this.cpu.mmu.flushTlb();
  }

  /** Shadow page tables in use now. */
  get tablesInUse(): number {
    return this.usedCount;
  }

  /** Machine frames this shadow holds: its directory, the tables in use and the zeroed spares. */
  get framesHeld(): number {
    return 1 + this.usedCount + this.pool.length;
  }

  /** The shadow PTE for va (0 if none), for tests and `info`. */
  entry(va: number): number {
    const t = this.tables[va >>> 22]!;
    return t < 0 ? 0 : this.m32[t * 1024 + ((va >>> 12) & 0x3ff)]!;
  }

  /** Give every frame back to the hypervisor. */
  destroy(): void {
    for (let k = 0; k < this.usedCount; k++) this.hv.releaseHypervisorFrame(this.tables[this.usedSlots[k]!]!);
    for (const f of this.pool) this.hv.releaseHypervisorFrame(f);
    this.hv.releaseHypervisorFrame(this.rootFrame);
    this.usedCount = 0;
    this.pool.length = 0;
    this.tables.fill(-1);
  }

  private fill(va: number, ma: number, writable: boolean, user: boolean): void {
    const m32 = this.m32;
    const slot = va >>> 22;
    let t = this.tables[slot]!;
    if (t < 0) {
      if (this.pool.length === 0) {
        if (this.hv.frames.freeFrames > 0) this.pool.push(this.hv.allocHypervisorFrame());
        else {
          // the machine is out of frames: recycle this shadow's own tables (at least RESERVED_TABLES)
          this.dropAll();
          this.stats.shadowRecycles++;
        }
      }
      t = this.pool.pop()!;
      this.tables[slot] = t;
      this.usedSlots[this.usedCount++] = slot;
      m32[(this.root >>> 2) + slot] = t * 4096 + (PTE_P | PTE_W | PTE_U | PTE_A);
      this.stats.shadowTables++;
    }
    const idx = t * 1024 + ((va >>> 12) & 0x3ff);
    m32[idx] = (ma & PAGE_MASK) | PTE_P | PTE_A | (writable ? PTE_W | PTE_D : 0) | (user ? PTE_U : 0);
    // No INVLPG of va, even where an entry is replaced: a hidden fault left the real TLB without
    // the tag the access needed, so its retry walks this entry and the walk's fill rewrites the
    // page's TLB entry (frame and every tag) in its own slot, as the bare machine's walk does; an
    // INVLPG would also drop the instruction TLB and move the entry to another way, which the bare
    // machine does not (trap-shadow.test.ts "a refilled shadow entry leaves the TLBs as ...")
  }
}
