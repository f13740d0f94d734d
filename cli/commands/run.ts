// `xenolith run [IMAGE] --mode native`: boot the standard guest (kernel + initrd built from
// guest-kernel/), or an image file, on XL32; show its console; exit with the guest's status.
// Console input comes from --input (then end of input), piped stdin, or the terminal.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Machine, type RunResult } from '../../machine/machine.ts';
import { ARCH_NAMES, ImageArch, type Image } from '../../machine/image.ts';
import { bootNative, BootError, symbolizeBacktrace } from '../../hypervisor/boot/native.ts';
import { CliError } from '../errors.ts';
import { consoleWriter } from '../console.ts';
import { MODES, PROFILE_OPTION, parseOptions, runOptionsSchema } from '../options.ts';
import { CONSOLE_EOF, isKernelImage, readImageFile, readInputFile } from '../image-files.ts';
import { openDisk } from '../disk.ts';
import { loadHypercallTable } from '../hypercalls.ts';

/** An image file, or a guest program's entry module (.ts) compiled as a kernel for `arch`. */
async function loadImage(path: string, arch: 'native' | 'pv'): Promise<Image> {
  if (!path.endsWith('.ts')) return readImageFile(path);
  readInputFile(path);
  const { compileKernel } = await import('../guest.ts');
  return compileKernel(path, arch);
}


/** Exit codes when the guest did not power off by itself. */
export const EXIT_CYCLE_LIMIT = 124;
export const EXIT_GUEST_DEAD = 125;

interface RunOptions {
  mode: string;
  input?: string;
  maxCycles?: string;
  profile: string;
  memory: string;
  disk?: string;
  snapshot?: boolean;
  hypercalls?: string;
  stats?: boolean;
  add: string[];
  cmdline?: string;
  mmu?: string;
}


/** Feed the terminal's keystrokes to the guest console; Ctrl-] leaves. Returns a cleanup function. */
function attachTerminal(machine: Machine, onQuit: () => void): () => void {
  const stdin = process.stdin;
  stdin.setRawMode?.(true);
  stdin.resume();
  const onData = (chunk: Buffer) => {
    for (const b of chunk) {
      if (b === 0x1d) return onQuit(); // Ctrl-]
      machine.feedInput(Uint8Array.of(b === 0x0d ? 0x0a : b === 0x7f ? 0x08 : b));
    }
  };
  stdin.on('data', onData);
  return () => {
    stdin.off('data', onData);
    stdin.setRawMode?.(false);
    stdin.pause();
  };
}

/**
 * Run with the terminal attached. Simulated time is paced to wall-clock time while the guest
 * idles (so `sleep 1` in the guest takes about a second and an idle shell costs no host CPU);
 * busy stretches run as fast as the interpreter goes.
 */
async function runInteractive(machine: Machine, maxCycles: number): Promise<RunResult> {
  let quit = false;
  process.stderr.write('[xenolith: console attached; Ctrl-] to leave]\n');
  const detach = attachTerminal(machine, () => {
    quit = true;
    machine.stop();
  });
  const cyclesPerMs = machine.profile.clockMHz * 1000;
  const sliceCycles = Math.round(cyclesPerMs * 10);
  const wall0 = performance.now();
  const start = machine.cpu.cycles;
  try {
    for (;;) {
      const left = maxCycles - (machine.cpu.cycles - start);
      const result = machine.run({ maxCycles: Math.min(left, sliceCycles) });
      if (quit || result.reason !== 'limit' || left <= sliceCycles) return result;
      const aheadMs = (machine.cpu.cycles - start) / cyclesPerMs - (performance.now() - wall0);
      const mostlyIdle = result.idleCycles * 2 > result.cycles;
      // Let keystrokes in; wait for wall time to catch up when the guest is only idling.
      await new Promise((r) => (mostlyIdle && aheadMs > 1 ? setTimeout(r, Math.min(aheadMs, 50)) : setImmediate(r)));
    }
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

/** Modes that run the guest in a domain of the hypervisor (hypervisor/). */
export const HYPERVISOR_MODES = ['trap', 'bt', 'hvm', 'pv'] as const;

interface HvRun {
  input?: string;
  maxCycles: number;
  memoryBytes: number;
  disk?: Uint8Array;
  imagePath?: string;
  profile: string;
  add: string[];
  cmdline?: string;
  stats?: boolean;
  mode: string;
  /** --mmu (hvm) */
  mmu?: 'shadow' | 'ept';
  /** --hypercalls: the pv hypercall table with the handler module's hypercalls */
  table?: import('../../hypervisor/index.ts').HypercallTable;
}

/** Boot the guest in a hypervisor domain, as `run` does natively; same output and exit codes. */
async function runUnderHypervisor(mode: (typeof HYPERVISOR_MODES)[number], image: Image | undefined, o: HvRun): Promise<void> {
  const { runImageInMode, runPvMode, formatPvStats, formatHvmStats, formatBtStats } = await import('../../hypervisor/index.ts');
  let kernel = image;
  let initrd: Uint8Array | undefined;
  if (!image || isKernelImage(image)) {
    const { standardGuest } = await import('../guest.ts');
    // trap, bt and hvm run the unmodified native kernel; pv the same kernel built against hypercalls/.
    const guest = standardGuest(mode === 'pv' ? 'pv' : 'native', o.add);
    kernel = image ?? guest.kernel;
    initrd = guest.initrd;
  }
  let r;
  try {
    const run = o.table ? (k: Image, opts: Parameters<typeof runPvMode>[1]) => runPvMode(k, { ...opts, table: o.table }) : (k: Image, opts: Parameters<typeof runPvMode>[1]) => runImageInMode(mode, k, opts);
    r = run(kernel!, {
      memoryBytes: o.memoryBytes,
      profile: o.profile,
      maxCycles: o.maxCycles,
      input: o.input,
      disk: o.disk,
      initrd,
      cmdline: o.cmdline,
      onOutput: consoleWriter(() => kernel?.symbols ?? []),
      ...(o.mmu !== undefined ? { hvm: { mmu: o.mmu } } : {}),
    });
  } catch (e) {
    if (isGuestSetupError(e)) throw new CliError(`${o.imagePath ?? 'guest kernel'}: ${(e as Error).message}`);
    throw e;
  }
  if (o.stats) {
    const lines = [`mode: ${mode}`, `profile: ${o.profile}`, `stopped: ${r.reason}`, `cycles: ${r.cycles}`, `instructions: ${r.instructions}`, `idle cycles: ${r.idleCycles}`];
    if (mode === 'pv' && 'mode' in r && r.mode && typeof r.mode === 'object') lines.push(formatPvStats(r.mode as Parameters<typeof formatPvStats>[0], r.domain));
    else if (mode === 'hvm') lines.push(formatHvmStats(r.domain));
    else if (mode === 'bt') lines.push(formatBtStats(r.domain));
    else for (const [k, v] of Object.entries(r.domain.stats.summary())) lines.push(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
    process.stderr.write(`${lines.join('\n')}\n`);
  }
  exitWith(r.reason, r.status, o.maxCycles, r.detail, kernel?.symbols ?? []);
}

function exitWith(reason: string, status: number, maxCycles: number, detail: string | undefined, symbols: Image['symbols']): void {
  switch (reason) {
    case 'poweroff':
      process.exitCode = status & 0xff;
      return;
    case 'limit':
      process.stderr.write(`xenolith: the guest was still running after ${maxCycles} cycles\n`);
      process.exitCode = EXIT_CYCLE_LIMIT;
      return;
    case 'stopped':
      process.exitCode = 0;
      return;
    default:
      process.stderr.write(`xenolith: the machine stopped: ${reason}${detail ? ` (${symbolizeBacktrace(detail, symbols)})` : ''}\n`);
      process.exitCode = EXIT_GUEST_DEAD;
  }
}

export function register(program: Command): void {
  program
    .command('run')
    .description('boot the xenolith guest (or an image) and show its console; exits with the guest\'s status. At a terminal (native) you type into the guest\'s shell (Ctrl-] leaves); --input or piped stdin feed the console instead')
    .argument('[image]', 'an image file (from xenolith asm or compile), or a kernel\'s entry module (.ts, compiled for the mode\'s arch); default: the standard guest kernel and initrd')
    .option('--mode <mode>', `virtualization mode: ${MODES.join(', ')}`, 'native')
    .option('--input <text>', 'console input, as if typed, followed by end of input (\\n is Enter)')
    .option('--add <prog.ts>', 'compile a user program into the initrd (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--cmdline <text>', 'the first process and its arguments (default: init, which runs the shell)')
    .option('--max-cycles <n>', 'stop after this many simulated cycles (default 1e11; unlimited at a terminal)')
    .option(...PROFILE_OPTION)
    .option('--memory <MiB>', 'physical memory in MiB', '32')
    .option('--disk <file>', "a file to back the block device; the guest's writes are written back to it when the run ends")
    .option('--snapshot', "with --disk: the guest's writes go to a temporary in-memory overlay and the file is left untouched (QEMU's -snapshot)")
    .option('--hypercalls <handler.ts>', 'with --mode pv: register the hypercalls of a handler module (docs/hypercalls.md, "Adding a hypercall")')
    .option('--stats', 'print cycle, instruction and exit statistics to stderr when the guest stops')
    .option('--mmu <kind>', "with --mode hvm: shadow (shadow page tables, first-generation VT-x) or ept (a second stage); default: ept if the profile's CPU has it, else shadow")
    .action(async (imagePath: string | undefined, opts: RunOptions) => {
      const checked = parseOptions(runOptionsSchema, { mode: opts.mode, profile: opts.profile, memory: opts.memory, maxCycles: opts.maxCycles, mmu: opts.mmu });
      if (opts.mmu !== undefined && opts.mode !== 'hvm') throw new CliError(`--mmu chooses hvm's translation; it needs --mode hvm (not ${opts.mode})`);
      if (!(HYPERVISOR_MODES as readonly string[]).includes(opts.mode) && opts.mode !== 'native') {
        throw new CliError(`mode "${opts.mode}" is not available yet (this build has native, ${HYPERVISOR_MODES.join(', ')})`);
      }
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
      if (interactive && opts.mode !== 'native') {
        throw new CliError(`--mode ${opts.mode} takes console input from --input or piped stdin; the interactive console is native-only for now`);
      }
      let input = opts.input?.replace(/\\n/g, '\n');
      if (input === undefined && !interactive) {
        try {
          input = readFileSync(0, 'latin1');
        } catch {
          input = '';
        }
      }
      if (input !== undefined && kernelBoot) input += (input.length > 0 && !input.endsWith('\n') ? '\n' : '') + CONSOLE_EOF;
      const maxCycles = checked.maxCycles ?? (interactive ? Number.MAX_SAFE_INTEGER : 100_000_000_000);

      if (opts.mode !== 'native') {
        try {
          await runUnderHypervisor(opts.mode as (typeof HYPERVISOR_MODES)[number], image, { ...opts, mmu: checked.mmu, input, maxCycles, memoryBytes, disk, imagePath, table });
        } finally {
          diskFile?.writeBack();
        }
        return;
      }
      let machine: Machine;
      let symbols = image?.symbols ?? [];
      try {
        machine = new Machine({
          memoryBytes,
          profile: opts.profile,
          disk,
          input,
          onOutput: consoleWriter(() => symbols),
        });
        if (kernelBoot) {
          // Loaded on use: building the standard guest needs the compiler (and TypeScript).
          const { standardGuest } = await import('../guest.ts');
          const guest = image ? { kernel: image, initrd: standardGuest('native', opts.add).initrd } : standardGuest('native', opts.add);
          symbols = guest.kernel.symbols;
          bootNative(machine, { kernel: guest.kernel, initrd: guest.initrd, cmdline: opts.cmdline });
        } else {
          machine.loadImage(image!);
        }
      } catch (e) {
        if (isGuestSetupError(e)) throw new CliError(`${imagePath ?? 'guest kernel'}: ${(e as Error).message}`);
        throw e;
      }
      let result: RunResult;
      try {
        result = interactive ? await runInteractive(machine, maxCycles) : machine.run({ maxCycles });
      } finally {
        diskFile?.writeBack();
      }
      if (opts.stats) {
        const s = machine.cpu.stats as unknown as Record<string, number>;
        const lines = [`mode: ${opts.mode}`, `profile: ${opts.profile}`, `stopped: ${result.reason}`, `cycles: ${machine.cpu.cycles}`, `instructions: ${machine.cpu.instructions}`, `idle cycles: ${machine.idleCycles}`];
        for (const [k, v] of Object.entries(s)) if (typeof v === 'number') lines.push(`${k}: ${v}`);
        process.stderr.write(`${lines.join('\n')}\n`);
      }
      exitWith(result.reason, result.status, maxCycles, result.detail, symbols);
    });
}
