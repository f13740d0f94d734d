// Would adaptive retranslation pay under bt with the traced shadow? VMware's bt ("innocent until
// proven guilty", Adams & Agesen, ASPLOS 2006) retranslates a kernel instruction that keeps taking
// trace faults (stores to write-protected guest page tables) into a callout that emulates the
// store, so it stops faulting. This measures, per workload of the native kernel, which
// instructions take trace faults under `--mode bt --shadow traced` and how often each one runs,
// and sets the cycles its faults cost today against what it would cost as a callout on every
// execution. Then it runs the built mechanism (`--bt-adaptive`, BtModeOptions.adaptive) beside
// the run without it: its trace faults, retranslations, store callouts and cycles. Simulated
// cycles only (exact); `xenolith bench retranslation`, docs/fidelity.md.
// Host code.

import { Hypervisor } from '../hypervisor/core/hypervisor.ts';
import { BtMode, btCache } from '../hypervisor/bt/mode.ts';
import { ADAPTIVE_TRACE_FAULTS } from '../hypervisor/bt/cache.ts';
import { HYPERVISOR_RESERVE_BYTES } from '../hypervisor/trap/index.ts';
import { trapVcpu } from '../hypervisor/trap/virtual-cpu.ts';
import { bootNative } from '../hypervisor/boot/native.ts';
import { getProfile } from '../machine/costs.ts';
import { symbolize } from '../machine/image.ts';
import { Machine } from '../machine/machine.ts';
import { buildGuestKernel } from '../toolchain/guest-kernel.ts';
import { textTable } from './text-table.ts';

/** The workloads measured by default: the kernel's test suite, its lmbench and its nanobenchmarks. */
export const RETRANSLATION_WORKLOADS = ['usertests', 'lmbench all 3', 'nanobench'] as const;

export interface RetranslationRow {
  workload: string;
  /** the faulting instruction (kernel symbol + offset) and its address */
  where: string;
  pc: number;
  /** trace faults it took under bt --shadow traced */
  traceFaults: number;
  /** times it ran, counted on the bare machine (the same kernel and workload) */
  executions: number;
  /** cycles its trace faults cost now, and what a callout on every execution would cost */
  faultCycles: number;
  calloutCycles: number;
}

export interface RetranslationResult {
  profile: string;
  /** the monitor's cost of one trace fault and of one store-emulating callout (cycles, from the profile) */
  faultCost: number;
  calloutCost: number;
  /**
   * per workload: its trace faults in all, and the bt run's cycles; and the same run with
   * `--bt-adaptive`: its trace faults, stores retranslated, store callouts made (and how many of
   * them wrote a traced table), its cycles
   */
  workloads: {
    workload: string;
    traceFaults: number;
    cycles: number;
    adaptive: { traceFaults: number; retranslations: number; emulatedStores: number; emulatedTraceStores: number; cycles: number };
  }[];
  rows: RetranslationRow[];
}

const MEMORY_BYTES = 32 * 1024 * 1024;

/**
 * Measure `workloads` on `profileName`. A trace fault costs what the monitor charges a #PF it
 * resolves (the trap's entry, the monitor's path, the IRET back, the guest walk's two levels); a
 * callout that emulates the store costs bt's callout and the same walk (it must find the target
 * and its tracing state). Executions are counted on the bare machine with exact breakpoints.
 */
export function runRetranslationBench(workloads: readonly string[] = RETRANSLATION_WORKLOADS, profileName = 'p4-2003'): RetranslationResult {
  const p = getProfile(profileName);
  const walk = 2 * p.tlbWalkLevel;
  const faultCost = p.trapEntry + p.monitorTrap + p.iret + walk;
  const calloutCost = p.btCallout + walk;
  const build = buildGuestKernel({ arch: 'native' });
  const result: RetranslationResult = { profile: profileName, faultCost, calloutCost, workloads: [], rows: [] };
  for (const workload of workloads) {
    const spec = { kernel: build.kernel, initrd: build.initrd, cmdline: workload };
    // under bt with the traced shadow: trace faults by the pc that took them
    const hv = new Hypervisor({ memoryBytes: MEMORY_BYTES + HYPERVISOR_RESERVE_BYTES, profile: profileName });
    const domain = hv.createDomain(new BtMode({ shadow: 'traced' }), { name: 'guest', memoryBytes: MEMORY_BYTES, input: '' }, spec);
    const shadow = trapVcpu(domain.vcpus[0]!).shadow;
    const stats = domain.stats;
    const byPc = new Map<number, number>();
    const fault = shadow.fault.bind(shadow);
    shadow.fault = (va: number, error: number): number => {
      const before = stats.traceFaults;
      const r = fault(va, error);
      if (stats.traceFaults !== before) byPc.set(hv.cpu.pc >>> 0, (byPc.get(hv.cpu.pc >>> 0) ?? 0) + 1);
      return r;
    };
    hv.run({ maxCycles: 8_000_000_000 });
    // the built mechanism, the same run with adaptive retranslation on
    const hva = new Hypervisor({ memoryBytes: MEMORY_BYTES + HYPERVISOR_RESERVE_BYTES, profile: profileName });
    const da = hva.createDomain(new BtMode({ shadow: 'traced', adaptive: true }), { name: 'guest', memoryBytes: MEMORY_BYTES, input: '' }, spec);
    hva.run({ maxCycles: 8_000_000_000 });
    const bs = btCache(da).stats;
    result.workloads.push({
      workload,
      traceFaults: stats.traceFaults,
      cycles: hv.cpu.cycles,
      adaptive: { traceFaults: da.stats.traceFaults, retranslations: bs.retranslations, emulatedStores: bs.emulatedStores, emulatedTraceStores: bs.emulatedTraceStores, cycles: hva.cpu.cycles },
    });
    // on the bare machine: how often each of those instructions runs
    const runs = countExecutions(build, workload, [...byPc.keys()]);
    for (const [pc, n] of [...byPc].sort((a, b) => b[1] - a[1] || a[0] - b[0])) {
      const executions = runs.get(pc) ?? 0;
      result.rows.push({ workload, where: symbolize(build.kernel.symbols, pc), pc, traceFaults: n, executions, faultCycles: n * faultCost, calloutCycles: executions * calloutCost });
    }
  }
  return result;
}

/** Executions of each of `pcs` in a bare-machine run of the kernel with `cmdline`. */
function countExecutions(build: ReturnType<typeof buildGuestKernel>, cmdline: string, pcs: number[]): Map<number, number> {
  const counts = new Map<number, number>();
  if (pcs.length === 0) return counts;
  const m = new Machine({ input: '' });
  bootNative(m, { kernel: build.kernel, initrd: build.initrd, cmdline });
  const cpu = m.cpu;
  cpu.monitorStop = true;
  cpu.breakPcs = new Set(pcs);
  for (;;) {
    m.run({ maxCycles: 8_000_000_000 });
    if (!cpu.monitorStopped) break;
    cpu.monitorStopped = false;
    const pc = cpu.pc >>> 0;
    counts.set(pc, (counts.get(pc) ?? 0) + 1);
    cpu.breakArmedAt = cpu.instructions + 1;
  }
  return counts;
}

/** The result as text: the costs, a row per faulting instruction, the verdict per workload. */
export function retranslationReport(r: RetranslationResult): string {
  const lines = [
    `bt --shadow traced on ${r.profile}: a trace fault costs ${r.faultCost} cycles (trap entry, monitor path, IRET, 2-level guest walk); a callout emulating the store ${r.calloutCost} (callout, the same walk)`,
    `retranslating pays only for an instruction that faults on more than ${((100 * r.calloutCost) / r.faultCost).toFixed(0)}% of its executions`,
    textTable(
      ['workload', 'instruction', 'trace faults', 'executions', 'faulting', 'faults cost', 'as a callout'],
      r.rows.map((x) => [x.workload, x.where, x.traceFaults, x.executions, x.executions > 0 ? `${((100 * x.traceFaults) / x.executions).toFixed(0)}%` : '-', x.faultCycles, x.calloutCycles]),
      ['left', 'left', 'right', 'right', 'right', 'right', 'right'],
    ),
  ];
  for (const w of r.workloads) {
    const rows = r.rows.filter((x) => x.workload === w.workload);
    // the best a perfect policy could do: retranslate exactly the instructions for which it pays
    const saved = rows.reduce((n, x) => n + Math.max(0, x.faultCycles - x.calloutCycles), 0);
    const all = rows.reduce((n, x) => n + x.calloutCycles - x.faultCycles, 0);
    const a = w.adaptive;
    lines.push(
      `${w.workload}: ${w.traceFaults} trace faults in ${w.cycles} cycles; a perfect policy saves ${saved} cycles (${((100 * saved) / w.cycles).toFixed(3)}%); retranslating every faulting instruction costs ${all} cycles more`,
      `${w.workload} with --bt-adaptive (retranslated after ${ADAPTIVE_TRACE_FAULTS} trace faults): ${a.traceFaults} trace faults, ${a.retranslations} stores retranslated, ${a.emulatedStores} store callouts (${a.emulatedTraceStores} into traced tables) in ${a.cycles} cycles: ${a.cycles - w.cycles >= 0 ? '+' : ''}${a.cycles - w.cycles} cycles (${a.cycles >= w.cycles ? '+' : ''}${((100 * (a.cycles - w.cycles)) / w.cycles).toFixed(3)}%)`,
    );
  }
  return lines.join('\n');
}
