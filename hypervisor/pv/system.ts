// A ready-made PV system: a hypervisor with the PV mode and one PV domain booted from a kernel
// image (and initrd, command line, console input, disk). What the CLI's `run --mode pv`, the
// benchmarks and the tests use to boot the xenolith kernel built with --arch pv.
// Host code; creates its own Hypervisor.

import type { Engine } from '../../machine/translator.ts';
import type { Image } from '../../machine/image.ts';
import { Hypervisor, type HypervisorOptions } from '../core/hypervisor.ts';
import type { Domain, DomainConfig } from '../core/domain.ts';
import type { Scheduler } from '../core/scheduler.ts';
import { PvMode } from './mode.ts';
import type { HypercallTable } from './hypercalls.ts';
import { checkGuestMemory, collectRun, smpHypervisorOptions, type GuestRunOptions, type GuestRunResult } from '../run.ts';

/** Machine memory beyond the domain's that the pv system gives the hypervisor. */
const PV_RESERVE_BYTES = 8 * 1024 * 1024;

export interface PvSystemOptions {
  kernel: Image;
  initrd?: Uint8Array;
  cmdline?: string;
  /** the domain's memory (default 32 MiB); the machine gets 8 MiB more for the hypervisor */
  memoryBytes?: number;
  input?: string;
  disk?: Uint8Array;
  profile?: string;
  scheduler?: Scheduler;
  /** the CPU engine (default: the machine's) */
  engine?: Engine;
  onOutput?: (byte: number) => void;
  /** the network: each frame the guest sends (gives the domain a network back end) */
  onTransmit?: (frame: Uint8Array) => void;
  /** how received frames reach the guest: grant copy (default) or page flipping */
  netRx?: 'copy' | 'flip';
  /** the interface's station address and IPv4 address */
  mac?: Uint8Array;
  ip?: number;
  /** the hypercall table (default: standardHypercalls(); an experiment registers more in it) */
  table?: HypercallTable;
  /** vCPUs of the domain (default 1; at most SharedInfo.MAX_VCPUS): the guest starts the others (VCPUOP_INITIALISE, UP) */
  vcpus?: number;
  /** physical CPUs and their schedulers (smpHypervisorOptions: one per vCPU, seeded slices) */
  pcpus?: number;
  makeScheduler?: (pcpu: number) => Scheduler;
}

export interface PvSystem {
  hv: Hypervisor;
  mode: PvMode;
  domain: Domain;
}

/** Build the machine and boot the kernel as its first domain (the control domain). */
export function createPvSystem(opts: PvSystemOptions): PvSystem {
  const memoryBytes = opts.memoryBytes ?? 32 * 1024 * 1024;
  const reserve = checkGuestMemory(memoryBytes, () => PV_RESERVE_BYTES, 'pv', 'its own data (the frame table, the shared pages, the I/O rings)');
  const hvOpts: HypervisorOptions = { memoryBytes: memoryBytes + reserve };
  if (opts.pcpus !== undefined) hvOpts.pcpus = opts.pcpus;
  if (opts.makeScheduler !== undefined) hvOpts.makeScheduler = opts.makeScheduler;
  if (opts.profile !== undefined) hvOpts.profile = opts.profile;
  if (opts.engine !== undefined) hvOpts.engine = opts.engine;
  if (opts.scheduler !== undefined) hvOpts.scheduler = opts.scheduler;
  const hv = new Hypervisor(hvOpts);
  const mode = new PvMode(opts.table ? { table: opts.table } : {});
  const config: DomainConfig = { name: 'pv', memoryBytes, devices: false };
  if (opts.vcpus !== undefined && opts.vcpus !== 1) config.vcpus = opts.vcpus;
  if (opts.input !== undefined) config.input = opts.input;
  if (opts.disk !== undefined) config.disk = opts.disk;
  if (opts.onOutput !== undefined) config.onOutput = opts.onOutput;
  if (opts.onTransmit !== undefined) config.onTransmit = opts.onTransmit;
  if (opts.netRx !== undefined) config.netRx = opts.netRx;
  if (opts.mac !== undefined) config.mac = opts.mac;
  if (opts.ip !== undefined) config.ip = opts.ip;
  const boot: { kernel: Image; initrd?: Uint8Array; cmdline?: string } = { kernel: opts.kernel };
  if (opts.initrd !== undefined) boot.initrd = opts.initrd;
  if (opts.cmdline !== undefined) boot.cmdline = opts.cmdline;
  const domain = hv.createDomain(mode, config, boot);
  return { hv, mode, domain };
}

/** Boot a pv kernel image as the only domain and run it to the end: the `--mode pv` entry point. */
export function runPvMode(
  kernel: Image,
  opts: GuestRunOptions & { table?: HypercallTable; netRx?: 'copy' | 'flip'; vcpus?: number } = {},
): GuestRunResult & { mode: PvMode } {
  const pvOpts: PvSystemOptions = { kernel };
  for (const key of ['initrd', 'cmdline', 'memoryBytes', 'input', 'disk', 'profile', 'onOutput', 'onTransmit', 'netRx', 'table', 'engine', 'vcpus'] as const) {
    if (opts[key] !== undefined) (pvOpts as unknown as Record<string, unknown>)[key] = opts[key];
  }
  // several vCPUs: seeded slices on one physical CPU per vCPU (--pcpus fewer), as runSingleGuest
  if ((opts.vcpus ?? 1) > 1) Object.assign(pvOpts, smpHypervisorOptions(opts.vcpus!, opts.smp));
  const { hv, mode, domain } = createPvSystem(pvOpts);
  opts.onCpu?.(hv.cpu);
  return { ...collectRun(hv, domain, hv.run({ maxCycles: opts.maxCycles ?? 2_000_000_000 })), mode };
}
