// The README's examples, as printed: every line of its ```sh blocks, split into the words a shell
// would pass (single and double quotes, comments after #). `npx xenolith ...` lines run in-process
// (cli/program.ts, as test/cli/run-in-process.ts does); other commands (e.g. making a disk image)
// through /bin/sh. Run from a scratch folder that has the repository's examples/ in it, so files
// the examples write (disk.img, report.html) land there. Used by readme-examples.test.ts (the
// quick ones) and readme-examples.deep.test.ts (the long ones).
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xenolithIn, type CliRun } from '../cli/run-in-process.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface Example {
  /** the line as printed, without its comment (the README's comments have no # in quotes) */
  line: string;
  /** `npx xenolith` lines: the arguments; otherwise undefined (a plain shell command) */
  args?: string[];
}

/** Split a command line into words as sh does for the README's simple lines (quotes, no expansions). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let k = 0; k < line.length; k++) {
    const c = line[k]!;
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, k + 1);
      if (end < 0) throw new Error(`README: unbalanced quote in: ${line}`);
      word += line.slice(k + 1, end);
      inWord = true;
      k = end;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === '#' && !inWord) {
      break;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Every command of the README's sh blocks, in order (npm lines are the quick start: see the test). */
export function readmeExamples(): Example[] {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const out: Example[] = [];
  for (const block of text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    for (const raw of block[1]!.split('\n')) {
      const words = shellWords(raw);
      if (words.length === 0) continue;
      const line = raw.replace(/\s+#.*$/, '').trim();
      if (words[0] === 'npx' && words[1] === 'xenolith') out.push({ line, args: words.slice(2) });
      else out.push({ line });
    }
  }
  return out;
}

/** A scratch folder with the repository's examples/ (and the guest code they import) linked in. */
export function scratchFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'xenolith-readme-'));
  for (const d of ['examples', 'guest-kernel', 'hypercalls']) symlinkSync(join(ROOT, d), join(dir, d));
  return dir;
}

/** Run one example in `dir`; its status and output. */
export async function runExample(ex: Example, dir: string): Promise<CliRun> {
  if (ex.args) return xenolithIn(dir, ...ex.args);
  try {
    const stdout = execSync(ex.line, { cwd: dir, shell: '/bin/sh', stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    return { status: 0, stdout, stderr: '' };
  } catch (e) {
    const err = e as { status?: number; stderr?: Buffer };
    return { status: err.status ?? 1, stdout: '', stderr: err.stderr?.toString() ?? '' };
  }
}

/**
 * Examples too long for `npm test` (each runs minutes on a loaded 2-core machine: every mode side
 * by side, timed benchmarks, the whole lmbench set, the suite under pv): readme-examples.deep.test.ts.
 */
export function isLongExample(ex: Example): boolean {
  const a = ex.args ?? [];
  return a[0] === 'compare' || a[0] === 'bench' || a.includes('lmbench all') || a.includes('pv') || a.includes('diskbench');
}

/** The management verbs (a daemon serves them): cli/commands/domain-verbs.ts and daemon.ts. */
const MANAGEMENT_VERBS = new Set(['define', 'undefine', 'start', 'list', 'monitor', 'console', 'destroy', 'shutdown', 'reboot', 'suspend', 'resume', 'dominfo', 'domstats', 'setmem', 'schedinfo', 'daemon']);

/**
 * Examples that talk to the management daemon: run by readme-examples.deep.test.ts as a shell
 * would (runShellExample), the daemon on a scratch state directory, since they start a service.
 */
export function isManagementExample(ex: Example): boolean {
  return ex.args !== undefined && MANAGEMENT_VERBS.has(ex.args[0]!);
}

/**
 * Run one example line through /bin/sh as printed (`&&` and all), `npx xenolith` being this
 * repository's command, with the environment `env` adds and no input (end of input at once).
 */
export function runShellExample(ex: Example, dir: string, env: Record<string, string>): CliRun {
  const line = ex.line.replace(/\bnpx xenolith\b/g, `node ${join(ROOT, 'bin/xenolith.mjs')}`);
  try {
    const stdout = execSync(line, { cwd: dir, shell: '/bin/sh', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 }).toString();
    return { status: 0, stdout, stderr: '' };
  } catch (e) {
    const err = e as { status?: number; stdout?: Buffer; stderr?: Buffer };
    return { status: err.status ?? 1, stdout: err.stdout?.toString() ?? '', stderr: err.stderr?.toString() ?? '' };
  }
}

/** The quick start's npm lines: `npm start` is `xenolith demo` (test/cli/demo-cli.test.ts), `npm test` is this suite. */
export function isNpmLine(ex: Example): boolean {
  return ex.line.startsWith('npm ');
}
