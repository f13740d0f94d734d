// runBtMode: boot one image (a bare image, or a kernel with its initrd and command line) in a
// binary-translation domain on a fresh hypervisor and run it to the end - the `--mode bt` entry
// point. Host code; builds its own Hypervisor.

import type { Image } from '../../machine/image.ts';
import { MAX_MEMORY_BYTES } from '../../machine/memory.ts';
import type { DomainConfig } from '../core/domain.ts';
import { DomainCreateError, Hypervisor } from '../core/hypervisor.ts';
import type { BootSpec } from '../core/mode.ts';
import { collectRun, type GuestRunOptions, type GuestRunResult } from '../run.ts';
import { HYPERVISOR_RESERVE_BYTES, bootSpecFor } from '../trap/index.ts';
import { BtMode } from './mode.ts';

export { BtMode, btCache } from './mode.ts';
export { TranslationCache, TranslationUnit, BtStats, UNIT_MAX_INSNS } from './cache.ts';
export { formatBtStats, btStatsSummary } from './stats.ts';

/** Run one guest under binary translation until it stops (or maxCycles go by). */
export function runBtMode(boot: BootSpec | Image, opts: GuestRunOptions = {}): GuestRunResult {
  const spec: BootSpec = 'segments' in boot ? bootSpecFor(boot, opts) : boot;
  const memoryBytes = opts.memoryBytes ?? 32 * 1024 * 1024;
  if (!Number.isInteger(memoryBytes) || memoryBytes <= 0 || memoryBytes % 4096 !== 0) {
    throw new DomainCreateError(`domain 'guest': memory must be a positive multiple of 4 KiB (got ${memoryBytes})`);
  }
  if (memoryBytes + HYPERVISOR_RESERVE_BYTES > MAX_MEMORY_BYTES) {
    throw new DomainCreateError(
      `domain 'guest': at most ${(MAX_MEMORY_BYTES - HYPERVISOR_RESERVE_BYTES) >> 20} MiB under bt mode ` +
        `(the machine has at most ${MAX_MEMORY_BYTES >> 20} MiB, and the hypervisor keeps ${HYPERVISOR_RESERVE_BYTES >> 20} MiB of it for shadow page tables)`,
    );
  }
  const hvOpts: { memoryBytes: number; profile?: string } = { memoryBytes: memoryBytes + HYPERVISOR_RESERVE_BYTES };
  if (opts.profile !== undefined) hvOpts.profile = opts.profile;
  const hv = new Hypervisor(hvOpts);
  const config: DomainConfig = { name: 'guest', memoryBytes };
  if (opts.input !== undefined) config.input = opts.input;
  if (opts.onOutput !== undefined) config.onOutput = opts.onOutput;
  if (opts.disk !== undefined) config.disk = opts.disk;
  const domain = hv.createDomain(new BtMode(), config, spec);
  return collectRun(hv, domain, hv.run({ maxCycles: opts.maxCycles ?? 2_000_000_000 }));
}
