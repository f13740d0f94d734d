// A guest being run by `xenolith run`, whatever the mode: run it in slices of simulated cycles,
// type bytes on its console between slices, and say at the end which limit (if any) ended it.
// The bare machine (native) and a hypervisor domain (trap, bt, hvm, pv) look alike here, so the
// interactive console, --timeout and --max-cycles work the same in every mode. Host code (CLI).
import type { Machine } from '../machine/machine.ts';
import type { Domain, Hypervisor, HypervisorRunResult, PvMode } from '../hypervisor/index.ts';
import { collectRun, type GuestRunResult } from '../hypervisor/run.ts';
import { feedConsole } from '../hypervisor/pv/hypercalls.ts';
import type { InputEvent, InputLog, InputLogWriter } from '../hypervisor/input-log.ts';

/** How `run` ended: the guest stopped by itself, or one of the limits, or the user left. */
export type RunEnd = 'guest' | 'max-cycles' | 'timeout' | 'left';

/** One slice's outcome. */
export interface Slice {
  /** the guest has stopped (powered off, crashed, halted for good) */
  stopped: boolean;
  cycles: number;
  idleCycles: number;
}

export interface GuestSession {
  /** Run at most maxCycles more simulated cycles. */
  run(maxCycles: number): Slice;
  /** Type bytes on the guest's console. */
  feed(bytes: Uint8Array): void;
  /** Make a running slice return soon (from an event handler). */
  stop(): void;
  /** Why the guest stopped, with its power-off status (after run() said stopped). */
  end(): { reason: string; status: number; detail?: string };
  /** cycles per millisecond of the simulated CPU */
  readonly cyclesPerMs: number;
}

/** The bare machine, booted. */
export function machineSession(machine: Machine): GuestSession {
  let last: ReturnType<Machine['run']> | null = null;
  return {
    cyclesPerMs: machine.profile.clockMHz * 1000,
    run(maxCycles) {
      last = machine.run({ maxCycles });
      return { stopped: last.reason !== 'limit' && last.reason !== 'stopped', cycles: last.cycles, idleCycles: last.idleCycles };
    },
    feed: (bytes) => machine.feedInput(bytes),
    stop: () => machine.stop(),
    end() {
      const r = last!;
      return r.detail === undefined ? { reason: r.reason, status: r.status } : { reason: r.reason, status: r.status, detail: r.detail };
    },
  };
}

/** A domain session's totals so far (a restored session starts from the saved ones). */
export interface SessionCounters {
  cycles: number;
  instructions: number;
  idleCycles: number;
}

/** A domain's session, which can also give the run's result (for --stats). */
export interface DomainSession extends GuestSession {
  /** the run so far as the mode's run function reports it */
  result(): GuestRunResult;
  /** cycles, instructions and idle cycles since the guest booted */
  counters(): SessionCounters;
}

/**
 * A hypervisor with one guest domain, created but not yet run (a mode's run function called with
 * maxCycles 0). Its console: the emulated UART (trap, bt, hvm) or the pv console (pvMode given).
 */
export function domainSession(hv: Hypervisor, domain: Domain, pvMode?: PvMode, start: SessionCounters = { cycles: 0, instructions: 0, idleCycles: 0 }): DomainSession {
  let cycles = start.cycles;
  let instructions = start.instructions;
  let idleCycles = start.idleCycles;
  let last: HypervisorRunResult = { reason: 'limit', cycles: 0, instructions: 0, idleCycles: 0 };
  const session: DomainSession = {
    cyclesPerMs: hv.profile.clockMHz * 1000,
    run(maxCycles) {
      last = hv.run({ maxCycles });
      cycles += last.cycles;
      instructions += last.instructions;
      idleCycles += last.idleCycles;
      return { stopped: last.reason === 'all-stopped' || last.reason === 'deadlock', cycles: last.cycles, idleCycles: last.idleCycles };
    },
    feed(bytes) {
      if (pvMode) feedConsole(pvMode.pv(domain), bytes);
      else domain.devices?.uart.feed(bytes);
    },
    stop: () => hv.stop(),
    end() {
      const r = session.result();
      return r.detail === undefined ? { reason: r.reason, status: r.status } : { reason: r.reason, status: r.status, detail: r.detail };
    },
    result: () => collectRun(hv, domain, { ...last, cycles, instructions, idleCycles }),
    counters: () => ({ cycles, instructions, idleCycles }),
  };
  return session;
}

/** Interactive slices: this many milliseconds of simulated time between looks at the keyboard. */
const SLICE_MS = 10;
/**
 * Other runs look at the wall clock every this many cycles (a fraction of a second of host time).
 * Slicing does not change a run: the guest's cycles and output are the same as in one go.
 */
const BATCH_SLICE_CYCLES = 20_000_000;

export interface DriveOptions {
  maxCycles: number;
  /** wall-clock limit in milliseconds (Infinity: none) */
  timeoutMs: number;
  /** the terminal is attached: pace simulated time to wall time while the guest idles, let keys in */
  interactive?: boolean;
  /**
   * the guest talks to host sockets (--net): run in short slices, pace simulated time to wall time
   * while the guest idles and yield to the event loop between slices, as interactive runs do, so
   * datagrams get in (hypervisor/net/uplink.ts says how they meet simulated time)
   */
  paced?: boolean;
  /** set by the caller (e.g. on Ctrl-]) to leave at the next slice */
  left?: () => boolean;
}

/**
 * Run the session until the guest stops or a limit ends the run. Non-interactive runs go as
 * fast as the interpreter does, looking at the wall clock between slices; interactive runs pace
 * simulated time to wall-clock time while the guest idles (so `sleep 1` takes about a second and
 * an idle shell costs no host CPU), and yield to the event loop between slices so keystrokes
 * arrive.
 */
export async function drive(s: GuestSession, o: DriveOptions): Promise<RunEnd> {
  const sliceCycles = Math.max(1, Math.round(s.cyclesPerMs * SLICE_MS));
  const wall0 = performance.now();
  let used = 0;
  for (;;) {
    if (o.left?.()) return 'left';
    const left = o.maxCycles - used;
    if (left <= 0) return 'max-cycles';
    const slice = s.run(Math.min(left, o.interactive || o.paced ? sliceCycles : BATCH_SLICE_CYCLES));
    used += slice.cycles;
    if (slice.stopped) return 'guest';
    if (o.left?.()) return 'left';
    const wallMs = performance.now() - wall0;
    if (wallMs >= o.timeoutMs) return 'timeout';
    if (!o.interactive && !o.paced) continue;
    const aheadMs = used / s.cyclesPerMs - wallMs;
    const mostlyIdle = slice.idleCycles * 2 > slice.cycles;
    // let keystrokes in; wait for wall time to catch up when the guest is only idling
    await new Promise((r) => (mostlyIdle && aheadMs > 1 ? setTimeout(r, Math.min(aheadMs, 50)) : setImmediate(r)));
  }
}

// ============================================================================ record and replay

/**
 * A session that logs what is typed into it, with the cycle (counted from the session's start)
 * at which it was applied: `run --record`. `cycle()` is the session's cycle count, which the
 * caller also uses to log host datagrams picked up between slices.
 */
export function recordingSession(s: GuestSession, log: InputLogWriter): GuestSession & { cycle(): number } {
  let cycle = 0;
  return {
    cyclesPerMs: s.cyclesPerMs,
    run(maxCycles) {
      const r = s.run(maxCycles);
      cycle += r.cycles;
      return r;
    },
    feed(bytes) {
      log.event({ kind: 'keys', cycle, text: Buffer.from(bytes).toString('latin1') });
      s.feed(bytes);
    },
    stop: () => s.stop(),
    end: () => s.end(),
    cycle: () => cycle,
  };
}

/** A replay that did not follow its recording (the guest, the image or the settings differ). */
export class ReplayDivergedError extends Error {
  override name = 'ReplayDivergedError';
}

/**
 * Replay a recorded session: run to each event's cycle exactly, `apply` it there, then run to
 * the recorded end. No pacing and no terminal: the run goes as fast as the engine does, and ends
 * as the recording did (the guest stopped, or Ctrl-], --timeout or --max-cycles at that cycle).
 * Throws ReplayDivergedError when the guest does not reach an event's cycle exactly, or ends
 * elsewhere than the recording's end. `timeoutMs` still bounds the replay's wall-clock time.
 *
 * `endSlack`: how far past a guest's recorded end the replay runs for it to stop there. One
 * cycle on one CPU. With several physical CPUs each has its own clock and the cycle is the
 * running one's: another CPU's slice, begun before the stopping CPU's last one (the lowest clock
 * runs first), may go past the end cycle before the guest stops, by up to a slice - a limit at
 * end + 1 would cut it there and stop the replay short of the stop, which a recording never cut
 * there did not. So the caller gives the longest slice (the scheduler's quantum) + 1.
 */
export async function replayDrive(s: GuestSession, log: Pick<InputLog, 'events' | 'end'>, apply: (e: InputEvent) => void, timeoutMs = Infinity, endSlack = 1): Promise<RunEnd> {
  const wall0 = performance.now();
  let used = 0;
  /** run until `target`; false if the guest stopped on the way (at `used`) */
  const runTo = (target: number): boolean => {
    while (used < target) {
      const slice = s.run(Math.min(target - used, BATCH_SLICE_CYCLES));
      used += slice.cycles;
      if (slice.stopped) return false;
      if (performance.now() - wall0 >= timeoutMs) throw new ReplayTimeout();
    }
    return true;
  };
  try {
    for (const e of log.events) {
      if (!runTo(e.cycle) || used !== e.cycle) {
        throw new ReplayDivergedError(`replay diverged: the recording applied ${e.kind} at cycle ${e.cycle}, but the guest ${used < e.cycle ? 'stopped' : 'was past it'} at cycle ${used}`);
      }
      apply(e);
    }
    const end = log.end;
    if (end.end === 'guest') {
      const reached = runTo(end.cycle + endSlack);
      if (reached || used !== end.cycle) throw new ReplayDivergedError(`replay diverged: the recorded guest stopped at cycle ${end.cycle}; the replay's ${reached ? 'was still running at' : 'stopped at'} cycle ${used}`);
      return 'guest';
    }
    if (!runTo(end.cycle) || used !== end.cycle) throw new ReplayDivergedError(`replay diverged: the recording ended (${end.end}) at cycle ${end.cycle}; the replay's guest ${used < end.cycle ? 'stopped' : 'went past it'} at cycle ${used}`);
    return end.end;
  } catch (e) {
    if (e instanceof ReplayTimeout) return 'timeout';
    throw e;
  }
}

class ReplayTimeout extends Error {}
