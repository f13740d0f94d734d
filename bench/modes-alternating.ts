// The kernel-heavy workload (the native kernel running `lmbench all REPS`) booted ROUNDS times in
// each of several modes, the modes alternating in one process (their order swapped every round),
// so that every mode sees the same load and the same state of V8 (on this shared 2-core machine,
// processes measured minutes apart differ by more than the modes do). Prints each mode's wall
// time per boot and the median of the second half of its boots (the steady state: bt's compiled
// chains are in the process's memo and optimised by then). Simulated figures are checked equal
// across the boots of a mode.
//
//   node --import tsx/esm bench/modes-alternating.ts [MODES=trap,bt] [ROUNDS=24] [REPS=20] [ENGINE=translator]
//   (REPS 0: `lmbench all` with the program's own counts, compare's timed workload)
import { buildGuestKernel } from '../toolchain/guest-kernel.ts';
import type { Engine } from '../machine/translator.ts';
import { median, warnIfCommonJsHook } from './timing.ts';
import { lmbenchCmdline } from './compare.ts';
import { alternated, timedModeBoot, type BootMode } from './mode-boots.ts';

warnIfCommonJsHook('bench/modes-alternating.ts');

const modes = (process.argv[2] ?? 'trap,bt').split(',') as BootMode[];
const rounds = Number(process.argv[3] ?? 24);
const reps = Number(process.argv[4] ?? 20);
const engine = (process.argv[5] ?? 'translator') as Engine;
if (modes.some((m) => m !== 'trap' && m !== 'bt' && m !== 'hvm') || !(rounds >= 2) || !(reps >= 0) || (engine !== 'translator' && engine !== 'interpreter')) {
  process.stderr.write('usage: node --import tsx/esm bench/modes-alternating.ts [MODES=trap,bt (of trap, bt, hvm)] [ROUNDS>=2] [REPS>=0] [translator|interpreter]\n');
  process.exit(2);
}
const build = buildGuestKernel({ arch: 'native' });
const cmdline = lmbenchCmdline(reps);
const wall = new Map(modes.map((m) => [m, [] as number[]]));
const sim = new Map<string, string>();
for (let i = 0; i < rounds; i++) {
  for (const m of alternated(modes, i)) {
    const r = timedModeBoot(m, build, cmdline, engine);
    wall.get(m)!.push(r.ms);
    const figures = `${r.cycles} ${r.instructions}`;
    if ((sim.get(m) ?? figures) !== figures) throw new Error(`${m}: the boots differ in simulated figures`);
    sim.set(m, figures);
  }
}
process.stdout.write(`${cmdline} on the ${engine}, ${rounds} boots per mode, alternating in one process\n`);
for (const m of modes) {
  const w = wall.get(m)!;
  process.stdout.write(`${m.padEnd(5)} wall ms per boot: ${w.map(Math.round).join(' ')} (median of boots ${Math.floor(rounds / 2) + 1}-${rounds}: ${Math.round(median(w.slice(Math.floor(rounds / 2))))})\n`);
}
