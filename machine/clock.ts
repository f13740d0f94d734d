// The platform's event queue: device callbacks scheduled at simulated cycle counts, run in a
// deterministic order (by time, then by scheduling order). Pure data structure; reads time only
// through the `now` function it is given; imports nothing of ours.

/**
 * The end of simulated time, in cycles (2^52: 52 days at 1 GHz). Cycle counts are doubles, exact
 * only below 2^53; past that, adding an instruction's cycles no longer changes the count, so no
 * deadline is ever reached and the running vCPU's slice never ends (issue 9 item 5: a timer at
 * 2^64-1 ns made the idle loop jump there). Every run stops at this cycle at the latest, with
 * 2^52 cycles of headroom for the charges of its last step, so cycle arithmetic stays exact for
 * any run the API accepts; events scheduled later never run.
 */
export const END_OF_TIME = 2 ** 52;

/** Why a run stopped at END_OF_TIME (the detail of its 'limit' result). */
export const END_OF_TIME_DETAIL = 'simulated time has reached its end (2^52 cycles)';

/**
 * The cycle a run that starts at `start` stops at: start + maxCycles (none: unlimited), never
 * past END_OF_TIME. A maxCycles that is not a whole number >= 0 is the caller's error.
 */
export function runLimit(start: number, maxCycles: number | undefined): number {
  if (maxCycles === undefined) return END_OF_TIME;
  if (!Number.isInteger(maxCycles) || maxCycles < 0) throw new RangeError(`maxCycles must be a whole number >= 0, not ${maxCycles}`);
  return Math.min(start + maxCycles, END_OF_TIME);
}

/** One scheduled callback. `seq` is its handle and breaks ties between equal times. */
interface Event {
  atCycle: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A binary min-heap of events keyed by (atCycle, seq). Cancelled events stay in the heap and are
 * skipped when they reach the top (lazy deletion), so cancel is O(1). When they are more than half
 * of the heap it is rebuilt from the live ones: a guest re-arming a timer ever earlier (each
 * re-arm cancels an event that then never reaches the top) must not grow it without bound. The
 * order events run in is (atCycle, seq) whatever the heap's shape, so this changes nothing else.
 */
export class EventQueue {
  private readonly heap: Event[] = [];
  /** live (scheduled, not yet run nor cancelled) events by handle */
  private readonly live = new Map<number, Event>();
  private nextSeq = 1;
  /** cancelled events still in the heap */
  private cancelledInHeap = 0;

  constructor(private readonly now: () => number) {}

  /** Number of events still waiting to run. */
  get size(): number {
    return this.live.size;
  }

  /** Call fn when simulated time reaches atCycle. Returns a handle for cancel (never 0). */
  schedule(atCycle: number, fn: () => void): number {
    if (Number.isNaN(atCycle)) throw new RangeError('EventQueue.schedule: atCycle is NaN');
    const ev: Event = { atCycle, seq: this.nextSeq++, fn, cancelled: false };
    this.live.set(ev.seq, ev);
    this.push(ev);
    return ev.seq;
  }

  /** Forget a scheduled event. Unknown, already-run or already-cancelled handles are ignored. */
  cancel(handle: number): void {
    const ev = this.live.get(handle);
    if (ev === undefined) return;
    ev.cancelled = true;
    this.live.delete(handle);
    if (++this.cancelledInHeap > 64 && 2 * this.cancelledInHeap > this.heap.length) this.compact();
  }

  /** Cycle of the earliest live event, or Infinity if none. */
  nextDeadline(): number {
    this.dropCancelledTop();
    return this.heap.length > 0 ? this.heap[0]!.atCycle : Infinity;
  }

  /**
   * Run every event whose time is <= now(), ordered by time then by scheduling order. The heap is
   * re-examined after each callback, so events a callback schedules for a time <= now() also run
   * in this call, in their place in that order.
   */
  runDue(): void {
    for (;;) {
      this.dropCancelledTop();
      const top = this.heap[0];
      if (top === undefined || top.atCycle > this.now()) return;
      this.pop();
      this.live.delete(top.seq);
      top.fn();
    }
  }

  /** Drop every event (platform reset). Handles already given out become no-ops for cancel. */
  clear(): void {
    for (const ev of this.heap) ev.cancelled = true;
    this.heap.length = 0;
    this.live.clear();
    this.cancelledInHeap = 0;
  }

  /**
   * The live events, in the order they would run ((atCycle, seq)): a domain's save lists its own
   * (hypervisor/save/pv-domain.ts) and a restore schedules them again, in that order.
   */
  pending(): { handle: number; atCycle: number; fn: () => void }[] {
    return [...this.live.values()].sort((a, b) => (EventQueue.before(a, b) ? -1 : 1)).map((e) => ({ handle: e.seq, atCycle: e.atCycle, fn: e.fn }));
  }

  /** Cancelled events still held (for tests). */
  get cancelledHeld(): number {
    return this.cancelledInHeap;
  }

  private dropCancelledTop(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) {
      this.pop();
      this.cancelledInHeap--;
    }
  }

  /** Rebuild the heap from its live events (Floyd's heapify, O(n)). */
  private compact(): void {
    const h = this.heap;
    let n = 0;
    for (let i = 0; i < h.length; i++) if (!h[i]!.cancelled) h[n++] = h[i]!;
    h.length = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i, h[i]!);
    this.cancelledInHeap = 0;
  }

  private static before(a: Event, b: Event): boolean {
    return a.atCycle < b.atCycle || (a.atCycle === b.atCycle && a.seq < b.seq);
  }

  private push(ev: Event): void {
    const h = this.heap;
    let i = h.length;
    h.push(ev);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!EventQueue.before(ev, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = ev;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    // Sift the last element down from the root.
    this.siftDown(0, last);
  }

  /** Place `ev` at index i or below, moving smaller children up. */
  private siftDown(i: number, ev: Event): void {
    const h = this.heap;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && EventQueue.before(h[r]!, h[l]!) ? r : l;
      if (!EventQueue.before(h[child]!, ev)) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = ev;
  }
}
