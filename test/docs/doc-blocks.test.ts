// The generated blocks of the docs equal what their commands print today: README.md's option
// reference (`xenolith help --markdown`, from the commander definitions) and the marked command
// outputs in docs/hypercalls.md. `npm run docs:update` rewrites them.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { blockOutput, docBlocks, DOCS_WITH_BLOCKS, optionReferenceBlock, ROOT, splitArgs } from './doc-blocks.ts';

const read = (file: string) => readFileSync(`${ROOT}${file}`, 'utf8');

describe('generated blocks in the docs', () => {
  it("README.md's option reference is `xenolith help --markdown`", async () => {
    const ref = await optionReferenceBlock();
    expect(ref).toContain('| `--snapshot` |');
    expect(read('README.md')).toContain(ref);
  });

  it('splits marker commands like a shell: single quotes group words', () => {
    expect(splitArgs("run --mode pv --input 'echo hello\\nps' --stats")).toEqual(['run', '--mode', 'pv', '--input', 'echo hello\\nps', '--stats']);
  });

  it('docs/hypercalls.md: lmbench fork natively and under pv, a --stats report and the experiment console; docs/web.md: run --trace; each equal to its command output', async () => {
    expect(DOCS_WITH_BLOCKS).toEqual(['README.md', 'docs/hypercalls.md', 'docs/hypervisor.md', 'docs/web.md', 'docs/fidelity.md']);
    const blocks = ['README.md', 'docs/hypercalls.md', 'docs/web.md'].flatMap((f) => docBlocks(read(f)));
    expect(blocks.map((b) => `${b.stream} ${b.args.slice(0, 3).join(' ')}`)).toEqual([
      'stdout run --cmdline lmbench fork',
      'stdout run --mode pv',
      'stderr run --mode pv',
      'stdout run examples/hypercall-experiment/guest.ts --mode',
      'stderr run --mode pv',
      'stderr run --mode pv',
    ]);
    for (const b of blocks) expect(b.text, `npx xenolith ${b.command} (npm run docs:update)`).toBe(await blockOutput(b));
    expect(blocks[3]!.text).toContain('checksum 16 bytes: guest 231 cycles, hypercall 1693 cycles\n');
    expect(blocks[5]!.text).toMatch(/^xenolith: trace: 10 records, \d+ dropped \(the buffer holds 10; --trace-records sets it\) written to /);
  });

  it('docs/hypervisor.md: the kernel\'s nanobenchmarks under trap with the traced shadow, natively, under trap, under hvm (shadow, EPT and the traced shadow, p4-2006-vtx) and under bt, each equal to its command output', async () => {
    // (its `bench smp` block runs for seconds: doc-blocks.deep.test.ts checks it)
    const blocks = docBlocks(read('docs/hypervisor.md')).filter((b) => b.args[0] === 'run');
    expect(blocks.map((b) => b.command)).toEqual([
      "run --mode trap --shadow traced --cmdline nanobench --input ''",
      "run --cmdline nanobench --input ''",
      "run --mode trap --cmdline nanobench --input ''",
      "run --profile p4-2006-vtx --mode hvm --shadow traced --cmdline nanobench --input ''",
      "run --profile p4-2006-vtx --mode hvm --cmdline nanobench --input ''",
      "run --profile p4-2006-vtx --mode hvm --mmu ept --cmdline nanobench --input ''",
      "run --mode bt --cmdline nanobench --input ''",
    ]);
    for (const b of blocks) {
      expect(b.text, `npx xenolith ${b.command} (npm run docs:update)`).toBe(await blockOutput(b));
      expect(b.text.match(/^nanobench \S+: \d+ cycles\/op$/gm), b.command).toHaveLength(7);
    }
  });
});

describe('README.md links', () => {
  it('points only at files inside the repository (or at web addresses)', () => {
    const targets = [...read('README.md').matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]!).filter((t) => !/^https?:/.test(t));
    expect(targets.length).toBeGreaterThan(5);
    for (const t of targets) {
      expect(t.startsWith('..') || t.startsWith('/'), t).toBe(false);
      expect(() => readFileSync(`${ROOT}${t.split('#')[0]}`), t).not.toThrow();
    }
    expect(read('README.md')).not.toContain('../');
  });
});
