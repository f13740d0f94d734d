// Limits of the machine that configurations are checked against (the command line, the daemon's
// definitions) without loading the machine itself; machine/machine.ts re-exports them.

/** The most CPUs a machine can have (LAPIC_ICR's destination field is 8 bits; 8 keeps runs small). */
export const MAX_CPUS = 8;
