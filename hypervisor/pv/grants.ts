// Grant tables: a domain shares one of its frames with one other domain by writing a grant entry
// {flags, domid, frame} in its own table; the grantee maps it by reference. The hypervisor checks
// the entry (permit-access, the grantee's id, read-only), holds a reference on the frame for as
// long as it is mapped (so it cannot leave its owner, or become a page table if mapped writable),
// and sets READING/WRITING in the entry meanwhile; the granter may revoke only when both are clear.
// Back ends inside the hypervisor map grants made to DomId.BACKEND the same way.
// Grant copy (GNTTABOP_copy: the network back end's transmit and receive path, and a hypercall)
// moves bytes through a grant without mapping it; grant transfer (page flipping) hands a fresh
// frame to a domain through one of its ACCEPT_TRANSFER entries. Both have their own rules below.
// Touches grant-table frames, the grantee's page-table entry for a host mapping, and the frame table.

import { HcErr } from '../../hypercalls/errors.ts';
import { DomId, GntcopyFlags, GntmapFlags, GnttabCmd, GrantFlags, GrantLimits } from '../../hypercalls/numbers.ts';
import { GntCopy, GntMap, GntQuery, GntSetup, GntUnmap, GrantEntry } from '../../hypercalls/structs.ts';
import type { HcCtx } from './context.ts';
import { l1EntryFor } from './mmu.ts';
import { PageType } from './page-types.ts';
import type { GrantMapping, PvDomain, PvHost } from './state.ts';
import { Ev } from '../../machine/ledger.ts';

const PER_FRAME: number = GrantLimits.ENTRIES_PER_FRAME;
const MAX_FRAMES: number = GrantLimits.MAX_FRAMES;
const SELF: number = DomId.SELF;
const BACKEND: number = DomId.BACKEND;
const PTE_P = 1;
const PTE_W = 2;
const PTE_A = 32;
const PTE_D = 64;

/** Machine address of grant entry `ref` of domain g, or -1 if g has no such entry. */
export function grantEntryAddr(g: PvDomain, ref: number): number {
  if (ref < 0 || ref >= g.grants.frames.length * PER_FRAME) return -1;
  return g.grants.frames[(ref / PER_FRAME) | 0]! * 4096 + (ref % PER_FRAME) * (GrantEntry.BYTES as number);
}

function setFlagBits(host: PvHost, entry: number, bits: number, on: boolean): void {
  const old = host.mem.u16[entry >>> 1]!;
  host.mem.u16[entry >>> 1] = on ? old | bits : old & ~bits;
}

/**
 * Check grant `ref` of domain g for a mapping by domain `mapper` and take the frame's references.
 * Returns the frame, or an HcErr (nothing taken).
 */
export function grantAcquire(host: PvHost, g: PvDomain, ref: number, mapper: number, readonly: boolean): number {
  const entry = grantEntryAddr(g, ref);
  if (entry < 0) return HcErr.ENOENT;
  const flags = host.mem.u16[entry >>> 1]!;
  const domid = host.mem.u16[(entry + GrantEntry.DOMID) >>> 1]!;
  const frame = host.mem.i32[(entry + GrantEntry.FRAME) >>> 2]!;
  if ((flags & GrantFlags.TYPE_MASK) !== GrantFlags.PERMIT_ACCESS) return HcErr.EACCES;
  if (domid !== (mapper & 0xffff)) return HcErr.EACCES;
  if (!readonly && (flags & GrantFlags.READONLY) !== 0) return HcErr.EACCES;
  const types = host.types;
  if (frame < 0 || frame >= types.frames || types.owner[frame] !== g.id) return HcErr.EPERM;
  if (!readonly) {
    const r = types.getType(frame, PageType.WRITABLE, g.id);
    if (r < 0) return r;
  }
  types.refCount[frame]!++;
  const counts = readonly ? g.grants.readers : g.grants.writers;
  counts.set(ref, (counts.get(ref) ?? 0) + 1);
  setFlagBits(host, entry, readonly ? GrantFlags.READING : GrantFlags.WRITING, true);
  return frame;
}

/** Undo grantAcquire. The frame may have left its (dead) owner meanwhile: then it is freed with its last reference. */
export function grantRelease(host: PvHost, granter: number, ref: number, frame: number, readonly: boolean): void {
  const types = host.types;
  if (!readonly) types.putType(frame, granter);
  types.refCount[frame]!--;
  const g = host.domains.get(granter);
  if (g) {
    const counts = readonly ? g.grants.readers : g.grants.writers;
    const n = (counts.get(ref) ?? 1) - 1;
    if (n > 0) counts.set(ref, n);
    else {
      counts.delete(ref);
      const entry = grantEntryAddr(g, ref);
      if (entry >= 0) setFlagBits(host, entry, readonly ? GrantFlags.READING : GrantFlags.WRITING, false);
    }
  }
  host.frameReleased(frame);
}

/**
 * The most grant mappings one domain may hold at once (Xen bounds this by its maptrack table):
 * without a cap, two colluding domains could grow the hypervisor's bookkeeping without limit.
 */
export const MAX_GRANT_MAPS_PER_DOMAIN = 1024;

/** Map grant `ref` of domain `dom` for the caller. Returns the handle, or an HcErr. */
function mapGrant(ctx: HcCtx, dom: number, ref: number, flags: number, hostAddr: number, out: { devBusAddr: number }): number {
  const host = ctx.host;
  const me = ctx.d;
  if ((flags & (GntmapFlags.HOST_MAP | GntmapFlags.DEVICE_MAP)) === 0) return HcErr.EINVAL;
  const g = host.domains.get(dom);
  if (!g) return HcErr.ESRCH;
  if (g === me) return HcErr.EINVAL;
  if (me.grants.maps.size >= MAX_GRANT_MAPS_PER_DOMAIN) return HcErr.ENOSPC;
  const readonly = (flags & GntmapFlags.READONLY) !== 0;
  let pteAddr = -1;
  if ((flags & GntmapFlags.HOST_MAP) !== 0) {
    if ((hostAddr & 0xfff) !== 0) return HcErr.EINVAL; // a page is mapped at a page boundary
    pteAddr = l1EntryFor(ctx, hostAddr);
    if (pteAddr < 0) return pteAddr;
    if ((host.mem.i32[pteAddr >>> 2]! & PTE_P) !== 0) return HcErr.EBUSY;
  }
  const frame = grantAcquire(host, g, ref, me.id, readonly);
  if (frame < 0) return frame;
  const handle = me.grants.nextHandle++;
  const m: GrantMapping = { granter: g.id, ref, frame, readonly, pteAddr, hostVa: hostAddr };
  me.grants.maps.set(handle, m);
  if (pteAddr >= 0) {
    me.grants.pteToHandle.set(pteAddr, handle);
    // kernel-only mapping; accessed and dirty preset (the guest cannot write this entry)
    host.mem.write32(pteAddr, (frame * 4096) | PTE_P | PTE_A | (readonly ? 0 : PTE_W | PTE_D));
  }
  out.devBusAddr = frame * 4096;
  return handle;
}

/** Undo a mapping by handle. */
export function unmapGrant(host: PvHost, me: PvDomain, handle: number): number {
  const m = me.grants.maps.get(handle);
  if (!m) return HcErr.EBADF;
  if (m.pteAddr >= 0) {
    // the entry is still the one mapGrant wrote: the guest cannot rewrite it (mmu.ts
    // writeTableEntry) and its table cannot lose its type while it is there (page-types.ts releaseL1)
    me.grants.pteToHandle.delete(m.pteAddr);
    host.mem.write32(m.pteAddr, 0);
    host.cpu.mmu.flushTlb();
  }
  me.grants.maps.delete(handle);
  grantRelease(host, m.granter, m.ref, m.frame, m.readonly);
  return 0;
}

/** grant_table_op(cmd, ops, count) */
export function grantTableOp(ctx: HcCtx, cmd: number, ops: number, count: number): number {
  const host = ctx.host;
  const me = ctx.d;
  if (count < 0) return HcErr.EINVAL;
  if (count > 64) return HcErr.E2BIG;
  switch (cmd) {
    case GnttabCmd.SETUP_TABLE: {
      if (count !== 1) return HcErr.EINVAL;
      const dom = ctx.r32(ops + GntSetup.DOM);
      const nr = ctx.r32(ops + GntSetup.NR_FRAMES);
      const list = ctx.r32(ops + GntSetup.FRAME_LIST);
      if (ctx.faulted()) return HcErr.EFAULT;
      let status = 0;
      if (dom !== SELF && dom !== me.id) status = HcErr.EPERM;
      else if (nr < 1 || nr > MAX_FRAMES) status = HcErr.EINVAL;
      else {
        for (let k = 0; k < nr; k++) if (ctx.gv.translate(ctx.cr3, list + k * 4, true) < 0) status = HcErr.EFAULT;
        if (status === 0 && nr - me.grants.frames.length > host.platform.frames.freeFrames) status = HcErr.ENOMEM;
        if (status === 0) {
          while (me.grants.frames.length < nr) me.grants.frames.push(host.allocShared(me.id));
          for (let k = 0; k < nr; k++) ctx.w32(list + k * 4, me.grants.frames[k]!);
        }
      }
      if (!ctx.w32(ops + GntSetup.STATUS, status)) return HcErr.EFAULT;
      ctx.charge(Ev.PvRequest, 1);
      return 0;
    }
    case GnttabCmd.QUERY_SIZE: {
      if (count !== 1) return HcErr.EINVAL;
      const dom = ctx.r32(ops + GntQuery.DOM);
      if (ctx.faulted()) return HcErr.EFAULT;
      const d = dom === SELF ? me : host.domains.get(dom);
      ctx.w32(ops + GntQuery.NR_FRAMES, d ? d.grants.frames.length : 0);
      ctx.w32(ops + GntQuery.MAX_NR_FRAMES, MAX_FRAMES);
      ctx.w32(ops + GntQuery.STATUS, d ? 0 : HcErr.ESRCH);
      return ctx.faulted() ? HcErr.EFAULT : 0;
    }
    case GnttabCmd.MAP_GRANT_REF: {
      const out = { devBusAddr: 0 };
      for (let k = 0; k < count; k++) {
        const op = (ops + k * GntMap.BYTES) | 0;
        const hostAddr = ctx.r32(op + GntMap.HOST_ADDR);
        const flags = ctx.r32(op + GntMap.FLAGS);
        const ref = ctx.r32(op + GntMap.REF);
        const dom = ctx.r32(op + GntMap.DOM);
        if (ctx.faulted()) return HcErr.EFAULT;
        // the results must be writable before anything is mapped
        if (ctx.gv.translate(ctx.cr3, op + GntMap.STATUS, true) < 0 || ctx.gv.translate(ctx.cr3, op + GntMap.DEV_BUS_ADDR, true) < 0) {
          return HcErr.EFAULT;
        }
        const h = mapGrant(ctx, dom, ref, flags, hostAddr, out);
        ctx.w32(op + GntMap.STATUS, h < 0 ? h : 0);
        ctx.w32(op + GntMap.HANDLE, h < 0 ? 0 : h);
        ctx.w32(op + GntMap.DEV_BUS_ADDR, h < 0 ? 0 : out.devBusAddr);
        ctx.charge(Ev.PvRequest, 1);
      }
      return 0;
    }
    case GnttabCmd.COPY: {
      for (let k = 0; k < count; k++) {
        const op = (ops + k * GntCopy.BYTES) | 0;
        const flags = ctx.r32(op + GntCopy.FLAGS);
        const src: CopySide = { ref: ctx.r32(op + GntCopy.SRC_REF), dom: ctx.r32(op + GntCopy.SRC_DOM), offset: ctx.r32(op + GntCopy.SRC_OFFSET), gref: (flags & GntcopyFlags.SOURCE_GREF) !== 0 };
        const dst: CopySide = { ref: ctx.r32(op + GntCopy.DST_REF), dom: ctx.r32(op + GntCopy.DST_DOM), offset: ctx.r32(op + GntCopy.DST_OFFSET), gref: (flags & GntcopyFlags.DEST_GREF) !== 0 };
        const len = ctx.r32(op + GntCopy.LEN);
        if (ctx.faulted()) return HcErr.EFAULT;
        if (ctx.gv.translate(ctx.cr3, op + GntCopy.STATUS, true) < 0) return HcErr.EFAULT;
        ctx.w32(op + GntCopy.STATUS, copyOp(host, me, src, dst, len));
        ctx.charge(Ev.PvRequest, 1);
      }
      return 0;
    }
    case GnttabCmd.UNMAP_GRANT_REF: {
      for (let k = 0; k < count; k++) {
        const op = (ops + k * GntUnmap.BYTES) | 0;
        const handle = ctx.r32(op + GntUnmap.HANDLE);
        if (ctx.faulted()) return HcErr.EFAULT;
        if (ctx.gv.translate(ctx.cr3, op + GntUnmap.STATUS, true) < 0) return HcErr.EFAULT;
        ctx.w32(op + GntUnmap.STATUS, unmapGrant(host, me, handle));
        ctx.charge(Ev.PvRequest, 1);
      }
      return 0;
    }
    default:
      return HcErr.EINVAL;
  }
}

/** Drop every mapping a domain holds of others' grants (it is going away). */
export function unmapAll(host: PvHost, d: PvDomain): void {
  for (const handle of [...d.grants.maps.keys()]) unmapGrant(host, d, handle);
}

/** A back end inside the hypervisor maps grant `ref` of g (made to DomId.BACKEND): the frame or an HcErr. */
export function backendAcquire(host: PvHost, g: PvDomain, ref: number, readonly: boolean): number {
  return grantAcquire(host, g, ref, BACKEND, readonly);
}

// ---- grant copy ---------------------------------------------------------------------------------

/**
 * Check grant `ref` of domain g for a copy of len bytes at offset by domain `grantee`, as the
 * copy's destination if `write`: the grant's frame, or an HcErr. Nothing is taken: the copy
 * happens at once, inside the hypervisor (for a destination the caller holds a WRITABLE type
 * reference across it: copyInto).
 */
export function grantCopyCheck(host: PvHost, g: PvDomain, ref: number, grantee: number, offset: number, len: number, write: boolean): number {
  const entry = grantEntryAddr(g, ref);
  if (entry < 0) return HcErr.ENOENT;
  const flags = host.mem.u16[entry >>> 1]!;
  if ((flags & GrantFlags.TYPE_MASK) !== GrantFlags.PERMIT_ACCESS) return HcErr.EACCES; // copy only through an access grant
  if (host.mem.u16[(entry + GrantEntry.DOMID) >>> 1]! !== (grantee & 0xffff)) return HcErr.EACCES; // only the domain it was granted to
  if (write && (flags & GrantFlags.READONLY) !== 0) return HcErr.EACCES; // a read-only grant is never a copy destination
  const frame = host.mem.i32[(entry + GrantEntry.FRAME) >>> 2]!;
  if (frame < 0 || frame >= host.types.frames || host.types.owner[frame] !== g.id) return HcErr.EPERM; // the granter's own frame
  if (offset < 0 || len < 0 || offset > 4096 || len > 4096 - offset) return HcErr.EINVAL; // within the page
  return frame;
}

/** Bytes [offset, offset + len) of a checked frame, copied out (the caller charges the copy). */
export function copyFrom(host: PvHost, frame: number, offset: number, len: number): Uint8Array {
  const at = frame * 4096 + offset;
  return host.mem.u8.slice(at, at + len);
}

/**
 * Write bytes into a checked destination frame at offset: the frame must take a WRITABLE type
 * for the copy (never a page table, never a descriptor page); EBUSY otherwise, nothing written.
 */
export function copyInto(host: PvHost, frame: number, owner: number, offset: number, bytes: Uint8Array): number {
  const r = host.types.getType(frame, PageType.WRITABLE, owner);
  if (r < 0) return r; // a copy never writes a page table
  host.mem.writeBytes(frame * 4096 + offset, bytes);
  host.types.putType(frame, owner);
  return 0;
}

/** 64-byte lines a copy of n bytes moves (what Ev.PvGrantCopy counts). */
export function copyLines(n: number): number {
  return (n + 63) >>> 6;
}

interface CopySide {
  ref: number;
  dom: number;
  offset: number;
  gref: boolean;
}

/** Resolve one side of a COPY hypercall: [frame, owner], or an HcErr. */
function copySide(host: PvHost, me: PvDomain, s: CopySide, len: number, write: boolean): number | [number, number] {
  if (s.gref) {
    const g = host.domains.get(s.dom);
    if (!g) return HcErr.ESRCH;
    if (g === me) return HcErr.EINVAL;
    const f = grantCopyCheck(host, g, s.ref, me.id, s.offset, len, write);
    return f < 0 ? f : [f, g.id];
  }
  if (s.dom !== SELF && s.dom !== me.id) return HcErr.EPERM;
  const f = s.ref;
  if (f < 0 || f >= host.types.frames || host.types.owner[f] !== me.id) return HcErr.EPERM; // a frame side is the caller's own frame
  if (s.offset < 0 || len < 0 || s.offset > 4096 || len > 4096 - s.offset) return HcErr.EINVAL;
  return [f, me.id];
}

/** One GNTTABOP_copy: 0 or an HcErr (nothing written on an error). */
function copyOp(host: PvHost, me: PvDomain, src: CopySide, dst: CopySide, len: number): number {
  const from = copySide(host, me, src, len, false);
  if (typeof from === 'number') return from;
  const to = copySide(host, me, dst, len, true);
  if (typeof to === 'number') return to;
  const r = copyInto(host, to[0], to[1], dst.offset, copyFrom(host, from[0], src.offset, len));
  if (r === 0) host.charge(me, Ev.PvGrantCopy, copyLines(len));
  return r;
}

// ---- grant transfer (page flipping) -------------------------------------------------------------

/**
 * Give domain g a fresh machine frame holding `bytes` (from offset 0) through its ACCEPT_TRANSFER
 * entry `ref`, made to `grantee`: the frame joins g's reservation in a free p2m slot, the entry's
 * FRAME names it and TRANSFER_COMPLETED is set. The frame comes from the free pool: the hypervisor
 * back end owns no pages, so this is the exchange Xen's netback made (its page to the guest, a
 * fresh one for itself) seen from the guest. 0 or an HcErr (nothing changed).
 */
export function grantTransfer(host: PvHost, g: PvDomain, ref: number, grantee: number, bytes: Uint8Array): number {
  const entry = grantEntryAddr(g, ref);
  if (entry < 0) return HcErr.ENOENT;
  const flags = host.mem.u16[entry >>> 1]!;
  if ((flags & GrantFlags.TYPE_MASK) !== GrantFlags.ACCEPT_TRANSFER) return HcErr.EACCES; // only into an entry that accepts a transfer
  if (host.mem.u16[(entry + GrantEntry.DOMID) >>> 1]! !== (grantee & 0xffff)) return HcErr.EACCES; // from the domain it names only
  if ((flags & GrantFlags.TRANSFER_COMPLETED) !== 0) return HcErr.EBUSY; // one frame per entry until the guest re-arms it
  if (bytes.length > 4096) return HcErr.EINVAL;
  const p2m = g.domain.p2m;
  let hole = 0;
  while (hole < p2m.length && p2m[hole]! >= 0) hole++;
  if (hole === p2m.length) return HcErr.ENOMEM; // never beyond the domain's quota: it must have given a frame back first
  const alloc = host.platform.frames;
  if (alloc.freeFrames === 0) return HcErr.ENOMEM;
  const f = alloc.alloc(g.id);
  host.mem.fill(f * 4096, 4096, 0);
  host.types.clear(f);
  p2m[hole] = f;
  host.setP2mSlot(f, hole);
  host.mem.writeBytes(f * 4096, bytes);
  host.mem.write32(entry + GrantEntry.FRAME, f);
  setFlagBits(host, entry, GrantFlags.TRANSFER_COMPLETED, true);
  host.charge(g, Ev.PvPageFlip, 1);
  return 0;
}
