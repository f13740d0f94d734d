// The XL32 MMU, one per CPU (the Cpu owns it: `cpu.mmu`): two-level paging with the walk's
// accessed/dirty updates, the set-associative TLB and the one-entry instruction TLB in front of it,
// VPID tags, the second stage (EPT) in non-root mode, INVLPG and flushes, and log-dirty write
// protection at the fill. Touches only its own state, the physical memory it is given and the
// narrow part of its CPU named by MmuHost. Semantics: docs/isa.md ("Memory and paging", "Hooks for
// a hypervisor"); the TLB's design: docs/engine.md ("The TLB").

import { Ev } from './ledger.ts';
import { CR0_PG, CR0_WP, PfErr, Pte } from './isa.ts';
import type { CostProfile } from './costs.ts';
import type { PhysicalMemory } from './memory.ts';
import { EptQual, type Vmcs } from './vmx.ts';

/*
 * Why the TLB's state is public typed arrays and not behind calls: the CPU's fast loop and the
 * translator's compiled code (machine/cpu.ts runFast, machine/translator.ts) check the TLB inline
 * on every load and store - one tlbFind over a set's tags, then an add - and call into the MMU
 * only on a miss (Cpu.refill -> walk). A method call per access would cost more than the access.
 * So this file owns every *write* to the TLB (fill, flush, INVLPG, the VPID tag, log-dirty's
 * dropWriteTags) and the CPU's hot paths only read the arrays, plus the instruction TLB (icV/icA/
 * icUser), which the fast loop keeps in locals and writes back when it leaves.
 *
 * The TLB (the profile's tlbEntries in sets of tlbWays, set = virtual page number mod sets,
 * round-robin replacement advanced by fills only; docs/engine.md) holds, per entry, a tag for
 * each of {supervisor, user} x {read, write} and the host-physical offset of the page. A tag is
 * the page's virtual base and is set only if that access is allowed *and* needs no page-table
 * update, so the fast path is one compare: a first write to a clean page misses, walks and sets
 * D. Tags are compared against `va & 0xfffff003` (word) / `0xfffff001` (halfword) /
 * `0xfffff000` (byte), so a misaligned access never matches and goes to the slow path. Pages
 * outside installed memory are never entered (open bus is handled by the slow path).
 *
 * VPID (VT-x; AMD's ASID): every entry belongs to a tag (`tlbOwner`: the VPID it was filled under,
 * 0 for root mode and untagged guests), and a lookup may only hit an entry of the current tag.
 * Rather than an extra compare in every lookup, the arrays above hold only the current tag's
 * entries: another tag's are *hidden* (their tags kept in tlbHidR/tlbHidW, the lookup arrays
 * INVALID there) and change places when the tag changes (setTag: one pass over the entries, at
 * a VM entry of another guest or a world switch, never per access). The sets and their
 * round-robin victims are shared by every tag, so one guest's fills evict another's entries as
 * on a tagged TLB. Flushes, INVLPG and fills act on the current tag's entries only.
 *
 * Instruction fetch goes through a one-entry instruction TLB (icV/icA), tagged with the privilege
 * it was filled at. It is refilled from the TLB (or a walk) when pc leaves its page and dropped by
 * TLB flushes, INVLPG of its page, and mode switches: like an x86 ITLB, it may keep a translation
 * the data TLB has evicted. Every engine uses it identically, so walks (and their cycles) agree.
 *
 * A failed translation returns -1 and reports to the CPU (MmuHost): a page fault to raise, or an
 * EPT violation exit to take. The CPU decides what the failure becomes (a fault delivered, a
 * double fault, an exit) - the MMU knows nothing of the IDT.
 */

/** Access kinds of a translation: what the walk checks and what a fault's error code says. */
export const ACC_READ = 0;
export const ACC_WRITE = 1;
export const ACC_FETCH = 2;

/** A tag no access can match: `va & 0xfffff003` never has bit 2 set. */
export const INVALID = 4;
/** 0xfffff000 as an int32 */
export const PAGE_MASK = -4096;

// This file's own copies of the constants above and the imported ones. An exported or imported
// binding is a module cell: every use on the walk is a load and a hole check (V8's optimized walk
// had 14 such checks with the exported names, 3 with these copies). Cross-file const enums are
// property loads under per-file transpilers, hence the ledger kinds and PTE bits as numbers too.
const READ: number = ACC_READ;
const WRITE: number = ACC_WRITE;
const FETCH: number = ACC_FETCH;
const NO_TAG: number = INVALID;
const PAGE: number = PAGE_MASK;
const PG: number = CR0_PG;
const WP: number = CR0_WP;
const EV_TLB_WALK: number = Ev.TlbWalk;
const EV_EPT_WALK: number = Ev.EptWalk;
const PTE_P: number = Pte.P;
const PTE_W: number = Pte.W;
const PTE_U: number = Pte.U;
const PTE_A: number = Pte.A;
const PTE_D: number = Pte.D;

/**
 * The entry among the `ways` entries from e of tags t (one privilege's read or write tags) that
 * holds tag, or -1. The whole hit check: no replacement state is touched on a hit.
 */
export function tlbFind(t: Int32Array, e: number, ways: number, tag: number): number {
  const end = e + ways;
  do {
    if (t[e] === tag) return e;
  } while (++e < end);
  return -1;
}

/** tlbFind for this file's own use (see READ above) */
const find = tlbFind;

/** A flush clears entry by entry when fills took at most this many entries since the last one, else the whole arrays. */
const SPARSE_FLUSH_MAX = 32;

/** The TLB geometry of a profile, checked: entries and ways powers of two, ways <= entries, ways <= 256. */
export function tlbGeometry(p: CostProfile): { entries: number; ways: number } {
  const { tlbEntries: entries, tlbWays: ways } = p;
  const pow2 = (x: number): boolean => Number.isInteger(x) && x > 0 && (x & (x - 1)) === 0;
  if (!pow2(entries) || !pow2(ways) || ways > entries || ways > 256) {
    throw new Error(`profile ${p.name}: TLB geometry ${entries} entries x ${ways} ways (both powers of two, ways <= entries and <= 256)`);
  }
  return { entries, ways };
}

/** What the MMU reads of its CPU and tells it (machine/cpu.ts's Cpu is the one implementation). */
export interface MmuHost {
  /** paging on (CR0.PG) and supervisor write protection (CR0.WP) */
  readonly cr0: number;
  /** (guest-)physical address of the page directory */
  readonly cr3: number;
  /** in non-root mode the guest-physical addresses go through the VMCS's second stage */
  readonly nonRoot: boolean;
  readonly vmcs: Vmcs | null;
  /** counters: tlbMisses (walks that commit), tlbFlushes, invlpgs */
  readonly stats: { tlbMisses: number; tlbFlushes: number; invlpgs: number };
  /** charge n events of ledger kind ev (the walk's page-table and EPT references) */
  charge(ev: number, n: number): void;
  /** a committed translation failed with a page fault: error code (PfErr) and the address for CR2 */
  pendPageFault(error: number, addr: number): void;
  /** a committed translation failed in the second stage: the EPT violation exit's information */
  pendEptViolation(guestPhys: number, guestLinear: number, qualification: number): void;
  /** the walk wrote an accessed/dirty bit into the word at host-physical pa (code caches may hold that frame) */
  tablesWritten(pa: number): void;
}

export class Mmu {
  // --- TLB: tags [0, N) supervisor, [N, 2N) user; tlbAdd = host-physical page - virtual page (int32 wrap) ---
  // entry e = set * ways + way; set = virtual page number & setMask
  /** entries (sets x ways) */
  readonly tlbEntries: number;
  readonly tlbWays: number;
  /** log2(ways): a set's first entry is set << wayShift */
  readonly wayShift: number;
  /** sets - 1 */
  readonly setMask: number;
  /** read tags, supervisor then user (2 x entries) */
  readonly tlbR: Int32Array;
  /** write tags, supervisor then user (2 x entries) */
  readonly tlbW: Int32Array;
  /** views of tlbR / tlbW by privilege: what the hot paths search */
  readonly tlbRS: Int32Array;
  readonly tlbRU: Int32Array;
  readonly tlbWS: Int32Array;
  readonly tlbWU: Int32Array;
  /** per entry: host-physical page - virtual page (int32 wrap), so pa = va + tlbAdd[e] */
  readonly tlbAdd: Int32Array;
  /** per set, the way the next fill replaces (round robin, advanced by fills only) */
  private readonly tlbNext: Uint8Array;
  /**
   * The entries fills have taken since the last flush, in order (`filledCount` of them; more
   * than the TLB holds: `filledCount` > tlbEntries, every entry may hold a tag). A flush clears
   * just these when they are few: a VM exit and entry flush an untagged TLB each time, and the
   * guest refills a handful of entries in between (host time only; the TLB's contents after a
   * flush are the same either way).
   */
  private readonly filled: Int32Array;
  private filledCount = 0;
  /** instruction TLB: virtual page (or INVALID), its add, and the privilege it was filled at */
  icV = NO_TAG;
  icA = 0;
  icUser = false;
  /** the tag whose entries the lookup arrays hold (0: root mode's, or a guest's without VPID) */
  private tlbVpid = 0;
  /** per entry: the tag (VPID) it was filled under; 0 while VPID is never used */
  private readonly tlbOwner: Int32Array;
  /** the read and write tags of entries hidden because they belong to another tag than tlbVpid (INVALID elsewhere) */
  private readonly tlbHidR: Int32Array;
  private readonly tlbHidW: Int32Array;
  /** some entry is (or may be) hidden: a flush then keeps the round-robin victims (the other tags' entries stay in their ways) */
  private hiddenAny = false;
  /** writable bit of the last second-stage translation */
  private eptWritable = true;

  /**
   * Log-dirty write protection (hypervisor/core/log-dirty.ts), per machine frame: 1 = a store to
   * the frame must fault to the hypervisor first. A TLB fill never makes a protected frame's page
   * writable; the first write walk to it calls onLogDirtyFault (the hypervisor marks the frame
   * dirty in mem.dirtyLog and charges the fault) and unprotects it, so later stores run at full
   * speed until the hypervisor cleans the log (protects the frame again, dropWriteTags()).
   * null: log-dirty is off on this machine (the bare machine: always).
   */
  logDirtyProtect: Uint8Array | null = null;
  /** the hypervisor's handler of a log-dirty write fault on machine frame `frame` (charges its cost) */
  onLogDirtyFault: ((frame: number) => void) | null = null;

  constructor(
    readonly host: MmuHost,
    readonly mem: PhysicalMemory,
    profile: CostProfile,
  ) {
    const { entries, ways } = tlbGeometry(profile);
    this.tlbEntries = entries;
    this.tlbWays = ways;
    this.wayShift = Math.log2(ways);
    this.setMask = entries / ways - 1;
    this.tlbR = new Int32Array(2 * entries).fill(NO_TAG);
    this.tlbW = new Int32Array(2 * entries).fill(NO_TAG);
    this.tlbRS = this.tlbR.subarray(0, entries);
    this.tlbRU = this.tlbR.subarray(entries);
    this.tlbWS = this.tlbW.subarray(0, entries);
    this.tlbWU = this.tlbW.subarray(entries);
    this.tlbAdd = new Int32Array(entries);
    this.tlbNext = new Uint8Array(entries / ways);
    this.filled = new Int32Array(entries);
    this.tlbOwner = new Int32Array(entries);
    this.tlbHidR = new Int32Array(2 * entries).fill(NO_TAG);
    this.tlbHidW = new Int32Array(2 * entries).fill(NO_TAG);
  }

  // ========================================================================== flushes and tags

  /**
   * The TLB's entries with the machine frames they translate to (-1: an empty way), for a domain
   * moved to another machine (hypervisor/save/pv-domain.ts): its frames are renamed there and the
   * entries laid in again by loadTlb, so the moved vCPU misses exactly where it would have.
   */
  tlbSnapshot(): TlbSnapshot {
    const n = this.tlbEntries;
    const frames = new Int32Array(n);
    for (let s = 0; s < n; s++) frames[s] = this.tlbR[s] === NO_TAG ? -1 : ((this.tlbR[s]! + this.tlbAdd[s]!) >>> 12);
    return { r: this.tlbR.slice(), w: this.tlbW.slice(), frames, next: this.tlbNext.slice() };
  }

  /** Lay a snapshot's entries into the TLB (same geometry), each entry's frame as `frames` says; the instruction TLB starts empty. */
  loadTlb(t: TlbSnapshot): void {
    const n = this.tlbEntries;
    if (t.r.length !== 2 * n || t.frames.length !== n || t.next.length !== this.tlbNext.length) throw new RangeError('loadTlb: another TLB geometry');
    this.tlbR.set(t.r);
    this.tlbW.set(t.w);
    this.tlbNext.set(t.next);
    this.filledCount = n + 1; // any entry may hold a tag: the next flush clears them all
    // (a moved pv domain's entries, root mode's tag; nothing hidden)
    this.tlbOwner.fill(0);
    this.tlbHidR.fill(NO_TAG);
    this.tlbHidW.fill(NO_TAG);
    this.hiddenAny = false;
    this.tlbVpid = 0;
    for (let s = 0; s < n; s++) {
      if (t.frames[s]! < 0) {
        this.tlbR[s] = this.tlbR[n + s] = this.tlbW[s] = this.tlbW[n + s] = NO_TAG;
        this.tlbAdd[s] = 0;
      } else this.tlbAdd[s] = (t.frames[s]! * 4096 - this.tlbR[s]!) | 0;
    }
    this.icV = NO_TAG;
  }

  /**
   * Drop every TLB entry of the current tag and the instruction TLB (a CR3 or CR0 write, a
   * monitor's flush on the guest's behalf: INVVPID's single-context flush). Other tags' entries
   * stay; without VPID every entry is the current tag's.
   */
  flushTlb(): void {
    const count = this.filledCount;
    const keepNext = this.hiddenAny; // other tags' hidden entries share the sets' replacement state
    if (count > SPARSE_FLUSH_MAX) {
      this.tlbR.fill(NO_TAG);
      this.tlbW.fill(NO_TAG);
      if (!keepNext) this.tlbNext.fill(0);
    } else if (count > 0) {
      const n = this.tlbEntries;
      const r = this.tlbR;
      const w = this.tlbW;
      const next = this.tlbNext;
      const filled = this.filled;
      const shift = this.wayShift;
      for (let k = 0; k < count; k++) {
        const e = filled[k]!;
        r[e] = NO_TAG;
        r[n + e] = NO_TAG;
        w[e] = NO_TAG;
        w[n + e] = NO_TAG;
        if (!keepNext) next[e >>> shift] = 0;
      }
    }
    this.filledCount = 0;
    this.icV = NO_TAG;
    this.host.stats.tlbFlushes++;
  }

  /** Drop every entry of every tag (a CPU reset, a restored state). */
  flushAllTags(): void {
    if (this.hiddenAny) {
      this.tlbHidR.fill(NO_TAG);
      this.tlbHidW.fill(NO_TAG);
      this.hiddenAny = false;
    }
    this.tlbOwner.fill(0);
    this.tlbVpid = 0;
    this.flushTlb();
  }

  /**
   * The TLB at a world switch (another vCPU's state loaded): root mode's and untagged entries
   * are flushed, as the CR3 load of the switch does; a tagged guest's stay, hidden under its tag.
   */
  worldSwitchTlb(): void {
    this.setTag(0);
    this.flushTlb();
  }

  /**
   * Make `tag` the current one: the current tag's entries are hidden, `tag`'s come back. One pass
   * over the entries, only when the tag changes (a VPID CPU's VM entry of another guest, a world
   * switch, root mode's first fill after a tagged guest's exit).
   */
  setTag(tag: number): void {
    const old = this.tlbVpid;
    if (tag === old) return;
    const n = this.tlbEntries;
    const own = this.tlbOwner;
    const r = this.tlbR;
    const w = this.tlbW;
    const hr = this.tlbHidR;
    const hw = this.tlbHidW;
    for (let e = 0; e < n; e++) {
      const o = own[e]!;
      if (o === old) {
        if (r[e] !== NO_TAG || r[n + e] !== NO_TAG) {
          hr[e] = r[e]!;
          hr[n + e] = r[n + e]!;
          hw[e] = w[e]!;
          hw[n + e] = w[n + e]!;
          r[e] = r[n + e] = w[e] = w[n + e] = NO_TAG;
          this.hiddenAny = true;
        }
      } else if (o === tag) {
        r[e] = hr[e]!;
        r[n + e] = hr[n + e]!;
        w[e] = hw[e]!;
        w[n + e] = hw[n + e]!;
        hr[e] = hr[n + e] = hw[e] = hw[n + e] = NO_TAG;
      }
    }
    this.tlbVpid = tag;
    this.icV = NO_TAG;
    // entries came back that no fill since the last flush recorded: the next flush clears them all
    this.filledCount = n + 1;
  }

  /** Drop the TLB's write permissions (read entries stay), every tag's: stores walk again (log-dirty's clean). */
  dropWriteTags(): void {
    this.tlbW.fill(NO_TAG);
    if (this.hiddenAny) this.tlbHidW.fill(NO_TAG);
  }

  /** Drop the TLB entry for the page holding va (and the instruction TLB if it holds that page). */
  invlpg(va: number): void {
    const page = va & PAGE;
    const e = find(this.tlbRS, ((va >>> 12) & this.setMask) << this.wayShift, this.tlbWays, page);
    if (e >= 0) {
      const n = this.tlbEntries;
      this.tlbR[e] = NO_TAG;
      this.tlbR[n + e] = NO_TAG;
      this.tlbW[e] = NO_TAG;
      this.tlbW[n + e] = NO_TAG;
    }
    if (this.icV === page) this.icV = NO_TAG;
    this.host.stats.invlpgs++;
  }

  /**
   * The TLB at a VM entry of a guest tagged `vpid` (0: untagged): a tagged guest finds the
   * translations it left (a VPID CPU), whatever ran in between; an untagged one starts from an
   * empty TLB.
   */
  vmEntryTlb(vpid: number): void {
    this.setTag(vpid);
    if (vpid === 0) this.flushTlb();
    else this.icV = NO_TAG;
  }

  /**
   * The TLB at a VM exit: flushed, unless its entries are a tagged guest's (then they stay for
   * the guest's next entry, and the first root-mode fill hides them: see walk()). A monitor that
   * takes the CPU back itself (an exit it makes) calls this as the CPU's own exits do.
   */
  vmExitTlb(): void {
    if (this.tlbVpid === 0) this.flushTlb();
    else this.icV = NO_TAG;
  }

  // =============================================================================== translation

  /** Translate through the TLB, walking on a miss. Host-physical address, or -1 (the host told). */
  xlate(va: number, acc: number, user: boolean): number {
    const tags = acc === WRITE ? (user ? this.tlbWU : this.tlbWS) : user ? this.tlbRU : this.tlbRS;
    const e = find(tags, ((va >>> 12) & this.setMask) << this.wayShift, this.tlbWays, va & PAGE);
    if (e >= 0) return (va + this.tlbAdd[e]!) | 0;
    return this.walk(va, acc, user, true);
  }

  /**
   * Translate an aligned pc for an instruction fetch (xlate), and load the instruction TLB with
   * its page when the TLB holds it (a page outside memory is never in the TLB). Host-physical
   * address, or -1 (the host told).
   */
  xlateFetch(pc: number, user: boolean): number {
    const pa = this.xlate(pc, FETCH, user);
    if (pa < 0) return -1;
    const e = find(user ? this.tlbRU : this.tlbRS, ((pc >>> 12) & this.setMask) << this.wayShift, this.tlbWays, pc & PAGE);
    if (e >= 0) {
      this.icV = pc & PAGE;
      this.icA = this.tlbAdd[e]!;
      this.icUser = user;
      this.mem.codePage[pa >>> 12] = 1;
    }
    return pa;
  }

  /**
   * Translate a virtual address as the current mode would (guest paging, then the second stage
   * in non-root mode), looking only: no fault, no A/D update, no TLB fill, no cycles. The page
   * tables are read as they are now (the TLB is not consulted). Host-physical address, or -1.
   */
  translate(va: number, write = false, user = false): number {
    const pa = this.walk(va | 0, write ? WRITE : READ, user, false);
    return pa >= 0 && pa < 0x1_0000_0000 ? pa : -1;
  }

  /**
   * The page walk. commit: charge it, set A/D, fill the TLB, report faults to the host; without
   * commit it only looks (translate). Returns the host-physical address or -1.
   */
  walk(va: number, acc: number, user: boolean, commit: boolean): number {
    const host = this.host;
    const write = acc === WRITE;
    const mem32 = this.mem.i32;
    const size = this.mem.size;
    // (nothing a walk calls changes these: read once)
    const cr0 = host.cr0;
    const nonRoot = host.nonRoot;
    let gpa: number;
    let perm = PTE_W | PTE_U;
    let dirty = true;
    if (commit) {
      host.stats.tlbMisses++;
      // the TLB shows a tagged guest's entries and root mode fills one: root mode's tag first
      if (this.tlbVpid !== 0 && !nonRoot) this.setTag(0);
    }
    if ((cr0 & PG) === 0) {
      gpa = va >>> 0;
    } else {
      // directory entry
      const pdeGpa = ((host.cr3 & PAGE) >>> 0) + (va >>> 22) * 4;
      if (commit) host.charge(EV_TLB_WALK, 1);
      const pdeHpa = nonRoot ? this.ept(pdeGpa, READ, va, false, commit) : pdeGpa;
      if (pdeHpa < 0) return -1;
      const pdeEptW = this.eptWritable;
      const pde = pdeHpa < size ? mem32[pdeHpa >>> 2]! : -1;
      if ((pde & PTE_P) === 0) return this.pageFault(va, acc, user, false, commit);
      // table entry
      const pteGpa = ((pde & PAGE) >>> 0) + ((va >>> 12) & 0x3ff) * 4;
      if (commit) host.charge(EV_TLB_WALK, 1);
      const pteHpa = nonRoot ? this.ept(pteGpa, READ, va, false, commit) : pteGpa;
      if (pteHpa < 0) return -1;
      const pteEptW = this.eptWritable;
      const pte = pteHpa < size ? mem32[pteHpa >>> 2]! : -1;
      if ((pte & PTE_P) === 0) return this.pageFault(va, acc, user, false, commit);
      perm = pde & pte;
      if (user && (perm & PTE_U) === 0) return this.pageFault(va, acc, user, true, commit);
      if (write && (perm & PTE_W) === 0 && (user || (cr0 & WP) !== 0)) {
        return this.pageFault(va, acc, user, true, commit);
      }
      if (commit) {
        // accessed and dirty bits (writes to the guest's tables go through the second stage)
        // (the second-stage translation of each entry was done by the read above; the update
        // needs it to be writable)
        // (log-dirty: the walker's own update of a table page marks it dirty; no fault is charged)
        if ((pde & PTE_A) === 0) {
          if (!pdeEptW) return this.eptViolation(pdeGpa, WRITE, va, false, true, false);
          if (pdeHpa < size) {
            mem32[pdeHpa >>> 2] = pde | PTE_A;
            if (this.logDirtyProtect !== null) this.mem.markDirty(pdeHpa >>> 12);
            host.tablesWritten(pdeHpa);
          }
        }
        const npte = pte | PTE_A | (write ? PTE_D : 0);
        if (npte !== pte) {
          if (!pteEptW) return this.eptViolation(pteGpa, WRITE, va, false, true, false);
          if (pteHpa < size) {
            mem32[pteHpa >>> 2] = npte;
            if (this.logDirtyProtect !== null) this.mem.markDirty(pteHpa >>> 12);
            host.tablesWritten(pteHpa);
          }
        }
        dirty = (npte & PTE_D) !== 0;
      }
      gpa = ((pte & PAGE) >>> 0) + (va & 0xfff);
    }
    let hpa = gpa;
    let eptW = true;
    if (nonRoot) {
      hpa = this.ept(gpa, acc, va, true, commit);
      if (hpa < 0) return -1;
      eptW = this.eptWritable;
    }
    if (commit && hpa < size) this.fill(va, hpa, perm, dirty, eptW, write, (cr0 & WP) !== 0);
    return hpa;
  }

  /**
   * Enter a committed walk's result: the page's entry if va's set holds it (a write to a page
   * cached for reads), else the set's round-robin victim - no page is ever in two ways. A tag is
   * set only for an access that needs no page-table update (a write tag only once D is set), and
   * no write tag for a log-dirty-protected frame (a write walk to one takes the log-dirty fault).
   */
  private fill(va: number, hpa: number, perm: number, dirty: boolean, eptW: boolean, write: boolean, wp: boolean): void {
    const page = va & PAGE;
    const n = this.tlbEntries;
    const set = (va >>> 12) & this.setMask;
    let s = find(this.tlbRS, set << this.wayShift, this.tlbWays, page);
    if (s < 0) {
      const way = this.tlbNext[set]!;
      this.tlbNext[set] = (way + 1) & (this.tlbWays - 1);
      s = (set << this.wayShift) + way;
      const k = this.filledCount;
      if (k < n) this.filled[k] = s;
      if (k <= n) this.filledCount = k + 1;
      if (this.tlbOwner[s] !== this.tlbVpid) {
        // the victim is another tag's (hidden) entry: evicted
        this.tlbOwner[s] = this.tlbVpid;
        this.tlbHidR[s] = this.tlbHidR[n + s] = this.tlbHidW[s] = this.tlbHidW[n + s] = NO_TAG;
      }
    }
    this.tlbAdd[s] = (hpa - (va & 0xfff) - page) | 0;
    this.tlbR[s] = page;
    this.tlbR[n + s] = (perm & PTE_U) !== 0 ? page : NO_TAG;
    const ld = this.logDirtyProtect;
    if (ld !== null && ld[hpa >>> 12] !== 0) {
      if (write) this.logDirtyFault(hpa >>> 12);
      else eptW = false;
    }
    this.tlbW[s] = eptW && dirty && ((perm & PTE_W) !== 0 || !wp) ? page : NO_TAG;
    this.tlbW[n + s] = eptW && dirty && (perm & (PTE_U | PTE_W)) === (PTE_U | PTE_W) ? page : NO_TAG;
  }

  /** A write walk reached protected frame f: the log-dirty fault (after every check of the walk). */
  private logDirtyFault(f: number): void {
    this.logDirtyProtect![f] = 0;
    this.mem.markDirty(f);
    this.onLogDirtyFault?.(f);
  }

  private pageFault(va: number, acc: number, user: boolean, present: boolean, commit: boolean): number {
    if (!commit) return -1;
    this.host.pendPageFault(
      (present ? PfErr.Present : 0) | (acc === WRITE ? PfErr.Write : 0) | (user ? PfErr.User : 0) | (acc === FETCH ? PfErr.Fetch : 0),
      va >>> 0,
    );
    return -1;
  }

  // ============================================================================== second stage

  /** Second stage: guest-physical -> host-physical, or -1 (EPT violation reported when commit). */
  private ept(gpa: number, acc: number, va: number, finalPage: boolean, commit: boolean): number {
    const vm = this.host.vmcs!;
    if (vm.eptRoot < 0) {
      this.eptWritable = true;
      return gpa;
    }
    const size = this.mem.size;
    const mem32 = this.mem.i32;
    if (commit) this.host.charge(EV_EPT_WALK, 2);
    const e1a = ((vm.eptRoot & PAGE) >>> 0) + (gpa >>> 22) * 4;
    const e1 = e1a < size ? mem32[e1a >>> 2]! : 0;
    let e2 = 0;
    if ((e1 & PTE_P) !== 0) {
      const e2a = ((e1 & PAGE) >>> 0) + ((gpa >>> 12) & 0x3ff) * 4;
      e2 = e2a < size ? mem32[e2a >>> 2]! : 0;
    }
    const present = (e1 & e2 & PTE_P) !== 0;
    const writable = present && (e1 & e2 & PTE_W) !== 0;
    if (!present || (acc === WRITE && !writable)) {
      return commit ? this.eptViolation(gpa, acc, va, finalPage, present, writable) : -1;
    }
    this.eptWritable = writable;
    return ((e2 & PAGE) >>> 0) + (gpa & 0xfff);
  }

  /** Report an EPT violation for the exit; returns -1. */
  private eptViolation(gpa: number, acc: number, va: number, finalPage: boolean, readable: boolean, writable: boolean): number {
    this.host.pendEptViolation(
      gpa >>> 0,
      va >>> 0,
      (acc === READ ? EptQual.Read : acc === WRITE ? EptQual.Write : EptQual.Fetch) |
        (readable ? EptQual.Readable : 0) |
        (writable ? EptQual.Writable : 0) |
        EptQual.LinearValid |
        (finalPage ? EptQual.FinalPage : 0),
    );
    return -1;
  }
}

/** A TLB's contents (Mmu.tlbSnapshot): the tags, per entry the machine frame (-1: empty), the replacement state. */
export interface TlbSnapshot {
  r: Int32Array;
  w: Int32Array;
  frames: Int32Array;
  next: Uint8Array;
}
