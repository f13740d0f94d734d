// `xenolith run [IMAGE] --mode native`: boot the standard guest (kernel + initrd built from
// guest-kernel/), or an image file, on XL32; show its console; exit with the guest's status.
// Console input comes from --input (then end of input), piped stdin, or the terminal.
import { Ev } from '../../machine/ledger.ts';
import { getProfile } from '../../machine/costs.ts';
import { hvmMmuFor, PLE_DEFAULTS } from '../../hypervisor/hvm/mode.ts';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Machine } from '../../machine/machine.ts';
import { ARCH_NAMES, encodeImage, ImageArch, type Image } from '../../machine/image.ts';
import { bootNative, BootError, symbolizeBacktrace } from '../../hypervisor/boot/native.ts';
import { CliError } from '../errors.ts';
import { consoleWriter } from '../console.ts';
import { engineOption, PROFILE_OPTION, parseOptions, runOptionsSchema } from '../options.ts';
import { DEFAULT_ENGINE, translatorStatsLines, type Engine, type Translator } from '../../machine/translator.ts';
import { MODE_NAMES, SMP_MODES, type ModeName, type VirtualizationMode } from '../../hypervisor/modes.ts';
import { CONSOLE_EOF, isKernelImage, readImageFile, readInputFile } from '../image-files.ts';
import { openDisk } from '../disk.ts';
import { loadHypercallTable } from '../hypercalls.ts';
import { drive, machineSession, domainSession, type DomainSession, type GuestSession, type RunEnd, type SessionCounters } from '../session.ts';
import type { PvMode } from '../../hypervisor/index.ts';
import { formatPvStatsTable } from '../pv-stats.ts';
import { SharedInfo } from '../../hypercalls/structs.ts';

/** The most vCPUs a pv domain has (its shared-info page's vcpu_info slots). */
const PV_MAX_VCPUS: number = SharedInfo.MAX_VCPUS;
import { attachTerminalKeys } from '../terminal.ts';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SMP_DEFAULT_QUANTUM_CYCLES } from '../../hypervisor/run.ts';
import { GraphError } from '../../hypervisor/save/graph.ts';
import { SaveFormatError, type SaveMode } from '../../hypervisor/save/format.ts';
import { loadSaveFile, restoreRun, saveRun, type SavedRun, type SavedVcpu } from '../../hypervisor/save/state.ts';
import { DEFAULT_TRACE_RECORDS, TraceBuffer, toChromeTrace, type ChromeTrace } from '../../hypervisor/core/trace.ts';
import { netSchema } from '../options.ts';
import type { GatewayState } from '../../hypervisor/net/gateway.ts';
import type { HostUplink } from '../../hypervisor/net/uplink.ts';
import { ipString, ipv4 } from '../../hypervisor/net/frames.ts';
import { parseNetSpecs } from '../../hypervisor/net/hostfwd.ts';
import { InputLogError, InputLogWriter, OutputDigest, readInputLog, sha256, type InputEvent, type InputLog, type RunSettings } from '../../hypervisor/input-log.ts';
import { recordingSession, replayDrive, ReplayDivergedError } from '../session.ts';

/** A recording's guest address (its header's `ip`): one line if it is not an IPv4 address. */
function parseReplayedIp(file: string, ip: string): number {
  const parts = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (parts === null || parts.slice(1).some((p) => Number(p) > 255)) throw new CliError(`--replay ${file}: the recorded guest address "${ip}" is not an IPv4 address`);
  return ipv4(ip);
}

/** A recording's --net forwards, their guest address the recorded one. */
function parseReplayedNet(file: string, net: readonly string[], ownIp: number): ReturnType<typeof parseNetSpecs> {
  try {
    return parseNetSpecs(net, ownIp);
  } catch (e) {
    throw new CliError(`--replay ${file}: --net: ${(e as Error).message}`);
  }
}

/** An image file, or a guest program's entry module (.ts) compiled as a kernel for `arch`. */
async function loadImage(path: string, arch: 'native' | 'pv'): Promise<Image> {
  if (!path.endsWith('.ts')) return readImageFile(path);
  readInputFile(path);
  const { compileKernel } = await import('../guest.ts');
  return compileKernel(path, arch);
}


/**
 * Exit codes when the guest did not power off by itself (a guest that did exits with its own
 * status: the shell's last command's, through init and the kernel's power-off).
 */
export const EXIT_TIMEOUT = 123;
export const EXIT_CYCLE_LIMIT = 124;
export const EXIT_GUEST_DEAD = 125;
/** the user left the interactive console with Ctrl-] */
export const EXIT_LEFT_CONSOLE = 129;

/** --timeout's default when console input is given (--input or piped): seconds of wall-clock time. */
export const DEFAULT_INPUT_TIMEOUT_S = 600;
/** --max-cycles's default when not at a terminal. */
export const DEFAULT_MAX_CYCLES = 100_000_000_000;

interface RunOptions {
  mode: string;
  input?: string;
  maxCycles?: string;
  timeout?: string;
  profile: string;
  engine: string;
  memory: string;
  disk?: string;
  snapshot?: boolean;
  hypercalls?: string;
  stats?: boolean;
  engineStats?: boolean;
  spinYield?: boolean;
  cosched?: boolean;
  ple?: boolean;
  trace?: string;
  traceRecords?: string;
  add: string[];
  cmdline?: string;
  mmu?: string;
  shadow?: string;
  btAdaptive?: boolean;
  net: string[];
  netRx?: string;
  hosted?: boolean;
  saveAt?: string[];
  restore?: string;
  record?: string;
  replay?: string;
  smp?: string;
  smpSeed?: string;
  smpQuantum?: string;
  pcpus?: string;
}

/** The options a replay may be given beside --replay FILE (the rest come from FILE). */
const REPLAY_OPTIONS = new Set(['replay', 'stats', 'engineStats', 'trace', 'traceRecords', 'timeout', 'disk', 'snapshot']);

/** How the session is driven: live (maybe recorded) or replayed from an input log. */
type Driving =
  | { kind: 'live'; record?: { log: InputLogWriter; digest: OutputDigest } }
  | { kind: 'replay'; file: string; log: InputLog; digest: OutputDigest };

/**
 * Drive the session to its end: replayed from an input log, or live (with the terminal attached
 * when interactive), logging its inputs when recording.
 */
async function runSession(inner: GuestSession, o: { interactive: boolean; paced: boolean; maxCycles: number; timeoutMs: number; driving: Driving; uplink?: HostUplink }): Promise<RunEnd> {
  const d = o.driving;
  if (d.kind === 'replay') return replaySession(inner, d, o.uplink, o.timeoutMs);
  let session = inner;
  if (d.record) {
    const log = d.record.log;
    const rec = recordingSession(inner, log);
    session = rec;
    if (o.uplink) o.uplink.onHostDatagram = (rule, payload, address, port) => log.event({ kind: 'datagram', cycle: rec.cycle(), rule, address, port, base64: Buffer.from(payload).toString('base64') });
    const ended = await liveSession(session, o);
    log.finish({ cycle: rec.cycle(), end: ended, outputBytes: d.record.digest.bytes, outputSha256: d.record.digest.digest() });
    return ended;
  }
  return liveSession(session, o);
}

/** Replay an input log into the session; the end and the console output must be the recording's. */
async function replaySession(session: GuestSession, d: Extract<Driving, { kind: 'replay' }>, uplink: HostUplink | undefined, timeoutMs: number): Promise<RunEnd> {
  const apply = (e: InputEvent): void => {
    switch (e.kind) {
      case 'keys':
        session.feed(Buffer.from(e.text, 'latin1'));
        return;
      case 'datagram':
        if (!uplink || e.rule >= uplink.rules.length) throw new CliError(`--replay ${d.file}: a datagram for forward rule ${e.rule}, which the recorded --net does not have`);
        uplink.fromHost(e.rule, new Uint8Array(Buffer.from(e.base64, 'base64')), e.address, e.port);
        return;
      case 'frame':
        // a daemon domain on a bridge: the frame entered its NIC at this cycle
        if (!uplink || d.log.run.bridge === undefined) throw new CliError(`--replay ${d.file}: a frame from a bridge at cycle ${e.cycle}, but the recorded run was on no bridge`);
        uplink.deliverNow(new Uint8Array(Buffer.from(e.base64, 'base64')));
        return;
      case 'command':
        throw new CliError(`--replay ${d.file}: a management command (${e.command}) at cycle ${e.cycle}: only a daemon domain's recording has those`);
      default: {
        const never: never = e;
        throw new Error(`replay: unknown event ${String(never)}`);
      }
    }
  };
  let ended: RunEnd;
  try {
    // several vCPUs: a guest's end is awaited up to a slice past its cycle (replayDrive's endSlack)
    const r = d.log.run;
    ended = await replayDrive(session, d.log, apply, timeoutMs, (r.smp ?? 1) > 1 ? (r.smpQuantum ?? SMP_DEFAULT_QUANTUM_CYCLES) + 1 : 1);
  } catch (e) {
    if (e instanceof ReplayDivergedError) throw new CliError(`--replay ${d.file}: ${e.message}`);
    throw e;
  }
  if (ended === 'timeout' && d.log.end.end !== 'timeout') return ended;
  const end = d.log.end;
  const bytes = d.digest.bytes;
  const hash = d.digest.digest();
  if (bytes !== end.outputBytes || hash !== end.outputSha256) {
    throw new CliError(`--replay ${d.file}: replay diverged: the console output differs from the recording's (${bytes} bytes, sha256 ${hash.slice(0, 16)}...; recorded ${end.outputBytes} bytes, ${end.outputSha256.slice(0, 16)}...)`);
  }
  process.stderr.write(`[xenolith: replayed ${d.log.events.length} input${d.log.events.length === 1 ? '' : 's'} from ${d.file}: ended at cycle ${end.cycle} as recorded, console output identical]\n`);
  return ended;
}

/** Drive a live session, with the terminal attached when interactive. */
async function liveSession(session: GuestSession, o: { interactive: boolean; paced: boolean; maxCycles: number; timeoutMs: number }): Promise<RunEnd> {
  if (!o.interactive) return drive(session, { maxCycles: o.maxCycles, timeoutMs: o.timeoutMs, paced: o.paced });
  let quit = false;
  process.stderr.write('[xenolith: console attached; Ctrl-C interrupts the guest\'s program, Ctrl-] leaves]\n');
  const detach = attachTerminalKeys(
    (text) => session.feed(Buffer.from(text, 'latin1')),
    () => {
      quit = true;
      session.stop();
    },
  );
  try {
    return await drive(session, { maxCycles: o.maxCycles, timeoutMs: o.timeoutMs, interactive: true, left: () => quit });
  } finally {
    detach();
  }
}

/**
 * Errors that mean the guest cannot be set up as asked (an image that does not fit, memory too
 * large, a kernel the builder refuses): reported as one line, never a stack trace.
 */
function isGuestSetupError(e: unknown): boolean {
  return e instanceof BootError || e instanceof RangeError || (e instanceof Error && ['DomainCreateError', 'PvBuildError', 'MemoryRangeError', 'BootError'].includes(e.name));
}

interface GuestSetup {
  input?: string;
  memoryBytes: number;
  disk?: Uint8Array;
  imagePath?: string;
  profile: string;
  engine: Engine;
  add: string[];
  cmdline?: string;
  mode: string;
  /** --mmu (hvm) */
  mmu?: 'shadow' | 'ept';
  /** --shadow (trap, bt, hvm's shadow paging) */
  shadow?: 'flush' | 'traced';
  /** --bt-adaptive (bt with --shadow traced) */
  btAdaptive?: boolean;
  /** --trace: the trace buffer's capacity in records (undefined: no trace) */
  traceCapacity?: number;
  /** --hosted (trap, bt, hvm): every I/O exit also pays a world switch to the host */
  hosted?: boolean;
  /** --hypercalls: the pv hypercall table with the handler module's hypercalls */
  table?: import('../../hypervisor/index.ts').HypercallTable;
  /** --net: the host uplink the guest's NIC is joined to */
  uplink?: HostUplink;
  /** a replayed daemon domain on a bridge: its NIC's station address and IPv4 address there */
  station?: { mac: number; macBytes: Uint8Array; ip: number };
  /** --restore: the saved session's counters (the restored session goes on from them) */
  start?: SessionCounters;
  /** also called with each console byte (record/replay's output digest) */
  outputTap?: (byte: number) => void;
  /** --net-rx (pv): how the network back end delivers received frames */
  netRx?: 'copy' | 'flip';
  /** --smp, --smp-seed, --smp-quantum (native: CPUs; trap, bt, hvm: vCPUs) */
  cpus: number;
  smpSeed?: number;
  smpQuantum?: number;
  /** --pcpus: the hypervisor's physical CPUs (default: one per vCPU) */
  pcpus?: number;
  /** --spin-yield: a vCPU about to spin behind a holder waiting for its physical CPU gives its slice up */
  spinYield?: boolean;
  /** --cosched: the domain's vCPUs are scheduled together (gang slices) */
  cosched?: boolean;
  /** --ple (hvm): pause-loop exiting with KVM's PLE_Gap and PLE_Window */
  ple?: boolean;
}

/** The console's onOutput: the writer, and the setup's tap if any. */
function withTap(write: (byte: number) => void, o: GuestSetup): (byte: number) => void {
  const tap = o.outputTap;
  return tap ? (b) => { tap(b); write(b); } : write;
}

/** A booted guest: the session that runs it, its symbols, and its statistics when it is over. */
interface BootedGuest {
  session: GuestSession;
  symbols: () => Image['symbols'];
  stats: () => string[];
  /** the translator's counters (--engine-stats): host figures of this process, not the simulation's */
  engineStats: () => string[];
  /** the run's trace (--trace), in the Chrome Trace Event format */
  trace?: () => ChromeTrace;
  /** what a save file holds: the root of the run's state, its vCPUs and its session counters */
  state: () => { root: object; vcpus: SavedVcpu[]; counters: Record<string, number> };
}

/** Boot the guest in a hypervisor domain (created, not yet run: the mode's run with 0 cycles). */
async function bootUnderHypervisor(mode: VirtualizationMode, image: Image | undefined, o: GuestSetup): Promise<BootedGuest> {
  const { runImageInMode, runPvMode, formatHvmStats, formatBtStats } = await import('../../hypervisor/index.ts');
  let kernel = image;
  let initrd: Uint8Array | undefined;
  let programs: ReadonlyMap<string, Image> = new Map();
  if (!image || isKernelImage(image)) {
    const { standardGuest } = await import('../guest.ts');
    // trap, bt and hvm run the unmodified native kernel; pv the same kernel built against hypercalls/.
    const guest = standardGuest(mode === 'pv' ? 'pv' : 'native', o.add);
    kernel = image ?? guest.kernel;
    initrd = guest.initrd;
    programs = guest.images;
  }
  const symbols = () => kernel?.symbols ?? [];
  const images = { kernelNotes: () => kernel?.notes, programs: () => programs };
  const opts: Parameters<typeof runPvMode>[1] = {
    memoryBytes: o.memoryBytes,
    profile: o.profile,
    engine: o.engine,
    maxCycles: 0,
    input: o.input,
    disk: o.disk,
    initrd,
    cmdline: o.cmdline,
    onOutput: withTap(consoleWriter(symbols, undefined, images), o),
    ...(o.mmu !== undefined || o.shadow !== undefined || o.ple ? { hvm: { ...(o.mmu !== undefined ? { mmu: o.mmu } : {}), ...(o.shadow !== undefined ? { shadow: o.shadow } : {}), ...(o.ple ? { ple: PLE_DEFAULTS } : {}) } } : {}),
    ...(o.shadow !== undefined ? { trap: { shadow: o.shadow }, bt: { shadow: o.shadow, ...(o.btAdaptive ? { adaptive: true } : {}) } } : {}),
    ...(o.uplink ? { onTransmit: o.uplink.onTransmit } : {}),
    ...(o.station ? { mac: o.station.macBytes, ip: o.station.ip } : {}),
    ...(o.netRx ? { netRx: o.netRx } : {}),
    ...(o.hosted ? { hosted: true } : {}),
    ...(o.cpus > 1 ? { vcpus: o.cpus, smp: { ...(o.smpSeed !== undefined ? { seed: o.smpSeed } : {}), ...(o.smpQuantum !== undefined ? { quantumCycles: o.smpQuantum } : {}), ...(o.pcpus !== undefined ? { pcpus: o.pcpus } : {}), ...(o.cosched ? { cosched: true } : {}) } } : {}),
  };
  if (o.table) opts.table = o.table;
  let session: DomainSession;
  let pvMode: PvMode | undefined;
  try {
    if (mode === 'pv') {
      const r = runPvMode(kernel!, opts);
      pvMode = r.mode;
      session = domainSession(r.hypervisor, r.domain, r.mode, o.start);
    } else {
      const r = runImageInMode(mode, kernel!, opts);
      session = domainSession(r.hypervisor, r.domain, undefined, o.start);
    }
  } catch (e) {
    if (isGuestSetupError(e)) throw new CliError(`${o.imagePath ?? 'guest kernel'}: ${(e as Error).message}`);
    throw e;
  }
  // the standard kernel's lock on several vCPUs: watch its spin loop for lock-holder preemption
  if (o.cpus > 1 && kernel !== undefined) {
    const dom = session.result().domain;
    const acquire = kernel.symbols.find((x) => x.name === 'smp.spinAcquire');
    const lock = kernel.symbols.find((x) => x.name === 'smp.kernelLock');
    // the kernel runs at the addresses it is linked at (its memory is mapped one to one)
    if (acquire && lock) dom.spinWatch = { pcStart: acquire.addr, pcEnd: acquire.addr + acquire.size, holderGpa: lock.addr + 4 };
    if (o.spinYield) dom.spinYield = dom.spinWatch !== null;
  }
  let trace: (() => ChromeTrace) | undefined;
  if (o.traceCapacity !== undefined) {
    const hv = session.result().hypervisor;
    const buf = new TraceBuffer(hv.cpu, o.traceCapacity);
    const from = hv.cpu.cycles;
    hv.setTrace(buf);
    const domains = new Map(hv.domains.map((d) => [d.id, d.name]));
    trace = () => toChromeTrace(buf, { clockMHz: hv.profile.clockMHz, domains, machine: `${mode}:${o.profile}`, fromCycle: from, hypercallName: pvMode ? (nr) => pvMode!.table.name(nr) : undefined });
  }
  if (o.uplink) {
    const { domainNicPlatform } = await import('../../hypervisor/net/attach.ts');
    const nic = domainNicPlatform(session.result().domain);
    if (!nic) throw new CliError(`--net: the ${mode} domain has no network interface`);
    o.uplink.attach(nic);
  }
  const stats = () => {
    const end = session.result();
    const lines = [`mode: ${mode}`, `profile: ${o.profile}`, `stopped: ${end.reason}`, `cycles: ${end.cycles}`, `instructions: ${end.instructions}`, `idle cycles: ${end.idleCycles}`];
    if (pvMode) lines.push(formatPvStatsTable(pvMode, end.domain));
    else if (mode === 'hvm') lines.push(formatHvmStats(end.domain));
    else if (mode === 'bt') lines.push(formatBtStats(end.domain));
    else for (const [k, v] of Object.entries(end.domain.stats.summary())) lines.push(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
    lines.push(...vcpuStatsLines(end.hypervisor, end.domain));
    return lines;
  };
  const engineStats = () => engineStatsLines(session.result().hypervisor.cpu.translator);
  const state = () => {
    const hv = session.result().hypervisor;
    const vcpus = hv.domains.flatMap((d) => d.vcpus.map((v) => {
      const a = hv.vcpuState(v);
      return { domain: d.name, id: v.id, pc: a.pc, cycles: a.cycles, instructions: a.instructions };
    }));
    return { root: hv, vcpus, counters: { ...session.counters() } };
  };
  return trace ? { session, symbols, stats, engineStats, trace, state } : { session, symbols, stats, engineStats, state };
}

/** A domain of several vCPUs: how they shared the physical CPUs, and each one's share (nothing with one vCPU). */
function vcpuStatsLines(hv: import('../../hypervisor/index.ts').Hypervisor, d: import('../../hypervisor/index.ts').Domain): string[] {
  if (d.vcpus.length < 2) return [];
  const lapic = d.devices?.lapicPorts;
  const lines = [`vcpus: ${d.vcpus.length} on ${hv.pcpus} physical CPU${hv.pcpus === 1 ? '' : 's'} (started by the guest: ${d.stats.vcpuStarts}, IPIs sent: ${lapic?.ipisSent ?? 0})`];
  const sp = d.spinStats;
  if (d.spinWatch !== null) {
    lines.push(`lock spin (whole slices in the kernel lock's acquire loop): holder descheduled ${sp.preemptedSlices} slices, ${sp.preemptedCycles} cycles wasted (lock-holder preemption); holder running ${sp.contendedSlices} slices, ${sp.contendedCycles} cycles${d.spinYield ? `; slices yielded to the holder (--spin-yield): ${sp.yields}` : ''}`);
  }
  if (hv.cosched !== null) {
    const g = hv.gang;
    lines.push(`co-scheduling (--cosched): ${g.slices} gang slices of ${hv.cosched.sliceCycles} cycles; physical CPUs idle in them ${g.idleCycles} cycles, of which ${g.heldCycles} with another domain's vCPU waiting`);
  }
  for (const v of d.vcpus) {
    const a = d.devices?.apics[v.id];
    lines.push(`vcpu ${v.id} (pcpu ${v.pcpu}): run cycles ${v.runCycles}, IPIs received ${a?.ipisReceived ?? 0}, local timer expiries ${a?.timerExpiries ?? 0}`);
  }
  return lines;
}

/** Boot the guest (or a bare image) on the bare machine. */
async function bootNativeGuest(image: Image | undefined, kernelBoot: boolean, o: GuestSetup): Promise<BootedGuest> {
  let machine: Machine;
  let symbols = image?.symbols ?? [];
  let notes = image?.notes;
  let programs: ReadonlyMap<string, Image> = new Map();
  try {
    const images = { kernelNotes: () => notes, programs: () => programs };
    const schedule = { ...(o.smpSeed !== undefined ? { seed: o.smpSeed } : {}), ...(o.smpQuantum !== undefined ? { quantumCycles: o.smpQuantum } : {}) };
    machine = new Machine({ memoryBytes: o.memoryBytes, profile: o.profile, engine: o.engine, disk: o.disk, input: o.input, onOutput: withTap(consoleWriter(() => symbols, undefined, images), o), onTransmit: o.uplink?.onTransmit, cpus: o.cpus, schedule, ...(o.station ? { mac: o.station.mac, ip: o.station.ip } : {}) });
    const ctx = machine.deviceContext;
    o.uplink?.attach({ nic: machine.nic, now: () => ctx.now(), schedule: (at, fn) => ctx.schedule(at, fn) });
    if (kernelBoot) {
      // Loaded on use: building the standard guest needs the compiler (and TypeScript).
      const { standardGuest } = await import('../guest.ts');
      const standard = standardGuest('native', o.add);
      const guest = image ? { ...standard, kernel: image } : standard;
      symbols = guest.kernel.symbols;
      notes = guest.kernel.notes;
      programs = guest.images;
      bootNative(machine, { kernel: guest.kernel, initrd: guest.initrd, cmdline: o.cmdline });
    } else {
      machine.loadImage(image!);
    }
  } catch (e) {
    if (isGuestSetupError(e)) throw new CliError(`${o.imagePath ?? 'guest kernel'}: ${(e as Error).message}`);
    throw e;
  }
  const session = machineSession(machine);
  const stats = () => {
    const end = session.end();
    // with several CPUs, as a hypervisor's --stats: the machine's clock (the running CPU's, where
    // the session's cycle is), and the instructions, idle cycles and counters of all the CPUs;
    // each CPU's own below
    const { instructions, counters } = machine.totals();
    const lines = [`mode: ${o.mode}`, `profile: ${o.profile}`, `stopped: ${end.reason}`, `cycles: ${machine.now}`, `instructions: ${instructions}`, `idle cycles: ${machine.idleCycles}`];
    for (const [k, v] of counters) lines.push(`${k}: ${v}`);
    if (machine.cpus.length > 1) {
      lines.push(`cpus: ${machine.cpus.length} (schedule slices: ${machine.slices}, IPIs sent: ${machine.lapicPorts!.ipisSent})`);
      machine.cpus.forEach((c, n) => lines.push(`cpu ${n}: cycles ${c.cycles}, instructions ${c.instructions}, idle cycles ${c.evCount[Ev.Idle]}, interrupts ${c.stats.interrupts}, IPIs received ${machine.apics[n]!.ipisReceived}`));
    }
    return lines;
  };
  const state = () => {
    const c = machine.cpu;
    return { root: machine, vcpus: [{ domain: 'machine', id: 0, pc: c.pc, cycles: c.cycles, instructions: c.instructions }], counters: {} };
  };
  return { session, symbols: () => symbols, stats, engineStats: () => engineStatsLines(machine.cpu.translator), state };
}

/** Say why the run ended when the guest did not end it, and set the exit status. */
export function exitWith(ended: RunEnd, session: GuestSession, limits: { maxCycles: number; timeoutS: number }, symbols: Image['symbols']): void {
  switch (ended) {
    case 'left':
      process.stderr.write('\n[xenolith: left the console with Ctrl-]; the guest was still running]\n');
      process.exitCode = EXIT_LEFT_CONSOLE;
      return;
    case 'max-cycles':
      process.stderr.write(`xenolith: stopped by --max-cycles: the guest was still running after ${limits.maxCycles} simulated cycles (exit status ${EXIT_CYCLE_LIMIT})\n`);
      process.exitCode = EXIT_CYCLE_LIMIT;
      return;
    case 'timeout':
      process.stderr.write(`xenolith: stopped by --timeout: the guest was still running after ${limits.timeoutS} s of wall-clock time (exit status ${EXIT_TIMEOUT})\n`);
      process.exitCode = EXIT_TIMEOUT;
      return;
    case 'guest':
      break;
    default: {
      const never: never = ended;
      throw new Error(`run: unknown end ${String(never)}`);
    }
  }
  const { reason, status, detail } = session.end();
  if (reason === 'poweroff') {
    process.exitCode = status & 0xff;
    return;
  }
  process.stderr.write(`xenolith: the machine stopped: ${reason}${detail ? ` (${symbolizeBacktrace(detail, symbols)})` : ''}\n`);
  process.exitCode = EXIT_GUEST_DEAD;
}

/** The run's configuration as a save file keeps it: what `run --restore` needs to build the restoring machine. */
interface SavedSetup {
  mode: string;
  profile: string;
  engine: Engine;
  memoryBytes: number;
  mmu?: 'shadow' | 'ept';
  /** --shadow (trap, bt, hvm's shadow paging) */
  shadow?: 'flush' | 'traced';
  /** --bt-adaptive: what it learnt (trace faults per store, the stores retranslated) is in the saved graph (the translation cache) */
  btAdaptive?: boolean;
  hosted?: boolean;
  /** an image file (absolute), or none: the standard guest */
  imagePath?: string;
  add: string[];
  cmdline?: string;
  /** --trace: the trace buffer's capacity (the buffer and its records so far are in the saved graph) */
  traceCapacity?: number;
  /** --hypercalls: the handler module (absolute), loaded again at restore: its code is host code, not state */
  hypercalls?: string;
  /** --smp and its shaping options (native: CPUs; trap, bt, hvm: vCPUs): the restoring machine is built with as many */
  cpus?: number;
  smpSeed?: number;
  smpQuantum?: number;
  pcpus?: number;
  spinYield?: boolean;
  /** --net as given and --net-rx: the restoring run binds its forwards again (host sockets are not state) */
  net?: string[];
  netRx?: 'copy' | 'flip';
  /** --net: the virtual gateway's state at the save (the frames on their way to the guest are NIC events in the graph) */
  gateway?: GatewayState;
  /** --ple (hvm) */
  ple?: boolean;
}

function parseSaveAt(values: string[], opts: RunOptions): { cycles: number; file: string } {
  if (values.length !== 2) throw new CliError(`--save-at takes CYCLES and FILE (got ${values.length} value${values.length === 1 ? '' : 's'})`);
  const [n, file] = values as [string, string];
  const cycles = Number(n);
  if (!/^[0-9]+$/.test(n) || !Number.isSafeInteger(cycles) || cycles < 1) throw new CliError(`--save-at: CYCLES must be a positive whole number (got '${n}')`);
  return { cycles, file };
}

function savedSetup(opts: RunOptions, setup: GuestSetup, imagePath: string | undefined, kernelBoot: boolean): SavedSetup {
  const out: SavedSetup = { mode: opts.mode, profile: setup.profile, engine: setup.engine, memoryBytes: setup.memoryBytes, add: setup.add.map((f) => resolve(f)) };
  if (setup.mmu !== undefined) out.mmu = setup.mmu;
  if (setup.shadow !== undefined) out.shadow = setup.shadow;
  if (setup.btAdaptive) out.btAdaptive = true;
  if (setup.hosted) out.hosted = true;
  if (setup.ple) out.ple = true;
  if (imagePath !== undefined) out.imagePath = resolve(imagePath);
  if (kernelBoot && setup.cmdline !== undefined) out.cmdline = setup.cmdline;
  if (setup.traceCapacity !== undefined) out.traceCapacity = setup.traceCapacity;
  if (opts.hypercalls !== undefined) out.hypercalls = resolve(opts.hypercalls);
  if (opts.net.length > 0) {
    out.net = [...opts.net];
    if (setup.netRx !== undefined) out.netRx = setup.netRx;
    if (setup.uplink) out.gateway = setup.uplink.gateway.state();
  }
  if (setup.cpus > 1) {
    out.cpus = setup.cpus;
    if (setup.smpSeed !== undefined) out.smpSeed = setup.smpSeed;
    if (setup.smpQuantum !== undefined) out.smpQuantum = setup.smpQuantum;
    if (setup.pcpus !== undefined) out.pcpus = setup.pcpus;
    if (setup.spinYield) out.spinYield = true;
  }
  return out;
}

/** Save the run to `file` (the guest has stopped at the save point). */
function writeSave(file: string, mode: SaveMode, guest: BootedGuest, setup: SavedSetup): void {
  const { root, vcpus, counters } = guest.state();
  const cycles = vcpus[0]?.cycles ?? 0;
  let bytes: Uint8Array;
  try {
    bytes = saveRun(mode, root, { setup: { ...setup }, cycles, counters, vcpus });
  } catch (e) {
    if (e instanceof GraphError) throw new CliError(`--save-at: this run cannot be saved: ${e.message}`);
    throw e;
  }
  try {
    writeFileSync(file, bytes);
  } catch (e) {
    throw new CliError(`--save-at ${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const at = counters.cycles ?? cycles;
  process.stderr.write(`[xenolith: saved at cycle ${at} to ${file} (${bytes.length} bytes); go on with: xenolith run --restore ${file}]\n`);
}

/** `run --restore FILE`: build the saved run's machine, lay the saved state over it, and go on. */
async function restoreAction(imagePath: string | undefined, opts: RunOptions): Promise<void> {
  const file = opts.restore!;
  const clash = [imagePath !== undefined && 'an image', opts.add.length > 0 && '--add', opts.cmdline !== undefined && '--cmdline', opts.disk !== undefined && '--disk', opts.net.length > 0 && '--net', opts.hypercalls !== undefined && '--hypercalls', opts.saveAt !== undefined && '--save-at', opts.traceRecords !== undefined && '--trace-records', opts.mmu !== undefined && '--mmu', opts.hosted && '--hosted', opts.ple && '--ple'].filter(Boolean);
  if (clash.length > 0) throw new CliError(`--restore: the saved run decides its guest and machine; drop ${clash.join(', ')}`);
  const checked = parseOptions(runOptionsSchema, { mode: 'native', profile: 'p4-2003', memory: '32', maxCycles: opts.maxCycles, timeout: opts.timeout });
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new CliError(`--restore ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let saved: SavedRun;
  try {
    saved = loadSaveFile(bytes);
  } catch (e) {
    if (e instanceof SaveFormatError) throw new CliError(`${file}: ${e.message}`);
    throw e;
  }
  if ((saved.meta.setup as { definition?: unknown }).definition !== undefined) {
    throw new CliError(`${file}: it holds a daemon's domain (xenolith restore ${file}), not a single run`);
  }
  const s = saved.meta.setup as unknown as SavedSetup;
  if (s.mode !== saved.mode) throw new CliError(`${file}: the header says ${saved.mode} and the setup ${String(s.mode)}`);
  const image = s.imagePath ? await loadImage(s.imagePath, s.mode === 'pv' ? 'pv' : 'native') : undefined;
  const kernelBoot = !image || isKernelImage(image);
  const setup: GuestSetup = { mode: s.mode, profile: s.profile, engine: s.engine, memoryBytes: s.memoryBytes, add: s.add, input: '', cpus: s.cpus ?? 1 };
  if (s.smpSeed !== undefined) setup.smpSeed = s.smpSeed;
  if (s.smpQuantum !== undefined) setup.smpQuantum = s.smpQuantum;
  if (s.pcpus !== undefined) setup.pcpus = s.pcpus;
  if (s.spinYield) setup.spinYield = true;
  if (s.mmu !== undefined) setup.mmu = s.mmu;
  if (s.shadow !== undefined) setup.shadow = s.shadow;
  if (s.btAdaptive) setup.btAdaptive = true;
  if (s.hosted) setup.hosted = true;
  if (s.ple) setup.ple = true;
  if (s.cmdline !== undefined) setup.cmdline = s.cmdline;
  if (s.imagePath !== undefined) setup.imagePath = s.imagePath;
  // the handler module of a run with --hypercalls is loaded again: its hypercalls take the same
  // slots of the table, so the saved table's handlers are matched to the module's new ones
  if (s.hypercalls !== undefined) setup.table = await loadHypercallTable(s.hypercalls);
  // a traced run goes on with its trace (the records before the save are in the file)
  if (s.traceCapacity !== undefined) setup.traceCapacity = s.traceCapacity;
  else if (opts.trace !== undefined) throw new CliError(`--trace: the run saved in ${file} was not traced (a trace cannot begin in the middle: save a run with --trace)`);
  if (s.mode !== 'native') setup.start = saved.meta.counters as unknown as SessionCounters;
  // --net: the forwards bound again (a host port 0 gets a new one), the gateway as it was
  let uplink: HostUplink | undefined;
  if (s.net !== undefined && s.net.length > 0) {
    const { HostUplink } = await import('../../hypervisor/net/uplink.ts');
    const { NIC_DEFAULT_MAC, macToBytes } = await import('../../machine/devices/nic.ts');
    const rules = parseOptions(netSchema, s.net);
    try {
      uplink = await HostUplink.open(rules, macToBytes(NIC_DEFAULT_MAC));
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    if (s.gateway !== undefined) uplink.gateway.loadState(s.gateway);
    for (const [k, p] of uplink.boundPorts().entries()) process.stderr.write(`[xenolith: udp 127.0.0.1:${p} -> guest 10.0.2.15:${rules[k]!.guestPort}]\n`);
    setup.uplink = uplink;
    if (s.netRx !== undefined) setup.netRx = s.netRx;
  }
  const guest = s.mode === 'native' ? await bootNativeGuest(image, kernelBoot, setup) : await bootUnderHypervisor(s.mode as VirtualizationMode, image, setup);
  try {
    restoreRun(saved, guest.state().root);
  } catch (e) {
    if (e instanceof SaveFormatError) throw new CliError(`${file}: ${e.message}`);
    throw e;
  }
  const interactive = opts.input === undefined && process.stdin.isTTY === true;
  if (opts.input !== undefined) guest.session.feed(Buffer.from(opts.input.replace(/\\n/g, '\n'), 'latin1'));
  const maxCycles = checked.maxCycles ?? (interactive ? Number.MAX_SAFE_INTEGER : DEFAULT_MAX_CYCLES);
  const timeoutS = checked.timeout ?? (interactive ? Infinity : DEFAULT_INPUT_TIMEOUT_S);
  let ended: RunEnd;
  try {
    ended = await runSession(guest.session, { interactive, paced: false, maxCycles, timeoutMs: timeoutS * 1000, driving: { kind: 'live' }, ...(uplink ? { uplink } : {}) });
  } finally {
    await uplink?.close();
  }
  if (opts.stats) {
    process.stderr.write(`${guest.stats().join('\n')}\n`);
    if (uplink) for (const [k, v] of Object.entries(uplink.gateway.counters)) process.stderr.write(`net ${k}: ${v}\n`);
  }
  if (opts.engineStats) process.stderr.write(`${guest.engineStats().join('\n')}\n`);
  if (opts.trace !== undefined && guest.trace) writeTrace(opts.trace, guest.trace());
  exitWith(ended, guest.session, { maxCycles, timeoutS }, guest.symbols());
}

/** --engine-stats: the translator's counters, or a line saying the run had none. */
function engineStatsLines(tx: Translator | null): string[] {
  return tx === null ? ['translator: none (the interpreter engine)'] : translatorStatsLines(tx);
}

/** Write a run's trace (--trace FILE) and say so on stderr. */
function writeTrace(file: string, t: ChromeTrace): void {
  try {
    writeFileSync(file, `${JSON.stringify(t)}\n`);
  } catch (e) {
    throw new CliError(`--trace ${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const o = t.otherData;
  process.stderr.write(`xenolith: trace: ${o.records} records${o.dropped > 0 ? `, ${o.dropped} dropped (the buffer holds ${o.capacity}; --trace-records sets it)` : ''} written to ${file}\n`);
}

export function register(program: Command): void {
  program
    .command('run')
    .description(`boot the xenolith guest (or an image) and show its console; exits with the guest\'s status (the shell\'s last command\'s). At a terminal you type into the guest\'s shell in any mode (Ctrl-C interrupts its program; Ctrl-] leaves, exit status ${EXIT_LEFT_CONSOLE}); --input or piped stdin feed the console instead. A guest that crashes gives ${EXIT_GUEST_DEAD}`)
    .argument('[image]', 'an image file (from xenolith asm or compile), or a kernel\'s entry module (.ts, compiled for the mode\'s arch); default: the standard guest kernel and initrd')
    .option('--mode <mode>', `virtualization mode: ${MODE_NAMES.join(', ')}`, 'native')
    .option('--input <text>', 'console input, as if typed, followed by end of input (\\n is Enter)')
    .option('--add <prog.ts>', 'compile a user program into the initrd (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--cmdline <text>', 'the first process and its arguments (default: init, which runs the shell)')
    .option('--max-cycles <n>', `stop after this many simulated cycles (deterministic; default 1e11, unlimited at a terminal); exit status ${EXIT_CYCLE_LIMIT}`)
    .option('--timeout <seconds>', `stop after this much wall-clock time (default ${DEFAULT_INPUT_TIMEOUT_S} with --input or piped input, none at a terminal); exit status ${EXIT_TIMEOUT}`)
    .option(...PROFILE_OPTION)
    .addOption(engineOption())
    .option('--memory <MiB>', 'physical memory in MiB', '32')
    .option('--disk <file>', "a file to back the block device; the guest's writes are written back to it when the run ends")
    .option('--snapshot', "with --disk: the guest's writes go to a temporary in-memory overlay and the file is left untouched (QEMU's -snapshot)")
    .option('--hypercalls <handler.ts>', 'with --mode pv: register the hypercalls of a handler module (docs/hypercalls.md, "Adding a hypercall")')
    .option('--stats', 'print cycle, instruction and exit statistics to stderr when the guest stops (simulated figures: the same under either engine)')
    .option('--engine-stats', "print the translator's counters to stderr when the guest stops: translations, compiles, recalled from this process's memo, dispatcher entries, instructions in cold slices, invalidations, flushes, the cache's size (host figures of this process, which vary with what it ran before; docs/engine.md)")
    .option('--trace <file>', 'write a timeline of the run (exits, traps, hypercalls, event-channel notifications, interrupts, scheduler switches, with simulated timestamps) to FILE in the Chrome Trace Event format (Perfetto, chrome://tracing); hypervisor modes only')
    .option('--trace-records <n>', `with --trace: the trace buffer's size in records; later records are dropped and counted (default ${DEFAULT_TRACE_RECORDS})`)
    .option('--net <spec>', "a network for the guest's NIC: QEMU's user-mode network (guest 10.0.2.15, gateway 10.0.2.2 answering ARP and ping) with host forwards hostfwd=udp:127.0.0.1:HOSTPORT-:GUESTPORT, comma-separated or repeated; host port 0 takes a free one (the bound port is printed on stderr). Listens on the loopback address only; every mode: an emulated NIC, pv a netfront/netback pair (docs/network.md)", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--net-rx <how>', "with --mode pv and --net: how the network back end delivers received frames: copy (grant copy into pages the guest granted; the default) or flip (page flipping: a grant transfer of a fresh frame holding the packet, as Xen's 2003 netback did)")
    .option('--mmu <kind>', "with --mode hvm: shadow (shadow page tables, first-generation VT-x) or ept (a second stage); default: ept if the profile's CPU has it, else shadow")
    .option('--save-at <cycles_file...>', 'save the run after CYCLES simulated cycles (at the first instruction boundary there) to FILE, and stop: `--save-at CYCLES FILE` (docs/migration.md "The save format")')
    .option('--restore <file>', 'go on with a run saved by --save-at: its mode, profile, memory and guest come from the file (docs/migration.md)')
    .option('--record <file>', 'log every input of the run (console keys, --input, host datagrams) with the simulated cycle it was applied at, and how the run ended, to FILE (docs/replay.md)')
    .option('--replay <file>', "run again as recorded in FILE (by --record): the same settings and inputs at the same cycles give the same console output and final cycle count, which are checked; beside it only --stats, --trace, --timeout, --disk and --snapshot")
    .option('--shadow <kind>', 'with --mode trap, bt or hvm --mmu shadow: flush (one shadow, rebuilt after every CR3 load; the default) or traced (a shadow per address space, kept coherent by write-protecting the guest\'s page tables: trace faults)')
    .option('--bt-adaptive', "with --mode bt --shadow traced: adaptive retranslation (VMware's \"innocent until proven guilty\"): a kernel store that has taken 4 trace faults is retranslated as a callout that makes its write against the traced shadow without faulting (docs/fidelity.md)")
    .option('--smp <n>', 'CPUs in the machine (native) or vCPUs in the domain (trap, bt, hvm: 1..8; pv: 1..4) (default 1) (docs/isa.md "Multiprocessor", docs/hypervisor.md and docs/hypercalls.md "Several vCPUs")')
    .option('--smp-seed <n>', 'with --smp: the seed of the interleaving schedule of the CPUs (native) or of the vCPUs\' slices on the physical CPUs (trap, bt, hvm, pv; default 1); the same seed gives the same run')
    .option('--pcpus <n>', 'with --smp under trap, bt, hvm or pv: the hypervisor\'s physical CPUs, 1..8 (default: one per vCPU); fewer than the vCPUs and they share them (lock-holder preemption shows in --stats)')
    .option('--spin-yield', 'with --smp under trap, bt or hvm: a vCPU whose slice would begin in the kernel lock\'s acquire loop while the holder waits for the same physical CPU gives the slice up (a directed yield; the lock-holder preemption remedy, docs/hypervisor.md)')
    .option('--cosched', 'with --smp under trap, bt or hvm: co-scheduling (gang scheduling): the domain\'s vCPUs run together, each on its own physical CPU, in gang slices of 10 quanta (needs --pcpus at least --smp; not with --spin-yield; docs/hypervisor.md "Lock-holder preemption")')
    .option('--ple', 'with --mode hvm: pause-loop exiting (a VMCS control): a guest kernel spinning at CPL 0 - PAUSEs less than PLE_Gap (128) cycles apart - for more than PLE_Window (4096) cycles exits, and the vCPU gives its physical CPU to another (the lock-holder preemption remedy of hardware assist; docs/hypervisor.md)')
    .option('--smp-quantum <cycles>', 'with --smp: the longest slice a CPU or vCPU runs before the schedule switches (default 2000 natively, 100000 for vCPUs: a slice under a hypervisor pays an exit and an entry)')
    .option('--hosted', "with --mode trap, bt or hvm: a hosted monitor (VMware Workstation's shape): every I/O exit also pays a world switch to the host, where the device model runs (the profile's hostedWorldSwitch)")
    .action(async (givenImagePath: string | undefined, opts: RunOptions, command: Command) => {
      if (opts.restore !== undefined && (opts.record !== undefined || opts.replay !== undefined)) throw new CliError(`--restore goes on with a saved run; it cannot be ${opts.record !== undefined ? 'recorded (--record)' : 'replayed (--replay)'} (record or replay the run from its start)`);
      if (opts.restore !== undefined) return restoreAction(givenImagePath, opts);
      let imagePath = givenImagePath;
      let driving: Driving = { kind: 'live' };
      if (opts.record !== undefined && opts.replay !== undefined) throw new CliError('--record and --replay: a run is either recorded or replayed, not both');
      if (opts.replay !== undefined) {
        const file = opts.replay;
        let log: InputLog;
        try {
          log = readInputLog(file);
        } catch (e) {
          if (e instanceof InputLogError) throw new CliError(e.message);
          throw e;
        }
        for (const name of Object.keys(opts)) {
          if (!REPLAY_OPTIONS.has(name) && command.getOptionValueSource(name) === 'cli') throw new CliError(`--replay takes the run's settings from ${file}; --${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} cannot be given with it`);
        }
        if (imagePath !== undefined) throw new CliError(`--replay takes the run's settings from ${file}; no image can be given with it`);
        const r = log.run;
        imagePath = r.image;
        const str = (n: number | undefined) => (n === undefined ? undefined : String(n));
        Object.assign(opts, { mode: r.mode, profile: r.profile, engine: r.engine, memory: String(r.memoryMiB), add: r.add, net: r.net, cmdline: r.cmdline, mmu: r.mmu, hosted: r.hosted, hypercalls: r.hypercalls, netRx: r.netRx, shadow: r.shadow, smp: str(r.smp), smpSeed: str(r.smpSeed), smpQuantum: str(r.smpQuantum), pcpus: str(r.pcpus), spinYield: r.spinYield, cosched: r.cosched, btAdaptive: r.btAdaptive, ple: r.ple });
        driving = { kind: 'replay', file, log, digest: new OutputDigest() };
      }
      const checked = parseOptions(runOptionsSchema, { mode: opts.mode, engine: opts.engine, profile: opts.profile, memory: opts.memory, maxCycles: opts.maxCycles, timeout: opts.timeout, mmu: opts.mmu, shadow: opts.shadow, traceRecords: opts.traceRecords, smp: opts.smp, smpSeed: opts.smpSeed, smpQuantum: opts.smpQuantum, pcpus: opts.pcpus });
      if (opts.spinYield && ((checked.smp ?? 1) === 1 || opts.mode === 'native' || opts.mode === 'pv')) throw new CliError('--spin-yield lets the vCPUs of a trap, bt or hvm domain yield to a descheduled lock holder; it needs --smp 2 or more and one of those modes');
      if (opts.cosched && ((checked.smp ?? 1) === 1 || opts.mode === 'native' || opts.mode === 'pv')) throw new CliError('--cosched schedules the vCPUs of a trap, bt or hvm domain together; it needs --smp 2 or more and one of those modes');
      if (opts.cosched && opts.spinYield) throw new CliError('--cosched and --spin-yield are two remedies for lock-holder preemption; under co-scheduling the holder always runs beside its spinners, so give one of them');
      if (opts.cosched && checked.pcpus !== undefined && checked.pcpus < (checked.smp ?? 1)) throw new CliError(`--cosched runs the domain's ${checked.smp} vCPUs together, one on each physical CPU; --pcpus ${checked.pcpus} is too few`);
      if (checked.pcpus !== undefined && ((checked.smp ?? 1) === 1 || opts.mode === 'native')) throw new CliError('--pcpus sets the physical CPUs the vCPUs of a trap, bt, hvm or pv domain share; it needs --smp 2 or more and one of those modes');
      if ((checked.smp ?? 1) > 1 && !SMP_MODES.includes(opts.mode as ModeName)) throw new CliError(`--smp ${checked.smp}: --mode ${opts.mode} runs one CPU so far (several: ${SMP_MODES.join(', ')})`);
      if ((checked.smp ?? 1) > PV_MAX_VCPUS && opts.mode === 'pv') throw new CliError(`--smp ${checked.smp}: a pv domain has at most ${PV_MAX_VCPUS} vCPUs (the shared-info page's vcpu_info slots)`);
      if ((checked.smp ?? 1) > 1 && opts.btAdaptive) throw new CliError(`--smp ${checked.smp}: --bt-adaptive counts the trace faults of the traced shadow, which follows one vCPU's page-table writes (a store by another vCPU would not fault); use one vCPU`);
      if ((checked.smp ?? 1) > 1 && checked.shadow === 'traced') throw new CliError(`--smp ${checked.smp}: traced shadows follow one vCPU's page-table writes; use --shadow flush (the default) with several vCPUs`);
      if ((checked.smp ?? 1) === 1 && (checked.smpSeed !== undefined || checked.smpQuantum !== undefined)) throw new CliError('--smp-seed and --smp-quantum shape the interleaving of several CPUs; they need --smp 2 or more');
      // a run of several CPUs or vCPUs repeats however it is sliced (Machine.runSmp and
      // Hypervisor.runMulti go on with a cut slice); co-scheduling's gang slices do not yet
      if (opts.trace !== undefined && opts.mode === 'native') throw new CliError("--trace records the hypervisor's events (exits, traps, hypercalls ...); native mode has no hypervisor: use --mode trap, bt, hvm or pv");
      if (opts.traceRecords !== undefined && opts.trace === undefined) throw new CliError('--trace-records sizes the --trace buffer; there is no --trace FILE');
      if (opts.mmu !== undefined && opts.mode !== 'hvm') throw new CliError(`--mmu chooses hvm's translation; it needs --mode hvm (not ${opts.mode})`);
      if (opts.shadow !== undefined && opts.mode !== 'trap' && opts.mode !== 'bt' && opts.mode !== 'hvm') throw new CliError(`--shadow chooses the shadow MMU of trap, bt and hvm's shadow paging; it needs --mode trap, bt or hvm (not ${opts.mode})`);
      if (opts.shadow !== undefined && opts.mode === 'hvm' && hvmMmuFor(getProfile(checked.profile), checked.mmu) !== 'shadow') throw new CliError(`--shadow chooses the shadow MMU; this hvm run has a second stage (ept${checked.mmu === undefined ? `, profile ${checked.profile}'s default` : ''}): add --mmu shadow`);
      if (opts.btAdaptive && (opts.mode !== 'bt' || checked.shadow !== 'traced')) throw new CliError(`--bt-adaptive retranslates bt's stores that keep taking trace faults; it needs --mode bt --shadow traced${opts.mode !== 'bt' ? ` (not --mode ${opts.mode})` : ''}`);
      if (opts.ple && opts.mode !== 'hvm') throw new CliError(`--ple turns on hardware assist's pause-loop exiting; it needs --mode hvm (not ${opts.mode})`);
      if (opts.hosted && (opts.mode === 'native' || opts.mode === 'pv')) throw new CliError(`--hosted charges a world switch per I/O exit; it needs --mode trap, bt or hvm (not ${opts.mode})`);
      const memoryBytes = checked.memory;
      if (opts.snapshot && !opts.disk) throw new CliError('--snapshot applies to a --disk file; there is none');
      if (opts.hypercalls && opts.mode !== 'pv') throw new CliError(`--hypercalls adds hypercalls to the pv interface; it needs --mode pv (not ${opts.mode})`);
      const diskFile = opts.disk ? openDisk(opts.disk, opts.snapshot === true) : undefined;
      const disk = diskFile?.bytes;
      const table = opts.hypercalls ? await loadHypercallTable(opts.hypercalls) : undefined;

      const image = imagePath ? await loadImage(imagePath, opts.mode === 'pv' ? 'pv' : 'native') : undefined;
      // a recording with an image of its own: the same image (a changed file would run another guest)
      const imageSha256 = image ? sha256(encodeImage(image)) : undefined;
      const recordedImage = driving.kind === 'replay' ? driving.log.run.imageSha256 : undefined;
      if (recordedImage !== undefined && imageSha256 !== recordedImage) {
        throw new CliError(`--replay ${opts.replay}: the recording ran ${imagePath} with sha256 ${recordedImage.slice(0, 16)}...; the image there now has ${imageSha256!.slice(0, 16)}... (it changed)`);
      }
      const kernelBoot = !image || isKernelImage(image);
      if (image?.arch === ImageArch.User) {
        throw new CliError(`${imagePath} is a user program (compile --user): it runs inside the guest kernel; add its source to the initrd with --add PROG.ts and start it with --input 'PROG ARGS' or --cmdline 'PROG ARGS'`);
      }
      if (image) {
        const wantsPv = opts.mode === 'pv';
        const isPv = image.arch === ImageArch.Pv;
        if (wantsPv !== isPv) {
          throw new CliError(
            wantsPv
              ? `${imagePath}: --mode pv boots a kernel compiled with --arch pv; this is a ${ARCH_NAMES[image.arch]} image`
              : `${imagePath}: a kernel compiled with --arch pv runs only under --mode pv`,
          );
        }
      }
      if (image && !kernelBoot && (opts.add.length > 0 || opts.cmdline)) {
        throw new CliError(`${imagePath} is a bare-metal image: --add and --cmdline apply to kernels only`);
      }
      const replayed = driving.kind === 'replay' ? driving.log.run : undefined;
      const interactive = !replayed && opts.input === undefined && process.stdin.isTTY === true;
      let input = replayed ? replayed.input : opts.input?.replace(/\\n/g, '\n');
      if (!replayed && input === undefined && !interactive) {
        try {
          input = readFileSync(0, 'latin1');
        } catch {
          input = '';
        }
      }
      if (!replayed && input !== undefined && kernelBoot) input += (input.length > 0 && !input.endsWith('\n') ? '\n' : '') + CONSOLE_EOF;
      const maxCycles = replayed ? Number.MAX_SAFE_INTEGER : checked.maxCycles ?? (interactive ? Number.MAX_SAFE_INTEGER : DEFAULT_MAX_CYCLES);
      const timeoutS = checked.timeout ?? (interactive || replayed ? Infinity : DEFAULT_INPUT_TIMEOUT_S);

      // a replayed daemon domain with net at another address: the guest has that address, its forwards go to it
      const ownIp = replayed?.ip !== undefined ? parseReplayedIp(opts.replay!, replayed.ip) : 0x0a00020f;
      const netRules = ownIp === 0x0a00020f ? parseOptions(netSchema, opts.net) : parseReplayedNet(opts.replay!, opts.net, ownIp);
      const strayForward = netRules.find((r) => r.guestIp !== ownIp);
      if (strayForward) throw new CliError(`--net: the guest's address is ${ipString(ownIp)}, not "${ipString(strayForward.guestIp)}" (forwards to other addresses are for domains on a bridge)`);
      if (opts.netRx !== undefined && (opts.mode !== 'pv' || opts.net.length === 0)) throw new CliError(`--net-rx chooses how pv's network back end delivers frames; it needs --mode pv and --net (not --mode ${opts.mode}${opts.net.length === 0 ? ' without --net' : ''})`);
      if (opts.netRx !== undefined && opts.netRx !== 'copy' && opts.netRx !== 'flip') throw new CliError(`--net-rx must be copy or flip (not ${opts.netRx})`);
      let uplink: HostUplink | undefined;
      let station: GuestSetup['station'];
      if (replayed?.bridge !== undefined) {
        // a daemon domain on a bridge: its NIC as it was there, fed the frames that entered it
        const { HostUplink } = await import('../../hypervisor/net/uplink.ts');
        const { macToBytes } = await import('../../machine/devices/nic.ts');
        const { ipv4 } = await import('../../hypervisor/net/frames.ts');
        station = { mac: replayed.bridge.mac, macBytes: macToBytes(replayed.bridge.mac), ip: ipv4(replayed.bridge.ip) };
        uplink = HostUplink.frameSink(station.macBytes);
      } else if (opts.net.length > 0) {
        const { HostUplink } = await import('../../hypervisor/net/uplink.ts');
        const { NIC_DEFAULT_MAC, macToBytes } = await import('../../machine/devices/nic.ts');
        const mac = macToBytes(NIC_DEFAULT_MAC);
        if (replayed) {
          if (ownIp !== 0x0a00020f) station = { mac: NIC_DEFAULT_MAC, macBytes: mac, ip: ownIp };
          uplink = HostUplink.detached(netRules, mac);
        } else {
          try {
            uplink = await HostUplink.open(netRules, mac);
          } catch (e) {
            throw new CliError((e as Error).message);
          }
          for (const [k, p] of uplink.boundPorts().entries()) process.stderr.write(`[xenolith: udp 127.0.0.1:${p} -> guest 10.0.2.15:${netRules[k]!.guestPort}]\n`);
        }
      }
      if (replayed?.diskSha256 !== undefined && (disk === undefined || sha256(disk) !== replayed.diskSha256)) {
        throw new CliError(`--replay ${opts.replay}: the recording ran with a disk (sha256 ${replayed.diskSha256.slice(0, 16)}...); give --disk with the same bytes${disk ? ' (this one differs)' : ''}`);
      }
      if (opts.record !== undefined) {
        const settings: RunSettings = { mode: opts.mode, profile: opts.profile, engine: checked.engine ?? DEFAULT_ENGINE, memoryMiB: memoryBytes / (1024 * 1024), add: opts.add, net: opts.net };
        if (imagePath !== undefined) settings.image = imagePath;
        if (imageSha256 !== undefined) settings.imageSha256 = imageSha256;
        if (opts.cmdline !== undefined) settings.cmdline = opts.cmdline;
        if (checked.mmu !== undefined) settings.mmu = checked.mmu;
        if (checked.shadow !== undefined) settings.shadow = checked.shadow;
        if (opts.btAdaptive) settings.btAdaptive = true;
        if (opts.hosted) settings.hosted = true;
        if (opts.ple) settings.ple = true;
        if (opts.netRx === 'copy' || opts.netRx === 'flip') settings.netRx = opts.netRx;
        if (opts.hypercalls !== undefined) settings.hypercalls = opts.hypercalls;
        if (input !== undefined) settings.input = input;
        if (disk !== undefined) settings.diskSha256 = sha256(disk);
        if ((checked.smp ?? 1) > 1) {
          settings.smp = checked.smp;
          if (checked.smpSeed !== undefined) settings.smpSeed = checked.smpSeed;
          if (checked.smpQuantum !== undefined) settings.smpQuantum = checked.smpQuantum;
          if (checked.pcpus !== undefined) settings.pcpus = checked.pcpus;
          if (opts.spinYield) settings.spinYield = true;
          if (opts.cosched) settings.cosched = true;
        }
        try {
          driving = { kind: 'live', record: { log: new InputLogWriter(opts.record, settings), digest: new OutputDigest() } };
        } catch (e) {
          await uplink?.close();
          throw new CliError((e as Error).message);
        }
      }
      const saveAt = opts.saveAt ? parseSaveAt(opts.saveAt, opts) : undefined;
      const digest = driving.kind === 'replay' ? driving.digest : driving.record?.digest;
      const setup: GuestSetup = { ...opts, netRx: opts.netRx as 'copy' | 'flip' | undefined, engine: checked.engine ?? DEFAULT_ENGINE, mmu: checked.mmu, shadow: checked.shadow, input, memoryBytes, disk, imagePath, table, uplink, ...(station ? { station } : {}), cpus: checked.smp ?? 1, smpSeed: checked.smpSeed, smpQuantum: checked.smpQuantum, pcpus: checked.pcpus };
      if (digest) setup.outputTap = (b) => digest.add(b);
      if (opts.trace !== undefined) setup.traceCapacity = checked.traceRecords ?? DEFAULT_TRACE_RECORDS;
      let ended: RunEnd;
      let guest: BootedGuest;
      try {
        guest = opts.mode === 'native' ? await bootNativeGuest(image, kernelBoot, setup) : await bootUnderHypervisor(opts.mode as VirtualizationMode, image, setup);
        if (saveAt) {
          ended = await runSession(guest.session, { interactive, paced: false, maxCycles: saveAt.cycles, timeoutMs: timeoutS * 1000, driving, ...(uplink ? { uplink } : {}) });
          if (ended === 'max-cycles') {
            writeSave(saveAt.file, opts.mode as SaveMode, guest, savedSetup(opts, setup, imagePath, kernelBoot));
            return;
          }
          if (ended === 'guest') process.stderr.write(`xenolith: --save-at: the guest stopped before cycle ${saveAt.cycles}; nothing saved\n`);
        } else {
          ended = await runSession(guest.session, { interactive, paced: uplink !== undefined && !replayed, maxCycles, timeoutMs: timeoutS * 1000, driving, ...(uplink ? { uplink } : {}) });
        }
      } finally {
        diskFile?.writeBack();
        await uplink?.close();
      }
      if (opts.stats) {
        process.stderr.write(`${guest.stats().join('\n')}\n`);
        if (uplink) for (const [k, v] of Object.entries(uplink.gateway.counters)) process.stderr.write(`net ${k}: ${v}\n`);
      }
      if (opts.engineStats) process.stderr.write(`${guest.engineStats().join('\n')}\n`);
      if (opts.trace !== undefined && guest.trace) writeTrace(opts.trace, guest.trace());
      exitWith(ended, guest.session, { maxCycles, timeoutS }, guest.symbols());
    });
}
