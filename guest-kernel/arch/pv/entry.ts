// The PV kernel's entry module (what `compile --arch pv` starts from): turn the hypervisor's
// start_info into the boot information block the shared kernel reads (as XenoLinux turned
// start_info into Linux's boot parameters), route event ports to the kernel's device lines, fill
// the pvops table with the hypercall-based operations and start the shared kernel. The domain
// builder (hypervisor/pv/builder.ts) enters at ring 1 with its bootstrap page tables loaded;
// docs/hypercalls.md "Booting a PV domain" gives the protocol.
// Guest code (the TypeScript subset); runs at ring 1.

import { addressOf, load8, store8, store32, cstr } from 'xl32';
import { Virq, UvmFlags } from '../../../hypercalls/numbers.ts';
import { StartInfo, StartInfoMagic } from '../../../hypercalls/structs.ts';
import { evtchnBindVirq, eventsSetMask, hcUpdateVaMapping, consoleWrite, schedShutdown } from '../../../hypercalls/guest.ts';
import { PvOp, pvSet, IrqLine } from '../../kernel/pvops.ts';
import { BootInfo, Layout, Pte } from '../../kernel/memlayout.ts';
import { kaddLow } from '../../kernel/kalloc.ts';
import { kmain } from '../../kernel/main.ts';
import { strlen } from '../../kernel/string.ts';
import { Xen, startInfo, xenInit, portsInit, bindLine } from './xen.ts';
import { controlInit } from './control.ts';
import { pvIrqSave, pvIrqRestore, pvIrqDisable, pvIrqEnable, pvIrqAck, pvIrqUnmask, pvIrqsEnabled, pvCurrentRing } from './irq.ts';
import { pvTrapTableLoad, pvSetKernelStack, pvUserReturn, pvTrapTableCheck } from './traps.ts';
import {
  pvSetPte, pvSwitchAddressSpace, pvInvalidatePage, pvFlushTlb, pvFaultAddress, pvPageTableAlloc, pvPageTableRelease, pvMmuInit,
  pvPteMake, pvPteValue, pvSetPteVa, pvLazyMmuBegin, pvLazyMmuEnd, pvUsableFrames, pvCarvedEnd, pvTlbFlushOthers,
} from './mmu.ts';
import {
  pvTimerStart, pvClockMHz, pvReadCycles, pvIdle, pvPowerOff, pvArchName, pvConsoleIrqEnable,
  pvDiskSubmit, pvDiskComplete, pvDiskCapacity, pvBlkInit, pvBlkConnect, pvBlkPort, pvGrantTableReady,
} from './devices.ts';
import { pvNetInit, pvNetSend, pvNetRecv, pvNetAck, pvNetStat, pvNetPort } from './net.ts';
import { pvConsoleInit, pvConsolePutc, pvConsoleGetc, pvConsoleStatus } from './console.ts';
import { pvPortsInit, pvSmpInit, pvCpuId, pvCpuCount, pvCpuStart, pvIpiSend, pvIpiAck, pvLocalTimerStart, pvSpinWait, pvVcpuPreempted } from './smp.ts';

const enum Boot {
  CMDLINE = BootInfo.ADDRESS + BootInfo.BYTES,
  CMDLINE_MAX = 4096 - BootInfo.BYTES - 1,
  /** the first page after the boot block's page */
  LOW_FREE = BootInfo.ADDRESS + 4096,
}

/** Fill the pvops table with the hypercall-based operations. */
export function pvSetup(): void {
  pvSet(PvOp.IRQ_SAVE, addressOf(pvIrqSave));
  pvSet(PvOp.IRQ_RESTORE, addressOf(pvIrqRestore));
  pvSet(PvOp.IRQ_DISABLE, addressOf(pvIrqDisable));
  pvSet(PvOp.IRQ_ENABLE, addressOf(pvIrqEnable));
  pvSet(PvOp.IRQ_ACK, addressOf(pvIrqAck));
  pvSet(PvOp.IRQ_UNMASK, addressOf(pvIrqUnmask));
  pvSet(PvOp.TRAP_TABLE_LOAD, addressOf(pvTrapTableLoad));
  pvSet(PvOp.SET_KERNEL_STACK, addressOf(pvSetKernelStack));
  pvSet(PvOp.IDLE, addressOf(pvIdle));
  pvSet(PvOp.POWER_OFF, addressOf(pvPowerOff));
  pvSet(PvOp.READ_CYCLES, addressOf(pvReadCycles));
  pvSet(PvOp.SET_PTE, addressOf(pvSetPte));
  pvSet(PvOp.SWITCH_ADDRESS_SPACE, addressOf(pvSwitchAddressSpace));
  pvSet(PvOp.INVALIDATE_PAGE, addressOf(pvInvalidatePage));
  pvSet(PvOp.FLUSH_TLB, addressOf(pvFlushTlb));
  pvSet(PvOp.FAULT_ADDRESS, addressOf(pvFaultAddress));
  pvSet(PvOp.PAGE_TABLE_ALLOC, addressOf(pvPageTableAlloc));
  pvSet(PvOp.PAGE_TABLE_RELEASE, addressOf(pvPageTableRelease));
  pvSet(PvOp.TIMER_START, addressOf(pvTimerStart));
  pvSet(PvOp.CLOCK_MHZ, addressOf(pvClockMHz));
  pvSet(PvOp.CONSOLE_PUTC, addressOf(pvConsolePutc));
  pvSet(PvOp.CONSOLE_GETC, addressOf(pvConsoleGetc));
  pvSet(PvOp.CONSOLE_IRQ_ENABLE, addressOf(pvConsoleIrqEnable));
  pvSet(PvOp.DISK_SUBMIT, addressOf(pvDiskSubmit));
  pvSet(PvOp.DISK_COMPLETE, addressOf(pvDiskComplete));
  pvSet(PvOp.DISK_CAPACITY, addressOf(pvDiskCapacity));
  pvSet(PvOp.USER_RETURN, addressOf(pvUserReturn));
  pvSet(PvOp.ARCH_NAME, addressOf(pvArchName));
  pvSet(PvOp.PTE_MAKE, addressOf(pvPteMake));
  pvSet(PvOp.PTE_VALUE, addressOf(pvPteValue));
  pvSet(PvOp.SET_PTE_VA, addressOf(pvSetPteVa));
  if (pvNetPort() > 0 && pvGrantTableReady()) {
    pvSet(PvOp.NET_INIT, addressOf(pvNetInit));
    pvSet(PvOp.NET_SEND, addressOf(pvNetSend));
    pvSet(PvOp.NET_RECV, addressOf(pvNetRecv));
    pvSet(PvOp.NET_ACK, addressOf(pvNetAck));
    pvSet(PvOp.NET_STAT, addressOf(pvNetStat));
  }
  // optional: benchmarks and probes (CR4 has no PV counterpart: READ_CR4/WRITE_CR4 stay empty)
  pvSet(PvOp.CONSOLE_STATUS, addressOf(pvConsoleStatus));
  pvSet(PvOp.CURRENT_RING, addressOf(pvCurrentRing));
  pvSet(PvOp.IRQS_ENABLED, addressOf(pvIrqsEnabled));
  pvSet(PvOp.TRAP_TABLE_CHECK, addressOf(pvTrapTableCheck));
  pvSet(PvOp.LAZY_MMU_BEGIN, addressOf(pvLazyMmuBegin));
  pvSet(PvOp.LAZY_MMU_END, addressOf(pvLazyMmuEnd));
  // several vCPUs: the multiprocessor operations (with one, the kernel runs its uniprocessor paths)
  if (pvSmpInit()) {
    pvSet(PvOp.CPU_ID, addressOf(pvCpuId));
    pvSet(PvOp.CPU_COUNT, addressOf(pvCpuCount));
    pvSet(PvOp.CPU_START, addressOf(pvCpuStart));
    pvSet(PvOp.IPI_SEND, addressOf(pvIpiSend));
    pvSet(PvOp.IPI_ACK, addressOf(pvIpiAck));
    pvSet(PvOp.LOCAL_TIMER_START, addressOf(pvLocalTimerStart));
    pvSet(PvOp.SPIN_WAIT, addressOf(pvSpinWait));
    pvSet(PvOp.VCPU_PREEMPTED, addressOf(pvVcpuPreempted));
    pvSet(PvOp.TLB_FLUSH_OTHERS, addressOf(pvTlbFlushOthers));
  }
}

function say(s: number): void {
  consoleWrite(s, strlen(s));
}

/** The boot information block (docs/kernel.md), from start_info. */
function writeBootInfo(): void {
  const b = BootInfo.ADDRESS;
  store32(b + BootInfo.MAGIC, BootInfo.MAGIC_VALUE);
  store32(b + BootInfo.VERSION, 1);
  // memory beyond what the pv MMU tracks stays unused (the domain still owns it)
  store32(b + BootInfo.MEMORY_BYTES, pvUsableFrames(startInfo(StartInfo.NR_PAGES)) << 12);
  store32(b + BootInfo.INITRD_ADDR, startInfo(StartInfo.MOD_START));
  store32(b + BootInfo.INITRD_BYTES, startInfo(StartInfo.MOD_LEN));
  store32(b + BootInfo.FREE_START, pvCarvedEnd());
  let n = 0;
  while (n < Boot.CMDLINE_MAX && load8(Xen.START_INFO + StartInfo.CMDLINE + n) !== 0) {
    store8(Boot.CMDLINE + n, load8(Xen.START_INFO + StartInfo.CMDLINE + n));
    n = n + 1;
  }
  store8(Boot.CMDLINE + n, 0);
  store32(b + BootInfo.CMDLINE_ADDR, Boot.CMDLINE);
  store32(b + BootInfo.CMDLINE_BYTES, n);
}

/** Bind the device lines' ports, masked until the kernel unmasks each line. */
function eventsInit(): void {
  portsInit();
  pvPortsInit();
  const timer = evtchnBindVirq(Virq.TIMER);
  if (timer > 0) bindLine(IrqLine.TIMER, timer);
  const console = startInfo(StartInfo.CONSOLE_EVTCHN);
  if (console > 0) bindLine(IrqLine.CONSOLE, console);
  const disk = pvBlkPort();
  if (disk > 0) bindLine(IrqLine.DISK, disk);
  const net = pvNetPort();
  if (net > 0) bindLine(IrqLine.NET, net);
  if (net > 0) eventsSetMask(Xen.SHARED, net);
  if (timer > 0) eventsSetMask(Xen.SHARED, timer);
  if (console > 0) eventsSetMask(Xen.SHARED, console);
  if (disk > 0) eventsSetMask(Xen.SHARED, disk);
  controlInit();
}

export function main(): void {
  if (startInfo(StartInfo.MAGIC) !== StartInfoMagic.VALUE) {
    say(cstr('pv kernel: no start_info at 0x1000 (boot with the pv domain builder): shutting down\n'));
    schedShutdown(1);
  }
  xenInit();
  pvConsoleInit();
  const gnttab = pvBlkInit();
  if (gnttab !== 0) hcUpdateVaMapping(Xen.GNTTAB, (gnttab << 12) | Pte.P | Pte.W | Pte.A | Pte.D, UvmFlags.INVLPG);
  pvMmuInit(gnttab);
  eventsInit();
  pvBlkConnect();
  writeBootInfo();
  // the pages between the boot pages (start_info .. the boot block and command line) and the
  // kernel image are ordinary memory once booted: a small domain needs them
  kaddLow(Boot.LOW_FREE, Layout.KERNEL_LINK);
  pvSetup();
  kmain();
}
