// Phase 4b, peephole: after register allocation, drops moves that copy a value into a register
// already holding it (a copy made earlier in the block whose two ends are both unchanged since).
// Works on one block at a time; rewrites the function's instruction lists in place.
import { Op } from '../../machine/isa.ts';
import { defsOf, type MFunction, type Reg } from './mir.ts';

export function peephole(f: MFunction): void {
  for (const b of f.blocks) {
    /** pairs of registers known to hold the same value, as "a,b" with a < b */
    const same = new Set<string>();
    const key = (a: Reg, b: Reg): string => (a < b ? `${a},${b}` : `${b},${a}`);
    const forget = (r: Reg): void => {
      for (const k of [...same]) {
        const [a, c] = k.split(',').map(Number);
        if (a === r || c === r) same.delete(k);
      }
    };
    b.insts = b.insts.filter((i) => {
      if (i.op === Op.MOV) {
        if (i.rd === i.ra || same.has(key(i.rd, i.ra))) return false;
        forget(i.rd);
        same.add(key(i.rd, i.ra));
        return true;
      }
      for (const d of defsOf(i)) forget(d);
      return true;
    });
  }
}
