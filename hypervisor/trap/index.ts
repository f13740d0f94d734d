// runTrapMode: boot one image (a bare image, or a kernel with its initrd and command line) in a
// trap-and-emulate domain on a fresh hypervisor and run it to the end - the `--mode trap` entry
// point. Host code; builds its own Hypervisor.

import type { Image } from '../../machine/image.ts';
import type { Domain, DomainConfig } from '../core/domain.ts';
import { Hypervisor } from '../core/hypervisor.ts';
import { isBootableKernel } from '../core/loader.ts';
import type { BootSpec } from '../core/mode.ts';
import { TrapMode, type TrapModeOptions } from './mode.ts';

export { TrapMode, DEFAULT_INTERRUPT_WINDOW_POLL_CYCLES, POLL_BACKOFF_LIMIT, type TrapModeOptions } from './mode.ts';
export { TrapVcpu } from './virtual-cpu.ts';
export { ShadowMmu } from './shadow.ts';
export { HYPERVISOR_IDT_BASE } from './state.ts';

/** Why a single-domain run ended (the bare Machine's reasons, plus the hypervisor killing the domain). */
export type GuestStopReason = 'poweroff' | 'halted' | 'triple-fault' | 'crashed' | 'limit' | 'stopped';

export interface GuestRunOptions {
  /** the guest's memory in bytes (default 32 MiB) */
  memoryBytes?: number;
  /** CPU cost profile (default 'p4-2003') */
  profile?: string;
  /** stop after this many cycles (default 2,000,000,000) */
  maxCycles?: number;
  /** console input, typed before the guest starts */
  input?: string;
  /** called with each console byte */
  onOutput?: (byte: number) => void;
  disk?: Uint8Array;
  /** for a kernel image: the initrd and command line of the boot protocol */
  initrd?: Uint8Array;
  cmdline?: string;
  /** trap-mode tuning */
  trap?: TrapModeOptions;
}

export interface GuestRunResult {
  reason: GuestStopReason;
  /** power-off status (poweroff), else 0 */
  status: number;
  detail?: string;
  /** cycles and instructions of the run (the hypervisor's work included), idle cycles */
  cycles: number;
  instructions: number;
  idleCycles: number;
  /** the console */
  output: string;
  hypervisor: Hypervisor;
  domain: Domain;
}

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
  const hvOpts: { memoryBytes: number; profile?: string } = { memoryBytes: memoryBytes + HYPERVISOR_RESERVE_BYTES };
  if (opts.profile !== undefined) hvOpts.profile = opts.profile;
  const hv = new Hypervisor(hvOpts);
  const config: DomainConfig = { name: 'guest', memoryBytes };
  if (opts.input !== undefined) config.input = opts.input;
  if (opts.onOutput !== undefined) config.onOutput = opts.onOutput;
  if (opts.disk !== undefined) config.disk = opts.disk;
  const domain = hv.createDomain(new TrapMode(opts.trap), config, spec);
  const res = hv.run({ maxCycles: opts.maxCycles ?? 2_000_000_000 });
  let reason: GuestStopReason;
  let detail: string | undefined;
  if (domain.stopReason !== null) {
    reason = domain.stopReason === 'destroyed' ? 'stopped' : domain.stopReason;
    if (domain.stopDetail) detail = domain.stopDetail;
  } else if (res.reason === 'deadlock') {
    reason = 'halted';
    detail = `hlt at pc 0x${(hv.vcpuState(domain.vcpus[0]!).pc >>> 0).toString(16).padStart(8, '0')} with no event left that could wake the CPU`;
  } else {
    reason = res.reason === 'limit' ? 'limit' : 'stopped';
  }
  const out: GuestRunResult = {
    reason,
    status: reason === 'poweroff' ? domain.stopStatus : 0,
    cycles: res.cycles,
    instructions: res.instructions,
    idleCycles: res.idleCycles,
    output: domain.consoleOutput(),
    hypervisor: hv,
    domain,
  };
  if (detail !== undefined) out.detail = detail;
  return out;
}
