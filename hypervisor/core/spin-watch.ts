// Lock-holder preemption, measured: the classic cost of a guest of several vCPUs on fewer (or
// busy) physical CPUs - a vCPU spins for a lock whose holder is not running, because the
// hypervisor descheduled it. The hypervisor does not know the guest's locks; a SpinWatch tells it
// where one spin loop's code is and where its lock word is (from the guest kernel's symbols: the
// CLI's `--stats` sets it for the standard kernel), and the outer loop classifies each vCPU slice.
// Data and one pure function; the Hypervisor calls it.

import type { Vcpu } from './vcpu.ts';

/** Where a guest spins, and for what. */
export interface SpinWatch {
  /** the spin-lock acquire code: guest-virtual pcs [pcStart, pcEnd) */
  pcStart: number;
  pcEnd: number;
  /** guest-physical address of the lock's holder word: the holding CPU's number + 1, 0 when free (the kernel's Spin.HOLDER) */
  holderGpa: number;
}

/**
 * What the watch saw. A slice counts as spinning when it began and ended in the acquire code with
 * no exit in between (ended by its deadline, or by a pause-loop exit giving the physical CPU up):
 * the vCPU did nothing else in it. This counts whole
 * slices only - a slice in which the vCPU took the lock part-way is not counted - so the figures
 * are a lower bound.
 */
export class SpinStats {
  /** slices spent spinning while the holder was running on its physical CPU (plain contention) */
  contendedSlices = 0;
  contendedCycles = 0;
  /** slices spent spinning while the holder vCPU was descheduled (preempted or waiting): lock-holder preemption */
  preemptedSlices = 0;
  /** the cycles of those slices: the spin time wasted */
  preemptedCycles = 0;
  /** slices given up at their start (Domain.spinYield): the vCPU was spinning behind a holder descheduled on its own physical CPU */
  yields = 0;
}

/** Is `pc` in the watched acquire code? */
export function inSpin(w: SpinWatch, pc: number): boolean {
  return pc >>> 0 >= w.pcStart && pc >>> 0 < w.pcEnd;
}

/**
 * The remedy's test (Domain.spinYield), at the start of `vcpu`'s slice, its pc `pc`: it is in the
 * acquire loop and the holder is another runnable vCPU of the domain on the same physical CPU - which
 * the spinner was just picked to run instead of, so running it would only burn the slice. True:
 * give the slice to the others.
 */
export function shouldYield(w: SpinWatch, pc: number, holder: number, vcpus: readonly Vcpu[], self: Vcpu): boolean {
  if (!inSpin(w, pc)) return false;
  const h = vcpus[holder - 1];
  return h !== undefined && h !== self && h.pcpu === self.pcpu && h.up && h.runState === 'runnable';
}

/**
 * Classify one spinning slice of `vcpu` (`cycles` long) by the lock's holder word: `running(h)`
 * says whether vCPU h of the domain is on its physical CPU now.
 */
export function countSpin(stats: SpinStats, holder: number, vcpus: readonly Vcpu[], self: Vcpu, cycles: number, running: (v: Vcpu) => boolean): void {
  const h = vcpus[holder - 1];
  if (h === undefined || h === self) return; // free by now, or a stale word
  if (running(h)) {
    stats.contendedSlices++;
    stats.contendedCycles += cycles;
  } else {
    stats.preemptedSlices++;
    stats.preemptedCycles += cycles;
  }
}
