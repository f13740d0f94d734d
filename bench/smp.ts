// Lock-holder preemption and its remedies, side by side: `xenolith bench smp [--json]`. The
// unmodified kernel's two-CPU usertests (smp-unmap, smp-parallel) run where vCPUs outnumber
// physical CPUs two to one, under trap, bt and hvm:
//   - one domain of two vCPUs on one physical CPU: no remedy, --spin-yield (a vCPU about to
//     spin behind a holder waiting for the same physical CPU gives its slice up), and under hvm
//     --ple (pause-loop exiting: a vCPU whose PAUSE loop outlasts PLE_Window exits and yields);
//   - two such domains on two physical CPUs (each domain's vCPUs on different ones): no remedy,
//     --spin-yield, --ple (hvm), and --cosched (each domain's vCPUs run together in gang slices). Co-scheduling
//     needs a physical CPU per vCPU of a domain, so it has no row in the first shape.
// pv (its vCPUs on one physical CPU) has one row: its kernel's spinlock yields through
// sched_op(YIELD) when the lock's holder is a preempted vCPU (its runstate RUNNABLE). Per row: simulated cycles, the lock spin the SpinWatch saw
// (whole slices; spin wasted = slices spinning while the holder was descheduled), yields, gang
// slices and the physical-CPU cycles co-scheduling held from the other domain, and host time -
// beside the first row of its shape and mode, run in the same process. Figures are for reading,
// not for tests: which remedy wins is the cost model's outcome (docs/hypervisor.md
// "Lock-holder preemption"). Host code.

import { Hypervisor } from '../hypervisor/core/hypervisor.ts';
import type { Domain } from '../hypervisor/core/domain.ts';
import type { Mode } from '../hypervisor/core/mode.ts';
import { smpHypervisorOptions, SMP_DEFAULT_QUANTUM_CYCLES } from '../hypervisor/run.ts';
import { TrapMode, HYPERVISOR_RESERVE_BYTES } from '../hypervisor/trap/index.ts';
import { BtMode } from '../hypervisor/bt/index.ts';
import { HvmMode, PLE_DEFAULTS, hvmReserveBytes } from '../hypervisor/hvm/index.ts';
import { Exit } from '../machine/types.ts';
import { runPvMode } from '../hypervisor/pv/system.ts';
import { buildGuestKernel } from '../toolchain/guest-kernel.ts';
import type { Image } from '../machine/image.ts';
import { textTable } from './text-table.ts';

export const SMP_BENCH_CMDLINE = 'usertests smp-unmap smp-parallel';
export const SMP_BENCH_MODES = ['trap', 'bt', 'hvm'] as const;
export type SmpBenchMode = (typeof SMP_BENCH_MODES)[number] | 'pv';
export type SmpRemedy = 'none' | 'spin-yield' | 'ple' | 'cosched' | 'pv yielding spinlock';
/** '1x2/1': one domain of two vCPUs on one physical CPU; '2x2/2': two domains of two on two */
export type SmpShape = '1x2/1' | '2x2/2';

/** The remedies run per shape (trap, bt, hvm; pause-loop exiting is hardware assist's: hvm only). */
export const SMP_BENCH_RUNS: readonly { shape: SmpShape; remedy: SmpRemedy; hvmOnly?: boolean }[] = [
  { shape: '1x2/1', remedy: 'none' },
  { shape: '1x2/1', remedy: 'spin-yield' },
  { shape: '1x2/1', remedy: 'ple', hvmOnly: true },
  { shape: '2x2/2', remedy: 'none' },
  { shape: '2x2/2', remedy: 'spin-yield' },
  { shape: '2x2/2', remedy: 'ple', hvmOnly: true },
  { shape: '2x2/2', remedy: 'cosched' },
];

export interface SmpBenchRow {
  mode: SmpBenchMode;
  shape: SmpShape;
  remedy: SmpRemedy;
  /** simulated cycles of the run (the last physical CPU's clock) */
  cycles: number;
  /** usertests passed / failed, summed over the domains */
  passed: number;
  failed: number;
  /** lock spin the SpinWatch saw, summed over the domains (trap, bt, hvm) */
  preemptedSlices: number;
  /** spin wasted: slices spinning while the holder was descheduled */
  wastedCycles: number;
  contendedSlices: number;
  contendedCycles: number;
  /** slices given up (--spin-yield), pause-loop exits (--ple), or sched_op yields of pv's spinlock */
  yields: number;
  /** pv: cycles its spinlocks spun before yielding (the guest's own measure) */
  spunBeforeYield: number;
  /** co-scheduling: gang slices, and physical-CPU cycles idle in them with the other domain's vCPU waiting */
  gangSlices: number;
  heldCycles: number;
  /** host milliseconds of the run */
  hostMs: number;
}

const GUEST_BYTES = 16 * 1024 * 1024;
const EXIT_PAUSE: number = Exit.Pause;

function watch(d: Domain, kernel: Image): void {
  const sym = (name: string) => kernel.symbols.find((x) => x.name === name);
  const acquire = sym('smp.spinAcquire');
  const lock = sym('smp.kernelLock');
  if (!acquire || !lock) throw new Error('bench smp: the kernel has no smp.spinAcquire or smp.kernelLock symbol');
  d.spinWatch = { pcStart: acquire.addr, pcEnd: acquire.addr + acquire.size, holderGpa: lock.addr + 4 };
}

function newMode(mode: (typeof SMP_BENCH_MODES)[number], remedy: SmpRemedy): Mode {
  if (mode === 'trap') return new TrapMode();
  if (mode === 'bt') return new BtMode();
  return new HvmMode(remedy === 'ple' ? { ple: PLE_DEFAULTS } : {});
}

function tally(out: string): [number, number] {
  let passed = 0;
  let failed = 0;
  for (const m of out.matchAll(/usertests: (\d+) passed, (\d+) failed/g)) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  }
  return [passed, failed];
}

/** One run of `shape` under `mode` with `remedy` (trap, bt, hvm), seed 1 of the slices. */
export function runSmpCase(mode: (typeof SMP_BENCH_MODES)[number], shape: SmpShape, remedy: SmpRemedy, cmdline = SMP_BENCH_CMDLINE, seed = 1): SmpBenchRow {
  const build = buildGuestKernel({ arch: 'native' });
  const t0 = performance.now();
  const domains = shape === '1x2/1' ? 1 : 2;
  const pcpus = shape === '1x2/1' ? 1 : 2;
  const reserve = mode === 'hvm' ? hvmReserveBytes(GUEST_BYTES, 'flush', 2) : 2 * HYPERVISOR_RESERVE_BYTES;
  const hv = new Hypervisor({ memoryBytes: domains * (GUEST_BYTES + reserve) + 4096, ...smpHypervisorOptions(2, { seed, pcpus, cosched: remedy === 'cosched' }) });
  if (remedy === 'ple' && mode !== 'hvm') throw new Error('bench smp: pause-loop exiting is a VMCS control: hvm only');
  const m = newMode(mode, remedy);
  const ds: Domain[] = [];
  for (let k = 0; k < domains; k++) {
    const d = hv.createDomain(m, { name: `g${k}`, memoryBytes: GUEST_BYTES, vcpus: 2, input: '' }, { kernel: build.kernel, initrd: build.initrd, cmdline });
    watch(d, build.kernel);
    d.spinYield = remedy === 'spin-yield';
    ds.push(d);
  }
  const r = hv.run({ maxCycles: 20_000_000_000 });
  const hostMs = performance.now() - t0;
  if (r.reason !== 'all-stopped') throw new Error(`bench smp: ${mode} ${shape} ${remedy} stopped with ${r.reason}${r.detail ? ` (${r.detail})` : ''}`);
  const [passed, failed] = tally(ds.map((d) => d.consoleOutput()).join('\n'));
  const sum = (f: (d: Domain) => number): number => ds.reduce((a, d) => a + f(d), 0);
  return {
    mode,
    shape,
    remedy,
    cycles: hv.cpu.cycles,
    passed,
    failed,
    preemptedSlices: sum((d) => d.spinStats.preemptedSlices),
    wastedCycles: sum((d) => d.spinStats.preemptedCycles),
    contendedSlices: sum((d) => d.spinStats.contendedSlices),
    contendedCycles: sum((d) => d.spinStats.contendedCycles),
    yields: remedy === 'ple' ? sum((d) => d.stats.cpuExits[EXIT_PAUSE]!) : sum((d) => d.spinStats.yields),
    spunBeforeYield: 0,
    gangSlices: hv.gang.slices,
    heldCycles: hv.gang.heldCycles,
    hostMs,
  };
}

/** pv: one domain of two vCPUs (on its one physical CPU), its spinlock yielding through sched_op. */
export function runSmpPvCase(cmdline = SMP_BENCH_CMDLINE, seed = 1): SmpBenchRow {
  const build = buildGuestKernel({ arch: 'pv' });
  const t0 = performance.now();
  const r = runPvMode(build.kernel, { initrd: build.initrd, cmdline, input: '', memoryBytes: GUEST_BYTES, vcpus: 2, smp: { seed, pcpus: 1 }, maxCycles: 20_000_000_000 });
  const hostMs = performance.now() - t0;
  if (r.reason !== 'poweroff') throw new Error(`bench smp: pv stopped with ${r.reason}${r.detail ? ` (${r.detail})` : ''}`);
  const [passed, failed] = tally(r.output);
  const vs = r.mode.pv(r.domain).vcpus;
  return {
    mode: 'pv',
    shape: '1x2/1',
    remedy: 'pv yielding spinlock',
    cycles: r.cycles,
    passed,
    failed,
    preemptedSlices: 0,
    wastedCycles: 0,
    contendedSlices: 0,
    contendedCycles: 0,
    yields: vs.reduce((a, v) => a + v.spinYields, 0),
    spunBeforeYield: vs.reduce((a, v) => a + v.spinCycles, 0),
    gangSlices: 0,
    heldCycles: 0,
    hostMs,
  };
}

/** Every row: trap, bt and hvm in both shapes with their remedies, then pv. */
export function runSmpBench(modes: readonly SmpBenchMode[] = [...SMP_BENCH_MODES, 'pv']): SmpBenchRow[] {
  const rows: SmpBenchRow[] = [];
  // one untimed run first, so the first timed row (a baseline) does not pay the JavaScript engine's warm-up
  if (modes.some((m) => m !== 'pv')) runSmpCase('trap', '1x2/1', 'none', 'usertests smp-unmap');
  for (const mode of modes) {
    if (mode === 'pv') rows.push(runSmpPvCase());
    else for (const c of SMP_BENCH_RUNS) if (!c.hvmOnly || mode === 'hvm') rows.push(runSmpCase(mode, c.shape, c.remedy));
  }
  return rows;
}

const SHAPE_TEXT: Record<SmpShape, string> = { '1x2/1': '1 dom x 2 vCPUs / 1 pCPU', '2x2/2': '2 doms x 2 vCPUs / 2 pCPUs' };

/**
 * The table. `hostTime` false leaves out the host-time columns (the rest is simulated and exact:
 * what docs/hypervisor.md quotes).
 */
export function smpBenchReport(rows: readonly SmpBenchRow[], hostTime = true): string {
  const base = (r: SmpBenchRow) => rows.find((x) => x.mode === r.mode && x.shape === r.shape)!;
  const head = ['mode', 'shape', 'remedy', 'cycles', 'vs none', 'passed/failed', 'spin wasted (slices)', 'holder running (slices)', 'yields', 'gang slices', 'held from others'];
  if (hostTime) head.push('host ms', 'host vs none');
  const body = rows.map((r) => {
    const b = base(r);
    const row: (string | number)[] = [
      r.mode,
      SHAPE_TEXT[r.shape],
      r.remedy,
      r.cycles,
      b === r ? '-' : `${(r.cycles / b.cycles).toFixed(3)}x`,
      `${r.passed}/${r.failed}`,
      r.mode === 'pv' ? '-' : `${r.wastedCycles} (${r.preemptedSlices})`,
      r.mode === 'pv' ? '-' : `${r.contendedCycles} (${r.contendedSlices})`,
      r.mode === 'pv' ? `${r.yields} (${r.spunBeforeYield} cycles spun)` : r.yields,
      r.gangSlices,
      r.heldCycles,
    ];
    if (hostTime) row.push(r.hostMs.toFixed(0), b === r ? '-' : `${(r.hostMs / b.hostMs).toFixed(2)}x`);
    return row;
  });
  return [
    `lock-holder preemption and its remedies: '${SMP_BENCH_CMDLINE}' (two-CPU tests), vCPUs outnumbering physical CPUs 2:1, seed 1, quantum ${SMP_DEFAULT_QUANTUM_CYCLES} cycles; spin wasted: whole slices in the kernel lock's acquire loop while its holder was descheduled (with --ple: up to the pause-loop exit); yields: slices given up (--spin-yield), pause-loop exits (--ple), sched_op yields (pv)`,
    textTable(head, body, head.map((_, c) => (c < 3 ? 'left' : 'right'))),
  ].join('\n');
}
