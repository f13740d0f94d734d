// The XL32 bootable image format: entry point, loadable segments, symbols and a JSON notes blob.
// Written by the toolchain, read by loaders (bare machine, hypervisor domain builders, disasm).
// Pure data transformation; imports nothing of ours but machine/hex.ts.

import { hex } from './hex.ts';

/*
 * Layout (all fields little-endian u32):
 *   header, 32 bytes:
 *     0  magic "XLIM"          4  version (1)         8  entry address (virtual)
 *     12 segment count         16 symbol count        20 arch (ImageArch)
 *     24 notes length (bytes)  28 string table length (bytes)
 *   segment table: count x 24 bytes {vaddr, paddr, memBytes, fileBytes, fileOffset, flags}
 *   symbol table:  count x 16 bytes {addr, size, kind, nameOffset}
 *   string table:  NUL-terminated UTF-8 names
 *   notes:         UTF-8 JSON object (free-form metadata, e.g. the compiler's source map)
 *   segment data
 */

export const IMAGE_MAGIC = 0x4d494c58; // "XLIM"
export const IMAGE_VERSION = 1;
const HEADER_BYTES = 32;
const SEGMENT_BYTES = 24;
const SYMBOL_BYTES = 16;
/** Largest image a loader accepts: far more than any guest needs, small enough to reject garbage early. */
export const IMAGE_MAX_BYTES = 64 * 1024 * 1024;

/** What the image is built for. */
export const enum ImageArch {
  /** bare hardware, no kernel conventions (assembly demos) */
  Bare = 0,
  /** a kernel for arch/native */
  Native = 1,
  /** a kernel for arch/pv */
  Pv = 2,
  /** a user program (ring 3) */
  User = 3,
}
export const ARCH_NAMES = ['bare', 'native', 'pv', 'user'] as const;
export type ArchName = (typeof ARCH_NAMES)[number];

export const enum SegFlag {
  R = 1,
  W = 2,
  X = 4,
}

export const enum SymKind {
  Function = 0,
  Object = 1,
  Label = 2,
}

export interface Segment {
  vaddr: number;
  paddr: number;
  /** bytes in memory; the part beyond data.length is zero-filled (bss) */
  memBytes: number;
  flags: number;
  data: Uint8Array;
}

export interface ImageSymbol {
  name: string;
  addr: number;
  size: number;
  kind: SymKind;
}

export interface Image {
  entry: number;
  arch: ImageArch;
  segments: Segment[];
  symbols: ImageSymbol[];
  notes: Record<string, unknown>;
}

/** A malformed image file; the message says what is wrong and at which byte offset. */
export class ImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageError';
  }
}

export function encodeImage(img: Image): Uint8Array {
  const enc = new TextEncoder();
  const nameBytes: Uint8Array[] = [];
  const nameOffsets: number[] = [];
  let strLen = 0;
  for (const s of img.symbols) {
    const b = enc.encode(s.name);
    nameOffsets.push(strLen);
    nameBytes.push(b);
    strLen += b.length + 1;
  }
  const notes = enc.encode(JSON.stringify(img.notes ?? {}));
  const tablesEnd = HEADER_BYTES + img.segments.length * SEGMENT_BYTES + img.symbols.length * SYMBOL_BYTES;
  let dataOff = tablesEnd + strLen + notes.length;
  const total = dataOff + img.segments.reduce((n, s) => n + s.data.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const u32 = (off: number, v: number) => dv.setUint32(off, v >>> 0, true);
  u32(0, IMAGE_MAGIC);
  u32(4, IMAGE_VERSION);
  u32(8, img.entry);
  u32(12, img.segments.length);
  u32(16, img.symbols.length);
  u32(20, img.arch);
  u32(24, notes.length);
  u32(28, strLen);
  let off = HEADER_BYTES;
  for (const s of img.segments) {
    u32(off, s.vaddr);
    u32(off + 4, s.paddr);
    u32(off + 8, s.memBytes);
    u32(off + 12, s.data.length);
    u32(off + 16, dataOff);
    u32(off + 20, s.flags);
    out.set(s.data, dataOff);
    dataOff += s.data.length;
    off += SEGMENT_BYTES;
  }
  img.symbols.forEach((s, k) => {
    u32(off, s.addr);
    u32(off + 4, s.size);
    u32(off + 8, s.kind);
    u32(off + 12, nameOffsets[k]!);
    off += SYMBOL_BYTES;
  });
  nameBytes.forEach((b) => {
    out.set(b, off);
    off += b.length + 1;
  });
  out.set(notes, off);
  return out;
}

export function decodeImage(bytes: Uint8Array, what = 'image'): Image {
  const fail = (msg: string): never => {
    throw new ImageError(`${what}: ${msg}`);
  };
  if (bytes.length < HEADER_BYTES) fail(`too short to be an XL32 image (${bytes.length} bytes, header needs ${HEADER_BYTES})`);
  if (bytes.length > IMAGE_MAX_BYTES) fail(`too large (${bytes.length} bytes, limit ${IMAGE_MAX_BYTES})`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (off: number) => dv.getUint32(off, true);
  if (u32(0) !== IMAGE_MAGIC) fail(`bad magic at offset 0 (not an XL32 image; expected "XLIM")`);
  if (u32(4) !== IMAGE_VERSION) fail(`unsupported version ${u32(4)} at offset 4 (this loader reads version ${IMAGE_VERSION})`);
  const entry = u32(8);
  const nseg = u32(12);
  const nsym = u32(16);
  const arch = u32(20);
  const notesLen = u32(24);
  const strLen = u32(28);
  if (arch > ImageArch.User) fail(`unknown arch ${arch} at offset 20`);
  const segEnd = HEADER_BYTES + nseg * SEGMENT_BYTES;
  const symEnd = segEnd + nsym * SYMBOL_BYTES;
  const strEnd = symEnd + strLen;
  const notesEnd = strEnd + notesLen;
  if (nseg > 4096 || nsym > 1_000_000 || notesEnd > bytes.length) {
    fail(`tables run past the end of the file (segments ${nseg}, symbols ${nsym}, strings ${strLen} bytes, notes ${notesLen} bytes; file ${bytes.length} bytes)`);
  }
  const segments: Segment[] = [];
  for (let k = 0; k < nseg; k++) {
    const o = HEADER_BYTES + k * SEGMENT_BYTES;
    const vaddr = u32(o), paddr = u32(o + 4), memBytes = u32(o + 8), fileBytes = u32(o + 12), fileOff = u32(o + 16), flags = u32(o + 20);
    if (fileBytes > memBytes) fail(`segment ${k} at offset ${o}: file size ${fileBytes} exceeds memory size ${memBytes}`);
    if (fileOff + fileBytes > bytes.length || fileOff < notesEnd && fileBytes > 0) fail(`segment ${k} at offset ${o}: data [${fileOff}, ${fileOff + fileBytes}) lies outside the data area`);
    if (vaddr + memBytes > 0x1_0000_0000 || paddr + memBytes > 0x1_0000_0000) fail(`segment ${k} at offset ${o}: wraps past the 4 GiB address space`);
    segments.push({ vaddr, paddr, memBytes, flags, data: bytes.slice(fileOff, fileOff + fileBytes) });
  }
  const dec = new TextDecoder('utf-8', { fatal: false });
  const symbols: ImageSymbol[] = [];
  for (let k = 0; k < nsym; k++) {
    const o = segEnd + k * SYMBOL_BYTES;
    const nameOff = u32(o + 12);
    if (nameOff >= strLen) fail(`symbol ${k} at offset ${o}: name offset ${nameOff} outside the string table`);
    let end = symEnd + nameOff;
    while (end < strEnd && bytes[end] !== 0) end++;
    symbols.push({ addr: u32(o), size: u32(o + 4), kind: u32(o + 8) as SymKind, name: dec.decode(bytes.subarray(symEnd + nameOff, end)) });
  }
  let notes: Record<string, unknown> = {};
  if (notesLen > 0) {
    try {
      const parsed: unknown = JSON.parse(dec.decode(bytes.subarray(strEnd, notesEnd)));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) notes = parsed as Record<string, unknown>;
      else fail(`notes at offset ${strEnd} are not a JSON object`);
    } catch (e) {
      if (e instanceof ImageError) throw e;
      fail(`notes at offset ${strEnd} are not valid JSON`);
    }
  }
  return { entry, arch: arch as ImageArch, segments, symbols, notes };
}

/** The symbol containing addr (the nearest function or label at or below it), for backtraces and disassembly. */
export function symbolize(symbols: readonly ImageSymbol[], addr: number): string {
  let best: ImageSymbol | undefined;
  for (const s of symbols) {
    if (s.addr <= addr >>> 0 && (!best || s.addr > best.addr) && s.kind !== SymKind.Object) best = s;
  }
  if (!best) return hex(addr);
  const off = (addr >>> 0) - best.addr;
  return off === 0 ? best.name : `${best.name}+0x${off.toString(16)}`;
}
