// The translator dispatcher's walk for a fetch that misses the TLB (Cpu.fetchWalk; docs/engine.md
// "How code is translated"), on and off in one process: the rows of `bench mechanisms`
// (bench/mechanisms.ts mechanismTimers), each row's two settings warmed up, then ROUNDS rounds of a
// run of the loop with the mechanism and of its baseline under each setting (the order swapped
// every round), so that the shared machine's swings fall on both. Prints per row and setting the
// host ns per occurrence (the median over rounds of the round's with minus without) and the
// simulated cycles per occurrence, which must agree (the switch is host side only). One tree, one
// set of modules: two checkouts in one process (bench/ab-trees.ts) differ by up to a fifth even at
// the same commit.
//
//   node --import tsx/esm bench/fetch-walk.ts [ROUNDS=15] [SCALE=1]
import { median, warnIfCommonJsHook } from './timing.ts';
import { mechanismTimers } from './mechanisms.ts';

warnIfCommonJsHook('bench/fetch-walk.ts');

const rounds = Number(process.argv[2] ?? 15);
const scale = Number(process.argv[3] ?? 1);
if (!(rounds >= 1) || !(scale > 0)) {
  process.stderr.write('usage: node --import tsx/esm bench/fetch-walk.ts [ROUNDS>=1] [SCALE>0]\n');
  process.exit(2);
}
let walk = true;
const timers = mechanismTimers(scale, undefined, (cpu) => {
  cpu.fetchWalk = walk;
});
const settings = [true, false];
for (const t of timers) {
  for (const s of settings) {
    walk = s;
    t.warmUp();
  }
  const ns: number[][] = [[], []];
  let cycles: string | null = null;
  for (let i = 0; i < rounds; i++) {
    for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
      walk = settings[k]!;
      const w = t.time(true);
      const o = t.time(false);
      ns[k]!.push(((w.ms - o.ms) * 1e6) / t.iterations);
      const c = `${(w.result.cycles - o.result.cycles) / t.iterations}`;
      if (cycles !== null && c !== cycles) throw new Error(`${t.mechanism}: the settings differ in simulated cycles per occurrence: ${cycles} against ${c}`);
      cycles = c;
    }
  }
  process.stdout.write(`${t.mechanism} (simulated cycles per occurrence ${cycles})\n`);
  settings.forEach((s, k) => process.stdout.write(`  fetch walk ${s ? 'on ' : 'off'}: median ${median(ns[k]!).toFixed(0)} ns (rounds: ${ns[k]!.map((x) => x.toFixed(0)).join(' ')})\n`));
}
