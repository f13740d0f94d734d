// Kernel sizing constants: the numbers every other kernel file agrees on.
// Guest code (the TypeScript subset); imports nothing.

export const enum Param {
  /** process table slots */
  NPROC = 32,
  /** open files per process */
  NOFILE = 8,
  /** open files in the whole system */
  NFILE = 64,
  /** pipes in the whole system */
  NPIPE = 16,
  /** bytes of a pipe's ring buffer (a power of two) */
  PIPE_BYTES = 512,
  /** kernel stack per process, bytes; an unmapped guard page sits below each */
  KSTACK_BYTES = 8192,
  /** timer ticks a process runs before it is preempted */
  TIMESLICE_TICKS = 1,
  /** timer interrupts per second of simulated time */
  HZ = 1000,
  /** console input ring (a power of two) */
  CONSOLE_BUF = 1024,
}
