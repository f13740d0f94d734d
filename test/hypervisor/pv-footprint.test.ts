// The pv kernel's footprint: how small a pv domain can be. The kernel's per-frame MMU tracking is
// sized to the domain and carved at boot, the low pages between the boot pages and the kernel image
// go to the allocator, and the identity range maps only installed memory - so a domain of 1.75 MiB
// (416 pages) boots and runs the shell, and 1,000 of them fit a 2 GiB machine (bench domains).
import { describe, expect, it } from 'vitest';
import { bootPvKernel } from './pv-harness.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';
import { PhysicalMemory, MAX_MACHINE_BYTES } from '../../machine/memory.ts';
import { layoutPages, leastPvDomainPages } from '../../hypervisor/pv/builder.ts';
import { pvHypervisor } from './pv-helpers.ts';

describe('the pv kernel footprint', () => {
  it('boots in a 1.75 MiB domain and runs the shell there', () => {
    const r = bootPvKernel({ memoryMiB: 1.75, input: 'free\necho small\n', maxCycles: 200_000_000 });
    expect(r.output).toBe(
      `xenolith kernel 0.1 (pv) booting\nmemory: 1792 KiB, 245 pages free\ninitrd: 20 programs, ${buildGuestKernel({ arch: 'pv' }).initrd.length} bytes\ntimer: 1000 Hz\n` +
        'init: starting sh\n$ free\nfree: 212 of 248 pages free, 3 processes\n$ echo small\nsmall\n$ ',
    );
    // the banner counts after the kernel's directory and its two tables (identity, direct map)
    expect(r.result.reason).toBe('limit');
  });

  it('refuses a 1.5 MiB domain: the builder names the least memory the kernel, initrd and boot layout fit in', () => {
    // the image is checked as a whole, not segment by segment (its multiprocessor tables and
    // secondary boot stacks made the image alone outgrow 1.5 MiB)
    let message = '';
    try {
      bootPvKernel({ memoryMiB: 1.5 });
    } catch (e) {
      message = (e as Error).message;
    }
    const m = /^the domain's 1536 KiB cannot hold the kernel, initrd and boot layout: they need at least (\d+) KiB \((\d+\.\d\d) MiB, rounded up\)$/.exec(message);
    expect(m, message).not.toBeNull();
    const kib = Number(m![1]);
    expect(kib % 4).toBe(0);
    expect(Number(m![2])).toBe(Math.ceil((kib / 1024) * 100) / 100);
    // the figure is the least: that much builds, one page less is refused with the same figure
    const build = (k: number) => () => bootPvKernel({ memoryMiB: k / 1024, maxCycles: 1000 });
    expect(build(kib)).not.toThrow();
    expect(build(kib - 4)).toThrow(`the domain's ${kib - 4} KiB cannot hold the kernel, initrd and boot layout: they need at least ${kib} KiB`);
    // and it is what the builder lays out in a domain of that size: the first free pfn is its last page + 1
    const { kernel, initrd } = buildGuestKernel({ arch: 'pv' });
    expect(leastPvDomainPages(kernel, initrd.length)).toBe(kib / 4);
    const { hv, mode } = pvHypervisor({ memoryMiB: 4 });
    const d = hv.createDomain(mode, { name: 'least', memoryBytes: kib * 1024, devices: false }, { kernel, initrd });
    expect(mode.layouts.get(d.id)!.firstFreePfn).toBe(kib / 4);
  });

  it('the layout grows with the domain: the p2m list (4 bytes a page) and a bootstrap table per 4 MiB', () => {
    const { kernel, initrd } = buildGuestKernel({ arch: 'pv' });
    for (const pages of [448, 1024, 1025, 2049]) {
      const { hv, mode } = pvHypervisor({ memoryMiB: pages / 256 + 1 });
      const d = hv.createDomain(mode, { name: 'd', memoryBytes: pages * 4096, devices: false }, { kernel, initrd });
      expect(layoutPages(kernel, initrd.length, pages), String(pages)).toBe(mode.layouts.get(d.id)!.firstFreePfn);
    }
  });

  it('the machine ceiling is 2 GiB: a frame number below 2^19 keeps every physical address a non-negative int32', () => {
    expect(MAX_MACHINE_BYTES).toBe(2 ** 31);
    expect(() => new PhysicalMemory(MAX_MACHINE_BYTES + 4096)).toThrow('PhysicalMemory: size must be a positive multiple of 4 KiB up to 2 GiB (got 2147487744)');
  });
});
