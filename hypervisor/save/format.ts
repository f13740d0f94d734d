// The save file: one versioned, checksummed container for a saved run (`run --save-at`, the
// daemon's save/suspend). A fixed header - magic, format version, mode, payload length and a
// SHA-256 over header and payload - then the payload, deflated: sections, each a four-letter tag
// and a length. docs/migration.md "The save format" describes it byte by byte. Reading checks
// everything before anything is restored; a bad file is one SaveFormatError with a one-line message.
// Host code (node:crypto, node:zlib).

import { createHash } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';

/** The first eight bytes of every save file. */
export const SAVE_MAGIC = Uint8Array.from([0x58, 0x4c, 0x53, 0x41, 0x56, 0x45, 0x0d, 0x0a]); // "XLSAVE\r\n"
/**
 * The format this build writes and reads. 2: the CPU's MMU state moved into its own object
 * (machine/mmu.ts, `cpu.mmu`), so a version-1 graph no longer fits the machine. 3: the
 * hypervisor keeps the physical CPU whose slice run()'s limit cut (a run of several goes on with
 * it), a vCPU exit says whether the guest yielded, and pv domains of several vCPUs are saved.
 */
export const SAVE_VERSION = 3;
/** The modes a save file records, by their code in the header. */
export const SAVE_MODES = ['native', 'pv', 'trap', 'bt', 'hvm'] as const;
export type SaveMode = (typeof SAVE_MODES)[number];

/** magic 8, version u16, mode u8, flags u8, payload length u64, sha256 32 */
export const HEADER_BYTES = 52;
const FLAG_DEFLATED = 1;
/** the largest payload accepted (the machine's memory and the rest, deflated or not) */
const MAX_PAYLOAD_BYTES = 2 ** 32;

export class SaveFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SaveFormatError';
  }
}

/** A section: a four-ASCII-letter tag and its bytes. */
export interface Section {
  tag: string;
  bytes: Uint8Array;
}

function checksum(header: Uint8Array, payload: Uint8Array): Uint8Array {
  const h = createHash('sha256');
  h.update(header.subarray(0, HEADER_BYTES - 32));
  h.update(payload);
  return new Uint8Array(h.digest());
}

/** The file's bytes for `sections` of a run in `mode`. */
export function writeSaveFile(mode: SaveMode, sections: readonly Section[]): Uint8Array {
  let raw = 0;
  for (const s of sections) {
    if (!/^[A-Z]{4}$/.test(s.tag)) throw new Error(`save format: bad section tag '${s.tag}'`);
    raw += 8 + s.bytes.length;
  }
  const body = new Uint8Array(raw);
  const dv = new DataView(body.buffer);
  let at = 0;
  for (const s of sections) {
    for (let i = 0; i < 4; i++) body[at + i] = s.tag.charCodeAt(i);
    dv.setUint32(at + 4, s.bytes.length, true);
    body.set(s.bytes, at + 8);
    at += 8 + s.bytes.length;
  }
  const payload = new Uint8Array(deflateSync(body, { level: 1 }));
  const file = new Uint8Array(HEADER_BYTES + payload.length);
  const hv = new DataView(file.buffer);
  file.set(SAVE_MAGIC, 0);
  hv.setUint16(8, SAVE_VERSION, true);
  hv.setUint8(10, SAVE_MODES.indexOf(mode));
  hv.setUint8(11, FLAG_DEFLATED);
  hv.setBigUint64(12, BigInt(payload.length), true);
  file.set(payload, HEADER_BYTES);
  file.set(checksum(file, payload), HEADER_BYTES - 32);
  return file;
}

/** A save file's mode and sections, checked: magic, version, mode, length, checksum, section framing. */
export function readSaveFile(file: Uint8Array): { mode: SaveMode; sections: Map<string, Uint8Array> } {
  if (file.length < HEADER_BYTES) {
    if (file.length >= SAVE_MAGIC.length && !startsWithMagic(file)) throw new SaveFormatError('not a xenolith save file (bad magic)');
    throw new SaveFormatError(`truncated: ${file.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  }
  if (!startsWithMagic(file)) throw new SaveFormatError('not a xenolith save file (bad magic)');
  const hv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const version = hv.getUint16(8, true);
  if (version !== SAVE_VERSION) throw new SaveFormatError(`save format version ${version}; this build reads version ${SAVE_VERSION}`);
  const modeCode = hv.getUint8(10);
  const mode = SAVE_MODES[modeCode];
  if (mode === undefined) throw new SaveFormatError(`unknown mode code ${modeCode} in the header`);
  const flags = hv.getUint8(11);
  if (flags & ~FLAG_DEFLATED) throw new SaveFormatError(`unknown header flags 0x${flags.toString(16)}`);
  const length = hv.getBigUint64(12, true);
  if (length > BigInt(MAX_PAYLOAD_BYTES)) throw new SaveFormatError(`payload length ${length} is past the format's limit`);
  const have = file.length - HEADER_BYTES;
  if (Number(length) > have) throw new SaveFormatError(`truncated: the header promises ${length} bytes of state, the file has ${have}`);
  if (Number(length) < have) throw new SaveFormatError(`${have - Number(length)} bytes of trailing data after the state`);
  const payload = file.subarray(HEADER_BYTES);
  const want = checksum(file, payload);
  const got = file.subarray(HEADER_BYTES - 32, HEADER_BYTES);
  for (let i = 0; i < 32; i++) if (want[i] !== got[i]) throw new SaveFormatError('checksum mismatch: the file is corrupt or was changed');
  let body: Uint8Array;
  if (flags & FLAG_DEFLATED) {
    try {
      body = new Uint8Array(inflateSync(payload));
    } catch (e) {
      throw new SaveFormatError(`the state does not inflate (${(e as Error).message})`);
    }
  } else body = payload;
  const sections = new Map<string, Uint8Array>();
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  while (at < body.length) {
    if (at + 8 > body.length) throw new SaveFormatError(`a section header is cut short at byte ${at} of the state`);
    const tag = String.fromCharCode(...body.subarray(at, at + 4));
    const len = dv.getUint32(at + 4, true);
    if (at + 8 + len > body.length) throw new SaveFormatError(`section ${tag} is cut short`);
    if (sections.has(tag)) throw new SaveFormatError(`section ${tag} appears twice`);
    sections.set(tag, body.subarray(at + 8, at + 8 + len));
    at += 8 + len;
  }
  return { mode, sections };
}

function startsWithMagic(file: Uint8Array): boolean {
  for (let i = 0; i < SAVE_MAGIC.length; i++) if (file[i] !== SAVE_MAGIC[i]) return false;
  return true;
}

/** A read file's sections by tag: the bytes (`part`) or parsed JSON (`json`), SaveFormatError when one is missing or bad. */
export function sectionReader(sections: Map<string, Uint8Array>): { part: (tag: string) => Uint8Array; json: (tag: string) => unknown } {
  const part = (tag: string): Uint8Array => {
    const s = sections.get(tag);
    if (s === undefined) throw new SaveFormatError(`section ${tag} is missing`);
    return s;
  };
  const json = (tag: string): unknown => {
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(part(tag)));
    } catch (e) {
      throw new SaveFormatError(`section ${tag} is not valid JSON (${(e as Error).message})`);
    }
  };
  return { part, json };
}
