// Test helpers for hvm mode: run an image in a hardware-assisted domain the way trap-harness.ts
// runs one under trap-and-emulate (the same bare-metal prelude and guest sizes), so a test can
// set the bare machine, trap mode and hvm mode side by side.

import { runHvmMode } from '../../hypervisor/hvm/index.ts';
import type { GuestRunOptions, GuestRunResult } from '../../hypervisor/run.ts';
import type { Image } from '../../machine/image.ts';
import { GUEST_MEMORY, guestImage, runNative, runTrap, type NativeRun } from './trap-harness.ts';

export { GUEST_MEMORY, guestImage, runNative, runTrap };

/** The image in an hvm domain of GUEST_MEMORY bytes, with a second stage (`--mmu ept`) unless opts say otherwise. */
export function runHvm(image: Image, opts: GuestRunOptions = {}): GuestRunResult {
  return runHvmMode(image, { memoryBytes: GUEST_MEMORY, maxCycles: 50_000_000, hvm: { mmu: 'ept' }, ...opts });
}

/** The image in an hvm domain of GUEST_MEMORY bytes on shadow page tables (`--mmu shadow`). */
export function runHvmShadow(image: Image, opts: GuestRunOptions = {}): GuestRunResult {
  return runHvm(image, { hvm: { mmu: 'shadow' }, ...opts });
}

/** One body on the bare machine, under trap mode and under hvm mode. */
export function three(body: string): { native: NativeRun; trap: GuestRunResult; hvm: GuestRunResult } {
  const image = guestImage(body);
  return { native: runNative(image), trap: runTrap(image), hvm: runHvm(image) };
}
