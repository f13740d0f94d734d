// Validation of the CLI's option values with zod: each verb declares a schema, and a bad value
// becomes one CliError line naming the option and what it accepts (never a stack trace).
import { MAX_CPUS } from '../machine/limits.ts';
import { z } from 'zod';
import { Option } from 'commander';
import { DEFAULT_PROFILE, PROFILES } from '../machine/costs.ts';
import { CliError } from './errors.ts';
import { MODE_NAMES } from '../hypervisor/modes.ts';
import { MAX_TRACE_RECORDS } from '../hypervisor/core/trace.ts';
import { DEFAULT_ENGINE, ENGINES, type Engine } from '../machine/engine.ts';
import { parseNetSpecs } from '../hypervisor/net/hostfwd.ts';
import type { HostForward } from '../hypervisor/net/gateway.ts';


const PROFILE_NAMES = Object.keys(PROFILES);

/** The `--profile` option every verb that runs a guest takes: flags, help (naming the profiles), default. */
export const PROFILE_OPTION = ['--profile <name>', `CPU cost profile: ${PROFILE_NAMES.join(', ')}`, DEFAULT_PROFILE] as const;

/**
 * The `--engine` option every verb that runs guest code takes: flags, help, default (the help
 * names the default as the translator or XENOLITH_ENGINE, so it reads the same in any environment).
 */
export function engineOption(description = `CPU engine: ${ENGINES.join(' or ')} (same cycles, instructions and output; docs/engine.md)`): Option {
  return new Option('--engine <name>', description).default(DEFAULT_ENGINE, ENGINE_DEFAULT_TEXT);
}
/** How help names the default engine. */
export const ENGINE_DEFAULT_TEXT = '`translator`, or `$XENOLITH_ENGINE`';

export const engineSchema = z.enum(ENGINES as unknown as [Engine, ...Engine[]], {
  error: (issue) => `unknown engine "${String(issue.input)}" (choose ${ENGINES.join(' or ')})`,
});

/** A whole number written in decimal (underscores allowed: 100_000_000). */
function wholeNumber(flag: string, min: number, max: number, what = 'a whole number') {
  return z
    .string()
    .transform((s) => Number(s.replace(/_/g, '')))
    .pipe(
      z
        .number({ error: `${flag} must be ${what}` })
        .refine((n) => Number.isSafeInteger(n), { error: `${flag} must be ${what}` })
        .refine((n) => n >= min && n <= max, { error: `${flag} must be ${what} from ${min} to ${max}` }),
    );
}

export const profileSchema = z.string().refine((p) => PROFILE_NAMES.includes(p), {
  error: (issue) => `unknown CPU cost profile "${String(issue.input)}" (choose one of ${PROFILE_NAMES.join(', ')})`,
});

export const modeSchema = z.string().refine((m) => (MODE_NAMES as readonly string[]).includes(m), {
  error: (issue) => `unknown mode "${String(issue.input)}" (choose one of ${MODE_NAMES.join(', ')})`,
});

/** hvm's translation (`--mmu`). */
export const MMUS = ['shadow', 'ept'] as const;
export const mmuSchema = z.enum(MMUS, { error: (issue) => `unknown --mmu "${String(issue.input)}" (choose one of ${MMUS.join(', ')})` });

/** trap's and bt's shadow MMU (`--shadow`). */
export const SHADOWS = ['flush', 'traced'] as const;
export const shadowSchema = z.enum(SHADOWS, { error: (issue) => `unknown --shadow "${String(issue.input)}" (choose one of ${SHADOWS.join(', ')})` });

export const runOptionsSchema = z.object({
  mode: modeSchema,
  engine: engineSchema.optional(),
  mmu: mmuSchema.optional(),
  shadow: shadowSchema.optional(),
  profile: profileSchema,
  memory: wholeNumber('--memory', 1, 1024, 'a number of MiB').pipe(z.number()).transform((mib) => mib * 1024 * 1024),
  maxCycles: wholeNumber('--max-cycles', 1, Number.MAX_SAFE_INTEGER, 'a positive whole number').optional(),
  traceRecords: wholeNumber('--trace-records', 1, MAX_TRACE_RECORDS, 'a number of records').optional(),
  smp: wholeNumber('--smp', 1, MAX_CPUS, 'a number of CPUs').optional(),
  smpSeed: wholeNumber('--smp-seed', 0, 0xffffffff, 'a whole number').optional(),
  smpQuantum: wholeNumber('--smp-quantum', 1, 1_000_000_000, 'a number of cycles').optional(),
  pcpus: wholeNumber('--pcpus', 1, MAX_CPUS, 'a number of physical CPUs').optional(),
  timeout: z
    .string()
    .transform((v) => Number(v))
    .pipe(z.number({ error: '--timeout must be a number of seconds' }).refine((n) => Number.isFinite(n) && n > 0, { error: '--timeout must be a positive number of seconds' }))
    .optional(),
});

/** One host-forward rule of `--net` (hypervisor/net/gateway.ts HostForward). */
export type NetForward = HostForward;

/**
 * `--net` values (repeatable): each a comma-separated list of `user` (the gateway alone) and
 * `hostfwd=udp:127.0.0.1:HOSTPORT-:GUESTPORT` items (hypervisor/net/hostfwd.ts). Host port 0 takes any free port.
 */
export const netSchema = z.array(z.string()).transform((values, ctx) => {
  try {
    return parseNetSpecs(values);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `--net: ${(e as Error).message}` });
    return z.NEVER;
  }
});

export const compareOptionsSchema = z.object({
  profile: profileSchema,
  engine: engineSchema.optional(),
  runs: wholeNumber('--runs', 1, 50),
  jobs: wholeNumber('--jobs', 1, 64),
  maxCycles: wholeNumber('--max-cycles', 1, Number.MAX_SAFE_INTEGER, 'a positive whole number'),
  modes: z
    .string()
    .optional()
    .transform((list) => (list === undefined ? undefined : list.split(',').map((m) => m.trim())))
    .pipe(z.array(modeSchema).optional()),
});

/** Parse `values` with `schema`; the first problem becomes a CliError. */
export function parseOptions<S extends z.ZodType>(schema: S, values: unknown): z.output<S> {
  const r = schema.safeParse(values);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new CliError(issue.message);
}

/**
 * Wall-clock runs per benchmark when none is asked for (`compare --runs`, and the demo's
 * comparison): their median, after the untimed warm-up. One run would report mostly the
 * JavaScript engine's warm-up for the modes whose host code it compiles last (bt's chains: the
 * first timed run of `lmbench all` took 150-300 ms against about 70 for the later ones;
 * docs/engine.md, "The twenty-sixth round").
 */
export const DEFAULT_COMPARE_RUNS = 3;
