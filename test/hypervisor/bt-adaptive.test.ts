// bt's adaptive retranslation (`--bt-adaptive`, with `--shadow traced`): a kernel store that keeps
// taking trace faults is retranslated, after ADAPTIVE_TRACE_FAULTS of them, as a store callout that
// makes its write against the traced shadow without faulting. The guest stores into its (traced)
// page table from one instruction, reloads CR3 and reads through the table (which traces it again)
// ten times: each store is a trace fault without the option. Checked against native and against
// the run without the option: the same console and the same final memory.
import { describe, expect, it } from 'vitest';
import { BtMode, btCache, btStatsSummary, formatBtStats, runBtMode } from '../../hypervisor/bt/index.ts';
import { ADAPTIVE_TRACE_FAULTS } from '../../hypervisor/bt/cache.ts';
import { loadSaveFile, restoreRun, saveRun } from '../../hypervisor/save/state.ts';
import { ROUNDS, STORE_LOOP } from './fixtures/traced-guests.ts';
import { GUEST_MEMORY, guestImage, runNative } from './trap-harness.ts';

function run(adaptive: boolean) {
  const r = runBtMode(guestImage(STORE_LOOP), { memoryBytes: GUEST_MEMORY, maxCycles: 50_000_000, bt: { shadow: 'traced', adaptive } });
  return { r, memory: r.domain.memory.readBytes(0, GUEST_MEMORY)! };
}

describe('bt adaptive retranslation (--bt-adaptive)', () => {
  it(`a store that keeps faulting on a traced page table takes exactly ${ADAPTIVE_TRACE_FAULTS} trace faults, then runs as a store callout; the console and memory are native's`, () => {
    const native = runNative(guestImage(STORE_LOOP));
    const off = run(false);
    const on = run(true);
    expect(native.output).toBe(`${'bbbbbbbb aaaaaaaa '.repeat(ROUNDS / 2)}\n`);
    expect(off.r.output).toBe(native.output);
    expect(on.r.output).toBe(native.output);
    expect(Buffer.from(on.memory).equals(Buffer.from(off.memory))).toBe(true);
    expect(Buffer.from(on.memory).equals(Buffer.from(native.machine.mem.u8.subarray(0, GUEST_MEMORY)))).toBe(true);

    expect(off.r.domain.stats.traceFaults).toBe(ROUNDS);
    expect(on.r.domain.stats.traceFaults).toBe(ADAPTIVE_TRACE_FAULTS);
    const s = btCache(on.r.domain).stats;
    expect(s.retranslations).toBe(1);
    // the store retried after the last trace fault runs retranslated (the fault made its entry
    // writable: nothing to resolve), then every later round's store, each a write to the traced table
    expect(s.emulatedStores).toBe(ROUNDS - ADAPTIVE_TRACE_FAULTS + 1);
    expect(s.emulatedTraceStores).toBe(ROUNDS - ADAPTIVE_TRACE_FAULTS);
    expect(btStatsSummary(on.r.domain).adaptive).toEqual({ retranslations: 1, emulatedStores: 7, emulatedTraceStores: 6 });
    expect(btStatsSummary(off.r.domain).adaptive).toBeUndefined();
    expect(formatBtStats(on.r.domain)).toContain('adaptive retranslation: 1 stores retranslated as callouts; 7 stores emulated (6 into traced page tables: trace faults avoided)');
    // charged as callouts (7 more than without the option), and each of the six rounds saves two
    // #PF traps: the CR3 load dropped the slot the store's page is in (derived from the table it
    // writes), so without the option the store first takes a hidden fault (filled read-only: the
    // target is traced), then the trace fault
    expect(s.calloutCycles - btCache(off.r.domain).stats.calloutCycles).toBe(7 * on.r.hypervisor.profile.btCallout);
    expect(on.r.domain.stats.traps[14]! - off.r.domain.stats.traps[14]!).toBe(-2 * (ROUNDS - ADAPTIVE_TRACE_FAULTS));
    expect(on.r.domain.stats.hiddenFaults - off.r.domain.stats.hiddenFaults).toBe(-2 * (ROUNDS - ADAPTIVE_TRACE_FAULTS));
  });

  it('needs the traced shadow', () => {
    expect(() => new BtMode({ adaptive: true })).toThrow('bt adaptive retranslation needs the traced shadow');
  });
});

describe('--bt-adaptive saved and restored', () => {
  /** the store loop, booted under bt --shadow traced --bt-adaptive, not run yet */
  const image = guestImage(STORE_LOOP);
  const boot = () => runBtMode(image, { memoryBytes: GUEST_MEMORY, maxCycles: 0, bt: { shadow: 'traced', adaptive: true } });
  const end = (r: ReturnType<typeof boot>) => {
    r.hypervisor.run({ maxCycles: 50_000_000 });
    const s = btCache(r.domain).stats;
    return { cycles: r.hypervisor.cpu.cycles, instructions: r.hypervisor.cpu.instructions, output: r.domain.consoleOutput(), traceFaults: r.domain.stats.traceFaults, retranslations: s.retranslations, emulatedStores: s.emulatedStores };
  };

  it('a run saved before and after the retranslation ends as the uninterrupted one: what it learnt (trace faults counted per store, the store callouts) is in the save', () => {
    const u = end(boot());
    expect([u.traceFaults, u.retranslations, u.emulatedStores]).toEqual([ADAPTIVE_TRACE_FAULTS, 1, ROUNDS - ADAPTIVE_TRACE_FAULTS + 1]);
    const a = boot();
    const cache = btCache(a.domain);
    const saves: { faults: number; retranslated: number; bytes: Uint8Array }[] = [];
    // run until the store has taken 2 trace faults (counted, not yet retranslated), then until it is retranslated
    for (const until of [() => a.domain.stats.traceFaults === 2, () => cache.stats.retranslations === 1]) {
      while (!until()) a.hypervisor.run({ maxCycles: 200 });
      saves.push({ faults: a.domain.stats.traceFaults, retranslated: cache.stats.retranslations, bytes: saveRun('bt', a.hypervisor, { setup: {}, cycles: a.hypervisor.cpu.cycles, counters: {}, vcpus: [] }) });
    }
    expect(saves.map((s) => [s.faults, s.retranslated])).toEqual([[2, 0], [ADAPTIVE_TRACE_FAULTS, 1]]);
    expect(end(a)).toEqual(u);
    for (const s of saves) {
      const b = boot();
      restoreRun(loadSaveFile(s.bytes), b.hypervisor);
      expect(end(b)).toEqual(u);
    }
  });
});
