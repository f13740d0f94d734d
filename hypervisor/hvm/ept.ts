// The second translation stage of a hardware-assisted domain (VT-x's EPT, in XL32's two-level
// form, machine/vmx.ts): a guest-physical -> machine table built from the domain's p2m, in frames
// the hypervisor owns and never maps into any guest. Touches only its own frames.

import { PAGE_SHIFT, PAGE_SIZE, Pte } from '../../machine/isa.ts';
import type { Hypervisor } from '../core/hypervisor.ts';

/** Guest-physical bytes one second-stage table covers (1024 entries of 4 KiB). */
const TABLE_SPAN = 1024 * PAGE_SIZE;
const ENTRY_PW: number = Pte.P | Pte.W;
const FRAME_MASK: number = Pte.FRAME_MASK;

/** Second-stage frames (directory + tables) needed for `memoryBytes` of guest memory. */
export function eptFramesFor(memoryBytes: number): number {
  return 1 + Math.ceil(memoryBytes / TABLE_SPAN);
}

/*
 * Every guest frame the p2m backs is mapped present and writable, eagerly, when the domain is
 * created - nothing is left to fill on demand, so a guest's EPT violation always means an access
 * outside its memory (XL32 has no memory-mapped devices). Entries stay valid for the domain's
 * life: nothing here changes the p2m (no ballooning or migration in hvm mode yet), so there is
 * never a second-stage entry to shoot down - except log-dirty's write protection (setWritable),
 * whose write faults the mode takes as EPT violations on a read-only entry. Frames the hypervisor owns (this table, other
 * domains' memory) appear in no entry: the guest cannot name them.
 */
export class Ept {
  /** machine address of the directory (the VMCS's eptRoot) */
  readonly root: number;
  /** the machine frames of the directory and tables, directory first */
  readonly frames: number[] = [];

  constructor(
    private readonly hv: Hypervisor,
    p2m: Int32Array,
  ) {
    const mem = hv.mem;
    const dirFrame = hv.allocHypervisorFrame();
    this.frames.push(dirFrame);
    this.root = dirFrame * PAGE_SIZE;
    try {
      // the machine address of the table of directory slot tableIndex (-1: none yet)
      let table = 0;
      let tableIndex = -1;
      for (let gfn = 0; gfn < p2m.length; gfn++) {
        const mfn = p2m[gfn]!;
        if (mfn < 0) continue;
        const dirIndex = gfn >>> 10;
        if (dirIndex !== tableIndex) {
          // guest frames come in ascending order: a directory slot is reached once, still empty
          tableIndex = dirIndex;
          const f = hv.allocHypervisorFrame();
          this.frames.push(f);
          table = f * PAGE_SIZE;
          mem.write32(this.root + dirIndex * 4, (table | ENTRY_PW) >>> 0);
        }
        mem.write32(table + (gfn & 0x3ff) * 4, ((mfn << PAGE_SHIFT) | ENTRY_PW) >>> 0);
      }
    } catch (e) {
      this.destroy();
      throw e;
    }
  }

  /** Second-stage tables (not counting the directory). */
  get tables(): number {
    return this.frames.length - 1;
  }

  /** The machine address guest-physical `gpa` maps to, or -1 (what the CPU's walk would find). */
  translate(gpa: number): number {
    const mem = this.hv.mem;
    const pde = mem.read32(this.root + (gpa >>> 22) * 4);
    if ((pde & Pte.P) === 0) return -1;
    const pte = mem.read32(((pde & FRAME_MASK) >>> 0) + ((gpa >>> 12) & 0x3ff) * 4);
    if ((pte & Pte.P) === 0) return -1;
    return ((pte & FRAME_MASK) >>> 0) + (gpa & 0xfff);
  }

  /**
   * Log-dirty (hypervisor/core/log-dirty.ts LogDirtyStage): make guest frame gfn's second-stage
   * entry writable or read-only. The caller drops the TLB's write permissions after a batch
   * (INVEPT's role). False if gfn has no entry.
   */
  setWritable(gfn: number, writable: boolean): boolean {
    const mem = this.hv.mem;
    const pde = mem.i32[(this.root >>> 2) + (gfn >>> 10)]!;
    if ((pde & Pte.P) === 0) return false;
    const at = (((pde & FRAME_MASK) >>> 0) >>> 2) + (gfn & 0x3ff);
    const pte = mem.i32[at]!;
    if ((pte & Pte.P) === 0) return false;
    // the table is the hypervisor's frame, never a guest's: no dirty mark to make
    mem.i32[at] = writable ? pte | Pte.W : pte & ~Pte.W;
    return true;
  }

  /** Give every frame back to the machine. */
  destroy(): void {
    for (const f of this.frames) this.hv.releaseHypervisorFrame(f);
    this.frames.length = 0;
  }
}
