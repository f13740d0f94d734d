// `xenolith demo` (what `npm start` runs): boot the sample paravirtualized guest and show its
// console running a few programs, then a short comparison of native, trap-and-emulate, binary
// translation, hardware assist and paravirtualization on the same kernel. `--bare` boots the bare-metal assembly demo instead.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { assemble } from '../../toolchain/asm/index.ts';
import { Machine } from '../../machine/machine.ts';
import { CliError } from '../errors.ts';
import { DEFAULT_COMPARE_RUNS, engineOption, PROFILE_OPTION, engineSchema, parseOptions } from '../options.ts';
import type { Engine } from '../../machine/translator.ts';
import { z } from 'zod';
import { MODE_NAMES } from '../../hypervisor/modes.ts';

const BARE_DEMO = new URL('../../examples/bare-metal/demo.s', import.meta.url);
/** What the demo types at the pv guest's shell. */
export const DEMO_SESSION = ['echo hello from a paravirtualized guest', 'ps', 'usertests getpid cow pipe critical-rdcpl', 'lmbench null 200', 'exit'];

function say(text: string): void {
  process.stdout.write(text);
}

function bareDemo(profile: string, engine: Engine): void {
  const { image } = assemble(readFileSync(BARE_DEMO, 'utf8'), 'examples/bare-metal/demo.s');
  say(`== xenolith: booting examples/bare-metal/demo.s on bare XL32 (profile ${profile}) ==\n`);
  const machine = new Machine({ profile, engine, onOutput: (b: number) => process.stdout.write(Buffer.of(b)) });
  machine.loadImage(image);
  const result = machine.run({ maxCycles: 100_000_000 });
  say(
    `== machine stopped: ${result.reason}${result.reason === 'poweroff' ? ` with status ${result.status}` : ''}; ` +
      `${machine.cpu.instructions} instructions, ${machine.cpu.cycles} simulated cycles ==\n`,
  );
}

/** Part 1 of the demo: the pv guest's console running DEMO_SESSION, then its statistics. */
export async function demoPvSession(profile: string, engine?: Engine): Promise<void> {
  say('== xenolith demo 1/2: the xenolith kernel built with --arch pv, as a paravirtualized domain ==\n');
  say('   (building the guest kernels on first use takes a few seconds)\n\n');
  const { standardGuest } = await import('../guest.ts');
  const { runPvMode } = await import('../../hypervisor/index.ts');
  const { formatPvStatsTable } = await import('../pv-stats.ts');
  const guest = standardGuest('pv');
  const r = runPvMode(guest.kernel, {
    initrd: guest.initrd,
    input: `${DEMO_SESSION.join('\n')}\n`,
    profile,
    ...(engine !== undefined ? { engine } : {}),
    maxCycles: 20_000_000_000,
    onOutput: (b: number) => process.stdout.write(Buffer.of(b)),
  });
  say(`\n== the domain stopped: ${r.reason}, status ${r.status}; ${r.cycles} simulated cycles ==\n`);
  say(`${formatPvStatsTable(r.mode, r.domain)}\n`);
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('boot the sample pv guest, run a few programs, then compare native, trap, bt, hvm and pv (what npm start runs)')
    .option(...PROFILE_OPTION)
    .addOption(engineOption())
    .option('--bare', 'boot the bare-metal assembly demo instead')
    .action(async (opts: { profile: string; engine: string; bare?: boolean }) => {
      const engine = parseOptions(z.object({ engine: engineSchema }), { engine: opts.engine }).engine;
      const { getProfile } = await import('../../machine/costs.ts');
      try {
        getProfile(opts.profile);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      if (opts.bare) return bareDemo(opts.profile, engine);

      await demoPvSession(opts.profile, engine);

      say('\n== xenolith demo 2/2: the same kernel and workloads natively, under trap-and-emulate, binary translation, hardware assist and pv ==\n\n');
      const { runCompare } = await import('../../bench/compare.ts');
      const { renderText } = await import('../../bench/compare-render.ts');
      const report = runCompare({ modes: [...MODE_NAMES], profile: opts.profile, engine, runs: DEFAULT_COMPARE_RUNS, maxCycles: 50_000_000_000 });
      say(renderText(report));
      say('\nNext: npx xenolith run (a shell in the native guest), npx xenolith run --mode pv --stats,\n      npx xenolith compare --html report.html, npx xenolith demo --bare\n');
    });
}
