// VPID-tagged TLB entries across world switches, measured with the built mechanism: two hvm
// domains on `modern` (EPT, VPID) run the native kernel's workload side by side on one CPU, once
// with each vCPU's translations tagged (the TLB keeps both guests' entries across world switches,
// machine/mmu.ts setTag) and once with the tags off (the VMCS's vpid 0: every VM entry, exit and
// world switch flushes, a CPU without VPID). Simulated cycles and TLB misses of both, at the
// scheduler's default slice and at two busier ones; and the host's cost of the mechanism, the
// wall time of each run beside the other's (the tags cost one pass over the TLB per tag change,
// nothing per lookup). `xenolith bench vpid`, docs/fidelity.md. Host code.

import { Hypervisor } from '../hypervisor/core/hypervisor.ts';
import { RoundRobinScheduler, DEFAULT_SLICE_CYCLES } from '../hypervisor/core/scheduler.ts';
import { HvmMode, hvmReserveBytes } from '../hypervisor/hvm/index.ts';
import { hvmVcpu } from '../hypervisor/hvm/state.ts';
import { getProfile } from '../machine/costs.ts';
import { buildGuestKernel } from '../toolchain/guest-kernel.ts';
import { textTable } from './text-table.ts';

/** The scheduler slices measured: the hypervisor's default, and two busier hosts. */
export const VPID_SLICES = [DEFAULT_SLICE_CYCLES, 100_000, 10_000] as const;

/** One run: two domains, tagged or not. */
export interface VpidRun {
  cycles: number;
  worldSwitches: number;
  tlbMisses: number;
  tlbFlushes: number;
  /** host wall time of the run (ms): timing, beside the other run's */
  hostMs: number;
}

export interface VpidRow {
  sliceCycles: number;
  tagged: VpidRun;
  untagged: VpidRun;
}

const MEMORY_BYTES = 32 * 1024 * 1024;

/** Two hvm domains running `cmdline` on `profileName` (which must have VPID and EPT), tagged and untagged, once per slice. */
export function runVpidBench(cmdline = 'usertests', slices: readonly number[] = VPID_SLICES, profileName = 'modern'): { walkCycles: number; rows: VpidRow[] } {
  const p = getProfile(profileName);
  if (!p.vpid || !p.ept) throw new Error(`bench vpid: profile ${profileName} has no VPID or no EPT`);
  // a TLB miss under EPT: the guest's two levels, each through the second stage's three, and the
  // final guest-physical address through it (docs/hypervisor.md "Second-stage paging")
  const walkCycles = 2 * p.tlbWalkLevel + 6 * p.eptWalkLevel;
  const build = buildGuestKernel({ arch: 'native' });
  const once = (slice: number, tagged: boolean): VpidRun => {
    const hv = new Hypervisor({ memoryBytes: 2 * (MEMORY_BYTES + hvmReserveBytes(MEMORY_BYTES)) + 4096, profile: profileName, scheduler: new RoundRobinScheduler(slice) });
    const doms = ['a', 'b'].map((name) => hv.createDomain(new HvmMode(), { name, memoryBytes: MEMORY_BYTES, input: '' }, { kernel: build.kernel, initrd: build.initrd, cmdline }));
    if (!tagged) for (const d of doms) for (const v of d.vcpus) hvmVcpu(v).vmcs.vpid = 0;
    const t0 = performance.now();
    hv.run({ maxCycles: 8_000_000_000 });
    const hostMs = performance.now() - t0;
    const s = hv.cpu.stats;
    return { cycles: hv.cpu.cycles, worldSwitches: doms.reduce((n, d) => n + d.stats.worldSwitches, 0), tlbMisses: s.tlbMisses, tlbFlushes: s.tlbFlushes, hostMs };
  };
  const rows: VpidRow[] = [];
  for (const slice of slices) {
    // the untagged run first: the same warm-up for the tagged one's wall time
    const untagged = once(slice, false);
    const tagged = once(slice, true);
    rows.push({ sliceCycles: slice, tagged, untagged });
  }
  return { walkCycles, rows };
}

const pct = (a: number, b: number): string => `${a - b >= 0 ? '+' : ''}${((100 * (a - b)) / b).toFixed(3)}%`;

/** The report: simulated figures (deterministic), then the host's wall time of each run (timing; varies with the machine's load). */
export function vpidReport(r: { walkCycles: number; rows: VpidRow[] }): string {
  return [
    `two hvm domains (modern: EPT, VPID) running usertests on one CPU, each vCPU's TLB entries tagged or not; a TLB miss walks for ${r.walkCycles} cycles`,
    textTable(
      ['slice (cycles)', 'world switches', 'TLB misses untagged', 'tagged', 'cycles untagged', 'tagged', 'saved'],
      r.rows.map((x) => [x.sliceCycles, x.tagged.worldSwitches, x.untagged.tlbMisses, x.tagged.tlbMisses, x.untagged.cycles, x.tagged.cycles, pct(x.untagged.cycles, x.tagged.cycles).replace('+', '')]),
    ),
  ].join('\n');
}

/** The host's cost: each run's wall time beside the other's (not in docs: it is timing). */
export function vpidHostReport(r: { rows: VpidRow[] }): string {
  return textTable(
    ['slice (cycles)', 'host ms untagged', 'tagged', 'tagged vs untagged'],
    r.rows.map((x) => [x.sliceCycles, x.untagged.hostMs.toFixed(0), x.tagged.hostMs.toFixed(0), pct(x.tagged.hostMs, x.untagged.hostMs)]),
  );
}
