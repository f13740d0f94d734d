// Timed boots of the native kernel in a virtualization mode, for the benches that compare modes
// in one process (modes-alternating.ts, modes-by-test.ts): one boot's wall time and simulated
// figures, its machine's memory released for the next boot, and the order that alternates the
// things compared round by round. Host code.
import { runImageInMode } from '../hypervisor/index.ts';
import type { GuestKernelBuild } from '../toolchain/guest-kernel.ts';
import type { Engine } from '../machine/translator.ts';
import { nowMs } from './timing.ts';

export type BootMode = 'trap' | 'bt' | 'hvm';

/** The wall milliseconds and simulated figures of one boot of `build` in mode m running `cmdline` to power-off (else an error). */
export function timedModeBoot(m: BootMode, build: GuestKernelBuild, cmdline: string, engine: Engine): { ms: number; cycles: number; instructions: number } {
  const t0 = nowMs();
  const r = runImageInMode(m, build.kernel, { initrd: build.initrd, cmdline, engine, maxCycles: Number.MAX_SAFE_INTEGER });
  const ms = nowMs() - t0;
  r.hypervisor.machine.release();
  if (r.reason !== 'poweroff' || r.status !== 0) throw new Error(`${m}: ${cmdline} stopped with ${r.reason} (status ${r.status})`);
  return { ms, cycles: r.cycles, instructions: r.instructions };
}

/** `xs` in round i's order: as given in even rounds, reversed in odd ones (so none always runs first). */
export function alternated<T>(xs: readonly T[], i: number): readonly T[] {
  return i % 2 === 0 ? xs : [...xs].reverse();
}
