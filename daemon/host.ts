// The host: one simulated physical machine and the domains defined on it, as `xenolith daemon`
// runs it inside its worker thread. It keeps the definitions (persisted in the state directory),
// the lifecycle state machine, and the machines the domains run on:
//
//   - every pv domain of one CPU cost profile is a domain of ONE shared Hypervisor (one PvMode,
//     a BVT scheduler with the definitions' weights, one machine memory), as Xen hosts its guests;
//   - a trap, bt or hvm domain runs as the only domain of its own Hypervisor, and a native domain
//     on its own bare Machine, in the same worker: those modes keep one guest per machine today
//     (their shadow tables, second-stage tables and device models assume so), so the host hosts
//     each of them as a machine of its own, scheduled round robin with the shared pv machines.
//
// Commands are methods called between slices (the worker calls step() in a loop and handles
// messages between calls), so every command applies at a slice boundary, atomically, in arrival
// order: two requests on one domain never interleave. Host code; touches the state directory.

import type { Engine } from '../machine/translator.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConsoleLog } from '../machine/console-log.ts';
import { Machine } from '../machine/machine.ts';
import type { CpuState } from '../machine/cpu.ts';
import { Flag } from '../machine/isa.ts';
import { encodeImage, type Image, ImageArch } from '../machine/image.ts';
import { Hypervisor, DomainCreateError } from '../hypervisor/core/hypervisor.ts';
import type { Domain, DomainConfig } from '../hypervisor/core/domain.ts';
import type { BootSpec, Mode } from '../hypervisor/core/mode.ts';
import { BvtScheduler } from '../hypervisor/pv/bvt.ts';
import { PvMode } from '../hypervisor/pv/mode.ts';
import { PvDomain } from '../hypervisor/pv/state.ts';
import { requestControl, requestMemoryTarget, REBOOT_DETAIL } from '../hypervisor/pv/control.ts';
import { ControlRequest } from '../hypercalls/structs.ts';
import { TrapMode, HYPERVISOR_RESERVE_BYTES } from '../hypervisor/trap/index.ts';
import { smpHypervisorOptions } from '../hypervisor/run.ts';
import { BtMode } from '../hypervisor/bt/mode.ts';
import { HvmMode, PLE_DEFAULTS } from '../hypervisor/hvm/mode.ts';
import { hvmReserveBytes } from '../hypervisor/hvm/index.ts';
import type { ShadowKind } from '../hypervisor/trap/shadow.ts';
import { bootNative } from '../hypervisor/boot/native.ts';
import { MAX_MACHINE_BYTES, MAX_MEMORY_BYTES } from '../machine/memory.ts';
import { DefinitionError, validateDefinition, type DomainDefinition } from './definition.ts';
import { GraphError } from '../hypervisor/save/graph.ts';
import { SaveFormatError } from '../hypervisor/save/format.ts';
import { loadSaveFile, restoreRun, saveRun, type SavedRun } from '../hypervisor/save/state.ts';
import {
  PvSaveRefused, loadPvDomainFile, pvBindings, pvDomainMeta, pvQuietPoint, restorePvDomain, runToQuietPoint, savePvDomain, type SavedPvDomain,
} from '../hypervisor/save/pv-domain.ts';
import type { StateDir } from './state-dir.ts';
import { TraceBuffer, toChromeTrace, type ChromeTrace } from '../hypervisor/core/trace.ts';
import { HostUplink, type NicPlatform } from '../hypervisor/net/uplink.ts';
import { GUEST_IP, type GatewayState } from '../hypervisor/net/gateway.ts';
import { domainNicPlatform } from '../hypervisor/net/attach.ts';
import { BRIDGE_IDLE_EVENT, VirtualSwitch, type SwitchCounters, type SwitchPort } from '../hypervisor/net/bridge.ts';
import { deferred, deferredCallOf, type DeferredCall } from '../machine/deferred.ts';
import { parseNetSpecs } from '../hypervisor/net/hostfwd.ts';
import { macFromBytes, macToBytes, NIC_DEFAULT_MAC } from '../machine/devices/nic.ts';
import { dirtyFrames } from '../hypervisor/core/log-dirty.ts';
import { idleFor } from '../hypervisor/migration/downtime.ts';
import { migrateOut, type MigrateOptions, type MigrationReport, type OutgoingDomain } from './migration/source.ts';
import { migrateIn, type Hello, type PageStore, type StagedDomain } from './migration/dest.ts';
import { MigrationError } from './migration/wire.ts';
import { compactPvState, expandPvState } from './migration/pv.ts';
import { openMigration } from './migration/endpoint.ts';
import { Channel } from './migration/channel.ts';
import { InputLogError, InputLogWriter, OutputDigest, sha256, type LoggedEnd, type RunSettings } from '../hypervisor/input-log.ts';
import { PvHostLogError, PvHostLogWriter, type PvCommand, type PvHostEnd } from './pv-record.ts';

/** A domain's lifecycle state (libvirt's names; 'defined' = never started since it was defined). */
export type DomainStatus = 'defined' | 'running' | 'paused' | 'shut off' | 'crashed';

/** Cycles one machine runs per step before commands are looked at again (1 ms at 3 GHz). */
export const SLICE_CYCLES = 3_000_000;
/** Slices a pv domain's save runs its shared machine on for, at most, to reach a quiet point (100 ms at 3 GHz). */
export const PV_QUIET_SLICES = 100;
/** Most breakpoints per domain. */
export const MAX_BREAKPOINTS = 16;
/** bt: block-sized runs per step of a machine with breakpoints (each is a whole run() call: slow). */
const WATCHED_STEPS_PER_SLICE = 20_000;
/** A trace's defaults: 10 ms of a 3 GHz machine, and its buffer's records. */
export const DEFAULT_TRACE_CYCLES = 30_000_000;
export const DEFAULT_TRACE_RECORDS = 65536;
/** A trace ends after this much wall time even if its machine has not run its cycles (an idle machine). */
const TRACE_WALL_MS = 2000;
/** Monitor stops (breakpoint addresses passed by another domain) handled per slice at most. */
const MONITOR_STOPS_PER_SLICE = 100_000;
/** Consecutive restarts after a crash before on_crash=restart gives up (a crash loop). */
export const MAX_CRASH_RESTARTS = 5;
const CONSOLE_EOF = 0x04;

/** A domain's station address on a bridge: 52:54:00:12:34:NN, NN the last byte of its IPv4 address. */
export function stationMac(ip: number): Uint8Array {
  return macToBytes(NIC_DEFAULT_MAC - 0x56 + (ip & 0xff));
}

/**
 * What a saved domain's network keeps beside its machine's graph (META.setup.net): the gateway's
 * state when the domain has one of its own (net, no bridge) or carries its bridge's (its home), and
 * the indices of its forwards among that gateway's rules at the save (the clients its replies go
 * to name them; a restore renames them to the forwards bound again).
 */
interface SavedNet {
  gateway?: GatewayState;
  forwards: number[];
}

/** A refused command: the HTTP status and a one-line message. */
export class HostError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 500,
    message: string,
  ) {
    super(message);
    this.name = 'HostError';
  }
}

/** What `list`, `dominfo` and every lifecycle verb answer with. */
export interface DomainInfo {
  name: string;
  /** the hypervisor's domain id while it exists (running, paused, preserved), else null */
  id: number | null;
  status: DomainStatus;
  mode: DomainDefinition['mode'];
  profile: string;
  memoryMiB: number;
  vcpus: number;
  weight: number;
  /** why it last stopped (poweroff, halted, triple-fault, crashed, destroyed), or null */
  stopReason: string | null;
  stopDetail: string | null;
  /** the guest's power-off status when it powered off */
  stopStatus: number | null;
  /** times the daemon restarted it (on_reboot/on_poweroff/on_crash restart) since it was started */
  restarts: number;
  /** which machine it runs on: 'pv:PROFILE' (shared; 'pv:PROFILE:interpreter' under the interpreter) or 'own' */
  machine: string | null;
  /** cycles its vCPU ran, instructions retired (since it was last started) */
  cycles: number;
  instructions: number;
  /**
   * while the domain exists with a `net` definition: its host forwards, each as
   * `udp 127.0.0.1:HOSTPORT -> 10.0.2.15:GUESTPORT` with the port bound (host port 0 gets one)
   */
  forwards?: string[];
}

/** A state change, for the event stream. */
export interface StateEvent {
  name: string;
  status: DomainStatus | 'undefined';
  stopReason: string | null;
  detail: string | null;
}

/** A machine of the host: a Hypervisor (shared by pv domains, or one domain's own) or a bare Machine. */
interface HostMachine {
  key: string;
  hv: Hypervisor | null;
  bare: Machine | null;
  pv: PvMode | null;
  /** the one domain of an own bare machine (native) */
  owner: DomainRecord | null;
  /** every vCPU is blocked with no event left: nothing to run until a command pokes it */
  idle: boolean;
  /** pacing: wall time (ms) before which it does not run again */
  notBefore: number;
  wall0: number;
  cycles0: number;
  /** its one domain is being migrated away: the migration runs it (rounds), the step loop does not */
  migrating?: boolean;
}

/**
 * The shared pv machine of a profile and engine: 'pv:PROFILE' under the translator (the default
 * engine), 'pv:PROFILE:interpreter' under the interpreter. Fixed by the engine alone, not by the
 * environment's default (XENOLITH_ENGINE), so a name in a recording means the same everywhere.
 */
export function pvMachineKey(profile: string, engine: Engine): string {
  return engine === 'translator' ? `pv:${profile}` : `pv:${profile}:${engine}`;
}

/** A trace being taken of a machine: it ends when the machine has run `until` or at `wallDeadline`. */
interface PendingTrace {
  machine: HostMachine;
  buf: TraceBuffer;
  from: number;
  until: number;
  wallDeadline: number;
  resolve: (t: ChromeTrace) => void;
}

interface DomainRecord {
  def: DomainDefinition;
  status: DomainStatus;
  /** the vCPU the monitor's commands show (`cpu N`; QEMU's monitor keeps one current CPU the same way) */
  monitorCpu: number;
  machine: HostMachine | null;
  domain: Domain | null;
  stopReason: string | null;
  stopDetail: string | null;
  stopStatus: number | null;
  restarts: number;
  crashRestarts: number;
  /** console output kept while nobody reads it (bounded by def.console.logBytes) */
  log: ConsoleLog;
  /** console bytes of this slice, not yet sent to attached clients */
  fresh: number[];
  /** the kernel image booted (symbols for the monitor) */
  image: Image | null;
  disk: Uint8Array | null;
  /** the NIC's uplink to the host (definition field net), while the domain exists; on a bridge, the bridge's shared one */
  uplink: HostUplink | null;
  /** on a bridge: the indices of this domain's forwards in the bridge's shared uplink */
  forwards: number[] | null;
  /** where its network attached (for a bridge's gateway to move to it when its home domain goes) */
  nicAt: { nic: NicPlatform; machine: HostMachine } | null;
  /** its port on a bridge (definition field bridge), while the domain exists */
  switchPort: SwitchPort | null;
  /** how a domain on a bare machine (native) stopped */
  bareStop: { reason: string; status: number; detail?: string } | null;
  /** breakpoint addresses (virtual), in the order they were set */
  breakpoints: number[];
  /** a breakpoint address the domain is stopped at: the next run leaves it without stopping */
  leaveBreakpoint: number | null;
  /** it is being migrated away: it takes no command that would change it */
  migratingOut: boolean;
  /** the input log being written (definition field record), from start to the run's end */
  recording: Recording | null;
}

/** A domain's run being recorded (docs/replay.md): its log, its output so far, the machine's cycle at its start. */
interface Recording {
  log: InputLogWriter;
  digest: OutputDigest;
  base: number;
}

export interface HostOptions {
  /** the shared pv machine's memory in MiB (default 1024, the machine's ceiling) */
  hostMemoryMiB?: number;
  /** 'wall': idle stretches are stretched to wall time; 'fast': as fast as the simulator goes */
  pacing?: 'wall' | 'fast';
  /** state changes */
  onEvent?: (e: StateEvent) => void;
  /** console output of a domain since the last step */
  onConsole?: (name: string, bytes: Uint8Array) => void;
  /** the standard guest for an arch (injected so tests and the bench share one build) */
  standardGuest?: (arch: 'native' | 'pv') => { kernel: Image; initrd: Uint8Array };
  /** a kernel file named by a definition */
  loadKernel?: (path: string, arch: 'native' | 'pv') => Image;
  /** wall clock in ms (tests) */
  now?: () => number;
  /**
   * bridges skip idle machines ahead (default true): a machine blocked in HLT holds the others on
   * its bridge back only to its next event (hypervisor/net/bridge.ts); false: strict lockstep
   */
  bridgeIdleSkip?: boolean;
  /**
   * a replay's host (daemon/pv-replay.ts): a domain's forwards bind no host socket (the gateway
   * is HostUplink.detached); the recorded datagrams enter through replayDatagram
   */
  detachedNet?: boolean;
}

export class Host {
  private readonly records = new Map<string, DomainRecord>();
  private readonly machines: HostMachine[] = [];
  private readonly stopped: DomainRecord[] = [];
  private readonly traces: PendingTrace[] = [];
  /**
   * The host's bridges by name (definition field bridge). A bridge joins domains of any machines
   * of the host: each machine is one member of the switch (hypervisor/net/bridge.ts), and step()
   * runs a machine on a bridge no further than its horizon, so no frame between machines is late.
   */
  private readonly switches = new Map<string, VirtualSwitch>();
  /**
   * Each bridge's uplink to the host, while a domain with a network (net) is on it: one virtual
   * gateway for all of them, its forwards going to each domain's own address; it runs on the
   * clock of `home`, one of those domains (another takes it over when that one goes).
   */
  private readonly bridgeUplinks = new Map<string, { uplink: HostUplink; home: DomainRecord | null }>();
  private readonly hostMemoryBytes: number;
  /** the shared pv machine being recorded (daemon/pv-record.ts), while a recording is taken */
  private pvRec: { machine: HostMachine; log: PvHostLogWriter } | null = null;
  /** a replay's host (daemon/pv-replay.ts): a stopped domain is settled only where its recording says */
  private settleHeld: { name: string | null } | null = null;
  readonly pacing: 'wall' | 'fast';
  private readonly now: () => number;
  private next = 0;

  constructor(
    private readonly state: StateDir | null,
    private readonly opts: HostOptions = {},
  ) {
    this.hostMemoryBytes = Math.min(MAX_MACHINE_BYTES, (opts.hostMemoryMiB ?? 1024) * 1024 * 1024);
    this.pacing = opts.pacing ?? 'wall';
    this.now = opts.now ?? (() => performance.now());
    if (state) {
      for (const def of state.loadDefinitions()) this.records.set(def.name, this.newRecord(def));
      this.markLeftRunning(state);
    }
  }

  private newRecord(def: DomainDefinition): DomainRecord {
    return {
      def,
      status: 'defined',
      machine: null,
      domain: null,
      stopReason: null,
      stopDetail: null,
      stopStatus: null,
      restarts: 0,
      crashRestarts: 0,
      monitorCpu: 0,
      log: new ConsoleLog(def.console.logBytes),
      fresh: [],
      image: null,
      disk: null,
      uplink: null,
      forwards: null,
      nicAt: null,
      switchPort: null,
      bareStop: null,
      breakpoints: [],
      recording: null,
      leaveBreakpoint: null,
      migratingOut: false,
    };
  }

  // ================================================================================ queries

  list(): DomainInfo[] {
    return [...this.records.values()].sort((a, b) => a.def.name.localeCompare(b.def.name)).map((r) => this.info(r));
  }

  dominfo(name: string): DomainInfo {
    return this.info(this.get(name));
  }

  definition(name: string): DomainDefinition {
    return this.get(name).def;
  }

  private get(name: string): DomainRecord {
    const r = this.records.get(name);
    if (!r) throw new HostError(404, `no domain named '${name}' (xenolith list --all shows the defined ones)`);
    return r;
  }

  private info(r: DomainRecord): DomainInfo {
    const d = r.domain;
    return {
      name: r.def.name,
      id: d ? d.id : r.machine?.bare ? 0 : null,
      status: r.status,
      mode: r.def.mode,
      profile: r.def.profile,
      memoryMiB: r.def.memory,
      vcpus: r.def.vcpus,
      weight: r.def.weight,
      stopReason: r.stopReason,
      stopDetail: r.stopDetail,
      stopStatus: r.stopStatus,
      restarts: r.restarts,
      machine: r.machine ? (r.machine.pv ? r.machine.key : 'own') : null,
      cycles: d ? d.stats.runCycles : r.machine?.bare ? r.machine.bare.cpu.cycles : 0,
      instructions: d ? d.stats.instructions : r.machine?.bare ? r.machine.bare.cpu.instructions : 0,
      ...(r.uplink ? { forwards: r.uplink.describeForwards(r.forwards ?? undefined) } : {}),
    };
  }

  /** The host's machines: simulated cycles (idle ones apart), domains, machine frames in use. */
  machineStats(): { key: string; cycles: number; idleCycles: number; domains: number; usedFrames: number; totalFrames: number }[] {
    return this.machines.map((m) => {
      if (m.bare) return { key: m.key, cycles: machineCycles(m), idleCycles: m.bare.idleCycles, domains: 1, usedFrames: m.bare.mem.size / 4096, totalFrames: m.bare.mem.size / 4096 };
      const hv = m.hv!;
      return { key: m.key, cycles: hv.cpu.cycles, idleCycles: hv.idleCycles, domains: hv.domains.length, usedFrames: hv.frames.frames - hv.frames.freeFrames, totalFrames: hv.frames.frames };
    });
  }

  /** Per-domain statistics (domstats): the info plus the mode's counters. */
  domstats(name: string): { info: DomainInfo; stats: Record<string, unknown> } {
    const r = this.get(name);
    const stats: Record<string, unknown> = {};
    if (r.domain) Object.assign(stats, r.domain.stats.summary());
    else if (r.machine?.bare) {
      // every CPU's counters and instructions together, as a domain's of several vCPUs (and run
      // --stats' with several CPUs)
      const { instructions, counters } = r.machine.bare.totals();
      for (const [k, v] of counters) stats[k] = v;
      stats.instructions = instructions;
    }
    stats.consoleBytes = r.log.length + r.log.dropped;
    stats.consoleDropped = r.log.dropped;
    return { info: this.info(r), stats };
  }

  /** The console log kept for the domain (what an attaching client is shown first). */
  consoleLog(name: string): Uint8Array {
    return this.get(name).log.bytes();
  }

  /** The live domain and machine of a record, for the monitor. */
  live(name: string): { rec: { def: DomainDefinition; image: Image | null; status: DomainStatus; monitorCpu: number }; domain: Domain | null; hv: Hypervisor | null; bare: Machine | null } {
    const r = this.get(name);
    if (!r.machine) throw new HostError(409, `domain '${name}' is ${r.status}: the monitor looks at a running, paused or preserved domain`);
    return { rec: r, domain: r.domain, hv: r.machine.hv, bare: r.machine.bare };
  }

  // ================================================================================ definitions

  /** Define (or redefine) a domain; a running domain's new definition applies at its next start. */
  define(def: DomainDefinition): { info: DomainInfo; created: boolean } {
    const old = this.records.get(def.name);
    this.state?.saveDefinition(def);
    if (old) {
      old.def = def;
      return { info: this.info(old), created: false };
    }
    const r = this.newRecord(def);
    this.records.set(def.name, r);
    this.emit(r);
    return { info: this.info(r), created: true };
  }

  undefine(name: string): void {
    const r = this.get(name);
    if (r.status === 'running' || r.status === 'paused') {
      throw new HostError(409, `domain '${name}' is ${r.status}: destroy it first (xenolith destroy ${name})`);
    }
    if (r.machine) this.pvRecordCommand(r, 'destroy');
    this.release(r);
    this.state?.removeDefinition(name);
    this.records.delete(name);
    this.opts.onEvent?.({ name, status: 'undefined', stopReason: null, detail: null });
  }

  // ================================================================================ lifecycle

  start(name: string): DomainInfo {
    const r = this.get(name);
    if (r.status === 'running' || r.status === 'paused') throw new HostError(409, `domain '${name}' is already ${r.status}`);
    if (this.incomingNames.has(name)) throw new HostError(409, `domain '${name}' is being migrated to this host`);
    this.pvRecordStart(r);
    // a preserved domain gives its memory back first
    this.release(r);
    r.restarts = 0;
    r.crashRestarts = 0;
    // the log is opened first: a file that cannot be written refuses the start, the domain unchanged
    const log = r.def.record !== undefined ? this.openRecording(r.def, this.recordPath(r.def.record)) : null;
    this.boot(r);
    if (log) {
      const rec: Recording = { log, digest: new OutputDigest(), base: machineCycles(r.machine!) };
      r.recording = rec;
      // a host datagram enters the gateway between slices: logged with the cycle it entered at
      // (the domain's own uplink: its rules are the definition's, in order, as run --replay's)
      if (r.uplink && !r.forwards) {
        r.uplink.onHostDatagram = (rule, payload, address, port) => {
          if (r.recording === rec) log.event({ kind: 'datagram', cycle: this.recordedCycle(r, rec), rule, address, port, base64: Buffer.from(payload).toString('base64') });
        };
      }
      // on a bridge: every frame that enters its NIC from the switch, at the cycle it enters
      const inbox = r.switchPort?.inbox;
      if (inbox) {
        inbox.tap = (frame) => {
          if (r.recording === rec) log.event({ kind: 'frame', cycle: this.recordedCycle(r, rec), base64: Buffer.from(frame).toString('base64') });
        };
      }
    }
    return this.info(r);
  }

  /**
   * Open the log of a run of `def` in `file`, as `run --record` does: the settings `run --replay`
   * boots with (the definition's, in run's terms), then each console input at the machine's cycle
   * counted from its start, and the end. Only a domain with a machine of its own (the definition
   * refuses the others), whose cycles are its run's alone. A start that then fails leaves a log
   * with no end line, which `run --replay` refuses as unfinished.
   */
  /**
   * Where a definition's record goes: a plain name (all the API accepts) is a file of the state
   * directory's files/ (an in-process host without one: the working directory); an absolute
   * path (a definition given in-process, or persisted by an older daemon) is itself.
   */
  private recordPath(record: string): string {
    if (isAbsolute(record)) return record;
    return this.state !== null ? this.state.file(record) : resolve(record);
  }

  private openRecording(def: DomainDefinition, file: string): InputLogWriter {
    // net (not on a bridge): the same forwards, which run --replay builds its gateway with (no socket)
    const run: RunSettings = { mode: def.mode, profile: def.profile, engine: def.engine, memoryMiB: def.memory, add: [], net: def.bridge === undefined ? [...(def.net ?? [])] : [] };
    // on a bridge: the NIC's station address and address there (its inputs are the frames from the bridge)
    if (def.bridge !== undefined) {
      const ip = def.ip ?? '10.0.2.15';
      run.bridge = { mac: macFromBytes(stationMac(ipNumber(ip))), ip };
    }
    // net at another address: the guest's address (run --replay gives it, and parses the forwards with it)
    if (def.bridge === undefined && def.net !== undefined && def.ip !== undefined && ipNumber(def.ip) !== GUEST_IP) run.ip = def.ip;
    // a kernel of its own: its path, and the SHA-256 of the image loaded from it (run --replay loads it and checks)
    if (def.kernel !== undefined) {
      run.image = def.kernel;
      run.imageSha256 = sha256(encodeImage(this.bootImage(def).image));
    }
    if (def.cmdline !== undefined) run.cmdline = def.cmdline;
    if (def.shadow !== undefined) run.shadow = def.shadow;
    if (def.bt_adaptive === true) run.btAdaptive = true;
    if (def.ple === true) run.ple = true;
    // several vCPUs: the daemon's machine is run --smp N's (one physical CPU each, seed 1, the default quantum)
    if (def.vcpus > 1) run.smp = def.vcpus;
    if (def.console.input !== undefined) run.input = def.console.input.replace(/\\n/g, '\n');
    const disk = this.readDisk(def);
    if (disk) run.diskSha256 = sha256(disk);
    try {
      return new InputLogWriter(file, run);
    } catch (e) {
      throw new HostError(409, `domain '${def.name}' cannot start: record ${e instanceof InputLogError ? e.message : String(e)}`);
    }
  }

  /** The cycle of the run being recorded (from its start). */
  private recordedCycle(r: DomainRecord, rec: Recording): number {
    return machineCycles(r.machine!) - rec.base;
  }

  /** End the recording of `r` (before its machine goes): how its run ended, at which cycle. */
  private finishRecording(r: DomainRecord, end: LoggedEnd): void {
    const rec = r.recording;
    if (!rec || !r.machine) return;
    r.recording = null;
    rec.log.finish({ cycle: this.recordedCycle(r, rec), end, outputBytes: rec.digest.bytes, outputSha256: rec.digest.digest() });
  }

  /** A bridge's counters (frames forwarded, flooded, dropped, late), or all 0 for a bridge no domain has joined. */
  bridgeCounters(name: string): SwitchCounters {
    return { ...(this.switches.get(name)?.counters ?? { forwarded: 0, flooded: 0, dropped: 0, late: 0 }) };
  }

  /**
   * The host's bridges (virtual switches), by name: the ports attached now (the domains' and the
   * gateway's), the machines on it, whether it carries a gateway, its counters. A bridge is made
   * when a domain first joins it and stays while the host runs (its counters go on) - but one a
   * failed incoming migration made for its staged domain goes with it.
   */
  bridges(): { name: string; ports: number; machines: number; gateway: boolean; counters: SwitchCounters }[] {
    return [...this.switches].map(([name, sw]) => ({ name, ports: sw.attachedPorts, machines: sw.machines, gateway: sw.uplink !== null, counters: { ...sw.counters } }));
  }

  // ================================================================================ networks saved and moved

  /** What a domain is saved with in META.setup (its own machine's file, or pv-domain.ts's): its definition, paused or not, its network's host side. */
  private ownSetup(r: DomainRecord): Record<string, unknown> {
    const setup: Record<string, unknown> = { definition: r.def, paused: r.status === 'paused' };
    if (r.uplink) {
      const home = r.def.bridge === undefined || this.bridgeUplinks.get(r.def.bridge)?.home === r;
      const net: SavedNet = { forwards: r.forwards ?? r.uplink.rules.map((_, k) => k) };
      if (home) net.gateway = r.uplink.gateway.state();
      setup.net = net;
    }
    return setup;
  }

  /**
   * The objects outside a bridged domain's machine that its event queue names (frames in flight,
   * hypervisor/net/bridge.ts): its port's inbox and, when its machine carries the bridge's
   * gateway, the gateway's ways into and out of the switch. Written by name (externals); a
   * restore names the restoring side's own (netExternalsIn).
   */
  private netExternalsOut(r: DomainRecord): Map<object, string> {
    const ext = new Map<object, string>();
    if (r.switchPort?.inbox) ext.set(r.switchPort.inbox, 'net:port');
    const sw = r.def.bridge !== undefined ? this.switches.get(r.def.bridge) : undefined;
    if (sw && this.bridgeUplinks.get(r.def.bridge!)?.home === r) {
      if (sw.uplinkInbox) ext.set(sw.uplinkInbox, 'net:uplink');
      if (sw.uplinkPortInbox) ext.set(sw.uplinkPortInbox, 'net:uplink-port');
    }
    return ext;
  }

  /**
   * A pv domain of the shared machine saved or migrated alone: the externals its pending events
   * name (on a bridge, its port's inbox: frames on their way to it through the switch) and the
   * shared machine's events it takes with it (`carry`): a frame its bridge's gateway sent it that
   * is still in the gateway's latency - an event of the gateway's way into the switch, on this
   * machine's queue when the gateway's home is here - goes as a relay to its own port
   * (BridgeInbox.relay: it enters the switch at that cycle and arrives the bridge latency later,
   * as it would have here), so it is received wherever the domain lands; when it is the gateway's
   * home, a frame of its own still on its way to the gateway (an event of the gateway port's inbox)
   * goes to the gateway made for it there (`net:uplink-port`, in `shared`: that inbox takes the
   * other domains' frames too, which stay). `held` lists those events here: the caller cancels
   * them once the domain has left (save; a migration's commit).
   */
  private pvNetOut(r: DomainRecord): {
    extra: Map<object, string> | undefined;
    carry: ((call: DeferredCall) => (() => void) | null) | undefined;
    shared: Set<object> | undefined;
    held: () => number[];
  } {
    const inbox = r.switchPort?.inbox;
    const sw = r.def.bridge !== undefined ? this.switches.get(r.def.bridge) : undefined;
    const none = { extra: undefined, carry: undefined, shared: undefined, held: () => [] };
    if (!inbox || !sw) return none;
    const mac = stationMac(r.def.ip !== undefined ? ipNumber(r.def.ip) : GUEST_IP);
    const toIt = (call: DeferredCall): Uint8Array | null => {
      const frame = call.args[0];
      if (sw.uplinkInbox === null || call.target !== sw.uplinkInbox || call.name !== 'receive' || !(frame instanceof Uint8Array) || frame.length < 14) return null;
      for (let k = 0; k < 6; k++) if (frame[k] !== mac[k]) return null;
      return frame;
    };
    // when it carries the gateway (its home): its own frames on their way to the gateway - events
    // of the uplink port's inbox here - go with it to the gateway made for it there ('net:uplink-port')
    const upInbox = this.bridgeUplinks.get(r.def.bridge!)?.home === r ? sw.uplinkPortInbox : null;
    const fromIt = (call: DeferredCall): boolean => {
      const frame = call.args[0];
      if (upInbox === null || call.target !== upInbox || call.name !== 'arrive' || !(frame instanceof Uint8Array) || frame.length < 14) return false;
      for (let k = 0; k < 6; k++) if (frame[6 + k] !== mac[k]) return false;
      return true;
    };
    const hv = r.machine!.hv!;
    const extra = new Map<object, string>([[inbox, 'net:port']]);
    if (upInbox !== null) extra.set(upInbox, 'net:uplink-port');
    return {
      extra,
      // the gateway's port takes the other domains' frames too: only this one's go (carry)
      shared: upInbox !== null ? new Set<object>([upInbox]) : undefined,
      carry: (call) => {
        if (fromIt(call)) return deferred(upInbox!, 'arrive', call.args[0]);
        const frame = toIt(call);
        return frame === null ? null : deferred(inbox, 'relay', frame);
      },
      held: () => hv.events.pending().flatMap((e) => {
        const call = deferredCallOf(e.fn);
        return call !== null && (toIt(call) !== null || fromIt(call)) ? [e.handle] : [];
      }),
    };
  }

  /** The restoring side's objects for netExternalsOut's names: the new port's inbox, the bridge's gateway's. */
  private netExternalsIn(r: DomainRecord): Map<string, object> {
    const ext = new Map<string, object>();
    if (r.switchPort?.inbox) ext.set('net:port', r.switchPort.inbox);
    const sw = r.def.bridge !== undefined ? this.switches.get(r.def.bridge) : undefined;
    if (sw?.uplinkInbox) ext.set('net:uplink', sw.uplinkInbox);
    if (sw?.uplinkPortInbox) ext.set('net:uplink-port', sw.uplinkPortInbox);
    return ext;
  }

  /** The bridge's gateway before a domain of `def` is built (null: none, or no bridge). */
  private gatewayOf(def: DomainDefinition): HostUplink | null {
    return def.bridge !== undefined ? (this.bridgeUplinks.get(def.bridge)?.uplink ?? null) : null;
  }

  /**
   * A restored (or migrated-in) domain's network, after its machine's state was laid in: a gateway
   * made for it (its own, or its bridge's when no other domain there had one) takes the saved
   * gateway's state, its clients renamed to the forwards bound again; on a bridge, the switch
   * learns its station address on its new port (announce), and its machine joins the bridge's time
   * again at the others' (its clock jumped to the saved one) - at once, or, `staged` (a migration
   * not committed), held until it is listed and runs.
   */
  private reattachNet(r: DomainRecord, net: SavedNet | undefined, gatewayBefore: HostUplink | null, staged = false): void {
    const m = r.machine!;
    const ownIp = r.def.ip !== undefined ? ipNumber(r.def.ip) : GUEST_IP;
    if (net?.gateway && r.uplink && r.uplink !== gatewayBefore) {
      const now = r.forwards ?? r.uplink.rules.map((_, k) => k);
      const clients = net.gateway.clients.flatMap(([port, rule, address]): [number, number, string][] => {
        const j = net.forwards.indexOf(rule);
        return j >= 0 && j < now.length ? [[port, now[j]!, address]] : [];
      });
      const gw = r.uplink.gateway;
      gw.loadState({ ...net.gateway, clients });
      // the station addresses of the domains on the bridge now (loadState put back the saved ones)
      if (r.def.bridge !== undefined) {
        gw.addStation(ownIp, stationMac(ownIp));
        for (const o of this.records.values()) {
          if (o.switchPort && o.def.bridge === r.def.bridge) {
            const ip = o.def.ip !== undefined ? ipNumber(o.def.ip) : GUEST_IP;
            gw.addStation(ip, stationMac(ip));
          }
        }
      }
    }
    if (r.switchPort) {
      // a machine of its own joins the bridge's time again (its clock is the saved one); the
      // shared pv machine's clock did not jump (the domain keeps its own time in its TSC offset)
      const sw = this.switches.get(r.def.bridge!)!;
      if (!m.pv) {
        if (staged) sw.hold(m, true);
        else sw.rejoin(m);
      }
      r.switchPort.announce(stationMac(ownIp));
    }
  }

  /** The pv state of a live domain of the shared machine, else null. */
  private pvOf(r: DomainRecord): PvDomain | null {
    const pv = r.domain?.modeState;
    return pv instanceof PvDomain ? pv : null;
  }

  /** Post a control request to a pv guest (VIRQ_CONTROL) and let its machine run. */
  private control(r: DomainRecord, pv: PvDomain, request: ControlRequest): void {
    requestControl(pv, request);
    r.machine!.hv!.interruptPending(r.domain!);
    this.poke(r.machine!);
  }

  /**
   * Ask the guest to power off. pv: a shutdown request through the control path (the guest
   * kernel powers off; a paused domain takes it when resumed). Other modes have no such path:
   * end of input on the console (the standard guest's shell exits and init powers off).
   * Either way on_poweroff applies when the guest has stopped.
   */
  shutdown(name: string): DomainInfo {
    const r = this.needLive(name, 'shut down');
    this.pvRecordCommand(r, 'shutdown');
    const pv = this.pvOf(r);
    if (pv) this.control(r, pv, ControlRequest.POWEROFF);
    else this.feed(r, Uint8Array.of(CONSOLE_EOF));
    return this.info(r);
  }

  /**
   * pv: a reboot request through the control path; the guest stops for a reboot and on_reboot
   * applies (restart: booted again). Other modes: destroyed at once, and started again if
   * on_reboot is restart.
   */
  reboot(name: string): DomainInfo {
    const r = this.needLive(name, 'reboot');
    this.pvRecordCommand(r, 'reboot');
    const pv = this.pvOf(r);
    if (pv) {
      this.control(r, pv, ControlRequest.REBOOT);
      return this.info(r);
    }
    this.release(r);
    this.setStopped(r, 'shut off', 'reboot', null, null);
    if (r.def.on_reboot === 'restart') {
      r.restarts++;
      this.boot(r);
    }
    return this.info(r);
  }

  destroy(name: string): DomainInfo {
    const r = this.get(name);
    this.notMigrating(r, 'destroy');
    if (!r.machine) throw new HostError(409, `domain '${name}' is not running (it is ${r.status})`);
    this.pvRecordCommand(r, 'destroy');
    const wasLive = r.status === 'running' || r.status === 'paused';
    this.release(r);
    if (wasLive) this.setStopped(r, 'shut off', 'destroyed', null, null);
    return this.info(r);
  }

  /**
   * `save NAME FILE` (xl save): the domain, whole, to FILE (hypervisor/save/: the one format
   * `run --restore` reads too), then the domain is taken down (shut off, reason 'saved'). A domain
   * with a machine of its own (native, trap, bt, hvm) is saved with its machine; a pv domain of the
   * shared machine alone, its machine frames named by pseudo-physical frame
   * (hypervisor/save/pv-domain.ts), so it restores on a machine whose frames differ. A pv domain is
   * saved at a quiet point: the shared machine runs on, slice by slice as step() runs it, until the
   * domain's vCPU is in user mode or blocked. What binds it to another domain or to host sockets
   * refuses the save (409), in one line.
   */
  save(name: string, file: string): DomainInfo {
    const r = this.needLive(name, 'save');
    const m = r.machine!;
    let bytes: Uint8Array;
    /** the shared machine's events the file took with the domain (taken away here once it is written) */
    let carried: () => number[] = () => [];
    if (m.pv) {
      const hv = m.hv!;
      const domain = r.domain!;
      const bound = pvBindings(m.pv.host, m.pv.pv(domain));
      if (bound !== null) throw new HostError(409, `domain '${name}' cannot be saved: ${bound}`);
      if (r.status === 'running') runToQuietPoint(hv, m.pv, domain, () => this.runSlice(m, SLICE_CYCLES, this.now()), PV_QUIET_SLICES);
      const why = pvQuietPoint(hv, m.pv.pv(domain));
      if (why !== null) {
        if (domain.stopped) this.settle();
        throw new HostError(409, `domain '${name}' cannot be saved now: it is not at a quiet point (${why})${r.status === 'paused' ? '; resume it and save again' : ''}`);
      }
      try {
        // on a bridge: a frame on its way to it names its port's inbox; one its gateway sent it here goes with it
        const net = this.pvNetOut(r);
        bytes = savePvDomain(hv, m.pv, domain, this.ownSetup(r), net.extra, net.carry, net.shared);
        carried = net.held;
      } catch (e) {
        if (e instanceof PvSaveRefused) throw new HostError(409, `domain '${name}' cannot be saved: ${e.message}`);
        throw e;
      }
    } else {
      const root: object = m.hv ?? m.bare!;
      const cpu = m.hv ? m.hv.cpu : m.bare!.cpu;
      try {
        bytes = saveRun(r.def.mode, root, { setup: this.ownSetup(r), cycles: cpu.cycles, counters: {}, vcpus: [{ domain: name, id: 0, pc: cpu.pc, cycles: cpu.cycles, instructions: cpu.instructions }] }, undefined, this.netExternalsOut(r));
      } catch (e) {
        if (e instanceof GraphError) throw new HostError(409, `domain '${name}' cannot be saved: ${e.message}`);
        throw e;
      }
    }
    try {
      writeFileSync(file, bytes);
    } catch (e) {
      throw new HostError(400, `${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    this.pvRecordCommand(r, 'save');
    for (const h of carried()) m.hv!.events.cancel(h);
    this.release(r);
    this.setStopped(r, 'shut off', 'saved', null, null);
    return this.info(r);
  }

  /**
   * `restore FILE` (xl restore): the domain saved in FILE, defined again from the definition the
   * file holds if need be, started from its saved state - running, or paused if it was saved
   * paused. A pv domain joins this host's shared pv machine with frames of its own there. The
   * file is checked whole before anything changes; a domain of that name that is running or
   * paused is left alone (409).
   */
  restore(file: string): DomainInfo {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new HostError(400, `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    let saved: SavedRun;
    let pvSaved: SavedPvDomain | null = null;
    let def: DomainDefinition;
    try {
      saved = loadSaveFile(bytes);
      if (pvDomainMeta(saved) !== null) pvSaved = loadPvDomainFile(bytes);
      const d = (saved.meta.setup as { definition?: unknown }).definition;
      if (d === undefined) throw new SaveFormatError('it holds a single run (xenolith run --restore), not a daemon domain');
      def = validateDefinition(d);
    } catch (e) {
      if (e instanceof SaveFormatError || e instanceof DefinitionError) throw new HostError(400, `${file}: ${e.message}`);
      throw e;
    }
    if (def.mode !== saved.mode) throw new HostError(400, `${file}: the header says ${saved.mode}, the definition ${def.mode}`);
    if (def.mode === 'pv' && pvSaved === null) throw new HostError(400, `${file}: it holds a whole pv machine (xenolith run --restore), not one domain`);
    this.pvRecordRefuses(def, 'restore a pv domain into it (its state comes from outside the recording)');
    const had = this.records.get(def.name);
    if (had && (had.status === 'running' || had.status === 'paused')) throw new HostError(409, `domain '${def.name}' is ${had.status}: destroy it before restoring it`);
    if (this.incomingNames.has(def.name)) throw new HostError(409, `domain '${def.name}' is being migrated to this host`);
    // the definition the domain was saved with is its definition again (defined if it was not)
    this.define(def);
    const r = this.records.get(def.name)!;
    this.release(r);
    r.restarts = 0;
    r.crashRestarts = 0;
    const gatewayBefore = this.gatewayOf(def);
    this.boot(r);
    const m = r.machine!;
    try {
      if (pvSaved) restorePvDomain(m.hv!, m.pv!, pvSaved, r.domain!, this.netExternalsIn(r));
      else restoreRun(saved, m.hv ?? m.bare!, [], this.netExternalsIn(r));
      this.reattachNet(r, (saved.meta.setup as { net?: SavedNet }).net, gatewayBefore);
    } catch (e) {
      this.release(r);
      this.setStopped(r, 'shut off', 'destroyed', null, null);
      if (e instanceof SaveFormatError) throw new HostError(400, `${file}: ${e.message}`);
      throw e;
    }
    if ((saved.meta.setup as { paused?: boolean }).paused && r.domain) {
      m.hv!.pauseDomain(r.domain);
      r.status = 'paused';
    }
    this.poke(m);
    this.emit(r);
    return this.info(r);
  }

  // ================================================================================ live migration

  /**
   * `migrate NAME --to URL` (xl migrate), the source's side: send the domain over `ch` (connected
   * to the destination's migration endpoint) by pre-copy (daemon/migration/source.ts); once the
   * destination runs it, this copy is destroyed (shut off, reason 'migrated'). While it goes the
   * domain's machine is run by the migration's rounds, not by the step loop, and the domain takes
   * no command. On any failure before the destination committed, it runs here as before and the
   * promise rejects with a HostError (one line). Every mode: a domain with a machine of its own
   * (native, trap, bt, hvm) goes with it (native has no hypervisor to log its writes: all of it goes
   * in the stop-and-copy); a pv domain goes alone from the shared machine (outgoingPv).
   */
  migrate(name: string, ch: Channel, opts: MigrateOptions, to = 'the destination'): Promise<MigrationReport> {
    let d: OutgoingDomain;
    try {
      this.pvRecordRefuses(this.get(name).def, 'migrate a domain away from it');
      d = this.outgoing(name, to);
    } catch (e) {
      ch.abort(e instanceof Error ? e.message : String(e));
      return Promise.reject(e);
    }
    return migrateOut(d, ch, opts).catch((e: unknown) => {
      throw e instanceof MigrationError ? new HostError(409, `migration of '${name}' failed: ${e.message}`) : e;
    });
  }

  /**
   * `migrate NAME --to URL`: connect to the destination daemon at `url` with its token (its
   * migration endpoint, daemon/migration/endpoint.ts) and migrate the domain there.
   */
  async migrateTo(name: string, url: string, token: string, opts: MigrateOptions): Promise<MigrationReport> {
    this.needLive(name, 'migrate');
    let transport;
    try {
      transport = await openMigration(url, token);
    } catch (e) {
      throw e instanceof MigrationError ? new HostError(409, `migration of '${name}' failed: ${e.message}`) : e;
    }
    return this.migrate(name, new Channel(transport, 'the destination'), opts, url);
  }

  /** The source's view of a domain to migrate (OutgoingDomain); marks its machine migrating. */
  private outgoing(name: string, to: string): OutgoingDomain {
    const r = this.needLive(name, 'migrate');
    const m = r.machine!;
    if (m.pv) return this.outgoingPv(r, to);
    const hv = m.hv;
    const bare = m.bare;
    const domain = r.domain;
    const mem = hv ? hv.mem : bare!.mem;
    const cpu = hv ? hv.cpu : bare!.cpu;
    const p2m = domain ? domain.p2m : null;
    const pages = p2m ? p2m.length : mem.frames;
    const mfn = (pfn: number): number => (p2m ? p2m[pfn]! : pfn);
    m.migrating = true;
    r.migratingOut = true;
    const host = this;
    return {
      name,
      definition: r.def as unknown as Record<string, unknown>,
      mode: r.def.mode,
      pages,
      clockMHz: (hv ?? bare!).profile.clockMHz,
      tracksDirty: domain !== null,
      readPages(pfns) {
        const out = new Uint8Array(pfns.length * 4096);
        pfns.forEach((pfn, k) => {
          const f = mfn(pfn);
          if (f >= 0) out.set(mem.u8.subarray(f * 4096, (f + 1) * 4096), k * 4096);
        });
        return out;
      },
      enableLogDirty() {
        domain!.enableLogDirty();
      },
      run(cycles) {
        if (r.machine !== m) return r.stopReason ?? 'destroyed';
        // a paused domain does not run; its machine's time goes by all the same
        if (r.status === 'paused') idleFor(hv ?? bare!, cycles);
        else host.runFor(m, cycles);
        if (domain ? domain.stopped : host.stopped.includes(r)) return domain?.stopReason ?? r.bareStop?.reason ?? 'stopped';
        return null;
      },
      peekAndClean() {
        return dirtyFrames(domain!.peekAndClean());
      },
      stop() {
        // the machine is not stepped while migrating: the domain runs no more from here
        const faults = domain?.logDirty?.faults ?? 0;
        domain?.disableLogDirty();
        return { faults, dirtied: [] };
      },
      captureState() {
        const own = new Uint8Array(mem.frames);
        for (let pfn = 0; pfn < pages; pfn++) if (mfn(pfn) >= 0) own[mfn(pfn)] = 1;
        try {
          return saveRun(
            r.def.mode,
            hv ?? bare!,
            { setup: host.ownSetup(r), cycles: cpu.cycles, counters: {}, vcpus: [{ domain: name, id: 0, pc: cpu.pc, cycles: cpu.cycles, instructions: cpu.instructions }] },
            (buf) => (buf === mem.buffer ? (c) => own[c] === 1 : null),
            host.netExternalsOut(r),
          );
        } catch (e) {
          if (e instanceof GraphError) throw new MigrationError(`domain '${name}' cannot be saved: ${e.message}`);
          throw e;
        }
      },
      resume() {
        m.migrating = false;
        r.migratingOut = false;
        if (domain?.logDirty) domain.disableLogDirty();
        host.poke(m);
      },
      giveUp() {
        m.migrating = false;
        r.migratingOut = false;
        host.release(r);
        host.setStopped(r, 'shut off', 'migrated', `to ${to}`, null);
      },
    };
  }

  /**
   * A pv domain of the shared machine, to migrate: the machine goes on running (its other domains,
   * and this one between the rounds); the rounds run the machine for their time. Stop-and-copy
   * runs it to the domain's quiet point (pv-domain.ts), pauses the domain, and sends
   * pv-domain.ts's file without the pages the destination holds (daemon/migration/pv.ts).
   */
  private outgoingPv(r: DomainRecord, to: string): OutgoingDomain {
    const m = r.machine!;
    const hv = m.hv!;
    const mode = m.pv!;
    const domain = r.domain!;
    const name = r.def.name;
    const bound = pvBindings(mode.host, mode.pv(domain));
    if (bound !== null) throw new HostError(409, `domain '${name}' cannot be migrated: ${bound}`);
    const p2m = domain.p2m;
    const pages = p2m.length;
    const mem = hv.mem;
    const page = (pfn: number): Uint8Array | null => (p2m[pfn]! >= 0 ? mem.u8.subarray(p2m[pfn]! * 4096, (p2m[pfn]! + 1) * 4096) : null);
    r.migratingOut = true;
    let pausedHere = false;
    /** the shared machine's events the state took with the domain (taken away here at the commit) */
    let carried: () => number[] = () => [];
    const host = this;
    return {
      name,
      definition: r.def as unknown as Record<string, unknown>,
      mode: 'pv',
      pages,
      clockMHz: hv.profile.clockMHz,
      tracksDirty: true,
      readPages(pfns) {
        const out = new Uint8Array(pfns.length * 4096);
        pfns.forEach((pfn, k) => {
          const b = page(pfn);
          if (b) out.set(b, k * 4096);
        });
        return out;
      },
      enableLogDirty() {
        domain.enableLogDirty();
      },
      run(cycles) {
        if (r.domain !== domain) return r.stopReason ?? 'destroyed';
        host.runFor(m, cycles);
        return domain.stopped ? (domain.stopReason ?? 'stopped') : null;
      },
      peekAndClean() {
        return dirtyFrames(domain.peekAndClean());
      },
      stop() {
        if (r.status === 'running') {
          runToQuietPoint(hv, mode, domain, () => host.runFor(m, SLICE_CYCLES), PV_QUIET_SLICES);
          const why = domain.stopped ? `it stopped (${domain.stopReason})` : pvQuietPoint(hv, mode.pv(domain));
          if (why !== null) throw new MigrationError(`domain '${name}' is not at a quiet point for its stop-and-copy (${why})`);
          pausedHere = hv.pauseDomain(domain);
        }
        const faults = domain.logDirty?.faults ?? 0;
        const dirtied = dirtyFrames(domain.peekAndClean());
        domain.disableLogDirty();
        return { faults, dirtied };
      },
      captureState() {
        try {
          const net = host.pvNetOut(r);
          carried = net.held;
          const file = savePvDomain(hv, mode, domain, host.ownSetup(r), net.extra, net.carry, net.shared);
          return compactPvState(file, pages, page);
        } catch (e) {
          if (e instanceof PvSaveRefused) throw new MigrationError(`domain '${name}' cannot be saved: ${e.message}`);
          throw e;
        }
      },
      resume() {
        r.migratingOut = false;
        if (domain.logDirty) domain.disableLogDirty();
        if (pausedHere && r.domain === domain) hv.unpauseDomain(domain);
        pausedHere = false;
        host.poke(m);
      },
      giveUp() {
        r.migratingOut = false;
        // the gateway's frames to it that went with its state are the destination's now
        for (const h of carried()) hv.events.cancel(h);
        host.release(r);
        host.setStopped(r, 'shut off', 'migrated', `to ${to}`, null);
      },
    };
  }

  /** names being migrated to this host (staged, not yet listed as running) */
  private readonly incomingNames = new Set<string>();

  /** The destination's side of one migration on `ch`: resolves with the domain's name once it runs here. */
  incoming(ch: Channel): Promise<string> {
    return migrateIn(ch, (hello) => this.accept(hello));
  }

  /** A hello: the staged domain it will be, or a refusal (MigrationError, one line). */
  private accept(hello: Hello): StagedDomain {
    let def: DomainDefinition;
    try {
      def = validateDefinition(hello.definition);
    } catch (e) {
      throw new MigrationError(`its definition is refused here: ${(e as Error).message}`);
    }
    if (def.name !== hello.name || def.mode !== hello.mode) throw new MigrationError(`the hello names '${hello.name}' (${hello.mode}), its definition '${def.name}' (${def.mode})`);
    if (this.pvRecorded(def)) throw new MigrationError(`the shared machine ${this.pvRec!.machine.key} is being recorded here: a migrated domain's state comes from outside the recording`);
    const had = this.records.get(def.name);
    if (had && (had.status === 'running' || had.status === 'paused')) throw new MigrationError(`a domain named '${def.name}' is ${had.status} here`);
    if (this.incomingNames.has(def.name)) throw new MigrationError(`a domain named '${def.name}' is being migrated here already`);
    this.incomingNames.add(def.name);
    const r = this.newRecord(def);
    let paused = false;
    // a pv domain is built on this host's shared pv machine: one made for it alone goes with it
    const pvKey = def.mode === 'pv' ? pvMachineKey(def.profile, def.engine) : null;
    const pvMachineBefore = pvKey !== null && this.machines.some((x) => x.key === pvKey);
    // on a bridge: a switch made by the staged domain's boot goes with it, if no other port was made on it since
    let madeSwitch: { sw: VirtualSwitch; ports: number } | null = null;
    const bootStaged = (): void => {
      const sw = def.bridge !== undefined ? this.switches.get(def.bridge) : undefined;
      try {
        this.boot(r, true);
      } finally {
        const now = def.bridge !== undefined ? this.switches.get(def.bridge) : undefined;
        if (now !== undefined && sw === undefined) madeSwitch = { sw: now, ports: now.portsMade };
      }
    };
    const forget = () => {
      this.incomingNames.delete(def.name);
      // a staged domain's disk belongs to the source until the commit: never written back from here
      r.disk = null;
      this.release(r);
      if (pvKey !== null && !pvMachineBefore) this.dropEmptyPvMachine(pvKey);
      if (madeSwitch !== null) this.dropUnusedSwitch(def.bridge!, madeSwitch.sw, madeSwitch.ports);
    };
    /** pv: the domain's own time when it was stopped at the source, plus the downtime (its time on commit) */
    let pvGuestTime: number | null = null;
    const buildPv = (state: Uint8Array, store: PageStore, downtimeCycles: number): void => {
      let saved: SavedPvDomain;
      try {
        const whole = expandPvState(state, store);
        const run = loadSaveFile(whole);
        if (pvDomainMeta(run) === null) throw new SaveFormatError('it holds a whole pv machine, not one domain');
        saved = loadPvDomainFile(whole);
      } catch (e) {
        if (e instanceof SaveFormatError) throw new MigrationError(`the state is refused: ${e.message}`);
        throw e;
      }
      paused = (saved.meta.setup as { paused?: boolean }).paused === true;
      const gatewayBefore = this.gatewayOf(def);
      try {
        bootStaged();
      } catch (e) {
        throw new MigrationError((e as Error).message);
      }
      const m = r.machine!;
      // on the shared machine: never scheduled before it is committed
      m.hv!.pauseDomain(r.domain!);
      try {
        restorePvDomain(m.hv!, m.pv!, saved, r.domain!, this.netExternalsIn(r));
        this.reattachNet(r, (saved.meta.setup as { net?: SavedNet }).net, gatewayBefore, true);
      } catch (e) {
        throw new MigrationError(`the state does not fit: ${(e as Error).message}`);
      }
      // the downtime passes on the domain's own clock (the shared machine's goes on for the others)
      pvGuestTime = saved.meta.pvDomain.guestCycles + downtimeCycles;
    };
    const list = (status: 'running' | 'paused', detail: string | null) => {
      this.incomingNames.delete(def.name);
      this.state?.saveDefinition(def);
      this.records.set(def.name, r);
      const m = r.machine!;
      if (!m.pv) this.machines.push(m);
      else if (pvGuestTime !== null) m.pv.pv(r.domain!).tscOffset = pvGuestTime - m.hv!.cpu.cycles;
      if (status === 'running' && r.domain && r.domain.state === 'paused') m.hv!.unpauseDomain(r.domain);
      if (status === 'paused' && r.domain && r.domain.state === 'running') r.machine!.hv!.pauseDomain(r.domain);
      r.status = status;
      r.stopDetail = detail;
      this.poke(r.machine!);
      this.emit(r);
    };
    return {
      build: (state, store, downtimeCycles) => {
        if (def.mode === 'pv') {
          buildPv(state, store, downtimeCycles);
          return;
        }
        let saved: SavedRun;
        try {
          saved = loadSaveFile(state);
        } catch (e) {
          throw new MigrationError(`the state is refused: ${(e as Error).message}`);
        }
        if (saved.mode !== def.mode) throw new MigrationError(`the state is of a ${saved.mode} run; the domain is ${def.mode}`);
        paused = (saved.meta.setup as { paused?: boolean }).paused === true;
        // the network: the forwards bound here (this host's ports), the bridge of the same name here
        const gatewayBefore = this.gatewayOf(def);
        try {
          bootStaged();
        } catch (e) {
          throw new MigrationError((e as Error).message);
        }
        const m = r.machine!;
        const mem = m.hv ? m.hv.mem : m.bare!.mem;
        try {
          restoreRun(saved, m.hv ?? m.bare!, [], this.netExternalsIn(r));
          this.reattachNet(r, (saved.meta.setup as { net?: SavedNet }).net, gatewayBefore, true);
        } catch (e) {
          throw new MigrationError(`the state does not fit: ${(e as Error).message}`);
        }
        const p2m = r.domain ? r.domain.p2m : null;
        const pages = p2m ? p2m.length : mem.frames;
        if (pages !== store.pages) throw new MigrationError(`the domain has ${pages} pages here; the source sent ${store.pages}`);
        for (let pfn = 0; pfn < pages; pfn++) {
          const f = p2m ? p2m[pfn]! : pfn;
          if (f >= 0) mem.u8.set(store.page(pfn), f * 4096);
        }
        // the stop-and-copy's time on the link: the domain does not run, the machine's time goes on
        idleFor(m.hv ?? m.bare!, downtimeCycles);
      },
      commit: () => list(paused ? 'paused' : 'running', null),
      keepInDoubt: (why) => list('paused', `migration in doubt (${why}): the source may still run it; resume this copy only if the source's is gone`),
      discard: forget,
    };
  }

  suspend(name: string): DomainInfo {
    const r = this.get(name);
    this.notMigrating(r, 'suspend');
    if (r.status !== 'running') throw new HostError(409, `domain '${name}' is ${r.status}; only a running domain can be suspended`);
    this.pvRecordCommand(r, 'suspend');
    if (r.domain) r.machine!.hv!.pauseDomain(r.domain);
    r.status = 'paused';
    this.emit(r);
    return this.info(r);
  }

  resume(name: string): DomainInfo {
    const r = this.get(name);
    this.notMigrating(r, 'resume');
    if (r.status !== 'paused') throw new HostError(409, `domain '${name}' is ${r.status}; only a paused domain can be resumed`);
    this.pvRecordCommand(r, 'resume');
    if (r.domain) r.machine!.hv!.unpauseDomain(r.domain);
    r.status = 'running';
    r.stopDetail = null;
    r.leaveBreakpoint = this.pcOf(r);
    this.poke(r.machine!);
    this.emit(r);
    return this.info(r);
  }

  /** Type on the domain's console. */
  consoleInput(name: string, bytes: Uint8Array): void {
    const r = this.needLive(name, 'take console input');
    this.feed(r, bytes);
  }

  /**
   * setmem. A running pv domain: a balloon target (the guest's balloon driver gives pages back
   * with memory_op DECREASE_RESERVATION or takes them with INCREASE, up to its memory at start,
   * the hypervisor's quota); the definition keeps its memory for the next start. Other modes have
   * no balloon: the definition's memory changes, for the next start.
   */
  setmem(name: string, memoryMiB: number): DomainInfo {
    const r = this.get(name);
    this.notMigrating(r, 'set its memory');
    const pv = r.status === 'running' || r.status === 'paused' ? this.pvOf(r) : null;
    if (pv) {
      const quota = r.domain!.p2m.length;
      const pages = Math.round(memoryMiB * 256);
      if (pages > quota) throw new HostError(409, `domain '${name}' can balloon up to ${quota / 256} MiB, its memory at start (the definition's memory applies from the next start)`);
      this.pvRecordCommand(r, 'setmem', memoryMiB);
      requestMemoryTarget(pv, pages);
      r.machine!.hv!.interruptPending(r.domain!);
      this.poke(r.machine!);
      return this.info(r);
    }
    const def = { ...r.def, memory: memoryMiB };
    this.state?.saveDefinition(def);
    r.def = def;
    return this.info(r);
  }

  /** schedinfo: the weight, applied now to a pv domain on the shared machine, and kept in the definition. */
  setWeight(name: string, weight: number): DomainInfo {
    const r = this.get(name);
    const def = { ...r.def, weight };
    this.state?.saveDefinition(def);
    r.def = def;
    if (r.domain && r.machine?.pv) {
      this.pvRecordCommand(r, 'weight', weight);
      (r.machine.hv!.scheduler as BvtScheduler).setWeight(r.domain.id, weight);
    }
    return this.info(r);
  }

  schedinfo(name: string): { name: string; scheduler: string; weight: number; cycles: number } {
    const r = this.get(name);
    const sched = r.machine?.hv?.scheduler;
    const weight = r.domain && r.machine?.pv ? (sched as BvtScheduler).weight(r.domain.id) : r.def.weight;
    return { name, scheduler: sched ? sched.name : r.machine?.bare ? 'none (own machine)' : 'none (not running)', weight, cycles: this.info(r).cycles };
  }

  /**
   * Run a stopped (paused) domain for exactly one instruction (the CPU's monitor stop, armed to
   * stop after one more instruction retires; an interrupt delivered on the way shows as the pc
   * of its handler). A blocked vCPU does not run (0 instructions). Under bt, kernel code runs as
   * translated units outside the CPU's loop: a step there is the rest of the unit. Other domains
   * of a shared machine are held meanwhile. Returns what `describe` says of the new state.
   */
  step1(name: string, describe: (st: CpuState) => string): string {
    const r = this.get(name);
    this.notMigrating(r, 'step');
    if (r.status !== 'paused') throw new HostError(409, `domain '${name}' is ${r.status}: stop it first (monitor 'stop')`);
    this.pvRecordRefuses(r.def, 'single-step a domain of it (a step is not logged)');
    const m = r.machine!;
    const cpu = m.hv ? m.hv.cpu : m.bare!.cpu;
    let before: number;
    let after: number;
    let st: CpuState;
    cpu.monitorStop = true;
    cpu.monitorStopped = false;
    cpu.stopAtInstruction = cpu.instructions + 1;
    try {
      if (m.bare) {
        before = m.bare.cpu.instructions;
        const res = m.bare.run({ maxCycles: m.bare.cpu.halted ? 1 : SLICE_CYCLES });
        if (res.reason !== 'limit' && res.reason !== 'stopped') {
          r.bareStop = res;
          this.stopped.push(r);
        }
        after = m.bare.cpu.instructions;
        st = m.bare.cpu.saveState();
      } else {
        const hv = m.hv!;
        const d = r.domain!;
        const others = hv.domains.filter((x) => x !== d && x.state === 'running');
        for (const o of others) hv.pauseDomain(o);
        hv.unpauseDomain(d);
        before = d.stats.instructions;
        const blocked = d.vcpus[0]!.runState !== 'runnable';
        try {
          hv.run({ maxCycles: blocked ? 1 : SLICE_CYCLES });
        } finally {
          hv.pauseDomain(d);
          for (const o of others) hv.unpauseDomain(o);
        }
        after = d.stats.instructions;
        st = hv.vcpuState(d.vcpus[0]!);
      }
    } finally {
      cpu.monitorStop = false;
      cpu.monitorStopped = false;
      cpu.stopAtInstruction = Infinity;
    }
    r.leaveBreakpoint = null;
    this.settle();
    return `${after - before} instruction${after - before === 1 ? '' : 's'}; pc ${describe(st)}`;
  }

  /** Set a breakpoint (monitor `break`); the list of them. */
  addBreakpoint(name: string, addr: number): number[] {
    const r = this.get(name);
    if (r.breakpoints.length >= MAX_BREAKPOINTS) throw new HostError(409, `domain '${name}' has ${MAX_BREAKPOINTS} breakpoints already`);
    this.pvRecordRefuses(r.def, 'set a breakpoint in a domain of it (a monitor stop is not logged)');
    if (!r.breakpoints.includes(addr >>> 0)) r.breakpoints.push(addr >>> 0);
    if (r.machine) this.poke(r.machine);
    return [...r.breakpoints];
  }

  /** Remove breakpoint number `index` (1-based, as listed), or all of them. */
  deleteBreakpoints(name: string, index?: number): number[] {
    const r = this.get(name);
    if (index === undefined) r.breakpoints.length = 0;
    else {
      if (!(index >= 1 && index <= r.breakpoints.length)) throw new HostError(400, `no breakpoint ${index} (domain '${name}' has ${r.breakpoints.length})`);
      r.breakpoints.splice(index - 1, 1);
    }
    return [...r.breakpoints];
  }

  breakpoints(name: string): number[] {
    return [...this.get(name).breakpoints];
  }

  private needLive(name: string, what: string): DomainRecord {
    const r = this.get(name);
    if (r.status !== 'running' && r.status !== 'paused') throw new HostError(409, `domain '${name}' is ${r.status}; cannot ${what}`);
    this.notMigrating(r, what);
    return r;
  }

  /** A domain being migrated away takes no command that would change it until the migration ends. */
  private notMigrating(r: DomainRecord, what: string): void {
    if (r.migratingOut) throw new HostError(409, `domain '${r.def.name}' is being migrated; cannot ${what} until the migration ends`);
  }

  private feed(r: DomainRecord, bytes: Uint8Array): void {
    const m = r.machine!;
    if (r.recording && bytes.length > 0) r.recording.log.event({ kind: 'keys', cycle: this.recordedCycle(r, r.recording), text: Buffer.from(bytes).toString('latin1') });
    if (bytes.length > 0 && this.pvRec !== null && m === this.pvRec.machine) this.pvRec.log.event({ kind: 'keys', cycle: m.hv!.cpu.cycles, name: r.def.name, text: Buffer.from(bytes).toString('latin1') });
    if (m.bare) m.bare.feedInput(bytes);
    else if (r.domain) {
      const pv = r.domain.modeState;
      if (pv instanceof PvDomain) pv.console?.feed(bytes);
      else r.domain.devices?.uart.feed(bytes);
      m.hv!.interruptPending(r.domain);
    }
    this.poke(m);
  }

  private poke(m: HostMachine): void {
    m.idle = false;
    m.notBefore = 0;
  }

  private setStopped(r: DomainRecord, status: DomainStatus, reason: string | null, detail: string | null, exitStatus: number | null): void {
    r.status = status;
    r.stopReason = reason;
    r.stopDetail = detail;
    r.stopStatus = exitStatus;
    this.emit(r);
  }

  private emit(r: DomainRecord): void {
    this.opts.onEvent?.({ name: r.def.name, status: r.status, stopReason: r.stopReason, detail: r.stopDetail });
    this.noteRunning();
  }

  /** the running.json contents last written (to write only when the set changes) */
  private runningNoted = '';

  /** Keep STATE_DIR/running.json equal to the set of running and paused domains. */
  private noteRunning(clean = false): void {
    if (!this.state || this.runningNoted === 'closed') return;
    const names = [...this.records.values()].filter((r) => r.status === 'running' || r.status === 'paused').map((r) => r.def.name);
    const key = `${clean}:${names.join('/')}`;
    if (key === this.runningNoted) return;
    this.runningNoted = key;
    this.state.saveRunning(names, clean);
  }

  /**
   * A daemon starting: the domains its predecessor left running are shut off, with the reason.
   * Their running state (memory, registers, devices) lived in that daemon's host thread and died
   * with it - unlike libvirt's, whose QEMU processes outlive libvirtd - so they are not resumed.
   */
  private markLeftRunning(state: StateDir): void {
    const left = state.loadRunning();
    for (const name of left.running) {
      const r = this.records.get(name);
      if (!r) continue;
      r.status = 'shut off';
      r.stopReason = left.clean ? 'daemon-stopped' : 'daemon-died';
      r.stopDetail = left.clean
        ? 'it was running when `xenolith daemon stop` ended the daemon; its running state ended with the host'
        : 'it was running when the daemon ended without stopping it (killed or crashed); its running state ended with the host';
    }
    this.runningNoted = 'false:';
    state.saveRunning([]);
  }

  // ================================================================================ building

  private bootImage(def: DomainDefinition): { spec: BootSpec; image: Image } {
    const arch = def.mode === 'pv' ? 'pv' : 'native';
    const std = () => {
      if (!this.opts.standardGuest) throw new HostError(500, 'this host has no standard guest');
      return this.opts.standardGuest(arch);
    };
    if (def.kernel === undefined) {
      const g = std();
      return { spec: withCmdline({ kernel: g.kernel, initrd: g.initrd }, def.cmdline), image: g.kernel };
    }
    if (!this.opts.loadKernel) throw new HostError(500, 'this host cannot load kernel files');
    let image: Image;
    try {
      image = this.opts.loadKernel(def.kernel, arch);
    } catch (e) {
      throw new HostError(409, `domain '${def.name}': kernel ${def.kernel}: ${(e as Error).message}`);
    }
    const wantPv = def.mode === 'pv';
    if ((image.arch === ImageArch.Pv) !== wantPv) {
      throw new HostError(409, `domain '${def.name}': ${def.kernel} is ${image.arch === ImageArch.Pv ? 'a pv kernel; it runs only in a pv domain' : 'not a pv kernel (compile it with --arch pv)'}`);
    }
    if (image.arch === ImageArch.Native || image.arch === ImageArch.Pv) {
      return { spec: withCmdline({ kernel: image, initrd: std().initrd }, def.cmdline), image };
    }
    return { spec: { image }, image };
  }

  private readDisk(def: DomainDefinition): Uint8Array | undefined {
    const d = def.disks[0];
    if (!d) return undefined;
    try {
      return new Uint8Array(readFileSync(d.file));
    } catch (e) {
      throw new HostError(409, `domain '${def.name}': disk ${d.file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }

  /**
   * Take away the shared pv machine of `key` if no domain is on it (a failed migration's
   * destination made it for the domain it staged: it keeps nothing half-built).
   */
  private dropEmptyPvMachine(key: string): void {
    const k = this.machines.findIndex((x) => x.key === key);
    if (k < 0 || this.machines[k]!.hv!.domains.length > 0) return;
    if (this.pvRec !== null && this.pvRec.machine === this.machines[k]) return;
    this.machines.splice(k, 1);
  }

  /**
   * Take away bridge `name` if it is still `sw`, nothing is attached to it, it has no gateway, and
   * no port was made on it beyond the `ports` its maker's (a failed migration's staged domain) made.
   */
  private dropUnusedSwitch(name: string, sw: VirtualSwitch, ports: number): void {
    if (this.switches.get(name) !== sw || sw.portsMade !== ports || sw.attachedPorts > 0 || sw.uplink !== null || this.bridgeUplinks.has(name)) return;
    this.switches.delete(name);
  }

  private pvMachine(profile: string, engine: Engine): HostMachine {
    const key = pvMachineKey(profile, engine);
    let m = this.machines.find((x) => x.key === key);
    if (!m) {
      const hv = new Hypervisor({ memoryBytes: this.hostMemoryBytes, profile, engine, scheduler: new BvtScheduler() });
      m = { key, hv, bare: null, pv: new PvMode(), owner: null, idle: false, notBefore: 0, wall0: -1, cycles0: 0 };
      this.machines.push(m);
    }
    return m;
  }

  /**
   * Create and boot the domain of `r` (status running), or throw a HostError (status unchanged).
   * `staged` (a migration's destination): build its own machine only - not listed among the
   * host's machines, no state change - until the migration commits (Host.accept).
   */
  private boot(r: DomainRecord, staged = false): void {
    const def = r.def;
    this.bridgeRecordRefuses(def);
    const { spec, image } = this.bootImage(def);
    const disk = this.readDisk(def);
    const memoryBytes = Math.round(def.memory * 1024 * 1024);
    const config: DomainConfig = { name: def.name, memoryBytes, onOutput: (b) => this.output(r, b) };
    if (def.console.input !== undefined) config.input = def.console.input.replace(/\\n/g, '\n');
    if (disk) config.disk = disk;
    // the network: the gateway, and a loopback socket per forward (pv: joined to the domain's
    // network back end); a port that cannot be bound is reported on the console and in the events
    if (def.ip !== undefined) config.ip = ipNumber(def.ip);
    const ownIp = config.ip ?? GUEST_IP;
    const onNetError = (message: string): void => {
      for (const b of Buffer.from(`\n[xenolith: ${message}]\n`)) this.output(r, b);
      this.opts.onEvent?.({ name: def.name, status: r.status, stopReason: null, detail: message });
    };
    const rules = def.net !== undefined ? parseNetSpecs(def.net, ownIp) : null;
    let uplink: HostUplink | null = null;
    let forwards: number[] | null = null;
    /** the bridge's uplink was made for this domain (closed again if the domain cannot start) */
    let newShared = false;
    // on a bridge: the switch's port carries the domain's frames, and the bridge's one gateway
    // (made by the first domain with a network there) takes this domain's forwards; each domain's
    // station address ends in its address's last byte
    let port: SwitchPort | null = null;
    let sw: VirtualSwitch | null = null;
    if (def.bridge !== undefined) {
      sw = this.switches.get(def.bridge) ?? new VirtualSwitch({ idleSkip: this.opts.bridgeIdleSkip !== false });
      this.switches.set(def.bridge, sw);
      port = sw.port();
      config.onTransmit = port.onTransmit;
      config.mac = stationMac(ownIp);
      if (rules) {
        let shared = this.bridgeUplinks.get(def.bridge);
        if (!shared) {
          const gateway = this.opts.detachedNet === true ? HostUplink.detached([], macToBytes(NIC_DEFAULT_MAC)) : HostUplink.openNow([], macToBytes(NIC_DEFAULT_MAC), onNetError);
          shared = { uplink: gateway, home: null };
          this.bridgeUplinks.set(def.bridge, shared);
          newShared = true;
          // the domains on the bridge already: the gateway knows their station addresses
          for (const o of this.records.values()) {
            if (o.switchPort && o.def.bridge === def.bridge) {
              const ip = o.def.ip !== undefined ? ipNumber(o.def.ip) : GUEST_IP;
              shared.uplink.gateway.addStation(ip, stationMac(ip));
            }
          }
        }
        uplink = shared.uplink;
        forwards = uplink.addForwards(rules, onNetError);
        if (this.pvRecorded(def)) this.logDatagrams(uplink);
      }
      this.bridgeUplinks.get(def.bridge)?.uplink.gateway.addStation(ownIp, config.mac);
    } else if (rules) {
      uplink = this.opts.detachedNet === true ? HostUplink.detached(rules, macToBytes(NIC_DEFAULT_MAC)) : HostUplink.openNow(rules, macToBytes(NIC_DEFAULT_MAC), onNetError);
      config.onTransmit = uplink.onTransmit;
      // on the recorded shared pv machine: each host datagram is an input, logged with the machine's cycle
      if (this.pvRecorded(def)) this.logDatagrams(uplink);
    }
    /** join the bridge (and its gateway, if it has no home yet; or the uplink to the domain alone) once the domain's network exists */
    const plug = (m: HostMachine, nic: NicPlatform | null): void => {
      if (!nic) return;
      if (port) port.attach({ ...nic, idleUntil: () => this.idleUntil(m) }, m);
      r.nicAt = { nic, machine: m };
      const shared = def.bridge !== undefined ? this.bridgeUplinks.get(def.bridge) : undefined;
      if (sw && uplink && shared && shared.home === null) {
        sw.addUplink(uplink, nic, m);
        shared.home = r;
      } else if (!sw && uplink) uplink.attach(nic);
    };
    try {
      if (def.mode === 'pv') {
        const m = this.pvMachine(def.profile, def.engine);
        config.devices = false;
        if (def.vcpus > 1) config.vcpus = def.vcpus;
        const domain = m.hv!.createDomain(m.pv!, config);
        try {
          // the daemon's domains are not control domains unless their definition says so
          m.pv!.pv(domain).privileged = def.privileged;
          m.pv!.build(domain, spec);
          plug(m, uplink || port ? domainNicPlatform(domain) : null);
        } catch (e) {
          m.hv!.destroyDomain(domain);
          throw e;
        }
        (m.hv!.scheduler as BvtScheduler).setWeight(domain.id, def.weight);
        this.attach(r, m, domain);
      } else if (def.mode === 'native') {
        const bare = new Machine({
          memoryBytes, profile: def.profile, engine: def.engine, input: config.input, disk, onOutput: config.onOutput!,
          ...(config.onTransmit ? { onTransmit: config.onTransmit } : {}),
          ...(config.mac ? { mac: macFromBytes(config.mac) } : {}),
          ...(config.ip !== undefined ? { ip: config.ip } : {}),
          ...(def.vcpus > 1 ? { cpus: def.vcpus } : {}),
        });
        const m: HostMachine = { key: `own:${def.name}`, hv: null, bare, pv: null, owner: r, idle: false, notBefore: 0, wall0: -1, cycles0: 0 };
        plug(m, { nic: bare.nic, now: () => bare.deviceContext.now(), schedule: (at, fn) => bare.deviceContext.schedule(at, fn) });
        if ('kernel' in spec) bootNative(bare, spec);
        else bare.loadImage(spec.image);
        if (!staged) this.machines.push(m);
        r.machine = m;
        r.domain = null;
      } else {
        const { mode, reserve } = ownMode(def.mode, memoryBytes, def.shadow ?? 'flush', def.vcpus, def.bt_adaptive === true, def.ple === true);
        if (memoryBytes + reserve > MAX_MEMORY_BYTES) {
          throw new DomainCreateError(`at most ${(MAX_MEMORY_BYTES - reserve) >> 20} MiB under ${def.mode} mode (the machine has ${MAX_MEMORY_BYTES >> 20} MiB, and the hypervisor keeps ${Math.ceil(reserve / (1 << 20))} MiB of it)`);
        }
        const hv = new Hypervisor({ memoryBytes: memoryBytes + reserve, profile: def.profile, engine: def.engine, ...(def.vcpus > 1 ? smpHypervisorOptions(def.vcpus) : {}) });
        if (def.vcpus > 1) config.vcpus = def.vcpus;
        const domain = hv.createDomain(mode, config, spec);
        const m: HostMachine = { key: `own:${def.name}`, hv, bare: null, pv: null, owner: r, idle: false, notBefore: 0, wall0: -1, cycles0: 0 };
        plug(m, uplink || port ? domainNicPlatform(domain) : null);
        if (!staged) this.machines.push(m);
        this.attach(r, m, domain);
      }
    } catch (e) {
      if (forwards) uplink!.removeForwards(forwards);
      if (def.bridge !== undefined && this.bridgeUplinks.get(def.bridge)?.home === r) this.rehomeGateway(def.bridge, r);
      else if (newShared) {
        this.bridgeUplinks.delete(def.bridge!);
        void uplink?.close();
      } else if (!sw) void uplink?.close();
      r.nicAt = null;
      port?.detach();
      if (e instanceof HostError) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      throw new HostError(409, `domain '${def.name}' cannot start: ${msg.replace(/^domain '[^']*': /, '')}`);
    }
    r.image = image;
    r.disk = disk ?? null;
    r.uplink = uplink;
    r.forwards = forwards;
    r.switchPort = port;
    if (staged) return;
    r.status = 'running';
    r.stopReason = null;
    r.stopDetail = null;
    r.stopStatus = null;
    this.emit(r);
  }

  private attach(r: DomainRecord, m: HostMachine, domain: Domain): void {
    r.machine = m;
    r.domain = domain;
    const hvHook = domain.onStop;
    domain.onStop = (d) => {
      hvHook?.(d);
      if (r.domain === d) this.stopped.push(r);
    };
    this.poke(m);
  }

  private output(r: DomainRecord, b: number): void {
    r.log.push(b);
    r.recording?.digest.add(b);
    if (this.pvRec !== null && r.machine === this.pvRec.machine) this.pvRec.log.output(r.def.name, b);
    if (r.fresh.length < 1 << 20) r.fresh.push(b);
  }

  /** Take the domain off its machine (memory back to the host); write back a non-snapshot disk. */
  private release(r: DomainRecord): void {
    const m = r.machine;
    if (!m) return;
    // a run still recorded here was ended from outside (destroy, reboot, save, the daemon's end)
    this.finishRecording(r, 'left');
    const domain = r.domain;
    r.domain = null;
    r.machine = null;
    if (m.pv && domain) {
      try {
        m.hv!.destroyDomain(domain);
      } catch (e) {
        // the shared machine must survive whatever state the domain was left in
        this.opts.onEvent?.({ name: r.def.name, status: r.status, stopReason: 'crashed', detail: `while destroying: ${(e as Error).message}` });
      }
    } else {
      const k = this.machines.indexOf(m);
      if (k >= 0) this.machines.splice(k, 1);
    }
    const disk = r.def.disks[0];
    if (disk && !disk.snapshot && r.disk) {
      try {
        writeFileSync(disk.file, r.disk);
      } catch {
        // the disk file went away: the guest's writes are lost, the host goes on
      }
    }
    r.disk = null;
    // the sockets close once the replies already sent have left; a bridge's gateway stays while
    // another domain with a network is on the bridge (moving to its clock if it ran on this one's)
    if (r.forwards) {
      r.uplink!.removeForwards(r.forwards);
      if (this.bridgeUplinks.get(r.def.bridge!)?.home === r) this.rehomeGateway(r.def.bridge!, r);
    } else if (r.uplink) void r.uplink.close();
    r.uplink = null;
    r.forwards = null;
    r.nicAt = null;
    r.switchPort?.detach();
    r.switchPort = null;
    this.flushConsole(r);
  }

  /**
   * The domain `gone` carried bridge `bridge`'s gateway on its clock: the gateway moves to another
   * domain with a network on the bridge, or, with none left, closes.
   */
  private rehomeGateway(bridge: string, gone: DomainRecord): void {
    const shared = this.bridgeUplinks.get(bridge)!;
    const sw = this.switches.get(bridge)!;
    sw.removeUplink(shared.uplink);
    shared.home = null;
    for (const o of this.records.values()) {
      if (o === gone || o.uplink !== shared.uplink || !o.nicAt) continue;
      sw.addUplink(shared.uplink, o.nicAt.nic, o.nicAt.machine);
      shared.home = o;
      return;
    }
    this.bridgeUplinks.delete(bridge);
    void shared.uplink.close();
  }

  // ================================================================================ running

  /** Is there anything to run now or later (else the worker sleeps until a command comes)? */
  get busy(): boolean {
    return this.machines.some((m) => !m.idle && this.runnable(m));
  }

  private runnable(m: HostMachine): boolean {
    if (m.migrating) return false;
    if (m.bare) return m.owner !== null && m.owner.machine === m && m.owner.status === 'running';
    return m.hv!.domains.some((d) => d.state === 'running');
  }

  /**
   * Run every machine that has work for one slice (round robin over machines), then apply what
   * happened (stopped domains, console output). Returns how long (ms) the caller may sleep before
   * the next step: 0 to go on at once, Infinity when nothing can run until a command comes.
   */
  step(sliceCycles = SLICE_CYCLES): number {
    const now = this.now();
    let ran = false;
    let wait = Infinity;
    const n = this.machines.length;
    this.holdBridged();
    for (let k = 0; k < n; k++) {
      const m = this.machines[(this.next + k) % n]!;
      // an idle machine on a bridge with others runs on (idling to its slice's end): a frame may come
      if (m.idle && this.horizon(m) < Infinity) m.idle = false;
      if (m.idle || !this.runnable(m)) continue;
      if (m.notBefore > now) {
        wait = Math.min(wait, m.notBefore - now);
        continue;
      }
      const slice = this.bridgedSlice(m, sliceCycles);
      if (slice <= 0) continue; // ahead of a machine it shares a bridge with: that one runs first
      const watched = this.watched(m);
      if (watched.length > 0) this.runWatched(m, watched, slice);
      else this.runSlice(m, slice, now);
      ran = true;
    }
    if (n > 0) this.next = (this.next + 1) % n;
    this.settle();
    this.settleTraces();
    if (ran) return 0;
    return this.traces.length > 0 ? Math.min(wait, 20) : wait;
  }

  /**
   * How far a machine may run this step: `sliceCycles`, or less up to its horizon on the bridges
   * it is on (0 or less: it is ahead; it waits for the others). Every machine on a bridge that
   * cannot run now (nothing running on it: paused, stopped) is held first, so that it does not
   * hold the others back (and joins again at their time when it runs again). A machine on a
   * bridge gets an empty event at the end of its slice, so that an idle guest idles up to it
   * rather than stopping for want of events: the others may send it a frame meanwhile.
   */
  private bridgedSlice(m: HostMachine, sliceCycles: number): number {
    const horizon = this.horizon(m);
    if (horizon === Infinity) return sliceCycles;
    const now = (m.hv ? m.hv.cpu.cycles : m.bare!.cpu.cycles);
    const slice = Math.min(sliceCycles, horizon - now);
    if (slice > 0) {
      if (m.hv) m.hv.events.schedule(now + slice, deferred(null, BRIDGE_IDLE_EVENT));
      else m.bare!.deviceContext.schedule(now + slice, deferred(null, BRIDGE_IDLE_EVENT));
    }
    return slice;
  }

  /**
   * For the bridge (hypervisor/net/bridge.ts): while every CPU of the machine is blocked (in HLT,
   * interrupts enabled, nothing pending), the cycle of its next event; else its present cycle.
   */
  private idleUntil(m: HostMachine): number {
    if (m.bare) {
      const bare = m.bare;
      const cpu = bare.cpu;
      if (bare.cpus.length === 1 && cpu.halted && (cpu.flags & Flag.IF) !== 0 && bare.pic.pendingVector() < 0) return bare.events.nextDeadline();
      return cpu.cycles;
    }
    const hv = m.hv!;
    for (const d of hv.domains) {
      if (d.state !== 'running') continue;
      for (const v of d.vcpus) if (v.runState === 'runnable') return hv.cpu.cycles;
    }
    return hv.events.nextDeadline();
  }

  /** Hold every machine on a bridge that cannot run now (nothing running on it), release the others. */
  private holdBridged(): void {
    for (const sw of this.switches.values()) for (const x of this.machines) if (sw.has(x)) sw.hold(x, !this.runnable(x));
  }

  /** The least horizon of a machine on the bridges it is on (Infinity: on none, or alone). */
  private horizon(m: HostMachine): number {
    let horizon = Infinity;
    for (const sw of this.switches.values()) horizon = Math.min(horizon, sw.horizon(m));
    return horizon;
  }

  /** The running domains of a machine that have breakpoints. */
  private watched(m: HostMachine): DomainRecord[] {
    if (m.owner) return m.owner.breakpoints.length > 0 && m.owner.status === 'running' ? [m.owner] : [];
    const out: DomainRecord[] = [];
    for (const r of this.records.values()) if (r.machine === m && r.status === 'running' && r.breakpoints.length > 0) out.push(r);
    return out;
  }

  /** The pc of a domain's vCPU, wherever its state is now. */
  private pcOf(r: DomainRecord): number | null {
    const m = r.machine;
    if (!m) return null;
    if (m.bare) return m.bare.cpu.pc >>> 0;
    const v = r.domain?.vcpus[0];
    if (!v) return null;
    return (v.loaded ? m.hv!.cpu.pc : v.arch.pc) >>> 0;
  }

  /** The record of the domain whose vCPU is on the machine's CPU now. */
  private onCpu(m: HostMachine): DomainRecord | null {
    if (m.bare) return m.owner;
    const d = m.hv!.current?.domain;
    if (!d) return null;
    for (const r of this.records.values()) if (r.domain === d && r.machine === m) return r;
    return null;
  }

  /**
   * Run a machine with breakpoints set. The CPU's monitor stop (machine/cpu.ts monitorStop) is
   * armed with every watched domain's addresses: run() then takes the general path and returns
   * before an instruction at one of them, with nothing of it done. If the domain on the CPU has
   * that breakpoint, it stops there (paused), exactly at the instruction; otherwise (another
   * domain of a shared machine at the same address, or the domain leaving the breakpoint it was
   * resumed at) the CPU passes that one instruction and goes on. bt runs kernel code as translated
   * units outside run()'s loop: there the check is made where a unit ends (runWatchedUnits).
   */
  private runWatched(m: HostMachine, watched: DomainRecord[], sliceCycles: number): void {
    if (watched.some((r) => r.def.mode === 'bt')) {
      this.runWatchedUnits(m, watched, sliceCycles);
      return;
    }
    const cpu = m.hv ? m.hv.cpu : m.bare!.cpu;
    const pcs = new Set<number>();
    for (const r of watched) for (const a of r.breakpoints) pcs.add(a);
    const end = cpu.cycles + sliceCycles;
    cpu.monitorStop = true;
    cpu.breakPcs = pcs;
    cpu.breakArmedAt = 0;
    cpu.stopAtInstruction = Infinity;
    try {
      for (let k = 0; k < MONITOR_STOPS_PER_SLICE && cpu.cycles < end; k++) {
        cpu.monitorStopped = false;
        if (!this.runFor(m, end - cpu.cycles)) break;
        if (!cpu.monitorStopped) break;
        const r = this.onCpu(m);
        const pc = cpu.pc >>> 0;
        if (r !== null && r.status === 'running' && r.breakpoints.includes(pc) && r.leaveBreakpoint !== pc) {
          this.breakHit(r, pc);
          break;
        }
        if (r !== null) r.leaveBreakpoint = null;
        cpu.breakArmedAt = cpu.instructions + 1;
      }
    } finally {
      cpu.monitorStop = false;
      cpu.monitorStopped = false;
      cpu.breakPcs = null;
    }
  }

  /**
   * Run a machine for up to `cycles`; false when it should not go on this slice (a domain stopped,
   * an own machine's guest ended, a throwing handler crashed the domain on the CPU).
   */
  private runFor(m: HostMachine, cycles: number): boolean {
    try {
      if (m.hv) {
        const res = m.hv.run({ maxCycles: cycles });
        if (res.reason === 'deadlock') m.idle = true;
        return res.reason === 'limit' || res.reason === 'stopped';
      }
      const res = m.bare!.run({ maxCycles: cycles });
      if (res.reason !== 'limit' && res.reason !== 'stopped') {
        m.owner!.bareStop = res;
        this.stopped.push(m.owner!);
        return false;
      }
      return true;
    } catch (e) {
      const msg = `hypervisor error: ${e instanceof Error ? e.message : String(e)}`;
      if (m.hv?.current) m.hv.current.domain.shutdown('crashed', 0, msg);
      return false;
    }
  }

  private breakHit(r: DomainRecord, pc: number): void {
    if (r.domain) r.machine!.hv!.pauseDomain(r.domain);
    r.status = 'paused';
    r.stopDetail = `breakpoint ${r.breakpoints.indexOf(pc) + 1} at 0x${pc.toString(16).padStart(8, '0')}`;
    r.leaveBreakpoint = null;
    this.emit(r);
  }

  /**
   * bt: run in block-sized steps (whole run() calls: slow), checking after each whether a watched
   * domain's pc is at one of its breakpoints - so in translated kernel code a breakpoint is hit
   * where a unit begins, and missed inside one.
   */
  private runWatchedUnits(m: HostMachine, watched: DomainRecord[], sliceCycles: number): void {
    const start = m.hv ? m.hv.cpu.cycles : m.bare!.cpu.cycles;
    for (let k = 0; k < WATCHED_STEPS_PER_SLICE; k++) {
      if (!this.runFor(m, 1)) break;
      let hit = false;
      for (const r of watched) {
        if (r.status !== 'running') continue;
        const pc = this.pcOf(r);
        if (pc === null) continue;
        if (r.leaveBreakpoint !== null) {
          if (pc !== r.leaveBreakpoint) r.leaveBreakpoint = null;
          continue;
        }
        if (r.breakpoints.includes(pc)) {
          this.breakHit(r, pc);
          hit = true;
        }
      }
      if (hit || this.stopped.length > 0) break;
      if ((m.hv ? m.hv.cpu.cycles : m.bare!.cpu.cycles) - start >= sliceCycles) break;
    }
  }

  private runSlice(m: HostMachine, sliceCycles: number, now: number): void {
    const clockMHz = (m.hv ?? m.bare)!.profile.clockMHz;
    const cycles = m.hv ? m.hv.cpu.cycles : m.bare!.cpu.cycles;
    if (m.wall0 < 0) {
      m.wall0 = now;
      m.cycles0 = cycles;
    }
    let idleCycles = 0;
    let ranCycles = 0;
    try {
      if (m.hv) {
        const res = m.hv.run({ maxCycles: sliceCycles });
        idleCycles = res.idleCycles;
        ranCycles = res.cycles;
        if (res.reason === 'deadlock') m.idle = true;
      } else {
        const res = m.bare!.run({ maxCycles: sliceCycles });
        ranCycles = m.bare!.cpu.cycles - cycles;
        idleCycles = 0;
        if (res.reason !== 'limit' && res.reason !== 'stopped') {
          const r = m.owner;
          if (r) {
            r.bareStop = res;
            this.stopped.push(r);
          }
        }
      }
    } catch (e) {
      // a throwing handler: the domain on the CPU (or every domain of an own machine) crashes; the host goes on
      const msg = `hypervisor error: ${e instanceof Error ? e.message : String(e)}`;
      if (m.hv) {
        const victims = m.hv.current ? [m.hv.current.domain] : m.pv ? [] : m.hv.domains;
        for (const d of victims) d.shutdown('crashed', 0, msg);
      } else {
        const r = m.owner;
        if (r) {
          r.bareStop = { reason: 'crashed', status: 0, detail: msg };
          this.stopped.push(r);
        }
      }
    }
    if (this.pacing === 'wall') {
      const simMs = ((m.hv ? m.hv.cpu.cycles : m.bare!.cpu.cycles) - m.cycles0) / (clockMHz * 1000);
      const ahead = simMs - (this.now() - m.wall0);
      if (ahead < -100) {
        // the simulator fell behind (busy guests): pacing only stretches idle time, never catches up
        m.wall0 = this.now() - simMs;
      } else if (ahead > 1 && idleCycles * 2 > ranCycles) {
        m.notBefore = this.now() + Math.min(ahead, 50);
      }
    }
  }

  // ================================================================================ tracing

  /**
   * Trace the machine a domain runs on (every domain of a shared pv machine: the scheduler's
   * switches between them are part of the picture) for the next `cycles` simulated cycles, or
   * until 2 s of wall time went by (an idle machine), into a buffer of `records` records. The
   * promise resolves with the Chrome trace when done. One trace per machine at a time.
   */
  trace(name: string, cycles = DEFAULT_TRACE_CYCLES, records = DEFAULT_TRACE_RECORDS): Promise<ChromeTrace> {
    const r = this.get(name);
    if (r.status !== 'running' && r.status !== 'paused') throw new HostError(409, `domain '${name}' is ${r.status}: a trace records a running domain`);
    const m = r.machine!;
    if (!m.hv) throw new HostError(409, `domain '${name}' is native: it has no hypervisor whose exits, traps and hypercalls a trace would record`);
    if (this.traces.some((t) => t.machine === m)) throw new HostError(409, `a trace of ${m.pv ? `the shared machine ${m.key}` : `domain '${name}'`} is being taken; try again when it is done`);
    const hv = m.hv;
    const buf = new TraceBuffer(hv.cpu, records);
    hv.setTrace(buf);
    this.poke(m);
    return new Promise((resolve) => {
      this.traces.push({ machine: m, buf, from: hv.cpu.cycles, until: hv.cpu.cycles + cycles, wallDeadline: this.now() + TRACE_WALL_MS, resolve });
    });
  }

  /** Finish the traces whose machine ran its cycles, went away, or whose wall time is up. */
  private settleTraces(): void {
    if (this.traces.length === 0) return;
    const now = this.now();
    for (let k = this.traces.length - 1; k >= 0; k--) {
      const t = this.traces[k]!;
      const hv = t.machine.hv!;
      const gone = !this.machines.includes(t.machine);
      if (!gone && hv.cpu.cycles < t.until && now < t.wallDeadline) continue;
      this.traces.splice(k, 1);
      if (hv.trace === t.buf) hv.setTrace(null);
      const domains = new Map<number, string>();
      for (const rec of this.records.values()) if (rec.machine === t.machine && rec.domain) domains.set(rec.domain.id, rec.def.name);
      for (const d of hv.domains) if (!domains.has(d.id)) domains.set(d.id, d.name);
      const pv = t.machine.pv;
      t.resolve(
        toChromeTrace(t.buf, {
          clockMHz: hv.profile.clockMHz,
          domains,
          machine: t.machine.pv ? t.machine.key : `${t.machine.key} (${t.machine.owner?.def.mode ?? ''})`,
          fromCycle: t.from,
          toCycle: hv.cpu.cycles,
          hypercallName: pv ? (nr) => pv.table.name(nr) : undefined,
        }),
      );
    }
  }

  /** Is a trace waiting (the worker must keep stepping, at least now and then)? */
  get tracing(): boolean {
    return this.traces.length > 0;
  }

  /** Apply the lifecycle actions of domains that stopped during the slice; send console output. */
  private settle(): void {
    while (this.stopped.length > 0) {
      const r = this.settleHeld === null ? this.stopped.shift()! : this.heldStopped();
      if (r === null) break;
      if (!r.machine) continue;
      if (this.pvRec !== null && r.machine === this.pvRec.machine) this.pvRec.log.event({ kind: 'settle', cycle: r.machine.hv!.cpu.cycles, name: r.def.name, definition: { ...r.def } });
      let reason: string;
      let detail: string;
      let status: number;
      if (r.domain) {
        reason = r.domain.stopReason ?? 'crashed';
        detail = r.domain.stopDetail;
        status = r.domain.stopStatus;
      } else {
        const res = r.bareStop ?? { reason: 'crashed', status: 0 };
        reason = res.reason;
        detail = res.detail ?? '';
        status = res.status;
      }
      if (reason === 'poweroff' && detail === REBOOT_DETAIL) {
        // the guest stopped for a reboot (the control path's request, or its own): on_reboot
        reason = 'reboot';
        detail = '';
      }
      this.finishRecording(r, 'guest');
      const crashed = reason !== 'poweroff' && reason !== 'destroyed' && reason !== 'reboot';
      const action =
        reason === 'destroyed' ? 'destroy' : reason === 'reboot' ? (r.def.on_reboot === 'restart' ? 'restart' : 'destroy') : crashed ? r.def.on_crash : r.def.on_poweroff;
      const st: DomainStatus = crashed ? 'crashed' : 'shut off';
      if (action === 'preserve') {
        // memory and registers stay for the monitor; destroy releases them
        this.flushConsole(r);
        this.setStopped(r, st, reason, detail || null, reason === 'poweroff' ? status : null);
        continue;
      }
      this.release(r);
      this.setStopped(r, st, reason, detail || null, reason === 'poweroff' ? status : null);
      if (action === 'restart') {
        if (crashed && ++r.crashRestarts > MAX_CRASH_RESTARTS) {
          r.stopDetail = `${detail ? `${detail}; ` : ''}crashed ${MAX_CRASH_RESTARTS + 1} times in a row: not restarted again`;
          this.emit(r);
          continue;
        }
        if (!crashed) r.crashRestarts = 0;
        r.restarts++;
        try {
          this.boot(r);
        } catch (e) {
          this.setStopped(r, 'crashed', 'restart-failed', (e as Error).message, null);
        }
      }
    }
    for (const r of this.records.values()) this.flushConsole(r);
  }

  private flushConsole(r: DomainRecord): void {
    if (r.fresh.length === 0) return;
    const bytes = Uint8Array.from(r.fresh);
    r.fresh.length = 0;
    this.opts.onConsole?.(r.def.name, bytes);
  }

  // ================================================================================ recording the shared pv machine

  /**
   * `POST /pv-record`: record the shared pv machine of `profile` and `engine`, whole, from its
   * first cycle, to `file` (daemon/pv-record.ts; docs/replay.md "pv domains of the daemon"). A
   * recording starts with the machine: refused while any domain is on it (running, paused or
   * preserved); an empty machine that ran before is replaced by a fresh one. One at a time.
   */
  recordPv(file: string, profile: string, engine: Engine): { machine: string; file: string } {
    const key = pvMachineKey(profile, engine);
    if (this.pvRec !== null) throw new HostError(409, `the shared machine ${this.pvRec.machine.key} is being recorded already (to ${this.pvRec.log.file}); one recording at a time`);
    const had = this.machines.find((x) => x.key === key);
    if (had && had.hv!.domains.length > 0) {
      const names = [...this.records.values()].filter((r) => r.machine === had).map((r) => `'${r.def.name}'`);
      throw new HostError(409, `the shared machine ${key} has domains on it (${names.join(', ')}): a recording starts with the machine, before its first domain; destroy them first`);
    }
    let log: PvHostLogWriter;
    try {
      log = new PvHostLogWriter(file, { key, profile, engine, hostMemoryMiB: Math.round(this.hostMemoryBytes / (1 << 20)) });
    } catch (e) {
      throw new HostError(409, `cannot record ${key}: ${e instanceof PvHostLogError ? e.message : String(e)}`);
    }
    if (had) this.machines.splice(this.machines.indexOf(had), 1);
    this.pvRec = { machine: this.pvMachine(profile, engine), log };
    return { machine: key, file };
  }

  /** `POST /pv-record/stop`: end the recording (the machine runs on unrecorded); its end line. */
  stopPvRecording(): PvHostEnd {
    const rec = this.pvRec;
    if (rec === null) throw new HostError(409, 'no recording of a shared pv machine is being taken');
    this.pvRec = null;
    const hv = rec.machine.hv!;
    const names = new Set(rec.log.printed);
    for (const r of this.records.values()) if (r.machine === rec.machine) names.add(r.def.name);
    const domains = [...names].map((name) => {
      const r = this.records.get(name);
      if (!r) return { name, status: 'undefined', cycles: 0, instructions: 0 };
      const info = this.info(r);
      return { name, status: info.status, cycles: info.cycles, instructions: info.instructions };
    });
    return rec.log.finish({ cycle: hv.cpu.cycles, instructions: hv.cpu.instructions, idleCycles: hv.idleCycles, domains });
  }

  /** Is `def` a domain of the recorded shared machine (pv, its profile and engine)? */
  private pvRecorded(def: DomainDefinition): boolean {
    return this.pvRec !== null && def.mode === 'pv' && this.pvRec.machine.key === pvMachineKey(def.profile, def.engine);
  }

  private pvRecordRefuses(def: DomainDefinition, what: string): void {
    if (this.pvRecorded(def)) throw new HostError(409, `the shared machine ${this.pvRec!.machine.key} is being recorded: cannot ${what}; stop the recording first`);
  }

  /** Log a management command applied to `r`, if it is on the recorded machine. */
  private pvRecordCommand(r: DomainRecord, command: PvCommand, arg?: number): void {
    const rec = this.pvRec;
    if (rec === null || r.machine !== rec.machine) return;
    rec.log.event({ kind: 'command', cycle: rec.machine.hv!.cpu.cycles, name: r.def.name, command, args: arg === undefined ? [] : [arg] });
  }

  /** Log the start of `r` on the recorded machine (what it cannot take there refuses the start). */
  private pvRecordStart(r: DomainRecord): void {
    if (!this.pvRecorded(r.def)) return;
    const rec = this.pvRec!;
    const def = r.def;
    if (r.breakpoints.length > 0) throw new HostError(409, `domain '${def.name}' cannot start: the shared machine ${rec.machine.key} is being recorded, and the recording cannot take breakpoints (monitor stops are not logged; delete them)`);
    this.bridgeRecordRefuses(def);
    const disk = this.readDisk(def);
    // a kernel of its own: the SHA-256 of the image loaded from its path (the replay loads it and checks)
    const kernel = def.kernel !== undefined ? sha256(encodeImage(this.bootImage(def).image)) : undefined;
    rec.log.event({ kind: 'start', cycle: rec.machine.hv!.cpu.cycles, name: def.name, definition: { ...def }, ...(disk ? { diskSha256: sha256(disk) } : {}), ...(kernel ? { kernelSha256: kernel } : {}) });
  }

  /**
   * On the recorded shared pv machine: each host datagram that enters gateway `up` (a domain's
   * own, or its bridge's) is logged with the machine's cycle, named by the domain whose forward
   * it came through and that forward's index among the domain's.
   */
  private logDatagrams(up: HostUplink): void {
    const rec = this.pvRec!;
    up.onHostDatagram = (rule, payload, address, port) => {
      if (this.pvRec !== rec) return;
      for (const o of this.records.values()) {
        if (o.uplink !== up || o.machine !== rec.machine) continue;
        const k = o.forwards ? o.forwards.indexOf(rule) : rule;
        if (k < 0) continue;
        rec.log.event({ kind: 'datagram', cycle: rec.machine.hv!.cpu.cycles, name: o.def.name, rule: k, address, port, base64: Buffer.from(payload).toString('base64') });
        return;
      }
    };
  }

  /**
   * A replay (daemon/pv-replay.ts): a host datagram from `address`:`port` to forward `rule` of
   * domain `name` (its own gateway's, or its bridge's gateway's) enters that gateway now, as it
   * entered the recorded one.
   */
  replayDatagram(name: string, rule: number, payload: Uint8Array, address: string, port: number): void {
    const r = this.get(name);
    const count = r.forwards ? r.forwards.length : (r.uplink?.rules.length ?? 0);
    if (!r.uplink || rule >= count) throw new HostError(409, `domain '${name}' has no forward rule ${rule}`);
    r.uplink.fromHost(r.forwards ? r.forwards[rule]! : rule, payload, address, port);
  }

  /**
   * A bridge is recorded with the shared pv machine only while every machine on it is that one:
   * a machine alone on its bridge runs free (no lockstep, no end-of-slice events, which would
   * follow the host's wall-time slicing and which a pv guest can tell), and no frame comes from
   * outside. So a recorded domain does not join a bridge with another machine's domain, nor
   * another machine's domain a bridge with a recorded one (HostError, one line).
   */
  private bridgeRecordRefuses(def: DomainDefinition): void {
    const rec = this.pvRec;
    if (rec === null || def.bridge === undefined) return;
    const others = [...this.records.values()].filter((o) => o.switchPort && o.def.bridge === def.bridge && o.machine !== null);
    if (this.pvRecorded(def)) {
      const away = others.filter((o) => o.machine !== rec.machine).map((o) => `'${o.def.name}'`);
      if (away.length > 0) throw new HostError(409, `domain '${def.name}' cannot start: the shared machine ${rec.machine.key} is being recorded, and bridge ${def.bridge} has domains of other machines on it (${away.join(', ')}), whose frames would come from outside the recording`);
    } else if (others.some((o) => o.machine === rec.machine)) {
      throw new HostError(409, `domain '${def.name}' cannot join bridge ${def.bridge}: domains of the shared machine ${rec.machine.key}, which is being recorded, are on it, and its frames would come from outside the recording`);
    }
  }

  /** A replay's host (daemon/pv-replay.ts): the shared machine of `profile`/`engine`, settled only as recorded. */
  replayPvMachine(profile: string, engine: Engine): void {
    this.settleHeld = { name: null };
    this.pvMachine(profile, engine);
  }

  /** The shared machine `key`'s clock and counters (undefined: no such machine). */
  pvMachineCounters(key: string): { cycles: number; instructions: number; idleCycles: number } | undefined {
    const hv = this.machines.find((x) => x.key === key)?.hv;
    return hv ? { cycles: hv.cpu.cycles, instructions: hv.cpu.instructions, idleCycles: hv.idleCycles } : undefined;
  }

  /** A replay: apply the lifecycle action of stopped domain `name` now, under `def`; false if it has not stopped. */
  settleRecorded(name: string, def: DomainDefinition): boolean {
    const r = this.records.get(name);
    if (!r || this.settleHeld === null || !this.stopped.some((x) => x === r && x.machine !== null)) return false;
    r.def = def;
    this.settleHeld.name = name;
    this.settle();
    return true;
  }

  /** The stopped domain a replay settles now (settleRecorded), or null. */
  private heldStopped(): DomainRecord | null {
    const held = this.settleHeld!;
    if (held.name === null) return null;
    const k = this.stopped.findIndex((r) => r.def.name === held.name && r.machine !== null);
    if (k < 0) return null;
    held.name = null;
    return this.stopped.splice(k, 1)[0]!;
  }

  /** Stop everything (the daemon is ending): write back disks. Definitions stay. */
  shutdownAll(): void {
    // running.json keeps the domains that were running, marked clean: the next daemon says so
    this.noteRunning(true);
    this.runningNoted = 'closed';
    if (this.pvRec !== null) this.stopPvRecording();
    for (const r of this.records.values()) if (r.machine) this.release(r);
  }
}

/** A machine's cycle count: the running CPU's clock (with several CPUs, as run --smp's session counts it). */
function machineCycles(m: HostMachine): number {
  return m.hv ? m.hv.cpu.cycles : m.bare!.now;
}

function withCmdline(spec: { kernel: Image; initrd: Uint8Array }, cmdline: string | undefined): BootSpec {
  return cmdline === undefined ? spec : { ...spec, cmdline };
}

/** The mode object and machine memory reserve of a domain on its own hypervisor. */
function ownMode(mode: 'trap' | 'bt' | 'hvm', memoryBytes: number, shadow: ShadowKind, vcpus: number, btAdaptive: boolean, ple: boolean): { mode: Mode; reserve: number } {
  switch (mode) {
    case 'trap':
      return { mode: new TrapMode({ shadow }), reserve: vcpus * HYPERVISOR_RESERVE_BYTES };
    case 'bt':
      return { mode: new BtMode({ shadow, ...(btAdaptive ? { adaptive: true } : {}) }), reserve: vcpus * HYPERVISOR_RESERVE_BYTES };
    case 'hvm':
      return { mode: new HvmMode({ shadow, ...(ple ? { ple: PLE_DEFAULTS } : {}) }), reserve: hvmReserveBytes(memoryBytes, shadow, vcpus) };
    default: {
      const never: never = mode;
      throw new Error(`ownMode: ${String(never)}`);
    }
  }
}

/** A dotted IPv4 address as a number (a.b.c.d = a << 24 | ...). */
function ipNumber(dotted: string): number {
  return dotted.split('.').reduce((n, part) => n * 256 + Number(part), 0) >>> 0;
}
