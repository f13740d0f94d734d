// The per-domain device model (QEMU's role, kvmtool's shape): instances of the machine's own
// device classes (PIC, timer, UART, block device, NIC, system control) on the domain's own I/O
// port bus, wired to a DeviceContext that points everything at the domain instead of the real
// machine: interrupts go to the domain's virtual PIC, DMA to its guest-physical memory (through
// the p2m), power-off stops the domain, and events go on the hypervisor's one global event queue.
// Touches the domain's memory and its own devices only.

import { IoPortBus } from '../../machine/bus.ts';
import type { EventQueue } from '../../machine/clock.ts';
import type { Cpu } from '../../machine/cpu.ts';
import { BlockDevice } from '../../machine/devices/block.ts';
import { Nic, macFromBytes, NIC_DEFAULT_MAC } from '../../machine/devices/nic.ts';
import { Pic } from '../../machine/devices/pic.ts';
import { SysCtl } from '../../machine/devices/sysctl.ts';
import { Timer } from '../../machine/devices/timer.ts';
import { Uart } from '../../machine/devices/uart.ts';
import { LapicPorts, LocalApic } from '../../machine/devices/lapic.ts';
import type { DeviceContext, InterruptController } from '../../machine/types.ts';
import type { Domain } from '../core/domain.ts';
import type { VcpuExit } from '../core/vcpu.ts';

/**
 * The shortest period a domain's periodic timer expires at: a guest programming a shorter one gets
 * this (KVM's min_timer_period_us), since every expiry interrupts whichever domain is running.
 * The PV interface refuses periodic timers below the same figure.
 */
export const MIN_TIMER_PERIOD_CYCLES = 1000;

/** What a domain with several vCPUs needs of the hypervisor for its virtual local APICs. */
export interface VcpuPlatform {
  /** the guest starts vCPU n (down until now) at pc with stack pointer sp; false if it cannot be */
  startVcpu(n: number, pc: number, sp: number): boolean;
  /** bit n set: vCPU n is up */
  onlineMask(): number;
  /** a vector may have become deliverable to vCPU n (wake it if it waits) */
  interruptFor(n: number): void;
}

export class DeviceModel implements DeviceContext {
  /** the domain's port bus: devices registered by port range, one uniform read/write callback */
  readonly bus = new IoPortBus();
  /** the domain's virtual interrupt controller */
  readonly pic: Pic;
  readonly timer: Timer;
  readonly uart: Uart;
  readonly block: BlockDevice;
  readonly nic: Nic;
  readonly sysctl: SysCtl;
  /**
   * A domain with several vCPUs: a virtual local APIC per vCPU (the machine's own LocalApic, so
   * IPIs, the local timer, EOI and start-up behave as on the bare multiprocessor), vCPU 0's
   * passing the virtual PIC through; their port window is on the domain's bus. Empty with one vCPU.
   */
  readonly apics: readonly LocalApic[];
  readonly lapicPorts: LapicPorts | null;
  /** the vCPU whose I/O exit the bus is answering (the local APIC ports act for it) */
  private ioVcpu = 0;

  /**
   * onInterrupt: called whenever the virtual PIC may have a deliverable line (a raise, unmask, EOI),
   * so the hypervisor can wake a vCPU blocked in HLT.
   */
  constructor(
    private readonly cpu: Cpu,
    private readonly events: EventQueue,
    private readonly domain: Domain,
    onInterrupt: () => void,
    /** with several vCPUs: the hypervisor's side of their local APICs */
    vcpus?: VcpuPlatform,
  ) {
    const cfg = domain.config;
    this.pic = new Pic(onInterrupt);
    this.timer = new Timer(this, MIN_TIMER_PERIOD_CYCLES);
    this.uart = new Uart(this, (b) => domain.emitConsole(b));
    this.block = new BlockDevice(this, cfg.disk ?? new Uint8Array(0), cfg.diskTiming);
    this.nic = new Nic(this, cfg.onTransmit ?? (() => {}), cfg.mac ? macFromBytes(cfg.mac) : NIC_DEFAULT_MAC, cfg.ip ?? 0);
    this.sysctl = new SysCtl(this);
    for (const dev of [this.pic, this.timer, this.uart, this.block, this.nic, this.sysctl]) this.bus.register(dev);
    const n = cfg.vcpus ?? 1;
    if (n > 1 && vcpus !== undefined) {
      const apics: LocalApic[] = [];
      for (let k = 0; k < n; k++) apics.push(new LocalApic(k, this, k === 0 ? this.pic : null, () => vcpus.interruptFor(k)));
      this.apics = apics;
      this.lapicPorts = new LapicPorts(apics, {
        currentCpu: () => this.ioVcpu,
        startCpu: (k, pc, sp) => vcpus.startVcpu(k, pc, sp),
        onlineMask: () => vcpus.onlineMask(),
      });
      this.bus.register(this.lapicPorts);
    } else {
      this.apics = [];
      this.lapicPorts = null;
    }
    if (cfg.input) this.uart.feed(cfg.input);
  }

  // ------------------------------------------------------------------ DeviceContext (the devices' platform)

  now(): number {
    return this.cpu.cycles;
  }

  schedule(atCycle: number, fn: () => void): number {
    const handle = this.events.schedule(atCycle, fn);
    this.cpu.shortenDeadline(atCycle);
    return handle;
  }

  cancel(handle: number): void {
    this.events.cancel(handle);
  }

  raiseIrq(line: number): void {
    this.pic.raise(line);
  }

  lowerIrq(line: number): void {
    this.pic.lower(line);
  }

  dmaWrite(gpa: number, data: Uint8Array): boolean {
    return this.domain.memory.writeBytes(gpa, data);
  }

  dmaRead(gpa: number, length: number): Uint8Array | null {
    return this.domain.memory.readBytes(gpa, length);
  }

  powerOff(status: number): void {
    this.domain.shutdown('poweroff', status);
  }

  // ------------------------------------------------------------------ the I/O exit

  /**
   * Complete an I/O exit against the bus: a write goes to the device; a read's value (masked to
   * the size) is left in exit.data for the mode to put in the guest's register. `vcpu` is the
   * exiting vCPU's index (whose local APIC the LAPIC ports reach).
   */
  handleIo(exit: VcpuExit, vcpu = 0): void {
    this.ioVcpu = vcpu;
    this.domain.stats.countIo(exit.port, exit.isWrite);
    if (exit.isWrite) this.bus.write(exit.port, exit.size, exit.data);
    else exit.data = this.bus.read(exit.port, exit.size);
  }

  /** The interrupt controller vCPU n takes interrupts from: its local APIC, or with one vCPU the PIC. */
  interruptController(n: number): InterruptController {
    return this.apics.length === 0 ? this.pic : this.apics[n]!;
  }

  /** Power-on state, and every pending device event dropped (the domain is going away). */
  reset(): void {
    this.bus.resetDevices();
  }
}
