// Where bt's compiled chains hand control back to the unit loop, by kernel function: the native
// kernel running `lmbench all` (or CMDLINE) in a bt domain under the translator engine, booted
// WARM times first (its chains compiled and recalled from recipes), then once more counted:
//
//  - chain exits by the instruction that ended the chain (its unit's control transfer), split by
//    what the unit loop entered next: another chain, a unit not compiled (run in the fast loop
//    and the general path), or nothing (the vCPU loop took the boundary); and the same by kind
//    (the transfer's mnemonic);
//  - units that code not compiled handed to their chain (runInsns's HANDED);
//  - the units not compiled at the end of the boot, by their heat (entries counted toward
//    compiling them: an entry through the unit loop counts twice, BtMode.compiledRuns).
//
// The counts come from wrapping four of BtMode's methods from outside (runUnit, nextUnit,
// fallThrough, runInsns), so the unit loop runs slower while this counts; the simulated figures
// are the same (checked), and the exits' totals are bench/kernel-steady.ts's transition counters
// (checked). A chain that ran off its unit's end (no control transfer) is listed by
// that unit's last instruction.
//
//   node --import tsx/esm bench/bt-exits.ts [WARM=4] [TOP=12] [CMDLINE]
//   (KS_UNIT_HEAT=X sets the translator's unitHeat, as for bench/kernel-steady.ts)
import { BtMode, btCache } from '../hypervisor/bt/index.ts';
import { warnIfCommonJsHook } from './timing.ts';
import type { TranslationCache, TranslationUnit } from '../hypervisor/bt/cache.ts';
import { symbolize } from '../machine/image.ts';
import { INSTRUCTIONS } from '../machine/isa.ts';
import { btBenchArgs, btBooter } from './bt-boots.ts';

warnIfCommonJsHook('bench/bt-exits.ts');

const { warm, top, cmdline } = btBenchArgs('usage: node --import tsx/esm bench/bt-exits.ts [WARM>=0] [TOP>=1] [CMDLINE]', 12, 0);
const { build, boot } = btBooter(cmdline);
const where = (pc: number): string => symbolize(build.kernel.symbols, pc);

/** per kernel location, counts (last boot only) */
const toChain = new Map<number, number>();
const toCold = new Map<number, number>();
const toLoop = new Map<number, number>();
const handed = new Map<number, number>();
let counting = false;
const bump = <K>(m: Map<K, number>, k: K): void => void m.set(k, (m.get(k) ?? 0) + 1);
/** the same exits by kind: the mnemonic of the control transfer that ended the chain, or `(ran off its end)` */
const kinds = { toChain: new Map<string, number>(), toCold: new Map<string, number>(), toLoop: new Map<string, number>() };
const MNEMONIC = new Map(INSTRUCTIONS.map((x) => [x.op as number, x.mnemonic]));

// The unit loop's own calls of nextUnit and fallThrough (after a chain ended) are the ones made
// outside runInsns; what the loop did next shows in its host counters (chainToChain counts the
// next chain's call, chainToCold the unit run cold), read at the next wrapped call or when
// runUnit returns. runInsns leaves HANDED with the unit in `handed`.
type Internals = {
  runUnit(...args: unknown[]): number;
  nextUnit(t: unknown, u: TranslationUnit, upc: number, user: boolean, deadline: number, cache: TranslationCache, ...rest: unknown[]): TranslationUnit | null;
  fallThrough(t: unknown, u: TranslationUnit, upc: number, user: boolean, deadline: number, cache: TranslationCache, ...rest: unknown[]): TranslationUnit | null;
  runInsns(...args: unknown[]): number;
  handed: TranslationUnit | null;
};
const proto = BtMode.prototype as unknown as Internals;
const { runUnit, nextUnit, fallThrough, runInsns } = proto;
for (const [name, f] of Object.entries({ runUnit, nextUnit, fallThrough, runInsns })) {
  if (typeof f !== 'function') throw new Error(`bench/bt-exits.ts: BtMode has no method ${name} any more: update the wrappers`);
}
let inInsns = 0;
/** the last chain exit not yet resolved: where it left, and the loop's counters then */
let pending = -1;
let pendingKind = '';
let pendingHost: TranslationCache['host'] | null = null;
let toChain0 = 0;
let toCold0 = 0;
function resolve(): void {
  if (pending < 0) return;
  const h = pendingHost!;
  if (h.chainToChain > toChain0) {
    bump(toChain, pending);
    bump(kinds.toChain, pendingKind);
  } else if (h.chainToCold > toCold0) {
    bump(toCold, pending);
    bump(kinds.toCold, pendingKind);
  }
  pending = -1;
}
proto.runUnit = function (this: Internals, ...args: unknown[]): number {
  const r = runUnit.apply(this, args);
  if (counting) resolve();
  return r;
};
proto.runInsns = function (this: Internals, ...args: unknown[]): number {
  if (counting && inInsns === 0) resolve();
  inInsns++;
  try {
    const r = runInsns.apply(this, args);
    if (counting && this.handed !== null) bump(handed, this.handed.pc);
    return r;
  } finally {
    inInsns--;
  }
};
/** a chain's unit u (entered at upc) ended, and the unit loop looked for the next unit (y) itself */
function exited(u: TranslationUnit, upc: number, cache: TranslationCache, y: TranslationUnit | null, ranOff: boolean): void {
  const at = (upc + u.offs[u.length - 1]!) | 0;
  const kind = ranOff ? '(ran off its end)' : (MNEMONIC.get(u.ops[u.length - 1]!) ?? '?');
  if (y === null) {
    bump(toLoop, at);
    bump(kinds.toLoop, kind);
    return;
  }
  pending = at;
  pendingKind = kind;
  pendingHost = cache.host;
  toChain0 = cache.host.chainToChain;
  toCold0 = cache.host.chainToCold;
}
/** nextUnit or fallThrough (ranOff) wrapped: an exit counted when the unit loop itself looked for the unit after a chain's */
function wrapExit(f: Internals['nextUnit'], ranOff: boolean): Internals['nextUnit'] {
  return function (this: Internals, t, u, upc, user, deadline, cache, ...rest): TranslationUnit | null {
    const outer = counting && inInsns === 0;
    if (outer) resolve();
    const y = f.call(this, t, u, upc, user, deadline, cache, ...rest);
    if (outer) exited(u, upc, cache, y, ranOff);
    return y;
  };
}
proto.nextUnit = wrapExit(nextUnit, false);
proto.fallThrough = wrapExit(fallThrough, true);

for (let i = 0; i < warm; i++) boot().hypervisor.machine.release();
counting = true;
const r = boot();
counting = false;

const cache = btCache(r.domain!);
const h = cache.host;
const sum = (m: Map<number, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
const list = (m: Map<number, number>): string =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([pc, n]) => `    ${String(n).padStart(7)}  ${where(pc)}`)
    .join('\n');
if (sum(toCold) !== h.chainToCold || sum(toChain) !== h.chainToChain) {
  throw new Error(`bench/bt-exits.ts: the wrapped methods saw ${sum(toCold)} and ${sum(toChain)} exits, the unit loop counted ${h.chainToCold} and ${h.chainToChain}: update the wrappers to runUnit's loop`);
}
const byKind = (m: Map<string, number>): string =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
const out: string[] = [`bt translator, ${cmdline}: boot ${warm + 1} counted (${r.instructions} instructions, ${r.cycles} cycles)`];
out.push(`chain exits into a unit not compiled: ${sum(toCold)} (kernel-steady's "a unit not compiled"), by kind: ${byKind(kinds.toCold)}; by the instruction that left:`, list(toCold));
out.push(`chain exits into another chain: ${sum(toChain)} (kernel-steady's "another chain"), by kind: ${byKind(kinds.toChain)}; by the instruction that left:`, list(toChain));
out.push(`chain exits to the vCPU loop: ${sum(toLoop)}, by kind: ${byKind(kinds.toLoop)}; by the instruction that left:`, list(toLoop));
out.push(`units handed from code not compiled to their chain: ${sum(handed)} (kernel-steady's "handed back", those whose chain then ran: ${h.coldToChain}), by unit:`, list(handed));
const heats: number[] = [];
let compiled = 0;
for (const u of cache.units.values()) {
  if (u.dead) continue;
  if (u.runs !== null) compiled++;
  else heats.push(u.heat);
}
const bounds = [1, 16, 64, 256, 1024];
out.push(
  `units compiled ${compiled}, not compiled ${heats.length}, by heat (units, their heat together): ` +
    bounds
      .map((b, i) => {
        const hi = bounds[i + 1] ?? Infinity;
        const xs = heats.filter((x) => x >= b && x < hi);
        return `${b}${hi === Infinity ? '+' : `-${hi - 1}`}: ${xs.length}/${xs.reduce((a, c) => a + c, 0)}`;
      })
      .join(', '),
);
process.stdout.write(`${out.join('\n')}\n`);
r.hypervisor.machine.release();
