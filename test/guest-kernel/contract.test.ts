// The guest kernel's half of the machine contract, pinned as test/hypercalls/contract.test.ts pins
// the hypercall contract: the trap vectors and page-fault bits the kernel dispatches on are the
// ISA's (machine/isa.ts), both archs' trap tables name the kernel's vectors, and the process
// table's fields follow one another with the offsets below. The kernel's enums are read with the
// type checker (as the compiler folds them), so nothing of the guest runs here.
import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import { join } from 'node:path';
import * as IsaModule from '../../machine/isa.ts';
import { GATE_BYTES, Gate, Vector } from '../../machine/isa.ts';
import { GUEST_KERNEL_DIR } from '../../toolchain/guest-kernel.ts';

const FILES = {
  trap: 'kernel/trap.ts',
  proc: 'kernel/proc.ts',
  pvops: 'kernel/pvops.ts',
  param: 'kernel/param.ts',
  abi: 'kernel/abi.ts',
  native: 'arch/native/traps.ts',
  pv: 'arch/pv/traps.ts',
} as const;

/** Every const enum of the listed guest files, as the checker evaluates it: file -> enum -> member -> value. */
function guestEnums(): Record<keyof typeof FILES, Record<string, Record<string, number>>> {
  const config = ts.readConfigFile(join(GUEST_KERNEL_DIR, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, GUEST_KERNEL_DIR);
  const roots = Object.values(FILES).map((f) => join(GUEST_KERNEL_DIR, f));
  const program = ts.createProgram({ rootNames: roots, options: { ...parsed.options, noEmit: true } });
  const checker = program.getTypeChecker();
  const out = {} as Record<keyof typeof FILES, Record<string, Record<string, number>>>;
  for (const [key, file] of Object.entries(FILES) as [keyof typeof FILES, string][]) {
    const sf = program.getSourceFile(join(GUEST_KERNEL_DIR, file))!;
    const enums: Record<string, Record<string, number>> = {};
    for (const st of sf.statements) {
      if (!ts.isEnumDeclaration(st)) continue;
      const members: Record<string, number> = {};
      for (const m of st.members) members[m.name.getText(sf)] = checker.getConstantValue(m) as number;
      enums[st.name.text] = members;
    }
    out[key] = enums;
  }
  return out;
}

/** A machine/isa.ts const enum as [name, value] pairs (esbuild keeps it as a runtime object). */
function isaEnum(name: string): Record<string, number> {
  const e = (IsaModule as unknown as Record<string, Record<string, unknown>>)[name]!;
  return Object.fromEntries(Object.entries(e).filter(([k, v]) => typeof v === 'number' && Number.isNaN(Number(k)))) as Record<string, number>;
}

const KERNEL = guestEnums();

describe('kernel trap vectors and page-fault bits (kernel/trap.ts) are the ISA\'s', () => {
  it('each exception vector the kernel names is machine/isa.ts Vector\'s', () => {
    const isa = isaEnum('Vector');
    const pairs: [string, string][] = [
      ['DIVIDE_ERROR', 'DivideError'], ['BREAKPOINT', 'Breakpoint'], ['INVALID_OPCODE', 'InvalidOpcode'], ['DOUBLE_FAULT', 'DoubleFault'],
      ['GENERAL_PROTECTION', 'GeneralProtection'], ['PAGE_FAULT', 'PageFault'], ['SYSCALL', 'Syscall'],
    ];
    const vec = KERNEL.trap['Vec']!;
    for (const [kernel, machine] of pairs) expect(vec[kernel], kernel).toBe(isa[machine]);
    expect(Object.keys(vec).sort()).toEqual([...pairs.map(([k]) => k), 'USER_RETURN'].sort());
    // the user return is a software interrupt of its own, above every vector the ISA names
    expect(vec['USER_RETURN']).toBe(0x81);
    expect(Object.values(isa)).not.toContain(0x81);
  });

  it('the page-fault error-code bits are machine/isa.ts PfErr\'s', () => {
    const isa = isaEnum('PfErr');
    expect(KERNEL.trap['PfErr']).toEqual({ PRESENT: isa['Present'], WRITE: isa['Write'], USER: isa['User'], FETCH: isa['Fetch'] });
    expect(KERNEL.trap['PfErr']).toEqual({ PRESENT: 1, WRITE: 2, USER: 4, FETCH: 16 });
  });

  it('device interrupts start at the interrupt controller\'s default base', () => {
    expect(KERNEL.pvops['IrqLine']!['IRQ_VECTOR_BASE']).toBe(Vector.IrqBase);
    expect(KERNEL.pvops['IrqLine']!['COUNT']).toBe(16);
  });
});

describe('both archs\' trap tables', () => {
  it('native: 256 gates of machine/isa.ts GATE_BYTES, with the ISA\'s present bit and DPL field', () => {
    expect(KERNEL.native['Idt']).toEqual({ VECTORS: 256, GATE_BYTES, PRESENT: Gate.PRESENT, DPL_SHIFT: Gate.DPL_SHIFT });
  });

  it('pv: an entry for every exception below the device interrupts, the system call, the user return and a terminator', () => {
    expect(KERNEL.pv['Table']).toEqual({ EXCEPTIONS: Vector.IrqBase, ENTRIES: Vector.IrqBase + 3 });
  });
});

describe('the process table slot (kernel/proc.ts Proc)', () => {
  it('has these offsets: one word a field, NOFILE file pointers, a NAME_BYTES name', () => {
    expect(KERNEL.proc['Proc']).toEqual({
      STATE: 0, PID: 4, PARENT: 8, PD: 12, KSTACK_TOP: 16, CONTEXT: 20, TF: 24, CHAN: 28, KILLED: 32, XSTATUS: 36,
      LAZY_START: 40, HEAP_START: 44, BRK: 48, SLICE: 52, OFILE: 56, NAME: 88, WAKE_TICK: 104, PGID: 108, BYTES: 112,
    });
    expect(KERNEL.param['Param']!['NOFILE']).toBe(8);
    expect(KERNEL.abi['Limits']!['NAME_BYTES']).toBe(16);
  });

  it('fields do not overlap and the slot ends at the last one: each starts where the previous ends', () => {
    const p = Object.entries(KERNEL.proc['Proc']!).sort(([, a], [, b]) => a - b);
    const size = (name: string): number =>
      name === 'OFILE' ? KERNEL.param['Param']!['NOFILE']! * 4 : name === 'NAME' ? KERNEL.abi['Limits']!['NAME_BYTES']! : 4;
    for (let k = 0; k + 1 < p.length; k++) expect(p[k + 1]![1], `${p[k + 1]![0]} after ${p[k]![0]}`).toBe(p[k]![1] + size(p[k]![0]));
    expect(p.at(-1)![0]).toBe('BYTES');
    expect(p[0]).toEqual(['STATE', 0]);
  });
});
