// VPID-tagged TLB entries across world switches, measured with the built mechanism: two hvm
// domains on `modern` (EPT, VPID) run the native kernel's workload side by side on one CPU in
// three configurations - untagged (the VMCS's vpid 0, a CPU without VPID: every VM entry, exit and
// world switch flushes the TLB), tagged within a domain only (each guest's entries survive its own
// exits and entries, but a world switch flushes every tag: the model before tags were kept across
// switches), and tagged across switches (machine/mmu.ts setTag: the TLB keeps both guests'
// entries, each hidden while the other runs). Simulated cycles and TLB misses of each, at the
// scheduler's default slice and at two busier ones. The host's side of the mechanism: it costs
// nothing per TLB lookup (the lookup arrays hold only the current tag's entries), one pass over
// the TLB per tag change; the tag changes are counted, and with --host-time one pass is timed.
// `xenolith bench vpid`, docs/fidelity.md. Host code.

import { Hypervisor } from '../hypervisor/core/hypervisor.ts';
import { RoundRobinScheduler, DEFAULT_SLICE_CYCLES } from '../hypervisor/core/scheduler.ts';
import { HvmMode, hvmReserveBytes } from '../hypervisor/hvm/index.ts';
import { hvmVcpu } from '../hypervisor/hvm/state.ts';
import type { CpuState } from '../machine/cpu.ts';
import { getProfile } from '../machine/costs.ts';
import { buildGuestKernel } from '../toolchain/guest-kernel.ts';
import { textTable } from './text-table.ts';

/** The scheduler slices measured: the hypervisor's default, and two busier hosts. */
export const VPID_SLICES = [DEFAULT_SLICE_CYCLES, 100_000, 10_000] as const;

/** untagged; tagged, flushed at world switches; tagged across switches */
export const VPID_CONFIGS = ['untagged', 'switch-flush', 'tagged'] as const;
export type VpidConfig = (typeof VPID_CONFIGS)[number];

/** One run: two domains in one configuration. */
export interface VpidRun {
  cycles: number;
  worldSwitches: number;
  tlbMisses: number;
  /** tag changes (Mmu.setTag passes over the TLB) */
  tagChanges: number;
}

export interface VpidRow {
  sliceCycles: number;
  runs: Record<VpidConfig, VpidRun>;
}

const MEMORY_BYTES = 32 * 1024 * 1024;

/** Two hvm domains running `cmdline` on `profileName` (which must have VPID and EPT), in each configuration, once per slice. */
export function runVpidBench(cmdline = 'usertests', slices: readonly number[] = VPID_SLICES, profileName = 'modern'): { walkCycles: number; rows: VpidRow[] } {
  const p = getProfile(profileName);
  if (!p.vpid || !p.ept) throw new Error(`bench vpid: profile ${profileName} has no VPID or no EPT`);
  // a TLB miss under EPT: the guest's two levels, each through the second stage's three, and the
  // final guest-physical address through it (docs/hypervisor.md "Second-stage paging")
  const walkCycles = 2 * p.tlbWalkLevel + 6 * p.eptWalkLevel;
  const build = buildGuestKernel({ arch: 'native' });
  const once = (slice: number, config: VpidConfig): VpidRun => {
    const hv = new Hypervisor({ memoryBytes: 2 * (MEMORY_BYTES + hvmReserveBytes(MEMORY_BYTES)) + 4096, profile: profileName, scheduler: new RoundRobinScheduler(slice) });
    const doms = ['a', 'b'].map((name) => hv.createDomain(new HvmMode(), { name, memoryBytes: MEMORY_BYTES, input: '' }, { kernel: build.kernel, initrd: build.initrd, cmdline }));
    const cpu = hv.cpu;
    if (config === 'untagged') for (const d of doms) for (const v of d.vcpus) hvmVcpu(v).vmcs.vpid = 0;
    if (config === 'switch-flush') {
      // a world switch drops every tag's entries (the TLB holding one guest's at a time)
      const load = cpu.loadState.bind(cpu);
      cpu.loadState = (s: CpuState): void => {
        load(s);
        cpu.mmu.flushAllTags();
      };
    }
    let tagChanges = 0;
    const mmu = cpu.mmu;
    const setTag = mmu.setTag.bind(mmu);
    let tag = 0;
    mmu.setTag = (t: number): void => {
      if (t !== tag) tagChanges++;
      setTag(t);
      tag = t;
    };
    const flushAll = mmu.flushAllTags.bind(mmu);
    mmu.flushAllTags = (): void => {
      flushAll();
      tag = 0;
    };
    hv.run({ maxCycles: 8_000_000_000 });
    return { cycles: cpu.cycles, worldSwitches: doms.reduce((n, d) => n + d.stats.worldSwitches, 0), tlbMisses: cpu.stats.tlbMisses, tagChanges };
  };
  const rows: VpidRow[] = [];
  for (const slice of slices) {
    const runs = Object.fromEntries(VPID_CONFIGS.map((c) => [c, once(slice, c)])) as Record<VpidConfig, VpidRun>;
    rows.push({ sliceCycles: slice, runs });
  }
  return { walkCycles, rows };
}

/** Host nanoseconds of one tag change on `profileName`'s TLB full of two tags' entries (timing: varies with the machine). */
export function timeTagChange(profileName = 'modern', changes = 200_000): number {
  const hv = new Hypervisor({ memoryBytes: 1 << 20, profile: profileName });
  const mmu = hv.cpu.mmu;
  // every entry valid, half of them each tag's (as two guests leave it)
  const n = mmu.tlbEntries;
  for (let t = 1; t <= 2; t++) {
    mmu.setTag(t);
    for (let e = (t - 1) * (n / 2); e < t * (n / 2); e++) {
      (mmu as unknown as { tlbOwner: Int32Array }).tlbOwner[e] = t;
      mmu.tlbRS[e] = mmu.tlbRU[e] = e << 12;
    }
  }
  const t0 = performance.now();
  for (let k = 0; k < changes; k++) mmu.setTag(1 + (k & 1));
  return ((performance.now() - t0) * 1e6) / changes;
}

const pct = (saved: number, of: number): string => `${((100 * saved) / of).toFixed(3)}%`;

/** The report (simulated figures, deterministic). */
export function vpidReport(r: { walkCycles: number; rows: VpidRow[] }): string {
  return [
    `two hvm domains (modern: EPT, VPID) running usertests on one CPU; a TLB miss walks for ${r.walkCycles} cycles`,
    'untagged: no VPID (every entry, exit and world switch flushes); switch-flush: tagged, but a world switch flushes every tag; tagged: entries kept across world switches',
    textTable(
      ['slice (cycles)', 'world switches', 'TLB misses untagged', 'switch-flush', 'tagged', 'cycles untagged', 'switch-flush', 'tagged', 'kept across switches saves', 'tag changes'],
      r.rows.map((x) => {
        const { untagged: u, 'switch-flush': f, tagged: t } = x.runs;
        return [x.sliceCycles, t.worldSwitches, u.tlbMisses, f.tlbMisses, t.tlbMisses, u.cycles, f.cycles, t.cycles, pct(f.cycles - t.cycles, f.cycles), t.tagChanges];
      }),
    ),
  ].join('\n');
}

/** The host's cost of the tags: one tag change timed, and the runs' tag changes at that rate. */
export function vpidHostReport(r: { rows: VpidRow[] }, nsPerChange: number): string {
  return [
    `host: a tag change (one pass over the TLB's entries) takes ${nsPerChange.toFixed(0)} ns on this machine now; nothing is added per TLB lookup`,
    ...r.rows.map((x) => `slice ${x.sliceCycles}: ${x.runs.tagged.tagChanges} tag changes, about ${((x.runs.tagged.tagChanges * nsPerChange) / 1e6).toFixed(1)} ms of host time`),
  ].join('\n');
}
