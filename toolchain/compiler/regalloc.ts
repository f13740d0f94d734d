// Phase 4, register allocation: liveness over the machine IR, dead-code removal, an
// interference graph with the calling convention's fixed registers, conservative coalescing
// of moves, and Chaitin-Briggs coloring with optimistic spilling to fp-relative stack slots
// (or rematerialization of constants). Rewrites the function in place.
import { Op, REG_FP } from '../../machine/isa.ts';
import { ALLOCATABLE, CALLEE_SAVED, defsOf, hasSideEffects, inst, isVirtual, mapRegs, successors, tracked, usesOf, type MBlock, type MFunction, type MInst, type Reg } from './mir.ts';

const K = ALLOCATABLE.length;
const MAX_ROUNDS = 64;

/** What the emitter needs to know after allocation. */
export interface Allocation {
  /** callee-saved registers the function writes (saved in its prologue), ascending */
  calleeSaved: Reg[];
}

/** Live-out set per block id. */
export function liveness(f: MFunction): Map<number, Set<Reg>> {
  const gen = new Map<number, Set<Reg>>();
  const kill = new Map<number, Set<Reg>>();
  for (const b of f.blocks) {
    const g = new Set<Reg>();
    const k = new Set<Reg>();
    for (const i of b.insts) {
      for (const u of usesOf(i)) if (tracked(u) && !k.has(u)) g.add(u);
      for (const d of defsOf(i)) if (tracked(d)) k.add(d);
    }
    gen.set(b.id, g);
    kill.set(b.id, k);
  }
  const liveIn = new Map<number, Set<Reg>>(f.blocks.map((b) => [b.id, new Set<Reg>()]));
  const liveOut = new Map<number, Set<Reg>>(f.blocks.map((b) => [b.id, new Set<Reg>()]));
  const succ = new Map<number, number[]>(f.blocks.map((b) => [b.id, successors(b)]));
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = f.blocks.length - 1; k >= 0; k--) {
      const b = f.blocks[k]!;
      const out = liveOut.get(b.id)!;
      for (const s of succ.get(b.id)!) for (const r of liveIn.get(s) ?? []) out.add(r);
      const inn = new Set(gen.get(b.id)!);
      const kl = kill.get(b.id)!;
      for (const r of out) if (!kl.has(r)) inn.add(r);
      if (inn.size !== liveIn.get(b.id)!.size) {
        liveIn.set(b.id, inn);
        changed = true;
      }
    }
  }
  return liveOut;
}

/** Remove instructions without side effects whose results nobody reads; true if any went. */
function deadCode(f: MFunction): boolean {
  const liveOut = liveness(f);
  let removed = false;
  for (const b of f.blocks) {
    const live = new Set(liveOut.get(b.id)!);
    const kept: MInst[] = [];
    for (let k = b.insts.length - 1; k >= 0; k--) {
      const i = b.insts[k]!;
      const defs = defsOf(i);
      const dead = !hasSideEffects(i) && defs.length > 0 && defs.every((d) => tracked(d) && !live.has(d));
      const selfMove = i.op === Op.MOV && i.rd === i.ra;
      if (dead || selfMove) {
        removed = true;
        continue;
      }
      for (const d of defs) live.delete(d);
      for (const u of usesOf(i)) if (tracked(u)) live.add(u);
      kept.push(i);
    }
    b.insts = kept.reverse();
  }
  return removed;
}

class Graph {
  /** adjacency, symmetric, over tracked registers */
  readonly adj = new Map<Reg, Set<Reg>>();
  node(r: Reg): Set<Reg> {
    let s = this.adj.get(r);
    if (!s) this.adj.set(r, (s = new Set()));
    return s;
  }
  edge(a: Reg, b: Reg): void {
    if (a === b) return;
    this.node(a).add(b);
    this.node(b).add(a);
  }
  interferes(a: Reg, b: Reg): boolean {
    return this.adj.get(a)?.has(b) ?? false;
  }
  degree(r: Reg): number {
    return isVirtual(r) ? (this.adj.get(r)?.size ?? 0) : Infinity;
  }
  /** Merge b into a: a inherits b's edges and b disappears. */
  merge(a: Reg, b: Reg): void {
    const nb = this.adj.get(b) ?? new Set<Reg>();
    for (const n of nb) {
      this.adj.get(n)!.delete(b);
      this.edge(a, n);
    }
    this.adj.delete(b);
    this.node(a);
  }
}

function buildGraph(f: MFunction, liveOut: Map<number, Set<Reg>>): { g: Graph; moves: MInst[]; cost: Map<Reg, number> } {
  const g = new Graph();
  const moves: MInst[] = [];
  const cost = new Map<Reg, number>();
  for (const b of f.blocks) {
    const weight = 8 ** Math.min(b.loopDepth, 6);
    const live = new Set(liveOut.get(b.id)!);
    for (let k = b.insts.length - 1; k >= 0; k--) {
      const i = b.insts[k]!;
      const defs = defsOf(i).filter(tracked);
      const uses = usesOf(i).filter(tracked);
      const isMove = i.op === Op.MOV && tracked(i.rd) && tracked(i.ra);
      if (isMove) {
        live.delete(i.ra);
        moves.push(i);
      }
      for (const d of defs) {
        g.node(d);
        for (const l of live) g.edge(d, l);
        for (const d2 of defs) g.edge(d, d2);
      }
      for (const d of defs) live.delete(d);
      for (const u of uses) {
        g.node(u);
        live.add(u);
      }
      for (const r of [...defs, ...uses]) if (isVirtual(r)) cost.set(r, (cost.get(r) ?? 0) + weight);
    }
  }
  for (const r of f.noSpill) cost.set(r, Infinity);
  return { g, moves, cost };
}

/*
 * Conservative coalescing: Briggs' test for two virtual registers (the merged node has fewer
 * than K neighbours of significant degree), George's for a virtual and a fixed register (every
 * neighbour of the virtual one already interferes with the fixed one or has low degree).
 * Coalescing never turns a colourable graph into one that needs a spill.
 */
function coalesce(g: Graph, moves: MInst[], alias: Map<Reg, Reg>, cost: Map<Reg, number>, noSpill: Set<Reg>): void {
  const find = (r: Reg): Reg => {
    let x = r;
    while (alias.has(x)) x = alias.get(x)!;
    return x;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const m of moves) {
      let a = find(m.rd);
      let b = find(m.ra);
      if (a === b) continue;
      if (!isVirtual(a) && !isVirtual(b)) continue;
      // Spill temporaries stay separate so a long-lived register never becomes unspillable.
      if (noSpill.has(a) || noSpill.has(b)) continue;
      if (g.interferes(a, b)) continue;
      if (!isVirtual(b)) [a, b] = [b, a];
      // now b is virtual; a is fixed or virtual
      let ok: boolean;
      if (!isVirtual(a)) {
        if (!ALLOCATABLE.includes(a)) continue;
        ok = [...(g.adj.get(b) ?? [])].every((t) => !isVirtual(t) || g.interferes(t, a) || g.degree(t) < K);
      } else {
        const nbrs = new Set([...(g.adj.get(a) ?? []), ...(g.adj.get(b) ?? [])]);
        let significant = 0;
        for (const n of nbrs) if (g.degree(n) >= K) significant++;
        ok = significant < K;
      }
      if (!ok) continue;
      g.merge(a, b);
      alias.set(b, a);
      if (isVirtual(a)) cost.set(a, (cost.get(a) ?? 0) + (cost.get(b) ?? 0));
      changed = true;
    }
  }
}

/** Colour virtual registers; returns the colouring and the registers that must be spilled. */
function color(g: Graph, cost: Map<Reg, number>, moves: MInst[], find: (r: Reg) => Reg): { colors: Map<Reg, Reg>; spills: Reg[] } {
  const vregs = [...g.adj.keys()].filter(isVirtual).sort((a, b) => a - b);
  const degree = new Map(vregs.map((r) => [r, g.adj.get(r)!.size]));
  const removed = new Set<Reg>();
  const stack: Reg[] = [];
  while (stack.length < vregs.length) {
    let pick: Reg | undefined = vregs.find((r) => !removed.has(r) && degree.get(r)! < K);
    if (pick === undefined) {
      // Optimistic: push the cheapest candidate; it may still find a colour.
      let best = Infinity;
      for (const r of vregs) {
        if (removed.has(r)) continue;
        const score = (cost.get(r) ?? 0) / Math.max(1, degree.get(r)!);
        if (pick === undefined || score < best) {
          best = score;
          pick = r;
        }
      }
    }
    removed.add(pick!);
    stack.push(pick!);
    for (const n of g.adj.get(pick!)!) if (degree.has(n)) degree.set(n, degree.get(n)! - 1);
  }
  const partners = new Map<Reg, Reg[]>();
  for (const m of moves) {
    const a = find(m.rd);
    const b = find(m.ra);
    if (a === b) continue;
    partners.set(a, [...(partners.get(a) ?? []), b]);
    partners.set(b, [...(partners.get(b) ?? []), a]);
  }
  const colors = new Map<Reg, Reg>();
  const colorOf = (r: Reg): Reg | undefined => (isVirtual(r) ? colors.get(r) : r);
  const spills: Reg[] = [];
  while (stack.length) {
    const r = stack.pop()!;
    const forbidden = new Set<Reg>();
    for (const n of g.adj.get(r)!) {
      const c = colorOf(n);
      if (c !== undefined) forbidden.add(c);
    }
    let chosen: Reg | undefined;
    for (const p of partners.get(r) ?? []) {
      const c = colorOf(p);
      if (c !== undefined && ALLOCATABLE.includes(c) && !forbidden.has(c)) {
        chosen = c;
        break;
      }
    }
    chosen ??= ALLOCATABLE.find((c) => !forbidden.has(c));
    if (chosen === undefined) spills.push(r);
    else colors.set(r, chosen);
  }
  return { colors, spills };
}

/** Replace each spilled register by short-lived temporaries around its uses and definitions. */
function rewriteSpills(f: MFunction, spills: Reg[]): void {
  const spilled = new Set(spills);
  // A register whose every definition loads the same constant is recomputed, not stored.
  const remat = new Map<Reg, MInst>();
  const defsBy = new Map<Reg, MInst[]>();
  for (const b of f.blocks) for (const i of b.insts) for (const d of defsOf(i)) if (spilled.has(d)) defsBy.set(d, [...(defsBy.get(d) ?? []), i]);
  for (const r of spills) {
    const ds = defsBy.get(r) ?? [];
    if (ds.length > 0 && ds.every((i) => i.op === Op.LI && i.imm === ds[0]!.imm && i.sym === ds[0]!.sym)) remat.set(r, ds[0]!);
  }
  const slot = new Map<Reg, number>();
  for (const r of spills) if (!remat.has(r)) slot.set(r, f.slots++);
  for (const b of f.blocks) {
    const out: MInst[] = [];
    for (const i of b.insts) {
      if (i.op === Op.LI && defsOf(i).some((d) => remat.has(d))) continue;
      const temp = new Map<Reg, Reg>();
      const tempFor = (r: Reg): Reg => {
        let t = temp.get(r);
        if (t === undefined) {
          t = f.nextVreg++;
          f.noSpill.add(t);
          temp.set(r, t);
        }
        return t;
      };
      const usesSpilled = usesOf(i).filter((u) => spilled.has(u));
      for (const u of new Set(usesSpilled)) {
        const t = tempFor(u);
        const m = remat.get(u);
        if (m) out.push(inst(Op.LI, { rd: t, imm: m.imm, sym: m.sym, line: i.line }));
        else out.push(inst(Op.LDW, { rd: t, ra: REG_FP, slot: slot.get(u)!, line: i.line }));
      }
      const defsSpilled = defsOf(i).filter((d) => spilled.has(d));
      mapRegs(i, (r) => (spilled.has(r) ? tempFor(r) : r), (r) => (spilled.has(r) ? tempFor(r) : r));
      out.push(i);
      for (const d of new Set(defsSpilled)) {
        if (remat.has(d)) continue;
        out.push(inst(Op.STW, { rd: temp.get(d)!, ra: REG_FP, slot: slot.get(d)!, line: i.line }));
      }
    }
    b.insts = out;
  }
}

export function allocateRegisters(f: MFunction): Allocation {
  while (deadCode(f));
  for (let round = 0; ; round++) {
    if (round > MAX_ROUNDS) throw new Error(`internal compiler error: register allocation of ${f.name} does not converge`);
    const liveOut = liveness(f);
    const { g, moves, cost } = buildGraph(f, liveOut);
    const alias = new Map<Reg, Reg>();
    coalesce(g, moves, alias, cost, f.noSpill);
    const find = (r: Reg): Reg => {
      let x = r;
      while (alias.has(x)) x = alias.get(x)!;
      return x;
    };
    const { colors, spills } = color(g, cost, moves, find);
    if (spills.length === 0) {
      const final = (r: Reg): Reg => {
        const x = find(r);
        return isVirtual(x) ? colors.get(x)! : x;
      };
      for (const b of f.blocks) {
        for (const i of b.insts) mapRegs(i, final, final);
        b.insts = b.insts.filter((i) => !(i.op === Op.MOV && i.rd === i.ra));
      }
      return { calleeSaved: calleeSavedUsed(f.blocks) };
    }
    // Keep the coalescing decisions, then spill and try again.
    for (const b of f.blocks) {
      for (const i of b.insts) mapRegs(i, find, find);
      b.insts = b.insts.filter((i) => !(i.op === Op.MOV && i.rd === i.ra));
    }
    rewriteSpills(f, spills.map(find));
  }
}

function calleeSavedUsed(blocks: MBlock[]): Reg[] {
  const used = new Set<Reg>();
  for (const b of blocks) for (const i of b.insts) for (const d of defsOf(i)) if (CALLEE_SAVED.includes(d)) used.add(d);
  return [...used].sort((a, b) => a - b);
}
