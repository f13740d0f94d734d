// The generated blocks of docs/fidelity.md equal what their commands print today (npm run
// test:deep: each runs the native kernel's workloads under bt, hvm and on the bare machine,
// seconds each - too slow for npm test). `npm run docs:update` rewrites them.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { blockOutput, docBlocks, ROOT } from './doc-blocks.ts';

describe('generated blocks in docs/fidelity.md', () => {
  it('bench retranslation and bench vpid, each equal to its command output', async () => {
    const blocks = docBlocks(readFileSync(`${ROOT}docs/fidelity.md`, 'utf8'));
    expect(blocks.map((b) => b.command)).toEqual(['bench retranslation', 'bench vpid --no-host-time']);
    for (const b of blocks) expect(b.text, `npx xenolith ${b.command} (npm run docs:update)`).toBe(await blockOutput(b));
    // the verdict the doc draws from it: one instruction of one workload faults often enough to pay
    expect(blocks[0]!.text).toMatch(/^retranslating pays only for an instruction that faults on more than 46% of its executions$/m);
    // and from the second: at the default slice, keeping tags across world switches saves nothing
    // to speak of (under 0.001% either way: keeping entries moves the interleaving, and the run can
    // come out a few cycles longer), at a 10,000-cycle slice a few percent
    expect(blocks[1]!.text).toMatch(/^3000000 .* -?0\.000% +\d+$/m);
    expect(blocks[1]!.text).toMatch(/^10000 .* [1-9]\.\d{3}% +\d+$/m);
  });

  it('docs/hypervisor.md: bench smp (the lock-holder preemption remedies), equal to its command output', async () => {
    const blocks = docBlocks(readFileSync(`${ROOT}docs/hypervisor.md`, 'utf8')).filter((b) => b.args[0] === 'bench');
    expect(blocks.map((b) => b.command)).toEqual(['bench smp --no-host-time']);
    for (const b of blocks) expect(b.text, `npx xenolith ${b.command} (npm run docs:update)`).toBe(await blockOutput(b));
    // what the doc reads from it: no wasted spin under co-scheduling, and the yield that does not fire across physical CPUs
    expect(blocks[0]!.text).toMatch(/^trap +2 doms x 2 vCPUs \/ 2 pCPUs +cosched +\d+ +\S+ +\d+\/\d+ +0 \(0\)/m);
    expect(blocks[0]!.text).toMatch(/^bt +2 doms x 2 vCPUs \/ 2 pCPUs +spin-yield +\d+ +1\.000x/m);
  });
});
