// A process's first run of a workload (issue 15: the translator as the default engine): every CLI
// command is a fresh process, so what a user waits on is the first run, V8's compiles included.
//
//   node --import tsx/esm bench/first-run.ts N WORKLOAD [REPS=20] [VARIANTS]
// runs WORKLOAD in N fresh processes per variant, the variants' processes alternating (a load on
// the shared machine falls on each alike), and prints each variant's process CPU and wall
// milliseconds of the run (medians and every value) and the translator's counters of its last
// process. VARIANTS: a JSON list of {"engine": ..., ...translator limits}, by default
// '[{"engine":"interpreter"},{"engine":"translator"}]'. WORKLOAD: lmbench (`lmbench all REPS`) or
// usertests on the native kernel, boot (native, to the shell prompt), or trap, hvm, bt
// (`lmbench all REPS` in that mode). One process, one run (what each child does):
//
//   node --import tsx/esm bench/first-run.ts --one ENGINE WORKLOAD [REPS=20] [LIMITS={}]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bootNative } from '../hypervisor/boot/native.ts';
import { runImageInMode } from '../hypervisor/index.ts';
import { Machine } from '../machine/machine.ts';
import { parseEngine, withTranslatorLimits, type TranslatorLimits } from '../machine/translator.ts';
import { buildGuestKernel } from '../toolchain/guest-kernel.ts';
import { cpuMs, median, nowMs, warnIfCommonJsHook } from './timing.ts';

warnIfCommonJsHook('bench/first-run.ts');

const WORKLOADS = ['lmbench', 'usertests', 'boot', 'trap', 'hvm', 'bt'];

function one(engineName: string, workload: string, reps: number, limits: Partial<TranslatorLimits>): void {
  const engine = parseEngine(engineName);
  const build = buildGuestKernel({ arch: 'native' });
  const cmdline = workload === 'usertests' ? 'usertests' : workload === 'boot' ? '' : `lmbench all ${reps}`;
  const c0 = cpuMs();
  const t0 = nowMs();
  const line = withTranslatorLimits(limits, () => {
    if (workload === 'trap' || workload === 'hvm' || workload === 'bt') {
      const r = runImageInMode(workload, build.kernel, { initrd: build.initrd, cmdline, engine, maxCycles: Number.MAX_SAFE_INTEGER });
      return `${r.reason}, ${r.instructions} instructions; ${counters(r.hypervisor.cpu.translator?.stats)}`;
    }
    let prev = -1;
    const m: Machine = new Machine({
      memoryBytes: 32 * 1024 * 1024,
      engine,
      onOutput: (b) => {
        if (workload === 'boot' && prev === 0x24 && b === 0x20) m.stop(); // the shell's prompt
        prev = b;
      },
    });
    bootNative(m, { kernel: build.kernel, initrd: build.initrd, cmdline });
    const r = m.run({ maxCycles: workload === 'boot' ? 2_000_000_000 : Number.MAX_SAFE_INTEGER });
    return `${r.reason}, ${r.instructions} instructions; ${counters(m.cpu.translator?.stats)}`;
  });
  process.stdout.write(`cpu ${Math.round(cpuMs() - c0)} ms wall ${Math.round(nowMs() - t0)} ms; ${line}\n`);
}

function counters(s: { translations: number; compiles: number; sourceChars: number; entries: number; coldInstructions: number; promotions?: number } | undefined): string {
  if (s === undefined) return 'no translator';
  return `${s.translations} translations (${s.promotions ?? 0} promotions), ${s.compiles} compiled, ${s.sourceChars} chars of JavaScript, ${s.entries} dispatcher entries, ${s.coldInstructions} instructions in cold slices`;
}

const args = process.argv.slice(2);
if (args[0] === '--one') {
  one(args[1] ?? 'translator', args[2] ?? 'lmbench', Number(args[3] ?? 20), JSON.parse(args[4] ?? '{}') as Partial<TranslatorLimits>);
} else {
  const n = Number(args[0]);
  const workload = args[1] ?? 'lmbench';
  const reps = Number(args[2] ?? 20);
  const variants = JSON.parse(args[3] ?? '[{"engine":"interpreter"},{"engine":"translator"}]') as Array<Partial<TranslatorLimits> & { engine?: string }>;
  if (!(n >= 1) || !WORKLOADS.includes(workload) || !(reps >= 1) || !Array.isArray(variants)) {
    process.stderr.write(`usage: node --import tsx/esm bench/first-run.ts N ${WORKLOADS.join('|')} [REPS] ['[{"engine":"interpreter"},{"engine":"translator"}]']\n`);
    process.exit(2);
  }
  const self = fileURLToPath(import.meta.url);
  const runs = variants.map(() => ({ cpu: [] as number[], wall: [] as number[], last: '' }));
  for (let i = 0; i < n; i++) {
    variants.forEach(({ engine, ...limits }, k) => {
      const out = execFileSync(process.execPath, ['--import', 'tsx/esm', self, '--one', engine ?? 'translator', workload, String(reps), JSON.stringify(limits)], { encoding: 'utf8' });
      const m = /cpu (\d+) ms wall (\d+) ms; (.*)/.exec(out);
      if (m === null) throw new Error(`unexpected output: ${out}`);
      runs[k]!.cpu.push(Number(m[1]));
      runs[k]!.wall.push(Number(m[2]));
      runs[k]!.last = m[3]!;
    });
  }
  variants.forEach((v, k) => {
    const r = runs[k]!;
    process.stdout.write(`${JSON.stringify(v)}: process CPU ms median ${median(r.cpu)} (${r.cpu.join(' ')}), wall ms median ${median(r.wall)} (${r.wall.join(' ')}); ${r.last}\n`);
  });
}
