// Domain definitions: one file per domain (JSON, or YAML for .yaml/.yml), validated with zod, in libvirt's spirit (name,
// mode, memory, vcpus, kernel, cmdline, disks, console, weight, on_poweroff/on_reboot/on_crash).
// An error names the file, the field and what is accepted, on one line. Paths in a definition are
// relative to its file and stored absolute. Host code; reads only the file it is given.

import { DEFAULT_ENGINE, ENGINES, type Engine } from '../machine/engine.ts';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isNode, parseDocument } from 'yaml';
import { z } from 'zod';
import { DEFAULT_PROFILE, PROFILES } from '../machine/costs.ts';
import { MAX_MEMORY_BYTES } from '../machine/memory.ts';
import { MAX_CPUS } from '../machine/limits.ts';
import { parseNetSpecs } from '../hypervisor/net/hostfwd.ts';
import { ipString, ipv4 } from '../hypervisor/net/frames.ts';

/** The virtualization modes a definition may name (all hosted by the daemon). */
export const DOMAIN_MODES = ['native', 'trap', 'bt', 'hvm', 'pv'] as const;
export type DomainMode = (typeof DOMAIN_MODES)[number];

/** What the daemon does when a domain powers off, reboots or crashes (libvirt's actions). */
export const LIFECYCLE_ACTIONS = ['destroy', 'restart', 'preserve'] as const;
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];

const PROFILE_NAMES = Object.keys(PROFILES) as [string, ...string[]];
const MAX_MIB = MAX_MEMORY_BYTES / (1 << 20);
/** most weight a domain may have (dom0_op ADJUSTDOM's bound) */
export const MAX_WEIGHT = 10000;

const action = (field: string, dflt: LifecycleAction) =>
  z.enum(LIFECYCLE_ACTIONS, { error: `${field} must be one of ${LIFECYCLE_ACTIONS.join(', ')}` }).default(dflt);

/** A domain name: what the CLI verbs and the API's paths name it by. */
export const domainNameSchema = z
  .string({ error: 'name must be a string' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, { error: 'name must be 1-63 letters, digits, "_", "." or "-", starting with a letter or digit' });

export const diskSchema = z
  .object({
    /** the file backing the block device */
    file: z.string({ error: 'file must be a path' }).min(1, { error: 'file must be a path' }),
    /** the guest's writes go to an in-memory overlay; the file is never written (QEMU's -snapshot) */
    snapshot: z.boolean({ error: 'snapshot must be true or false' }).default(true),
  })
  .strict();

export const consoleSchema = z
  .object({
    /** bytes of console output kept while no client is attached (older bytes are dropped) */
    logBytes: z
      .number({ error: 'logBytes must be a number of bytes' })
      .int({ error: 'logBytes must be a whole number of bytes' })
      .min(1024, { error: 'logBytes must be from 1024 to 16777216' })
      .max(16 * 1024 * 1024, { error: 'logBytes must be from 1024 to 16777216' })
      .default(64 * 1024),
    /** bytes typed on the console when the domain starts (\n is Enter) */
    input: z.string({ error: 'input must be a string' }).optional(),
  })
  .strict();

/** The schema of a domain definition (the file, and the API's POST /domains body). */
export const definitionSchema = z
  .object({
    name: domainNameSchema,
    mode: z.enum(DOMAIN_MODES, { error: `mode must be one of ${DOMAIN_MODES.join(', ')}` }),
    profile: z.enum(PROFILE_NAMES, { error: `profile must be one of ${PROFILE_NAMES.join(', ')}` }).default(DEFAULT_PROFILE),
    /** the CPU engine the domain's guest code runs on (as `run --engine`) */
    engine: z.enum(ENGINES as [Engine, ...Engine[]], { error: `engine must be one of ${ENGINES.join(', ')}` }).default(DEFAULT_ENGINE),
    /** guest memory in MiB (a multiple of 4 KiB: 0.25 MiB steps are not enough, 1/256 MiB are) */
    memory: z
      .number({ error: `memory must be a number of MiB from 1/256 (4 KiB) to ${MAX_MIB}` })
      .positive({ error: `memory must be a number of MiB from 1/256 (4 KiB) to ${MAX_MIB}` })
      .max(MAX_MIB, { error: `memory must be at most ${MAX_MIB} MiB (the machine's memory ceiling)` })
      .refine((m) => Number.isInteger(m * 256), { error: 'memory must be a whole number of 4 KiB pages (a multiple of 1/256 MiB)' })
      .default(32),
    /** CPUs (native) or vCPUs (trap, bt, hvm: each on a physical CPU of its own, seed 1; pv: 1..4, its shared-info page's vcpu_info slots), as `run --smp` */
    vcpus: z
      .number({ error: `vcpus must be a whole number from 1 to ${MAX_CPUS}` })
      .int({ error: `vcpus must be a whole number from 1 to ${MAX_CPUS}` })
      .min(1, { error: `vcpus must be a whole number from 1 to ${MAX_CPUS}` })
      .max(MAX_CPUS, { error: `vcpus must be a whole number from 1 to ${MAX_CPUS}` })
      .default(1),
    /** an image file or a kernel entry module (.ts, compiled for the mode's arch); default: the standard kernel */
    kernel: z.string({ error: 'kernel must be a path' }).min(1, { error: 'kernel must be a path' }).optional(),
    /** the first process and its arguments (default: init, which runs the shell) */
    cmdline: z.string({ error: 'cmdline must be a string' }).optional(),
    disks: z.array(diskSchema, { error: 'disks must be a list of { file, snapshot }' }).max(1, { error: 'disks may hold at most one disk (the machine has one block device)' }).default([]),
    console: consoleSchema.default({ logBytes: 64 * 1024 }),
    /** the proportional-share weight (BVT; pv domains on the shared host) */
    weight: z
      .number({ error: `weight must be a whole number from 1 to ${MAX_WEIGHT}` })
      .int({ error: `weight must be a whole number from 1 to ${MAX_WEIGHT}` })
      .min(1, { error: `weight must be a whole number from 1 to ${MAX_WEIGHT}` })
      .max(MAX_WEIGHT, { error: `weight must be a whole number from 1 to ${MAX_WEIGHT}` })
      .default(1),
    /** pv only: the domain is a control domain (may use dom0_op on the other pv domains of its host) */
    privileged: z.boolean({ error: 'privileged must be true or false' }).default(false),
    /**
     * the NIC's network, as `run --net`: `user` and `hostfwd=udp:127.0.0.1:HOSTPORT-[GUESTADDR]:GUESTPORT`
     * items, comma-separated (a list of such strings is accepted too); loopback only; a forward
     * with no guest address goes to the domain's own (ip); on a bridge, one gateway serves every
     * domain there, and a forward may name any of their addresses
     */
    net: z
      .union([z.string(), z.array(z.string())], { error: 'net must be a string such as "hostfwd=udp:127.0.0.1:5555-:7" (or a list of them)' })
      .transform((v) => (typeof v === 'string' ? [v] : v))
      .superRefine((v, ctx) => {
        try {
          parseNetSpecs(v);
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: (e as Error).message });
        }
      })
      .optional(),
    /** join the virtual switch of this name on the domain's host (any mode; machines on one bridge run in lockstep); domains on one bridge reach each other */
    bridge: z
      .string({ error: 'bridge must be a name such as "br0"' })
      .regex(/^[a-z][a-z0-9-]{0,15}$/, { error: 'bridge must be a name of 1 to 16 lower-case letters, digits and -, starting with a letter' })
      .optional(),
    /** the interface's IPv4 address (default 10.0.2.15; pv: in start info, the others: the NIC's NIC_IP); each domain on a bridge needs its own, in 10.0.2.0/24 */
    ip: z
      .string({ error: 'ip must be an address such as "10.0.2.16"' })
      .regex(/^10\.0\.2\.(\d{1,3})$/, { error: 'ip must be an address of the guest network 10.0.2.0/24, such as "10.0.2.16"' })
      .refine((v) => {
        const last = Number(v.split('.')[3]);
        return last >= 3 && last <= 254;
      }, { error: 'ip must be from 10.0.2.3 to 10.0.2.254 (10.0.2.2 is the gateway)' })
      .optional(),
    /** trap, bt, and hvm on shadow paging: the shadow MMU, as `run --shadow` (flush, or traced: a shadow per address space) */
    shadow: z.enum(['flush', 'traced'], { error: 'shadow must be flush or traced' }).optional(),
    /**
     * bt on the traced shadow: adaptive retranslation, as `run --bt-adaptive` (a kernel store that
     * keeps taking trace faults becomes a callout); saved, restored, migrated and recorded with
     * what it learnt. One vCPU (the traced shadow follows one vCPU's page-table writes).
     */
    bt_adaptive: z.boolean({ error: 'bt_adaptive must be true or false' }).optional(),
    /**
     * hvm: pause-loop exiting, as `run --ple` (a VMCS control with KVM's PLE_Gap 128 and
     * PLE_Window 4096: a kernel spinning at CPL 0 longer than the window exits, and the vCPU gives
     * its physical CPU to another); saved, restored, migrated and recorded with the definition
     */
    ple: z.boolean({ error: 'ple must be true or false' }).optional(),
    /**
     * log the domain's run from each `start` to FILE, as `run --record` does (docs/replay.md):
     * console keys with the machine's cycle at which each was applied, and how the run ended;
     * `xenolith run --replay FILE` repeats it. Native, trap, bt and hvm domains of any CPUs or vCPUs (pv: the shared machine, xenolith record-pv);
     * with `net` (not on a bridge), each host datagram is logged with the cycle it entered at (and
     * its `ip`, which the replay gives the guest); on a bridge, each frame that entered its NIC from
     * the bridge; a `kernel` of its own by its path and the SHA-256 of its image.
     * A plain file name (not resolved against the definition's directory): the daemon writes
     * STATE_DIR/files/FILE, and its API refuses anything else (daemon/state-dir.ts stateFileProblem).
     */
    record: z.string({ error: 'record must be a path' }).min(1, { error: 'record must be a path' }).optional(),
    on_poweroff: action('on_poweroff', 'destroy'),
    on_reboot: action('on_reboot', 'restart'),
    on_crash: action('on_crash', 'destroy'),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.record !== undefined) {
      const why =
        d.mode === 'pv'
          ? 'a pv domain shares its machine with the other pv domains, so its run depends on theirs and a replay of it alone cannot repeat it: record the whole shared machine (xenolith record-pv FILE, POST /pv-record)'
          : null;
      if (why !== null) ctx.addIssue({ code: 'custom', path: ['record'], message: why });
    }
    if (d.net !== undefined && d.bridge === undefined) {
      const own = d.ip === undefined ? 0x0a00020f : ipv4(d.ip);
      let stray;
      try {
        stray = parseNetSpecs(d.net, own).find((r) => r.guestIp !== own);
      } catch {
        // reported by the field's own check
      }
      if (stray) ctx.addIssue({ code: 'custom', path: ['net'], message: `a forward to ${ipString(stray.guestIp)} needs a bridge: the domain alone on its network is ${ipString(own)}` });
    }
    if (d.vcpus > 4 && d.mode === 'pv') ctx.addIssue({ code: 'custom', path: ['vcpus'], message: "vcpus must be at most 4 for a pv domain (its shared-info page has 4 vcpu_info slots)" });
    if (d.ple === true && d.mode !== 'hvm') ctx.addIssue({ code: 'custom', path: ['ple'], message: "ple turns on hardware assist's pause-loop exiting; it needs mode hvm" });
    if (d.privileged && d.mode !== 'pv') ctx.addIssue({ code: 'custom', path: ['privileged'], message: 'privileged applies to pv domains only (the control domain uses dom0_op)' });
    if (d.bt_adaptive === true) {
      const why =
        d.mode !== 'bt' || d.shadow !== 'traced'
          ? "bt_adaptive retranslates bt's stores that keep taking trace faults; it needs mode bt and shadow traced"
          : d.vcpus > 1
            ? "bt_adaptive counts the trace faults of the traced shadow, which follows one vCPU's page-table writes (a store by another vCPU would not fault); it needs vcpus 1"
            : null;
      if (why !== null) ctx.addIssue({ code: 'custom', path: ['bt_adaptive'], message: why });
    }
    if (d.shadow !== undefined && d.mode !== 'trap' && d.mode !== 'bt' && !(d.mode === 'hvm' && !PROFILES[d.profile]!.ept)) {
      ctx.addIssue({ code: 'custom', path: ['shadow'], message: d.mode === 'hvm' ? `shadow applies to hvm on shadow paging; profile ${d.profile}'s CPU has a second stage (EPT)` : 'shadow applies to trap, bt and hvm domains (their shadow page tables)' });
    }
  });

/** A definition as written (defaults applied). */
export type DomainDefinition = z.output<typeof definitionSchema>;
/** A definition as given (defaults optional). */
export type DomainDefinitionInput = z.input<typeof definitionSchema>;

/** A definition file that cannot be used; the message is one line naming the file and field. */
export class DefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DefinitionError';
  }
}

/** The first zod issue as "field 'a.b': message" (or just the message at the top level). */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const at = issue.path.length ? ` in '${issue.path.join('.')}'` : '';
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}${at} (accepted: ${acceptedKeys(issue.path)})`;
  }
  const path = issue.path.join('.');
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  if (missing) return `field '${path}' is missing: ${issue.message}`;
  return path ? `field '${path}': ${issue.message}` : issue.message;
}

function acceptedKeys(path: readonly PropertyKey[]): string {
  if (path[0] === 'disks') return Object.keys(diskSchema.shape).join(', ');
  if (path[0] === 'console') return Object.keys(consoleSchema.shape).join(', ');
  return Object.keys(definitionSchema.shape).join(', ');
}

/** 1-based line and column of character `pos` in `text`. */
function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `${line}:${col}`;
}

/**
 * Where JSON.parse gave up on `text`: V8 puts "at position N" in most messages; for an unexpected
 * token it quotes an excerpt instead, so the token is found there (outside string literals).
 */
function jsonErrorPosition(text: string, e: Error): number {
  const at = / at position (\d+)/.exec(e.message);
  if (at) return Number(at[1]);
  const tok = /^Unexpected token '(.)', (?:\.\.\.)?"([\s\S]*?)(?:\.\.\.)?" is not valid JSON/.exec(e.message);
  if (!tok) return text.length;
  const start = text.indexOf(tok[2]!);
  if (start < 0) return text.length;
  let inString = false;
  for (let k = start; k < text.length; k++) {
    const c = text[k];
    if (inString) {
      if (c === '\\') k++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === tok[1]) return k;
  }
  return text.length;
}

/** The reason in a JSON.parse message, without V8's quoted excerpt. */
function jsonProblem(e: Error): string {
  return e.message.replace(/, (?:\.\.\.)?"[\s\S]*$/, '').replace(/ in JSON at position \d+[\s\S]*$/, '').replace(/ at position \d+[\s\S]*$/, '');
}

/** Validate a definition object; relative paths are taken from `baseDir`. Throws DefinitionError (message without file). */
export function validateDefinition(value: unknown, baseDir?: string): DomainDefinition {
  const r = definitionSchema.safeParse(value, { reportInput: true });
  if (!r.success) throw new DefinitionError(describeIssue(r.error));
  const def = r.data;
  if (baseDir !== undefined) {
    if (def.kernel !== undefined) def.kernel = resolve(baseDir, def.kernel);
    for (const disk of def.disks) disk.file = resolve(baseDir, disk.file);
  }
  return def;
}

/** Read and validate a definition file: JSON, or YAML when it ends in .yaml or .yml. */
export function loadDefinitionFile(file: string): DomainDefinition {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DefinitionError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? String(e)})`}`);
  }
  const yaml = /\.ya?ml$/i.test(file);
  let value: unknown;
  /** where a field of the file is, for YAML (JSON.parse keeps no positions) */
  let fieldAt: (path: readonly PropertyKey[]) => string = () => '';
  if (yaml) {
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    const err = doc.errors[0];
    if (err) {
      const at = err.linePos?.[0];
      throw new DefinitionError(`${file}${at ? `:${at.line}:${at.col}` : ''}: not valid YAML (${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')})`);
    }
    value = doc.toJS();
    fieldAt = (path) => {
      for (let n = path.length; n > 0; n--) {
        const node = doc.getIn(path.slice(0, n) as (string | number)[], true);
        if (isNode(node) && node.range) return `:${lineCol(text, node.range[0])}`;
      }
      return '';
    };
  } else {
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new DefinitionError(`${file}:${lineCol(text, jsonErrorPosition(text, e as Error))}: not valid JSON (${jsonProblem(e as Error)})`);
    }
  }
  const r = definitionSchema.safeParse(value, { reportInput: true });
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
    throw new DefinitionError(`${file}${fieldAt(path)}: ${describeIssue(r.error)}`);
  }
  return validateDefinition(value, dirname(resolve(file)));
}
