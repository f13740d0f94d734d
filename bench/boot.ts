// Boot benchmark: the standard native guest (kernel + initrd built from guest-kernel/) booted on
// a bare XL32 Machine, from the loader to (1) the shell's first prompt ("$ " from init's sh) and
// (2) power-off after a command line that runs `true` instead of init. Simulated cycles and
// instructions are exact (checked equal across runs); wall-clock time is the median of several
// runs after a warm-up and covers creating the Machine, loading and running (not compiling: the
// build is cached). Each boot releases its machine's memory to the next (Machine.release): a
// fresh buffer's host page faults were most of a boot's wall time; the warm-up boot's time is
// reported apart (bootWarmUpLine). Host code: reads the guest build, touches only Machines it creates.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../machine/translator.ts';
import { Machine } from '../machine/machine.ts';
import { median, nowMs } from './timing.ts';
import { textTable } from './text-table.ts';
import { bootNative } from '../hypervisor/boot/native.ts';
import { buildGuestKernel, type GuestKernelBuild } from '../toolchain/guest-kernel.ts';

/** One boot target's measurements. */
export interface BootBenchRow {
  /** what the boot runs to */
  target: 'shell prompt' | 'true';
  /** the kernel command line ('' = init, which starts sh) */
  cmdline: string;
  /** simulated cycles from the kernel's entry to the target (exact, deterministic) */
  cycles: number;
  /** guest instructions retired on the way (exact) */
  instructions: number;
  /** cycles of those spent halted, waiting for an interrupt */
  idleCycles: number;
  /** the cycles as time at the profile's clock, milliseconds */
  simulatedMs: number;
  /** wall-clock milliseconds, median of `runs` */
  wallMs: number;
  /**
   * wall-clock milliseconds of the warm-up boot before them: for the first target, a process's
   * first boot (fresh host memory to fault in, the interpreter's loop not yet compiled by V8)
   */
  warmUpMs: number;
  runs: number;
}

export interface BootBenchOptions {
  /** the CPU engine (default: the machine's) */
  engine?: Engine;
  /** timed runs per target (default 5), after one warm-up run */
  runs?: number;
  /** cost profile (default the Machine's) */
  profile?: string;
  memoryMiB?: number;
}

const MAX_CYCLES = 2_000_000_000;
const PROMPT = [0x24, 0x20]; // "$ "

interface Target {
  target: BootBenchRow['target'];
  cmdline: string;
  /** stop at the first "$ " on the console (else run to power-off) */
  untilPrompt: boolean;
}

const TARGETS: readonly Target[] = [
  { target: 'shell prompt', cmdline: '', untilPrompt: true },
  { target: 'true', cmdline: 'true', untilPrompt: false },
];

interface OneBoot {
  cycles: number;
  instructions: number;
  idleCycles: number;
  ms: number;
  clockMHz: number;
}

function bootOnce(build: GuestKernelBuild, t: Target, opts: BootBenchOptions): OneBoot {
  const t0 = nowMs();
  let prev = -1;
  let prompted = false;
  const machine: Machine = new Machine({
    memoryBytes: (opts.memoryMiB ?? 32) * 1024 * 1024,
    ...(opts.profile !== undefined ? { profile: opts.profile } : {}),
    ...(opts.engine !== undefined ? { engine: opts.engine } : {}),
    onOutput: (b) => {
      if (t.untilPrompt && !prompted && prev === PROMPT[0] && b === PROMPT[1]) {
        prompted = true;
        machine.stop();
      }
      prev = b;
    },
  });
  bootNative(machine, { kernel: build.kernel, initrd: build.initrd, cmdline: t.cmdline });
  const result = machine.run({ maxCycles: MAX_CYCLES });
  const ms = nowMs() - t0;
  const reached = t.untilPrompt ? prompted && result.reason === 'stopped' : result.reason === 'poweroff' && result.status === 0;
  if (!reached) {
    const tail = machine.consoleOutput().slice(-300);
    throw new Error(`boot benchmark "${t.target}": the guest stopped with ${result.reason} (status ${result.status}) before reaching its target; console ends:\n${tail}`);
  }
  const clockMHz = machine.profile.clockMHz;
  machine.release(); // its memory, already mapped by the host, serves the next boot
  return { cycles: result.cycles, instructions: result.instructions, idleCycles: result.idleCycles, ms, clockMHz };
}

/** Boot the standard native guest to each target; throws if a boot misses it or is not deterministic. */
export function runBootBench(opts: BootBenchOptions = {}): BootBenchRow[] {
  const runs = opts.runs ?? 5;
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`runBootBench: runs must be a positive integer, got ${runs}`);
  const build = buildGuestKernel({ arch: 'native' });
  return TARGETS.map((t) => {
    const warmUp = bootOnce(build, t, opts); // warm-up: the JavaScript engine settles
    const boots = Array.from({ length: runs }, () => bootOnce(build, t, opts));
    const first = boots[0]!;
    for (const b of boots) {
      if (b.cycles !== first.cycles || b.instructions !== first.instructions) {
        throw new Error(`boot benchmark "${t.target}" is not deterministic: ${first.cycles} vs ${b.cycles} cycles`);
      }
    }
    return {
      target: t.target,
      cmdline: t.cmdline,
      cycles: first.cycles,
      instructions: first.instructions,
      idleCycles: first.idleCycles,
      simulatedMs: first.cycles / (first.clockMHz * 1000),
      wallMs: median(boots.map((b) => b.ms)),
      warmUpMs: warmUp.ms,
      runs,
    };
  });
}

/** The warm-up boots' wall times, one line (printed under the table). */
export function bootWarmUpLine(rows: readonly BootBenchRow[]): string {
  return `warm-up boot before the timed runs (the first: fresh host memory, V8 not yet settled): ${rows.map((r) => `${r.target} ${r.warmUpMs.toFixed(1)} ms`).join(', ')}`;
}

/** The rows as a text table (like compilerTable). */
export function bootTable(rows: readonly BootBenchRow[]): string {
  return textTable(
    ['boot to', 'cmdline', 'sim. cycles', 'instructions', 'idle cycles', 'sim. ms', 'wall ms', 'wall: median of'],
    rows.map((r) => [r.target, r.cmdline === '' ? '(init)' : r.cmdline, r.cycles, r.instructions, r.idleCycles, r.simulatedMs.toFixed(2), r.wallMs.toFixed(1), `${r.runs} runs`]),
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'left'],
  );
}

/** One command of the command-line start benchmark: a process of its own, timed from outside. */
export interface CommandStartRow {
  /** what was run, as a user types it */
  command: string;
  /** wall-clock milliseconds from spawning the process to its exit, median of `runs` */
  wallMs: number;
  /** the warm-up run's (the first: files not yet in the host's page cache, tsx's cache perhaps cold) */
  warmUpMs: number;
  runs: number;
}

const BIN = fileURLToPath(new URL('../bin/xenolith.mjs', import.meta.url));

/**
 * What a user waits for at the shell: `node -e 0` (the baseline: the runtime starting and
 * stopping alone), `xenolith --version` (the command's own start: its modules loaded, nothing
 * run) and `xenolith run --cmdline true` (that, the guest build taken from the cache, a boot to
 * power-off), each a process of its own, the three in turn run by run so a load spike does not
 * fall on one of them alone, after a warm-up round. Throws if a command fails.
 */
export function runCommandStartBench(opts: { runs?: number; engine?: Engine } = {}): CommandStartRow[] {
  const runs = opts.runs ?? 5;
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`runCommandStartBench: runs must be a positive integer, got ${runs}`);
  const engine = opts.engine !== undefined ? ['--engine', opts.engine] : [];
  const commands: Array<{ command: string; args: string[] }> = [
    { command: 'node -e 0', args: ['-e', '0'] },
    { command: 'xenolith --version', args: [BIN, '--version'] },
    { command: `xenolith run --cmdline true${engine.length > 0 ? ` --engine ${opts.engine}` : ''}`, args: [BIN, 'run', '--cmdline', 'true', ...engine] },
  ];
  const times = commands.map(() => [] as number[]);
  for (let i = 0; i <= runs; i++) {
    commands.forEach((c, k) => {
      const t0 = nowMs();
      const r = spawnSync(process.execPath, c.args, { encoding: 'utf8', input: '' });
      const ms = nowMs() - t0;
      if (r.status !== 0) throw new Error(`command start benchmark: \`${c.command}\` exited with ${r.status ?? r.signal}: ${r.stderr.trim().slice(-300)}`);
      times[k]!.push(ms);
    });
  }
  return commands.map((c, k) => ({ command: c.command, wallMs: median(times[k]!.slice(1)), warmUpMs: times[k]![0]!, runs }));
}

/** The command-start rows as a text table. */
export function commandStartTable(rows: readonly CommandStartRow[]): string {
  return textTable(
    ['command', 'wall ms', 'warm-up ms', 'wall: median of'],
    rows.map((r) => [r.command, r.wallMs.toFixed(0), r.warmUpMs.toFixed(0), `${r.runs} runs`]),
    ['left', 'right', 'right', 'left'],
  );
}
