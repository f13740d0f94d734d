// The PV domain builder: lays a pv kernel image (and initrd) out in a domain's pseudo-physical
// memory, writes start_info and the physical-to-machine list, builds the bootstrap page tables
// (an identity map of the domain's memory, page-table frames read-only, pinned) and leaves the
// boot vCPU at the kernel's entry in ring 1 with paging on. The layout and the entry registers are
// documented in docs/hypercalls.md "Booting a PV domain".
// Touches only the domain's frames, its shared-info page and its vCPU's saved state.

import { ImageArch, ARCH_NAMES, type Image } from '../../machine/image.ts';
import { CR0_PG, CR0_WP, Flag } from '../../machine/isa.ts';
import { HvLayout } from '../../hypercalls/numbers.ts';
import { BootLayout, StartFlags, StartInfo, StartInfoMagic } from '../../hypercalls/structs.ts';
import { resetCpuState } from '../core/vcpu.ts';
import { PageType } from './page-types.ts';
import { BlkBack } from './blkback.ts';
import { NetBack } from './netback.ts';
import { NIC_DEFAULT_MAC, macToBytes } from '../../machine/devices/nic.ts';
import { NetRxMode } from '../../hypercalls/structs.ts';
import { ConsBack } from './consback.ts';
import { setUpcallMask } from './events.ts';
import { feedConsole } from './hypercalls.ts';
import { updateTime } from './time.ts';
import { writeIdt } from './traps.ts';
import { type PvDomain } from './state.ts';

const PAGE = 4096;
const PTE_P = 1;
const PTE_W = 2;
const PTE_A = 32;
const PTE_D = 64;

const START_INFO: number = BootLayout.START_INFO;
const SHARED_INFO_VA: number = BootLayout.SHARED_INFO;
const CONSOLE_RING: number = BootLayout.CONSOLE_RING;
const KERNEL_MIN: number = BootLayout.KERNEL_MIN;

/** What the builder placed where (pseudo-physical addresses; virtual = the same at entry). */
export interface PvBootLayout {
  /** pages of memory the domain owns */
  nrPages: number;
  kernelEnd: number;
  initrdAddr: number;
  initrdBytes: number;
  /** the pfn -> mfn list */
  p2mList: number;
  /** the bootstrap page directory and tables: first pfn, count (directory first) */
  ptFirstPfn: number;
  ptFrames: number;
  /** top of the one-page bootstrap stack (r15 at entry) */
  stackTop: number;
  /** first page the layout does not use */
  firstFreePfn: number;
}

/** A kernel that cannot be built into the domain; the message says why. */
export class PvBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PvBuildError';
  }
}

export interface PvBoot {
  kernel: Image;
  initrd?: Uint8Array;
  cmdline?: string;
}

const pageUp = (n: number): number => Math.ceil(n / PAGE) * PAGE;

/** The end of the kernel image (page-aligned, at least KERNEL_MIN): where the initrd goes. */
function imageEnd(kernel: Image): number {
  return pageUp(Math.max(KERNEL_MIN, ...kernel.segments.map((s) => s.paddr + s.memBytes)));
}

/**
 * Pages the builder's layout uses in a domain of `n` pages: the kernel image, the initrd, the
 * p2m list (4 bytes a page), the bootstrap directory and its tables (one per 4 MiB), the boot
 * stack. It grows with n, so a domain fits when layoutPages(..., n) <= n.
 */
export function layoutPages(kernel: Image, initrdBytes: number, n: number): number {
  const p2mList = pageUp(imageEnd(kernel) + initrdBytes);
  const ptFirst = pageUp(p2mList + n * 4) / PAGE;
  return ptFirst + 1 + Math.ceil(n / 1024) + 1;
}

/**
 * The least pages a pv domain needs to hold `kernel` with an initrd of `initrdBytes` and the boot
 * layout: the least n with layoutPages(n) <= n (layoutPages never decreases with n, so iterating
 * from below reaches the least fixed point).
 */
export function leastPvDomainPages(kernel: Image, initrdBytes: number): number {
  let n = 1;
  for (let need = layoutPages(kernel, initrdBytes, n); need > n; need = layoutPages(kernel, initrdBytes, n)) n = need;
  return n;
}

/** Bytes as KiB and MiB, for sizing messages: "1784 KiB (1.75 MiB, rounded up)". */
function sizeText(bytes: number): string {
  const kib = Math.ceil(bytes / 1024);
  const mib = Math.ceil((kib / 1024) * 100) / 100;
  return `${kib} KiB (${mib.toFixed(2)} MiB, rounded up)`;
}

export function buildPvDomain(d: PvDomain, boot: PvBoot): PvBootLayout {
  const host = d.host;
  const domain = d.domain;
  const mem = host.mem;
  const kernel = boot.kernel;
  if (kernel.arch !== ImageArch.Pv && kernel.arch !== ImageArch.Bare) {
    throw new PvBuildError(`a pv domain boots a kernel built with --arch pv (this image is '${ARCH_NAMES[kernel.arch] ?? kernel.arch}')`);
  }
  const n = domain.p2m.length;
  const memBytes = n * PAGE;
  if (memBytes > (HvLayout.BASE as number) >>> 0 || n > 1024 * 255) {
    throw new PvBuildError(`a pv domain has at most 1020 MiB (the top 4 MiB of its address space are the hypervisor's)`);
  }
  for (const seg of kernel.segments) {
    if (seg.vaddr !== seg.paddr) throw new PvBuildError(`segment at 0x${seg.vaddr.toString(16)} is not linked at its physical address`);
    if (seg.paddr < KERNEL_MIN) {
      throw new PvBuildError(`segment 0x${seg.paddr.toString(16)}..0x${(seg.paddr + seg.memBytes).toString(16)} starts below 0x${KERNEL_MIN.toString(16)} (the boot pages are there)`);
    }
  }
  // the footprint first: the kernel image, the initrd and the boot layout, which grows with the
  // domain (its p2m list and bootstrap tables), before anything is written
  const initrdLength = boot.initrd?.length ?? 0;
  if (layoutPages(kernel, initrdLength, n) > n) {
    const least = leastPvDomainPages(kernel, initrdLength);
    throw new PvBuildError(
      `the domain's ${memBytes >> 10} KiB cannot hold the kernel, initrd and boot layout: they need at least ${sizeText(least * PAGE)}`,
    );
  }

  // the domain's frames are wherever the allocator put them: the guest translates with the p2m
  // list below and the hypervisor's m2p table
  const p2m = domain.p2m;
  for (let k = 0; k < n; k++) host.setP2mSlot(p2m[k]!, k);

  // ---- layout ----
  const kernelEnd = imageEnd(kernel);
  const initrdBytes = initrdLength;
  const initrdAddr = initrdBytes > 0 ? kernelEnd : 0;
  const p2mList = pageUp(kernelEnd + initrdBytes);
  const ptFirst = pageUp(p2mList + n * 4) / PAGE;
  const nL1 = Math.ceil(n / 1024);
  const ptFrames = 1 + nL1;
  const stackPfn = ptFirst + ptFrames;
  const firstFree = stackPfn + 1;

  // ---- contents ----
  domain.memory.loadImage(kernel);
  if (initrdBytes > 0) domain.memory.writeBytes(initrdAddr, boot.initrd!);
  const list = new Uint8Array(n * 4);
  const lv = new DataView(list.buffer);
  for (let k = 0; k < n; k++) lv.setUint32(k * 4, p2m[k]!, true);
  domain.memory.writeBytes(p2mList, list);

  // ---- events and devices the start info names ----
  const consoleFrame = p2m[CONSOLE_RING / PAGE]!;
  const cons = new ConsBack(d, consoleFrame);
  d.console = cons;
  const consolePort = cons.port;
  if (domain.config.disk && domain.config.disk.length > 0) {
    const blk = new BlkBack(d, domain.config.disk);
    d.blk = blk; // the back end itself (not a wrapper of closures), so a save reaches its state
  }
  if (domain.config.onTransmit) d.net = new NetBack(d, domain.config.onTransmit);
  const mac = domain.config.mac ?? macToBytes(NIC_DEFAULT_MAC);
  const blkSectors = domain.config.disk ? Math.floor(domain.config.disk.length / 512) : 0;

  // ---- start_info ----
  const si = new DataView(new ArrayBuffer(PAGE));
  const u32 = (off: number, v: number): void => si.setUint32(off, v >>> 0, true);
  u32(StartInfo.MAGIC, StartInfoMagic.VALUE);
  u32(StartInfo.VERSION, StartInfoMagic.VERSION);
  u32(StartInfo.NR_PAGES, n);
  u32(StartInfo.SHARED_INFO, SHARED_INFO_VA);
  u32(StartInfo.SHARED_INFO_MFN, d.sharedInfoMfn);
  u32(StartInfo.FLAGS, d.privileged ? StartFlags.PRIVILEGED | StartFlags.INITDOMAIN : 0);
  u32(StartInfo.DOMID, d.id);
  u32(StartInfo.CONSOLE_EVTCHN, consolePort);
  u32(StartInfo.PT_BASE, ptFirst * PAGE);
  u32(StartInfo.NR_PT_FRAMES, ptFrames);
  u32(StartInfo.PT_FIRST_PFN, ptFirst);
  u32(StartInfo.MFN_LIST, p2mList);
  u32(StartInfo.MOD_START, initrdAddr);
  u32(StartInfo.MOD_LEN, initrdBytes);
  u32(StartInfo.FIRST_FREE_PFN, firstFree);
  u32(StartInfo.BLK_EVTCHN, d.blk ? d.blk.port : -1);
  u32(StartInfo.BLK_SECTORS, blkSectors);
  u32(StartInfo.NET_EVTCHN, d.net ? d.net.port : -1);
  u32(StartInfo.NET_MAC_HI, (mac[0]! << 8) | mac[1]!);
  u32(StartInfo.NET_MAC_LO, ((mac[2]! << 24) | (mac[3]! << 16) | (mac[4]! << 8) | mac[5]!) >>> 0);
  u32(StartInfo.NET_IP, domain.config.ip ?? 0);
  u32(StartInfo.NET_RX_MODE, domain.config.netRx === 'flip' ? NetRxMode.FLIP : NetRxMode.COPY);
  u32(StartInfo.CPU_MHZ, host.platform.profile.clockMHz);
  u32(StartInfo.CONSOLE_MFN, consoleFrame);
  const cmd = new TextEncoder().encode(boot.cmdline ?? '');
  if (cmd.length >= (StartInfo.CMDLINE_BYTES as number)) throw new PvBuildError(`the command line is longer than ${StartInfo.CMDLINE_BYTES - 1} bytes`);
  new Uint8Array(si.buffer).set(cmd, StartInfo.CMDLINE);
  domain.memory.writeBytes(START_INFO, new Uint8Array(si.buffer));
  d.startInfoPfn = START_INFO / PAGE;

  // ---- bootstrap page tables: va = pa for pfn 1..n-1, the shared-info page at SHARED_INFO ----
  const l2 = p2m[ptFirst]!;
  const isPt = (pfn: number): boolean => pfn >= ptFirst && pfn < ptFirst + ptFrames;
  for (let t = 0; t < nL1; t++) {
    const l1 = p2m[ptFirst + 1 + t]!;
    mem.write32(l2 * PAGE + t * 4, (l1 * PAGE) | PTE_P | PTE_W | PTE_A);
    for (let k = 0; k < 1024; k++) {
      const pfn = t * 1024 + k;
      if (pfn === 0 || pfn >= n) continue;
      const frame = pfn * PAGE === (SHARED_INFO_VA) ? d.sharedInfoMfn : p2m[pfn]!;
      const rw = isPt(pfn) ? 0 : PTE_W | PTE_D;
      mem.write32(l1 * PAGE + k * 4, (frame * PAGE) | PTE_P | PTE_A | rw);
    }
  }
  const types = host.types;
  let r = types.getType(l2, PageType.L2, d.id);
  if (r < 0) throw new Error(`pv builder: the bootstrap page tables do not validate (${r})`);
  types.pinned[l2] = 1;
  r = types.getType(l2, PageType.L2, d.id); // the base pointer's reference
  if (r < 0) throw new Error(`pv builder: cannot load the bootstrap directory (${r})`);
  const pv = d.vcpus[0]!;
  pv.baseptr = l2;
  pv.createdAt = host.cpu.cycles;

  // ---- shared info: events masked until the kernel is ready; time stamped ----
  mem.fill(d.sharedInfo, PAGE, 0);
  setUpcallMask(d, 0, true);
  updateTime(host, d, 0);
  writeIdt(host, d);
  if (domain.config.input) feedConsole(d, domain.config.input);

  // ---- the boot vCPU: ring 1, paging on, r1 = start_info ----
  const vcpu = domain.vcpus[0]!;
  const arch = resetCpuState();
  arch.pc = kernel.entry >>> 0;
  arch.cpl = 1;
  arch.flags = Flag.IF;
  arch.cr0 = CR0_PG | CR0_WP;
  arch.cr3 = l2 * PAGE;
  arch.idtBase = HvLayout.IDT; // the real IDT, mapped read-only (state.ts initDomain)
  arch.idtLimit = 256;
  arch.regs[1] = START_INFO;
  arch.regs[2] = SHARED_INFO_VA;
  arch.regs[15] = (stackPfn + 1) * PAGE;
  vcpu.arch = arch;
  domain.symbols = kernel.symbols;

  return {
    nrPages: n,
    kernelEnd,
    initrdAddr,
    initrdBytes,
    p2mList,
    ptFirstPfn: ptFirst,
    ptFrames,
    stackTop: (stackPfn + 1) * PAGE,
    firstFreePfn: firstFree,
  };
}
