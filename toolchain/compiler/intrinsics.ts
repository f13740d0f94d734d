// The compiler's table of the "xl32" intrinsics: how many arguments each takes, which must be
// constants (and their ranges), and which are restricted to pv kernels. The subset checker
// validates calls against it; lowering turns each into instructions. Pure data.

/** How one argument of an intrinsic must look. */
export type ArgRule =
  /** any 32-bit value */
  | { kind: 'value' }
  /** a compile-time constant in a range; `what`/`range`/`hint` build the error message */
  | { kind: 'const'; what: string; range: string; hint: string; ok: (v: number) => boolean }
  /** a string literal (cstr) */
  | { kind: 'string' }
  /** the bare name of a module-level function (addressOf, trapEntry) */
  | { kind: 'function' };

export interface IntrinsicSpec {
  /** argument rules, in order */
  args: ArgRule[];
  /** arguments that must be present (the rest are optional) */
  minArgs: number;
  /** allowed only with --arch pv for kernels */
  pvOnly?: boolean;
  /** allowed only in one place (staticBuffer: a module-level const initializer) */
  place?: 'staticBuffer';
}

/** any 32-bit value */
const VALUE: ArgRule = { kind: 'value' };
const port = (alt: string): ArgRule => ({
  kind: 'const',
  what: 'port number',
  range: '0..65535',
  hint: `XL32 has no 8-bit port instruction taking the port from a register; use ${alt} for a port computed at run time`,
  ok: (v) => v >= 0 && v <= 0xffff,
});
const cr = (fn: string): ArgRule => ({
  kind: 'const',
  what: 'control register number',
  range: '0, 2, 3 or 4',
  hint: `write e.g. ${fn}(3)`,
  ok: (v) => v === 0 || v === 2 || v === 3 || v === 4,
});

function spec(args: ArgRule[], minArgs = args.length, extra: Partial<IntrinsicSpec> = {}): IntrinsicSpec {
  return { args, minArgs, ...extra };
}

/**
 * Every intrinsic the compiler knows, by its export name in toolchain/lib/xl32.ts (a test keeps
 * the two lists equal). The keys are the IntrinsicName union that lowering switches over.
 */
export const INTRINSICS = {
  load8: spec([VALUE]),
  load8s: spec([VALUE]),
  load16: spec([VALUE]),
  load16s: spec([VALUE]),
  load32: spec([VALUE]),
  store8: spec([VALUE, VALUE]),
  store16: spec([VALUE, VALUE]),
  store32: spec([VALUE, VALUE]),
  xchg32: spec([VALUE, VALUE]),
  ltu: spec([VALUE, VALUE]),
  leu: spec([VALUE, VALUE]),
  gtu: spec([VALUE, VALUE]),
  geu: spec([VALUE, VALUE]),
  divu: spec([VALUE, VALUE]),
  remu: spec([VALUE, VALUE]),
  mulhu: spec([VALUE, VALUE]),
  staticBuffer: spec([VALUE, VALUE], 1, { place: 'staticBuffer' }),
  cstr: spec([{ kind: 'string' }]),
  addressOf: spec([{ kind: 'function' }]),
  callIndirect: spec([VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE], 1),
  cli: spec([]),
  sti: spec([]),
  hlt: spec([]),
  pause: spec([]),
  pushf: spec([]),
  popf: spec([VALUE]),
  rdcpl: spec([]),
  stackPointer: spec([]),
  sidt: spec([]),
  rdtsc: spec([]),
  rdtscHigh: spec([]),
  cpuid: spec([VALUE, VALUE]),
  in32: spec([VALUE]),
  inb: spec([port('in32(port)')]),
  outb: spec([port('out32(port, value)'), VALUE]),
  out32: spec([VALUE, VALUE]),
  readCr: spec([cr('readCr')]),
  writeCr: spec([cr('writeCr'), VALUE]),
  lidt: spec([VALUE, { kind: 'const', what: 'entry count', range: '0..256', hint: 'write e.g. lidt(base, 256)', ok: (v) => v >= 0 && v <= 256 }]),
  invlpg: spec([VALUE]),
  lksp: spec([{ kind: 'const', what: 'ring', range: '0, 1 or 2', hint: 'write e.g. lksp(0, stackTop)', ok: (v) => v >= 0 && v <= 2 }, VALUE]),
  brk: spec([]),
  softInt: spec([{ kind: 'const', what: 'vector', range: '0..255', hint: 'write e.g. softInt(0x80)', ok: (v) => v >= 0 && v <= 255 }]),
  hypercall: spec([VALUE, VALUE, VALUE, VALUE, VALUE, VALUE], 1, { pvOnly: true }),
  syscall: spec([VALUE, VALUE, VALUE, VALUE, VALUE, VALUE], 1),
  trapEntry: spec([{ kind: 'function' }]),
  contextSwitch: spec([VALUE, VALUE]),
  iretTo: spec([VALUE]),
} as const satisfies Record<string, IntrinsicSpec>;

/** The name of an intrinsic: an export of toolchain/lib/xl32.ts. */
export type IntrinsicName = keyof typeof INTRINSICS;

/** Is `name` an intrinsic this compiler knows? */
export function isIntrinsicName(name: string): name is IntrinsicName {
  return Object.hasOwn(INTRINSICS, name);
}

/** The rules for intrinsic `name`, or undefined for a name this compiler does not know. */
export function intrinsicSpec(name: string): IntrinsicSpec | undefined {
  return isIntrinsicName(name) ? INTRINSICS[name] : undefined;
}
