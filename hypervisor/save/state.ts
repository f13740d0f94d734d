// Save and restore a whole run: the save file's sections (META: what the run is, its vCPUs and its
// counters; GRPH and BLOB: the object graph of hypervisor/save/graph.ts) over the container of
// format.ts. The root is the bare Machine (native) or the Hypervisor (every other mode), so one
// file holds the CPU, memory, every device and the hypervisor's bookkeeping of every domain.
// Host code.

import { EncodedGraph, GraphError, classesOf, encodeGraph, restoreGraph, type OmitChunks, type TransientFields } from './graph.ts';
import { SaveFormatError, readSaveFile, sectionReader, writeSaveFile, type SaveMode } from './format.ts';
import { savedClasses } from './classes.ts';

/**
 * Fields that are not state: host-side caches, rebuilt on demand, that change no simulated cycle.
 * The translator engine's compiled code and its code-frame marks (the marks only tell the
 * translator to drop code; they charge nothing: machine/cpu.ts codeStored), and the memory's
 * code-write hook, which the translator chains itself into when it is made. A restore keeps the
 * template's: no translator yet (it is made again on the first run), the mode's own hook (bt's).
 * Under the translator engine bt's units hold compiled code too (their straight runs and the
 * chains compiled from them, hypervisor/bt/mode.ts), and the mode its translator: a restored unit
 * starts with none (null, as a new unit) and compiles again once entered hot. bt's marks of its
 * units' frames (a bit of the CPU's marks, which the code-store hook's counts rely on) are made
 * again by the restored mode before it runs (BtMode.marksMade).
 */
export const TRANSIENT: TransientFields = new Map([
  ['Cpu', ['tx', 'tbFrame']],
  ['PhysicalMemory', ['onCodeWrite']],
  ['BtMode', ['tx', 'marksMade', 'vt', 'vst', 'rwBc', 'chainMemo', 'chainRecipes', 'recipeUnits', 'leftAtBoundary', 'handed']],
  ['TranslationUnit', ['runs', 'chain', 'seen', 'recipe']],
]);

/** One vCPU as the META section lists it (the graph holds its whole state; this is for readers of the file). */
export interface SavedVcpu {
  domain: string;
  id: number;
  pc: number;
  cycles: number;
  instructions: number;
}

export interface SaveMeta {
  /** the run's configuration, as the caller needs it to build the restoring machine (JSON) */
  setup: Record<string, unknown>;
  /** the machine's CPU clock when saved */
  cycles: number;
  /** the caller's counters at the save (a session's cycles, instructions and idle cycles so far) */
  counters: Record<string, number>;
  /** every vCPU (one per domain today; several once a domain has several) */
  vcpus: SavedVcpu[];
}

export interface SavedRun {
  mode: SaveMode;
  meta: SaveMeta;
  graph: EncodedGraph;
}

const enc = new TextEncoder();

/**
 * The save file of the run under `root`. `omit` leaves out chunks of buffers another channel
 * carries (live migration: the domain's pages, sent in the pre-copy rounds); `externals` objects
 * outside the machine that its state names, written by name (a bridged domain's inbox on its
 * switch: daemon/host.ts), which restoreRun's `externals` gives back by name.
 */
export function saveRun(mode: SaveMode, root: object, meta: SaveMeta, omit?: OmitChunks, externals?: ReadonlyMap<object, string>): Uint8Array {
  const graph = encodeGraph(root, TRANSIENT, externals, omit);
  return writeSaveFile(mode, [
    { tag: 'META', bytes: enc.encode(JSON.stringify(meta)) },
    { tag: 'GRPH', bytes: enc.encode(JSON.stringify(graph.records)) },
    { tag: 'BLOB', bytes: graph.blob },
  ]);
}

/** Read and check a save file (SaveFormatError with a one-line message when it is not a good one). */
export function loadSaveFile(file: Uint8Array): SavedRun {
  const { mode, sections } = readSaveFile(file);
  const { part, json } = sectionReader(sections);
  const meta = json('META') as SaveMeta;
  if (typeof meta !== 'object' || meta === null || typeof meta.setup !== 'object' || !Array.isArray(meta.vcpus) || typeof meta.cycles !== 'number') {
    throw new SaveFormatError('section META lacks setup, cycles or vcpus');
  }
  const records = json('GRPH');
  if (!Array.isArray(records)) throw new SaveFormatError('section GRPH is not a list of records');
  return { mode, meta, graph: { records: records as EncodedGraph['records'], blob: part('BLOB') } };
}

/**
 * Lay a saved run over `template`, a fresh machine (or hypervisor) built from the same setup and
 * not yet run. All or nothing: a graph that does not fit the template is refused (SaveFormatError)
 * before anything of the template is changed.
 */
export function restoreRun(saved: SavedRun, template: object, extraClasses: Iterable<[string, object]> = [], externals?: ReadonlyMap<string, object>): void {
  const classes = new Map(savedClasses());
  for (const [k, v] of classesOf(template, TRANSIENT)) classes.set(k, v);
  for (const [k, v] of extraClasses) classes.set(k, v);
  try {
    restoreGraph(saved.graph, template, classes, TRANSIENT, externals);
  } catch (e) {
    if (e instanceof GraphError) throw new SaveFormatError(`the state does not fit this machine: ${e.message}`);
    throw e;
  }
}
