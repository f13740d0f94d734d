// The object graph of a running machine, written as data and read back in place. A saved run is
// everything reachable from its root (the bare Machine, or the Hypervisor and its domains): every
// field of every object - registers, the cost ledger, memory, the devices and their in-flight
// requests, the event queue (its callbacks are deferred calls, machine/deferred.ts), the
// hypervisor's per-domain bookkeeping, the TLB, shadow tables, bt's translation cache - so what is
// restored is what was saved, never rebuilt. Host code; imports machine/deferred.ts only.
//
// Why a graph and not a hand-written record per class: the state is spread over a few hundred
// fields in some sixty classes that keep changing; a field forgotten by a hand-written saver is a
// restored run whose cycles drift. Walking the graph forgets nothing, and the few fields that are
// not state (a host-side cache: the translator's compiled JavaScript) are named in one list.
//
// Closures are not data. The ones a machine makes when it is built (a device's interrupt line, the
// console's writer) are matched by position: a restore first builds a *template* - a fresh machine
// of the same configuration, not yet run - and the saved graph is laid over it, object by object,
// reusing the template's objects wherever the same slot holds an object of the same class, so the
// template's closures, which captured those objects, stay bound to the restored state. A function
// the template has no counterpart for is refused when saving is checked (saveGraph's `template`)
// or at restore, never half-applied.
//
// Part of a machine can be saved too (one pv domain of a shared machine: hypervisor/save/
// pv-domain.ts): the objects it shares with the rest are *externals*, written by name and resolved
// at restore to the restoring side's own objects of that name, never written.

import { deferred, deferredCallOf, type DeferredCall } from '../../machine/deferred.ts';

/** A value in the graph: a JSON number/boolean/null, or a tagged array. */
type Value = number | boolean | null | [string, ...unknown[]];

/** Records, one per object, by id (the root is id 0). */
type RecordEntry =
  | ['o', string | null, unknown[]] // object: class name (null: plain), key, value, key, value ...
  | ['a', Value[]] // array
  | ['m', Value[]] // Map: key, value, key, value ...
  | ['s', Value[]] // Set
  | ['B', number, number, number[]] // ArrayBuffer: offset in the blob, byte length, the chunks stored (the rest are zero)
  | ['t', string, number, number, number] // typed array: type, buffer id, byte offset, length
  | ['F'] // a function of the template's (matched by slot)
  | ['D', number] // a deferred call: the id of its call record
  | ['X', string]; // an object outside the saved part, by name (a domain's save: its hypervisor, the machine's memory ...)

export interface EncodedGraph {
  records: RecordEntry[];
  /** every ArrayBuffer's bytes, concatenated */
  blob: Uint8Array;
}

/** Buffers are stored in chunks of this many bytes; an all-zero chunk is not stored (most of a guest's memory is). */
export const CHUNK_BYTES = 4096;

/** The indices of the chunks of `buf` that are not all zero (and not omitted). */
function nonZeroChunks(buf: ArrayBuffer, omitted: ((chunk: number) => boolean) | null = null): number[] {
  const out: number[] = [];
  const n = buf.byteLength;
  const words = new Int32Array(buf, 0, n >>> 2);
  const bytes = new Uint8Array(buf);
  for (let c = 0, at = 0; at < n; c++, at += CHUNK_BYTES) {
    if (omitted !== null && omitted(c)) continue;
    const end = Math.min(n, at + CHUNK_BYTES);
    let nz = false;
    const wEnd = end >>> 2;
    for (let w = at >>> 2; w < wEnd; w++) if (words[w] !== 0) { nz = true; break; }
    if (!nz) for (let b = wEnd << 2; b < end; b++) if (bytes[b] !== 0) { nz = true; break; }
    if (nz) out.push(c);
  }
  return out;
}

/** The fields of a class that are not state (host-side caches): not saved, kept from the template at restore. */
export type TransientFields = ReadonlyMap<string, readonly string[]>;

export class GraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GraphError';
  }
}

const TYPED: Record<string, new (b: ArrayBuffer, off: number, len: number) => ArrayBufferView & ArrayLike<number | bigint>> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

function className(o: object): string | null {
  const proto = Object.getPrototypeOf(o) as object | null;
  if (proto === Object.prototype) return null;
  if (proto === null) return '#null';
  const name = (proto as { constructor?: { name?: string } }).constructor?.name;
  if (!name) throw new GraphError('an object of an anonymous class cannot be saved');
  return name;
}

/** A typed array or a DataView (a view of an ArrayBuffer). */
function isTyped(o: object): o is ArrayBufferView {
  return ArrayBuffer.isView(o);
}

/** A view's length in its own units (elements; bytes for a DataView). */
function viewLength(v: ArrayBufferView): number {
  return v instanceof DataView ? v.byteLength : (v as unknown as ArrayLike<number>).length;
}

/**
 * Chunks of a buffer that another channel carries (live migration's pre-copied pages): for a
 * buffer, the chunk indices not to store, or null to store it whole. An omitted chunk is not
 * listed, so a plain restore reads it as zero; the restorer writes it from the other channel.
 */
export type OmitChunks = (buf: ArrayBuffer) => ((chunk: number) => boolean) | null;

/**
 * Write the graph under `root` as records and a blob. `transient` names the fields of a class that
 * are skipped; `externals` objects written by name (pv-domain.ts); `omit` the chunks of a buffer
 * carried elsewhere. Throws a GraphError naming the path of anything that cannot be written (a
 * class without a name, a WeakMap, a DataView, a symbol).
 */
export function encodeGraph(root: object, transient: TransientFields, externals?: ReadonlyMap<object, string>, omit?: OmitChunks): EncodedGraph {
  const ids = new Map<object, number>();
  const records: RecordEntry[] = [];
  const queue: { obj: object; path: string }[] = [];
  const buffers: { buf: ArrayBuffer; chunks: number[]; at: number }[] = [];
  let blobBytes = 0;
  const protoByName = new Map<string, object>();

  const ref = (obj: object, path: string): number => {
    let id = ids.get(obj);
    if (id !== undefined) return id;
    id = records.length;
    ids.set(obj, id);
    const name = externals?.get(obj);
    if (name !== undefined) {
      records.push(['X', name]);
      return id;
    }
    records.push(['F']); // placeholder until visited
    queue.push({ obj, path });
    return id;
  };
  const val = (v: unknown, path: string): Value => {
    switch (typeof v) {
      case 'number':
        if (Number.isFinite(v) && !Object.is(v, -0)) return v;
        return ['n', Object.is(v, -0) ? '-0' : String(v)];
      case 'boolean':
        return v;
      case 'string':
        return ['s', v];
      case 'undefined':
        return ['u'];
      case 'bigint':
        return ['b', v.toString()];
      case 'object':
        return v === null ? null : ['r', ref(v, path)];
      case 'function':
        return ['r', ref(v, path)];
      default:
        throw new GraphError(`${path}: a ${typeof v} cannot be saved`);
    }
  };

  ref(root, '$');
  for (let q = 0; q < queue.length; q++) {
    const { obj, path } = queue[q]!;
    const id = ids.get(obj)!;
    if (typeof obj === 'function') {
      const call = deferredCallOf(obj);
      records[id] = call ? ['D', ref(call, `${path}.deferredCall`)] : ['F'];
      continue;
    }
    if (obj instanceof ArrayBuffer) {
      const omitted = omit?.(obj) ?? null;
      const chunks = nonZeroChunks(obj, omitted);
      records[id] = ['B', blobBytes, obj.byteLength, chunks];
      buffers.push({ buf: obj, chunks, at: blobBytes });
      for (const c of chunks) blobBytes += Math.min(CHUNK_BYTES, obj.byteLength - c * CHUNK_BYTES);
      continue;
    }
    if (isTyped(obj)) {
      if (!(obj.buffer instanceof ArrayBuffer)) throw new GraphError(`${path}: a view of a shared buffer cannot be saved`);
      const type = Object.getPrototypeOf(obj).constructor.name as string;
      records[id] = ['t', type, ref(obj.buffer, `${path}.buffer`), obj.byteOffset, viewLength(obj)];
      continue;
    }
    if (Array.isArray(obj)) {
      const out: Value[] = [];
      for (let i = 0; i < obj.length; i++) out.push(val(obj[i], `${path}[${i}]`));
      records[id] = ['a', out];
      continue;
    }
    if (obj instanceof Map) {
      const out: Value[] = [];
      let i = 0;
      for (const [k, v] of obj) {
        out.push(val(k, `${path}<key ${i}>`), val(v, `${path}<${typeof k === 'object' ? i : String(k)}>`));
        i++;
      }
      records[id] = ['m', out];
      continue;
    }
    if (obj instanceof Set) {
      const out: Value[] = [];
      let i = 0;
      for (const v of obj) out.push(val(v, `${path}{${i++}}`));
      records[id] = ['s', out];
      continue;
    }
    if (obj instanceof WeakMap || obj instanceof WeakSet || obj instanceof Promise || obj instanceof Date || obj instanceof RegExp) {
      throw new GraphError(`${path}: a ${Object.getPrototypeOf(obj).constructor.name} cannot be saved`);
    }
    const cls = className(obj);
    if (cls !== null && cls !== '#null') {
      const proto = Object.getPrototypeOf(obj) as object;
      const had = protoByName.get(cls);
      if (had !== undefined && had !== proto) throw new GraphError(`${path}: two classes are named ${cls}`);
      protoByName.set(cls, proto);
    }
    const skip = cls !== null ? transient.get(cls) : undefined;
    const fields: unknown[] = [];
    for (const k of Object.keys(obj)) {
      if (skip?.includes(k)) continue;
      fields.push(k, val((obj as Record<string, unknown>)[k], `${path}.${k}`));
    }
    records[id] = ['o', cls, fields];
  }
  const blob = new Uint8Array(blobBytes);
  for (const { buf, chunks, at } of buffers) {
    let to = at;
    for (const c of chunks) {
      const part = new Uint8Array(buf, c * CHUNK_BYTES, Math.min(CHUNK_BYTES, buf.byteLength - c * CHUNK_BYTES));
      blob.set(part, to);
      to += part.length;
    }
  }
  return { records, blob };
}

/** Every class reachable from `root`, by name (the prototypes a restore may instantiate). */
export function classesOf(root: object, transient: TransientFields): Map<string, object> {
  const out = new Map<string, object>();
  const seen = new Set<object>();
  const stack: object[] = [root];
  while (stack.length > 0) {
    const o = stack.pop()!;
    if (seen.has(o)) continue;
    seen.add(o);
    if (typeof o === 'function' || o instanceof ArrayBuffer || isTyped(o)) continue;
    const push = (v: unknown): void => {
      if ((typeof v === 'object' && v !== null) || typeof v === 'function') stack.push(v as object);
    };
    if (Array.isArray(o)) o.forEach(push);
    else if (o instanceof Map) for (const [k, v] of o) (push(k), push(v));
    else if (o instanceof Set) o.forEach(push);
    else {
      const cls = className(o);
      if (cls !== null && cls !== '#null') out.set(cls, Object.getPrototypeOf(o) as object);
      const skip = cls !== null ? transient.get(cls) : undefined;
      for (const k of Object.keys(o)) if (!skip?.includes(k)) push((o as Record<string, unknown>)[k]);
    }
  }
  return out;
}

/**
 * Lay the saved graph over `template` (a fresh machine of the same configuration): objects in the
 * same slot and of the same kind and class are reused and overwritten in place, others are
 * created from `classes` (name -> prototype). Nothing of the template is changed until the whole
 * graph has been matched and checked, so a refused restore leaves the template as it was.
 * Returns the restored root (the template itself).
 */
export function restoreGraph(
  g: EncodedGraph,
  template: object,
  classes: ReadonlyMap<string, object>,
  transient: TransientFields,
  externals?: ReadonlyMap<string, object>,
): object {
  const { records, blob } = g;
  const n = records.length;
  if (n === 0) throw new GraphError('the saved graph is empty');
  const live: unknown[] = new Array(n);
  const reused: boolean[] = new Array(n).fill(false);
  const used = new Set<unknown>();
  const paths: string[] = new Array(n);

  const rec = (id: unknown, path: string): RecordEntry => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= n) throw new GraphError(`${path}: bad reference ${String(id)}`);
    return records[id]!;
  };
  const refOf = (v: unknown): number | null => (Array.isArray(v) && v[0] === 'r' ? (v[1] as number) : null);

  // Phase 1: match each record to a template object (or a new one), breadth first from the root.
  const queue: { id: number; cand: unknown; path: string }[] = [{ id: 0, cand: template, path: '$' }];
  const visit = (id: number, cand: unknown, path: string): void => {
    if (live[id] !== undefined) return;
    const r = rec(id, path);
    paths[id] = path;
    if (r[0] === 'X') {
      // an object outside the saved part: the restoring side's own, by name, never written
      const ext = externals?.get(r[1]);
      if (ext === undefined) throw new GraphError(`${path}: names ${String(r[1])}, which the restoring side does not have`);
      live[id] = ext;
      return;
    }
    // a view's buffer is matched before the view, with the template view's buffer as its candidate
    if (r[0] === 't') visit(r[2], isTypedAny(cand) ? (cand as ArrayBufferView).buffer : undefined, `${path}.buffer`);
    if (live[id] !== undefined) return;
    const ok = cand !== undefined && cand !== null && !used.has(cand) && compatible(r, cand, live);
    if (ok) {
      live[id] = cand;
      reused[id] = true;
      used.add(cand);
    } else {
      if (r[0] === 'F') throw new GraphError(`${path}: a function the restoring machine has no counterpart for`);
      live[id] = create(r, path, classes, live, records);
    }
    const c = reused[id] ? (cand as Record<string, unknown>) : undefined;
    const child = (v: unknown, cc: unknown, p: string): void => {
      const cid = refOf(v);
      if (cid !== null) queue.push({ id: cid, cand: cc, path: p });
    };
    switch (r[0]) {
      case 'o': {
        const f = r[2];
        for (let i = 0; i < f.length; i += 2) child(f[i + 1], c?.[f[i] as string], `${path}.${String(f[i])}`);
        break;
      }
      case 'a':
        r[1].forEach((v, i) => child(v, c ? (c as unknown as unknown[])[i] : undefined, `${path}[${i}]`));
        break;
      case 'm': {
        const m = c as unknown as Map<unknown, unknown> | undefined;
        for (let i = 0; i < r[1].length; i += 2) {
          const k = r[1][i];
          const kp = decodePrimitive(k);
          child(k, undefined, `${path}<key>`);
          child(r[1][i + 1], kp.ok && m ? m.get(kp.v) : undefined, `${path}<${String(kp.v)}>`);
        }
        break;
      }
      case 's': {
        // a set's members are matched by position (its insertion order)
        const members = c ? [...(c as unknown as Set<unknown>)] : [];
        r[1].forEach((v, i) => child(v, members[i], `${path}{${i}}`));
        break;
      }
      case 'D':
        child(['r', r[1]], undefined, `${path}.deferredCall`);
        break;
      default:
        break;
    }
  };
  for (let q = 0; q < queue.length; q++) visit(queue[q]!.id, queue[q]!.cand, queue[q]!.path);
  for (let id = 0; id < n; id++) if (live[id] === undefined) throw new GraphError(`record ${id} is not reachable from the root`);

  const value = (v: unknown, path: string): unknown => {
    if (v === null || typeof v === 'number' || typeof v === 'boolean') return v;
    if (!Array.isArray(v)) throw new GraphError(`${path}: bad value`);
    switch (v[0]) {
      case 'r':
        rec(v[1], path);
        return live[v[1] as number];
      case 's':
        return String(v[1]);
      case 'u':
        return undefined;
      case 'n':
        return v[1] === '-0' ? -0 : Number(v[1]);
      case 'b':
        return BigInt(v[1] as string);
      default:
        throw new GraphError(`${path}: bad value tag ${String(v[0])}`);
    }
  };

  // Phase 2: check what cannot be written before writing anything: every value decodes (tags,
  // references), every buffer's chunks lie inside it and the blob, frozen template objects agree.
  for (let id = 0; id < n; id++) {
    const r = records[id]!;
    const p = paths[id]!;
    if (r[0] === 'o') for (let i = 1; i < r[2].length; i += 2) value(r[2][i], p);
    if (r[0] === 'a' || r[0] === 'm' || r[0] === 's') for (const v of r[1]) value(v, p);
    if (r[0] === 'B') {
      const [, off, len, chunks] = r;
      let bytes = 0;
      for (const c of chunks) {
        if (!Number.isInteger(c) || c < 0 || c * CHUNK_BYTES >= len) throw new GraphError(`${p}: chunk ${String(c)} is outside its buffer`);
        bytes += Math.min(CHUNK_BYTES, len - c * CHUNK_BYTES);
      }
      if (off < 0 || off + bytes > blob.length) throw new GraphError(`${p}: its bytes lie past the blob's end`);
    }
    if (r[0] !== 'o' || !reused[id]) continue;
    const o = live[id] as Record<string, unknown>;
    if (!Object.isFrozen(o)) continue;
    const f = r[2];
    for (let i = 0; i < f.length; i += 2) {
      if (!Object.is(o[f[i] as string], value(f[i + 1], paths[id]!))) throw new GraphError(`${paths[id]}.${String(f[i])}: differs from this build's constant`);
    }
  }

  // Phase 3: write.
  for (let id = 0; id < n; id++) {
    const r = records[id]!;
    const path = paths[id]!;
    switch (r[0]) {
      case 'o': {
        const o = live[id] as Record<string, unknown>;
        if (Object.isFrozen(o)) break;
        const f = r[2];
        const keep = new Set<string>();
        for (let i = 0; i < f.length; i += 2) keep.add(f[i] as string);
        const skip = r[1] !== null ? transient.get(r[1]) : undefined;
        if (reused[id]) for (const k of Object.keys(o)) if (!keep.has(k) && !skip?.includes(k)) delete o[k];
        for (let i = 0; i < f.length; i += 2) o[f[i] as string] = value(f[i + 1], `${path}.${String(f[i])}`);
        // a new object's transient fields (host-side caches, never saved) start empty
        if (!reused[id] && skip !== undefined) for (const k of skip) o[k] = null;
        break;
      }
      case 'a': {
        const a = live[id] as unknown[];
        a.length = 0;
        r[1].forEach((v, i) => a.push(value(v, `${path}[${i}]`)));
        break;
      }
      case 'm': {
        const m = live[id] as Map<unknown, unknown>;
        m.clear();
        for (let i = 0; i < r[1].length; i += 2) m.set(value(r[1][i], path), value(r[1][i + 1], path));
        break;
      }
      case 's': {
        const s = live[id] as Set<unknown>;
        s.clear();
        for (const v of r[1]) s.add(value(v, path));
        break;
      }
      case 'B': {
        const [, off, len, chunks] = r;
        const bytes = new Uint8Array(live[id] as ArrayBuffer);
        bytes.fill(0);
        let from = off;
        for (const c of chunks) {
          const n = Math.min(CHUNK_BYTES, len - c * CHUNK_BYTES);
          bytes.set(blob.subarray(from, from + n), c * CHUNK_BYTES);
          from += n;
        }
        break;
      }
      case 'D':
        (live[id] as { deferredCall: DeferredCall }).deferredCall = live[r[1]] as DeferredCall;
        break;
      default:
        break; // typed arrays are views of restored buffers; functions are the template's
    }
  }
  return live[0] as object;
}

function decodePrimitive(v: unknown): { ok: boolean; v: unknown } {
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return { ok: true, v };
  if (Array.isArray(v) && v[0] === 's') return { ok: true, v: String(v[1]) };
  if (Array.isArray(v) && v[0] === 'n') return { ok: true, v: v[1] === '-0' ? -0 : Number(v[1]) };
  return { ok: false, v: undefined };
}

/** Whether a template object can take a record's contents in place. */
function compatible(r: RecordEntry, cand: unknown, live: unknown[]): boolean {
  switch (r[0]) {
    case 'F':
      return typeof cand === 'function' && deferredCallOf(cand) === null;
    case 'D':
      return false; // made anew
    case 'B':
      return cand instanceof ArrayBuffer && cand.byteLength === r[2];
    case 't': {
      if (!isTypedAny(cand) || Object.getPrototypeOf(cand).constructor.name !== r[1]) return false;
      const buf = live[r[2]];
      const view = cand as ArrayBufferView;
      // the buffer is matched first (it is created before its views): the view must sit on it
      return view.buffer === buf && view.byteOffset === r[3] && viewLength(view) === r[4];
    }
    case 'a':
      return Array.isArray(cand);
    case 'm':
      return cand instanceof Map;
    case 's':
      return cand instanceof Set;
    case 'o':
      return typeof cand === 'object' && cand !== null && !Array.isArray(cand) && !(cand instanceof Map) && !(cand instanceof Set) && !ArrayBuffer.isView(cand) && !(cand instanceof ArrayBuffer) && className(cand) === r[1];
    default:
      return false;
  }
}

function isTypedAny(o: unknown): boolean {
  return typeof o === 'object' && o !== null && ArrayBuffer.isView(o);
}

/** A new, empty object for a record the template has no counterpart for. */
function create(
  r: RecordEntry,
  path: string,
  classes: ReadonlyMap<string, object>,
  live: unknown[],
  records: RecordEntry[],
): unknown {
  switch (r[0]) {
    case 'o': {
      if (r[1] === null) return {};
      if (r[1] === '#null') return Object.create(null);
      const proto = classes.get(r[1]);
      if (proto === undefined) throw new GraphError(`${path}: class ${r[1]} is unknown to this build`);
      return Object.create(proto);
    }
    case 'a':
      return [];
    case 'm':
      return new Map();
    case 's':
      return new Set();
    case 'B':
      return new ArrayBuffer(r[2]);
    case 't': {
      const T = r[1] === 'DataView' ? (DataView as unknown as (typeof TYPED)[string]) : TYPED[r[1]];
      if (T === undefined) throw new GraphError(`${path}: unknown typed array ${r[1]}`);
      if (records[r[2]]?.[0] !== 'B') throw new GraphError(`${path}: a view of something that is not a buffer`);
      const buf = live[r[2]] as ArrayBuffer;
      const bytes = r[1] === 'DataView' ? 1 : (T as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      if (r[3] + r[4] * bytes > buf.byteLength) throw new GraphError(`${path}: a view past its buffer's end`);
      return new T(buf, r[3], r[4]);
    }
    case 'D':
      return deferred(null, '');
    case 'F':
      throw new GraphError(`${path}: a function the restoring machine has no counterpart for`);
    default:
      throw new GraphError(`${path}: unknown record`);
  }
}
