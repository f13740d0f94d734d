// A domain (a virtual machine): its identity, memory quota and p2m map, vCPUs, device model,
// console, statistics and lifecycle state. The Hypervisor creates and destroys domains; a mode
// keeps its per-domain state in `modeState`. Touches only its own guest memory (through the p2m).

import { ConsoleLog } from '../../machine/console-log.ts';
import type { ImageSymbol } from '../../machine/image.ts';
import type { DeviceModel } from '../devices/model.ts';
import { GuestMemory } from './guest-memory.ts';
import type { Mode } from './mode.ts';
import { DomainStats } from './stats.ts';
import { SpinStats, type SpinWatch } from './spin-watch.ts';
import type { Vcpu } from './vcpu.ts';
import type { LogDirtyStage, LogDirtyTracker } from './log-dirty.ts';

/**
 * The per-domain state of each mode, registered by the mode's own module through declaration
 * merging (as Vcpu's VcpuModeStates): `Domain.modeState` is the union of what the modes put
 * there, read through the modes' checking accessors (pvDomain(), btCache(), hvmDomain()).
 */
export interface DomainModeStates {}
/** What a domain's `modeState` may hold. */
export type DomainModeState = DomainModeStates[keyof DomainModeStates];

/** How a domain stopped. */
export type DomainStopReason =
  /** the guest wrote the system-control power-off port (or asked the hypervisor to shut it down) */
  | 'poweroff'
  /** HLT with interrupts (virtually) disabled: nothing can ever wake it */
  | 'halted'
  /** a fault while delivering a double fault */
  | 'triple-fault'
  /** the hypervisor killed it for breaking the rules (e.g. touching memory it does not own) */
  | 'crashed'
  /** the administrator destroyed it */
  | 'destroyed';

export type DomainState = 'running' | 'paused' | 'shutdown';

export interface DomainConfig {
  name: string;
  /** guest-physical memory in bytes (a multiple of 4 KiB): the domain's quota of machine frames */
  memoryBytes: number;
  /** number of vCPUs (default 1) */
  vcpus?: number;
  /** give the domain an emulated device model (default true; a pv domain may go without) */
  devices?: boolean;
  /** bytes typed on the domain's console before it starts */
  input?: string;
  /** the block device's backing bytes (default: an empty disk) */
  disk?: Uint8Array;
  diskTiming?: { requestCycles?: number; perSectorCycles?: number };
  /** called with each byte the domain writes to its console */
  onOutput?: (byte: number) => void;
  /** called with each frame the domain's NIC sends (a pv domain: gives it a network back end) */
  onTransmit?: (frame: Uint8Array) => void;
  /** the interface's station address (default NIC_DEFAULT_MAC) */
  mac?: Uint8Array;
  /**
   * the interface's IPv4 address (a.b.c.d = a << 24 | ...; default: the guest's own, 10.0.2.15):
   * domains on one bridge need their own (pv: in start info; trap, bt, hvm: the NIC's NIC_IP)
   */
  ip?: number;
  /** pv: how received frames reach the guest, by grant copy (default) or page flipping */
  netRx?: 'copy' | 'flip';
}

export class Domain {
  readonly stats = new DomainStats();
  readonly vcpus: Vcpu[] = [];
  /** the emulated devices (QEMU's role), or null for a domain without them */
  devices: DeviceModel | null = null;
  state: DomainState = 'running';
  stopReason: DomainStopReason | null = null;
  /** power-off status (poweroff), else 0 */
  stopStatus = 0;
  /** an explanation for halted, triple-fault, crashed */
  stopDetail = '';
  /** the mode's per-domain state (pv: PvDomain, bt: TranslationCache, hvm: HvmDomainState; trap: none); read it through the mode's typed accessor (pv's PvMode.pv(), btCache(), hvmDomain()), never a cast */
  modeState: DomainModeState | null = null;
  /** symbols of the booted image, for backtraces */
  symbols: ImageSymbol[] = [];
  /** the hypervisor's hook: the domain has stopped (take its vCPUs off the scheduler) */
  onStop: ((d: Domain) => void) | null = null;
  /** log-dirty tracking while it is on (enableLogDirty), else null */
  logDirty: LogDirtyTracker | null = null;
  /** a second stage the mode write-protects itself for log-dirty (hvm with EPT), else null: the MMU fill's protection */
  logDirtyStage: LogDirtyStage | null = null;
  /** the hypervisor's hook that makes this domain's tracker (set when the domain is created) */
  makeLogDirty: ((d: Domain) => LogDirtyTracker) | null = null;
  /** a guest spin loop and lock the hypervisor watches for lock-holder preemption (null: none) */
  spinWatch: SpinWatch | null = null;
  /**
   * the remedy: a vCPU whose slice would begin in the watched acquire loop while the holder waits
   * for the same physical CPU gives the slice up at once (a directed yield; see spin-watch.ts)
   */
  spinYield = false;
  /** what the watch saw (hypervisor/core/spin-watch.ts) */
  readonly spinStats = new SpinStats();
  /** what the domain wrote to its console (the last CONSOLE_LOG_BYTES of it) */
  private readonly consoleLog = new ConsoleLog();
  constructor(
    readonly id: number,
    readonly name: string,
    readonly mode: Mode,
    readonly memory: GuestMemory,
    readonly config: DomainConfig,
  ) {
    this.stats.traceDom = id;
  }

  /** The pseudo-physical -> machine frame map. */
  get p2m(): Int32Array {
    return this.memory.p2m;
  }

  /** Memory quota in frames. */
  get quotaFrames(): number {
    return this.memory.frames;
  }

  get stopped(): boolean {
    return this.state === 'shutdown';
  }

  /** Stop the domain for good (first reason wins); its vCPUs never run again. */
  shutdown(reason: DomainStopReason, status = 0, detail = ''): void {
    if (this.state === 'shutdown') return;
    this.state = 'shutdown';
    this.stopReason = reason;
    this.stopStatus = status;
    this.stopDetail = detail;
    for (const v of this.vcpus) v.runState = 'stopped';
    this.onStop?.(this);
  }

  /**
   * Turn log-dirty tracking on (hypervisor/core/log-dirty.ts): from now on every frame the domain
   * (or the hypervisor or a device on its behalf) writes is logged. Idempotent.
   */
  enableLogDirty(): LogDirtyTracker {
    if (this.logDirty === null) {
      if (this.makeLogDirty === null) throw new Error(`domain '${this.name}': log-dirty needs a hypervisor`);
      this.logDirty = this.makeLogDirty(this);
    }
    return this.logDirty;
  }

  /** The pseudo-physical frames written since the last peek (a bitmap, Xen's layout), cleaned. Log-dirty must be on. */
  peekAndClean(): Uint8Array {
    if (this.logDirty === null) throw new Error(`domain '${this.name}': log-dirty is off (enableLogDirty first)`);
    return this.logDirty.peekAndClean();
  }

  /** Turn log-dirty tracking off. */
  disableLogDirty(): void {
    this.logDirty?.disable();
    this.logDirty = null;
  }

  /** A byte for the domain's console (from its UART, or a console hypercall); onOutput sees every byte. */
  emitConsole(byte: number): void {
    const b = byte & 0xff;
    this.consoleLog.push(b);
    this.config.onOutput?.(b);
  }

  /** What the domain wrote to its console, decoded as UTF-8 (the last CONSOLE_LOG_BYTES of it). */
  consoleOutput(): string {
    return this.consoleLog.text();
  }

  /** The console's bytes (a copy; the last CONSOLE_LOG_BYTES of them). */
  consoleBytes(): Uint8Array {
    return this.consoleLog.bytes();
  }

  /** Console bytes the log no longer holds (it keeps the last CONSOLE_LOG_BYTES). */
  get consoleDropped(): number {
    return this.consoleLog.dropped;
  }
}
