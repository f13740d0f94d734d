// A pv domain's stop-and-copy state: hypervisor/save/pv-domain.ts's file (the domain alone, its
// machine frames canonicalised to pseudo-physical ones) without the pages the destination holds
// already from the pre-copy rounds. A page whose bytes in the file are its bytes in memory (every
// page but the page tables, the p2m list and start_info, which canonicalisation rewrites) is left
// out of the PAGE section and listed in an OMIT section; the destination puts the pages it holds
// back before it reads the file as pv-domain.ts writes it. Host code; pure over bytes.

import { SaveFormatError, readSaveFile, writeSaveFile } from '../../hypervisor/save/format.ts';
import type { PageStore } from './dest.ts';
import { MigrationError } from './wire.ts';

const PAGE = 4096;
const enc = new TextEncoder();

/** Byte for byte: a page of the file's PAGE section starts wherever the section does (not word-aligned). */
function samePage(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, PAGE).equals(Buffer.from(b.buffer, b.byteOffset, PAGE));
}

/** The pv-domain file without the pages equal to `raw(pfn)` (the domain's memory now), for pfn < pages. */
export function compactPvState(file: Uint8Array, pages: number, raw: (pfn: number) => Uint8Array | null): Uint8Array {
  const { sections } = readSaveFile(file);
  const page = sections.get('PAGE');
  if (page === undefined || page.length % PAGE !== 0) throw new MigrationError('a pv domain state without its PAGE section');
  const slots = page.length / PAGE;
  const omitted: number[] = [];
  const kept: Uint8Array[] = [];
  for (let s = 0; s < slots; s++) {
    const bytes = page.subarray(s * PAGE, (s + 1) * PAGE);
    const r = s < pages ? raw(s) : null;
    if (r !== null && samePage(bytes, r)) omitted.push(s);
    else kept.push(bytes);
  }
  const compact = new Uint8Array(kept.length * PAGE);
  kept.forEach((b, k) => compact.set(b, k * PAGE));
  const out = [...sections].map(([tag, bytes]) => ({ tag, bytes: tag === 'PAGE' ? compact : bytes }));
  out.push({ tag: 'OMIT', bytes: enc.encode(JSON.stringify(omitted)) });
  return writeSaveFile('pv', out);
}

/** The pv-domain file whole again: the omitted pages from `store`. */
export function expandPvState(file: Uint8Array, store: PageStore): Uint8Array {
  let sections: Map<string, Uint8Array>;
  try {
    sections = readSaveFile(file).sections;
  } catch (e) {
    if (e instanceof SaveFormatError) throw new MigrationError(`the state is refused: ${e.message}`);
    throw e;
  }
  const page = sections.get('PAGE');
  const omit = sections.get('OMIT');
  if (page === undefined || omit === undefined || page.length % PAGE !== 0) throw new MigrationError('the pv state lacks its PAGE or OMIT section');
  let omitted: unknown;
  try {
    omitted = JSON.parse(new TextDecoder().decode(omit));
  } catch {
    throw new MigrationError('the pv state\'s OMIT section is not JSON');
  }
  if (!Array.isArray(omitted) || omitted.some((s, k) => !Number.isInteger(s) || s < 0 || s >= store.pages || (k > 0 && s <= (omitted as number[])[k - 1]!))) {
    throw new MigrationError('the pv state\'s OMIT section is not an ascending list of the domain\'s pages');
  }
  const omitSet = new Set(omitted as number[]);
  const slots = page.length / PAGE + omitSet.size;
  const whole = new Uint8Array(slots * PAGE);
  let from = 0;
  for (let s = 0; s < slots; s++) {
    if (omitSet.has(s)) whole.set(store.page(s), s * PAGE);
    else {
      whole.set(page.subarray(from * PAGE, (from + 1) * PAGE), s * PAGE);
      from++;
    }
  }
  const out = [...sections].filter(([tag]) => tag !== 'OMIT').map(([tag, bytes]) => ({ tag, bytes: tag === 'PAGE' ? whole : bytes }));
  return writeSaveFile('pv', out);
}
