// `xenolith init DIR`: scaffold a folder for a user program of the xenolith guest: a sample
// program in the guest subset, a tsconfig that types it as the compiler does (xl32, no Node types)
// with the subset plugin for the editor, and a README saying how to run it. Writes only in DIR.
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CliError } from '../errors.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A path from `from` to a file of the repository, in import/tsconfig form (forward slashes, ./ or ../). */
function relPath(from: string, repoFile: string): string {
  const r = relative(from, resolve(REPO, repoFile)).split(sep).join('/');
  return r.startsWith('.') ? r : `./${r}`;
}

/** The program's name in the initrd: the folder's name when it fits, else "hello". */
export function programName(dir: string): string {
  const b = basename(resolve(dir));
  return /^[A-Za-z][A-Za-z0-9_-]{0,22}$/.test(b) ? b : 'hello';
}

export function scaffold(dir: string): { name: string; files: string[] } {
  const abs = resolve(dir);
  if (existsSync(abs)) {
    if (!statSync(abs).isDirectory()) throw new CliError(`cannot create ${dir}: it is a file`);
    if (readdirSync(abs).length > 0) throw new CliError(`${dir} is not empty; init writes into a new or empty folder`);
  }
  const name = programName(dir);
  const runLine = `npx xenolith run --add ${dir.replace(/\/+$/, '')}/${name}.ts --input '${name} world'`;
  const files: Record<string, string> = {
    'tsconfig.json': `${JSON.stringify(
      {
        '//': 'Types this folder as the xenolith guest compiler does (ES2022, xl32, no Node types); the plugin shows the guest subset\'s errors in the editor (use the workspace TypeScript).',
        extends: relPath(abs, 'toolchain/lib/tsconfig.guest.json'),
        compilerOptions: { plugins: [{ name: 'xenolith-guest-plugin', arch: 'native', user: true }] },
        include: ['*.ts'],
      },
      null,
      2,
    )}\n`,
    [`${name}.ts`]: `// ${name}: a user program for the xenolith guest, in the guest TypeScript subset
// (docs/guest-subset.md in the xenolith repository). Run it inside the guest:
//   ${runLine}
// main's result is the program's exit status.

import { cstr } from 'xl32';
import { argc, argv, puts, putd } from '${relPath(abs, 'guest-kernel/user/lib/ulib.ts')}';

export function main(): number {
  puts(cstr('hello'));
  for (let k = 1; k < argc(); k++) {
    puts(cstr(', '));
    puts(argv(k));
  }
  puts(cstr(' from '));
  putd(argc() - 1);
  puts(cstr(' argument(s)\\n'));
  return 0;
}
`,
    'README.md': `# ${name}

A user program for the xenolith guest kernel, written in the guest TypeScript subset.

Run it (the kernel compiles it into its initrd, boots, and types the input at its shell):

\`\`\`sh
${runLine}
\`\`\`

\`tsconfig.json\` types the program as the compiler does; with the workspace's TypeScript, the
editor also shows the guest subset's errors (the xenolith-guest-plugin).
`,
  };
  mkdirSync(abs, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(resolve(abs, f), text);
  return { name, files: Object.keys(files) };
}

export function register(program: Command): void {
  program
    .command('init')
    .description('create a folder for a user program of the guest: a sample program, a tsconfig for the editor, a README on running it')
    .argument('<dir>', 'a new or empty folder')
    .action((dir: string) => {
      const { name, files } = scaffold(dir);
      process.stdout.write(`created ${files.map((f) => `${dir.replace(/\/+$/, '')}/${f}`).join(', ')}\nrun it: npx xenolith run --add ${dir.replace(/\/+$/, '')}/${name}.ts --input '${name} world'\n`);
    });
}
