// Where each technique spends its wall time, test by test: every lmbench test alone (its own
// count, as `lmbench all` runs it) booted ROUNDS times in each mode, the modes and the tests
// alternating in one process (the order swapped every round), so that all see the same load and
// the same state of V8 (bt's compiled chains are shared by the process: a test's later boots find
// them compiled and optimised). A boot that runs `lmbench null 1` is the baseline: a test's net
// figure is its boot's wall time less the baseline's (medians of the second half of the rounds),
// the test's own share of `lmbench all`. Simulated figures (cycles, instructions) are per boot and
// checked equal across the rounds of a mode and test.
//
//   node --import tsx/esm bench/modes-by-test.ts [MODES=trap,bt] [ROUNDS=12] [TESTS=null,fork,exec,ctx,pipe,pagefault,sbrk] [ENGINE=translator]
import { buildGuestKernel } from '../toolchain/guest-kernel.ts';
import type { Engine } from '../machine/translator.ts';
import { median, warnIfCommonJsHook } from './timing.ts';
import { textTable } from './text-table.ts';
import { alternated, timedModeBoot, type BootMode } from './mode-boots.ts';

warnIfCommonJsHook('bench/modes-by-test.ts');

const ALL_TESTS = ['null', 'fork', 'exec', 'ctx', 'pipe', 'pagefault', 'sbrk'];
const BASELINE = 'lmbench null 1';

const modes = (process.argv[2] ?? 'trap,bt').split(',') as BootMode[];
const rounds = Number(process.argv[3] ?? 12);
const tests = (process.argv[4] ?? ALL_TESTS.join(',')).split(',');
const engine = (process.argv[5] ?? 'translator') as Engine;
if (
  modes.some((m) => m !== 'trap' && m !== 'bt' && m !== 'hvm') ||
  !(rounds >= 2) ||
  tests.some((t) => !ALL_TESTS.includes(t)) ||
  (engine !== 'translator' && engine !== 'interpreter')
) {
  process.stderr.write(`usage: node --import tsx/esm bench/modes-by-test.ts [MODES=trap,bt (of trap, bt, hvm)] [ROUNDS>=2] [TESTS (of ${ALL_TESTS.join(',')})] [translator|interpreter]\n`);
  process.exit(2);
}

const build = buildGuestKernel({ arch: 'native' });
const cmdlines = [BASELINE, ...tests.map((t) => `lmbench ${t}`)];
const wall = new Map<string, number[]>();
const sim = new Map<string, { cycles: number; instructions: number }>();
for (let i = 0; i < rounds; i++) {
  for (const cmdline of alternated(cmdlines, i)) {
    for (const m of alternated(modes, i)) {
      const key = `${m} ${cmdline}`;
      const r = timedModeBoot(m, build, cmdline, engine);
      const before = sim.get(key);
      if (before !== undefined && (before.cycles !== r.cycles || before.instructions !== r.instructions)) throw new Error(`${m}: the boots of ${cmdline} differ in simulated figures`);
      sim.set(key, { cycles: r.cycles, instructions: r.instructions });
      (wall.get(key) ?? wall.set(key, []).get(key)!).push(r.ms);
    }
  }
}

const late = (key: string): number => median(wall.get(key)!.slice(Math.floor(rounds / 2)));
const head = ['test'];
for (const m of modes) head.push(`${m} ms`, `${m} net`, `${m} Mcycles`);
if (modes.length === 2) head.push(`${modes[1]}/${modes[0]} net`);
const rows = cmdlines.map((cmdline) => {
  const row: (string | number)[] = [cmdline === BASELINE ? `${cmdline} (baseline)` : cmdline];
  const nets: number[] = [];
  for (const m of modes) {
    const w = late(`${m} ${cmdline}`);
    const net = cmdline === BASELINE ? w : w - late(`${m} ${BASELINE}`);
    nets.push(net);
    row.push(w.toFixed(1), cmdline === BASELINE ? '' : net.toFixed(1), (sim.get(`${m} ${cmdline}`)!.cycles / 1e6).toFixed(2));
  }
  if (modes.length === 2) row.push(cmdline === BASELINE ? '' : nets[0]! > 0.5 ? (nets[1]! / nets[0]!).toFixed(2) : '-');
  return row;
});
process.stdout.write(`lmbench tests alone on the ${engine}, ${rounds} boots per mode and test, alternating in one process; medians of boots ${Math.floor(rounds / 2) + 1}-${rounds} (net: less the baseline boot)\n`);
process.stdout.write(`${textTable(head, rows)}\n`);
