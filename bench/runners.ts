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
import { VirtualSwitch, runLockstep, type LockstepMachine, type SwitchCounters } from '../hypervisor/net/bridge.ts';
import { Hypervisor } from '../hypervisor/core/hypervisor.ts';
import { PLE_DEFAULTS } from '../hypervisor/hvm/mode.ts';
import { PvMode } from '../hypervisor/pv/mode.ts';
import type { Domain } from '../hypervisor/core/domain.ts';
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
  /** the ledger at each RDTSC the kernel executed, in order (the nanobenchmarks' timed regions; only when RunSpec.kernelMarks) */
  kernelMarks?: LedgerSnapshot[];
  /** a bridged run (RunSpec.bridge): the switch and the peer domain */
  bridge?: BridgeRunInfo;
}

/**
 * Record the ledger at every RDTSC of `cpu`, user-mode into `marks` and, given `kernelMarks`,
 * kernel-mode into it; returns the end-of-run reader. The kernel reads the TSC often outside the
 * nanobenchmarks (a snapshot per read: hundreds of MB over `compare`'s runs, kept to the end of
 * each run, and V8's full collections marking them again and again), so only the runs whose
 * kernel regions are read ask for them.
 */
function watchLedger(cpu: Cpu, marks: LedgerSnapshot[], kernelMarks: LedgerSnapshot[] | undefined): () => LedgerSnapshot {
  const read = () => snapshotLedger(cpu.baseCycles, cpu.cycles, cpu.evCount, cpu.evUnit);
  cpu.onUserRdtsc = () => {
    marks.push(read());
  };
  if (kernelMarks !== undefined)
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
  /**
   * run the command in domain a of two domains on a bridge (hypervisor/net/bridge.ts) and
   * BRIDGE_PEER_CMDLINE in domain b: pv as two domains of one hypervisor, native, trap, bt and
   * hvm as two machines of their own run in lockstep (runLockstep)
   */
  bridge?: boolean;
  /** CPUs (native) or vCPUs (trap, bt, hvm), 2..8, interleaved with seed 1; absent: one */
  cpus?: number;
  /** hvm: pause-loop exiting with KVM's PLE_Gap and PLE_Window (`run --ple`) */
  ple?: boolean;
  /** record the ledger at each RDTSC the kernel executes (GuestRun.kernelMarks: the nanobenchmarks' regions) */
  kernelMarks?: boolean;
}

/** What a bridged run's second domain runs: echo the 1 + 8 round trips of `netbench 8 ...`, then power off. */
export const BRIDGE_PEER_CMDLINE = 'udpecho 7 9';
/** The bridged domains' IPv4 addresses, a (the command's) and b (the peer's): 10.0.2.15 and 10.0.2.16. */
export const BRIDGE_ADDRESSES = { a: 0x0a00020f, b: 0x0a000210 } as const;

/** What a bridged run adds to domain a's: the switch's counters and domain b's ending. */
export interface BridgeRunInfo {
  switch: SwitchCounters;
  peerConsole: string;
  peerStopped: string;
}

export type Runner = (spec: RunSpec) => GuestRun;

export const ZERO_COUNTERS: Counters = { traps: 0, hypercalls: 0, ioExits: 0, shadowHidden: 0, shadowTrue: 0, interrupts: 0 };

/** The reference: the native kernel on bare XL32. Nothing enters a hypervisor. */
export const runNative: Runner = (spec) => {
  if (spec.bridge) return runBridged('native', spec);
  const guest = buildGuestKernel({ arch: 'native' });
  const peer = spec.net ? HostUplink.simulatedPeer(macToBytes(NIC_DEFAULT_MAC)) : null;
  const machine = new Machine({ profile: spec.profile, input: spec.input, ...(spec.engine !== undefined ? { engine: spec.engine } : {}), ...(peer ? { onTransmit: peer.onTransmit } : {}), ...(spec.cpus !== undefined ? { cpus: spec.cpus } : {}) });
  peer?.attach({ nic: machine.nic, now: () => machine.deviceContext.now(), schedule: (at, fn) => machine.deviceContext.schedule(at, fn) });
  bootNative(machine, { kernel: guest.kernel, initrd: guest.initrd, cmdline: spec.cmdline });
  const marks: LedgerSnapshot[] = [];
  const kernelMarks: LedgerSnapshot[] | undefined = spec.kernelMarks === true ? [] : undefined;
  const ledger = watchLedger(machine.cpu, marks, kernelMarks);
  const { value: result, ms: wallMs } = timed(() => machine.run({ maxCycles: spec.maxCycles }));
  const run: GuestRun = {
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
    ...(kernelMarks !== undefined ? { kernelMarks } : {}),
  };
  // its memory, already mapped by the host, serves the next run's machine (no host page faults:
  // machine/memory.ts), as bench cpu's and bench boot's runs do
  machine.release();
  return run;
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
    if (spec.bridge) return runBridged(mode, spec);
    const guest = buildGuestKernel({ arch });
    const marks: LedgerSnapshot[] = [];
    const kernelMarks: LedgerSnapshot[] | undefined = spec.kernelMarks === true ? [] : undefined;
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
        ...(spec.ple === true && mode === 'hvm' ? { hvm: { ple: PLE_DEFAULTS } } : {}),
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
    const run: GuestRun = {
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
      ...(kernelMarks !== undefined ? { kernelMarks } : {}),
    };
    r.hypervisor.machine.release(); // as runNative's
    return run;
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


/** A bridged domain's station address: the default's with the last byte of its IPv4 address (as the daemon gives). */
export function bridgeMac(ip: number): number {
  return NIC_DEFAULT_MAC - 0x56 + (ip & 0xff);
}

/**
 * Two domains on a bridge: a runs spec.cmdline, b BRIDGE_PEER_CMDLINE, each with its own station
 * and IPv4 address (BRIDGE_ADDRESSES). pv: two domains of one hypervisor (one clock); native, trap,
 * bt, hvm: two machines, run in lockstep to their horizons (hypervisor/net/bridge.ts), so the run
 * is deterministic. Returns a's run (its console, counters, its machine's cycles) with the switch's
 * counters and b's ending.
 */
export function runBridged(mode: ModeName, spec: RunSpec): GuestRun {
  const sw = new VirtualSwitch();
  const arch = mode === 'pv' ? 'pv' : 'native';
  const guest = buildGuestKernel({ arch });
  const cmd = { a: spec.cmdline, b: BRIDGE_PEER_CMDLINE };
  const opt = <T>(k: string, v: T | undefined): Record<string, T> => (v === undefined ? {} : { [k]: v });
  type Side = { console: () => string; stopped: () => { reason: string; status: number; detail?: string }; cycles: () => number; instructions: () => number; counters: () => Counters; machine: LockstepMachine | null };
  const sides: Side[] = [];
  let pvHv: Hypervisor | null = null;
  const pvMode = new PvMode();
  const { ms: wallMs } = timed(() => {
    for (const who of ['a', 'b'] as const) {
      const ip = BRIDGE_ADDRESSES[who];
      const port = sw.port();
      if (mode === 'native') {
        const machine = new Machine({ profile: spec.profile, mac: bridgeMac(ip), ip, onTransmit: port.onTransmit, ...opt('engine', spec.engine), ...(who === 'a' ? opt('input', spec.input) : {}) });
        const clock = { now: () => machine.deviceContext.now(), schedule: (at: number, fn: () => void) => machine.deviceContext.schedule(at, fn) };
        port.attach({ nic: machine.nic, ...clock }, machine);
        bootNative(machine, { kernel: guest.kernel, initrd: guest.initrd, cmdline: cmd[who] });
        let end: { reason: string; status: number; detail?: string } = { reason: 'limit', status: 0 };
        sides.push({
          console: () => machine.consoleOutput(),
          stopped: () => end,
          cycles: () => machine.cpu.cycles,
          instructions: () => machine.cpu.instructions,
          counters: () => ({ ...ZERO_COUNTERS, interrupts: machine.cpu.stats.interrupts }),
          machine: {
            key: machine,
            clock,
            run: (cycles) => {
              const r = machine.run({ maxCycles: cycles });
              if (r.reason === 'limit' || r.reason === 'stopped') return true;
              end = { reason: r.reason, status: r.status, ...(r.detail !== undefined ? { detail: r.detail } : {}) };
              return false;
            },
          },
        });
        continue;
      }
      let domain: Domain;
      let hv: Hypervisor;
      if (mode === 'pv') {
        hv = pvHv ??= new Hypervisor({ memoryBytes: 40 * 1024 * 1024, profile: spec.profile, ...opt('engine', spec.engine) });
        domain = hv.createDomain(
          pvMode,
          { name: who, memoryBytes: 8 * 1024 * 1024, devices: false, onTransmit: port.onTransmit, mac: macToBytes(bridgeMac(ip)), ip, ...(who === 'a' ? opt('input', spec.input) : {}) },
          { kernel: guest.kernel, initrd: guest.initrd, cmdline: cmd[who] },
        );
        port.attach(domainNicPlatform(domain)!, hv);
        // both domains are on one machine: it runs once
        sides.push({ ...hypervisorSide(hv, domain, pvMode), machine: who === 'a' ? hypervisorMachine(hv) : null });
        continue;
      }
      const booted = runImageInMode(mode, guest.kernel, {
        profile: spec.profile,
        maxCycles: 0,
        mac: macToBytes(bridgeMac(ip)),
        ip,
        onTransmit: port.onTransmit,
        initrd: guest.initrd,
        cmdline: cmd[who],
        ...opt('engine', spec.engine),
        ...(who === 'a' ? opt('input', spec.input) : {}),
      });
      hv = booted.hypervisor;
      domain = booted.domain;
      port.attach(domainNicPlatform(domain)!, hv);
      sides.push({ ...hypervisorSide(hv, domain, null), machine: hypervisorMachine(hv) });
    }
    runLockstep(sw, sides.flatMap((x) => (x.machine ? [x.machine] : [])), spec.maxCycles);
  });
  const [a, b] = sides as [Side, Side];
  const end = a.stopped();
  return {
    mode,
    console: a.console(),
    stopped: end.reason,
    ...(end.detail !== undefined ? { detail: end.detail } : {}),
    status: end.status,
    cycles: a.cycles(),
    instructions: a.instructions(),
    wallMs,
    counters: a.counters(),
    bridge: { switch: { ...sw.counters }, peerConsole: b.console(), peerStopped: b.stopped().reason },
  };
}

/** A hypervisor as a machine of runLockstep: it has finished when every domain has stopped. */
function hypervisorMachine(hv: Hypervisor): LockstepMachine {
  return {
    key: hv,
    clock: { now: () => hv.cpu.cycles, schedule: (at, fn) => hv.events.schedule(at, fn) },
    run: (cycles) => {
      const r = hv.run({ maxCycles: cycles });
      return r.reason === 'limit' || r.reason === 'stopped';
    },
  };
}

/** One domain of a hypervisor as a side of a bridged run. */
function hypervisorSide(hv: Hypervisor, d: Domain, pv: PvMode | null) {
  return {
    console: () => d.consoleOutput(),
    stopped: () => ({ reason: d.stopReason === null ? 'limit' : d.stopReason === 'destroyed' ? 'stopped' : d.stopReason, status: d.stopReason === 'poweroff' ? d.stopStatus : 0, ...(d.stopDetail ? { detail: d.stopDetail } : {}) }),
    cycles: () => hv.cpu.cycles,
    instructions: () => d.stats.instructions,
    counters: () => ({
      ...domainCounters(d.stats),
      // pv delivers events, not emulated interrupts: count event-channel notifications
      ...(pv ? { interrupts: pvStatsReport(pv, d).eventsPending } : {}),
    }),
  };
}

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
