// One guest, one domain, run to the end: the shape every mode's single-guest entry point returns
// (`xenolith run --mode ...`, the comparison's runners), so callers treat the modes alike.
// Host code.

import type { Domain } from './core/domain.ts';
import type { Hypervisor, HypervisorRunResult } from './core/hypervisor.ts';
import type { TrapModeOptions } from './trap/mode.ts';

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

/** The result of running `domain`, the only domain of `hv`, as hv.run returned `res`. */
export function collectRun(hv: Hypervisor, domain: Domain, res: HypervisorRunResult): GuestRunResult {
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
