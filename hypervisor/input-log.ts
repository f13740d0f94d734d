// The input log of record/replay (`run --record FILE`, `run --replay FILE`): everything that
// enters a run from outside - console keys, host datagrams through a hostfwd, and the way the run
// ended (Ctrl-], a wall-clock timeout) - each with the simulated cycle at which it was applied.
// Host code, no sockets or terminals here: the CLI writes the log and feeds a replay from it.
//
// Why this is enough to repeat a run: a guest's run is a function of its boot settings and of
// the inputs it got at given cycles. Inputs reach a guest only between the run loop's slices
// (cli/session.ts `drive`), that is at an instruction boundary where a slice stopped; a slice
// stops at the first boundary at or after its limit, so running the replay to exactly the
// logged cycle stops at that same boundary, and slicing does not change a run. The log's cycles
// count from the session's start (the guest's first instruction, after the domain was built).
//
// The format is JSON Lines, version INPUT_LOG_VERSION: line 1 the header (the settings the run
// was booted with), then one event per line in cycle order, the last line the end (how the run
// ended, its final cycle count, and the console output's length and SHA-256, which a replay
// checks). Every line is checked with zod; a bad file gets one line `FILE:LINE: reason`.

import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { z } from 'zod';

export const INPUT_LOG_FORMAT = 'xenolith-input-log';
export const INPUT_LOG_VERSION = 1;

const cycle = z.number().int().nonnegative();

/** The settings a run was booted with: what a replay boots with (the options that change a run). */
export const runSettingsSchema = z.strictObject({
  mode: z.string(),
  profile: z.string(),
  engine: z.string(),
  memoryMiB: z.number().int().positive(),
  /** the image file given to run (none: the standard guest) */
  image: z.string().optional(),
  /**
   * the SHA-256 of that image as it was loaded (its encoded bytes; a kernel entry module's, as
   * compiled): a replay refuses an image that differs
   */
  imageSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  add: z.array(z.string()),
  cmdline: z.string().optional(),
  mmu: z.enum(['shadow', 'ept']).optional(),
  hosted: z.boolean().optional(),
  /** --net-rx (pv): copy or flip */
  netRx: z.enum(['copy', 'flip']).optional(),
  /** --shadow (trap, bt, hvm on shadow paging): flush or traced */
  shadow: z.enum(['flush', 'traced']).optional(),
  /** --bt-adaptive (bt with the traced shadow) */
  btAdaptive: z.boolean().optional(),
  /** --hypercalls: the handler module */
  hypercalls: z.string().optional(),
  /** the console input typed before the guest starts (--input or piped stdin, with its end-of-input) */
  input: z.string().optional(),
  /** the --net specifications as given */
  net: z.array(z.string()),
  /**
   * a daemon domain on a bridge: its NIC's station address (48 bits) and IPv4 address there; the
   * frames that entered its NIC from the bridge are `frame` events, and what it sends goes nowhere
   */
  bridge: z.strictObject({ mac: z.number().int().nonnegative().max(2 ** 48 - 1), ip: z.string() }).optional(),
  /**
   * a daemon domain with `net` and no bridge at another address than 10.0.2.15: the guest's IPv4
   * address (its NIC's, or pv's start info), the address its forwards go to
   */
  ip: z.string().optional(),
  /** the --disk file's SHA-256 at the start (a replay needs a disk with the same bytes) */
  diskSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /** --smp (trap, bt, hvm, pv: vCPUs) and its shaping options, as given (absent: one CPU, the defaults) */
  smp: z.number().int().min(2).max(8).optional(),
  smpSeed: z.number().int().nonnegative().optional(),
  smpQuantum: z.number().int().positive().optional(),
  pcpus: z.number().int().positive().optional(),
  spinYield: z.boolean().optional(),
  /** --cosched (trap, bt, hvm): the vCPUs in gang slices */
  cosched: z.boolean().optional(),
  /** --ple (hvm): pause-loop exiting with KVM's PLE_Gap and PLE_Window */
  ple: z.boolean().optional(),
});
export type RunSettings = z.infer<typeof runSettingsSchema>;

const headerSchema = z.strictObject({
  format: z.literal(INPUT_LOG_FORMAT),
  version: z.number().int(),
  run: runSettingsSchema,
});

/** How a run ended (cli/session.ts RunEnd). */
export const RUN_ENDS = ['guest', 'max-cycles', 'timeout', 'left'] as const;
export type LoggedEnd = (typeof RUN_ENDS)[number];

export const inputEventSchema = z.discriminatedUnion('kind', [
  /** keys typed on the console (one char per byte) */
  z.strictObject({ kind: z.literal('keys'), cycle, text: z.string().min(1) }),
  /** a datagram a host client sent to hostfwd rule `rule`, from address:port; its payload in base64 */
  z.strictObject({ kind: z.literal('datagram'), cycle, rule: z.number().int().nonnegative(), address: z.string(), port: z.number().int().min(0).max(65535), base64: z.string() }),
  /** a frame that entered the NIC from the bridge (a daemon domain on a bridge), in base64 */
  z.strictObject({ kind: z.literal('frame'), cycle, base64: z.string() }),
  /** a management command applied to the running guest (the daemon's: setmem, shutdown) */
  z.strictObject({ kind: z.literal('command'), cycle, command: z.string(), args: z.array(z.union([z.string(), z.number()])) }),
]);
export type InputEvent = z.infer<typeof inputEventSchema>;

const endSchema = z.strictObject({
  kind: z.literal('end'),
  cycle,
  end: z.enum(RUN_ENDS),
  outputBytes: z.number().int().nonnegative(),
  outputSha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type EndRecord = z.infer<typeof endSchema>;

export interface InputLog {
  run: RunSettings;
  events: InputEvent[];
  end: EndRecord;
}

/** A bad input log: the message is one line, `FILE:LINE: reason`. */
export class InputLogError extends Error {
  override name = 'InputLogError';
}

/** A zod error's first issue, in one line (`path: message`). */
export function zodIssue(e: z.ZodError): string {
  const i = e.issues[0]!;
  return `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`;
}
const issue = zodIssue;

/**
 * The lines of a JSON-lines recording (`what`: its kind, in messages) whose first line names
 * `format` and `version`: each line parsed on demand by `json(k)`; an empty text, a line that is
 * not JSON, another format or version are `fail(message)`, one line each (`FILE:LINE: reason`).
 */
export function jsonLines(text: string, file: string, what: string, format: string, version: number, fail: (message: string) => Error): { lines: string[]; json: (k: number) => unknown; first: unknown } {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const json = (k: number): unknown => {
    try {
      return JSON.parse(lines[k]!);
    } catch {
      throw fail(`${file}:${k + 1}: not a JSON line`);
    }
  };
  if (lines.length === 0) throw fail(`${file}: empty (not a xenolith ${what})`);
  const first = json(0);
  if (typeof first !== 'object' || first === null || (first as { format?: unknown }).format !== format) {
    throw fail(`${file}:1: not a xenolith ${what} (no "format": "${format}")`);
  }
  const v = (first as { version?: unknown }).version;
  if (v !== version) throw fail(`${file}:1: ${what} version ${JSON.stringify(v)}; this xenolith reads version ${version}`);
  return { lines, json, first };
}

/** A recording file's text; a file that cannot be read is `fail(message)`, one line. */
export function readLogText(file: string, fail: (message: string) => Error): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw fail(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/** Parse an input log's text (`file` names it in errors). */
export function parseInputLog(text: string, file: string): InputLog {
  const { lines, json, first } = jsonLines(text, file, 'input log', INPUT_LOG_FORMAT, INPUT_LOG_VERSION, (m) => new InputLogError(m));
  const header = headerSchema.safeParse(first);
  if (!header.success) throw new InputLogError(`${file}:1: ${issue(header.error)}`);
  const events: InputEvent[] = [];
  let last = 0;
  for (let k = 1; k < lines.length; k++) {
    const v = json(k);
    const isEnd = typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'end';
    const r = isEnd ? endSchema.safeParse(v) : inputEventSchema.safeParse(v);
    if (!r.success) throw new InputLogError(`${file}:${k + 1}: ${issue(r.error)}`);
    const c = r.data.cycle;
    if (c < last) throw new InputLogError(`${file}:${k + 1}: cycle ${c} comes before the previous line's cycle ${last}`);
    last = c;
    if (isEnd) {
      if (k !== lines.length - 1) throw new InputLogError(`${file}:${k + 2}: a line after the end line`);
      return { run: header.data.run, events, end: r.data as EndRecord };
    }
    events.push(r.data as InputEvent);
  }
  throw new InputLogError(`${file}:${lines.length}: truncated: no end line (the recording did not finish)`);
}

/** Read and parse an input log file; a file that cannot be read is one line too. */
export function readInputLog(file: string): InputLog {
  return parseInputLog(readLogText(file, (m) => new InputLogError(m)), file);
}

/** SHA-256 of bytes, in hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Console output seen so far: its length and hash (what the end line holds). */
export class OutputDigest {
  private readonly hash = createHash('sha256');
  private pending = new Uint8Array(4096);
  private used = 0;
  bytes = 0;

  add(byte: number): void {
    if (this.used === this.pending.length) this.flush();
    this.pending[this.used++] = byte;
    this.bytes++;
  }

  private flush(): void {
    this.hash.update(this.pending.subarray(0, this.used));
    this.used = 0;
  }

  /** the hex digest (ends the digest) */
  digest(): string {
    this.flush();
    return this.hash.digest('hex');
  }
}

/**
 * Writes an input log as the run goes: the header at once, each event as it is applied (a
 * session that dies keeps what it had), the end line last.
 */
export class InputLogWriter {
  private fd: number;

  constructor(
    readonly file: string,
    run: RunSettings,
  ) {
    try {
      this.fd = openSync(file, 'w');
    } catch (e) {
      throw new InputLogError(`${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    this.line({ format: INPUT_LOG_FORMAT, version: INPUT_LOG_VERSION, run });
  }

  private line(v: unknown): void {
    writeSync(this.fd, `${JSON.stringify(v)}\n`);
  }

  event(e: InputEvent): void {
    this.line(e);
  }

  /** Write the end line and close the file. */
  finish(end: Omit<EndRecord, 'kind'>): void {
    this.line({ kind: 'end', ...end });
    closeSync(this.fd);
  }
}
