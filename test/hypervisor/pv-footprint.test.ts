// The pv kernel's footprint: how small a pv domain can be. The kernel's per-frame MMU tracking is
// sized to the domain and carved at boot, the low pages between the boot pages and the kernel image
// go to the allocator, and the identity range maps only installed memory - so a domain of 1.75 MiB
// (416 pages) boots and runs the shell, and 1,000 of them fit a 2 GiB machine (bench domains).
import { describe, expect, it } from 'vitest';
import { bootPvKernel } from './pv-harness.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';
import { PhysicalMemory, MAX_MACHINE_BYTES } from '../../machine/memory.ts';

describe('the pv kernel footprint', () => {
  it('boots in a 1.75 MiB domain and runs the shell there', () => {
    const r = bootPvKernel({ memoryMiB: 1.75, input: 'free\necho small\n', maxCycles: 200_000_000 });
    expect(r.output).toBe(
      `xenolith kernel 0.1 (pv) booting\nmemory: 1792 KiB, 244 pages free\ninitrd: 20 programs, ${buildGuestKernel({ arch: 'pv' }).initrd.length} bytes\ntimer: 1000 Hz\n` +
        'init: starting sh\n$ free\nfree: 211 of 247 pages free, 3 processes\n$ echo small\nsmall\n$ ',
    );
    // the banner counts after the kernel's directory and its two tables (identity, direct map)
    expect(r.result.reason).toBe('limit');
  });

  it('refuses a 1.5 MiB domain: the builder names the bytes the kernel, initrd and boot layout need', () => {
    expect(() => bootPvKernel({ memoryMiB: 1.5 })).toThrow("the domain's 1536 KiB cannot hold the kernel, initrd and boot layout (1740800 bytes needed)");
  });

  it('the machine ceiling is 2 GiB: a frame number below 2^19 keeps every physical address a non-negative int32', () => {
    expect(MAX_MACHINE_BYTES).toBe(2 ** 31);
    expect(() => new PhysicalMemory(MAX_MACHINE_BYTES + 4096)).toThrow('PhysicalMemory: size must be a positive multiple of 4 KiB up to 2 GiB (got 2147487744)');
  });
});
