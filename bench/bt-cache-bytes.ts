// Host heap per binary-translation unit: translates 50,000 one-instruction units and 50,000
// twelve-instruction units into a fresh TranslationCache and reports the heap growth per unit
// (the figure behind hypervisor/bt/cache.ts's UNIT_HOST_BYTES estimate). Needs the collector:
//   node --expose-gc --import tsx/esm bench/bt-cache-bytes.ts
// Wall-clock-free; the figure depends on the JavaScript engine, not on simulated time.

import { TranslationCache } from '../hypervisor/bt/cache.ts';
import { Op, encode } from '../machine/isa.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('bt-cache-bytes: run with node --expose-gc --import tsx/esm bench/bt-cache-bytes.ts');
  process.exit(2);
}

const UNITS = 50_000;

/** Heap bytes per unit for units of `insns` NOPs (ending with RET when shorter than a full unit). */
function bytesPerUnit(insns: number): number {
  const m32 = new Int32Array(UNITS * 16);
  for (let k = 0; k < m32.length; k++) m32[k] = (k % 16) === insns - 1 ? encode(Op.RET) : encode(Op.NOP);
  const cache = new TranslationCache(m32, new Uint8Array(m32.length >>> 10), UNITS);
  gc!();
  const before = process.memoryUsage().heapUsed;
  for (let k = 0; k < UNITS; k++) cache.translate(k * 64, k * 64);
  gc!();
  const after = process.memoryUsage().heapUsed;
  if (cache.size !== UNITS || cache.stats.translatedInsns !== UNITS * insns) throw new Error('bt-cache-bytes: unexpected unit shape');
  return (after - before) / UNITS;
}

for (const n of [1, 12]) console.log(`${n}-instruction units: ${bytesPerUnit(n).toFixed(0)} bytes of host heap each`);
