// runTrapMode: boot one image (a bare image, or a kernel with its initrd and command line) in a
// trap-and-emulate domain on a fresh hypervisor and run it to the end - the `--mode trap` entry
// point. Host code; builds its own Hypervisor.

import type { Image } from '../../machine/image.ts';
import type { BootSpec } from '../core/mode.ts';
import { TrapMode } from './mode.ts';
import { runSingleGuest, type GuestRunOptions, type GuestRunResult } from '../run.ts';

export { TrapMode, DEFAULT_INTERRUPT_WINDOW_POLL_CYCLES, POLL_BACKOFF_LIMIT, type TrapModeOptions } from './mode.ts';
export { TrapVcpu, trapVcpu } from './virtual-cpu.ts';
export { ShadowMmu } from './shadow.ts';
export { HYPERVISOR_IDT_BASE } from './state.ts';

export { bootSpecFor, type GuestStopReason, type GuestRunOptions, type GuestRunResult } from '../run.ts';

/** Extra machine memory beyond the guest's, per vCPU: the hypervisor's frames (shadow tables at most 4 MiB + a directory). */
export const HYPERVISOR_RESERVE_BYTES = 5 * 1024 * 1024;

/** Run one guest under trap-and-emulate until it stops (or maxCycles go by). */
export function runTrapMode(boot: BootSpec | Image, opts: GuestRunOptions = {}): GuestRunResult {
  return runSingleGuest(new TrapMode(opts.trap), boot, opts, (_bytes, vcpus) => vcpus * HYPERVISOR_RESERVE_BYTES, 'shadow page tables');
}
