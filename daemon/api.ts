// The daemon's HTTP API as data: every route with its zod schemas (path parameters, body,
// response), from which the server validates input and the OpenAPI 3.1 document is generated
// (zod's JSON Schema output is the 2020-12 dialect OpenAPI 3.1 uses). One definition per fact: a
// field added here is validated, documented and checked against responses in one place.
// Pure data and functions; no I/O.

import { z } from 'zod';
import { definitionSchema, DOMAIN_MODES, domainNameSchema, MAX_WEIGHT } from './definition.ts';
import { stateFileProblem } from './state-dir.ts';
import { MAX_TRACE_RECORDS, TRACE_KINDS } from '../hypervisor/core/trace.ts';

export const DOMAIN_STATUSES = ['defined', 'running', 'paused', 'shut off', 'crashed'] as const;

export const errorSchema = z.object({ error: z.string() }).meta({ id: 'Error', description: 'A refused request: one line saying why' });

export const domainInfoSchema = z
  .object({
    name: z.string(),
    id: z.number().int().nullable().meta({ description: "the hypervisor's domain id while the domain exists, else null" }),
    status: z.enum(DOMAIN_STATUSES),
    mode: z.enum(DOMAIN_MODES),
    profile: z.string(),
    memoryMiB: z.number(),
    vcpus: z.number().int(),
    weight: z.number().int(),
    stopReason: z.string().nullable(),
    stopDetail: z.string().nullable(),
    stopStatus: z.number().int().nullable(),
    restarts: z.number().int(),
    machine: z.string().nullable().meta({ description: "'pv:PROFILE' for the shared pv machine ('pv:PROFILE:interpreter' under the interpreter engine), 'own' for a machine of its own" }),
    cycles: z.number(),
    instructions: z.number(),
  })
  .strict()
  .meta({ id: 'DomainInfo' });

export const bridgesSchema = z
  .object({
    bridges: z.array(
      z
        .object({
          name: z.string(),
          ports: z.number().int().meta({ description: "ports attached now: the domains' and the gateway's" }),
          machines: z.number().int().meta({ description: 'machines on it now (all pv domains of a profile share one)' }),
          gateway: z.boolean().meta({ description: 'whether it carries a virtual gateway (a domain with net is on it)' }),
          counters: z.object({ forwarded: z.number(), flooded: z.number(), dropped: z.number(), late: z.number() }).strict(),
        })
        .strict(),
    ),
  })
  .strict()
  .meta({ id: 'Bridges' });

export const domainListSchema = z.object({ domains: z.array(domainInfoSchema) }).strict().meta({ id: 'DomainList' });
export const defineResultSchema = z.object({ created: z.boolean(), domain: domainInfoSchema }).strict().meta({ id: 'DefineResult' });
export const okSchema = z.object({ ok: z.literal(true) }).strict().meta({ id: 'Ok' });
export const domstatsSchema = z.object({ info: domainInfoSchema, stats: z.record(z.string(), z.unknown()) }).strict().meta({ id: 'DomainStats' });
export const schedinfoSchema = z.object({ name: z.string(), scheduler: z.string(), weight: z.number().int(), cycles: z.number() }).strict().meta({ id: 'SchedInfo' });
export const monitorResultSchema = z.object({ output: z.string() }).strict().meta({ id: 'MonitorResult' });
export const daemonInfoSchema = z
  .object({ pid: z.number().int(), version: z.string(), stateDir: z.string(), port: z.number().int(), socket: z.string(), pacing: z.enum(['wall', 'fast']), uptimeMs: z.number() })
  .strict()
  .meta({ id: 'DaemonInfo' });

export const setmemBodySchema = z
  .object({ memory: definitionSchema.shape.memory.unwrap() })
  .strict()
  .meta({ id: 'SetMem', description: "memory in MiB: a running pv domain's balloon target (up to its memory at start); otherwise the definition's memory, for the next start" });
export const saveFileBodySchema = z
  .object({
    file: z
      .string({ error: 'file must be a string' })
      .min(1, { error: 'file must not be empty' })
      .refine((f) => stateFileProblem(f) === null, { error: (iss) => stateFileProblem(String(iss.input)) ?? '' }),
  })
  .strict()
  .meta({ id: 'SaveFile', description: 'a save file of the daemon\'s state directory, as a plain name: STATE_DIR/files/NAME (docs/migration.md "The save format")' });
export const pvRecordBodySchema = z
  .object({
    file: saveFileBodySchema.shape.file.meta({ description: 'the recording: STATE_DIR/files/NAME (a plain name)' }),
    profile: definitionSchema.shape.profile,
    engine: definitionSchema.shape.engine,
  })
  .strict()
  .meta({ id: 'PvRecord', description: 'record the shared pv machine of a profile and engine, whole, from its first cycle (docs/replay.md "pv domains of the daemon")' });
export const pvRecordingSchema = z.object({ machine: z.string(), file: z.string() }).strict().meta({ id: 'PvRecording' });
export const pvRecordEndSchema = z
  .object({
    kind: z.literal('end'),
    cycle: z.number().int(),
    instructions: z.number().int(),
    idleCycles: z.number().int(),
    domains: z.array(z.object({ name: z.string(), status: z.string(), cycles: z.number().int(), instructions: z.number().int(), outputBytes: z.number().int(), outputSha256: z.string() }).strict()),
    sha256: z.string(),
  })
  .strict()
  .meta({ id: 'PvRecordEnd', description: "the recording's end line: the machine's final counters, each domain's state and console output digest, the checksum of the lines before" });
export const migrateBodySchema = z
  .object({
    to: z
      .string({ error: 'to must be a URL' })
      .refine((u) => /^http:\/\/[^/\s]+\/?$/.test(u), { error: "to must be the destination daemon's URL, http://HOST:PORT" })
      .meta({ description: "the destination daemon's URL, http://HOST:PORT (its daemon.json's port)" }),
    token: z.string({ error: 'token must be a string' }).min(1, { error: "token: the destination's token is needed" }).max(200, { error: 'token must be at most 200 characters' }).meta({ description: "the destination daemon's token (its STATE_DIR/token)" }),
    linkMbps: z.number({ error: 'linkMbps must be a number' }).positive({ error: 'linkMbps must be positive' }).max(1_000_000, { error: 'linkMbps must be at most 1000000' }).optional().meta({ description: "the modelled link's bandwidth in megabits per second of simulated time (default 1000)" }),
    latencyMs: z.number({ error: 'latencyMs must be a number' }).min(0, { error: 'latencyMs must be >= 0' }).max(1000, { error: 'latencyMs must be at most 1000' }).optional().meta({ description: "the modelled link's one-way latency in ms of simulated time (default 0.1)" }),
  })
  .strict()
  .meta({ id: 'MigrateRequest', description: 'live migration to another daemon (docs/migration.md "The protocol")' });
export const migrationReportSchema = z
  .object({
    name: z.string(),
    rounds: z.array(z.object({ round: z.number().int(), pagesSent: z.number().int(), pagesDirtied: z.number().int(), cycles: z.number().int() }).strict()),
    stopReason: z.enum(['round-limit', 'small-round', 'sent-cap', 'no-log-dirty']),
    stopAndCopyPages: z.number().int(),
    stateBytes: z.number().int(),
    pagesSent: z.number().int(),
    downtimeCycles: z.number().int(),
    downtimeMs: z.number(),
    wallDowntimeMs: z.number(),
    logDirtyFaults: z.number().int(),
  })
  .strict()
  .meta({ id: 'MigrationReport', description: 'the pre-copy rounds (pages sent, pages dirtied meanwhile, simulated cycles on the link), why pre-copy stopped, the stop-and-copy, the downtime in simulated and wall ms' });
export const schedinfoBodySchema = z
  .object({ weight: z.number({ error: `weight must be a whole number from 1 to ${MAX_WEIGHT}` }).int().min(1, { error: `weight must be a whole number from 1 to ${MAX_WEIGHT}` }).max(MAX_WEIGHT, { error: `weight must be a whole number from 1 to ${MAX_WEIGHT}` }) })
  .strict()
  .meta({ id: 'SchedParams' });
export const monitorBodySchema = z
  .object({ command: z.string({ error: 'command must be a string' }).min(1, { error: 'command must not be empty' }).max(200, { error: 'command must be at most 200 characters' }) })
  .strict()
  .meta({ id: 'MonitorCommand' });
export const consoleInputSchema = z
  .object({ data: z.string({ error: 'data must be a string' }).max(65536, { error: 'data must be at most 65536 characters' }) })
  .strict()
  .meta({ id: 'ConsoleInput', description: 'bytes to type on the console (each character one byte, latin1)' });
export const definitionBodySchema = definitionSchema.meta({ id: 'DomainDefinition' });
export const traceBodySchema = z
  .object({
    cycles: z.number({ error: 'cycles must be a whole number from 1 to 3000000000' }).int({ error: 'cycles must be a whole number from 1 to 3000000000' }).min(1, { error: 'cycles must be a whole number from 1 to 3000000000' }).max(3_000_000_000, { error: 'cycles must be a whole number from 1 to 3000000000' }).optional().meta({ description: 'simulated cycles to trace (default 30000000: 10 ms at 3 GHz); a trace also ends after 2 s of wall time' }),
    records: z.number({ error: `records must be a whole number from 1 to ${MAX_TRACE_RECORDS}` }).int({ error: `records must be a whole number from 1 to ${MAX_TRACE_RECORDS}` }).min(1, { error: `records must be a whole number from 1 to ${MAX_TRACE_RECORDS}` }).max(MAX_TRACE_RECORDS, { error: `records must be a whole number from 1 to ${MAX_TRACE_RECORDS}` }).optional().meta({ description: 'the trace buffer in records (default 65536); later records are dropped and counted' }),
  })
  .strict()
  .meta({ id: 'TraceRequest' });
export const chromeTraceSchema = z
  .object({
    traceEvents: z.array(z.record(z.string(), z.unknown())),
    displayTimeUnit: z.literal('ns'),
    otherData: z
      .object({
        machine: z.string(),
        clockMHz: z.number(),
        records: z.number().int(),
        dropped: z.number().int(),
        capacity: z.number().int(),
        fromCycle: z.number(),
        toCycle: z.number(),
        counts: z.object(Object.fromEntries(TRACE_KINDS.map((k) => [k, z.number().int()]))),
      })
      .strict(),
  })
  .strict()
  .meta({ id: 'ChromeTrace', description: 'the Chrome Trace Event format (Perfetto, chrome://tracing): one thread per domain; exits, traps, event-channel notifications and interrupts as instant events, hypercalls and vCPU run slices as complete events; ts in microseconds of simulated time' });

export type Method = 'get' | 'post' | 'put' | 'delete';

/** One route: what the server checks and the OpenAPI document says. `op` names the host command. */
export interface Route {
  method: Method;
  path: string;
  op: string;
  summary: string;
  body?: z.ZodType;
  /** a JSON response schema, or 'sse' for an event stream */
  response: z.ZodType | 'sse';
  /** extra error statuses this route answers with (401, 403, 400 are on every route) */
  errors?: number[];
}

const lifecycle = (verb: string, summary: string): Route => ({ method: 'post', path: `/domains/{name}/${verb}`, op: verb, summary, response: domainInfoSchema, errors: [404, 409] });

export const ROUTES: Route[] = [
  { method: 'get', path: '/daemon', op: 'daemon', summary: 'the daemon: pid, version, state directory, port, socket, pacing', response: daemonInfoSchema },
  { method: 'post', path: '/daemon/stop', op: 'stop', summary: 'end the daemon (running domains are destroyed; definitions stay)', response: okSchema },
  { method: 'get', path: '/bridges', op: 'bridges', summary: "the host's bridges (virtual switches): ports and machines on each, its gateway, its frame counters; a bridge is made when a domain first joins it and stays (one a failed incoming migration made goes with it)", response: bridgesSchema },
  { method: 'get', path: '/domains', op: 'list', summary: 'every defined domain and its state (virsh list --all)', response: domainListSchema },
  { method: 'post', path: '/domains', op: 'define', summary: 'define a domain, or redefine one (applies at its next start); paths must be absolute', body: definitionBodySchema, response: defineResultSchema, errors: [409] },
  { method: 'get', path: '/domains/{name}', op: 'dominfo', summary: "a domain's state (virsh dominfo)", response: domainInfoSchema, errors: [404] },
  { method: 'delete', path: '/domains/{name}', op: 'undefine', summary: 'forget a domain that is not running (virsh undefine)', response: okSchema, errors: [404, 409] },
  { method: 'get', path: '/domains/{name}/definition', op: 'definition', summary: "a domain's definition (defaults filled in)", response: definitionBodySchema, errors: [404] },
  lifecycle('start', 'start a defined domain'),
  lifecycle('shutdown', "ask the guest to power off (pv: a shutdown request through the control path, VIRQ_CONTROL; other modes: end of input on its console, so the standard guest's shell exits and init powers off); on_poweroff applies"),
  lifecycle('reboot', 'pv: a reboot request through the control path, then on_reboot applies; other modes: destroy and start again (on_reboot restart), or only destroy (on_reboot destroy)'),
  lifecycle('destroy', 'stop a domain at once and release its memory (also a preserved one)'),
  lifecycle('suspend', 'pause a running domain (its vCPU is no longer scheduled)'),
  lifecycle('resume', 'continue a paused domain'),
  { method: 'post', path: '/domains/{name}/save', op: 'save', summary: "save a running or paused domain, whole, to a file (xl save) and take it down (shut off, reason 'saved'); native, trap, bt and hvm domains with their machines, a pv domain of the shared machine alone at a quiet point (its machine frames named by pseudo-physical frame); several vCPUs too; a network (net, a bridge port) is saved with it (frames in flight, the gateway's state; the forwards are bound again at restore); a binding to another domain refuses it (409)", body: saveFileBodySchema, response: domainInfoSchema, errors: [404, 409] },
  { method: 'post', path: '/domains/{name}/migrate', op: 'migrate', summary: "live-migrate a running or paused domain to another daemon (xl migrate): pre-copy rounds over log-dirty, stop-and-copy, the domain resumes there and is destroyed here (shut off, reason 'migrated'); on any failure it runs on here. Every mode (pv: one domain of the shared machine, frames canonicalised)", body: migrateBodySchema, response: migrationReportSchema, errors: [404, 409] },
  { method: 'post', path: '/restore', op: 'restore', summary: 'restore a domain saved to a file (xl restore): defined again from the definition in the file, and started from its saved state', body: saveFileBodySchema, response: domainInfoSchema, errors: [409] },
  { method: 'get', path: '/domains/{name}/stats', op: 'domstats', summary: "a domain's counters (virsh domstats): cycles, exits, traps, hypercalls", response: domstatsSchema, errors: [404] },
  { method: 'put', path: '/domains/{name}/memory', op: 'setmem', summary: "set a domain's memory (MiB): a running pv domain balloons to it at once (virsh setmem); otherwise its definition's memory, for the next start", body: setmemBodySchema, response: domainInfoSchema, errors: [404, 409] },
  { method: 'get', path: '/domains/{name}/schedinfo', op: 'schedinfo', summary: "a domain's scheduler and weight", response: schedinfoSchema, errors: [404] },
  { method: 'put', path: '/domains/{name}/schedinfo', op: 'setWeight', summary: "set a domain's weight (at once on the shared pv machine; kept in its definition)", body: schedinfoBodySchema, response: schedinfoSchema, errors: [404] },
  { method: 'post', path: '/domains/{name}/monitor', op: 'monitor', summary: "a monitor command (QEMU HMP names): info mode|registers|cpus|mem|tlb|shadow|events, x/Ni, x/Nx, stop, cont, step, break, delete, help", body: monitorBodySchema, response: monitorResultSchema, errors: [404, 409] },
  { method: 'get', path: '/domains/{name}/console', op: 'console', summary: "the domain's console as an event stream: the kept log first, then live output (events 'output' with base64 data, 'state')", response: 'sse', errors: [404] },
  { method: 'post', path: '/domains/{name}/console', op: 'consoleInput', summary: "type on the domain's console", body: consoleInputSchema, response: okSchema, errors: [404, 409] },
  { method: 'post', path: '/domains/{name}/trace', op: 'trace', summary: "trace the domain's machine (every domain of a shared pv machine) for the next cycles: exits, traps, hypercalls, event-channel notifications, interrupts and scheduler switches with simulated timestamps, in the Chrome Trace Event format", body: traceBodySchema, response: chromeTraceSchema, errors: [404, 409] },
  { method: 'post', path: '/pv-record', op: 'pvRecord', summary: "record the shared pv machine of a profile and engine, whole, from its first cycle: every domain started on it, console input, management commands and the host's lifecycle actions, each at the machine's cycle (`xenolith host-replay` repeats it); refused while a domain is on that machine or another recording is taken", body: pvRecordBodySchema, response: pvRecordingSchema, errors: [409] },
  { method: 'post', path: '/pv-record/stop', op: 'pvRecordStop', summary: 'end the recording of the shared pv machine (the machine runs on unrecorded): writes the end line and answers with it', response: pvRecordEndSchema, errors: [409] },
  { method: 'get', path: '/events', op: 'events', summary: "state changes of every domain as an event stream: 'ready' once subscribed, then 'state' events (name, status, stopReason, detail)", response: 'sse' },
];

/** Match a request path against the routes: the route and its {name} parameter. */
export function matchRoute(method: string, path: string): { route: Route; name?: string } | { allowed: Method[] } | null {
  const allowed: Method[] = [];
  for (const route of ROUTES) {
    const pattern = new RegExp(`^${route.path.replace('{name}', '([^/]+)')}$`);
    const m = pattern.exec(path);
    if (!m) continue;
    if (route.method !== method.toLowerCase()) {
      allowed.push(route.method);
      continue;
    }
    return m[1] !== undefined ? { route, name: decodeURIComponent(m[1]) } : { route };
  }
  return allowed.length > 0 ? { allowed } : null;
}

const STATUS_TEXT: Record<number, string> = { 400: 'malformed request', 401: 'no or wrong token', 403: 'Host or Origin not allowed', 404: 'no such domain', 409: "not allowed in the domain's state" };

/** The OpenAPI 3.1 document of ROUTES. */
export function openApiDocument(version: string): Record<string, unknown> {
  // every schema with a meta id becomes a component; references between them stay references
  const all = z.toJSONSchema(z.globalRegistry, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` });
  const schemas: Record<string, unknown> = {};
  for (const [id, json] of Object.entries(all.schemas)) {
    const { $schema: _drop, $id: _uri, id: _id, ...rest } = json as Record<string, unknown>;
    schemas[id] = rest;
  }
  const ref = (schema: z.ZodType): unknown => {
    const id = z.globalRegistry.get(schema)?.id;
    if (id && id in schemas) return { $ref: `#/components/schemas/${id}` };
    const { $schema: _drop, ...json } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    return json;
  };
  const errorRef = ref(errorSchema);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const op: Record<string, unknown> = { operationId: `${r.op}`, summary: r.summary, security: [{ token: [] }] };
    if (r.path.includes('{name}')) op.parameters = [{ name: 'name', in: 'path', required: true, schema: ref(domainNameSchema) }];
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: ref(r.body) } } };
    const responses: Record<string, unknown> = {
      '200': r.response === 'sse' ? { description: 'an event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } } : { description: 'done', content: { 'application/json': { schema: ref(r.response) } } },
    };
    for (const s of [400, 401, 403, ...(r.errors ?? [])]) responses[String(s)] = { description: STATUS_TEXT[s] ?? 'error', content: { 'application/json': { schema: errorRef } } };
    op.responses = responses;
    (paths[r.path] ??= {})[r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'xenolith daemon', version, description: 'The management API of `xenolith daemon` (docs/management.md). Every request needs the token from STATE_DIR/token as `Authorization: Bearer TOKEN`.' },
    servers: [{ url: 'http://127.0.0.1:{port}', variables: { port: { default: '8080', description: 'the port in STATE_DIR/daemon.json' } } }],
    paths,
    components: { schemas, securitySchemes: { token: { type: 'http', scheme: 'bearer', description: 'the contents of STATE_DIR/token (mode 0600)' } } },
  };
}
