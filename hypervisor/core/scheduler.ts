// vCPU schedulers: which runnable vCPU gets the one physical CPU next and for how long. The
// interface is what the Hypervisor's outer loop needs; RoundRobinScheduler is the simple default
// (a fixed slice in cycles). Proportional share (BVT, credit) plugs in behind the same interface.
// Pure policy over Vcpu objects; touches no machine state.

import type { Vcpu } from './vcpu.ts';
import { doubleFields } from '../../machine/shapes.ts';

export interface Scheduler {
  readonly name: string;
  /** a new vCPU (runnable or not) */
  add(vcpu: Vcpu): void;
  /** the vCPU is gone (its domain stopped) */
  remove(vcpu: Vcpu): void;
  /** the vCPU became runnable again (an event woke it) */
  wake(vcpu: Vcpu): void;
  /** the vCPU blocked (HLT, sched_op block) */
  block(vcpu: Vcpu): void;
  /** the vCPU to run now, or null if none is runnable; `now` is the cycle counter */
  pick(now: number): Vcpu | null;
  /** cycles `vcpu` (just picked) may run before the scheduler wants to choose again (>= 1) */
  budget(vcpu: Vcpu): number;
  /** `vcpu` ran for `cycles` */
  account(vcpu: Vcpu, cycles: number): void;
  /**
   * `vcpu` (just run) gives its physical CPU up: the others go first. True (where the scheduler
   * can tell) when another vCPU will run before it. Optional: a scheduler without it ignores it.
   */
  yield?(vcpu: Vcpu): boolean | void;
}

/** Default slice: 1 ms of a 3 GHz core. */
export const DEFAULT_SLICE_CYCLES = 3_000_000;

/**
 * Round robin over the runnable vCPUs: the head of the queue runs until it has used its slice (or
 * blocks), then goes to the tail. A woken vCPU joins at the tail. Deterministic: the queue order
 * depends only on the order of add/wake/block calls.
 */
export class RoundRobinScheduler implements Scheduler {
  readonly name: string = 'round-robin';
  /** runnable vCPUs; the head is the one running or about to run */
  private readonly queue: Vcpu[] = [];
  /** cycles the head has used of its slice */
  private used = 0;
  /** the head's slice (sliceCycles, or the seeded draw) */
  private slice: number;
  /** the seeded generator's state (0: fixed slices) */
  private rng = 0;
  /** slices begun (rotations of the queue's head), since creation */
  slices = 0;

  /**
   * `seed` given: each slice is drawn from a xorshift32 generator seeded with it, 1..sliceCycles
   * cycles (the bare multiprocessor's SMP schedule, machine/machine.ts SmpSchedule, for vCPUs
   * that time-share the CPU): the same seed gives the same interleaving, another seed another.
   */
  constructor(
    readonly sliceCycles = DEFAULT_SLICE_CYCLES,
    seed?: number,
  ) {
    if (!(sliceCycles >= 1)) throw new RangeError(`RoundRobinScheduler: the slice must be at least 1 cycle (got ${sliceCycles})`);
    if (seed !== undefined) {
      this.rng = seed >>> 0 || 1;
      this.name = 'round-robin (seeded slices)';
    }
    this.slice = this.nextSlice();
    // cycles from the CPU's double counts (machine/shapes.ts)
    doubleFields(this, ['used']);
  }

  add(vcpu: Vcpu): void {
    if (vcpu.runState === 'runnable') this.enqueue(vcpu);
  }

  remove(vcpu: Vcpu): void {
    const k = this.queue.indexOf(vcpu);
    if (k < 0) return;
    this.queue.splice(k, 1);
    if (k === 0) this.newSlice();
  }

  wake(vcpu: Vcpu): void {
    this.enqueue(vcpu);
  }

  block(vcpu: Vcpu): void {
    this.remove(vcpu);
  }

  pick(_now: number): Vcpu | null {
    const q = this.queue;
    if (q.length === 0) return null;
    if (this.used >= this.slice) {
      if (q.length > 1) q.push(q.shift()!);
      this.newSlice();
    }
    return q[0]!;
  }

  budget(_vcpu: Vcpu): number {
    return Math.max(1, this.slice - this.used);
  }

  account(vcpu: Vcpu, cycles: number): void {
    if (this.queue[0] === vcpu) this.used += cycles;
  }

  /** sched_op yield (and hvm's pause-loop exit): the head goes to the tail with its slice ended (the others run first). True if there were others. */
  yield(vcpu: Vcpu): boolean {
    const q = this.queue;
    if (q[0] !== vcpu || q.length < 2) return false;
    q.push(q.shift()!);
    this.used = 0;
    return true;
  }

  /** The runnable queue, head first (for tests and `info`). */
  runnable(): readonly Vcpu[] {
    return this.queue;
  }

  private newSlice(): void {
    this.used = 0;
    this.slice = this.nextSlice();
  }

  /** The next slice's length: sliceCycles, or with a seed 1..sliceCycles from xorshift32. */
  private nextSlice(): number {
    this.slices++;
    if (this.rng === 0) return this.sliceCycles;
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return 1 + (this.rng % this.sliceCycles);
  }

  private enqueue(vcpu: Vcpu): void {
    if (!this.queue.includes(vcpu)) this.queue.push(vcpu);
  }
}
