// Direct but validated paging: mmu_update (batched page-table writes by machine address),
// mmuext_op (pin and unpin tables, load a page directory, TLB flushes) and update_va_mapping (one
// entry by virtual address). The guest's tables are the ones the MMU walks; the guest can read
// them but never write them, so every change comes through here and is checked against the frame
// table (page-types.ts) before it is written to machine memory.
// Touches the calling domain's page-table frames and the real CPU's CR3 and TLB.

import { HcErr } from '../../hypercalls/errors.ts';
import { Batch, HvLayout, MmuCmd, MmuextCmd, UvmFlags } from '../../hypercalls/numbers.ts';
import { MmuUpdate, MmuextOp, MmuextTargets } from '../../hypercalls/structs.ts';
import type { HcCtx } from './context.ts';
import { PageType, PREEMPTED } from './page-types.ts';
import { Ev } from '../../machine/ledger.ts';

const PTE_P = 1;
const HV_PDE: number = HvLayout.PDE;
const HV_BASE: number = HvLayout.BASE;
const MAX_UPDATES: number = MmuUpdate.MAX_BATCH;
const MAX_EXT: number = MmuextOp.MAX_BATCH;
const CONTINUED: number = Batch.CONTINUED;

/**
 * The count of a batch call and the requests done by its earlier steps (read back from *doneOut
 * when CONTINUED is set, as Xen does: only the guest's own report depends on it), or an HcErr.
 * Writes the pair into `out`.
 */
function batchStart(ctx: HcCtx, count: number, doneOut: number, max: number, out: Int32Array): number {
  let prior = 0;
  if ((count & CONTINUED) !== 0) {
    count &= ~CONTINUED;
    if (doneOut !== 0) {
      prior = ctx.r32(doneOut);
      if (ctx.faulted()) return HcErr.EFAULT;
    }
  }
  if (count < 0) return HcErr.EINVAL;
  if (count > max) return HcErr.E2BIG;
  out[0] = count;
  out[1] = prior;
  return 0;
}
const batch = new Int32Array(2);

/**
 * After an operation that gave a frame a table type (its validation began, even if it finishes
 * only at a later step): drop any writable translation that outlived its mapping.
 */
function flushIfStale(ctx: HcCtx, typingsBefore: number): void {
  const types = ctx.host.types;
  if (types.staleWritable && types.typings !== typingsBefore) {
    ctx.host.cpu.mmu.flushTlb();
    types.staleWritable = false;
  }
}

/**
 * Write `val` into the page-table entry at machine address `addr`, a frame the caller owns that
 * is now an L1 or L2 table; addr is word-aligned (mmu_update strips its command bits, l1EntryFor
 * computes it). Takes the new entry's references before dropping the old one's, so
 * rewriting an entry with itself changes nothing. 0 or an HcErr (nothing written).
 */
export function writeTableEntry(ctx: HcCtx, addr: number, val: number): number {
  const host = ctx.host;
  const types = host.types;
  const dom = ctx.d.id;
  const f = addr >>> 12; // word-aligned: mmu_update's command bits are its low bits
  if (f >= types.frames) return HcErr.EINVAL;
  if (types.owner[f] !== dom) return HcErr.EPERM;
  if (!types.isTable(f)) return HcErr.EINVAL;
  // a directory whose validation or release is unfinished: its entries' references are half taken
  if (types.partial[f] !== 0) return HcErr.EBUSY;
  const old = host.mem.i32[addr >>> 2]!;
  if (types.type[f] === PageType.L1) {
    // a grant mapping is undone only by unmap_grant_ref, which gives its references back
    if ((old & PTE_P) !== 0 && ctx.d.grants.pteToHandle.has(addr)) return HcErr.EPERM;
    const r = types.getL1Entry(val, dom);
    if (r < 0) return r;
    types.putL1Entry(old, dom);
  } else {
    const k = (addr & 0xfff) >>> 2;
    if (k === HV_PDE) return HcErr.EPERM;
    const r = types.getL2Entry(val, k, dom);
    if (r < 0) return r;
    types.putL2Entry(old, k, dom);
  }
  host.mem.write32(addr, val);
  return 0;
}

/** One mmu_update request. */
function mmuUpdateOne(ctx: HcCtx, ptr: number, val: number): number {
  const cmd = ptr & MmuCmd.MASK;
  const addr = (ptr & ~3) >>> 0;
  if (cmd === MmuCmd.NORMAL_PT_UPDATE) return writeTableEntry(ctx, addr, val);
  if (cmd === MmuCmd.MACHPHYS_UPDATE) {
    if ((addr & 0xfff) !== 0) return HcErr.EINVAL; // a frame's address: page-aligned apart from the command
    const mfn = addr >>> 12;
    if (mfn >= ctx.host.types.frames) return HcErr.EINVAL;
    if (ctx.host.types.owner[mfn] !== ctx.d.id) return HcErr.EPERM;
    if (val < 0 || val >= ctx.d.domain.p2m.length) return HcErr.EINVAL;
    ctx.host.setM2p(mfn, val);
    return 0;
  }
  return HcErr.EINVAL;
}

/**
 * mmu_update(reqs, count, doneOut): stops at the first failing request; *doneOut = requests done.
 * Past the step's share of work (ctx.preemptCheck) it continues at the guest's next entry.
 */
export function mmuUpdate(ctx: HcCtx, reqs: number, count: number, doneOut: number): number {
  const e = batchStart(ctx, count, doneOut, MAX_UPDATES, batch);
  if (e < 0) return e;
  count = batch[0]!;
  const prior = batch[1]!;
  const v0 = ctx.host.types.scans;
  const t0 = ctx.host.types.typings;
  let done = 0;
  let r = 0;
  while (done < count) {
    if (done > 0 && ctx.preemptCheck()) {
      ctx.continue((reqs + done * MmuUpdate.BYTES) | 0, (count - done) | CONTINUED, doneOut, 0, 0);
      break;
    }
    const at = (reqs + done * MmuUpdate.BYTES) | 0;
    const ptr = ctx.r32(at + MmuUpdate.PTR);
    const val = ctx.r32(at + MmuUpdate.VAL);
    if (ctx.faulted()) {
      r = HcErr.EFAULT;
      break;
    }
    r = mmuUpdateOne(ctx, ptr, val);
    if (r < 0) break;
    done++;
  }
  ctx.d.stats.mmuRequests += done;
  ctx.charge(Ev.PvRequest, done + 1);
  ctx.charge(Ev.PvTableScan, ctx.host.types.scans - v0);
  flushIfStale(ctx, t0);
  if (doneOut !== 0 && !ctx.w32(doneOut, prior + done) && r === 0) r = HcErr.EFAULT;
  ctx.faulted();
  return r;
}

/** One mmuext_op. */
function mmuextOne(ctx: HcCtx, cmd: number, arg: number): number {
  const host = ctx.host;
  const types = host.types;
  const cpu = host.cpu;
  const dom = ctx.d.id;
  switch (cmd) {
    case MmuextCmd.PIN_L1_TABLE:
    case MmuextCmd.PIN_L2_TABLE: {
      const f = arg;
      if (f < 0 || f >= types.frames) return HcErr.EINVAL;
      if (types.owner[f] !== dom) return HcErr.EPERM;
      if (types.pinned[f] !== 0) return HcErr.EEXIST;
      // (a directory's validation may stop at the step's bound: PREEMPTED, pinned when it ends)
      const r = types.getType(f, cmd === MmuextCmd.PIN_L1_TABLE ? PageType.L1 : PageType.L2, dom, ctx.workLimit);
      if (r !== 0) return r;
      types.pinned[f] = 1;
      ctx.d.stats.pins++;
      return 0;
    }
    case MmuextCmd.UNPIN_TABLE: {
      const f = arg;
      if (f < 0 || f >= types.frames) return HcErr.EINVAL;
      if (types.owner[f] !== dom) return HcErr.EPERM;
      if (types.pinned[f] === 0) return HcErr.EINVAL;
      types.pinned[f] = 0;
      // done for the guest; a directory's release past the step's bound ends at the next entry
      if (types.putType(f, dom, ctx.workLimit) === PREEMPTED) ctx.pv.pendingRelease = f;
      return 0;
    }
    case MmuextCmd.NEW_BASEPTR: {
      const f = arg;
      if (f < 0 || f >= types.frames) return HcErr.EINVAL;
      if (types.owner[f] !== dom) return HcErr.EPERM;
      // a loaded directory must already be validated and pinned: loading it needs no revalidation
      if (types.pinned[f] === 0 || types.type[f] !== PageType.L2) return HcErr.EINVAL;
      const r = types.getType(f, PageType.L2, dom);
      if (r < 0) return r;
      const old = ctx.pv.baseptr;
      ctx.pv.baseptr = f;
      cpu.writeCr(3, f * 4096);
      ctx.charge(Ev.CrFlush, 1);
      if (old >= 0 && types.putType(old, dom, ctx.workLimit) === PREEMPTED) ctx.pv.pendingRelease = old;
      return 0;
    }
    case MmuextCmd.TLB_FLUSH_LOCAL:
      cpu.mmu.flushTlb();
      ctx.charge(Ev.CrFlush, 1);
      return 0;
    case MmuextCmd.INVLPG_LOCAL:
      cpu.mmu.invlpg(arg);
      ctx.charge(Ev.Invlpg, 1);
      return 0;
    case MmuextCmd.TLB_FLUSH_MULTI:
    case MmuextCmd.INVLPG_MULTI:
      return flushMulti(ctx, cmd === MmuextCmd.INVLPG_MULTI, arg);
    default:
      return HcErr.EINVAL;
  }
}

/**
 * TLB_FLUSH_MULTI / INVLPG_MULTI: the flush (or one page's) on every vCPU the MmuextTargets at
 * `targets` names. The mask must name at least one vCPU and only vCPUs the domain has (EINVAL),
 * checked before anything is flushed. The caller's own TLB is flushed now; another vCPU of the
 * domain is not on the CPU (vCPUs share the one physical CPU, and a world switch reloads the
 * TLB), so it holds no translation to drop: it is counted, and costs nothing - where a
 * multiprocessor host would send that physical CPU an IPI.
 */
function flushMulti(ctx: HcCtx, onePage: boolean, targets: number): number {
  const mask = ctx.r32(targets + MmuextTargets.VCPU_MASK);
  const va = onePage ? ctx.r32(targets + MmuextTargets.VA) : 0;
  if (ctx.faulted()) return HcErr.EFAULT;
  const vcpus = ctx.d.vcpus;
  if (mask === 0 || (vcpus.length < 32 && mask >>> vcpus.length !== 0)) return HcErr.EINVAL;
  const me = ctx.vcpu.id;
  const cpu = ctx.host.cpu;
  for (let k = 0; k < vcpus.length; k++) {
    if ((mask & (1 << k)) === 0) continue;
    if (k !== me) {
      vcpus[k]!.remoteFlushes++;
      continue;
    }
    vcpus[k]!.localFlushes++;
    if (onePage) {
      cpu.mmu.invlpg(va);
      ctx.charge(Ev.Invlpg, 1);
    } else {
      cpu.mmu.flushTlb();
      ctx.charge(Ev.CrFlush, 1);
    }
  }
  return 0;
}

/**
 * mmuext_op(ops, count, doneOut): as mmu_update, one operation at a time. A directory's pin
 * (validation) or unpin (release) is itself split at the step's bound (page-types.ts Partial):
 * a pin goes on at the next entry, which re-reads that same request; a release left unfinished
 * by an unpin or a base-pointer switch (the vCPU's pendingRelease, Xen's old_guest_table) is
 * finished first thing at the next entry, before any request, and the call does not return
 * to the guest until it is.
 */
export function mmuextOp(ctx: HcCtx, ops: number, count: number, doneOut: number): number {
  const types = ctx.host.types;
  // (the tables a pending release gives back here are charged as those an unpin releases)
  const v0 = types.scans;
  const pending = ctx.pv.pendingRelease;
  if (pending >= 0) {
    if (types.resumeRelease(pending, ctx.d.id, ctx.workLimit) === PREEMPTED) {
      ctx.continue(ops, count, doneOut, 0, 0); // the same call again: nothing of it done yet
      ctx.charge(Ev.PvRequest, 1);
      ctx.charge(Ev.PvTableScan, types.scans - v0);
      return 0;
    }
    ctx.pv.pendingRelease = -1;
  }
  const e = batchStart(ctx, count, doneOut, MAX_EXT, batch);
  if (e < 0) {
    ctx.charge(Ev.PvTableScan, types.scans - v0);
    return e;
  }
  count = batch[0]!;
  const prior = batch[1]!;
  const t0 = types.typings;
  let done = 0;
  let r = 0;
  while (done < count) {
    if (done > 0 && ctx.preemptCheck()) {
      ctx.continue((ops + done * MmuextOp.BYTES) | 0, (count - done) | CONTINUED, doneOut, 0, 0);
      break;
    }
    const at = (ops + done * MmuextOp.BYTES) | 0;
    const cmd = ctx.r32(at + MmuextOp.CMD);
    const arg = ctx.r32(at + MmuextOp.ARG);
    if (ctx.faulted()) {
      r = HcErr.EFAULT;
      break;
    }
    r = mmuextOne(ctx, cmd, arg);
    if (r === PREEMPTED) {
      // a directory's validation stopped midway: this request again at the next entry
      ctx.continue(at, (count - done) | CONTINUED, doneOut, 0, 0);
      r = 0;
      break;
    }
    if (r < 0) break;
    done++;
  }
  if (!ctx.preempted && ctx.pv.pendingRelease >= 0) {
    // the last request left a release unfinished: one more entry, with no request left, ends it
    ctx.continue((ops + done * MmuextOp.BYTES) | 0, CONTINUED, doneOut, 0, 0);
  }
  ctx.charge(Ev.PvRequest, done + 1);
  ctx.charge(Ev.PvTableScan, ctx.host.types.scans - v0);
  flushIfStale(ctx, t0);
  if (doneOut !== 0 && !ctx.w32(doneOut, prior + done) && r === 0) r = HcErr.EFAULT;
  ctx.faulted();
  return r;
}

/** Machine address of the L1 entry mapping va in the caller's loaded directory, or an HcErr. */
export function l1EntryFor(ctx: HcCtx, va: number): number {
  if ((va >>> 0) >= HV_BASE >>> 0) return HcErr.EPERM;
  const base = ctx.pv.baseptr;
  if (base < 0) return HcErr.EINVAL;
  const pde = ctx.host.mem.i32[(base << 10) + (va >>> 22)]!;
  if ((pde & PTE_P) === 0) return HcErr.EINVAL;
  return ((pde & ~0xfff) >>> 0) + ((va >>> 12) & 1023) * 4;
}

/** update_va_mapping(va, val, flags): one L1 entry by virtual address, then an optional flush. */
export function updateVaMapping(ctx: HcCtx, va: number, val: number, flags: number): number {
  if ((va & 0xfff) !== 0) return HcErr.EINVAL;
  if (flags !== UvmFlags.NONE && flags !== UvmFlags.INVLPG && flags !== UvmFlags.TLB_FLUSH) return HcErr.EINVAL;
  const addr = l1EntryFor(ctx, va);
  if (addr < 0) return addr;
  const t0 = ctx.host.types.typings;
  const r = writeTableEntry(ctx, addr, val);
  ctx.d.stats.mmuRequests++;
  ctx.charge(Ev.PvRequest, 1);
  if (r < 0) return r;
  const cpu = ctx.host.cpu;
  if (flags === UvmFlags.INVLPG) {
    cpu.mmu.invlpg(va);
    ctx.charge(Ev.Invlpg, 1);
  } else if (flags === UvmFlags.TLB_FLUSH) {
    cpu.mmu.flushTlb();
    ctx.charge(Ev.CrFlush, 1);
  }
  flushIfStale(ctx, t0);
  return 0;
}
