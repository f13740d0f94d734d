// Multiprocessor support: which CPU this is, per-CPU slots, spinlocks, the big kernel lock,
// secondary-CPU start-up, inter-processor interrupts and TLB shootdown. On one CPU (an
// architecture without the CPU_* pvops, or a machine with one CPU) every lock is a no-op and
// cpuId() is 0, so the uniprocessor kernel does what it did. Guest code (the TypeScript subset).
//
// The locking model is the first one Linux and the BSDs had: one big kernel lock (BKL). A CPU
// holds it whenever it runs kernel code, except in the scheduler's idle wait: trap() takes it on
// entry from user mode or idle, and lets it go on the way back; a process switch passes it from
// one kernel context to the next on the same CPU (the holder is the CPU, not the process, as
// xv6's ptable lock is held across swtch). So kernel data needs no finer locks, user code runs
// on every CPU at once, and kernel code on one at a time.

import { load32, store32, staticBuffer, xchg32, cstr, stackPointer, divu, gtu, pause } from 'xl32';
import { PvOp, pvHas, cpuIdOp, cpuCountOp, cpuStart, ipiSend, ipiAck, localTimerStart, flushTlb, trapTableLoad, spinWait, vcpuPreempted, readCycles, tlbFlushOthers } from './pvops.ts';
import { scheduler, kstackCpu } from './proc.ts';
import { vmSwitch, kernelPd } from './vm.ts';
import { panic } from './panic.ts';

export const enum Smp {
  MAX_CPUS = 8,
  /** each secondary CPU's boot (scheduler) stack */
  BOOT_STACK_BYTES = 8192,
  /** the local timer's vector (secondaries preempt on it; CPU 0 has the platform timer) */
  TIMER_VECTOR = 0x50,
  /** "look again": reschedule and TLB shootdown requests */
  IPI_VECTOR = 0x51,
}

/** A spinlock: the word XCHG takes, and the holder (CPU number + 1, 0 when free) for the checks. */
export const enum Spin {
  LOCKED = 0,
  HOLDER = 4,
  BYTES = 8,
}

/** CPUs present (1 until smpInit) */
let ncpu = 1;
/** CPUs that have entered the scheduler */
let online = 1;
/** per CPU: 1 while it waits in the idle loop (a wakeup sends it an IPI) */
const idling = staticBuffer(Smp.MAX_CPUS * 4);
/** per CPU: 1 when its TLB may hold translations another CPU has removed (flushed at the IPI or the next switch) */
const tlbStale = staticBuffer(Smp.MAX_CPUS * 4);
/** per CPU: shootdown IPIs received (statistics) */
const shootdowns = staticBuffer(Smp.MAX_CPUS * 4);
/** per CPU: 1 when a CPU about to free an address space asks this one to leave it (waitLazyLeave) */
const leaveLazy = staticBuffer(Smp.MAX_CPUS * 4);
/** times a CPU had to wait for idle CPUs to leave an address space it was freeing (statistics) */
let lazyLeaves = 0;
/** the secondaries' boot stacks: CPU k's (k >= 1) is the (k - 1)th; CPU 0 keeps the boot loader's */
const bootStacks = staticBuffer((Smp.MAX_CPUS - 1) * Smp.BOOT_STACK_BYTES, 16);
const kernelLock = staticBuffer(Spin.BYTES);
/** times a CPU found the kernel lock taken and spun */
let lockContended = 0;
/** per CPU: timer interrupts taken on it (the platform timer's on CPU 0, the local timer's on the others) */
const cpuTicks = staticBuffer(Smp.MAX_CPUS * 4);
/** the secondaries' local timer period (cycles) */
let tickCycles = 0;

/** This CPU's number (0 on a uniprocessor). */
export function cpuId(): number {
  if (ncpu === 1) return 0;
  return cpuIdOp();
}

/**
 * This CPU's number found from the stack it runs on (an architecture's CPU_ID when reading the
 * hardware's is dear: the native kernel's LAPIC_ID read is an I/O exit under trap, bt and hvm,
 * and every lock operation asks). A process's kernel stack holds the number its CPU's scheduler
 * wrote (kstackCpu); a secondary's boot stack k is CPU k's; any other stack is CPU 0's (the boot
 * loader's, where CPU 0's scheduler runs).
 */
export function stackCpuId(): number {
  const sp = stackPointer();
  const owner = kstackCpu(sp);
  if (owner >= 0) return owner;
  if (gtu(sp, bootStacks) && !gtu(sp, bootStacks + (Smp.MAX_CPUS - 1) * Smp.BOOT_STACK_BYTES)) return divu(sp - 1 - bootStacks, Smp.BOOT_STACK_BYTES) + 1;
  return 0;
}

/** CPUs present. */
export function cpuCount(): number {
  return ncpu;
}

/** CPUs running the scheduler (what nproc prints). */
export function cpusOnline(): number {
  return online;
}

/** Times a CPU had to spin for the kernel lock since boot. */
export function kernelLockContended(): number {
  return lockContended;
}

/** TLB shootdown IPIs CPU n has handled. */
export function shootdownsOn(n: number): number {
  return load32(shootdowns + n * 4);
}

/** A timer interrupt on this CPU (trap.ts). */
export function countTick(): void {
  const t = cpuTicks + cpuId() * 4;
  store32(t, load32(t) + 1);
}

/** Timer interrupts this CPU has taken: what a probe waiting for "a tick here" watches. */
export function localTicks(): number {
  return load32(cpuTicks + cpuId() * 4);
}

// ---- spinlocks --------------------------------------------------------------------------------

/** Take lock lk, spinning while another CPU holds it. Panics if this CPU holds it already. */
export function spinAcquire(lk: number): void {
  const me = cpuId() + 1;
  if (load32(lk + Spin.HOLDER) === me) panic(cstr('spinAcquire: this CPU holds the lock already'));
  if (xchg32(lk + Spin.LOCKED, 1) !== 0) {
    lockContended = lockContended + 1;
    if (pvHas(PvOp.SPIN_WAIT)) {
      spinYielding(lk);
    } else {
      // test-and-test-and-set: spin reading, try the XCHG only when it looks free; PAUSE in every
      // turn, as x86 kernels' cpu_relax(): the hint a hypervisor's pause-loop exiting watches for
      for (;;) {
        while (load32(lk + Spin.LOCKED) !== 0) pause();
        if (xchg32(lk + Spin.LOCKED, 1) === 0) break;
      }
    }
  }
  store32(lk + Spin.HOLDER, me);
}

/**
 * Take lk as spinAcquire does, but at every read of a taken lock ask whether its holder is a
 * preempted CPU (VCPU_PREEMPTED: a vCPU its hypervisor has descheduled) and if so let another
 * CPU run (the SPIN_WAIT pvop, with the cycles spun since the last one): the remedy for lock-holder
 * preemption, where spinning on would only waste the spinner's slice. While the holder runs, the
 * lock will soon be free: spin on. (A holder not yet written - it has just taken the lock - runs.)
 */
function spinYielding(lk: number): void {
  let since = readCycles();
  for (;;) {
    while (load32(lk + Spin.LOCKED) !== 0) {
      pause();
      const holder = load32(lk + Spin.HOLDER);
      if (holder !== 0 && vcpuPreempted(holder - 1) !== 0) {
        spinWait(readCycles() - since);
        since = readCycles();
      }
    }
    if (xchg32(lk + Spin.LOCKED, 1) === 0) return;
  }
}

/** Let lock lk go. Panics unless this CPU holds it. */
export function spinRelease(lk: number): void {
  if (load32(lk + Spin.HOLDER) !== cpuId() + 1) panic(cstr('spinRelease: this CPU does not hold the lock'));
  store32(lk + Spin.HOLDER, 0);
  store32(lk + Spin.LOCKED, 0);
}

/** Does this CPU hold lock lk? */
export function spinHolding(lk: number): boolean {
  return load32(lk + Spin.HOLDER) === cpuId() + 1;
}

// ---- the big kernel lock ------------------------------------------------------------------------

export function lockKernel(): void {
  if (ncpu !== 1) spinAcquire(kernelLock);
}

export function unlockKernel(): void {
  if (ncpu !== 1) spinRelease(kernelLock);
}

/** Let the kernel lock go on the way to user mode, if this CPU holds it (the architecture's user return). */
export function unlockKernelForUser(): void {
  if (ncpu !== 1 && spinHolding(kernelLock)) spinRelease(kernelLock);
}

/** Take the kernel lock unless this CPU holds it; true if it was taken here (trap entry). */
export function lockKernelEntry(): boolean {
  if (ncpu === 1 || spinHolding(kernelLock)) return false;
  spinAcquire(kernelLock);
  return true;
}

// ---- start-up -----------------------------------------------------------------------------------

/**
 * CPU 0, once the kernel is set up and holding the kernel lock: count the CPUs and start the
 * others. Each enters apMain and waits for the lock, which CPU 0 lets go when it first idles or
 * returns to user mode.
 */
export function smpInit(): void {
  if (!pvHas(PvOp.CPU_COUNT)) return;
  const n = cpuCountOp();
  if (n <= 1) return;
  ncpu = n > Smp.MAX_CPUS ? Smp.MAX_CPUS : n;
  lockKernel();
  let k = 1;
  while (k < ncpu) {
    cpuStart(k, bootStacks + k * Smp.BOOT_STACK_BYTES);
    k = k + 1;
  }
}

/** The period of the secondaries' local timer (the platform tick's). */
export function smpSetTick(cycles: number): void {
  tickCycles = cycles;
}

/** Enter the idle wait (the caller lets the kernel lock go first) / leave it. */
export function markIdle(on: boolean): void {
  store32(idling + cpuId() * 4, on ? 1 : 0);
}

/** A process became runnable: wake one idle CPU, if there is one besides this, with an IPI. */
export function kickIdle(): void {
  if (ncpu === 1) return;
  const me = cpuId();
  let k = 0;
  while (k < ncpu) {
    if (k !== me && load32(idling + k * 4) !== 0) {
      store32(idling + k * 4, 0);
      ipiSend(k, Smp.IPI_VECTOR);
      return;
    }
    k = k + 1;
  }
}

/** The kernel's part of a secondary CPU's start (the architecture's entry calls it, paging on). */
export function apMain(): void {
  lockKernel();
  trapTableLoad();
  online = online + 1;
  if (tickCycles !== 0) localTimerStart(tickCycles, Smp.TIMER_VECTOR);
  scheduler();
}

// ---- IPIs and TLB shootdown ----------------------------------------------------------------------

/**
 * An IPI or local-timer interrupt arrived (trap.ts): end it, flush a TLB marked stale, and leave
 * the address space kept loaded while idle if a CPU freeing it asks (waitLazyLeave).
 */
export function smpInterrupt(): void {
  ipiAck();
  const me = cpuId();
  if (load32(tlbStale + me * 4) !== 0) {
    store32(tlbStale + me * 4, 0);
    store32(shootdowns + me * 4, load32(shootdowns + me * 4) + 1);
    flushTlb();
  }
  if (load32(leaveLazy + me * 4) !== 0) {
    store32(leaveLazy + me * 4, 0);
    vmSwitch(kernelPd());
  }
}

/**
 * Address space pd is about to be freed (exit, exec), and this CPU has left it. An idle CPU keeps
 * the last address space it ran loaded (lazy TLB, vm.ts), so another may still have pd in its
 * page-directory base: each such CPU is asked to leave it (an IPI; it switches to the kernel's
 * directory) and waited for, with the kernel lock let go meanwhile - they take the IPI under it.
 * Nothing else can load pd again: its process is this CPU's, and is exiting or has a new one.
 */
export function waitLazyLeave(pd: number, loadedPd: number): void {
  if (ncpu === 1 || othersHolding(pd, loadedPd, true) === 0) return;
  lazyLeaves = lazyLeaves + 1;
  unlockKernel();
  while (othersHolding(pd, loadedPd, false) !== 0) pause();
  lockKernel();
}

/** CPUs other than this one with pd loaded; with `ask`, each is asked to leave it (the IPI). */
function othersHolding(pd: number, loadedPd: number, ask: boolean): number {
  const me = cpuId();
  let n = 0;
  let k = 0;
  while (k < ncpu) {
    if (k !== me && load32(loadedPd + k * 4) === pd) {
      n = n + 1;
      if (ask) {
        store32(leaveLazy + k * 4, 1);
        ipiSend(k, Smp.IPI_VECTOR);
      }
    }
    k = k + 1;
  }
  return n;
}

/**
 * A mapping of page directory pd was removed or narrowed on this CPU: every other CPU that has
 * pd loaded (loadedPd: an idle CPU keeps the last process's, vm.ts) must drop its translations.
 * They cannot be running pd's user code (a process runs on one CPU at a time), so the shootdown
 * does not wait: the target is marked stale, flushes when the IPI arrives, and at the latest when
 * it next loads an address space.
 */
export function tlbShootdown(pd: number, loadedPd: number): void {
  if (ncpu === 1) return;
  const me = cpuId();
  // an architecture that can flush other CPUs' TLBs itself (a hypervisor's multi-vCPU flush) does
  // it at once, for every target in one call
  const direct = pvHas(PvOp.TLB_FLUSH_OTHERS);
  let mask = 0;
  let k = 0;
  while (k < ncpu) {
    if (k !== me && load32(loadedPd + k * 4) === pd) {
      if (direct) {
        mask = mask | (1 << k);
        store32(shootdowns + k * 4, load32(shootdowns + k * 4) + 1);
      } else {
        store32(tlbStale + k * 4, 1);
        ipiSend(k, Smp.IPI_VECTOR);
      }
    }
    k = k + 1;
  }
  if (mask !== 0) tlbFlushOthers(mask);
}

/** Is this CPU's TLB marked stale? (clears the mark: the caller reloads its address space) */
export function takeTlbStale(): boolean {
  if (ncpu === 1) return false;
  const me = cpuId();
  if (load32(tlbStale + me * 4) === 0) return false;
  store32(tlbStale + me * 4, 0);
  store32(shootdowns + me * 4, load32(shootdowns + me * 4) + 1);
  return true;
}
