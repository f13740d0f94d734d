// The native kernel's entry module (what `compile --arch native` starts from): fill the pvops
// table with the bare-hardware implementations and start the shared kernel. The boot loader
// (hypervisor/boot/native.ts) enters with paging off; docs/kernel.md gives the boot protocol.
// Guest code (the TypeScript subset); runs at ring 0.

import { addressOf } from 'xl32';
import { PvOp, pvSet } from '../../kernel/pvops.ts';
import { kmain } from '../../kernel/main.ts';
import { apMain, stackCpuId } from '../../kernel/smp.ts';
import { kernelPd } from '../../kernel/vm.ts';
import { nativeIrqSave, nativeIrqRestore, nativeIrqDisable, nativeIrqEnable, nativeIrqAck, nativeIrqUnmask, nativeIrqsEnabled, nativeCurrentRing } from './irq.ts';
import { nativeTrapTableLoad, nativeSetKernelStack, nativeUserReturn, nativeTrapTableCheck } from './traps.ts';
import {
  nativeSetPte, nativeSwitchAddressSpace, nativeInvalidatePage, nativeFlushTlb, nativeFaultAddress, nativePageTableAlloc, nativePageTableRelease,
  nativePteMake, nativePteValue, nativeSetPteVa, nativeLazyMmu, nativePagingOnHere,
} from './mmu.ts';
import {
  nativeTimerStart, nativeClockMHz, nativeReadCycles, nativeIdle, nativePowerOff, nativeArchName,
  nativeConsolePutc, nativeConsoleGetc, nativeConsoleIrqEnable, nativeDiskSubmit, nativeDiskComplete, nativeDiskCapacity,
  nativeConsoleStatus, nativeReadCr4, nativeWriteCr4,
  nativeCpuCount, nativeLapicStart, nativeIpiSend, nativeIpiAck, nativeLocalTimerStart,
} from './devices.ts';
import { nativeNetInit, nativeNetSend, nativeNetRecv, nativeNetAck, nativeNetStat } from './net.ts';

/** Fill the pvops table with the bare-hardware operations. */
export function nativeSetup(): void {
  pvSet(PvOp.IRQ_SAVE, addressOf(nativeIrqSave));
  pvSet(PvOp.IRQ_RESTORE, addressOf(nativeIrqRestore));
  pvSet(PvOp.IRQ_DISABLE, addressOf(nativeIrqDisable));
  pvSet(PvOp.IRQ_ENABLE, addressOf(nativeIrqEnable));
  pvSet(PvOp.IRQ_ACK, addressOf(nativeIrqAck));
  pvSet(PvOp.IRQ_UNMASK, addressOf(nativeIrqUnmask));
  pvSet(PvOp.TRAP_TABLE_LOAD, addressOf(nativeTrapTableLoad));
  pvSet(PvOp.SET_KERNEL_STACK, addressOf(nativeSetKernelStack));
  pvSet(PvOp.IDLE, addressOf(nativeIdle));
  pvSet(PvOp.POWER_OFF, addressOf(nativePowerOff));
  pvSet(PvOp.READ_CYCLES, addressOf(nativeReadCycles));
  pvSet(PvOp.SET_PTE, addressOf(nativeSetPte));
  pvSet(PvOp.SWITCH_ADDRESS_SPACE, addressOf(nativeSwitchAddressSpace));
  pvSet(PvOp.INVALIDATE_PAGE, addressOf(nativeInvalidatePage));
  pvSet(PvOp.FLUSH_TLB, addressOf(nativeFlushTlb));
  pvSet(PvOp.FAULT_ADDRESS, addressOf(nativeFaultAddress));
  pvSet(PvOp.PAGE_TABLE_ALLOC, addressOf(nativePageTableAlloc));
  pvSet(PvOp.PAGE_TABLE_RELEASE, addressOf(nativePageTableRelease));
  pvSet(PvOp.TIMER_START, addressOf(nativeTimerStart));
  pvSet(PvOp.CLOCK_MHZ, addressOf(nativeClockMHz));
  pvSet(PvOp.CONSOLE_PUTC, addressOf(nativeConsolePutc));
  pvSet(PvOp.CONSOLE_GETC, addressOf(nativeConsoleGetc));
  pvSet(PvOp.CONSOLE_IRQ_ENABLE, addressOf(nativeConsoleIrqEnable));
  pvSet(PvOp.DISK_SUBMIT, addressOf(nativeDiskSubmit));
  pvSet(PvOp.DISK_COMPLETE, addressOf(nativeDiskComplete));
  pvSet(PvOp.DISK_CAPACITY, addressOf(nativeDiskCapacity));
  pvSet(PvOp.USER_RETURN, addressOf(nativeUserReturn));
  pvSet(PvOp.ARCH_NAME, addressOf(nativeArchName));
  pvSet(PvOp.PTE_MAKE, addressOf(nativePteMake));
  pvSet(PvOp.PTE_VALUE, addressOf(nativePteValue));
  pvSet(PvOp.SET_PTE_VA, addressOf(nativeSetPteVa));
  // optional operations (benchmarks, probes, the lazy-MMU hooks)
  pvSet(PvOp.CONSOLE_STATUS, addressOf(nativeConsoleStatus));
  pvSet(PvOp.READ_CR4, addressOf(nativeReadCr4));
  pvSet(PvOp.WRITE_CR4, addressOf(nativeWriteCr4));
  pvSet(PvOp.CURRENT_RING, addressOf(nativeCurrentRing));
  pvSet(PvOp.IRQS_ENABLED, addressOf(nativeIrqsEnabled));
  pvSet(PvOp.TRAP_TABLE_CHECK, addressOf(nativeTrapTableCheck));
  pvSet(PvOp.LAZY_MMU_BEGIN, addressOf(nativeLazyMmu));
  pvSet(PvOp.LAZY_MMU_END, addressOf(nativeLazyMmu));
  pvSet(PvOp.NET_INIT, addressOf(nativeNetInit));
  pvSet(PvOp.NET_SEND, addressOf(nativeNetSend));
  pvSet(PvOp.NET_RECV, addressOf(nativeNetRecv));
  pvSet(PvOp.NET_ACK, addressOf(nativeNetAck));
  pvSet(PvOp.NET_STAT, addressOf(nativeNetStat));
  // the CPU number from the kernel stack, not LAPIC_ID: lock operations ask for it, and an I/O read exits when virtualized
  pvSet(PvOp.CPU_ID, addressOf(stackCpuId));
  pvSet(PvOp.CPU_COUNT, addressOf(nativeCpuCount));
  pvSet(PvOp.CPU_START, addressOf(nativeCpuStart));
  pvSet(PvOp.IPI_SEND, addressOf(nativeIpiSend));
  pvSet(PvOp.IPI_ACK, addressOf(nativeIpiAck));
  pvSet(PvOp.LOCAL_TIMER_START, addressOf(nativeLocalTimerStart));
}

/** A secondary CPU starts here (LAPIC_START), paging off, on its boot stack: paging on, then the kernel. */
function nativeApEntry(): void {
  nativePagingOnHere(kernelPd());
  apMain();
}

/** CPU_START: CPU n runs nativeApEntry on the stack ending at sp. */
function nativeCpuStart(n: number, sp: number): void {
  nativeLapicStart(n, addressOf(nativeApEntry), sp);
}

export function main(): void {
  nativeSetup();
  kmain();
}
