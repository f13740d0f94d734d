// The log-dirty oracle, as a helper for log-dirty.test.ts and its deep twin: run the standard
// guest on a random shell workload in a mode, peek at the dirty log at random cycles, and check
// that every pseudo-physical frame whose bytes changed since the last peek (a memory diff of the
// whole domain) was reported dirty. Also runs the same workload without log-dirty, for the
// comparison of output and instruction counts.
import { standardGuest } from '../../cli/guest.ts';
import { runImageInMode, runPvMode, type GuestRunResult } from '../../hypervisor/index.ts';
import { dirtyFrames } from '../../hypervisor/core/log-dirty.ts';
import type { Domain } from '../../hypervisor/core/domain.ts';
import type { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { Ev } from '../../machine/ledger.ts';

export type OracleMode = 'trap' | 'bt' | 'hvm-shadow' | 'hvm-ept' | 'pv';

/** The workload's commands: memory, processes, pipes, the disk (device DMA into guest memory); not ps, whose process states depend on time. */
const COMMANDS = ['echo log dirty', 'free', 'echo abc | cat', 'disk write 3 hello disk', 'disk read 3', 'spin 1', 'true'];

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The random workload of `seed`: 3..6 commands, then end of input. */
export function workload(seed: number): string {
  const r = prng(seed);
  const n = 3 + Math.floor(r() * 4);
  const cmds: string[] = [];
  for (let k = 0; k < n; k++) cmds.push(COMMANDS[Math.floor(r() * COMMANDS.length)]!);
  return `${cmds.join('\n')}\n\x04`;
}

const MEMORY = 8 * 1024 * 1024;

function boot(mode: OracleMode, input: string): GuestRunResult {
  const guest = standardGuest(mode === 'pv' ? 'pv' : 'native');
  const opts = { memoryBytes: MEMORY, maxCycles: 0, input, initrd: guest.initrd, disk: new Uint8Array(64 * 512) };
  if (mode === 'pv') return runPvMode(guest.kernel, opts);
  if (mode === 'hvm-shadow' || mode === 'hvm-ept') return runImageInMode('hvm', guest.kernel, { ...opts, hvm: { mmu: mode === 'hvm-ept' ? 'ept' : 'shadow' }, profile: 'core2-2006-vtx' });
  return runImageInMode(mode, guest.kernel, opts);
}

/** A copy of the domain's memory, frame by frame (pseudo-physical order; null for a frame not backed). */
function snapshot(hv: Hypervisor, d: Domain): (Uint8Array | null)[] {
  const out: (Uint8Array | null)[] = [];
  for (const mfn of d.p2m) out.push(mfn < 0 ? null : hv.mem.u8.slice(mfn * 4096, mfn * 4096 + 4096));
  return out;
}

export interface OracleRun {
  /** peeks made */
  peeks: number;
  /** per peek: frames changed (the diff) and frames reported */
  changed: number[];
  reported: number[];
  /** frames that changed but were not reported, per peek (the oracle: all empty) */
  missed: number[][];
  /** log-dirty faults the tracker counted, and the ledger's count */
  faults: number;
  ledgerFaults: number;
  output: string;
  instructions: number;
  cycles: number;
  stopped: boolean;
}

/** Run the workload of `seed` in `mode` with log-dirty on, peeking at random cycles. */
export function runWithLogDirty(mode: OracleMode, seed: number, maxCycles = 400_000_000): OracleRun {
  const r = prng(seed ^ 0x5eed);
  const { hypervisor: hv, domain: d } = boot(mode, workload(seed));
  const t = d.enableLogDirty();
  let before = snapshot(hv, d);
  const run: OracleRun = { peeks: 0, changed: [], reported: [], missed: [], faults: 0, ledgerFaults: 0, output: '', instructions: 0, cycles: 0, stopped: false };
  const f0 = hv.cpu.evCount[Ev.LogDirtyFault]!;
  let used = 0;
  while (used < maxCycles && !d.stopped) {
    const res = hv.run({ maxCycles: 100_000 + Math.floor(r() * 3_000_000) });
    used += res.cycles;
    run.instructions += res.instructions;
    const dirty = new Set(dirtyFrames(d.peekAndClean()));
    const after = snapshot(hv, d);
    const changed: number[] = [];
    for (let pfn = 0; pfn < after.length; pfn++) {
      const a = before[pfn];
      const b = after[pfn];
      if (a === null || b === null) continue;
      if (Buffer.compare(a, b) !== 0) changed.push(pfn);
    }
    run.peeks++;
    run.changed.push(changed.length);
    run.reported.push(dirty.size);
    run.missed.push(changed.filter((p) => !dirty.has(p)));
    before = after;
    if (res.reason === 'all-stopped' || res.reason === 'deadlock') break;
  }
  run.faults = t.faults;
  run.ledgerFaults = hv.cpu.evCount[Ev.LogDirtyFault]! - f0;
  run.output = d.consoleOutput();
  run.cycles = used;
  run.stopped = d.stopped;
  return run;
}

/** The same workload without log-dirty, in one go: its output and instruction count. */
export function runPlain(mode: OracleMode, seed: number, maxCycles = 400_000_000): { output: string; instructions: number; stopped: boolean } {
  const { hypervisor: hv, domain: d } = boot(mode, workload(seed));
  const res = hv.run({ maxCycles });
  return { output: d.consoleOutput(), instructions: res.instructions, stopped: d.stopped };
}
