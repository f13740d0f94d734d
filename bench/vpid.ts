// What would VPID-tagged TLB entries save across world switches? The modelled TLB holds one tag at
// a time (machine/cpu.ts `tlbVpid`): a guest's translations survive its own VM exits and entries,
// but a world switch to another vCPU flushes them, where a CPU that tags every entry keeps both
// guests' entries. Per-entry tags would put the tag into every TLB lookup (the interpreter's fast
// loop and the translator's generated code), so this measures first what they could save: two hvm
// domains on `modern` (EPT, VPID) run the native kernel's workload side by side, and at every
// world switch the entries the outgoing guest still holds are counted - at most that many walks
// are saved when it runs again (the other guest's fills would evict some). Simulated cycles;
// `xenolith bench vpid`, docs/fidelity.md. Host code.

import { Hypervisor } from '../hypervisor/core/hypervisor.ts';
import { RoundRobinScheduler, DEFAULT_SLICE_CYCLES } from '../hypervisor/core/scheduler.ts';
import type { CpuState } from '../machine/cpu.ts';
import { HvmMode, hvmReserveBytes } from '../hypervisor/hvm/index.ts';
import { getProfile } from '../machine/costs.ts';
import { buildGuestKernel } from '../toolchain/guest-kernel.ts';
import { textTable } from './text-table.ts';

/** The scheduler slices measured: the hypervisor's default, and two busier hosts. */
export const VPID_SLICES = [DEFAULT_SLICE_CYCLES, 100_000, 10_000] as const;

export interface VpidRow {
  sliceCycles: number;
  cycles: number;
  worldSwitches: number;
  tlbMisses: number;
  /** supervisor TLB entries valid at the world switches (summed) */
  entriesKept: number;
  /** at most this many cycles saved: entriesKept walks */
  savedCycles: number;
}

const MEMORY_BYTES = 32 * 1024 * 1024;
/** the TLB's empty-entry tag (machine/cpu.ts INVALID: never a page address, whose low bits are 0) */
const INVALID_TAG = 4;

/** Two hvm domains running `cmdline` on `profileName` (which must have VPID), once per slice. */
export function runVpidBench(cmdline = 'usertests', slices: readonly number[] = VPID_SLICES, profileName = 'modern'): { walkCycles: number; rows: VpidRow[] } {
  const p = getProfile(profileName);
  if (!p.vpid || !p.ept) throw new Error(`bench vpid: profile ${profileName} has no VPID or no EPT`);
  // a TLB miss under EPT: the guest's two levels, each through the second stage's three, and the
  // final guest-physical address through it (docs/hypervisor.md "Second-stage paging")
  const walkCycles = 2 * p.tlbWalkLevel + 6 * p.eptWalkLevel;
  const build = buildGuestKernel({ arch: 'native' });
  const rows: VpidRow[] = [];
  for (const slice of slices) {
    const hv = new Hypervisor({ memoryBytes: 2 * (MEMORY_BYTES + hvmReserveBytes(MEMORY_BYTES)) + 4096, profile: profileName, scheduler: new RoundRobinScheduler(slice) });
    for (const name of ['a', 'b']) hv.createDomain(new HvmMode(), { name, memoryBytes: MEMORY_BYTES, input: '' }, { kernel: build.kernel, initrd: build.initrd, cmdline });
    // the MMU's supervisor tags, read at each world switch only
    const cpu = hv.cpu;
    const tags = cpu.mmu.tlbRS;
    let switches = 0;
    let kept = 0;
    const load = cpu.loadState.bind(cpu);
    cpu.loadState = (s: CpuState): void => {
      switches++;
      for (let k = 0; k < tags.length; k++) if (tags[k] !== INVALID_TAG) kept++;
      load(s);
    };
    hv.run({ maxCycles: 8_000_000_000 });
    rows.push({ sliceCycles: slice, cycles: cpu.cycles, worldSwitches: switches, tlbMisses: cpu.stats.tlbMisses, entriesKept: kept, savedCycles: kept * walkCycles });
  }
  return { walkCycles, rows };
}

export function vpidReport(r: { walkCycles: number; rows: VpidRow[] }): string {
  return [
    `two hvm domains (modern: EPT, VPID) running usertests on one CPU; a TLB miss walks for ${r.walkCycles} cycles`,
    textTable(
      ['slice (cycles)', 'cycles', 'world switches', 'TLB misses', 'entries at switches', 'at most saved', 'of the run'],
      r.rows.map((x) => [x.sliceCycles, x.cycles, x.worldSwitches, x.tlbMisses, x.entriesKept, x.savedCycles, `${((100 * x.savedCycles) / x.cycles).toFixed(3)}%`]),
    ),
  ].join('\n');
}
