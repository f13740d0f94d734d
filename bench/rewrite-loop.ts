// A privileged instruction under trap mode and under bt, in the steady state of one process:
// a bare kernel looping N times over CLI (trap mode: #GP, decoded and emulated; bt: rewritten in
// line, compiled with the loop) and the same loop over NOP, each booted ROUNDS times, the four
// loops alternating, on the translator. Prints per loop the wall ms of the guest run (the
// hypervisor's construction not included) per boot and the median of the later half, and per
// mode the difference per iteration in ns (CLI loop minus NOP loop): `bench mechanisms`' two
// CLI rows, with more boots and without the setup in the timing.
//
//   node --import tsx/esm bench/rewrite-loop.ts [N=200000] [ROUNDS=16]
import { BtMode } from '../hypervisor/bt/index.ts';
import { TrapMode } from '../hypervisor/trap/index.ts';
import { Hypervisor } from '../hypervisor/core/hypervisor.ts';
import { assemble } from '../toolchain/asm/index.ts';
import { median, nowMs, warnIfCommonJsHook } from './timing.ts';

warnIfCommonJsHook('bench/rewrite-loop.ts');

const n = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 16);
if (!(n >= 1) || !(rounds >= 4)) {
  process.stderr.write('usage: node --import tsx/esm bench/rewrite-loop.ts [N>=1] [ROUNDS>=4]\n');
  process.exit(2);
}

const image = (insn: string) =>
  assemble(
    `
        .arch bare
        .org 0x1000
_start:
        li      r5, ${n}
.Lloop: ${insn}
        addi    r5, r5, -1
        cmpi    r5, 0
        jgt     .Lloop
        li      r2, 0
        outb    0x501, r2
        hlt
`,
    'rewrite-loop.s',
  ).image;

const loops = [
  { mode: 'trap', insn: 'cli' },
  { mode: 'trap', insn: 'nop' },
  { mode: 'bt', insn: 'cli' },
  { mode: 'bt', insn: 'nop' },
].map((l) => ({ ...l, image: image(l.insn), ms: [] as number[] }));

for (let round = 0; round < rounds; round++) {
  for (const l of loops) {
    const hv = new Hypervisor({ memoryBytes: 8 * 1024 * 1024, engine: 'translator' });
    hv.createDomain(l.mode === 'bt' ? new BtMode() : new TrapMode(), { name: 'loop', memoryBytes: 4 * 1024 * 1024 }, { image: l.image });
    const t0 = nowMs();
    const r = hv.run({ maxCycles: Number.MAX_SAFE_INTEGER });
    l.ms.push(nowMs() - t0);
    hv.machine.release();
    if (r.reason !== 'all-stopped') throw new Error(`${l.mode} ${l.insn} loop stopped with ${r.reason}`);
  }
}
const late = (xs: number[]): number => median(xs.slice(Math.floor(rounds / 2)));
for (const l of loops) process.stdout.write(`${l.mode} ${l.insn}: ms per boot ${l.ms.map((x) => x.toFixed(1)).join(' ')} (median of the later ${rounds - Math.floor(rounds / 2)}: ${late(l.ms).toFixed(2)})\n`);
for (const mode of ['trap', 'bt']) {
  const [cli, nop] = loops.filter((l) => l.mode === mode);
  process.stdout.write(`${mode}: CLI minus NOP, ns per iteration: ${(((late(cli!.ms) - late(nop!.ms)) * 1e6) / n).toFixed(1)}\n`);
}
