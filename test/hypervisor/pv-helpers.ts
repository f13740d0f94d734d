// Test helpers for the PV mode: a hypervisor with a PV mode, small hand-assembled PV guests, a
// way to put a vCPU on the real CPU so hypercall handlers can be called directly with crafted
// guest memory, and guest-memory accessors through the bootstrap identity map.
import { assemble } from '../../toolchain/asm/index.ts';
import { compile } from '../../toolchain/compiler/index.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import type { Domain, DomainConfig } from '../../hypervisor/core/domain.ts';
import type { Scheduler } from '../../hypervisor/core/scheduler.ts';
import type { Vcpu } from '../../hypervisor/core/vcpu.ts';
import type { Image } from '../../machine/image.ts';
import { PvMode } from '../../hypervisor/pv/mode.ts';
import type { PvDomain } from '../../hypervisor/pv/state.ts';

export const PAGE = 4096;

export function pvHypervisor(opts: { memoryMiB?: number; scheduler?: Scheduler; pcpus?: number } = {}): { hv: Hypervisor; mode: PvMode } {
  const o: { memoryBytes: number; scheduler?: Scheduler; pcpus?: number } = { memoryBytes: (opts.memoryMiB ?? 16) * 1024 * 1024 };
  if (opts.scheduler) o.scheduler = opts.scheduler;
  if (opts.pcpus !== undefined) o.pcpus = opts.pcpus;
  return { hv: new Hypervisor(o), mode: new PvMode() };
}

/** A PV guest from assembly (linked at 1 MiB). */
export function asmGuest(body: string): Image {
  return assemble(`  .arch pv\n  .org 0x100000\n${body}\n`, 'guest.s').image;
}

/** A guest that spins forever. */
export function spinGuest(): Image {
  return asmGuest('_start:\n  jmp _start');
}

const compiled = new Map<string, Image>();
/** A PV guest compiled from a source file (cached per test run). */
export function compiledGuest(file: string): Image {
  let img = compiled.get(file);
  if (!img) compiled.set(file, (img = compile(file, { arch: 'pv' }).image));
  return img;
}

export function pvDomain(hv: Hypervisor, mode: PvMode, name: string, image: Image, config: Partial<DomainConfig> = {}, cmdline?: string): Domain {
  const boot: { kernel: Image; cmdline?: string } = { kernel: image };
  if (cmdline !== undefined) boot.cmdline = cmdline;
  return hv.createDomain(mode, { name, memoryBytes: 2 * 1024 * 1024, devices: false, ...config }, boot);
}

/** Put a vCPU on the real CPU as the core's world switch does (so handlers can be called directly). */
export function loadVcpu(hv: Hypervisor, vcpu: Vcpu): void {
  const cur = hv.current;
  if (cur === vcpu) return;
  if (cur) {
    cur.domain.mode.unload(cur);
    cur.arch = hv.cpu.saveState();
    cur.loaded = false;
  }
  const arch = { ...vcpu.arch, cycles: hv.cpu.cycles, instructions: hv.cpu.instructions };
  hv.cpu.loadState(arch);
  vcpu.loaded = true;
  hv.current = vcpu;
  vcpu.domain.mode.load(vcpu);
}

/** Call hypercall nr for the domain's vCPU 0 (loading it first). */
export function hc(hv: Hypervisor, mode: PvMode, d: Domain, nr: number, ...args: number[]): number {
  const v = d.vcpus[0]!;
  loadVcpu(hv, v);
  return mode.hypercall(v, nr, args[0], args[1], args[2], args[3], args[4]);
}

/** Guest memory through the bootstrap map (virtual = pseudo-physical below the domain's size). */
export function w32(d: Domain, va: number, v: number): void {
  if (!d.memory.write32(va, v >>> 0)) throw new Error(`w32: 0x${va.toString(16)} is outside the domain`);
}

export function r32(d: Domain, va: number): number {
  return d.memory.read32(va) | 0;
}

/** Machine address of a guest pseudo-physical address. */
export function ma(d: Domain, pa: number): number {
  return d.memory.machineAddress(pa);
}

export function pvOf(mode: PvMode, d: Domain): PvDomain {
  return mode.pv(d);
}

/** Machine address of the bootstrap L1 entry mapping va (the first L1 covers 0..4 MiB). */
export function bootstrapPte(mode: PvMode, d: Domain, va: number): number {
  const lay = mode.layouts.get(d.id)!;
  const l1 = d.p2m[lay.ptFirstPfn + 1 + (va >>> 22)]!;
  return l1 * PAGE + ((va >>> 12) & 1023) * 4;
}

/** A scratch page of the domain (the first free page), as a guest virtual address. */
export function scratch(mode: PvMode, d: Domain, k = 0): number {
  return (mode.layouts.get(d.id)!.firstFreePfn + k) * PAGE;
}

/** A pv guest that spins; its `store` executes `stw [r1], r2` and exits with a hypercall: a plain store through the TLB. */
export const STORE_GUEST = asmGuest(`
_start:
  jmp _start
store:
  stw [r1 + 0], r2
  hypercall
  jmp _start`);
