// Recording a daemon's shared pv machine, and replaying it (docs/replay.md "pv domains of the
// daemon"). The daemon's pv domains of one profile and engine share ONE machine (daemon/host.ts):
// what one domain does moves the others (the scheduler shares the CPU between them, the frames
// one takes are not another's, and a pv guest's timing names machine frames), so a pv domain is
// never recorded alone. What is recorded is the whole machine, from its first cycle: everything
// that enters it from outside, each with the machine's cycle at which it was applied -
//
//   - `start`: a pv domain started on it (its definition as it was then, its disk's SHA-256, and
//     with a kernel of its own the SHA-256 of the image loaded from the definition's path);
//   - `keys`: console input typed to one of its domains (the console, the API, the monitor);
//   - `command`: a management command applied to one of its domains (shutdown, reboot, destroy,
//     suspend, resume, setmem, weight; save, which takes the domain away as destroy does);
//   - `settle`: the host applying a stopped domain's lifecycle action (on_poweroff, on_reboot,
//     on_crash: release, preserve, restart). The host does that between its slices, whose
//     boundaries follow wall time, so the cycle is logged like an input's (with the definition
//     then in force, which the action reads);
//   - `datagram`: a host datagram to a forward of a domain's own gateway (`net`, no bridge), as
//     it entered the gateway (forward rule, client address and port, payload).
//
// and at the end every domain's console output (length and SHA-256) and the machine's final
// counters. The file is JSON Lines like the single run's input log (hypervisor/input-log.ts), in
// its own format (`xenolith-pv-host-log`); the end line carries the SHA-256 of every line before
// it, so a changed or cut file is refused whole, in one line, before anything runs.
//
// A replay (`xenolith host-replay FILE`) builds a host of its own with the recorded machine's
// memory, runs its shared machine to each logged cycle exactly (a slice stops at the first
// instruction boundary at or after its limit, and how a run is sliced does not change it) and
// applies the logged input there through the same Host methods the API calls; the host's own
// lifecycle actions wait for their logged `settle`. It then checks the machine's counters and each
// domain's console output against the end line.

import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { OutputDigest, jsonLines, readLogText, zodIssue } from '../hypervisor/input-log.ts';
import { ENGINES, type Engine } from '../machine/translator.ts';

export const PV_HOST_LOG_FORMAT = 'xenolith-pv-host-log';
export const PV_HOST_LOG_VERSION = 1;

const cycle = z.number().int().nonnegative();
const name = z.string().min(1);
const sha = z.string().regex(/^[0-9a-f]{64}$/);

/** The recorded machine: what a replay builds. */
const machineSchema = z.strictObject({
  key: z.string(),
  profile: z.string(),
  engine: z.enum(ENGINES as [Engine, ...Engine[]]),
  /** the shared pv machine's memory (the daemon's --host-memory) */
  hostMemoryMiB: z.number().int().positive(),
});
export type RecordedMachine = z.infer<typeof machineSchema>;

const headerSchema = z.strictObject({ format: z.literal(PV_HOST_LOG_FORMAT), version: z.number().int(), machine: machineSchema });

/** Management commands logged (`save` takes the domain off the machine, as `destroy` does). */
export const PV_COMMANDS = ['shutdown', 'reboot', 'destroy', 'suspend', 'resume', 'setmem', 'weight', 'save'] as const;
export type PvCommand = (typeof PV_COMMANDS)[number];

export const pvHostEventSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('start'), cycle, name, definition: z.record(z.string(), z.unknown()), diskSha256: sha.optional(), kernelSha256: sha.optional() }),
  z.strictObject({ kind: z.literal('keys'), cycle, name, text: z.string().min(1) }),
  z.strictObject({ kind: z.literal('command'), cycle, name, command: z.enum(PV_COMMANDS), args: z.array(z.number()) }),
  z.strictObject({ kind: z.literal('settle'), cycle, name, definition: z.record(z.string(), z.unknown()) }),
  z.strictObject({ kind: z.literal('datagram'), cycle, name, rule: z.number().int().nonnegative(), address: z.string(), port: z.number().int().min(0).max(65535), base64: z.string() }),
]);
export type PvHostEvent = z.infer<typeof pvHostEventSchema>;

/** What a domain ended the recording as. */
const domainEndSchema = z.strictObject({
  name,
  status: z.string(),
  /** cycles its vCPUs ran and instructions retired since it last started (0: not on the machine) */
  cycles: z.number().int().nonnegative(),
  instructions: z.number().int().nonnegative(),
  outputBytes: z.number().int().nonnegative(),
  outputSha256: sha,
});
export type DomainEnd = z.infer<typeof domainEndSchema>;

const endSchema = z.strictObject({
  kind: z.literal('end'),
  cycle,
  /** the machine's counters at the end */
  instructions: z.number().int().nonnegative(),
  idleCycles: z.number().int().nonnegative(),
  domains: z.array(domainEndSchema),
  /** SHA-256 of every line before this one (each with its newline) */
  sha256: sha,
});
export type PvHostEnd = z.infer<typeof endSchema>;

export interface PvHostLog {
  machine: RecordedMachine;
  events: PvHostEvent[];
  end: PvHostEnd;
}

/** A bad recording, or a replay that does not follow it: one line. */
export class PvHostLogError extends Error {
  override name = 'PvHostLogError';
}

const issue = zodIssue;
const fail = (m: string): Error => new PvHostLogError(m);

/** Parse a pv host recording's text (`file` names it in errors); every line checked, and the checksum. */
export function parsePvHostLog(text: string, file: string): PvHostLog {
  const { lines, json, first } = jsonLines(text, file, 'pv host recording', PV_HOST_LOG_FORMAT, PV_HOST_LOG_VERSION, fail);
  const header = headerSchema.safeParse(first);
  if (!header.success) throw new PvHostLogError(`${file}:1: ${issue(header.error)}`);
  const hash = createHash('sha256').update(`${lines[0]}\n`);
  const events: PvHostEvent[] = [];
  let last = 0;
  for (let k = 1; k < lines.length; k++) {
    const v = json(k);
    const isEnd = typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'end';
    if (isEnd) {
      const r = endSchema.safeParse(v);
      if (!r.success) throw new PvHostLogError(`${file}:${k + 1}: ${issue(r.error)}`);
      if (k !== lines.length - 1) throw new PvHostLogError(`${file}:${k + 2}: a line after the end line`);
      if (hash.digest('hex') !== r.data.sha256) throw new PvHostLogError(`${file}:${k + 1}: checksum mismatch: the recording was changed after it was written`);
      if (r.data.cycle < last) throw new PvHostLogError(`${file}:${k + 1}: cycle ${r.data.cycle} comes before the previous line's cycle ${last}`);
      return { machine: header.data.machine, events, end: r.data };
    }
    const r = pvHostEventSchema.safeParse(v);
    if (!r.success) throw new PvHostLogError(`${file}:${k + 1}: ${issue(r.error)}`);
    if (r.data.cycle < last) throw new PvHostLogError(`${file}:${k + 1}: cycle ${r.data.cycle} comes before the previous line's cycle ${last}`);
    last = r.data.cycle;
    hash.update(`${lines[k]}\n`);
    events.push(r.data);
  }
  throw new PvHostLogError(`${file}:${lines.length}: truncated: no end line (the recording did not finish)`);
}

export function readPvHostLog(file: string): PvHostLog {
  return parsePvHostLog(readLogText(file, fail), file);
}

/** Is this text a pv host recording (its first line names the format)? */
export function isPvHostLog(text: string): boolean {
  const nl = text.indexOf('\n');
  return (nl < 0 ? text : text.slice(0, nl)).includes(`"format":"${PV_HOST_LOG_FORMAT}"`);
}

/**
 * Writes a pv host recording as the machine runs: the header at once, each event as it is
 * applied (a daemon that dies leaves a file with no end line, which a replay refuses as
 * unfinished), the end line with the checksum last. Keeps each domain's console output digest.
 */
export class PvHostLogWriter {
  private readonly fd: number;
  private readonly hash = createHash('sha256');
  private readonly digests = new Map<string, OutputDigest>();
  private last = 0;

  constructor(
    readonly file: string,
    readonly machine: RecordedMachine,
  ) {
    try {
      this.fd = openSync(file, 'w');
    } catch (e) {
      throw new PvHostLogError(`${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    this.line({ format: PV_HOST_LOG_FORMAT, version: PV_HOST_LOG_VERSION, machine });
  }

  private line(v: unknown): void {
    const text = `${JSON.stringify(v)}\n`;
    this.hash.update(text);
    writeSync(this.fd, text);
  }

  event(e: PvHostEvent): void {
    this.last = e.cycle;
    this.line(e);
  }

  /** a console byte of domain `name` */
  output(name: string, byte: number): void {
    let d = this.digests.get(name);
    if (!d) {
      d = new OutputDigest();
      this.digests.set(name, d);
    }
    d.add(byte);
  }

  /** The names of the domains that printed, in the order they first did. */
  get printed(): string[] {
    return [...this.digests.keys()];
  }

  /** Write the end line (`domains` without their output, which this writer adds) and close the file. */
  finish(end: { cycle: number; instructions: number; idleCycles: number; domains: Omit<DomainEnd, 'outputBytes' | 'outputSha256'>[] }): PvHostEnd {
    const domains = end.domains.map((d) => {
      const o = this.digests.get(d.name) ?? new OutputDigest();
      return { ...d, outputBytes: o.bytes, outputSha256: o.digest() };
    });
    const line: PvHostEnd = { kind: 'end', cycle: Math.max(end.cycle, this.last), instructions: end.instructions, idleCycles: end.idleCycles, domains, sha256: this.hash.digest('hex') };
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
    closeSync(this.fd);
    return line;
  }
}

