// runHvmMode: boot one image (a bare image, or a kernel with its initrd and command line) in a
// hardware-assisted domain on a fresh hypervisor and run it to the end - the `--mode hvm` entry
// point. Host code; builds its own Hypervisor.

import type { Image } from '../../machine/image.ts';
import type { BootSpec } from '../core/mode.ts';
import { runSingleGuest, type GuestRunOptions, type GuestRunResult } from '../run.ts';
import { eptFramesFor } from './ept.ts';
import { HvmMode } from './mode.ts';

export { HvmMode } from './mode.ts';
export { Ept, eptFramesFor } from './ept.ts';
export { HvmDomainState, HvmVcpu, hvmControls } from './state.ts';
export { formatHvmStats, hvmExitCounts, HVM_EXIT_NAMES } from './stats.ts';

/** Machine memory beyond the guest's that an hvm domain needs: frame 0 and the second-stage table. */
export function hvmReserveBytes(guestMemoryBytes: number): number {
  return (1 + eptFramesFor(guestMemoryBytes)) * 4096;
}

/** Run one guest under hardware assist until it stops (or maxCycles go by). */
export function runHvmMode(boot: BootSpec | Image, opts: GuestRunOptions = {}): GuestRunResult {
  return runSingleGuest(new HvmMode(), boot, opts, hvmReserveBytes, 'the second-stage (EPT) table');
}
