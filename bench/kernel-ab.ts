// Translator limits (and the interpreter) compared in one process (issue 15): `bench cpu`'s kernel row (the native
// kernel running `lmbench all REPS`) booted ROUNDS times per variant, the variants' machines
// alternating, so the load of a shared machine falls on each alike. Each variant's limits are a
// configuration of its own (its own memo and kept heat: machine/translator.ts), so from its second
// machine on each runs warm. Prints each variant's process CPU per run, the median of rounds 3 on,
// and its last run's translations/compiled/dispatcher entries/instructions in cold slices. A
// variant {"engine":"interpreter"} runs the interpreter instead (the engines' ratio with the load
// falling on both alike).
//
//   node --import tsx/esm bench/kernel-ab.ts '[{"maxBlocks":16},{"maxBlocks":32}]' [ROUNDS=8] [REPS=200]
//   node --import tsx/esm bench/kernel-ab.ts '[{"engine":"interpreter"},{}]' 10
import { bootNative } from '../hypervisor/boot/native.ts';
import { Machine } from '../machine/machine.ts';
import { withTranslatorLimits, type TranslatorLimits } from '../machine/translator.ts';
import { buildGuestKernel } from '../toolchain/guest-kernel.ts';
import { median, warnIfCommonJsHook } from './timing.ts';

warnIfCommonJsHook('bench/kernel-ab.ts');

const variants = JSON.parse(process.argv[2] ?? '[{}]') as Array<Partial<TranslatorLimits> & { engine?: 'interpreter' }>;
const rounds = Number(process.argv[3] ?? 8);
const reps = Number(process.argv[4] ?? 200);
if (!Array.isArray(variants) || !(rounds >= 3) || !(reps >= 1)) {
  process.stderr.write("usage: node --import tsx/esm bench/kernel-ab.ts '[{...limits}, ...]' [ROUNDS>=3] [REPS>=1]\n");
  process.exit(2);
}
const build = buildGuestKernel({ arch: 'native' });
const cpuMs: number[][] = variants.map(() => []);
const last: string[] = variants.map(() => '');
for (let i = 0; i < rounds; i++) {
  variants.forEach(({ engine, ...limits }, k) => {
    const c0 = process.cpuUsage();
    const s = withTranslatorLimits(limits, () => {
      const m = new Machine({ memoryBytes: 32 * 1024 * 1024, engine: engine ?? 'translator' });
      bootNative(m, { kernel: build.kernel, initrd: build.initrd, cmdline: `lmbench all ${reps}` });
      const r = m.run({ maxCycles: Number.MAX_SAFE_INTEGER });
      m.release();
      if (r.reason !== 'poweroff' || r.status !== 0) throw new Error(`lmbench all ${reps} stopped with ${r.reason} (status ${r.status})`);
      return m.cpu.translator?.stats ?? null;
    });
    const c = process.cpuUsage(c0);
    cpuMs[k]!.push((c.user + c.system) / 1000);
    last[k] = s === null ? '-' : `${s.translations}/${s.compiles}/${s.entries}/${s.coldInstructions}`;
  });
}
variants.forEach((v, k) => {
  const t = cpuMs[k]!;
  process.stdout.write(`${JSON.stringify(v)}: process CPU ms per run ${t.map(Math.round).join(' ')} (median of rounds 3-${rounds}: ${Math.round(median(t.slice(2)))}); last run translations/compiled/entries/cold instructions ${last[k]}\n`);
});
