// exec: replace a process's user address space with a program image from the initrd (the
// toolchain's XL32 image format, machine/image.ts), pass it its arguments on the ARGS page and
// point its trap frame at the image's entry. Text and data are copied in now; the last
// segment's zero-filled tail (bss, the program's stack) and the heap are demand-zero.
// Guest code (the TypeScript subset).

import { load32, store32, ltu, gtu, geu, TrapFrame } from 'xl32';
import { Layout, Pte } from './memlayout.ts';
import { Img } from './formats.ts';
import { Err, UserLayout, Limits } from './abi.ts';
import { memset, memcpy, strlen, strlcpy } from './string.ts';
import { kalloc, kfree } from './kalloc.ts';
import { p2v, walk, mapPage, uvmCreate, uvmFree, uvmRelease, vmSwitch } from './vm.ts';
import { initrdFind, initrdData, initrdSize } from './initrd.ts';
import { Proc, myproc } from './proc.ts';
import { setPte, pteValue, lazyMmuBegin, lazyMmuEnd } from './pvops.ts';

const enum Flags {
  /** FLAGS.IF: user mode always runs with interrupts on */
  IF = 0x200,
  USER_CS = 3,
}

function pageDown(a: number): number {
  return a & ~(Layout.PAGE - 1);
}

function pageUp(a: number): number {
  return (a + Layout.PAGE - 1) & ~(Layout.PAGE - 1);
}

/** Is the image at img (size bytes) a user program whose segments all fit the user half? */
function validImage(img: number, size: number): boolean {
  if (size < Img.HEADER_BYTES) return false;
  if (load32(img + Img.MAGIC) !== Img.MAGIC_VALUE || load32(img + Img.VERSION) !== Img.VERSION_VALUE) return false;
  if (load32(img + Img.ARCH) !== Img.ARCH_USER) return false;
  const n = load32(img + Img.SEGMENTS);
  if (n <= 0 || n > Img.MAX_SEGMENTS || Img.HEADER_BYTES + n * Img.SEG_BYTES > size) return false;
  let k = 0;
  while (k < n) {
    const s = img + Img.HEADER_BYTES + k * Img.SEG_BYTES;
    const va = load32(s + Img.SEG_VADDR);
    const mem = load32(s + Img.SEG_MEM_BYTES);
    const file = load32(s + Img.SEG_FILE_BYTES);
    const off = load32(s + Img.SEG_FILE_OFFSET);
    if (mem < 0 || file < 0 || file > mem || off < 0 || off > size || file > size - off) return false;
    if (ltu(va, UserLayout.USER_BASE) || geu(va, UserLayout.ARGS) || gtu(mem, UserLayout.ARGS - va)) return false;
    k = k + 1;
  }
  const entry = load32(img + Img.ENTRY);
  return geu(entry, UserLayout.USER_BASE) && ltu(entry, UserLayout.ARGS);
}

/** The frame mapped at va in pd, mapping a fresh zeroed one if there is none. 0 when out of memory. */
function frameAt(pd: number, va: number, perm: number): number {
  const pte = walk(pd, va, true);
  if (pte === 0) return 0;
  const e = load32(pte);
  if ((e & Pte.P) !== 0) {
    // two segments share this page: it gets the union of their rights
    if ((perm & Pte.W) !== 0) setPte(pte, e | Pte.W);
    return pteValue(e) & Pte.FRAME;
  }
  const pa = kalloc();
  if (pa === 0) return 0;
  if (mapPage(pd, va, pa, perm) < 0) {
    kfree(pa);
    return 0;
  }
  return pa;
}

/**
 * Map and fill the image's pages in the new directory pd: one batch of page-table work. 0, or
 * ENOMEM (pd then holds whatever was mapped; the caller frees it).
 */
function loadSegments(pd: number, img: number, nseg: number, last: number, lazyStart: number): number {
  lazyMmuBegin();
  let r = 0;
  let s = 0;
  while (s < nseg && r === 0) {
    const seg = img + Img.HEADER_BYTES + s * Img.SEG_BYTES;
    const vaddr = load32(seg + Img.SEG_VADDR);
    const fileEnd = vaddr + load32(seg + Img.SEG_FILE_BYTES);
    const end = vaddr + load32(seg + Img.SEG_MEM_BYTES);
    const data = img + load32(seg + Img.SEG_FILE_OFFSET);
    const perm = Pte.U | ((load32(seg + Img.SEG_FLAGS) & Img.SEG_WRITABLE) !== 0 ? Pte.W : 0);
    let va = pageDown(vaddr);
    while (ltu(va, end) && !(seg === last && geu(va, lazyStart))) {
      const pa = frameAt(pd, va, perm);
      if (pa === 0) {
        r = Err.ENOMEM;
        break;
      }
      // the part of [va, va + PAGE) that holds file bytes
      const from = ltu(va, vaddr) ? vaddr : va;
      const to = gtu(va + Layout.PAGE, fileEnd) ? fileEnd : va + Layout.PAGE;
      if (ltu(from, to)) memcpy(p2v(pa) + (from - va), data + (from - vaddr), to - from);
      va = va + Layout.PAGE;
    }
    s = s + 1;
  }
  lazyMmuEnd();
  return r;
}

/** Build the ARGS page: argc, argv[] (NULL-terminated), then the strings. Its frame, or 0. */
function argsPage(argc: number, args: number): number {
  const pa = kalloc();
  if (pa === 0) return 0;
  const page = p2v(pa);
  store32(page, argc);
  let str = 4 + (argc + 1) * 4;
  let k = 0;
  while (k < argc) {
    const s = args + k * Limits.ARG_BYTES;
    const len = strlen(s);
    store32(page + 4 + k * 4, UserLayout.ARGS + str);
    memcpy(page + str, s, len + 1);
    str = str + len + 1;
    k = k + 1;
  }
  store32(page + 4 + argc * 4, 0);
  return pa;
}

/**
 * Replace process p's program with the initrd program `path` (a kernel string), with argc
 * arguments stored ARG_BYTES apart at kernel address args. 0, or ENOENT / ENOEXEC / ENOMEM,
 * in which case p is unchanged.
 */
export function exec(p: number, path: number, argc: number, args: number): number {
  const k = initrdFind(path);
  if (k < 0) return Err.ENOENT;
  const img = initrdData(k);
  const size = initrdSize(k);
  if (img === 0 || !validImage(img, size)) return Err.ENOEXEC;

  const pd = uvmCreate();
  if (pd === 0) return Err.ENOMEM;
  const nseg = load32(img + Img.SEGMENTS);
  // the segment ending highest: its zero-filled tail and the heap after it are demand-zero
  let top = 0;
  let last = 0;
  let s = 0;
  while (s < nseg) {
    const seg = img + Img.HEADER_BYTES + s * Img.SEG_BYTES;
    const end = load32(seg + Img.SEG_VADDR) + load32(seg + Img.SEG_MEM_BYTES);
    if (gtu(end, top)) {
      top = end;
      last = seg;
    }
    s = s + 1;
  }
  const lazyStart = pageUp(load32(last + Img.SEG_VADDR) + load32(last + Img.SEG_FILE_BYTES));
  if (loadSegments(pd, img, nseg, last, lazyStart) < 0) {
    uvmFree(pd);
    return Err.ENOMEM;
  }
  const argPage = argsPage(argc, args);
  if (argPage === 0 || mapPage(pd, UserLayout.ARGS, argPage, Pte.U | Pte.W) < 0) {
    if (argPage !== 0) kfree(argPage);
    uvmFree(pd);
    return Err.ENOMEM;
  }

  // commit: nothing can fail from here on
  const old = load32(p + Proc.PD);
  store32(p + Proc.PD, pd);
  store32(p + Proc.LAZY_START, lazyStart);
  store32(p + Proc.HEAP_START, pageUp(top));
  store32(p + Proc.BRK, pageUp(top));
  strlcpy(p + Proc.NAME, path, Limits.NAME_BYTES);
  if (p === myproc()) vmSwitch(pd);
  if (old !== 0) uvmRelease(old);
  const tf = load32(p + Proc.TF);
  memset(tf, 0, TrapFrame.BYTES);
  store32(tf + TrapFrame.PC, load32(img + Img.ENTRY));
  store32(tf + TrapFrame.CS, Flags.USER_CS);
  store32(tf + TrapFrame.FLAGS, Flags.IF);
  store32(tf + TrapFrame.SP, UserLayout.ARGS);
  store32(tf + TrapFrame.R0, argc);
  store32(tf + TrapFrame.R1, UserLayout.ARGS + 4);
  return 0;
}
