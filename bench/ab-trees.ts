// Two checkouts of xenolith in one process, their boots alternating, so that both see the same
// load (on a shared machine, separate processes measured minutes apart differ by more than most
// changes): the native kernel running `lmbench all REPS` under MODE on the translator, booted
// ROUNDS times by each tree (the order swapped every round). Prints per tree the process CPU and
// wall ms of each boot and their medians over boots 3-6 and 7-ROUNDS. Each tree has its own
// modules (its own memos of compiled functions); V8 is shared. Simulated figures must agree.
// Caution: two checkouts of the same commit come out up to a fifth apart here (docs/engine.md, "The
// fifteenth round"): run the same commit in both trees as a control before reading a smaller
// difference, or compare with a switch in one tree (bench/fetch-walk.ts).
//
//   node --import tsx/esm bench/ab-trees.ts DIR_A DIR_B [MODE=bt] [REPS=20] [ROUNDS=24]
//   (e.g. DIR_A a `git worktree add /tmp/before <commit>` of the commit before a change)
//   KS_UNIT_HEAT=X sets the translator's unitHeat in both trees, as bench/kernel-steady.ts does
//   (1e9: bt compiles none of its units, so every boundary is the fast loop's probe's)
import { median, nowMs, unitHeatLimits, warnIfCommonJsHook } from './timing.ts';
import { lmbenchCmdline } from './compare.ts';

warnIfCommonJsHook('bench/ab-trees.ts');

const [dirA, dirB] = [process.argv[2], process.argv[3]];
const mode = process.argv[4] ?? 'bt';
const reps = Number(process.argv[5] ?? 20);
const rounds = Number(process.argv[6] ?? 24);
const cmdline = lmbenchCmdline(reps);
if (dirA === undefined || dirB === undefined || (mode !== 'trap' && mode !== 'bt') || !(reps >= 0) || !(rounds >= 7)) {
  process.stderr.write('usage: node --import tsx/esm bench/ab-trees.ts DIR_A DIR_B [trap|bt] [REPS>=0] [ROUNDS>=7]\n');
  process.exit(2);
}
type Tree = { name: string; limits: <T>(fn: () => T) => T; run: (kernel: unknown, opts: object) => { cycles: number; instructions: number; reason: string; hypervisor: { machine: { release(): void } } }; build: { kernel: unknown; initrd: unknown } };
const trees: Tree[] = [];
for (const dir of [dirA, dirB]) {
  const hv = await import(`${dir}/hypervisor/index.ts`);
  const gk = await import(`${dir}/toolchain/guest-kernel.ts`);
  const tr = await import(`${dir}/machine/translator.ts`);
  const limits = unitHeatLimits();
  trees.push({ name: dir, limits: (fn) => tr.withTranslatorLimits(limits, fn), run: hv.runImageInMode.bind(null, mode), build: gk.buildGuestKernel({ arch: 'native' }) });
}
const cpu = trees.map((): number[] => []);
const wall = trees.map((): number[] => []);
let sim: string | null = null;
for (let i = 0; i < rounds; i++) {
  for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
    const t = trees[k]!;
    const c0 = process.cpuUsage();
    const t0 = nowMs();
    const r = t.limits(() => t.run(t.build.kernel, { initrd: t.build.initrd, cmdline, engine: 'translator', maxCycles: Number.MAX_SAFE_INTEGER }));
    r.hypervisor.machine.release();
    wall[k]!.push(nowMs() - t0);
    const c = process.cpuUsage(c0);
    cpu[k]!.push((c.user + c.system) / 1000);
    const s = `${r.reason} ${r.cycles} ${r.instructions}`;
    if (sim !== null && s !== sim) throw new Error(`the trees differ in simulated figures: ${sim} against ${s}`);
    sim = s;
  }
}
const med = (xs: number[], a: number, b?: number): number => Math.round(median(xs.slice(a, b)));
process.stdout.write(`${mode} translator, ${cmdline}: ${sim}\n`);
trees.forEach((t, k) => {
  process.stdout.write(
    `${t.name}: process CPU ms, median of boots 3-6 ${med(cpu[k]!, 2, 6)}, of boots 7-${rounds} ${med(cpu[k]!, 6)}; wall ${med(wall[k]!, 2, 6)}, ${med(wall[k]!, 6)}\n` +
      `  CPU per boot: ${cpu[k]!.map((x) => Math.round(x)).join(' ')}\n`,
  );
});
