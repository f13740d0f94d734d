// Runs `xenolith ARGS...` in the test's own process (cli/program.ts's runCli) with stdout and
// stderr captured: the same code path as the command, without spawning Node and tsx per call.
// Tests must give console input with --input (stdin is not the test's to read).
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
