// A scripted virtualization mode for testing the core without a real guest: each runVcpu() call
// takes the next step of a script (advance time, return an exit of some reason), so a test can
// drive the outer loop, the device model and the scheduler exactly. It is also the smallest
// example of the Mode contract a new mode (pv, hvm, bt) implements.

import type { Domain } from '../../hypervisor/core/domain.ts';
import type { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import type { BootSpec, Mode } from '../../hypervisor/core/mode.ts';
import type { VcpuExitReason } from '../../hypervisor/core/stats.ts';
import type { Vcpu, VcpuExit } from '../../hypervisor/core/vcpu.ts';

export interface Step {
  /** cycles the guest "runs" before this exit (capped at the deadline: then the exit is 'deadline') */
  cycles: number;
  reason: VcpuExitReason;
  port?: number;
  size?: number;
  isWrite?: boolean;
  data?: number;
  reg?: number;
}

export class ScriptMode implements Mode {
  readonly name = 'script';
  hv!: Hypervisor;
  /** per vCPU label: its script and what it saw */
  readonly scripts = new Map<string, Step[]>();
  /** the values IN exits completed with, per vCPU, in order */
  readonly completedIns = new Map<string, number[]>();
  /** calls, for checking the lifecycle */
  readonly calls: string[] = [];
  /** what hasPendingEvent answers */
  pending = false;

  attach(hv: Hypervisor): void {
    this.hv = hv;
    this.calls.push('attach');
  }
  createDomain(domain: Domain): void {
    this.calls.push(`create ${domain.name}`);
  }
  build(domain: Domain, _boot: BootSpec): void {
    this.calls.push(`build ${domain.name}`);
  }
  load(vcpu: Vcpu): void {
    this.calls.push(`load ${vcpu.label}`);
  }
  unload(vcpu: Vcpu): void {
    this.calls.push(`unload ${vcpu.label}`);
  }
  hasPendingEvent(_vcpu: Vcpu): boolean {
    return this.pending;
  }
  destroyDomain(domain: Domain): void {
    this.calls.push(`destroy ${domain.name}`);
  }

  runVcpu(vcpu: Vcpu, deadline: number): VcpuExit {
    const exit = vcpu.exit;
    const cpu = this.hv.cpu;
    if (vcpu.ioPending) {
      vcpu.ioPending = false;
      const list = this.completedIns.get(vcpu.label) ?? [];
      list.push(exit.data);
      this.completedIns.set(vcpu.label, list);
    }
    const script = this.scripts.get(vcpu.label) ?? [];
    const step = script[0];
    if (!step) {
      vcpu.domain.shutdown('poweroff', 0);
      exit.reason = 'shutdown';
      return exit;
    }
    if (cpu.cycles + step.cycles > deadline) {
      // the deadline comes first: the step keeps its remaining cycles
      step.cycles -= Math.max(0, deadline - cpu.cycles);
      cpu.cycles = Math.max(cpu.cycles, deadline);
      exit.reason = 'deadline';
      return exit;
    }
    script.shift();
    cpu.cycles += step.cycles;
    exit.reason = step.reason;
    exit.port = step.port ?? 0;
    exit.size = step.size ?? 1;
    exit.isWrite = step.isWrite ?? false;
    exit.data = step.data ?? 0;
    exit.reg = step.reg ?? 0;
    if (step.reason === 'shutdown') vcpu.domain.shutdown('poweroff', step.data ?? 0);
    return exit;
  }
}
