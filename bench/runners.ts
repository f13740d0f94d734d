// One way to boot the standard guest per virtualization mode, with the same inputs and the same
// result shape, so the comparison treats every mode alike. Each runner builds the guest (cached),
// boots it with a command line as process 1, runs to power-off, and returns the console with the
// counters that explain its cost. Host code.

import { Machine } from '../machine/machine.ts';
import type { Cpu } from '../machine/cpu.ts';
import { snapshotLedger, type LedgerSnapshot } from '../machine/ledger.ts';
import { bootNative } from '../hypervisor/boot/native.ts';
import { buildGuestKernel } from '../toolchain/guest-kernel.ts';
import { runImageInMode } from '../hypervisor/index.ts';
import { collectRun } from '../hypervisor/run.ts';
import { HostUplink } from '../hypervisor/net/uplink.ts';
import { domainNicPlatform } from '../hypervisor/net/attach.ts';
import { macToBytes, NIC_DEFAULT_MAC } from '../machine/devices/nic.ts';
import type { DomainStats } from '../hypervisor/core/stats.ts';
import { pvStatsReport } from '../hypervisor/pv/stats.ts';
import { timed } from './timing.ts';
import type { Engine } from '../machine/translator.ts';
import { MODE_NAMES, type ModeName, type VirtualizationMode } from '../hypervisor/modes.ts';
import { TRACE_KINDS, TraceBuffer, type TraceKindName } from '../hypervisor/core/trace.ts';

export type { ModeName } from '../hypervisor/modes.ts';

/** What explains a mode's cost: every transfer into the hypervisor, by kind. */
export interface Counters {
  /** guest traps that entered the hypervisor (privileged instructions, reflected faults, interrupts) */
  traps: number;
  hypercalls: number;
  /** port I/O that went through the device model */
  ioExits: number;
  /** shadow page-table faults filled silently by the hypervisor */
  shadowHidden: number;
  /** shadow page-table faults reflected into the guest */
  shadowTrue: number;
  /** interrupts or events delivered to the guest */
  interrupts: number;
}

export interface GuestRun {
  mode: ModeName;
  console: string;
  /** 'poweroff' when the guest finished */
  stopped: string;
  detail?: string;
  status: number;
  cycles: number;
  instructions: number;
  wallMs: number;
  counters: Counters;
  /** the cost ledger at the end of the run (machine/ledger.ts): base + events x unit costs = cycles */
  ledger?: LedgerSnapshot;
  /** the ledger at each RDTSC user code executed, in order (the benchmarks' timed regions) */
  marks?: LedgerSnapshot[];
  /** the ledger at each RDTSC the kernel executed, in order (the nanobenchmarks' timed regions) */
  kernelMarks?: LedgerSnapshot[];
}

/** Record the ledger at every RDTSC of `cpu`, user-mode into `marks` and kernel into `kernelMarks`; returns the end-of-run reader. */
function watchLedger(cpu: Cpu, marks: LedgerSnapshot[], kernelMarks: LedgerSnapshot[]): () => LedgerSnapshot {
  const read = () => snapshotLedger(cpu.baseCycles, cpu.cycles, cpu.evCount, cpu.evUnit);
  cpu.onUserRdtsc = () => {
    marks.push(read());
  };
  cpu.onKernelRdtsc = () => {
    kernelMarks.push(read());
  };
  return read;
}

export interface RunSpec {
  cmdline: string;
  input?: string;
  profile: string;
  maxCycles: number;
  /** the CPU engine (default: the machine's) */
  engine?: Engine;
  /**
   * join the guest's NIC to the virtual gateway alone (no host socket: the peer simulated inside
   * the host, so the run stays deterministic); only for modes with an emulated NIC (not pv)
   */
  net?: boolean;
  /** CPUs (native) or vCPUs (trap, bt, hvm), 2..8, interleaved with seed 1; absent: one */
  cpus?: number;
}

export type Runner = (spec: RunSpec) => GuestRun;

export const ZERO_COUNTERS: Counters = { traps: 0, hypercalls: 0, ioExits: 0, shadowHidden: 0, shadowTrue: 0, interrupts: 0 };

/** The reference: the native kernel on bare XL32. Nothing enters a hypervisor. */
export const runNative: Runner = (spec) => {
  const guest = buildGuestKernel({ arch: 'native' });
  const peer = spec.net ? HostUplink.simulatedPeer(macToBytes(NIC_DEFAULT_MAC)) : null;
  const machine = new Machine({ profile: spec.profile, input: spec.input, ...(spec.engine !== undefined ? { engine: spec.engine } : {}), ...(peer ? { onTransmit: peer.onTransmit } : {}), ...(spec.cpus !== undefined ? { cpus: spec.cpus } : {}) });
  peer?.attach({ nic: machine.nic, now: () => machine.deviceContext.now(), schedule: (at, fn) => machine.deviceContext.schedule(at, fn) });
  bootNative(machine, { kernel: guest.kernel, initrd: guest.initrd, cmdline: spec.cmdline });
  const marks: LedgerSnapshot[] = [];
  const kernelMarks: LedgerSnapshot[] = [];
  const ledger = watchLedger(machine.cpu, marks, kernelMarks);
  const { value: result, ms: wallMs } = timed(() => machine.run({ maxCycles: spec.maxCycles }));
  return {
    mode: 'native',
    console: machine.consoleOutput(),
    stopped: result.reason,
    detail: result.detail,
    status: result.status,
    cycles: result.cycles,
    instructions: result.instructions,
    wallMs,
    counters: { ...ZERO_COUNTERS, interrupts: machine.cpu.stats.interrupts },
    ledger: ledger(),
    marks,
    kernelMarks,
  };
};

const sum = (xs: Float64Array): number => xs.reduce((a, b) => a + b, 0);

/** The counters of a hypervisor domain, in the comparison's terms. */
export function domainCounters(stats: DomainStats): Counters {
  return {
    traps: sum(stats.traps),
    hypercalls: sum(stats.hypercalls),
    ioExits: stats.ioExits,
    shadowHidden: stats.hiddenFaults,
    shadowTrue: stats.trueFaults,
    interrupts: stats.injectedInterrupts,
  };
}

/** Run the standard guest in a hypervisor domain: `arch` is the kernel build the mode boots. */
function hypervisorRunner(mode: VirtualizationMode, arch: 'native' | 'pv'): Runner {
  return (spec) => {
    const guest = buildGuestKernel({ arch });
    const marks: LedgerSnapshot[] = [];
    const kernelMarks: LedgerSnapshot[] = [];
    let ledger: (() => LedgerSnapshot) | null = null;
    const peer = spec.net ? HostUplink.simulatedPeer(macToBytes(NIC_DEFAULT_MAC)) : null;
    const { value: r, ms: wallMs } = timed(() => {
      const booted = runImageInMode(mode, guest.kernel, {
        profile: spec.profile,
        // with the network: boot only, join the NIC (pv: the network back end) to the gateway, then run
        maxCycles: peer ? 0 : spec.maxCycles,
        ...(peer ? { onTransmit: peer.onTransmit } : {}),
        input: spec.input,
        initrd: guest.initrd,
        cmdline: spec.cmdline,
        ...(spec.engine !== undefined ? { engine: spec.engine } : {}),
        ...(spec.cpus !== undefined ? { vcpus: spec.cpus } : {}),
        onCpu: (cpu) => {
          ledger = watchLedger(cpu, marks, kernelMarks);
        },
      });
      if (!peer) return booted;
      const nic = domainNicPlatform(booted.domain);
      if (!nic) throw new Error(`the ${mode} domain has no network interface`);
      peer.attach(nic);
      return collectRun(booted.hypervisor, booted.domain, booted.hypervisor.run({ maxCycles: spec.maxCycles }));
    });
    return {
      mode,
      console: r.output,
      stopped: r.reason,
      detail: r.detail,
      status: r.status,
      cycles: r.cycles,
      instructions: r.instructions,
      wallMs,
      counters: {
        ...domainCounters(r.domain.stats),
        // pv delivers events, not emulated interrupts: count event-channel notifications
        ...(mode === 'pv' && 'mode' in r ? { interrupts: pvStatsReport(r.mode as Parameters<typeof pvStatsReport>[0], r.domain).eventsPending } : {}),
      },
      ledger: (ledger as (() => LedgerSnapshot) | null)?.() ?? snapshotLedger(0, 0, new Float64Array(0), new Float64Array(0)),
      marks,
      kernelMarks,
    };
  };
}

/** The unmodified native kernel under trap-and-emulate. */
export const runTrap: Runner = hypervisorRunner('trap', 'native');
/** The unmodified native kernel, its kernel code run through binary translation. */
export const runBt: Runner = hypervisorRunner('bt', 'native');
/** The unmodified native kernel in non-root mode with second-stage paging. */
export const runHvm: Runner = hypervisorRunner('hvm', 'native');
/** The same kernel built for arch/pv, on the paravirtual interface. */
export const runPv: Runner = hypervisorRunner('pv', 'pv');


/** Runners by mode. */
export const RUNNERS: Record<ModeName, Runner> = {
  native: runNative,
  trap: runTrap,
  bt: runBt,
  hvm: runHvm,
  pv: runPv,
};

/** Modes with a runner in this build. */
export const AVAILABLE_MODES: ModeName[] = [...MODE_NAMES];

/** A short traced run of one mode, binned for the comparison report's timeline. */
export interface ModeTimeline {
  mode: ModeName;
  /** the command line booted, and the simulated cycles traced from the start */
  cmdline: string;
  cycles: number;
  bins: number;
  /** records kept and dropped by the trace buffer */
  records: number;
  dropped: number;
  /** records of each kind per bin (bins of cycles / bins cycles) */
  counts: Record<TraceKindName, number[]>;
}

/**
 * Boot the standard guest under a hypervisor mode with tracing on from the first instruction and
 * run `cycles` simulated cycles; the trace's records counted by kind in `bins` equal slices of
 * time. Native has no hypervisor to trace: null.
 */
export function traceTimeline(mode: ModeName, o: { profile: string; cmdline: string; cycles: number; bins: number; records: number }): ModeTimeline | null {
  if (mode === 'native') return null;
  const guest = buildGuestKernel({ arch: mode === 'pv' ? 'pv' : 'native' });
  const r = runImageInMode(mode, guest.kernel, { profile: o.profile, maxCycles: 0, initrd: guest.initrd, cmdline: o.cmdline });
  const hv = r.hypervisor;
  const buf = new TraceBuffer(hv.cpu, o.records);
  const from = hv.cpu.cycles;
  hv.setTrace(buf);
  hv.run({ maxCycles: o.cycles });
  hv.setTrace(null);
  const counts = Object.fromEntries(TRACE_KINDS.map((k) => [k, new Array<number>(o.bins).fill(0)])) as Record<TraceKindName, number[]>;
  for (let k = 0; k < buf.length; k++) {
    const bin = Math.min(o.bins - 1, Math.floor(((buf.cycle[k]! - from) * o.bins) / o.cycles));
    counts[TRACE_KINDS[buf.kind[k]!]!][bin]!++;
  }
  return { mode, cmdline: o.cmdline, cycles: o.cycles, bins: o.bins, records: buf.length, dropped: buf.dropped, counts };
}
