// `xenolith run [IMAGE] --mode native`: boot the standard guest (kernel + initrd built from
// guest-kernel/), or an image file, on XL32; show its console; exit with the guest's status.
// Console input comes from --input (then end of input), piped stdin, or the terminal.
import { Ev } from '../../machine/ledger.ts';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Machine } from '../../machine/machine.ts';
import { ARCH_NAMES, ImageArch, type Image } from '../../machine/image.ts';
import { bootNative, BootError, symbolizeBacktrace } from '../../hypervisor/boot/native.ts';
import { CliError } from '../errors.ts';
import { consoleWriter } from '../console.ts';
import { ENGINE_OPTION, PROFILE_OPTION, parseOptions, runOptionsSchema } from '../options.ts';
import { DEFAULT_ENGINE, type Engine } from '../../machine/translator.ts';
import { MODE_NAMES, type VirtualizationMode } from '../../hypervisor/modes.ts';
import { CONSOLE_EOF, isKernelImage, readImageFile, readInputFile } from '../image-files.ts';
import { openDisk } from '../disk.ts';
import { loadHypercallTable } from '../hypercalls.ts';
import { drive, machineSession, domainSession, type DomainSession, type GuestSession, type RunEnd } from '../session.ts';
import type { PvMode } from '../../hypervisor/index.ts';
import { formatPvStatsTable } from '../pv-stats.ts';
import { attachTerminalKeys } from '../terminal.ts';
import { writeFileSync } from 'node:fs';
import { DEFAULT_TRACE_RECORDS, TraceBuffer, toChromeTrace, type ChromeTrace } from '../../hypervisor/core/trace.ts';
import { netSchema } from '../options.ts';
import type { HostUplink } from '../../hypervisor/net/uplink.ts';

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
  trace?: string;
  traceRecords?: string;
  add: string[];
  cmdline?: string;
  mmu?: string;
  net: string[];
  hosted?: boolean;
  smp?: string;
  smpSeed?: string;
  smpQuantum?: string;
}

/** Drive the session to its end, with the terminal attached when interactive. */
async function runSession(session: GuestSession, o: { interactive: boolean; paced: boolean; maxCycles: number; timeoutMs: number }): Promise<RunEnd> {
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
  /** --trace: the trace buffer's capacity in records (undefined: no trace) */
  traceCapacity?: number;
  /** --hosted (trap, bt, hvm): every I/O exit also pays a world switch to the host */
  hosted?: boolean;
  /** --hypercalls: the pv hypercall table with the handler module's hypercalls */
  table?: import('../../hypervisor/index.ts').HypercallTable;
  /** --net: the host uplink the guest's NIC is joined to */
  uplink?: HostUplink;
  /** --smp, --smp-seed, --smp-quantum (native) */
  cpus: number;
  smpSeed?: number;
  smpQuantum?: number;
}

/** A booted guest: the session that runs it, its symbols, and its statistics when it is over. */
interface BootedGuest {
  session: GuestSession;
  symbols: () => Image['symbols'];
  stats: () => string[];
  /** the run's trace (--trace), in the Chrome Trace Event format */
  trace?: () => ChromeTrace;
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
    onOutput: consoleWriter(symbols, undefined, images),
    ...(o.mmu !== undefined ? { hvm: { mmu: o.mmu } } : {}),
    ...(o.uplink ? { onTransmit: o.uplink.onTransmit } : {}),
    ...(o.hosted ? { hosted: true } : {}),
  };
  if (o.table) opts.table = o.table;
  let session: DomainSession;
  let pvMode: PvMode | undefined;
  try {
    if (mode === 'pv') {
      const r = runPvMode(kernel!, opts);
      pvMode = r.mode;
      session = domainSession(r.hypervisor, r.domain, r.mode);
    } else {
      const r = runImageInMode(mode, kernel!, opts);
      session = domainSession(r.hypervisor, r.domain);
    }
  } catch (e) {
    if (isGuestSetupError(e)) throw new CliError(`${o.imagePath ?? 'guest kernel'}: ${(e as Error).message}`);
    throw e;
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
    const devices = session.result().domain.devices;
    if (!devices) throw new CliError(`--net: a ${mode} domain has no emulated NIC (pv's netfront is not written yet)`);
    o.uplink.attach({ nic: devices.nic, now: () => devices.now(), schedule: (at, fn) => devices.schedule(at, fn) });
  }
  const stats = () => {
    const end = session.result();
    const lines = [`mode: ${mode}`, `profile: ${o.profile}`, `stopped: ${end.reason}`, `cycles: ${end.cycles}`, `instructions: ${end.instructions}`, `idle cycles: ${end.idleCycles}`];
    if (pvMode) lines.push(formatPvStatsTable(pvMode, end.domain));
    else if (mode === 'hvm') lines.push(formatHvmStats(end.domain));
    else if (mode === 'bt') lines.push(formatBtStats(end.domain));
    else for (const [k, v] of Object.entries(end.domain.stats.summary())) lines.push(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
    return lines;
  };
  return trace ? { session, symbols, stats, trace } : { session, symbols, stats };
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
    machine = new Machine({ memoryBytes: o.memoryBytes, profile: o.profile, engine: o.engine, disk: o.disk, input: o.input, onOutput: consoleWriter(() => symbols, undefined, images), onTransmit: o.uplink?.onTransmit, cpus: o.cpus, schedule });
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
    const s = machine.cpu.stats as unknown as Record<string, number>;
    const end = session.end();
    const lines = [`mode: ${o.mode}`, `profile: ${o.profile}`, `stopped: ${end.reason}`, `cycles: ${machine.cpu.cycles}`, `instructions: ${machine.cpu.instructions}`, `idle cycles: ${machine.idleCycles}`];
    for (const [k, v] of Object.entries(s)) if (typeof v === 'number') lines.push(`${k}: ${v}`);
    if (machine.cpus.length > 1) {
      lines.push(`cpus: ${machine.cpus.length} (schedule slices: ${machine.slices}, IPIs sent: ${machine.lapicPorts!.ipisSent})`);
      machine.cpus.forEach((c, n) => lines.push(`cpu ${n}: cycles ${c.cycles}, instructions ${c.instructions}, idle cycles ${c.evCount[Ev.Idle]}, interrupts ${c.stats.interrupts}, IPIs received ${machine.apics[n]!.ipisReceived}`));
    }
    return lines;
  };
  return { session, symbols: () => symbols, stats };
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
    .option(...ENGINE_OPTION)
    .option('--memory <MiB>', 'physical memory in MiB', '32')
    .option('--disk <file>', "a file to back the block device; the guest's writes are written back to it when the run ends")
    .option('--snapshot', "with --disk: the guest's writes go to a temporary in-memory overlay and the file is left untouched (QEMU's -snapshot)")
    .option('--hypercalls <handler.ts>', 'with --mode pv: register the hypercalls of a handler module (docs/hypercalls.md, "Adding a hypercall")')
    .option('--stats', 'print cycle, instruction and exit statistics to stderr when the guest stops')
    .option('--trace <file>', 'write a timeline of the run (exits, traps, hypercalls, event-channel notifications, interrupts, scheduler switches, with simulated timestamps) to FILE in the Chrome Trace Event format (Perfetto, chrome://tracing); hypervisor modes only')
    .option('--trace-records <n>', `with --trace: the trace buffer's size in records; later records are dropped and counted (default ${DEFAULT_TRACE_RECORDS})`)
    .option('--net <spec>', "a network for the guest's NIC: QEMU's user-mode network (guest 10.0.2.15, gateway 10.0.2.2 answering ARP and ping) with host forwards hostfwd=udp:127.0.0.1:HOSTPORT-:GUESTPORT, comma-separated or repeated; host port 0 takes a free one (the bound port is printed on stderr). Listens on the loopback address only; native, trap, bt and hvm (docs/network.md)", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--mmu <kind>', "with --mode hvm: shadow (shadow page tables, first-generation VT-x) or ept (a second stage); default: ept if the profile's CPU has it, else shadow")
    .option('--smp <n>', 'CPUs in the machine, 1..8 (default 1); several only with --mode native so far (docs/isa.md "Multiprocessor")')
    .option('--smp-seed <n>', 'with --smp: the seed of the CPUs\' interleaving schedule (default 1); the same seed gives the same run')
    .option('--smp-quantum <cycles>', 'with --smp: the longest slice a CPU runs before the schedule switches (default 2000)')
    .option('--hosted', "with --mode trap, bt or hvm: a hosted monitor (VMware Workstation's shape): every I/O exit also pays a world switch to the host, where the device model runs (the profile's hostedWorldSwitch)")
    .action(async (imagePath: string | undefined, opts: RunOptions) => {
      const checked = parseOptions(runOptionsSchema, { mode: opts.mode, engine: opts.engine, profile: opts.profile, memory: opts.memory, maxCycles: opts.maxCycles, timeout: opts.timeout, mmu: opts.mmu, traceRecords: opts.traceRecords, smp: opts.smp, smpSeed: opts.smpSeed, smpQuantum: opts.smpQuantum });
      if ((checked.smp ?? 1) > 1 && opts.mode !== 'native') throw new CliError(`--smp ${checked.smp}: only --mode native runs several CPUs so far (trap, bt, hvm and pv domains have one vCPU)`);
      if ((checked.smp ?? 1) === 1 && (checked.smpSeed !== undefined || checked.smpQuantum !== undefined)) throw new CliError('--smp-seed and --smp-quantum shape the interleaving of several CPUs; they need --smp 2 or more');
      if (opts.trace !== undefined && opts.mode === 'native') throw new CliError("--trace records the hypervisor's events (exits, traps, hypercalls ...); native mode has no hypervisor: use --mode trap, bt, hvm or pv");
      if (opts.traceRecords !== undefined && opts.trace === undefined) throw new CliError('--trace-records sizes the --trace buffer; there is no --trace FILE');
      if (opts.mmu !== undefined && opts.mode !== 'hvm') throw new CliError(`--mmu chooses hvm's translation; it needs --mode hvm (not ${opts.mode})`);
      if (opts.hosted && (opts.mode === 'native' || opts.mode === 'pv')) throw new CliError(`--hosted charges a world switch per I/O exit; it needs --mode trap, bt or hvm (not ${opts.mode})`);
      const memoryBytes = checked.memory;
      if (opts.snapshot && !opts.disk) throw new CliError('--snapshot applies to a --disk file; there is none');
      if (opts.hypercalls && opts.mode !== 'pv') throw new CliError(`--hypercalls adds hypercalls to the pv interface; it needs --mode pv (not ${opts.mode})`);
      const diskFile = opts.disk ? openDisk(opts.disk, opts.snapshot === true) : undefined;
      const disk = diskFile?.bytes;
      const table = opts.hypercalls ? await loadHypercallTable(opts.hypercalls) : undefined;

      const image = imagePath ? await loadImage(imagePath, opts.mode === 'pv' ? 'pv' : 'native') : undefined;
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
      const interactive = opts.input === undefined && process.stdin.isTTY === true;
      let input = opts.input?.replace(/\\n/g, '\n');
      if (input === undefined && !interactive) {
        try {
          input = readFileSync(0, 'latin1');
        } catch {
          input = '';
        }
      }
      if (input !== undefined && kernelBoot) input += (input.length > 0 && !input.endsWith('\n') ? '\n' : '') + CONSOLE_EOF;
      const maxCycles = checked.maxCycles ?? (interactive ? Number.MAX_SAFE_INTEGER : DEFAULT_MAX_CYCLES);
      const timeoutS = checked.timeout ?? (interactive ? Infinity : DEFAULT_INPUT_TIMEOUT_S);

      const netRules = parseOptions(netSchema, opts.net);
      if (opts.net.length > 0 && opts.mode === 'pv') throw new CliError('--net: pv guests have no NIC yet (netfront/netback is not written); use native, trap, bt or hvm');
      let uplink: HostUplink | undefined;
      if (opts.net.length > 0) {
        const { HostUplink } = await import('../../hypervisor/net/uplink.ts');
        const { NIC_DEFAULT_MAC, macToBytes } = await import('../../machine/devices/nic.ts');
        const mac = macToBytes(NIC_DEFAULT_MAC);
        try {
          uplink = await HostUplink.open(netRules, mac);
        } catch (e) {
          throw new CliError((e as Error).message);
        }
        for (const [k, p] of uplink.boundPorts().entries()) process.stderr.write(`[xenolith: udp 127.0.0.1:${p} -> guest 10.0.2.15:${netRules[k]!.guestPort}]\n`);
      }
      const setup: GuestSetup = { ...opts, engine: checked.engine ?? DEFAULT_ENGINE, mmu: checked.mmu, input, memoryBytes, disk, imagePath, table, uplink, cpus: checked.smp ?? 1, smpSeed: checked.smpSeed, smpQuantum: checked.smpQuantum };
      if (opts.trace !== undefined) setup.traceCapacity = checked.traceRecords ?? DEFAULT_TRACE_RECORDS;
      let ended: RunEnd;
      let guest: BootedGuest;
      try {
        guest = opts.mode === 'native' ? await bootNativeGuest(image, kernelBoot, setup) : await bootUnderHypervisor(opts.mode as VirtualizationMode, image, setup);
        ended = await runSession(guest.session, { interactive, paced: uplink !== undefined, maxCycles, timeoutMs: timeoutS * 1000 });
      } finally {
        diskFile?.writeBack();
        await uplink?.close();
      }
      if (opts.stats) {
        process.stderr.write(`${guest.stats().join('\n')}\n`);
        if (uplink) for (const [k, v] of Object.entries(uplink.gateway.counters)) process.stderr.write(`net ${k}: ${v}\n`);
      }
      if (opts.trace !== undefined && guest.trace) {
        const t = guest.trace();
        try {
          writeFileSync(opts.trace, `${JSON.stringify(t)}\n`);
        } catch (e) {
          throw new CliError(`--trace ${opts.trace}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
        }
        const o = t.otherData;
        process.stderr.write(`xenolith: trace: ${o.records} records${o.dropped > 0 ? `, ${o.dropped} dropped (the buffer holds ${o.capacity}; --trace-records sets it)` : ''} written to ${opts.trace}\n`);
      }
      exitWith(ended, guest.session, { maxCycles, timeoutS }, guest.symbols());
    });
}
