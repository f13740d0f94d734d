// Issue 9 item 4: one hypercall could hold the host for minutes (a multicall of pins and unpins
// of big page directories ran 208 s in one HYPERCALL while no other domain ran). Now a batch
// stops after its step's share of host work (context.ts WORK_PER_STEP, in page-table entries
// checked) and the guest re-executes its HYPERCALL with the progress in its arguments (Xen's
// hypercall_create_continuation), re-read and re-validated at every step. One directory's
// validation, its undoing and its release are themselves split (page-types.ts Partial, Xen's
// preemptible alloc_l2_table): progress is kept in the frame, and the directory is unusable in
// between. The unit measured is PvStats.maxStepWork: the most page-table entries one hypercall
// entry checked.
import { describe, expect, it } from 'vitest';
import { HcErr } from '../../hypercalls/errors.ts';
import { Batch, Hc, MmuextCmd } from '../../hypercalls/numbers.ts';
import { MmuextOp, MulticallEntry } from '../../hypercalls/structs.ts';
import type { Domain } from '../../hypervisor/core/domain.ts';
import { WORK_PER_STEP } from '../../hypervisor/pv/context.ts';
import { PvMode } from '../../hypervisor/pv/mode.ts';
import { PageType } from '../../hypervisor/pv/page-types.ts';
import { Hypervisor as Hv, type Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { Ev } from '../../machine/ledger.ts';
import { asmGuest, bootstrapPte, hc, pvDomain, r32, w32, PAGE } from './pv-helpers.ts';
import { checkTypes } from './pv-invariants.ts';

const MiB = 1024 * 1024;
const P = 1;
/** pseudo-physical frames of the big directory (DIR) and its 1,023 tables (DIR + 1 ..) */
const DIR = 0x300;
/** the page every table entry maps read-only */
const DATA = 0x700;
/** the multicall list, the mmuext_op list, the done counts, the mmu_update list (two pages) */
const CALLS = 0x701000;
const OPS = 0x702000;
const DONE = 0x703000;
const REQS = 0x704000;
/** entries checked to pin (or unpin) a directory of n tables: its own 1,024 and 1,024 in each table */
const dirWork = (tables: number): number => 1024 + tables * 1024;
/** the directory most tests use (a quarter of the biggest, to keep them quick) and the multicall's length */
const TABLES = 255;
const ENTRIES = 4;
/** the work of one directory entry naming a table not yet validated (or whose last type reference it holds) */
const ENTRY = 1 + 1024;
/**
 * The most one step does: it stops after the entry that reaches WORK_PER_STEP, so the work before
 * that entry is below the bound and the entry itself at most ENTRY.
 */
const STEP_MAX = WORK_PER_STEP - 1 + ENTRY;

/** B: prints a dot every few thousand instructions, for ever. */
const TICKER = asmGuest(`
_start:
  li r5, 2000
.Lspin:
  addi r5, r5, -1
  cmpi r5, 0
  jne .Lspin
  li r0, 18             ; console_io(WRITE, 1, dot)
  li r1, 0
  li r2, 1
  li r3, dot
  hypercall
  jmp _start
dot:
  .ascii "."`);

/** A multicall entry's RESULT before the entry has finished */
const UNSET = 0x5a5a5a5a;

/** Print "go", make the call with r1..r3, print "done", power off with the call's result as the status. */
function caller(nr: number, a1: number, a2: number, a3 = 0): ReturnType<typeof asmGuest> {
  return asmGuest(`
_start:
  li r0, 18             ; console_io(WRITE, 3, go)
  li r1, 0
  li r2, 3
  li r3, go
  hypercall
  li r0, ${nr}
  li r1, ${a1}
  li r2, ${a2}
  li r3, ${a3}
  hypercall
  push r0
  li r0, 18             ; console_io(WRITE, 5, done)
  li r1, 0
  li r2, 5
  li r3, done
  hypercall
  li r0, 6              ; sched_op(SHUTDOWN, POWEROFF, result)
  li r1, 2
  li r2, 0
  ldw r3, [r15 + 0]
  hypercall
.Lhang:
  jmp .Lhang
go:
  .ascii "go\\n"
done:
  .ascii "done\\n"`);
}

interface Host {
  hv: Hypervisor;
  mode: PvMode;
  a: Domain;
  b: Domain;
  /** B printed while A's multicall had finished its first entry and not its last */
  bRanMidway: number;
}

/**
 * Domain A (8 MiB) with a directory whose first `tables` entries name as many tables, each of
 * 1,024 read-only mappings, none of them validated yet; domain B spins. The frames are made
 * read-only in A's bootstrap map first (so they can become tables), then filled as the guest would.
 */
function host(image: ReturnType<typeof asmGuest>, opts: { workPerStep?: number; tables?: number } = {}): Host {
  const hv = new Hv({ memoryBytes: 32 * MiB });
  const mode = opts.workPerStep === undefined ? new PvMode() : new PvMode({ workPerStep: opts.workPerStep });
  const tables = opts.tables ?? TABLES;
  const t: Host = { hv, mode, a: null!, b: null!, bRanMidway: 0 };
  t.a = pvDomain(hv, mode, 'a', image, { memoryBytes: 8 * MiB });
  const result = (k: number): number => r32(t.a, CALLS + k * MulticallEntry.BYTES + MulticallEntry.RESULT);
  t.b = pvDomain(hv, mode, 'b', TICKER, {
    onOutput: () => {
      if (result(0) !== UNSET && result(ENTRIES - 1) === UNSET) t.bRanMidway++;
    },
  });
  const a = t.a;
  const mfn = (pfn: number): number => a.p2m[pfn]!;
  for (let k = 0; k < 1024; k++) {
    w32(a, REQS + k * 8, bootstrapPte(mode, a, (DIR + k) * PAGE));
    w32(a, REQS + k * 8 + 4, (mfn(DIR + k) * PAGE) | P);
  }
  expect(hc(hv, mode, a, Hc.MMU_UPDATE, REQS, 1024, 0)).toBe(0);
  const i32 = hv.mem.i32;
  for (let k = 1; k <= tables; k++) {
    i32.fill((mfn(DATA) * PAGE) | P, mfn(DIR + k) << 10, (mfn(DIR + k) + 1) << 10);
    i32[(mfn(DIR) << 10) + k - 1] = (mfn(DIR + k) * PAGE) | P;
  }
  return t;
}

/** Run until A has stopped (B spins for ever). */
function finish(t: Host): void {
  for (let k = 0; k < 100 && !t.a.stopped; k++) t.hv.run({ maxCycles: 10_000_000 });
  expect(t.a.stopped).toBe(true);
}

/** The multicall: ENTRIES mmuext_op calls, each [PIN_L2_TABLE dir, UNPIN_TABLE dir] with its own done count. */
function writeMulticall(t: Host): void {
  const dir = t.a.p2m[DIR]!;
  w32(t.a, OPS + MmuextOp.CMD, MmuextCmd.PIN_L2_TABLE);
  w32(t.a, OPS + MmuextOp.ARG, dir);
  w32(t.a, OPS + MmuextOp.BYTES + MmuextOp.CMD, MmuextCmd.UNPIN_TABLE);
  w32(t.a, OPS + MmuextOp.BYTES + MmuextOp.ARG, dir);
  for (let k = 0; k < ENTRIES; k++) {
    const e = CALLS + k * MulticallEntry.BYTES;
    w32(t.a, e + MulticallEntry.OP, Hc.MMUEXT_OP);
    w32(t.a, e + MulticallEntry.RESULT, UNSET);
    w32(t.a, e + MulticallEntry.ARG1, OPS);
    w32(t.a, e + MulticallEntry.ARG2, 2);
    w32(t.a, e + MulticallEntry.ARG3, DONE + 4 * k);
    w32(t.a, DONE + 4 * k, -1);
  }
}

/** What the guest can observe of its multicall, and A's frame table. */
function outcome(t: Host) {
  const pv = t.mode.pv(t.a);
  const types = t.mode.host.types;
  return {
    status: t.a.stopStatus,
    results: Array.from({ length: ENTRIES }, (_, k) => r32(t.a, CALLS + k * MulticallEntry.BYTES + MulticallEntry.RESULT)),
    done: Array.from({ length: ENTRIES }, (_, k) => r32(t.a, DONE + 4 * k)),
    frames: Array.from(t.a.p2m, (f) => types.describe(f)),
    console: t.a.consoleOutput(),
    multicalled: pv.stats.multicalled[Hc.MMUEXT_OP],
  };
}

/** the multicall's steps: 8 * 255 tables (plus the empty entries) of work in steps of about 65,600 */
const HC_STEPS = 32;

describe('long hypercalls are preemptible', () => {
  it('the biggest directory (1,023 tables of 1,024 entries) is pinned and unpinned in steps of 64 tables', () => {
    const t = host(caller(Hc.MMUEXT_OP, OPS, 2, DONE), { tables: 1023 });
    const dir = t.a.p2m[DIR]!;
    [MmuextCmd.PIN_L2_TABLE, MmuextCmd.UNPIN_TABLE].forEach((cmd, k) => {
      w32(t.a, OPS + k * MmuextOp.BYTES + MmuextOp.CMD, cmd);
      w32(t.a, OPS + k * MmuextOp.BYTES + MmuextOp.ARG, dir);
    });
    finish(t);
    const pv = t.mode.pv(t.a).stats;
    expect(dirWork(1023)).toBe(1023 * ENTRY + 1);
    // the pin: 15 steps of 64 tables (64 * 1,025 = 65,600), then 63 tables and the hypervisor
    // slot (64,576), below the bound, so the unpin starts in that step and stops after one
    // table (65,601); the release's other 1,022 tables: 15 steps of 64, then 62 and the slot
    expect(64 * ENTRY).toBeGreaterThanOrEqual(WORK_PER_STEP);
    expect(63 * ENTRY).toBeLessThan(WORK_PER_STEP);
    expect(pv.maxStepWork).toBe(63 * ENTRY + 1 + ENTRY);
    expect(pv.maxStepWork).toBeLessThanOrEqual(STEP_MAX);
    expect(pv.continuations).toBe(15 + 1 + 15 + 1 - 1);
    expect(t.a.stats.hypercalls[Hc.MMUEXT_OP]).toBe(32);
    expect([t.a.stopStatus, r32(t.a, DONE), t.a.consoleOutput()]).toEqual([0, 2, 'go\ndone\n']);
    expect(t.mode.host.types.describe(dir)).toEqual({ owner: t.a.id, type: 'none', typeCount: 0, refCount: 1, pinned: false });
  });

  /** A's frame table, the guest's view of its call, and the work bound's figures, for pin-only runs. */
  function pinOnly(opts: { workPerStep?: number; bad?: boolean }) {
    const t = host(caller(Hc.MMUEXT_OP, OPS, 1, DONE), { tables: 1023, workPerStep: opts.workPerStep });
    const dir = t.a.p2m[DIR]!;
    // a bad last entry: a frame of B, which A cannot make its table
    if (opts.bad) t.hv.mem.i32[(dir << 10) + 1022] = (t.b.p2m[0x105]! * PAGE) | P;
    w32(t.a, OPS + MmuextOp.CMD, MmuextCmd.PIN_L2_TABLE);
    w32(t.a, OPS + MmuextOp.ARG, dir);
    w32(t.a, DONE, -1);
    const bFrames = Array.from(t.b.p2m, (f) => t.mode.host.types.describe(f));
    finish(t);
    const pv = t.mode.pv(t.a).stats;
    return {
      seen: { status: t.a.stopStatus, done: r32(t.a, DONE), console: t.a.consoleOutput(), frames: Array.from(t.a.p2m, (f) => t.mode.host.types.describe(f)) },
      bFramesKept: JSON.stringify(bFrames) === JSON.stringify(Array.from(t.b.p2m, (f) => t.mode.host.types.describe(f))),
      steps: t.a.stats.hypercalls[Hc.MMUEXT_OP],
      continuations: pv.continuations,
      maxStepWork: pv.maxStepWork,
      cycles: t.a.stats.hypercallCycles[Hc.MMUEXT_OP]!,
      t,
    };
  }

  it('a big directory pin takes several steps and ends in the same state as the unsplit pin', () => {
    const split = pinOnly({});
    const whole = pinOnly({ workPerStep: Infinity });
    expect([whole.steps, whole.continuations, whole.maxStepWork]).toEqual([1, 0, dirWork(1023)]);
    // 15 steps of 64 tables, the last of 63 tables and the slot
    expect([split.steps, split.continuations, split.maxStepWork]).toEqual([16, 15, 64 * ENTRY]);
    expect(split.seen).toEqual(whole.seen);
    expect(split.seen.status).toBe(0);
    const dir = split.t.a.p2m[DIR]!;
    expect(split.seen.frames[DIR]).toEqual({ owner: split.t.a.id, type: 'L2', typeCount: 1, refCount: 1, pinned: true });
    expect(split.seen.frames[DIR + 1023]).toEqual({ owner: split.t.a.id, type: 'L1', typeCount: 1, refCount: 2, pinned: false });
    expect(split.t.hv.mem.i32[(dir << 10) + 1023]).toBe(split.t.mode.host.hypervisorPde(split.t.a.id));
    // each further step is one more entry, dispatch, exit and request
    const p = split.t.hv.profile;
    const costs = split.t.mode.host.costs;
    expect(split.cycles - whole.cycles).toBe(15 * (p.hypercallEntry + p.hypercallExit + costs.dispatch + costs.perRequest));
    checkTypes(split.t.hv, split.t.mode);
  });

  it('a bad last entry: the validation and then its undoing go in steps, and the pin fails as the unsplit one does', () => {
    const split = pinOnly({ bad: true });
    const whole = pinOnly({ bad: true, workPerStep: Infinity });
    expect([whole.steps, whole.continuations]).toEqual([1, 0]);
    // 1,022 tables validated (16 steps: 15 of 64 and 62 tables), entry 1,022 refused; the 1,022
    // tables given back last first in the same step (two, reaching the bound) and 16 more steps
    expect(split.maxStepWork).toBeLessThanOrEqual(STEP_MAX);
    expect([split.steps, split.continuations]).toEqual([32, 31]);
    expect(split.seen).toEqual(whole.seen);
    expect([split.seen.status, split.seen.done]).toEqual([HcErr.EPERM, 0]);
    expect(split.seen.frames[DIR]).toEqual({ owner: split.t.a.id, type: 'none', typeCount: 0, refCount: 1, pinned: false });
    expect(split.seen.frames[DIR + 1]).toEqual({ owner: split.t.a.id, type: 'none', typeCount: 0, refCount: 1, pinned: false });
    expect(split.bFramesKept).toBe(true);
    checkTypes(split.t.hv, split.t.mode);
  });

  it('a multicall of pins and unpins of a big directory checks at most one directory per entry', () => {
    const t = host(caller(Hc.MULTICALL, CALLS, ENTRIES));
    writeMulticall(t);
    finish(t);
    const pv = t.mode.pv(t.a).stats;
    // each pin: three steps of 64 tables and one of 63 tables and the 769 empty entries (65,344),
    // the unpin starting in that step and stopping after one table; its release: three steps
    // of 64 tables, and the last 62 with the empty entries ends in the next pin's first step
    expect(dirWork(TABLES)).toBeGreaterThan(WORK_PER_STEP);
    expect(pv.maxStepWork).toBe(63 * ENTRY + 769 + ENTRY);
    expect(pv.maxStepWork).toBeLessThanOrEqual(STEP_MAX);
    expect(pv.continuations).toBe(HC_STEPS - 1);
    expect(t.a.stats.hypercalls[Hc.MULTICALL]).toBe(HC_STEPS);
    expect(outcome(t)).toMatchObject({ status: 0, results: new Array(ENTRIES).fill(0), done: new Array(ENTRIES).fill(2), console: 'go\ndone\n' });
  });

  it('ends as the unpreempted multicall ends, for the cost of the extra entries', () => {
    const pre = host(caller(Hc.MULTICALL, CALLS, ENTRIES));
    writeMulticall(pre);
    finish(pre);
    const whole = host(caller(Hc.MULTICALL, CALLS, ENTRIES), { workPerStep: Infinity });
    writeMulticall(whole);
    finish(whole);
    expect(whole.mode.pv(whole.a).stats.maxStepWork).toBe(2 * ENTRIES * dirWork(TABLES));
    expect(whole.mode.pv(whole.a).stats.continuations).toBe(0);
    expect(outcome(pre)).toEqual(outcome(whole));
    expect(outcome(pre).frames[DIR]).toEqual({ owner: pre.a.id, type: 'none', typeCount: 0, refCount: 1, pinned: false });
    // each continuation is one more entry, dispatch and exit, and one more request's cost (the
    // re-entered mmuext_op's, or the multicall's for the entry it resumes at)
    const p = pre.hv.profile;
    const costs = pre.mode.host.costs;
    expect(pre.mode.pv(pre.a).stats.continuations).toBe(HC_STEPS - 1);
    const extra = (HC_STEPS - 1) * (p.hypercallEntry + p.hypercallExit + costs.dispatch + costs.perRequest);
    expect(pre.a.stats.hypercallCycles[Hc.MULTICALL]! - whole.a.stats.hypercallCycles[Hc.MULTICALL]!).toBe(extra);
  });

  it('lets the other domain run between the steps', () => {
    const pre = host(caller(Hc.MULTICALL, CALLS, ENTRIES));
    writeMulticall(pre);
    finish(pre);
    expect(pre.bRanMidway).toBeGreaterThan(0);
    // unpreempted, B waits for the whole multicall
    const whole = host(caller(Hc.MULTICALL, CALLS, ENTRIES), { workPerStep: Infinity });
    writeMulticall(whole);
    finish(whole);
    expect(whole.bRanMidway).toBe(0);
  });

  /**
   * A runs mmuext_op(OPS, 3, DONE) of [PIN dir, UNPIN dir, PIN dir]; stop it after its first
   * step, which validated the first 64 of the directory's 255 tables.
   */
  function firstStep() {
    const t = host(caller(Hc.MMUEXT_OP, OPS, 3, DONE));
    const dir = t.a.p2m[DIR]!;
    [MmuextCmd.PIN_L2_TABLE, MmuextCmd.UNPIN_TABLE, MmuextCmd.PIN_L2_TABLE].forEach((cmd, k) => {
      w32(t.a, OPS + k * MmuextOp.BYTES + MmuextOp.CMD, cmd);
      w32(t.a, OPS + k * MmuextOp.BYTES + MmuextOp.ARG, dir);
    });
    while (t.a.stats.hypercalls[Hc.MMUEXT_OP] === 0) t.hv.run({ maxCycles: 100_000 });
    const v = t.a.vcpus[0]!;
    const regs = v.loaded ? t.hv.cpu.regs : v.arch.regs;
    // between the steps: r1..r3 say the pin is still to be done, *DONE that nothing is
    expect([regs[0], regs[1], regs[2], regs[3]]).toEqual([Hc.MMUEXT_OP, OPS, 3 | Batch.CONTINUED, DONE]);
    expect(r32(t.a, DONE)).toBe(0);
    expect(t.mode.host.types.describe(dir)).toEqual({ owner: t.a.id, type: 'L2 (validating 64/1024)', typeCount: 1, refCount: 1, pinned: false });
    expect(t.mode.host.types.describe(t.a.p2m[DIR + 64]!)).toMatchObject({ type: 'L1', typeCount: 1 });
    expect(t.mode.host.types.describe(t.a.p2m[DIR + 65]!)).toMatchObject({ type: 'none', typeCount: 0 });
    return { t, regs, dir };
  }

  it('re-reads the requests at each step: one the guest rewrote meanwhile is validated as any other', () => {
    const { t, dir } = firstStep();
    // the guest turns the pending pin into a pin of B's frame as a table
    const victim = t.b.p2m[0x105]!;
    const before = t.mode.host.types.describe(victim);
    w32(t.a, OPS + MmuextOp.CMD, MmuextCmd.PIN_L1_TABLE);
    w32(t.a, OPS + MmuextOp.ARG, victim);
    finish(t);
    expect(t.a.stopStatus).toBe(HcErr.EPERM);
    expect(r32(t.a, DONE)).toBe(0);
    expect(t.mode.host.types.describe(victim)).toEqual(before);
    // the half-validated directory stays so: A's own loss
    expect(t.mode.host.types.describe(dir).type).toBe('L2 (validating 64/1024)');
    checkTypes(t.hv, t.mode);
  });

  it('between the steps the half-validated directory can be used for nothing else, and destroying its domain gives everything back', () => {
    const { t, dir } = firstStep();
    const a = t.a;
    const types = t.mode.host.types;
    const table = a.p2m[DIR + 1]!;
    const l1 = a.p2m[DIR + 200]!;
    const req = (k: number, ptr: number, val: number): void => {
      w32(a, CALLS + 8 * k, ptr);
      w32(a, CALLS + 8 * k + 4, val);
    };
    // mmu_update of a validated entry, of one not reached yet, and a writable mapping of the directory
    req(0, dir * PAGE, (table * PAGE) | P);
    req(1, dir * PAGE + 300 * 4, (l1 * PAGE) | P);
    req(2, bootstrapPte(t.mode, a, DIR * PAGE), (dir * PAGE) | P | 2);
    const saw = [0, 1, 2].map((k) => hc(t.hv, t.mode, a, Hc.MMU_UPDATE, CALLS + 8 * k, 1, 0));
    const op = (cmd: number): number => {
      w32(a, CALLS + MmuextOp.CMD, cmd);
      w32(a, CALLS + MmuextOp.ARG, dir);
      return hc(t.hv, t.mode, a, Hc.MMUEXT_OP, CALLS, 1, 0);
    };
    saw.push(op(MmuextCmd.PIN_L1_TABLE), op(MmuextCmd.UNPIN_TABLE), op(MmuextCmd.NEW_BASEPTR));
    expect(saw).toEqual([HcErr.EBUSY, HcErr.EBUSY, HcErr.EBUSY, HcErr.EBUSY, HcErr.EINVAL, HcErr.EINVAL]);
    expect(types.describe(dir).type).toBe('L2 (validating 64/1024)');
    checkTypes(t.hv, t.mode);
    // A goes: the 64 tables' references come back with the directory's
    const frames = Array.from(a.p2m);
    t.hv.destroyDomain(a);
    for (const f of [dir, table, a.p2m[DIR + 64]!]) expect(types.describe(f)).toMatchObject({ type: 'none', typeCount: 0, refCount: 0, pinned: false });
    expect(frames.filter((f) => types.typeCount[f] !== 0 || types.refCount[f] !== 0 || types.partial[f] !== 0)).toEqual([]);
    checkTypes(t.hv, t.mode);
  });

  /** A pinned the directory (a tool's call) and now runs mmuext_op(OPS, 1, DONE) of [UNPIN dir]; stop it after its first step. */
  function unpinFirstStep() {
    const t = host(caller(Hc.MMUEXT_OP, OPS, 1, DONE));
    const a = t.a;
    const dir = a.p2m[DIR]!;
    w32(a, CALLS + MmuextOp.CMD, MmuextCmd.PIN_L2_TABLE);
    w32(a, CALLS + MmuextOp.ARG, dir);
    expect(hc(t.hv, t.mode, a, Hc.MMUEXT_OP, CALLS, 1, 0)).toBe(0);
    w32(a, OPS + MmuextOp.CMD, MmuextCmd.UNPIN_TABLE);
    w32(a, OPS + MmuextOp.ARG, dir);
    w32(a, DONE, -1);
    while (a.stats.hypercalls[Hc.MMUEXT_OP] === 1) t.hv.run({ maxCycles: 1_000 });
    const v = a.vcpus[0]!;
    const regs = v.loaded ? t.hv.cpu.regs : v.arch.regs;
    // the unpin is done for the guest (*DONE 1), and one more entry with no request left ends its release
    expect([regs[0], regs[1], regs[2], regs[3]]).toEqual([Hc.MMUEXT_OP, OPS + MmuextOp.BYTES, Batch.CONTINUED, DONE]);
    expect(r32(a, DONE)).toBe(1);
    expect(t.mode.host.types.describe(dir)).toEqual({ owner: a.id, type: 'L2 (releasing 64/1024)', typeCount: 1, refCount: 1, pinned: false });
    expect(t.mode.pv(a).vcpus[0]!.pendingRelease).toBe(dir);
    // released tables have no type left, the others still theirs
    expect(t.mode.host.types.describe(a.p2m[DIR + 64]!)).toMatchObject({ type: 'none', typeCount: 0 });
    expect(t.mode.host.types.describe(a.p2m[DIR + 65]!)).toMatchObject({ type: 'L1', typeCount: 1 });
    return { t, dir };
  }

  it('an unpin releases a big directory in steps and the call returns only when the release is done', () => {
    const { t, dir } = unpinFirstStep();
    const types = t.mode.host.types;
    // a directory on its way to no type takes no type meanwhile (what another vCPU's pin would see)
    expect(types.getType(dir, PageType.L2, t.a.id)).toBe(HcErr.EBUSY);
    expect(types.getType(dir, PageType.L1, t.a.id)).toBe(HcErr.EBUSY);
    checkTypes(t.hv, t.mode);
    finish(t);
    expect([t.a.stopStatus, r32(t.a, DONE), t.a.consoleOutput()]).toEqual([0, 1, 'go\ndone\n']);
    expect(t.mode.pv(t.a).vcpus[0]!.pendingRelease).toBe(-1);
    // the tool's pin (4 steps, one entry) and the unpin: 4 steps of release, and no more
    expect([t.mode.pv(t.a).stats.continuations, t.a.stats.hypercalls[Hc.MMUEXT_OP]]).toEqual([3 + 3, 1 + 4]);
    for (let k = 0; k <= TABLES; k++) expect(types.describe(t.a.p2m[DIR + k]!)).toEqual({ owner: t.a.id, type: 'none', typeCount: 0, refCount: 1, pinned: false });
    checkTypes(t.hv, t.mode);
  });

  it('a pin and an unpin are each charged one table scan per table, split into steps or not', () => {
    // the directory and its 63 tables validated, then released: 2 x 64 scans (Ev.PvTableScan),
    // in steps of about 10 tables or in one
    const tables = 63;
    for (const workPerStep of [10_000, Infinity]) {
      const t = host(caller(Hc.MMUEXT_OP, OPS, 2, DONE), { workPerStep, tables });
      const dir = t.a.p2m[DIR]!;
      w32(t.a, OPS + MmuextOp.CMD, MmuextCmd.PIN_L2_TABLE);
      w32(t.a, OPS + MmuextOp.ARG, dir);
      w32(t.a, OPS + MmuextOp.BYTES + MmuextOp.CMD, MmuextCmd.UNPIN_TABLE);
      w32(t.a, OPS + MmuextOp.BYTES + MmuextOp.ARG, dir);
      const scans0 = t.hv.cpu.evCount[Ev.PvTableScan]!;
      const types = t.mode.host.types;
      const [v0, r0] = [types.validations, types.releases];
      finish(t);
      expect([t.a.stopStatus, r32(t.a, DONE)]).toEqual([0, 2]);
      expect([types.validations - v0, types.releases - r0]).toEqual([tables + 1, tables + 1]);
      expect(t.mode.pv(t.a).stats.continuations > 0).toBe(workPerStep === 10_000);
      expect(t.hv.cpu.evCount[Ev.PvTableScan]! - scans0, `work per step ${workPerStep}`).toBe(2 * (tables + 1));
    }
  });

  it('a domain destroyed with a release unfinished gives everything back', () => {
    const { t, dir } = unpinFirstStep();
    const types = t.mode.host.types;
    const frames = Array.from(t.a.p2m);
    t.hv.destroyDomain(t.a);
    expect(types.describe(dir)).toMatchObject({ type: 'none', typeCount: 0, refCount: 0 });
    expect(frames.filter((f) => types.typeCount[f] !== 0 || types.refCount[f] !== 0 || types.partial[f] !== 0)).toEqual([]);
    checkTypes(t.hv, t.mode);
  });

  it('re-validates the arguments at each step: a count or pointer the guest changed meanwhile is refused', () => {
    const tooMany = firstStep();
    tooMany.regs[2] = 0x7fffffff; // CONTINUED and a count past MAX_BATCH
    finish(tooMany.t);
    expect(tooMany.t.a.stopStatus).toBe(HcErr.E2BIG);
    const hvPtr = firstStep();
    hvPtr.regs[1] = 0xfc000000 | 0; // the hypervisor's range
    finish(hvPtr.t);
    expect(hvPtr.t.a.stopStatus).toBe(HcErr.EFAULT);
    expect(hvPtr.t.mode.host.types.describe(hvPtr.dir)).toMatchObject({ type: 'L2 (validating 64/1024)', pinned: false });
  });
});

describe('mmu_update batches are preemptible', () => {
  it('255 directory entries, each validating a new table, go in steps of 64 requests', () => {
    const t = host(caller(Hc.MMU_UPDATE, REQS, TABLES, DONE), { tables: 0 });
    const a = t.a;
    const dir = a.p2m[DIR]!;
    // an empty directory, pinned; then requests that hook a full table into each of its first 255 entries
    w32(a, OPS + MmuextOp.CMD, MmuextCmd.PIN_L2_TABLE);
    w32(a, OPS + MmuextOp.ARG, dir);
    expect(hc(t.hv, t.mode, a, Hc.MMUEXT_OP, OPS, 1, 0)).toBe(0);
    const i32 = t.hv.mem.i32;
    for (let k = 1; k <= TABLES; k++) {
      const l1 = a.p2m[DIR + k]!;
      i32.fill((a.p2m[DATA]! * PAGE) | P, l1 << 10, (l1 + 1) << 10);
      w32(a, REQS + (k - 1) * 8, dir * PAGE + (k - 1) * 4);
      w32(a, REQS + (k - 1) * 8 + 4, (l1 * PAGE) | P);
    }
    finish(t);
    const pv = t.mode.pv(a).stats;
    expect([a.stopStatus, r32(a, DONE)]).toEqual([0, TABLES]);
    expect(WORK_PER_STEP / 1024).toBe(64);
    // (and the 1,024 requests of the set-up)
    expect([pv.maxStepWork, pv.continuations, pv.mmuRequests]).toEqual([WORK_PER_STEP, 3, 1024 + TABLES]);
    expect(t.mode.host.types.describe(a.p2m[DIR + TABLES]!)).toMatchObject({ type: 'L1', typeCount: 1 });
  });
});

describe('mmuext_op batches are preemptible after their first request', () => {
  it('70 table pins go in steps of 64 requests, the next step at the 65th request', () => {
    const t = host(caller(Hc.SCHED_OP, 0, 0), { tables: 1023 });
    for (let k = 0; k < 70; k++) {
      w32(t.a, OPS + k * MmuextOp.BYTES + MmuextOp.CMD, MmuextCmd.PIN_L1_TABLE);
      w32(t.a, OPS + k * MmuextOp.BYTES + MmuextOp.ARG, t.a.p2m[DIR + 1 + k]!);
    }
    expect(hc(t.hv, t.mode, t.a, Hc.MMUEXT_OP, OPS, 70, DONE)).toBe(0);
    const pv = t.mode.pv(t.a).stats;
    // each pin validates a table of 1,024 entries: 64 of them reach the step's bound
    expect([r32(t.a, DONE), pv.continuations, pv.pins]).toEqual([70, 1, 70]);
    expect(t.mode.host.types.describe(t.a.p2m[DIR + 70]!)).toMatchObject({ type: 'L1', pinned: true });
    checkTypes(t.hv, t.mode);
  });

  it('a directory pin preempted as the second request resumes that request alone', () => {
    const t = host(caller(Hc.SCHED_OP, 0, 0), { tables: 1023 });
    const dir = t.a.p2m[DIR]!;
    [[MmuextCmd.TLB_FLUSH_LOCAL, 0], [MmuextCmd.PIN_L2_TABLE, dir]].forEach(([cmd, arg], k) => {
      w32(t.a, OPS + k * MmuextOp.BYTES + MmuextOp.CMD, cmd!);
      w32(t.a, OPS + k * MmuextOp.BYTES + MmuextOp.ARG, arg!);
    });
    // what follows the batch in memory: a request that would fail, were it read
    w32(t.a, OPS + 2 * MmuextOp.BYTES + MmuextOp.CMD, MmuextCmd.PIN_L1_TABLE);
    w32(t.a, OPS + 2 * MmuextOp.BYTES + MmuextOp.ARG, 0);
    expect(hc(t.hv, t.mode, t.a, Hc.MMUEXT_OP, OPS, 2, DONE)).toBe(0);
    const pv = t.mode.pv(t.a).stats;
    expect([r32(t.a, DONE), pv.continuations]).toEqual([2, 15]);
    expect(t.mode.host.types.describe(dir)).toMatchObject({ type: 'L2', typeCount: 1, pinned: true });
    checkTypes(t.hv, t.mode);
  });
});

describe('continuations of calls made by tools', () => {
  it('PvMode.hypercall takes the continuations at once and returns the whole call\'s result', () => {
    const t = host(caller(Hc.SCHED_OP, 0, 0), { tables: 1023 });
    const dir = t.a.p2m[DIR]!;
    [MmuextCmd.PIN_L2_TABLE, MmuextCmd.UNPIN_TABLE, MmuextCmd.PIN_L2_TABLE].forEach((cmd, k) => {
      w32(t.a, OPS + k * MmuextOp.BYTES + MmuextOp.CMD, cmd);
      w32(t.a, OPS + k * MmuextOp.BYTES + MmuextOp.ARG, dir);
    });
    expect(hc(t.hv, t.mode, t.a, Hc.MMUEXT_OP, OPS, 3, DONE)).toBe(0);
    const pv = t.mode.pv(t.a).stats;
    // three directory operations of 1,048,576 entries each, in 48 steps of about 65,600
    expect(3 * dirWork(1023) / (64 * ENTRY)).toBeCloseTo(47.95, 2);
    expect([r32(t.a, DONE), pv.continuations, t.a.stats.hypercalls[Hc.MMUEXT_OP]]).toEqual([3, 47, 1]);
    expect(pv.maxStepWork).toBeLessThanOrEqual(STEP_MAX);
    expect(t.mode.host.types.describe(dir)).toMatchObject({ type: 'L2', typeCount: 1, pinned: true });
  });
});
