// Generated blocks in the docs: a fenced block right after a marker line
//   <!-- stdout of: npx xenolith ARGS -->   (or `stderr of:`)
// holds exactly what that command prints (run in-process, simulated time is deterministic), and
// README.md's option reference is `xenolith help --markdown`. test/docs/doc-blocks.test.ts keeps
// them equal; `npm run docs:update` rewrites them from the commands.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { xenolith } from '../cli/run-in-process.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The documents with generated blocks. */
export const DOCS_WITH_BLOCKS = ['README.md', 'docs/hypercalls.md', 'docs/hypervisor.md', 'docs/web.md', 'docs/fidelity.md'];

const MARKER = /^<!-- (stdout|stderr) of: npx xenolith (.*) -->\n```\n([\s\S]*?)```\n/gm;

export interface DocBlock {
  stream: 'stdout' | 'stderr';
  args: string[];
  /** the command as written in the marker */
  command: string;
  text: string;
}

/** Split a command line into words; single quotes group, `\n` stays as typed (the CLI reads it). */
export function splitArgs(line: string): string[] {
  const words = line.match(/'[^']*'|[^\s']+/g) ?? [];
  return words.map((w) => (w.startsWith("'") ? w.slice(1, -1) : w));
}

export function docBlocks(markdown: string): DocBlock[] {
  return [...markdown.matchAll(MARKER)].map((m) => ({ stream: m[1] as 'stdout' | 'stderr', command: m[2]!, args: splitArgs(m[2]!), text: m[3]! }));
}

/** What the block should hold: the command's output, with a final newline. */
export async function blockOutput(b: DocBlock): Promise<string> {
  const r = await xenolith(...b.args);
  const out = b.stream === 'stdout' ? r.stdout : r.stderr;
  return `${out.trimEnd()}\n`;
}

/** The README's option reference block, from the commander definitions. */
export async function optionReferenceBlock(): Promise<string> {
  return (await xenolith('help', '--markdown')).stdout;
}

async function update(): Promise<void> {
  for (const file of DOCS_WITH_BLOCKS) {
    const path = `${ROOT}${file}`;
    let text = readFileSync(path, 'utf8');
    for (const b of docBlocks(text)) {
      text = text.replace(`<!-- ${b.stream} of: npx xenolith ${b.command} -->\n\`\`\`\n${b.text}\`\`\`\n`, `<!-- ${b.stream} of: npx xenolith ${b.command} -->\n\`\`\`\n${await blockOutput(b)}\`\`\`\n`);
    }
    const ref = await optionReferenceBlock();
    const [begin, end] = [ref.split('\n')[0]!, ref.trimEnd().split('\n').at(-1)!];
    const i = text.indexOf(begin);
    const j = text.indexOf(end);
    if (i >= 0 && j > i) text = text.slice(0, i) + ref + text.slice(j + end.length + 1);
    writeFileSync(path, text);
    process.stdout.write(`updated ${file}\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await update();
