// Host time of the PV paths issue 9 bounded (items 4 and 6), wall clock only: pinning, then
// unpinning, a directory of 1,023 tables of 1,024 entries (1,048,576 entries each, split into
// steps of about 65,600: docs/hypercalls.md "Long hypercalls"; the whole call and its mean step
// are printed) and console input drained through
// console_io(READ) in 4 KiB reads, at 1 and 8 MiB (linear: the second takes about 8 times the
// first). `npx tsx bench/pv-host-work.ts`; median of five runs each. Simulated cycles are exact
// and pinned by tests; these figures depend on the machine.

import { fileURLToPath } from 'node:url';
import { assemble } from '../toolchain/asm/index.ts';
import { ConsoleCmd, Hc, MmuextCmd } from '../hypercalls/numbers.ts';
import { Hypervisor } from '../hypervisor/core/hypervisor.ts';
import { PvMode } from '../hypervisor/pv/mode.ts';
import { feedConsole } from '../hypervisor/pv/hypercalls.ts';

const MiB = 1024 * 1024;
const PAGE = 4096;
const SPIN = assemble('  .arch pv\n  .org 0x100000\n_start:\n  jmp _start\n', 'spin.s').image;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function domain() {
  const hv = new Hypervisor({ memoryBytes: 32 * MiB });
  const mode = new PvMode();
  const d = hv.createDomain(mode, { name: 'bench', memoryBytes: 8 * MiB, devices: false }, { kernel: SPIN });
  // put its vCPU on the CPU, so hypercalls can be made for it
  hv.run({ maxCycles: 1 });
  return { hv, mode, d, v: d.vcpus[0]! };
}

/** ms to pin and to unpin a directory of 1,023 full tables (the whole call), and the steps each took. */
export function worstStepMs(): { pin: number; unpin: number; pinSteps: number; unpinSteps: number } {
  const { hv, mode, d, v } = domain();
  const lay = mode.layouts.get(d.id)!;
  const boot = (va: number): number => d.p2m[lay.ptFirstPfn + 1 + (va >>> 22)]! * PAGE + ((va >>> 12) & 1023) * 4;
  const DIR = 0x300;
  const REQS = 0x704000;
  const mfn = (pfn: number): number => d.p2m[pfn]!;
  for (let k = 0; k < 1024; k++) {
    d.memory.write32(REQS + k * 8, boot((DIR + k) * PAGE));
    d.memory.write32(REQS + k * 8 + 4, (mfn(DIR + k) * PAGE) | 1);
  }
  if (mode.hypercall(v, Hc.MMU_UPDATE, REQS, 1024, 0) !== 0) throw new Error('bench: remapping the tables read-only failed');
  const i32 = hv.mem.i32;
  for (let k = 1; k <= 1023; k++) {
    i32.fill((mfn(0x700) * PAGE) | 1, mfn(DIR + k) << 10, (mfn(DIR + k) + 1) << 10);
    i32[(mfn(DIR) << 10) + k - 1] = (mfn(DIR + k) * PAGE) | 1;
  }
  const stats = mode.pv(d).stats;
  const op = (cmd: number): [number, number] => {
    d.memory.write32(0x702000, cmd);
    d.memory.write32(0x702004, mfn(DIR));
    const c0 = stats.continuations;
    const t0 = performance.now();
    const r = mode.hypercall(v, Hc.MMUEXT_OP, 0x702000, 1, 0);
    const ms = performance.now() - t0;
    if (r !== 0) throw new Error(`bench: mmuext_op ${cmd} failed (${r})`);
    return [ms, stats.continuations - c0 + 1];
  };
  const [pin, pinSteps] = op(MmuextCmd.PIN_L2_TABLE);
  const [unpin, unpinSteps] = op(MmuextCmd.UNPIN_TABLE);
  return { pin, unpin, pinSteps, unpinSteps };
}

/** ms to feed `bytes` of console input and read it back in 4 KiB console_io reads. */
export function consoleInputMs(bytes: number): number {
  const { mode, d, v } = domain();
  const t0 = performance.now();
  feedConsole(mode.pv(d), new Uint8Array(bytes).fill(0x61));
  let got = 0;
  for (;;) {
    const n = mode.hypercall(v, Hc.CONSOLE_IO, ConsoleCmd.READ, 4096, 0x701000);
    if (n <= 0) break;
    got += n;
  }
  if (got !== bytes) throw new Error(`bench: read ${got} of ${bytes} bytes`);
  return performance.now() - t0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const runs = 5;
  const steps = Array.from({ length: runs }, worstStepMs);
  const pin = median(steps.map((s) => s.pin));
  const unpin = median(steps.map((s) => s.unpin));
  const { pinSteps, unpinSteps } = steps[0]!;
  process.stdout.write(
    `a directory of 1,023 full tables (1,048,576 entries): pin ${pin.toFixed(1)} ms in ${pinSteps} steps (${(pin / pinSteps).toFixed(2)} ms each), ` +
      `unpin ${unpin.toFixed(1)} ms in ${unpinSteps} steps (${(unpin / unpinSteps).toFixed(2)} ms each)\n`,
  );
  for (const mib of [1, 8]) {
    const ms = median(Array.from({ length: runs }, () => consoleInputMs(mib * MiB)));
    process.stdout.write(`console input, ${mib} MiB in 4 KiB reads: ${ms.toFixed(1)} ms (${((mib * 1000) / ms).toFixed(0)} MiB/s)\n`);
  }
}
