// arch/pv's multiprocessor operations (the CPU_* / IPI_* pvops) on the hypervisor's vCPUs: this
// CPU's number from the read-only word the hypervisor keeps at HvLayout.VCPU_ID, its vcpu_info
// slot in the shared-info page, secondary start-up by VCPUOP_INITIALISE + VCPUOP_UP,
// inter-processor interrupts as event channels (one IPI port per vCPU, EVTCHNOP_bind_ipi), each
// secondary's tick on its own VIRQ TIMER port, and which ports each vCPU's upcall handles.
// Guest code (the TypeScript subset); runs at ring 1.

import { addressOf, load32, store32, staticBuffer } from 'xl32';
import { EvtchnCmd, HvLayout, RunState, SchedOp, VcpuCmd, Virq } from '../../../hypercalls/numbers.ts';
import { EvtchnBindIpi, EvtchnBindVirq, SharedInfo, StartInfo, VcpuGuestContext, VcpuInfo } from '../../../hypercalls/structs.ts';
import { hcEventChannelOp, hcVcpuOp, hcSchedOp, evtchnSend, schedYield } from '../../../hypercalls/guest.ts';
import { Smp, apMain, cpusOnline } from '../../kernel/smp.ts';
import { kernelPd } from '../../kernel/vm.ts';
import { panic } from '../../kernel/panic.ts';
import { cstr, divu } from 'xl32';
import { Xen, startInfo, pfnToMfn } from './xen.ts';
import { pvMmuCpuStarted } from './mmu.ts';

const enum PvSmp {
  /** bytes of one vCPU's port bitmap (1,024 ports) */
  MAP_BYTES = 128,
}

/** per vCPU: its IPI port, its tick's port (0 for vCPU 0: its tick is the TIMER line's) */
const ipiPort = staticBuffer(Smp.MAX_CPUS * 4);
const tickPort = staticBuffer(Smp.MAX_CPUS * 4);
/** per vCPU: the ports its upcall takes (bit per port): a secondary's own, and for vCPU 0 every port no secondary has */
const ownPorts = staticBuffer(Smp.MAX_CPUS * PvSmp.MAP_BYTES);
const context = staticBuffer(VcpuGuestContext.BYTES);
const bind = staticBuffer(EvtchnBindVirq.BYTES);
/** the vCPUs the domain has (1 until pvSmpInit) */
let vcpus = 1;
/** vCPUs started (CPU_START) and not yet online in the kernel: vCPU 0 gives them the CPU at its returns to user mode */
export let smpStarting = 0;

/** This vCPU's number. */
export function pvCpuId(): number {
  return load32(HvLayout.VCPU_ID);
}

/** The shared-info slot of the vCPU running this (vcpu_info: upcall mask and pending, CR2, time). */
export function myVcpuInfo(): number {
  return Xen.SHARED + SharedInfo.VCPU_INFO + load32(HvLayout.VCPU_ID) * VcpuInfo.BYTES;
}

export function pvCpuCount(): number {
  return vcpus;
}

/** vCPU 0 takes every port, until a secondary is given some (call before any event is taken). */
export function pvPortsInit(): void {
  let w = 0;
  while (w < PvSmp.MAP_BYTES) {
    store32(ownPorts + w, -1);
    w = w + 4;
  }
}

/** Count the vCPUs (start_info) and give vCPU 0 its IPI port. True with more than one. */
export function pvSmpInit(): boolean {
  let n = startInfo(StartInfo.NR_VCPUS);
  if (n > Smp.MAX_CPUS) n = Smp.MAX_CPUS;
  if (n <= 1) return false;
  vcpus = n;
  store32(ipiPort, bindIpi(0));
  return true;
}

function bindIpi(k: number): number {
  store32(bind + EvtchnBindIpi.VCPU, k);
  if (hcEventChannelOp(EvtchnCmd.BIND_IPI, bind) < 0) panic(cstr('pv smp: bind_ipi refused'));
  return load32(bind + EvtchnBindIpi.PORT);
}

/** Port p is vCPU k's (k >= 1): only its upcall takes it. */
function own(k: number, p: number): void {
  const w = (p >>> 5) * 4;
  const b = 1 << (p & 31);
  store32(ownPorts + k * PvSmp.MAP_BYTES + w, load32(ownPorts + k * PvSmp.MAP_BYTES + w) | b);
  store32(ownPorts + w, load32(ownPorts + w) & ~b);
}

/**
 * CPU_START: vCPU n gets its ports (an IPI port, a VIRQ TIMER port), then its starting state -
 * pvApEntry on the stack ending at sp, the kernel's page directory - and is started.
 */
export function pvCpuStart(n: number, sp: number): void {
  const ipi = bindIpi(n);
  store32(ipiPort + n * 4, ipi);
  own(n, ipi);
  store32(bind + EvtchnBindVirq.VIRQ, Virq.TIMER);
  store32(bind + EvtchnBindVirq.VCPU, n);
  if (hcEventChannelOp(EvtchnCmd.BIND_VIRQ, bind) < 0) panic(cstr('pv smp: a vCPU\'s timer port was refused'));
  const tick = load32(bind + EvtchnBindVirq.PORT);
  store32(tickPort + n * 4, tick);
  own(n, tick);
  store32(context + VcpuGuestContext.PC, addressOf(pvApEntry));
  store32(context + VcpuGuestContext.SP, sp);
  store32(context + VcpuGuestContext.ARG, 0);
  store32(context + VcpuGuestContext.BASEPTR, pfnToMfn(kernelPd() >>> 12));
  store32(context + VcpuGuestContext.KERNEL_SP, 0);
  if (hcVcpuOp(VcpuCmd.INITIALISE, n, context) < 0) panic(cstr('pv smp: VCPUOP_initialise refused'));
  if (hcVcpuOp(VcpuCmd.UP, n, 0) < 0) panic(cstr('pv smp: VCPUOP_up refused'));
  smpStarting = smpStarting + 1;
}

/**
 * On the way to user mode (the kernel lock let go) while a started vCPU has not come online:
 * yield the physical CPU, so the vCPU waiting for the kernel lock finds it free - otherwise it
 * gets the CPU only at the end of a slice, when this vCPU likely holds the lock again, and
 * comes online late (a boot-time Xen guest waits in cpu_up the same way).
 */
export function pvSmpBootWait(): void {
  if (cpusOnline() >= smpStarting + 1) {
    smpStarting = 0;
    return;
  }
  schedYield();
}

/** A secondary vCPU starts here: ring 1, the kernel's directory loaded, events masked. */
function pvApEntry(): void {
  pvMmuCpuStarted(kernelPd());
  apMain();
}

/** IPI_SEND: the vector is always the kernel's IPI vector here; one port per vCPU carries it. */
export function pvIpiSend(n: number, _v: number): void {
  evtchnSend(load32(ipiPort + n * 4));
}

/** IPI_ACK: an event needs no end of interrupt (its pending bit went when it was taken). */
export function pvIpiAck(): void {
  // nothing to do
}

/** SPIN_WAIT: the lock's holder may be a preempted vCPU - let it run (sched_op yield, telling the hypervisor the cycles spun). */
export function pvSpinWait(cycles: number): void {
  hcSchedOp(SchedOp.YIELD, cycles, 0);
}

/**
 * VCPU_PREEMPTED: is vCPU n's runstate RUNNABLE - it could run but waits for its physical CPU -
 * in the read-only words the hypervisor keeps (HvLayout.VCPU_RUNSTATE; Linux's xen_vcpu_stolen
 * reads its registered vcpu_runstate_info the same way)? BLOCKED or OFFLINE is not preempted.
 */
export function pvVcpuPreempted(n: number): number {
  return load32(HvLayout.VCPU_RUNSTATE + n * 4) === RunState.RUNNABLE ? 1 : 0;
}

/** LOCAL_TIMER_START: this vCPU's periodic timer (its own VIRQ TIMER port). */
export function pvLocalTimerStart(cycles: number, _v: number): void {
  hcVcpuOp(VcpuCmd.SET_PERIODIC_TIMER, load32(HvLayout.VCPU_ID), divu(cycles, startInfo(StartInfo.CPU_MHZ)) * 1000);
}

/** The bitmap of the ports vCPU me's upcall takes (one bit per port; with one vCPU: every port). */
export function portMap(me: number): number {
  return ownPorts + me * PvSmp.MAP_BYTES;
}

/** What a port means to vCPU me besides a device line: 1 its IPI, 2 its tick (a secondary's), 0 neither. */
export function smpPortKind(me: number, p: number): number {
  if (vcpus === 1) return 0;
  if (p === load32(ipiPort + me * 4)) return 1;
  if (me !== 0 && p === load32(tickPort + me * 4)) return 2;
  return 0;
}
