// runTrapMode: boot one image (a bare image, or a kernel with its initrd and command line) in a
// trap-and-emulate domain on a fresh hypervisor and run it to the end - the `--mode trap` entry
// point. Host code; builds its own Hypervisor.

import type { Image } from '../../machine/image.ts';
import type { Domain, DomainConfig } from '../core/domain.ts';
import { DomainCreateError, Hypervisor } from '../core/hypervisor.ts';
import { MAX_MEMORY_BYTES } from '../../machine/memory.ts';
import { isBootableKernel } from '../core/loader.ts';
import type { BootSpec } from '../core/mode.ts';
import { TrapMode } from './mode.ts';
import { collectRun, type GuestRunOptions, type GuestRunResult } from '../run.ts';

export { TrapMode, DEFAULT_INTERRUPT_WINDOW_POLL_CYCLES, POLL_BACKOFF_LIMIT, type TrapModeOptions } from './mode.ts';
export { TrapVcpu } from './virtual-cpu.ts';
export { ShadowMmu } from './shadow.ts';
export { HYPERVISOR_IDT_BASE } from './state.ts';

export type { GuestStopReason, GuestRunOptions, GuestRunResult } from '../run.ts';

/** Extra machine memory beyond the guest's: the hypervisor's frames (shadow tables at most 4 MiB + a directory). */
export const HYPERVISOR_RESERVE_BYTES = 5 * 1024 * 1024;

/** The BootSpec for an image: a kernel image gets the boot protocol, anything else is loaded bare. */
export function bootSpecFor(image: Image, opts: { initrd?: Uint8Array; cmdline?: string } = {}): BootSpec {
  if (!isBootableKernel(image)) return { image };
  const spec: { kernel: Image; initrd?: Uint8Array; cmdline?: string } = { kernel: image };
  if (opts.initrd !== undefined) spec.initrd = opts.initrd;
  if (opts.cmdline !== undefined) spec.cmdline = opts.cmdline;
  return spec;
}

/** Run one guest under trap-and-emulate until it stops (or maxCycles go by). */
export function runTrapMode(boot: BootSpec | Image, opts: GuestRunOptions = {}): GuestRunResult {
  const spec: BootSpec = 'segments' in boot ? bootSpecFor(boot, opts) : boot;
  const memoryBytes = opts.memoryBytes ?? 32 * 1024 * 1024;
  // checked here, before the machine is sized: its memory is the guest's plus the reserve
  if (!Number.isInteger(memoryBytes) || memoryBytes <= 0 || memoryBytes % 4096 !== 0) {
    throw new DomainCreateError(`domain 'guest': memory must be a positive multiple of 4 KiB (got ${memoryBytes})`);
  }
  if (memoryBytes + HYPERVISOR_RESERVE_BYTES > MAX_MEMORY_BYTES) {
    throw new DomainCreateError(
      `domain 'guest': at most ${(MAX_MEMORY_BYTES - HYPERVISOR_RESERVE_BYTES) >> 20} MiB under trap mode ` +
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
  const domain = hv.createDomain(new TrapMode(opts.trap), config, spec);
  return collectRun(hv, domain, hv.run({ maxCycles: opts.maxCycles ?? 2_000_000_000 }));
}
