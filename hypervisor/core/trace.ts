// The hypervisor's tracepoints, xentrace-style: a bounded buffer of fixed-size records (kind,
// simulated cycle, domain, vCPU, two arguments) in typed arrays, filled by the same calls that bump the
// DomainStats counters (--stats and --trace share one schema: every record kind is a counter, and
// a trace of a whole run counts what --stats says). When the buffer is full, later records are
// dropped and counted (xentrace drops the newest too). Tracing off is a null check at each
// tracepoint: no allocation, no call. Exported in the Chrome Trace Event format (JSON), which
// Perfetto's UI and chrome://tracing open. Data and pure formatting; no I/O.

import { EXIT_NAMES } from '../../machine/types.ts';

/** Record kinds. Each names the DomainStats counter it mirrors. */
export const enum TraceKind {
  /** a real-CPU exit while the domain ran (a = machine Exit value) - stats.cpuExits[a] */
  Exit = 0,
  /** an intercepted trap: exception or INT n (a = vector) - stats.traps[a] */
  Trap = 1,
  /** a hypercall (a = number, b = cycles from HYPERCALL to return) - stats.hypercalls[a] */
  Hypercall = 2,
  /** an event-channel port set pending (a = port) - pv stats.eventsPending */
  Event = 3,
  /** a virtual interrupt injected (a = vector; -1 for a pv event upcall) - stats.injectedInterrupts / pv stats.upcalls */
  Interrupt = 4,
  /** the scheduler put a vCPU on the real CPU (a = vCPU id) - stats.worldSwitches */
  Switch = 5,
}

/** The kinds' names (the `cat` of a Chrome trace event, and the keys of countByKind). */
export const TRACE_KINDS = ['exit', 'trap', 'hypercall', 'event', 'interrupt', 'switch'] as const;
export type TraceKindName = (typeof TRACE_KINDS)[number];

/** Default capacity (records) of a trace buffer: 25 bytes a record, so about 6.5 MB. */
export const DEFAULT_TRACE_RECORDS = 1 << 18;
/** Most records a trace buffer may hold. */
export const MAX_TRACE_RECORDS = 1 << 22;

/** Something with a cycle counter (the real CPU). */
export interface TraceClock {
  readonly cycles: number;
}

export class TraceBuffer {
  readonly capacity: number;
  /** records kept */
  length = 0;
  /** records that did not fit */
  dropped = 0;
  readonly kind: Uint8Array;
  readonly cycle: Float64Array;
  readonly dom: Int32Array;
  readonly a: Int32Array;
  readonly b: Float64Array;
  /** each record's vCPU (of its domain): the one running when it was recorded, or the one an event notifies */
  readonly vcpu: Uint8Array;
  /**
   * The vCPU on the real CPU now: the hypervisor sets it whenever it puts one there (world switch,
   * a move between physical CPUs), and record() tags each record with it, as xentrace's records
   * carry the vCPU they happened on.
   */
  vcpuNow = 0;

  constructor(
    readonly clock: TraceClock,
    capacity = DEFAULT_TRACE_RECORDS,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_TRACE_RECORDS) {
      throw new RangeError(`trace buffer: capacity must be a whole number from 1 to ${MAX_TRACE_RECORDS} records (got ${capacity})`);
    }
    this.capacity = capacity;
    this.kind = new Uint8Array(capacity);
    this.cycle = new Float64Array(capacity);
    this.dom = new Int32Array(capacity);
    this.a = new Int32Array(capacity);
    this.b = new Float64Array(capacity);
    this.vcpu = new Uint8Array(capacity);
  }

  /** Record an event of domain `dom` now (at the clock's cycle). */
  record(kind: TraceKind, dom: number, a: number, b: number, vcpu = this.vcpuNow): void {
    this.recordAt(kind, this.clock.cycles, dom, a, b, vcpu);
  }

  recordAt(kind: TraceKind, cycle: number, dom: number, a: number, b: number, vcpu = this.vcpuNow): void {
    const n = this.length;
    if (n >= this.capacity) {
      this.dropped++;
      return;
    }
    this.kind[n] = kind;
    this.cycle[n] = cycle;
    this.dom[n] = dom;
    this.a[n] = a;
    this.b[n] = b;
    this.vcpu[n] = vcpu;
    this.length = n + 1;
  }

  clear(): void {
    this.length = 0;
    this.dropped = 0;
  }

  /** Records of each kind kept (what --stats counted over the same stretch, less the dropped ones). */
  countByKind(dom?: number): Record<TraceKindName, number> {
    const out = Object.fromEntries(TRACE_KINDS.map((k) => [k, 0])) as Record<TraceKindName, number>;
    for (let k = 0; k < this.length; k++) if (dom === undefined || this.dom[k] === dom) out[TRACE_KINDS[this.kind[k]!]!]++;
    return out;
  }
}

/** A record as a plain object (tests, the web console). */
export interface TraceRecord {
  kind: TraceKindName;
  cycle: number;
  dom: number;
  /** the vCPU of the domain (TraceBuffer.vcpu) */
  vcpu: number;
  a: number;
  b: number;
}

export function traceRecords(t: TraceBuffer): TraceRecord[] {
  const out: TraceRecord[] = [];
  for (let k = 0; k < t.length; k++) out.push({ kind: TRACE_KINDS[t.kind[k]!]!, cycle: t.cycle[k]!, dom: t.dom[k]!, vcpu: t.vcpu[k]!, a: t.a[k]!, b: t.b[k]! });
  return out;
}

/** One event of the Chrome Trace Event format (the fields this exporter writes). */
export interface ChromeTraceEvent {
  name: string;
  cat?: string;
  ph: 'i' | 'X' | 'M';
  /** microseconds of simulated time */
  ts?: number;
  dur?: number;
  pid: number;
  tid: number;
  s?: 't';
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: 'ns';
  otherData: {
    machine: string;
    clockMHz: number;
    /** records kept and dropped (the buffer's bound) */
    records: number;
    dropped: number;
    capacity: number;
    /** the cycle the buffer started at and ended at */
    fromCycle: number;
    toCycle: number;
    counts: Record<TraceKindName, number>;
  };
}

export interface ChromeTraceOptions {
  /** the simulated CPU's clock (cycles per microsecond) */
  clockMHz: number;
  /** names of the domains by id (thread names) */
  domains: ReadonlyMap<number, string>;
  /** the machine (the process name) */
  machine?: string;
  /** a hypercall's name by number */
  hypercallName?: (nr: number) => string;
  /** the cycle the trace began at (default: the first record's) and ended at (default: the clock now) */
  fromCycle?: number;
  toCycle?: number;
}

const VECTOR_NAMES: Record<number, string> = { 0: '#DE', 1: '#DB', 3: '#BP', 6: '#UD', 8: '#DF', 13: '#GP', 14: '#PF', 0x80: 'int 0x80', 0x81: 'int 0x81' };

const round = (x: number): number => Math.round(x * 1000) / 1000;

/** A record's event name, as the trace viewer shows it. */
export function traceEventName(kind: TraceKindName, a: number, hypercallName?: (nr: number) => string): string {
  switch (kind) {
    case 'exit':
      return `exit ${EXIT_NAMES[a as keyof typeof EXIT_NAMES] ?? a}`;
    case 'trap':
      return `trap ${VECTOR_NAMES[a] ?? `vector ${a}`}`;
    case 'hypercall':
      return `hypercall ${hypercallName ? hypercallName(a) : a}`;
    case 'event':
      return `evtchn port ${a}`;
    case 'interrupt':
      return a < 0 ? 'upcall' : `interrupt ${a}`;
    case 'switch':
      return 'run';
  }
}

/** The thread of vCPU k (k > 0) of domain `dom` in the Chrome export (vCPU 0's is the domain's own, tid = dom). */
export function vcpuThread(dom: number, k: number): number {
  return k === 0 ? dom : dom + 10_000 * k;
}

/**
 * The buffer in the Chrome Trace Event format: one process (the machine), one thread per domain
 * (vCPU 0's; a domain's other vCPUs each get a thread of their own, `vcpuThread`);
 * exits, traps, event-channel notifications and interrupts are instant events, a hypercall a
 * complete event of its duration, and each scheduler switch opens a `run` slice on the domain's
 * thread that lasts until the next switch (or the end of the trace).
 */
export function toChromeTrace(t: TraceBuffer, o: ChromeTraceOptions): ChromeTrace {
  const us = (cycles: number): number => round(cycles / o.clockMHz);
  const pid = 1;
  const events: ChromeTraceEvent[] = [{ name: 'process_name', ph: 'M', pid, tid: 0, args: { name: o.machine ?? 'xenolith' } }];
  for (const [id, name] of [...o.domains].sort((x, y) => x[0] - y[0])) events.push({ name: 'thread_name', ph: 'M', pid, tid: id, args: { name: `${name} (domain ${id})` } });
  const from = o.fromCycle ?? (t.length > 0 ? t.cycle[0]! : t.clock.cycles);
  const to = o.toCycle ?? t.clock.cycles;
  // a thread for each vCPU other than 0 that has records, named after its domain's
  const named = new Set<number>();
  for (let k = 0; k < t.length; k++) {
    const v = t.kind[k] === TraceKind.Switch ? t.a[k]! : t.vcpu[k]!;
    const tid = vcpuThread(t.dom[k]!, v);
    if (v === 0 || named.has(tid)) continue;
    named.add(tid);
    const name = o.domains.get(t.dom[k]!);
    events.push({ name: 'thread_name', ph: 'M', pid, tid, args: { name: `${name ?? 'domain'} (domain ${t.dom[k]!}) vCPU ${v}` } });
  }
  let open: { dom: number; vcpu: number; cycle: number } | null = null;
  const closeRun = (end: number) => {
    if (open === null) return;
    events.push({ name: 'run', cat: 'switch', ph: 'X', ts: us(open.cycle - from), dur: us(end - open.cycle), pid, tid: vcpuThread(open.dom, open.vcpu), args: { vcpu: open.vcpu, cycle: open.cycle, cycles: end - open.cycle } });
    open = null;
  };
  for (let k = 0; k < t.length; k++) {
    const kind = TRACE_KINDS[t.kind[k]!]!;
    const cycle = t.cycle[k]!;
    const dom = t.dom[k]!;
    const a = t.a[k]!;
    if (kind === 'switch') {
      closeRun(cycle);
      open = { dom, vcpu: a, cycle };
      continue;
    }
    const tid = vcpuThread(dom, t.vcpu[k]!);
    const name = traceEventName(kind, a, o.hypercallName);
    if (kind === 'hypercall') {
      const b = t.b[k]!;
      events.push({ name, cat: kind, ph: 'X', ts: us(cycle - from), dur: us(b), pid, tid, args: { nr: a, cycle, cycles: b } });
    } else {
      events.push({ name, cat: kind, ph: 'i', s: 't', ts: us(cycle - from), pid, tid, args: { [kind === 'exit' ? 'exit' : kind === 'event' ? 'port' : 'vector']: a, cycle } });
    }
  }
  closeRun(Math.max(to, open ? (open as { cycle: number }).cycle : to));
  return {
    traceEvents: events,
    displayTimeUnit: 'ns',
    otherData: { machine: o.machine ?? 'xenolith', clockMHz: o.clockMHz, records: t.length, dropped: t.dropped, capacity: t.capacity, fromCycle: from, toCycle: to, counts: t.countByKind() },
  };
}
