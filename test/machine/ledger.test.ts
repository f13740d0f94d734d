// The cost ledger (machine/ledger.ts): every cycle the CPU charges is either an instruction's own
// cost (base) or a counted event of one kind x that kind's unit cost from the profile.

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../machine/costs.ts';
import { CR0_PG, Op, Pte } from '../../machine/isa.ts';
import { EV_KINDS, EV_NAMES, Ev, ledgerDelta, ledgerTotal, ledgerUnits, snapshotLedger } from '../../machine/ledger.ts';
import { PageTables, Prog, boot, runBoth, setGate } from './cpu-harness.ts';
import { lmbenchRegions } from '../../bench/compare.ts';

const P4 = getProfile('p4-2003');
const IDT = 0x3000;
const PD = 0x20000;
const VA = 0x400000;

describe('the cost ledger', () => {
  it('every kind has a name; the profile gives the CPU kinds their unit costs', () => {
    expect(EV_NAMES).toHaveLength(EV_KINDS);
    const u = ledgerUnits(P4, 10);
    expect([u[Ev.TlbWalk], u[Ev.TrapDelivery], u[Ev.IntDelivery], u[Ev.VmExit], u[Ev.VmEntry], u[Ev.BtCallout]]).toEqual([18, 700, 700, 1931, 2409, 1040]);
    expect(u[Ev.HvmExitPath]).toBe(P4.monitorTrap + 10 * P4.vmcsRead);
    expect(u[Ev.WorldSwitch]).toBe(P4.monitorTrap + P4.cr3Write);
    // pv's kinds are set by the pv host from its own cost model
    expect(u[Ev.PvRequest]).toBe(0);
  });

  it('a paged load and an INT: base is the four instructions\' costs, the walks and the delivery are events', () => {
    const prog = new Prog(0x1000).li(1, VA).op(Op.LDW, 2, 1, 0).op(Op.INT, 0, 0, 0x30);
    const rig = runBoth((rig) => {
      const pt = new PageTables(rig.mem, PD, PD + 0x1000);
      pt.identity(0, 0x12000, Pte.W);
      pt.map(VA, 0x50000, Pte.W);
      setGate(rig.mem, IDT, 0x30, 0x6000);
      rig.mem.write32(0x6000, new Prog(0).op(Op.HLT).build()[0]!);
      rig.cpu.idtBase = IDT;
      rig.cpu.idtLimit = 256;
      rig.cpu.ksp[0] = 0x9000;
      boot(rig, prog, 0x9000);
      rig.cpu.writeCr(3, PD);
      rig.cpu.writeCr(0, CR0_PG);
    }, 1e6, { memoryBytes: 4 << 20 });
    const { cpu } = rig;
    const c = cpu.costs;
    expect(cpu.baseCycles).toBe(c[Op.LI]! + c[Op.LDW]! + c[Op.INT]! + c[Op.HLT]!);
    // walks: the code page, the data page, the IDT's page, the stack page the frame goes to, the handler's page
    expect(cpu.stats.tlbMisses).toBe(5);
    const events = Object.fromEntries(Array.from(cpu.evCount, (n, k) => [EV_NAMES[k], n]).filter(([, n]) => n !== 0));
    expect(events).toEqual({ [EV_NAMES[Ev.TlbWalk]!]: 10, [EV_NAMES[Ev.IntDelivery]!]: 1 });
    expect(cpu.cycles).toBe(cpu.baseCycles + 10 * P4.tlbWalkLevel + P4.intEntry);
  });

  it('snapshots keep the kinds with events; a delta keeps what changed; the total is base + count x unit', () => {
    const units = ledgerUnits(P4, 10);
    const counts = new Float64Array(EV_KINDS);
    counts[Ev.TlbWalk] = 4;
    const a = snapshotLedger(100, 100 + 4 * 18, counts, units);
    counts[Ev.TlbWalk] = 6;
    counts[Ev.VmExit] = 1;
    const b = snapshotLedger(150, 150 + 6 * 18 + 1931, counts, units);
    expect(a.events).toEqual({ [EV_NAMES[Ev.TlbWalk]!]: { count: 4, unit: 18 } });
    const d = ledgerDelta(a, b);
    expect(d).toEqual({ base: 50, cycles: 50 + 2 * 18 + 1931, events: { [EV_NAMES[Ev.TlbWalk]!]: { count: 2, unit: 18 }, [EV_NAMES[Ev.VmExit]!]: { count: 1, unit: 1931 } } });
    expect(ledgerTotal(d)).toBe(d.cycles);
  });

  it('compare pairs the user-level RDTSC marks with the lmbench rows in order, or not at all', () => {
    const units = ledgerUnits(P4, 10);
    const mark = (base: number) => snapshotLedger(base, base, new Float64Array(EV_KINDS), units);
    const console = 'lmbench null: 10 cycles/op (2 ops)\nlmbench fork: 50 cycles/op (3 ops)\n';
    const regions = lmbenchRegions(console, [mark(0), mark(21), mark(30), mark(180)]);
    expect(regions!.map((r) => [r.name, r.ops, r.region.cycles])).toEqual([['null', 2, 21], ['fork', 3, 150]]);
    expect(lmbenchRegions(console, [mark(0), mark(21), mark(30)])).toBeNull();
    expect(lmbenchRegions(console, undefined)).toBeNull();
  });
});
