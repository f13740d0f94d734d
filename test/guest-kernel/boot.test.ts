// Booting the native guest kernel: the boot loader's checks, the boot banner, the first
// process from the command line, and the kernel-fault panic path.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../machine/machine.ts';
import { ImageArch, type Image } from '../../machine/image.ts';
import { compile } from '../../toolchain/compiler/index.ts';
import { bootNative, symbolizeBacktrace, BootError, BOOT_INFO_ADDR, BOOT_INFO_MAGIC } from '../../hypervisor/boot/native.ts';
import { bootKernel, guest } from './harness.ts';

describe('native boot loader', () => {
  it('writes the boot information block and the entry registers', () => {
    const { kernel, initrd } = guest();
    const m = new Machine();
    const layout = bootNative(m, { kernel, initrd, cmdline: 'usertests cow' });
    const dv = new DataView(m.mem.buffer);
    expect(dv.getUint32(BOOT_INFO_ADDR, true)).toBe(BOOT_INFO_MAGIC);
    expect(dv.getUint32(BOOT_INFO_ADDR + 8, true)).toBe(32 * 1024 * 1024);
    expect(dv.getUint32(BOOT_INFO_ADDR + 12, true)).toBe(layout.initrdAddr);
    expect(dv.getUint32(BOOT_INFO_ADDR + 16, true)).toBe(initrd.length);
    expect(layout.initrdAddr % 4096).toBe(0);
    expect(layout.initrdAddr).toBeGreaterThanOrEqual(layout.kernelEnd);
    expect(m.cpu.pc).toBe(kernel.entry);
    expect([m.cpu.regs[1], m.cpu.regs[2], m.cpu.regs[4]]).toEqual([layout.initrdAddr, initrd.length, BOOT_INFO_ADDR]);
    expect(new TextDecoder().decode(m.mem.u8.subarray(BOOT_INFO_ADDR + 32, BOOT_INFO_ADDR + 45))).toBe('usertests cow');
  });

  it('refuses images that are not native kernels, or do not fit the kernel range', () => {
    const { kernel, userImages } = guest();
    expect(() => bootNative(new Machine(), { kernel: userImages.get('echo')! })).toThrow(/built for arch "user"/);
    const moved: Image = { ...kernel, segments: kernel.segments.map((s) => ({ ...s, vaddr: s.vaddr + 0x400000, paddr: s.paddr + 0x400000 })) };
    expect(() => bootNative(new Machine(), { kernel: moved })).toThrow(BootError);
    expect(() => bootNative(new Machine(), { kernel, cmdline: 'x'.repeat(5000) })).toThrow(/command line/);
    expect(kernel.arch).toBe(ImageArch.Native);
  });
});

describe('kernel boot', () => {
  it('prints the banner, then runs the command line as process 1 and powers off with its status', () => {
    const { output, result, build } = bootKernel({ cmdline: 'echo hello from process 1' });
    expect(output.split('\n')).toEqual([
      'xenolith kernel 0.1 (native) booting',
      expect.stringMatching(/^memory: 32768 KiB, \d+ pages free$/),
      `initrd: ${build.programs.length} programs, ${build.initrd.length} bytes`,
      'timer: 1000 Hz',
      'hello from process 1',
      'init exited with status 0: powering off',
      '',
    ]);
    expect(result.reason).toBe('poweroff');
    expect(result.status).toBe(0);
  });

  it('sizes memory from the boot information', () => {
    const { output } = bootKernel({ cmdline: 'echo', memoryMiB: 64 });
    expect(output).toMatch(/^memory: 65536 KiB, \d+ pages free$/m);
  });

  it('reports a missing first program and powers off with status 1', () => {
    const { output, result } = bootKernel({ cmdline: 'nosuch' });
    expect(output).toContain('kernel: cannot start nosuch (error -2): powering off\n');
    expect(result.status).toBe(1);
  });

  it('boots without an initrd and says so', () => {
    const m = new Machine();
    bootNative(m, { kernel: guest().kernel });
    const result = m.run({ maxCycles: 100_000_000 });
    expect(m.consoleOutput()).toMatch(/^initrd: none\ntimer: 1000 Hz\nkernel: cannot start init \(error -2\): powering off\n/m);
    expect(result.status).toBe(1);
  });

  it('panics on a kernel fault with the registers and a symbolized backtrace', () => {
    const kernel = compile(new URL('../guest-programs/kernel/panic.ts', import.meta.url).pathname, { arch: 'native' }).image;
    const m = new Machine();
    bootNative(m, { kernel });
    const result = m.run({ maxCycles: 100_000_000 });
    const out = symbolizeBacktrace(m.consoleOutput(), kernel.symbols).split('\n');
    expect(out[0]).toBe('panic test: dividing by zero');
    expect(out[1]).toBe('panic: divide error');
    expect(out[2]).toMatch(/^ {2}pc 0x[0-9a-f]{8} {2}flags 0x[0-9a-f]{8} {2}sp 0x[0-9a-f]{8} {2}cpl 0 {2}error 0x00000000$/);
    expect(out[3]).toMatch(/^ {2}r0 0x[0-9a-f]{8} {2}r1 0x000003e8/);
    expect(out[7]).toMatch(/^ {2}stack( 0x[0-9a-f]{8})+$/);
    expect(out[8]).toBe('backtrace:');
    expect(out[9]).toMatch(/^ {2}#0 0x[0-9a-f]{8} \S*panic\.innermost\+0x[0-9a-f]+$/);
    expect(out.slice(10).join('\n')).toMatch(/#\d 0x[0-9a-f]{8} \S*panic\.outer\+0x[0-9a-f]+\n.*#\d 0x[0-9a-f]{8} \S*panic\.main\+0x[0-9a-f]+/);
    expect(result.reason).toBe('poweroff');
    expect(result.status).toBe(0x7f);
  });
});
