// hypervisor/: the public API - the KVM-shaped core (Hypervisor, Domain, Vcpu, Mode, schedulers,
// the frame allocator), the per-domain device model, and the modes built so far - plus
// runImageInMode, the one call the CLI's `xenolith run --mode <mode>` needs.

import type { Image } from '../machine/image.ts';
import { runTrapMode } from './trap/index.ts';
import { runPvMode } from './pv/system.ts';
import { runHvmMode } from './hvm/index.ts';
import { runBtMode } from './bt/index.ts';
import type { GuestRunOptions, GuestRunResult } from './run.ts';
import type { VirtualizationMode } from './modes.ts';
import { assertNever } from '../machine/never.ts';

export { Hypervisor, DomainCreateError, type HypervisorOptions, type HypervisorRunResult, type HypervisorStopReason } from './core/hypervisor.ts';
export { Domain, type DomainConfig, type DomainState, type DomainStopReason } from './core/domain.ts';
export { Vcpu, VcpuExit, resetCpuState, type VcpuRunState } from './core/vcpu.ts';
export type { Mode, BootSpec } from './core/mode.ts';
export { RoundRobinScheduler, DEFAULT_SLICE_CYCLES, type Scheduler } from './core/scheduler.ts';
export { FrameAllocator, OutOfFramesError, OWNER_FREE, OWNER_HYPERVISOR } from './core/frames.ts';
export { GuestMemory } from './core/guest-memory.ts';
export { DomainStats, VCPU_EXIT_REASONS, type VcpuExitReason } from './core/stats.ts';
export { loadBoot, isBootableKernel } from './core/loader.ts';
export { DeviceModel } from './devices/model.ts';
export { runPvMode, createPvSystem } from './pv/system.ts';
export { formatPvStats } from './pv/stats.ts';
export { HypercallTable, standardHypercalls } from './pv/hypercalls.ts';
export { PvMode } from './pv/mode.ts';
export { BtMode, runBtMode, btCache, formatBtStats, btStatsSummary, TranslationCache, UNIT_MAX_INSNS } from './bt/index.ts';
export { HvmMode, runHvmMode, Ept, hvmReserveBytes, formatHvmStats, hvmExitCounts } from './hvm/index.ts';
export {
  TrapMode,
  runTrapMode,
  bootSpecFor,
  HYPERVISOR_IDT_BASE,
  DEFAULT_INTERRUPT_WINDOW_POLL_CYCLES,
  type TrapModeOptions,
  type GuestRunOptions,
  type GuestRunResult,
  type GuestStopReason,
} from './trap/index.ts';

export { MODE_NAMES, VIRTUALIZATION_MODES, type ModeName, type VirtualizationMode } from './modes.ts';

/**
 * Boot `image` under a virtualization mode and run it to the end: what `xenolith run IMAGE
 * --mode <mode>` does. A kernel image (arch native) is booted with the boot protocol (opts.initrd,
 * opts.cmdline); any other image is loaded bare at its physical addresses. The result carries the
 * console, the stop reason and status (as Machine.run's), and the hypervisor and domain for
 * statistics (domain.stats.summary()).
 */
export function runImageInMode(mode: VirtualizationMode, image: Image, opts: GuestRunOptions = {}): GuestRunResult {
  switch (mode) {
    case 'trap':
      return runTrapMode(image, opts);
    case 'bt':
      return runBtMode(image, opts);
    case 'pv':
      return runPvMode(image, opts);
    case 'hvm':
      return runHvmMode(image, opts);
    default:
      return assertNever(mode, 'mode');
  }
}
