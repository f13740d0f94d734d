// bt's compiled chains one by one: the native kernel running `lmbench all` (or CMDLINE) in a bt
// domain under the translator engine, booted WARM times first (its chains compiled and recalled
// from recipes), then 1 + PROFILED times more with the same simulated figures (checked):
//
//  - the first of the two counts each chain's calls and guest instructions (BtMode's
//    compileChain wrapped from outside, so that boot's chains run inside a counting closure);
//  - the next PROFILED (3) run the chains as they are, each under V8's sampling profiler (every
//    100 us), for each chain's host time per boot (its function's self time, averaged over those
//    boots: one boot's profile moves a lot; a chain's function is named after the virtual pc of
//    its first unit, `run_<pc>`).
//
// Per chain, hottest first: the kernel function of its first unit, its units and JavaScript
// size, calls, instructions, host ms, host ns per guest instruction and per call; with Node's
// `--allow-natives-syntax`, V8's tier of its function after the profiled boots (turbofan,
// baseline, interpreted, or never run). The totals are kernel-steady's "in compiled chains"
// (checked).
//
//   node [--allow-natives-syntax] --import tsx/esm bench/bt-chains.ts [WARM=4] [TOP=20] [CMDLINE]
//   (KS_UNIT_HEAT=X sets the translator's unitHeat, as for bench/kernel-steady.ts)
import { Session } from 'node:inspector';
import { warnIfCommonJsHook } from './timing.ts';
import { BtMode, btCache } from '../hypervisor/bt/index.ts';
import type { StraightFn } from '../machine/translator.ts';
import type { Cpu } from '../machine/cpu.ts';
import { symbolize } from '../machine/image.ts';
import { btBenchArgs, btBooter } from './bt-boots.ts';
import { selfTimes, type Profile } from './profile-summary.ts';
import { textTable } from './text-table.ts';

warnIfCommonJsHook('bench/bt-chains.ts');

const { warm, top, cmdline } = btBenchArgs('usage: node [--allow-natives-syntax] --import tsx/esm bench/bt-chains.ts [WARM>=1] [TOP>=1] [CMDLINE]', 20, 1);
const { build, boot } = btBooter(cmdline);

/** per chain function name: calls and guest instructions in the counted boot */
const counts = new Map<string, { calls: number; instructions: number }>();
let counting = false;
type Internals = { compileChain(...args: unknown[]): StraightFn | null; cpu: Cpu };
const proto = BtMode.prototype as unknown as Internals;
const compileChain = proto.compileChain;
if (typeof compileChain !== 'function') throw new Error('bench/bt-chains.ts: BtMode has no method compileChain any more: update the wrapper');
proto.compileChain = function (this: Internals, ...args: unknown[]): StraightFn | null {
  const fn = compileChain.apply(this, args);
  if (!counting || fn === null) return fn;
  const cpu = this.cpu;
  let c = counts.get(fn.name);
  if (c === undefined) counts.set(fn.name, (c = { calls: 0, instructions: 0 }));
  const k = c;
  return ((...a: Parameters<StraightFn>): number => {
    const i0 = cpu.instructions;
    const r = fn(...a);
    k.calls++;
    k.instructions += cpu.instructions - i0;
    return r;
  }) as StraightFn;
};

for (let i = 0; i < warm; i++) boot().hypervisor.machine.release();

// the counted boot
counting = true;
const rc = boot();
counting = false;
const hc = btCache(rc.domain!).host;
const counted = [...counts.values()].reduce((a, c) => a + c.instructions, 0);
if (counted !== hc.chainInstructions) {
  throw new Error(`bench/bt-chains.ts: the wrapped chains ran ${counted} instructions, the unit loop counted ${hc.chainInstructions}: update the wrapper to runUnit's calls`);
}
rc.hypervisor.machine.release();

// the profiled boots
const PROFILED = 3;
const session = new Session();
session.connect();
const post = (method: string, params: object = {}): Promise<unknown> =>
  new Promise((resolve, reject) => session.post(method, params, (e, r) => (e !== null ? reject(e) : resolve(r))));
await post('Profiler.enable');
await post('Profiler.setSamplingInterval', { interval: 100 });
/** self ms per function name, per boot (averaged over the profiled boots) */
const msOf = new Map<string, number>();
let rp: ReturnType<typeof boot> | null = null;
for (let i = 0; i < PROFILED; i++) {
  if (rp !== null) rp.hypervisor.machine.release();
  await post('Profiler.start');
  rp = boot();
  const { profile } = (await post('Profiler.stop')) as { profile: Profile };
  for (const [name, ms] of selfTimes(profile, { translated: 'each' })) msOf.set(name, (msOf.get(name) ?? 0) + ms / PROFILED);
}
session.disconnect();
const totalMs = [...msOf.values()].reduce((a, ms) => a + ms, 0);

/** V8's tier of a function (Node 20's V8 11.3 status bits), with --allow-natives-syntax */
const natives = process.execArgv.includes('--allow-natives-syntax');
const status = natives ? (new Function('f', 'return %GetOptimizationStatus(f)') as (f: unknown) => number) : null;
function tier(fn: unknown): string {
  if (status === null) return '-';
  const s = status(fn);
  if ((s & 64) !== 0) return 'turbofan';
  if ((s & 32) !== 0) return 'maglev';
  if ((s & 32768) !== 0) return 'baseline';
  if ((s & 262144) !== 0) return 'never run';
  if ((s & 128) !== 0) return 'interpreted';
  return `status ${s}`;
}
/** per chain function name: the chain (units, JavaScript size) and its function */
const chains = new Map<string, { units: number; chars: number; fn: StraightFn }>();
for (const u of btCache(rp!.domain!).units.values()) {
  const fn = u.runs?.[0];
  if (typeof fn !== 'function' || u.chain === undefined || u.chain === null || chains.has(fn.name)) continue;
  chains.set(fn.name, { units: u.chain.u.length, chars: String(fn).length, fn });
}
rp!.hypervisor.machine.release();

const rows = [...counts]
  .map(([name, c]) => ({ name, ...c, ms: msOf.get(name) ?? 0, chain: chains.get(name) }))
  .sort((a, b) => b.ms - a.ms);
const chainMs = rows.reduce((a, r) => a + r.ms, 0);
const pcOf = (name: string): number => parseInt(name.slice('run_'.length), 16);
const lines = rows.slice(0, top).map((r) => [
  symbolize(build.kernel.symbols, pcOf(r.name)),
  String(r.chain?.units ?? '?'),
  String(r.chain?.chars ?? '?'),
  String(r.calls),
  String(r.instructions),
  r.ms.toFixed(2),
  r.instructions > 0 ? ((r.ms * 1e6) / r.instructions).toFixed(1) : '-',
  r.calls > 0 ? ((r.ms * 1e6) / r.calls).toFixed(0) : '-',
  r.chain !== undefined ? tier(r.chain.fn) : '-',
]);
process.stdout.write(
  `bt translator, ${cmdline}: boot ${warm + 1} counted, boots ${warm + 2}-${warm + 1 + PROFILED} profiled (${rp!.instructions} instructions, ${rp!.cycles} cycles)\n` +
    `${counts.size} chains ran ${counted} instructions in ${hc.chainCalls} calls; in a profiled boot their functions took ${chainMs.toFixed(1)} of its ${totalMs.toFixed(1)} ms of samples (averages)\n` +
    textTable(['first unit', 'units', 'JS chars', 'calls', 'instructions', 'host ms', 'ns/insn', 'ns/call', natives ? 'V8 tier' : 'V8 tier (--allow-natives-syntax)'], lines) +
    '\n',
);
