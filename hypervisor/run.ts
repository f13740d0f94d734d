// One guest, one domain, run to the end: the shape every mode's single-guest entry point returns
// (`xenolith run --mode ...`, the comparison's runners), so callers treat the modes alike.
// Host code.

import type { Cpu } from '../machine/cpu.ts';
import type { Image } from '../machine/image.ts';
import { MAX_MEMORY_BYTES } from '../machine/memory.ts';
import type { Domain, DomainConfig } from './core/domain.ts';
import { DomainCreateError, Hypervisor, type HypervisorOptions, type HypervisorRunResult } from './core/hypervisor.ts';
import { RoundRobinScheduler } from './core/scheduler.ts';
import { isBootableKernel } from './core/loader.ts';
import type { BootSpec, Mode } from './core/mode.ts';
import type { TrapModeOptions } from './trap/mode.ts';
import { hex } from '../machine/hex.ts';
import type { Engine } from '../machine/translator.ts';

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
  /** called with each frame the guest's NIC sends (trap, bt, hvm: the emulated NIC) */
  onTransmit?: (frame: Uint8Array) => void;
  /** the NIC's station address and the IPv4 address it reports (NIC_IP; DomainConfig.mac, .ip): a domain on a bridge needs its own */
  mac?: Uint8Array;
  ip?: number;
  /** for a kernel image: the initrd and command line of the boot protocol */
  initrd?: Uint8Array;
  cmdline?: string;
  /** trap-mode tuning */
  trap?: TrapModeOptions;
  /** hvm-mode translation: 'shadow' or 'ept' (default: the profile's CPU decides); with shadow paging, the shadow's kind */
  hvm?: { mmu?: 'shadow' | 'ept'; shadow?: 'flush' | 'traced'; ple?: { gap: number; window: number } };
  /** bt-mode tuning (the translation cache's bound, the shadow, adaptive retranslation: BtModeOptions) */
  bt?: { cacheUnits?: number; shadow?: 'flush' | 'traced'; adaptive?: boolean };
  /** the CPU engine: 'interpreter' or 'translator' (default machine/translator.ts DEFAULT_ENGINE) */
  engine?: Engine;
  /** a hosted monitor: each I/O exit also pays a world switch to the host (HypervisorOptions.hosted) */
  hosted?: boolean;
  /** called with the machine's CPU before the guest runs (instrumentation: the cost ledger's hooks) */
  onCpu?: (cpu: Cpu) => void;
  /** vCPUs of the domain (default 1; trap, bt and hvm start the others through the virtual local APIC) */
  vcpus?: number;
  /**
   * with several vCPUs: how they time-share the CPU - the scheduler's slices drawn from `seed`'s
   * generator, 1..quantumCycles cycles (default seed 1, quantum SMP_DEFAULT_QUANTUM_CYCLES:
   * `run --smp-seed/--smp-quantum`) on `pcpus` physical CPUs (default: one per vCPU; fewer, and
   * vCPUs share them: `run --pcpus`)
   */
  smp?: { seed?: number; quantumCycles?: number; pcpus?: number; cosched?: boolean };
}

/** A gang slice under co-scheduling (`run --cosched`), in quanta: the domain's vCPUs run together this long. */
export const COSCHED_SLICE_QUANTA = 10;

/** The default longest vCPU slice of a domain with several vCPUs (the bare multiprocessor's default quantum). */
export const SMP_DEFAULT_QUANTUM_CYCLES = 100_000;

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
    detail = `hlt at pc ${hex(hv.vcpuState(domain.vcpus[0]!).pc)} with no event left that could wake the CPU`;
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

/** The BootSpec for an image: a kernel image gets the boot protocol, anything else is loaded bare. */
export function bootSpecFor(image: Image, opts: { initrd?: Uint8Array; cmdline?: string } = {}): BootSpec {
  if (!isBootableKernel(image)) return { image };
  const spec: { kernel: Image; initrd?: Uint8Array; cmdline?: string } = { kernel: image };
  if (opts.initrd !== undefined) spec.initrd = opts.initrd;
  if (opts.cmdline !== undefined) spec.cmdline = opts.cmdline;
  return spec;
}

/**
 * The hypervisor of a domain of `vcpus` vCPUs: `smp.pcpus` physical CPUs (default one per vCPU),
 * each with a round-robin scheduler of seeded slices, 1..quantumCycles (physical CPU p's seed is
 * derived from `seed` and p, so they differ).
 */
export function smpHypervisorOptions(vcpus: number, smp: GuestRunOptions['smp'] = {}): Pick<HypervisorOptions, 'pcpus' | 'scheduler' | 'makeScheduler' | 'cosched'> {
  const quantum = smp.quantumCycles ?? SMP_DEFAULT_QUANTUM_CYCLES;
  const seed = smp.seed ?? 1;
  const out: Pick<HypervisorOptions, 'pcpus' | 'scheduler' | 'makeScheduler' | 'cosched'> = {
    pcpus: smp.pcpus ?? vcpus,
    scheduler: new RoundRobinScheduler(quantum, seed),
    makeScheduler: (p) => new RoundRobinScheduler(quantum, (seed + p * 0x9e3779b9) >>> 0),
  };
  // co-scheduled: gang slices of COSCHED_SLICE_QUANTA quanta, turns inside drawn from the same seed
  if (smp.cosched === true) out.cosched = { sliceCycles: COSCHED_SLICE_QUANTA * quantum, quantumCycles: quantum, seed };
  return out;
}

/**
 * Check a single guest's memory before the machine is sized (its memory is the guest's plus the
 * mode's reserve): a DomainCreateError that says the most the mode allows. Returns the reserve.
 */
export function checkGuestMemory(memoryBytes: number, reserveBytes: (guestBytes: number, vcpus: number) => number, modeName: string, why: string, vcpus = 1): number {
  if (!Number.isInteger(memoryBytes) || memoryBytes <= 0 || memoryBytes % 4096 !== 0) {
    throw new DomainCreateError(`domain 'guest': memory must be a positive multiple of 4 KiB (got ${memoryBytes})`);
  }
  const reserve = reserveBytes(memoryBytes, vcpus);
  if (memoryBytes + reserve > MAX_MEMORY_BYTES) {
    throw new DomainCreateError(
      `domain 'guest': at most ${(MAX_MEMORY_BYTES - reserve) >> 20} MiB under ${modeName} mode ` +
        `(the machine has at most ${MAX_MEMORY_BYTES >> 20} MiB, and the hypervisor keeps ${Math.ceil(reserve / (1 << 20))} MiB of it for ${why})`,
    );
  }
  return reserve;
}

/**
 * Boot one guest as the only domain of a fresh hypervisor running `mode`, and run it to the end:
 * the body of every mode's single-guest entry point (runTrapMode, runBtMode, runHvmMode).
 * `reserveBytes(guestBytes, vcpus)` is the machine memory the mode keeps for itself beyond the
 * guest's (shadow tables, second-stage tables); `why` says what it is for, in the error when it
 * does not fit. With several vCPUs the scheduler's slices are seeded (opts.smp).
 */
export function runSingleGuest(
  mode: Mode,
  boot: BootSpec | Image,
  opts: GuestRunOptions,
  reserveBytes: (guestBytes: number, vcpus: number) => number,
  why: string,
): GuestRunResult {
  const spec: BootSpec = 'segments' in boot ? bootSpecFor(boot, opts) : boot;
  const memoryBytes = opts.memoryBytes ?? 32 * 1024 * 1024;
  const vcpus = opts.vcpus ?? 1;
  const reserve = checkGuestMemory(memoryBytes, reserveBytes, mode.name, why, vcpus);
  const hvOpts: HypervisorOptions = { memoryBytes: memoryBytes + reserve };
  if (vcpus > 1) Object.assign(hvOpts, smpHypervisorOptions(vcpus, opts.smp));
  if (opts.profile !== undefined) hvOpts.profile = opts.profile;
  if (opts.engine !== undefined) hvOpts.engine = opts.engine;
  if (opts.hosted !== undefined) hvOpts.hosted = opts.hosted;
  const hv = new Hypervisor(hvOpts);
  const config: DomainConfig = { name: 'guest', memoryBytes };
  if (vcpus > 1) config.vcpus = vcpus;
  if (opts.input !== undefined) config.input = opts.input;
  if (opts.onOutput !== undefined) config.onOutput = opts.onOutput;
  if (opts.disk !== undefined) config.disk = opts.disk;
  if (opts.onTransmit !== undefined) config.onTransmit = opts.onTransmit;
  if (opts.mac !== undefined) config.mac = opts.mac;
  if (opts.ip !== undefined) config.ip = opts.ip;
  const domain = hv.createDomain(mode, config, spec);
  opts.onCpu?.(hv.cpu);
  return collectRun(hv, domain, hv.run({ maxCycles: opts.maxCycles ?? 2_000_000_000 }));
}
