// Page ownership and typing for paravirtualized domains (Barham et al. 2003 §3.3.3): per machine
// frame a type (none, L1 page table, L2 page directory, writable), a type count, a pinned flag and
// a general reference count, on top of the core's owner table. A frame changes type only at type
// count 0, so a page-table frame can never be mapped writable by its guest; a table is validated
// when it first gets its type and its entries then hold references on the frames they map.
// Pure bookkeeping over typed arrays plus reads and writes of page-table frames in machine memory.

import type { PhysicalMemory } from '../../machine/memory.ts';
import { HcErr } from '../../hypercalls/errors.ts';
import { HvLayout } from '../../hypercalls/numbers.ts';

/** A frame's current use. */
export const enum PageType {
  NONE = 0,
  /** a page table (level 1) */
  L1 = 1,
  /** a page directory (level 2) */
  L2 = 2,
  /** mapped writable somewhere */
  WRITABLE = 3,
}

export const PAGE_TYPE_NAMES = ['none', 'L1', 'L2', 'writable'] as const;

/**
 * A directory whose validation or release is split across hypercall steps (Xen's PGT_partial):
 * it keeps its L2 type with one type reference (the unfinished operation's own) and
 * `progress` says how far the operation got, so no other type, no writable mapping and no
 * mmu_update of its entries is possible meanwhile.
 */
export const enum Partial {
  NONE = 0,
  /** entries [0, progress) hold their references; the rest are not checked yet */
  VALIDATING = 1,
  /** entries [progress, 1024) still hold their references */
  RELEASING = 2,
  /**
   * the validation found a bad entry: entries [0, progress) still hold their references and give
   * them back, last first; when they have, the pin fails with the error kept in failErr
   */
  FAILING = 3,
}

/**
 * getType or putType stopped at the step's bound on host work with its progress saved in the
 * frame (Partial): the caller continues the hypercall at the guest's next entry, and that entry
 * goes on from where this one stopped. Not an HcErr (those are negative); never returned to a
 * guest.
 */
export const PREEMPTED = 1;

const PARTIAL_NAMES = ['', 'validating', 'releasing', 'failing'] as const;

const PTE_P = 1;
const PTE_W = 2;
const ENTRIES = 1024;
/** page-directory slot of the hypervisor's range */
const HV_PDE: number = HvLayout.PDE;

/** What validation needs to know about the rest of the hypervisor. */
export interface PageTypeHooks {
  /** may domain `dom` map machine frame `frame` (it owns it, or the hypervisor shares it with it)? */
  mayMap(dom: number, frame: number): boolean;
  /**
   * The L1 holding the entry at machine address pteAddr lost its table type: if that entry is a
   * grant mapping `dom` made, unmap it (clear the entry, give the grant its references back) and
   * say so. A grant mapping never outlives its page table's type.
   */
  dropGrantMapping(dom: number, pteAddr: number): boolean;
  /** the page-directory entry the hypervisor installs in slot HvLayout.PDE of dom's directories */
  hypervisorPde(dom: number): number;
}

/**
 * The frame table. Counting rules (as Xen's):
 *  - typeCount[f] counts type references: pins, directory entries naming f as an L1, a vCPU's base
 *    pointer naming f as an L2, and (WRITABLE) writable mappings of f;
 *  - refCount[f] counts every present mapping of f (and grant mappings), so a frame still mapped
 *    anywhere cannot leave its owner;
 *  - getting a table type at count 0 validates the table (taking references for its entries),
 *    dropping the last type reference releases them.
 */
export class PageTypes {
  readonly type: Uint8Array;
  readonly typeCount: Int32Array;
  readonly refCount: Int32Array;
  readonly pinned: Uint8Array;
  /** a writable type was dropped since the last TLB flush: a stale writable translation may exist */
  staleWritable = false;
  /** tables validated (a statistic) */
  validations = 0;
  /** tables released: their entries' references given back when the last type reference went (a statistic) */
  releases = 0;
  /** table types taken at type count 0 (a validation began): a stale writable translation must go */
  typings = 0;
  /** per frame: a validation or release in progress (Partial), and how far it got */
  readonly partial: Uint8Array;
  readonly progress: Uint16Array;
  /** per frame in Partial.FAILING: the HcErr its validation ends with */
  readonly failErr: Int8Array;
  /**
   * Page-table entries checked by validation or released, since creation: the unit a hypercall
   * step's host work is bounded in (HcCtx.preemptCheck; docs/hypercalls.md "Long hypercalls").
   */
  work = 0;

  constructor(
    readonly mem: PhysicalMemory,
    /** the core allocator's owner table (domain id, or negative) */
    readonly owner: Int32Array,
    readonly hooks: PageTypeHooks,
  ) {
    const n = owner.length;
    this.type = new Uint8Array(n);
    this.typeCount = new Int32Array(n);
    this.refCount = new Int32Array(n);
    this.pinned = new Uint8Array(n);
    this.partial = new Uint8Array(n);
    this.progress = new Uint16Array(n);
    this.failErr = new Int8Array(n);
  }

  get frames(): number {
    return this.owner.length;
  }

  /** Entry k of the table in frame f. */
  entry(f: number, k: number): number {
    return this.mem.i32[(f << 10) + k]!;
  }

  /**
   * Take a type reference of `t` on frame f for domain dom. Table types validate the frame when
   * its count goes from 0 to 1. Returns 0 or an HcErr; on error nothing changed. The callers have
   * checked that f is a frame of the machine and, for WRITABLE, that dom may map it; a table must
   * be dom's own, which is checked here.
   *
   * A directory's validation stops once PageTypes.work reaches `workLimit` (after at least one
   * entry) and returns PREEMPTED, its progress kept in the frame (Partial.VALIDATING); the next
   * getType of the same frame as L2 goes on from there, and the one that finishes it gets the
   * type reference the unfinished validation held. Without a limit it runs to the end.
   */
  getType(f: number, t: PageType, dom: number, workLimit = Infinity): number {
    const table = t === PageType.L1 || t === PageType.L2;
    // only frames the domain itself owns can be its page tables: not a page the hypervisor shares
    // with it (its grant table), not another domain's table, however validated that one is
    if (table && this.owner[f] !== dom) return HcErr.EPERM;
    if (this.typeCount[f]! > 0) {
      if (this.type[f] !== t) return HcErr.EBUSY;
      if (this.partial[f] !== Partial.NONE) return this.resume(f, dom, workLimit);
      this.typeCount[f]!++;
      return 0;
    }
    if (table) {
      // The frame has its table type while it is validated, so an entry that maps the frame
      // itself writable (or a table of this one that maps it writable) is refused as EBUSY
      // instead of handing out a writable reference the new type would then overwrite.
      this.typings++;
      this.type[f] = t;
      this.typeCount[f] = 1;
      const r = t === PageType.L1 ? this.validateL1(f, dom) : this.validateL2(f, dom, workLimit);
      return this.validated(f, r);
    }
    this.type[f] = t;
    this.typeCount[f] = 1;
    return 0;
  }

  /** The end of a table validation (result r): the type stays on success, goes on failure. */
  private validated(f: number, r: number): number {
    if (r < 0) {
      this.type[f] = PageType.NONE;
      this.typeCount[f] = 0;
      return r;
    }
    if (r === PREEMPTED) return r;
    this.validations++;
    return 0;
  }

  /** getType(L2) of a frame whose own validation or release is unfinished. */
  private resume(f: number, dom: number, workLimit: number): number {
    const p = this.partial[f];
    if (p === Partial.VALIDATING) return this.validated(f, this.validateL2(f, dom, workLimit));
    if (p === Partial.FAILING) return this.validated(f, this.unwindL2(f, dom, workLimit));
    // a directory being released is on its way to no type: busy until that is done
    return HcErr.EBUSY;
  }

  /**
   * Drop a type reference; the last one of a table releases its entries' references. A
   * directory's release stops at `workLimit` as its validation does (Partial.RELEASING, the
   * directory keeping its type and one type reference meanwhile) and returns PREEMPTED: the
   * caller finishes it with resumeRelease. Otherwise 0.
   */
  putType(f: number, dom: number, workLimit = Infinity): number {
    const c = this.typeCount[f]! - 1;
    if (c < 0 || this.partial[f] !== Partial.NONE) {
      throw new Error(`PageTypes.putType: frame 0x${f.toString(16)} has no type reference of its own (count ${c + 1}, partial ${this.partial[f]})`);
    }
    if (c > 0) {
      this.typeCount[f] = c;
      return 0;
    }
    const t = this.type[f];
    if (t === PageType.L2) return this.releaseL2(f, dom, workLimit);
    this.typeCount[f] = 0;
    if (t === PageType.L1) this.releaseL1(f, dom);
    else if (t === PageType.WRITABLE) this.staleWritable = true;
    this.type[f] = PageType.NONE;
    return 0;
  }

  /** Go on with a directory's unfinished release (nothing if it has none): 0 when done, or PREEMPTED. */
  resumeRelease(f: number, dom: number, workLimit = Infinity): number {
    if (this.partial[f] !== Partial.RELEASING) return 0;
    return this.releaseL2(f, dom, workLimit);
  }

  /**
   * Undo a directory's unfinished validation or finish its unfinished release, whatever the work
   * (the domain is being destroyed): the frame ends with no type.
   */
  abortPartial(f: number, dom: number): void {
    const p = this.partial[f];
    if (p === Partial.NONE) return;
    if (p === Partial.RELEASING) {
      this.releaseL2(f, dom, Infinity);
      return;
    }
    this.partial[f] = Partial.FAILING;
    this.unwindL2(f, dom, Infinity);
    this.type[f] = PageType.NONE;
    this.typeCount[f] = 0;
  }

  /**
   * References for one L1 entry: 0 or an HcErr. A present entry must name a frame the domain may
   * map; a writable one takes a WRITABLE type, which a page-table frame refuses. A frame of
   * another domain is always refused here, grant mappings included: the hypervisor writes those
   * itself (grants.ts), and they never outlive the table's type (releaseL1), so an entry naming a
   * foreign frame in a table being validated is bytes the guest wrote, never a grant.
   */
  getL1Entry(e: number, dom: number): number {
    if ((e & PTE_P) === 0) return 0;
    const f = e >>> 12;
    if (f >= this.frames) return HcErr.EINVAL;
    if (this.owner[f] !== dom && !this.hooks.mayMap(dom, f)) return HcErr.EPERM;
    if ((e & PTE_W) !== 0) {
      const r = this.getType(f, PageType.WRITABLE, dom);
      if (r < 0) return r;
    }
    this.refCount[f]!++;
    return 0;
  }

  /** Drop what getL1Entry took (an entry naming a frame the domain may not map took nothing). */
  putL1Entry(e: number, dom: number): void {
    if ((e & PTE_P) === 0) return;
    const f = e >>> 12;
    if (f >= this.frames || !this.hooks.mayMap(dom, f)) return;
    if ((e & PTE_W) !== 0) this.putType(f, dom);
    this.refCount[f]!--;
  }

  /** References for one L2 entry (slot k): the named frame becomes (or is) an L1 table. */
  getL2Entry(e: number, k: number, dom: number): number {
    if (k === HV_PDE || (e & PTE_P) === 0) return 0;
    const f = e >>> 12;
    if (f >= this.frames) return HcErr.EINVAL;
    const r = this.getType(f, PageType.L1, dom);
    if (r < 0) return r;
    this.refCount[f]!++;
    return 0;
  }

  putL2Entry(e: number, k: number, dom: number): void {
    if (k === HV_PDE || (e & PTE_P) === 0) return;
    const f = e >>> 12;
    if (f >= this.frames) return;
    this.refCount[f]!--;
    this.putType(f, dom);
  }

  private validateL1(f: number, dom: number): number {
    this.work += ENTRIES;
    for (let k = 0; k < ENTRIES; k++) {
      const r = this.getL1Entry(this.entry(f, k), dom);
      if (r < 0) {
        for (let j = 0; j < k; j++) this.putL1Entry(this.entry(f, j), dom);
        return r;
      }
    }
    return 0;
  }

  /**
   * Validate a directory from entry progress[f] on (0 for a new one), stopping after an entry
   * once the work reaches workLimit (Xen's preemptible alloc_l2_table). On a bad entry every
   * entry before it gives its references back (unwindL2, split in the same way).
   */
  private validateL2(f: number, dom: number, workLimit: number): number {
    for (let k = this.progress[f]!; k < ENTRIES; k++) {
      this.work++;
      const r = this.getL2Entry(this.entry(f, k), k, dom);
      if (r < 0) {
        this.partial[f] = Partial.FAILING;
        this.progress[f] = k;
        this.failErr[f] = r;
        return this.unwindL2(f, dom, workLimit);
      }
      if (this.work >= workLimit && k + 1 < ENTRIES) {
        this.partial[f] = Partial.VALIDATING;
        this.progress[f] = k + 1;
        return PREEMPTED;
      }
    }
    this.partial[f] = Partial.NONE;
    this.progress[f] = 0;
    // the hypervisor's slot: whatever the guest left there is replaced
    this.mem.write32((f << 12) + HV_PDE * 4, this.hooks.hypervisorPde(dom));
    return 0;
  }

  /**
   * The table lost its last type reference: its entries give their references back, and its
   * grant mappings are unmapped (Xen's put_page_from_l1e, in builds that tag grant entries with
   * _PAGE_GNTTAB, crashes a domain that implicitly unmaps a grant this way; unmapping keeps the
   * domain and leaves nothing in the frame that could later be revalidated).
   */
  private releaseL1(f: number, dom: number): void {
    const base = f << 12;
    const i32 = this.mem.i32;
    const owner = this.owner;
    const refCount = this.refCount;
    const row = f << 10;
    this.work += ENTRIES;
    this.releases++;
    for (let k = 0; k < ENTRIES; k++) {
      const e = i32[row + k]!;
      if ((e & PTE_P) === 0) continue;
      const g = e >>> 12;
      // (putL1Entry, with the may-map check made once: the domain's own frames first)
      if (owner[g] !== dom && !this.hooks.mayMap(dom, g)) {
        // a frame it may not map: a grant mapping (unmapped now), else nothing was taken
        this.hooks.dropGrantMapping(dom, base + k * 4);
        continue;
      }
      if ((e & PTE_W) !== 0) this.putType(g, dom);
      refCount[g]!--;
    }
  }

  /**
   * A failed validation gives back what entries [0, progress[f]) took, last first, stopping as
   * validateL2 does: the validation's error when done, or PREEMPTED.
   */
  private unwindL2(f: number, dom: number, workLimit: number): number {
    for (let k = this.progress[f]!; k > 0; ) {
      k--;
      this.work++;
      this.putL2Entry(this.entry(f, k), k, dom);
      if (this.work >= workLimit && k > 0) {
        this.progress[f] = k;
        return PREEMPTED;
      }
    }
    this.partial[f] = Partial.NONE;
    this.progress[f] = 0;
    return this.failErr[f]!;
  }

  /** Release a directory's entries from progress[f] on, stopping as validateL2 does; the last entry drops the type. */
  private releaseL2(f: number, dom: number, workLimit: number): number {
    for (let k = this.progress[f]!; k < ENTRIES; k++) {
      this.work++;
      this.putL2Entry(this.entry(f, k), k, dom);
      if (this.work >= workLimit && k + 1 < ENTRIES) {
        this.partial[f] = Partial.RELEASING;
        this.progress[f] = k + 1;
        return PREEMPTED;
      }
    }
    this.partial[f] = Partial.NONE;
    this.progress[f] = 0;
    this.typeCount[f] = 0;
    this.type[f] = PageType.NONE;
    this.releases++;
    return 0;
  }

  /** Whole tables scanned, validated or released: what a hypercall is charged per table (Ev.PvTableScan). */
  get scans(): number {
    return this.validations + this.releases;
  }

  /** Is f currently a page table or directory (of any domain)? */
  isTable(f: number): boolean {
    const t = this.type[f];
    return this.typeCount[f]! > 0 && (t === PageType.L1 || t === PageType.L2);
  }

  /** Forget everything about frame f (it left its owner with no references left). */
  clear(f: number): void {
    this.type[f] = PageType.NONE;
    this.typeCount[f] = 0;
    this.refCount[f] = 0;
    this.pinned[f] = 0;
    this.partial[f] = Partial.NONE;
    this.progress[f] = 0;
  }

  /** A frame's state, for tests and `info`. */
  describe(f: number): { owner: number; type: string; typeCount: number; refCount: number; pinned: boolean } {
    const p = this.partial[f];
    const name = PAGE_TYPE_NAMES[this.typeCount[f]! > 0 ? this.type[f]! : 0]!;
    return {
      owner: this.owner[f]!,
      type: p === Partial.NONE ? name : `${name} (${PARTIAL_NAMES[p]} ${this.progress[f]}/${ENTRIES})`,
      typeCount: this.typeCount[f]!,
      refCount: this.refCount[f]!,
      pinned: this.pinned[f] !== 0,
    };
  }
}
