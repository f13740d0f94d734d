// The standard pv guest as one domain of a shared machine (the daemon's shape: a BVT scheduler,
// no emulated devices), and the save/restore oracle over pv-domain saves. Test helper.
import { expect } from 'vitest';
import fc from 'fast-check';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { BvtScheduler } from '../../hypervisor/pv/bvt.ts';
import { PvMode } from '../../hypervisor/pv/mode.ts';
import type { Domain } from '../../hypervisor/core/domain.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';
import { CONSOLE_EOF } from '../../cli/image-files.ts';
import { Ev } from '../../machine/ledger.ts';
import { loadPvDomainFile, pvQuietPoint, restorePvDomain, savePvDomain } from '../../hypervisor/save/pv-domain.ts';

const build = buildGuestKernel({ arch: 'pv' });
export const spec = { kernel: build.kernel, initrd: build.initrd };
export const INPUT = `echo saved\n${CONSOLE_EOF}`;
/** the machines' slice (cycles), as the daemon's steps */
export const SLICE = 20_000;

export interface PvMachine {
  hv: Hypervisor;
  mode: PvMode;
}

/** A shared pv machine; with `other`, a 2 MiB domain is built (and paused) first, so the next one gets other frames. */
export function machine(other: boolean): PvMachine {
  const hv = new Hypervisor({ memoryBytes: 32 << 20, scheduler: new BvtScheduler(), engine: 'translator' });
  const mode = new PvMode();
  if (other) {
    const o = hv.createDomain(mode, { name: 'other', memoryBytes: 2 << 20, devices: false }, spec);
    hv.pauseDomain(o);
  }
  return { hv, mode };
}

/** The standard guest as domain 'g' (4 MiB) with `input` typed, built and not run. */
export function guest(m: PvMachine, input = INPUT): { dom: Domain; out: number[] } {
  const out: number[] = [];
  const dom = m.hv.createDomain(m.mode, { name: 'g', memoryBytes: 4 << 20, devices: false, input, onOutput: (b) => out.push(b) }, spec);
  return { dom, out };
}

/** Run in slices until the domain stops; its counters. */
export function runSliced(m: PvMachine, dom: Domain): { cycles: number; instructions: number; reason: string | null } {
  for (let k = 0; k < 100_000 && !dom.stopped; k++) m.hv.run({ maxCycles: SLICE });
  return { cycles: dom.stats.runCycles, instructions: dom.stats.instructions, reason: dom.stopReason };
}

/** A run that computes in user mode (quiet slice boundaries) between its kernel work. */
export const SPIN_INPUT = `spin 1\necho saved\n${CONSOLE_EOF}`;

/** The machine's ledger from here on: what the domain's run to its end costs by kind (only it runs). */
function ledger(m: PvMachine): () => { base: number; ev: number[] } {
  const cpu = m.hv.cpu;
  const b0 = cpu.baseCycles;
  const e0 = Array.from(cpu.evCount);
  return () => ({ base: cpu.baseCycles - b0, ev: Array.from(cpu.evCount, (x, k) => x - e0[k]!) });
}

/**
 * The property: one run, saved at the first quiet slice boundary at or after each of `points`
 * slices drawn by fast-check (saving does not change the run it saves, so it goes on to be the
 * uninterrupted run), and each save restored twice: on a machine laid out as the first (the same
 * frames) - console output, cycles and instructions exactly the uninterrupted run's - and on one
 * where another domain took memory first (other frames) - console output and instructions
 * exactly, and cycles differing by exactly the TLB-miss walks the guest's own m2p reads make
 * (it reads the m2p entry of a machine frame, and other frames lie in other pages of the table:
 * a pv guest's timing names machine frames too, as its state does). Every other cost is equal.
 */
export function checkPvSavePoints(points: number, seed: number, input = SPIN_INPUT, maxSlice = 1000): void {
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 0, max: maxSlice }), { minLength: points, maxLength: points }), (ats) => {
      ats.sort((x, y) => x - y);
      const a = machine(false);
      const g = guest(a, input);
      const step = (): void => void a.hv.run({ maxCycles: SLICE });
      let slice = 0;
      const files: { slice: number; bytes: Uint8Array; out: number; cost: () => { base: number; ev: number[] } }[] = [];
      for (const at of ats) {
        for (; slice < at && !g.dom.stopped; slice++) step();
        let k = 0;
        for (; k < 2000 && !g.dom.stopped && pvQuietPoint(a.hv, a.mode.pv(g.dom)) !== null; k++) step();
        slice += k;
        if (g.dom.stopped) break;
        files.push({ slice, bytes: savePvDomain(a.hv, a.mode, g.dom, {}), out: g.out.length, cost: ledger(a) });
      }
      const u = runSliced(a, g.dom);
      const output = Buffer.from(g.out).toString('latin1');
      expect(u.reason).toBe('poweroff');
      expect(output).toContain('$ echo saved\nsaved\n');
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        const before = Buffer.from(g.out.slice(0, f.out)).toString('latin1');
        const want = f.cost();
        for (const other of [false, true]) {
          const b = machine(other);
          const t = guest(b, input);
          expect(t.dom.p2m[0] !== g.dom.p2m[0]).toBe(other);
          restorePvDomain(b.hv, b.mode, loadPvDomainFile(f.bytes), t.dom);
          const cost = ledger(b);
          const e = runSliced(b, t.dom);
          const got = cost();
          const out = before + Buffer.from(t.out).toString('latin1');
          expect({ slice: f.slice, other, output: out, instructions: e.instructions, base: got.base }).toEqual({ slice: f.slice, other, output, instructions: u.instructions, base: want.base });
          const walks = got.ev[Ev.TlbWalk]! - want.ev[Ev.TlbWalk]!;
          if (!other) expect(e.cycles).toBe(u.cycles);
          expect(e.cycles - u.cycles).toBe(walks * b.hv.cpu.evUnit[Ev.TlbWalk]!);
          for (let k = 0; k < got.ev.length; k++) if (k !== Ev.TlbWalk && k !== Ev.Idle) expect([k, got.ev[k]]).toEqual([k, want.ev[k]]);
        }
      }
    }),
    { numRuns: 1, seed },
  );
}
