// runHvmMode: boot one image (a bare image, or a kernel with its initrd and command line) in a
// hardware-assisted domain on a fresh hypervisor and run it to the end - the `--mode hvm` entry
// point. Host code; builds its own Hypervisor.

import type { Image } from '../../machine/image.ts';
import type { DomainConfig } from '../core/domain.ts';
import { Hypervisor } from '../core/hypervisor.ts';
import type { BootSpec } from '../core/mode.ts';
import { collectRun, type GuestRunOptions, type GuestRunResult } from '../run.ts';
import { bootSpecFor } from '../trap/index.ts';
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
  const spec: BootSpec = 'segments' in boot ? bootSpecFor(boot, opts) : boot;
  const memoryBytes = opts.memoryBytes ?? 32 * 1024 * 1024;
  const hvOpts: { memoryBytes: number; profile?: string } = { memoryBytes: memoryBytes + hvmReserveBytes(memoryBytes) };
  if (opts.profile !== undefined) hvOpts.profile = opts.profile;
  const hv = new Hypervisor(hvOpts);
  const config: DomainConfig = { name: 'guest', memoryBytes };
  if (opts.input !== undefined) config.input = opts.input;
  if (opts.onOutput !== undefined) config.onOutput = opts.onOutput;
  if (opts.disk !== undefined) config.disk = opts.disk;
  const domain = hv.createDomain(new HvmMode(), config, spec);
  return collectRun(hv, domain, hv.run({ maxCycles: opts.maxCycles ?? 2_000_000_000 }));
}
