// runBtMode: boot one image (a bare image, or a kernel with its initrd and command line) in a
// binary-translation domain on a fresh hypervisor and run it to the end - the `--mode bt` entry
// point. Host code; builds its own Hypervisor.

import type { Image } from '../../machine/image.ts';
import type { BootSpec } from '../core/mode.ts';
import { runSingleGuest, type GuestRunOptions, type GuestRunResult } from '../run.ts';
import { HYPERVISOR_RESERVE_BYTES } from '../trap/index.ts';
import { BtMode } from './mode.ts';

export { BtMode, btCache, btCompiledSize, type BtModeOptions } from './mode.ts';
export { TranslationCache, TranslationUnit, BtStats, UNIT_MAX_INSNS, DEFAULT_CACHE_UNITS } from './cache.ts';
export { formatBtStats, btStatsSummary } from './stats.ts';

/** Run one guest under binary translation until it stops (or maxCycles go by). */
export function runBtMode(boot: BootSpec | Image, opts: GuestRunOptions = {}): GuestRunResult {
  return runSingleGuest(new BtMode(opts.bt), boot, opts, (_bytes, vcpus) => vcpus * HYPERVISOR_RESERVE_BYTES, 'shadow page tables');
}
