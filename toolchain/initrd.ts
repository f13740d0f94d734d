// The initrd packer: a flat archive of named files (user program images) that the boot loader
// puts in memory next to the kernel; the guest kernel's exec finds programs in it by name
// (guest-kernel/kernel/initrd.ts reads the same format). Pure data transformation.
//
// Layout (all fields little-endian u32; docs/kernel.md "Initrd format"):
//   header, 16 bytes: magic "XIRD", version (1), entry count, total bytes
//   entries, 32 bytes each: name (NAME_BYTES, NUL-padded, at most NAME_BYTES - 1 bytes),
//                           offset of the data from the archive start, size in bytes
//   data: each file at a DATA_ALIGN-aligned offset

export const INITRD_MAGIC = 0x44524958; // "XIRD"
export const INITRD_VERSION = 1;
export const INITRD_HEADER_BYTES = 16;
export const INITRD_ENTRY_BYTES = 32;
/** bytes of an entry's name field, including at least one NUL */
export const INITRD_NAME_BYTES = 24;
export const INITRD_DATA_ALIGN = 16;

export interface InitrdFile {
  name: string;
  data: Uint8Array;
}

/** A file that cannot go into an initrd (bad name, duplicate); the message names it. */
export class InitrdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InitrdError';
  }
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Pack files into an initrd blob, in the order given. */
export function packInitrd(files: readonly InitrdFile[]): Uint8Array {
  const seen = new Set<string>();
  for (const f of files) {
    if (!/^[A-Za-z0-9_.-]+$/.test(f.name)) throw new InitrdError(`initrd: file name "${f.name}" must be letters, digits, '_', '.' or '-'`);
    if (f.name.length > INITRD_NAME_BYTES - 1) throw new InitrdError(`initrd: file name "${f.name}" is longer than ${INITRD_NAME_BYTES - 1} bytes`);
    if (seen.has(f.name)) throw new InitrdError(`initrd: two files are called "${f.name}"`);
    seen.add(f.name);
  }
  let off = align(INITRD_HEADER_BYTES + files.length * INITRD_ENTRY_BYTES, INITRD_DATA_ALIGN);
  const offsets = files.map((f) => {
    const at = off;
    off = align(off + f.data.length, INITRD_DATA_ALIGN);
    return at;
  });
  const total = off;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, INITRD_MAGIC, true);
  dv.setUint32(4, INITRD_VERSION, true);
  dv.setUint32(8, files.length, true);
  dv.setUint32(12, total, true);
  files.forEach((f, k) => {
    const e = INITRD_HEADER_BYTES + k * INITRD_ENTRY_BYTES;
    out.set(new TextEncoder().encode(f.name), e);
    dv.setUint32(e + INITRD_NAME_BYTES, offsets[k]!, true);
    dv.setUint32(e + INITRD_NAME_BYTES + 4, f.data.length, true);
    out.set(f.data, offsets[k]!);
  });
  return out;
}

/** Read an initrd blob back (for tools and tests). Throws InitrdError on a malformed archive. */
export function unpackInitrd(blob: Uint8Array): InitrdFile[] {
  if (blob.length < INITRD_HEADER_BYTES) throw new InitrdError(`initrd: ${blob.length} bytes is too short for the header`);
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (dv.getUint32(0, true) !== INITRD_MAGIC) throw new InitrdError('initrd: bad magic (expected "XIRD")');
  if (dv.getUint32(4, true) !== INITRD_VERSION) throw new InitrdError(`initrd: unsupported version ${dv.getUint32(4, true)}`);
  const count = dv.getUint32(8, true);
  if (INITRD_HEADER_BYTES + count * INITRD_ENTRY_BYTES > blob.length) throw new InitrdError(`initrd: ${count} entries do not fit in ${blob.length} bytes`);
  const files: InitrdFile[] = [];
  for (let k = 0; k < count; k++) {
    const e = INITRD_HEADER_BYTES + k * INITRD_ENTRY_BYTES;
    const nameBytes = blob.subarray(e, e + INITRD_NAME_BYTES);
    const nul = nameBytes.indexOf(0);
    const name = new TextDecoder().decode(nameBytes.subarray(0, nul < 0 ? INITRD_NAME_BYTES : nul));
    const off = dv.getUint32(e + INITRD_NAME_BYTES, true);
    const size = dv.getUint32(e + INITRD_NAME_BYTES + 4, true);
    if (off + size > blob.length) throw new InitrdError(`initrd: "${name}" runs past the end of the archive`);
    files.push({ name, data: blob.slice(off, off + size) });
  }
  return files;
}
