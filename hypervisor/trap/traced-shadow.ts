// A caching shadow MMU (`--shadow traced`), as first-generation shadow paging did it: one shadow
// directory per guest address space (keyed by the guest's CR3), kept across CR3 loads, and kept
// coherent by *tracing* the guest's page tables - every guest frame a shadow entry was derived
// from (the guest directory, the guest page table) is mapped read-only in every shadow, so a guest
// write to it faults (a trace fault) and the monitor drops what was derived from it before letting
// the write through. An address-space switch back to a known space then costs no refills.
// Touches its own frames, the guest's A/D bits (through GuestWalker) and the real CPU's TLB.

import type { Cpu } from '../../machine/cpu.ts';
import type { TableTracer } from '../../machine/memory.ts';
import { CR0_PG, PfErr, Pte } from '../../machine/isa.ts';
import type { Hypervisor } from '../core/hypervisor.ts';
import type { DomainStats } from '../core/stats.ts';
import { ACC_FETCH, ACC_READ, ACC_WRITE, WALK_BAD_GPA, WALK_FAULT, type GuestWalker } from './guest-mmu.ts';
import { RESERVED_TABLES, SHADOW_BAD_GPA, SHADOW_HIDDEN, SHADOW_TRUE, SHADOW_U, SHADOW_W, shadowRights, type GuestShadow } from './shadow.ts';
import type { TrapVcpuState } from './state.ts';

const PTE_P: number = Pte.P;
const PTE_W: number = Pte.W;
const PTE_U: number = Pte.U;
const PTE_A: number = Pte.A;
const PTE_D: number = Pte.D;
const ERR_P: number = PfErr.Present;
const ERR_W: number = PfErr.Write;
const ERR_U: number = PfErr.User;
const ERR_F: number = PfErr.Fetch;
const PAGE_MASK = -4096;

/** emulateStore() results: the shadow lets the write through as it is; it was resolved (a fill); it was a write to a traced table (unsync and fill); it faults as it would */
export const STORE_DIRECT = 0;
export const STORE_RESOLVED = 1;
export const STORE_TRACED = 2;
export const STORE_FAULTS = 3;

/** Address spaces whose shadows are kept at once (the least recently loaded one goes first). */
export const TRACED_SPACES = 8;

/** A guest frame's tracing state. */
const UNTRACED = 0;
/** shadow entries were derived from it: mapped read-only everywhere, a write is a trace fault */
const TRACED = 1;
/**
 * a traced frame the guest wrote (out of sync, KVM's "unsync"): what was derived from it stays
 * until the guest's INVLPG or the next CR3 load (as a TLB's entries), which drops it in every
 * space and untraces the frame
 */
const VOLATILE = 2;

/** key of the space used while the guest's paging is off */
const NO_PAGING = -1;
/** key of an emptied space no CR3 names (after a CR0 write): reused first */
const NO_SPACE = -2;
/** a frame's list of writable shadow entries is compacted past this length */
const WRITERS_COMPACT = 64;

/** One guest address space's shadow. */
class Space {
  /** guest CR3 (directory gpa) it shadows, or NO_PAGING */
  key = 0;
  /** machine frame of the guest directory (-1: paging off) */
  dirFrame = -1;
  /** the shadow directory's machine frame */
  rootFrame = 0;
  /** per directory slot: machine frame of its shadow page table, or -1 */
  readonly tables = new Int32Array(1024).fill(-1);
  /** per directory slot: machine frame of the guest page table it was filled from (-1: none) */
  readonly sources = new Int32Array(1024).fill(-1);
  /** per directory slot: derived from a VOLATILE frame */
  readonly volatile = new Uint8Array(1024);
  readonly usedSlots: number[] = [];
  lastLoad = 0;
}

/*
 * Invariant: every shadow entry derived from a guest frame F (F is the space's guest directory or
 * the guest page table of the entry's slot) exists only while F is TRACED (or VOLATILE), and while
 * F is TRACED no shadow entry of any space maps F writable. A guest write to F therefore faults;
 * the monitor drops everything derived from F (whole spaces whose directory it is, the slots it
 * was the page table of), marks F UNTRACED and lets the write through (maps it writable). The
 * next fill that walks through F traces it again, write-protecting it (through the reverse map of
 * writable shadow entries) before anything is derived from it. So no shadow ever shows a guest
 * table entry other than the current one, and a CR3 load only switches shadows.
 */
export class TracedShadowMmu implements GuestShadow, TableTracer {
  private readonly m32: Int32Array;
  private readonly spaces: Space[] = [];
  private current: Space;
  /** per machine frame: UNTRACED, TRACED or VOLATILE */
  private readonly state: Uint8Array;
  private readonly tracedFrames: number[] = [];
  /** frames VOLATILE until the next CR3 load */
  private readonly volatileFrames: number[] = [];
  /** per machine frame: the m32 indices of shadow entries that were filled writable to it */
  private readonly writers = new Map<number, number[]>();
  /** zeroed shadow frames kept for reuse */
  private readonly pool: number[] = [];
  private loads = 0;
  /**
   * the machine's per-frame marks of traced tables (PhysicalMemory.tracedTables): a frame is
   * counted there while it is TRACED here, so a host write into it (a device's DMA) reaches hostWrite
   */
  private readonly marks: Uint8Array;

  constructor(
    private readonly hv: Hypervisor,
    private readonly cpu: Cpu,
    private readonly walker: GuestWalker,
    private readonly v: TrapVcpuState,
    private readonly stats: DomainStats,
  ) {
    this.m32 = hv.mem.i32;
    this.state = new Uint8Array(hv.mem.size >>> 12);
    this.marks = hv.mem.tracedTables ??= new Uint8Array(hv.mem.frames);
    hv.mem.tableTracers.push(this);
    this.current = new Space();
    this.current.rootFrame = hv.allocHypervisorFrame();
    this.current.key = NO_PAGING;
    this.spaces.push(this.current);
    try {
      for (let k = 0; k < RESERVED_TABLES; k++) this.pool.push(hv.allocHypervisorFrame());
    } catch (e) {
      this.destroy();
      throw e;
    }
  }

  get root(): number {
    return this.current.rootFrame * 4096;
  }

  get tablesInUse(): number {
    let n = 0;
    for (const s of this.spaces) n += s.usedSlots.length;
    return n;
  }

  get framesHeld(): number {
    return this.spaces.length + this.tablesInUse + this.pool.length;
  }

  /** Address spaces whose shadows are kept now. */
  get spacesKept(): number {
    return this.spaces.length;
  }

  /** Guest frames traced now (for tests and `info`). */
  get framesTraced(): number {
    return this.tracedFrames.length;
  }

  entry(va: number): number {
    const t = this.current.tables[va >>> 22]!;
    return t < 0 ? 0 : this.m32[t * 1024 + ((va >>> 12) & 0x3ff)]!;
  }

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
    const target = ma >>> 12;
    if (acc === ACC_WRITE && (realError & ERR_P) !== 0 && this.state[target] === TRACED) {
      // a trace fault: the guest writes one of its page tables
      this.stats.traceFaults++;
      this.unsync(target);
    }
    const rights = shadowRights(w.perm, w.dirty, acc, user);
    this.fill(va, ma, (rights & SHADOW_W) !== 0, (rights & SHADOW_U) !== 0);
    this.stats.hiddenFaults++;
    this.stats.shadowFills++;
    return SHADOW_HIDDEN;
  }

  /**
   * bt's store callout (`--bt-adaptive`): the guest is about to write va (at `user`'s privilege).
   * If the shadow would let the write through, nothing to do (STORE_DIRECT). Else do what fault()
   * does for the #PF the write would take - the guest walk, the trace fault's unsync when va is in
   * a traced table, the fill - without the fault (STORE_RESOLVED, or STORE_TRACED for a write to a
   * traced table: counted by the caller, not as a trace fault). A write the guest's own tables
   * forbid is left to fault as it would (STORE_FAULTS): the store then takes the ordinary path.
   */
  emulateStore(va: number, user: boolean): number {
    const e = this.entry(va);
    if ((e & PTE_P) !== 0 && (e & PTE_W) !== 0 && (!user || (e & PTE_U) !== 0)) return STORE_DIRECT;
    const w = this.walker;
    const ma = w.walk(va, ACC_WRITE, user, true);
    if (ma < 0) return STORE_FAULTS;
    const target = ma >>> 12;
    let r = STORE_RESOLVED;
    if (this.state[target] === TRACED) {
      // (without the option: a trace fault, after a hidden one when va had no shadow entry yet)
      this.unsync(target);
      r = STORE_TRACED;
    }
    const rights = shadowRights(w.perm, w.dirty, ACC_WRITE, user);
    this.fill(va, ma, (rights & SHADOW_W) !== 0, (rights & SHADOW_U) !== 0);
    this.stats.shadowFills++;
    return r;
  }

  /**
   * A host write into machine frame f, one PhysicalMemory marks as a traced table (a device's DMA:
   * the disk reading a block into a page table, the NIC writing a descriptor there). The CPU's
   * stores to a traced table fault; a device's do not, so the device path reports them here and
   * the table goes out of sync as at a trace fault: what was derived from it goes at the guest's
   * next INVLPG or CR3 load, when natively the TLB would be refilled from the new entries. Nothing
   * is charged (no trap: the device model's cost covers its DMA).
   */
  hostWrite(f: number): void {
    if (this.state[f] !== TRACED) return;
    this.stats.traceDmaWrites++;
    this.unsync(f);
  }

  invlpg(va: number): void {
    const s = this.current;
    const t = s.tables[va >>> 22]!;
    if (t >= 0) this.m32[t * 1024 + ((va >>> 12) & 0x3ff)] = 0;
    this.cpu.mmu.invlpg(va);
    this.stats.shadowInvlpgs++;
  }

  /** The guest wrote CR0: every space's shadow goes, and every frame is untraced. */
  flush(): void {
    for (const s of this.spaces) {
      this.dropSpace(s);
      s.key = NO_SPACE;
    }
    this.untraceAll();
    for (const f of this.volatileFrames) this.state[f] = UNTRACED;
    this.volatileFrames.length = 0;
    this.writers.clear();
    this.current.key = this.keyNow();
    this.current.dirFrame = this.dirFrameOf();
    this.cpu.mmu.flushTlb();
    this.stats.shadowFlushes++;
  }

  /**
   * The guest loaded CR3: switch to the space's shadow, kept from its last use (or a new one),
   * after dropping what was derived from volatile frames. The caller points the real CR3 at
   * `root`; the real TLB is flushed as the load flushes it.
   */
  loadCr3(): void {
    // what was derived from volatile frames goes (as a TLB's entries); with nothing derived from
    // them left, they are untraced, and traced again by the next fill that walks through them
    for (const s of this.spaces) this.dropVolatile(s);
    for (const f of this.volatileFrames) this.state[f] = UNTRACED;
    this.volatileFrames.length = 0;
    const key = this.keyNow();
    let s = this.spaces.find((x) => x.key === key);
    if (s !== undefined && s.dirFrame !== this.dirFrameOf()) {
      // the same guest address now backed by another frame (the p2m changed): start afresh
      this.dropSpace(s);
      s.dirFrame = this.dirFrameOf();
    }
    if (s === undefined) {
      this.stats.shadowSpaceMisses++;
      s = this.newSpace(key);
    } else {
      this.stats.shadowSpaceHits++;
    }
    s.lastLoad = ++this.loads;
    this.current = s;
    this.cpu.mmu.flushTlb();
  }

  destroy(): void {
    this.untraceAll();
    const tracers = this.hv.mem.tableTracers;
    const i = tracers.indexOf(this);
    if (i >= 0) tracers.splice(i, 1);
    for (const s of this.spaces) {
      for (const slot of s.usedSlots) this.hv.releaseHypervisorFrame(s.tables[slot]!);
      s.usedSlots.length = 0;
      s.tables.fill(-1);
      this.hv.releaseHypervisorFrame(s.rootFrame);
    }
    this.spaces.length = 0;
    for (const f of this.pool) this.hv.releaseHypervisorFrame(f);
    this.pool.length = 0;
  }

  // ------------------------------------------------------------------------------ internals

  private keyNow(): number {
    return (this.v.cr0 & CR0_PG) === 0 ? NO_PAGING : (this.v.cr3 & PAGE_MASK) >>> 0;
  }

  /** Machine frame of the guest's current directory, or -1 (paging off, or outside its memory). */
  private dirFrameOf(): number {
    if ((this.v.cr0 & CR0_PG) === 0) return -1;
    const ma = this.walker.machineAddress((this.v.cr3 & PAGE_MASK) >>> 0);
    return ma < 0 ? -1 : ma >>> 12;
  }

  /** Machine frame of the guest page table mapping va now, or -1. */
  private tableFrameOf(va: number): number {
    const dir = this.dirFrameOf();
    if (dir < 0) return -1;
    const pde = this.m32[dir * 1024 + (va >>> 22)]!;
    if ((pde & PTE_P) === 0) return -1;
    const ma = this.walker.machineAddress((pde & PAGE_MASK) >>> 0);
    return ma < 0 ? -1 : ma >>> 12;
  }

  private newSpace(key: number): Space {
    let s: Space | undefined = this.spaces.find((x) => x.key === NO_SPACE);
    if (s !== undefined) {
      // an emptied space
    } else if (this.spaces.length < TRACED_SPACES && (this.pool.length > 0 || this.hv.frames.freeFrames > 0)) {
      s = new Space();
      s.rootFrame = this.pool.length > 0 ? this.pool.pop()! : this.hv.allocHypervisorFrame();
      this.spaces.push(s);
    } else {
      // reuse the least recently loaded space (never the current one's frames while in use)
      s = this.spaces[0]!;
      for (const x of this.spaces) if (x.lastLoad < s.lastLoad) s = x;
      this.dropSpace(s);
    }
    s.key = key;
    s.dirFrame = this.dirFrameOf();
    return s;
  }

  /** Every traced frame untraced (its mark in the machine's memory dropped). */
  private untraceAll(): void {
    for (const f of this.tracedFrames) {
      this.state[f] = UNTRACED;
      this.marks[f]--;
    }
    this.tracedFrames.length = 0;
  }

  /** Trace guest frame f (a directory or page table something is derived from now). */
  private trace(f: number): void {
    if (this.state[f] !== UNTRACED) return;
    this.state[f] = TRACED;
    this.marks[f]++;
    this.tracedFrames.push(f);
    const list = this.writers.get(f);
    if (list === undefined) return;
    // write-protect every shadow entry that maps it writable
    const m32 = this.m32;
    let changed = false;
    for (const idx of list) {
      const e = m32[idx]!;
      if ((e & PTE_P) !== 0 && (e & PTE_W) !== 0 && (e >>> 12) === f) {
        m32[idx] = e & ~(PTE_W | PTE_D);
        changed = true;
      }
    }
    this.writers.delete(f);
    if (changed) this.cpu.mmu.flushTlb();
  }

  /**
   * The guest writes traced frame f: it goes out of sync. What was derived from it stays as a
   * TLB's entries would (until the guest's INVLPG, or the next CR3 load, which drops them in
   * every space); until then it is not traced, so the guest writes it freely.
   */
  private unsync(f: number): void {
    for (const s of this.spaces) {
      for (const slot of s.usedSlots) if (s.sources[slot] === f) s.volatile[slot] = 1;
    }
    this.state[f] = VOLATILE;
    this.marks[f]--;
    this.volatileFrames.push(f);
    const i = this.tracedFrames.indexOf(f);
    if (i >= 0) this.tracedFrames.splice(i, 1);
  }

  /** Drop a space's slots derived from volatile frames (all of it if its directory is one). */
  private dropVolatile(s: Space): void {
    if (s.dirFrame >= 0 && this.state[s.dirFrame] === VOLATILE) {
      this.dropSpace(s);
      return;
    }
    for (let k = s.usedSlots.length - 1; k >= 0; k--) if (s.volatile[s.usedSlots[k]!] !== 0) this.dropSlot(s, k);
  }

  /** Slot usedSlots[k] of s back to the pool. */
  private dropSlot(s: Space, k: number): void {
    const slot = s.usedSlots[k]!;
    const t = s.tables[slot]!;
    this.m32.fill(0, t * 1024, t * 1024 + 1024);
    this.pool.push(t);
    s.tables[slot] = -1;
    s.sources[slot] = -1;
    s.volatile[slot] = 0;
    this.m32[s.rootFrame * 1024 + slot] = 0;
    s.usedSlots[k] = s.usedSlots[s.usedSlots.length - 1]!;
    s.usedSlots.pop();
  }

  private dropSpace(s: Space): void {
    for (let k = s.usedSlots.length - 1; k >= 0; k--) this.dropSlot(s, k);
  }

  private fill(va: number, ma: number, writable: boolean, user: boolean): void {
    const m32 = this.m32;
    const s = this.current;
    const slot = va >>> 22;
    const dir = this.dirFrameOf();
    const src = this.tableFrameOf(va);
    s.dirFrame = dir;
    let t = s.tables[slot]!;
    if (t >= 0 && s.sources[slot] !== src) {
      // the guest changed the directory entry (its directory is out of sync): the entries filled
      // before stay, as a TLB's would, and the slot goes with the directory at the next CR3 load
      s.sources[slot] = src;
      s.volatile[slot] = 1;
    }
    if (t < 0) {
      if (this.pool.length === 0) {
        if (this.hv.frames.freeFrames > 0) this.pool.push(this.hv.allocHypervisorFrame());
        else {
          // out of frames: other spaces' tables first, then this space's own
          for (const x of this.spaces) if (x !== s) this.dropSpace(x);
          if (this.pool.length === 0) this.dropSpace(s);
          this.stats.shadowRecycles++;
        }
      }
      t = this.pool.pop()!;
      s.tables[slot] = t;
      s.sources[slot] = src;
      s.usedSlots.push(slot);
      m32[s.rootFrame * 1024 + slot] = t * 4096 + (PTE_P | PTE_W | PTE_U | PTE_A);
      this.stats.shadowTables++;
    }
    // trace what this entry is derived from (write-protecting them everywhere) before filling it
    if ((dir >= 0 && this.state[dir] === VOLATILE) || (src >= 0 && this.state[src] === VOLATILE)) s.volatile[slot] = 1;
    if (dir >= 0) this.trace(dir);
    if (src >= 0) this.trace(src);
    const target = ma >>> 12;
    if (this.state[target] === TRACED) writable = false;
    const idx = t * 1024 + ((va >>> 12) & 0x3ff);
    m32[idx] = (ma & PAGE_MASK) | PTE_P | PTE_A | (writable ? PTE_W | PTE_D : 0) | (user ? PTE_U : 0);
    if (writable) {
      let list = this.writers.get(target);
      if (list === undefined) this.writers.set(target, (list = []));
      else if (list.length >= WRITERS_COMPACT) {
        // drop the entries that no longer map it writable
        const live = list.filter((i) => (m32[i]! & (PTE_P | PTE_W)) === (PTE_P | PTE_W) && (m32[i]! >>> 12) === target);
        list.length = 0;
        list.push(...live);
      }
      list.push(idx);
    }
    // no INVLPG of va, as in ShadowMmu.fill: the access that led here (a fault's retry, or
    // emulateStore's store, which had no write tag) walks this entry, and the walk's fill rewrites
    // the page's TLB entry as the bare machine's does, leaving the instruction TLB alone
  }
}
