// Host memory allocated while the kernel-heavy workload runs (the native kernel running `lmbench
// all REPS` in a trap or bt domain, or on the bare machine), by the function that allocated it:
// the process boots it WARM times unmeasured (its compiled code settled), then samples V8's
// allocations over the next RUNS boots (node:inspector's sampling heap profiler, every 512 bytes on
// average, objects the collector has already freed included) and prints the bytes per boot, in
// all and of the functions allocating the most. Allocation in the hot loops shows as collector
// time in profiles; this says roughly which function makes it. Caution: the sampler itself
// disturbs what it measures - with it on, V8 throws away optimized code at collections ("weak
// objects" under --trace-deopt: over a hundred functions in one bt boot, none without it), and
// a function running unoptimized allocates a number for every double it reads or passes on -
// so read the split between functions as approximate, and the total against `node
// --trace-gc-nvp` (its `allocated=` bytes between collections) on bench/kernel-steady.ts. An
// optimized function's allocations also include those of the functions V8 inlined into it (the
// profiler names the frame's outermost function).
//
//   node --import tsx/esm bench/kernel-alloc.ts [native|trap|bt] [REPS=0 (lmbench all)] [WARM=8] [RUNS=2] [TOP=15]
import { Session } from 'node:inspector';
import { warnIfCommonJsHook } from './timing.ts';
import { runImageInMode } from '../hypervisor/index.ts';
import { bootNative } from '../hypervisor/boot/native.ts';
import { Machine } from '../machine/machine.ts';
import { buildGuestKernel } from '../toolchain/guest-kernel.ts';
import { lmbenchCmdline } from './compare.ts';

warnIfCommonJsHook('bench/kernel-alloc.ts');

const mode = process.argv[2] ?? 'bt';
const reps = Number(process.argv[3] ?? 0);
const warm = Number(process.argv[4] ?? 8);
const runs = Number(process.argv[5] ?? 2);
const top = Number(process.argv[6] ?? 15);
if ((mode !== 'native' && mode !== 'trap' && mode !== 'bt') || !(reps >= 0) || !(warm >= 0) || !(runs >= 1) || !(top >= 1)) {
  process.stderr.write('usage: node --import tsx/esm bench/kernel-alloc.ts [native|trap|bt] [REPS>=0 (0: lmbench all)] [WARM>=0] [RUNS>=1] [TOP>=1]\n');
  process.exit(2);
}
const build = buildGuestKernel({ arch: 'native' });
const cmdline = lmbenchCmdline(reps);

function boot(): void {
  if (mode === 'native') {
    const machine = new Machine({ memoryBytes: 32 * 1024 * 1024 });
    bootNative(machine, { kernel: build.kernel, initrd: build.initrd, cmdline });
    if (machine.run({ maxCycles: Number.MAX_SAFE_INTEGER }).reason !== 'poweroff') throw new Error('the kernel did not power off');
    machine.release();
    return;
  }
  const r = runImageInMode(mode as 'trap' | 'bt', build.kernel, { initrd: build.initrd, cmdline, maxCycles: Number.MAX_SAFE_INTEGER });
  if (r.reason !== 'poweroff') throw new Error(`the kernel did not power off (${r.reason})`);
  r.hypervisor.machine.release();
}

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}
const session = new Session();
session.connect();
const post = (method: string, params: object = {}): Promise<unknown> =>
  new Promise((resolve, reject) => session.post(method, params, (e, r) => (e !== null ? reject(e) : resolve(r))));

for (let i = 0; i < warm; i++) boot();
await post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
for (let i = 0; i < runs; i++) boot();
const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: { head: ProfileNode } };
session.disconnect();

const bytes = new Map<string, number>();
const visit = (n: ProfileNode): void => {
  if (n.selfSize > 0) {
    const file = n.callFrame.url.split('/').pop() ?? '';
    const k = `${n.callFrame.functionName || '(anonymous)'}${file !== '' ? ` (${file})` : ''}`;
    bytes.set(k, (bytes.get(k) ?? 0) + n.selfSize);
  }
  for (const c of n.children) visit(c);
};
visit(profile.head);
let total = 0;
for (const b of bytes.values()) total += b;
const kb = (b: number): string => (b / runs / 1024).toFixed(0).padStart(7);
process.stdout.write(`${mode}, ${cmdline}: ${kb(total).trim()} KiB allocated per boot (sampled over ${runs} boots after ${warm})\n`);
for (const [k, b] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${kb(b)} KiB  ${k}\n`);
