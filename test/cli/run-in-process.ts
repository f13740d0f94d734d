// Runs `xenolith ARGS...` in the test's own process (cli/program.ts's runCli) with stdout and
// stderr captured: the same code path as the command, without spawning Node and tsx per call.
// Tests must give console input with --input (stdin is not the test's to read), or type into the
// fake terminal of xenolithLive.
import { PassThrough } from 'node:stream';
import { runCli } from '../../cli/program.ts';

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

type Write = typeof process.stdout.write;

function capture(stream: NodeJS.WriteStream, into: Buffer[]): () => void {
  const original = stream.write;
  stream.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((e?: Error | null) => void), cb?: (e?: Error | null) => void) => {
    into.push(typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : Buffer.from(chunk));
    const done = typeof encoding === 'function' ? encoding : cb;
    done?.();
    return true;
  }) as Write;
  return () => {
    stream.write = original;
  };
}

export async function xenolith(...args: string[]): Promise<CliRun> {
  return xenolithIn(process.cwd(), ...args);
}

/** `xenolith ARGS...` run with `cwd` as the working directory (the test pool runs files in forks). */
export async function xenolithIn(cwd: string, ...args: string[]): Promise<CliRun> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const before = process.cwd();
  process.chdir(cwd);
  const restoreOut = capture(process.stdout, out);
  const restoreErr = capture(process.stderr, err);
  let status: number;
  try {
    status = await runCli(args);
  } finally {
    restoreOut();
    restoreErr();
    process.chdir(before);
  }
  return { status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** What a test sees of a live run: its output so far (latin1, byte for byte as the console writes it) and, with a terminal, the keys it types. */
export interface LiveRun {
  out: () => string;
  err: () => string;
  /** type on the fake terminal (only with `terminal: true`) */
  keys: (text: string) => void;
}

/**
 * `xenolith ARGS` in this process while `during` watches its output as it comes (and, with
 * `terminal`, types into process.stdin replaced by a fake terminal: isTTY, raw mode). `during`
 * starts with the run; once the run is over it is awaited, for at most `settleMs` if given.
 */
export async function xenolithLive(args: string[], during: (io: LiveRun) => Promise<void>, opts: { terminal?: boolean; settleMs?: number } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const hook = (append: (s: string) => void) =>
    ((chunk: string | Uint8Array, enc?: unknown, cb?: unknown) => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1'));
      const done = typeof enc === 'function' ? enc : cb;
      if (typeof done === 'function') (done as () => void)();
      return true;
    }) as Write;
  const origOut = process.stdout.write;
  const origErr = process.stderr.write;
  const stdinDesc = Object.getOwnPropertyDescriptor(process, 'stdin')!;
  const fake = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => fake });
  if (opts.terminal) Object.defineProperty(process, 'stdin', { value: fake, configurable: true });
  process.stdout.write = hook((t) => (stdout += t));
  process.stderr.write = hook((t) => (stderr += t));
  try {
    const watching = during({ out: () => stdout, err: () => stderr, keys: (t) => void fake.write(Buffer.from(t, 'latin1')) });
    const status = await runCli(args);
    await (opts.settleMs === undefined ? watching : Promise.race([watching, new Promise((r) => setTimeout(r, opts.settleMs))]));
    return { status, stdout, stderr };
  } finally {
    process.stdout.write = origOut;
    process.stderr.write = origErr;
    if (opts.terminal) Object.defineProperty(process, 'stdin', stdinDesc);
  }
}
