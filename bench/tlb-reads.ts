// How often compiled code reads the TLB (the translator context's `find`, the hit check every
// memory access of translated code makes unless the page memo has the page) in one boot of the
// native kernel running `lmbench all REPS` in MODE on the translator engine, for the checkout at
// DIR (so two checkouts can be compared: e.g. one `git worktree add` of the commit before a
// change). Counts calls, host side only: the simulation is the same either way.
//
//   node --import tsx/esm bench/tlb-reads.ts DIR [bt|trap] [REPS=0 (lmbench all's own counts)]
import { warnIfCommonJsHook } from './timing.ts';

warnIfCommonJsHook('bench/tlb-reads.ts');
const [dir, mode = 'bt', repsArg = '0'] = process.argv.slice(2);
const reps = Number(repsArg);
if (dir === undefined || (mode !== 'bt' && mode !== 'trap') || !(reps >= 0)) {
  process.stderr.write('usage: node --import tsx/esm bench/tlb-reads.ts DIR [bt|trap] [REPS>=0]\n');
  process.exit(2);
}
const { runImageInMode } = await import(`${dir}/hypervisor/index.ts`);
const { buildGuestKernel } = await import(`${dir}/toolchain/guest-kernel.ts`);
const { lmbenchCmdline } = await import(`${dir}/bench/compare.ts`);
const { Cpu } = await import(`${dir}/machine/cpu.ts`);
const build = buildGuestKernel({ arch: 'native' });
let reads = 0;
const counted = new WeakSet<object>();
// (every CPU's translator is made by Cpu.newTranslator, under either mode)
const newTranslator = Cpu.prototype.newTranslator;
Cpu.prototype.newTranslator = function (this: unknown) {
  const tx = newTranslator.call(this);
  if (!counted.has(tx.ctx)) {
    counted.add(tx.ctx);
    const find = tx.ctx.find as (t: Int32Array, s: number, g: number) => number;
    tx.ctx.find = (t: Int32Array, s: number, g: number): number => {
      reads++;
      return find(t, s, g);
    };
  }
  return tx;
};
// two boots: the second takes the process's memo of compiled functions, as a steady state does
for (let i = 1; i <= 2; i++) {
  reads = 0;
  const r = runImageInMode(mode, build.kernel, { initrd: build.initrd, cmdline: lmbenchCmdline(reps), engine: 'translator', maxCycles: Number.MAX_SAFE_INTEGER });
  r.hypervisor.machine.release();
  process.stdout.write(`${dir}, ${mode}, boot ${i}: ${r.instructions} instructions, ${reads} TLB reads by compiled code\n`);
}
