// The guest kernel mirrors layouts the host defines (guest modules cannot import host code):
// pin each mirrored value to its one definition.
import { describe, expect, it } from 'vitest';
import { ContextFrame as HostContextFrame } from '../../toolchain/compiler/index.ts';
import { IMAGE_MAGIC, IMAGE_VERSION, ImageArch, SegFlag } from '../../machine/image.ts';
import { INITRD_MAGIC, INITRD_VERSION, INITRD_HEADER_BYTES, INITRD_ENTRY_BYTES, INITRD_NAME_BYTES } from '../../toolchain/initrd.ts';
import { BOOT_INFO_ADDR, BOOT_INFO_MAGIC, BootInfoField } from '../../hypervisor/boot/native.ts';
import { USER_BASE, SYS_EXIT, SYSCALL_VECTOR } from '../../toolchain/compiler/abi.ts';
import { Pte as HwPte, Vector, Op, INSTRUCTIONS } from '../../machine/isa.ts';

// Loaded through variables so the const enums arrive as the runtime objects esbuild emits.
type Enum = Record<string, number>;
const load = async (p: string): Promise<Record<string, Enum>> => (await import(/* @vite-ignore */ p)) as Record<string, Enum>;
const formats = await load('../../guest-kernel/kernel/formats.ts');
const memlayout = await load('../../guest-kernel/kernel/memlayout.ts');
const abi = await load('../../guest-kernel/kernel/abi.ts');
const insn = await load('../../guest-kernel/kernel/insn.ts');

describe('guest kernel mirrors of host layouts', () => {
  it('ContextFrame matches the compiler', () => {
    expect(formats['ContextFrame']!['RET']).toBe(HostContextFrame.RET);
    expect(formats['ContextFrame']!['BYTES']).toBe(HostContextFrame.BYTES);
  });

  it('the image header matches machine/image.ts', () => {
    const img = formats['Img']!;
    expect(img['MAGIC_VALUE']).toBe(IMAGE_MAGIC);
    expect(img['VERSION_VALUE']).toBe(IMAGE_VERSION);
    expect(img['ARCH_USER']).toBe(ImageArch.User);
    expect(img['SEG_WRITABLE']).toBe(SegFlag.W);
  });

  it('the initrd layout matches toolchain/initrd.ts', () => {
    const rd = formats['Initrd']!;
    expect(rd['MAGIC_VALUE']).toBe(INITRD_MAGIC);
    expect(rd['VERSION_VALUE']).toBe(INITRD_VERSION);
    expect(rd['ENTRIES']).toBe(INITRD_HEADER_BYTES);
    expect(rd['ENTRY_BYTES']).toBe(INITRD_ENTRY_BYTES);
    expect(rd['NAME_BYTES']).toBe(INITRD_NAME_BYTES);
    expect(rd['ENTRY_OFFSET']).toBe(INITRD_NAME_BYTES);
  });

  it('the boot information block matches the loader', () => {
    const bi = memlayout['BootInfo']!;
    expect(bi['ADDRESS']).toBe(BOOT_INFO_ADDR);
    expect(bi['MAGIC_VALUE']).toBe(BOOT_INFO_MAGIC);
    const host: [string, number][] = [
      ['MAGIC', BootInfoField.MAGIC], ['VERSION', BootInfoField.VERSION], ['MEMORY_BYTES', BootInfoField.MEMORY_BYTES],
      ['INITRD_ADDR', BootInfoField.INITRD_ADDR], ['INITRD_BYTES', BootInfoField.INITRD_BYTES], ['FREE_START', BootInfoField.FREE_START],
      ['CMDLINE_ADDR', BootInfoField.CMDLINE_ADDR], ['CMDLINE_BYTES', BootInfoField.CMDLINE_BYTES], ['BYTES', BootInfoField.BYTES],
    ];
    for (const [name, value] of host) expect(bi[name], name).toBe(value);
  });

  it('page-table bits match the ISA, and the software COW bit is free', () => {
    const pte = memlayout['Pte']!;
    expect(pte['P']).toBe(HwPte.P);
    expect(pte['W']).toBe(HwPte.W);
    expect(pte['U']).toBe(HwPte.U);
    expect(pte['COW']! & (HwPte.P | HwPte.W | HwPte.U | HwPte.A | HwPte.D | HwPte.FRAME_MASK)).toBe(0);
  });

  it('the system-call ABI matches the compiler (exit number, vector, user base)', () => {
    expect(abi['Sys']!['EXIT']).toBe(SYS_EXIT);
    expect(SYSCALL_VECTOR).toBe(Vector.Syscall);
    expect(abi['UserLayout']!['USER_BASE']).toBe(USER_BASE);
  });

  it('the opcodes the kernel decodes (insn.ts) match the ISA, and only LI, JMP, Jcc and CALL are long', () => {
    const op = insn['Opcode']!;
    const host: [string, number][] = [
      ['LI', Op.LI], ['DIV', Op.DIV], ['DIVU', Op.DIVU], ['REM', Op.REM], ['REMU', Op.REMU],
      ['JMP', Op.JMP], ['JCC', Op.JCC], ['CALL', Op.CALL], ['RET', Op.RET], ['HLT', Op.HLT],
    ];
    for (const [name, value] of host) expect(op[name], name).toBe(value);
    const long = INSTRUCTIONS.filter((i) => i.bytes === 8).map((i) => i.op).sort((a, b) => a - b);
    expect(long).toEqual([Op.LI, Op.JMP, Op.JCC, Op.CALL]);
    expect(op['SHORT_BYTES']).toBe(4);
    expect(op['LONG_BYTES']).toBe(8);
    // findInstruction(fn, DIV, REMU) takes a range: it must hold exactly the four divides
    const divides = INSTRUCTIONS.filter((i) => i.op >= Op.DIV && i.op <= Op.REMU).map((i) => i.mnemonic);
    expect(divides).toEqual(['div', 'divu', 'rem', 'remu']);
  });
});
