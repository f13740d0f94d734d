// The hypervisor's view of a PV guest's virtual memory: hypercall arguments are guest virtual
// addresses, read and written through the guest's own (validated) page tables with the guest
// kernel's rights (supervisor, write-protect on). A software walk, so it needs no CPU state beyond
// the page-directory address; it sets no accessed/dirty bits and fills no TLB.
// Reads and writes only frames the domain's validated tables map.

import type { PhysicalMemory } from '../../machine/memory.ts';

const PTE_P = 1;
const PTE_W = 2;

/**
 * Accessors that report failure through `fault` instead of allocating results: call, then check
 * `gv.fault` (it stays set until cleared with `gv.fault = false`).
 */
export class GuestVirt {
  fault = false;

  constructor(readonly mem: PhysicalMemory) {}

  /** Machine address of va under the directory at machine address cr3, or -1. */
  translate(cr3: number, va: number, write: boolean): number {
    const i32 = this.mem.i32;
    const size = this.mem.size;
    const pdeAddr = (cr3 & ~0xfff) + (va >>> 22) * 4;
    if (pdeAddr < 0 || pdeAddr >= size) return -1;
    const pde = i32[pdeAddr >>> 2]!;
    if ((pde & PTE_P) === 0 || (write && (pde & PTE_W) === 0)) return -1;
    const pteAddr = ((pde & ~0xfff) >>> 0) + ((va >>> 12) & 1023) * 4;
    if (pteAddr >= size) return -1;
    const pte = i32[pteAddr >>> 2]!;
    if ((pte & PTE_P) === 0 || (write && (pte & PTE_W) === 0)) return -1;
    const ma = ((pte & ~0xfff) >>> 0) + (va & 0xfff);
    return ma < size ? ma : -1;
  }

  /** The word at va (unsigned 32-bit value as a signed int), or 0 with `fault` set. */
  read32(cr3: number, va: number): number {
    if ((va & 3) === 0) {
      const ma = this.translate(cr3, va, false);
      if (ma < 0) {
        this.fault = true;
        return 0;
      }
      return this.mem.i32[ma >>> 2]!;
    }
    let v = 0;
    for (let k = 0; k < 4; k++) v |= this.read8(cr3, (va + k) | 0) << (8 * k);
    return v;
  }

  read8(cr3: number, va: number): number {
    const ma = this.translate(cr3, va, false);
    if (ma < 0) {
      this.fault = true;
      return 0;
    }
    return this.mem.u8[ma]!;
  }

  read16(cr3: number, va: number): number {
    return this.read8(cr3, va) | (this.read8(cr3, (va + 1) | 0) << 8);
  }

  /** Write a word at va; false (and `fault`) if any byte is not writable. */
  write32(cr3: number, va: number, value: number): boolean {
    if ((va & 3) === 0) {
      const ma = this.translate(cr3, va, true);
      if (ma < 0) {
        this.fault = true;
        return false;
      }
      this.mem.write32(ma, value);
      return true;
    }
    for (let k = 0; k < 4; k++) if (this.translate(cr3, (va + k) | 0, true) < 0) {
      this.fault = true;
      return false;
    }
    for (let k = 0; k < 4; k++) this.mem.write8(this.translate(cr3, (va + k) | 0, true), value >>> (8 * k));
    return true;
  }

  write8(cr3: number, va: number, value: number): boolean {
    const ma = this.translate(cr3, va, true);
    if (ma < 0) {
      this.fault = true;
      return false;
    }
    this.mem.write8(ma, value);
    return true;
  }

  /** Copy len bytes from va, or null (and `fault`) if any page is unmapped. */
  readBytes(cr3: number, va: number, len: number): Uint8Array | null {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const at = (va + done) | 0;
      const n = Math.min(len - done, 4096 - (at & 0xfff));
      const ma = this.translate(cr3, at, false);
      if (ma < 0) {
        this.fault = true;
        return null;
      }
      out.set(this.mem.u8.subarray(ma, ma + n), done);
      done += n;
    }
    return out;
  }

  /** Copy data to va; nothing is written (and `fault`) unless every page is writable. */
  writeBytes(cr3: number, va: number, data: Uint8Array): boolean {
    for (let p = va & ~0xfff; ; p = (p + 4096) | 0) {
      if (this.translate(cr3, Math.max(p >>> 0, va >>> 0) | 0, true) < 0) {
        this.fault = true;
        return false;
      }
      if ((p >>> 0) + 4096 >= (va >>> 0) + data.length) break;
    }
    let done = 0;
    while (done < data.length) {
      const at = (va + done) | 0;
      const n = Math.min(data.length - done, 4096 - (at & 0xfff));
      this.mem.writeBytes(this.translate(cr3, at, true), data.subarray(done, done + n));
      done += n;
    }
    return true;
  }
}
