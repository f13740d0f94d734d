// The domain builder's common part: put a bare image, or a kernel with the xenolith boot protocol
// (docs/kernel.md), into a domain's guest-physical memory and set the boot vCPU's registers as the
// bare machine would see them at entry. Modes then translate that entry state into their own
// (trap mode: virtual ring 0 at real ring 1). Touches only the domain's memory and vCPU state.

import { ImageArch, type Image } from '../../machine/image.ts';
import type { Machine } from '../../machine/machine.ts';
import { bootNative, type NativeBootLayout } from '../boot/native.ts';
import type { Domain } from './domain.ts';
import type { BootSpec } from './mode.ts';
import { resetCpuState, type Vcpu } from './vcpu.ts';

/**
 * Load `boot` into the domain and leave `vcpu.arch` at the bare machine's entry state: reset
 * registers, pc = the image entry, CPL 0, interrupts off, paging off; for a kernel, r1..r4 as the
 * boot protocol says. Returns the boot layout for a kernel, null for a bare image.
 */
export function loadBoot(domain: Domain, vcpu: Vcpu, boot: BootSpec): NativeBootLayout | null {
  if ('image' in boot) {
    domain.memory.loadImage(boot.image);
    vcpu.arch = resetCpuState();
    vcpu.arch.pc = boot.image.entry >>> 0;
    domain.symbols = boot.image.symbols;
    return null;
  }
  return bootKernelInDomain(domain, vcpu, boot.kernel, boot.initrd, boot.cmdline);
}

/*
 * The boot protocol has one definition, bootNative() in hypervisor/boot/native.ts, written against
 * a bare Machine. Rather than copy it, the domain builder hands it a stand-in with exactly the parts
 * it uses - memory (size, writeBytes) that goes through the domain's p2m, loadImage, and the boot
 * vCPU's registers - so the domain gets the same layout, boot block and entry registers a bare
 * machine of the domain's memory size would.
 */
interface BootTarget {
  mem: Pick<Machine['mem'], 'size' | 'writeBytes'>;
  cpu: { regs: Int32Array };
  loadImage(image: Image): void;
}

function bootKernelInDomain(domain: Domain, vcpu: Vcpu, kernel: Image, initrd?: Uint8Array, cmdline?: string): NativeBootLayout {
  const regs = new Int32Array(16);
  let entry = 0;
  const target: BootTarget = {
    mem: domain.memory,
    cpu: { regs },
    loadImage: (image) => {
      domain.memory.loadImage(image);
      entry = image.entry >>> 0;
    },
  };
  const spec: Parameters<typeof bootNative>[1] = { kernel };
  if (initrd !== undefined) spec.initrd = initrd;
  if (cmdline !== undefined) spec.cmdline = cmdline;
  const layout = bootNative(target as unknown as Machine, spec);
  vcpu.arch = resetCpuState();
  vcpu.arch.pc = entry;
  vcpu.arch.regs = Array.from(regs);
  domain.symbols = kernel.symbols;
  return layout;
}

/** Is this a kernel for the boot protocol (rather than a bare image)? */
export function isBootableKernel(image: Image): boolean {
  return image.arch === ImageArch.Native;
}
