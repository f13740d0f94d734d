// Issue 9 item 4: one hypercall could hold the host for minutes (a multicall of pins and unpins
// of big page directories ran 208 s in one HYPERCALL while no other domain ran). Now a batch
// stops after its step's share of host work (context.ts WORK_PER_STEP, in page-table entries
// checked) and the guest re-executes its HYPERCALL with the progress in its arguments (Xen's
// hypercall_create_continuation), re-read and re-validated at every step. The unit measured is
// PvStats.maxStepWork: the most page-table entries one hypercall entry checked.
import { describe, expect, it } from 'vitest';
import { HcErr } from '../../hypercalls/errors.ts';
import { Batch, Hc, MmuextCmd } from '../../hypercalls/numbers.ts';
import { MmuextOp, MulticallEntry } from '../../hypercalls/structs.ts';
import type { Domain } from '../../hypervisor/core/domain.ts';
import { WORK_PER_STEP } from '../../hypervisor/pv/context.ts';
import { PvMode } from '../../hypervisor/pv/mode.ts';
import { Hypervisor as Hv, type Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { asmGuest, bootstrapPte, hc, pvDomain, r32, w32, PAGE } from './pv-helpers.ts';

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

describe('long hypercalls are preemptible', () => {
  it('the biggest directory (1,023 tables of 1,024 entries): one entry pins or unpins it and no more', () => {
    const t = host(caller(Hc.MMUEXT_OP, OPS, 2, DONE), { tables: 1023 });
    const dir = t.a.p2m[DIR]!;
    [MmuextCmd.PIN_L2_TABLE, MmuextCmd.UNPIN_TABLE].forEach((cmd, k) => {
      w32(t.a, OPS + k * MmuextOp.BYTES + MmuextOp.CMD, cmd);
      w32(t.a, OPS + k * MmuextOp.BYTES + MmuextOp.ARG, dir);
    });
    finish(t);
    const pv = t.mode.pv(t.a).stats;
    expect(pv.maxStepWork).toBe(dirWork(1023));
    expect(pv.continuations).toBe(1);
    expect([t.a.stopStatus, r32(t.a, DONE), t.a.consoleOutput()]).toEqual([0, 2, 'go\ndone\n']);
  });

  it('a multicall of pins and unpins of a big directory checks at most one directory per entry', () => {
    const t = host(caller(Hc.MULTICALL, CALLS, ENTRIES));
    writeMulticall(t);
    finish(t);
    const pv = t.mode.pv(t.a).stats;
    // every step does one PIN or UNPIN (each past the bound on its own): 2 * ENTRIES entries
    expect(dirWork(TABLES)).toBeGreaterThan(WORK_PER_STEP);
    expect(pv.maxStepWork).toBe(dirWork(TABLES));
    expect(pv.continuations).toBe(2 * ENTRIES - 1);
    expect(t.a.stats.hypercalls[Hc.MULTICALL]).toBe(2 * ENTRIES);
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
    // each continuation is one more entry, dispatch and exit; each mmuext_op entry one more request
    const p = pre.hv.profile;
    const extra = (2 * ENTRIES - 1) * (p.hypercallEntry + p.hypercallExit + pre.mode.host.costs.dispatch) + ENTRIES * pre.mode.host.costs.perRequest;
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

  /** A runs mmuext_op(OPS, 3, DONE) of [PIN dir, UNPIN dir, PIN dir]; stop it after its first step. */
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
    // between the steps: r1..r3 record the progress, *DONE the requests done
    expect([regs[0], regs[1], regs[2], regs[3]]).toEqual([Hc.MMUEXT_OP, OPS + MmuextOp.BYTES, 2 | Batch.CONTINUED, DONE]);
    expect(r32(t.a, DONE)).toBe(1);
    expect(t.mode.host.types.describe(dir)).toMatchObject({ type: 'L2', pinned: true });
    return { t, regs, dir };
  }

  it('re-reads the requests at each step: one the guest rewrote meanwhile is validated as any other', () => {
    const { t } = firstStep();
    // the guest turns the pending UNPIN into a pin of B's frame as a table
    const victim = t.b.p2m[0x105]!;
    const before = t.mode.host.types.describe(victim);
    w32(t.a, OPS + MmuextOp.BYTES + MmuextOp.CMD, MmuextCmd.PIN_L1_TABLE);
    w32(t.a, OPS + MmuextOp.BYTES + MmuextOp.ARG, victim);
    finish(t);
    expect(t.a.stopStatus).toBe(HcErr.EPERM);
    expect(r32(t.a, DONE)).toBe(1);
    expect(t.mode.host.types.describe(victim)).toEqual(before);
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
    expect(hvPtr.t.mode.host.types.describe(hvPtr.dir)).toMatchObject({ type: 'L2', pinned: true });
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
    expect([r32(t.a, DONE), pv.continuations, t.a.stats.hypercalls[Hc.MMUEXT_OP]]).toEqual([3, 2, 1]);
    expect(t.mode.host.types.describe(dir)).toMatchObject({ type: 'L2', typeCount: 1, pinned: true });
  });
});
