// How a run is cut into slices (run()'s maxCycles: the CLI's interactive 10 ms slices, a replay's
// run to an input's cycle) does not change it: the same output, cycles, instructions, idle
// cycles and every kind of event in the cost ledger as in one go. Record/replay (docs/replay.md)
// rests on this. bt once charged a translation-cache lookup after every slice boundary.
import { describe, expect, it } from 'vitest';
import { standardGuest } from '../../cli/guest.ts';
import { runImageInMode, runPvMode } from '../../hypervisor/index.ts';
import type { GuestRunResult } from '../../hypervisor/run.ts';

const INPUT = 'echo sliced\n\x04';

function boot(mode: 'trap' | 'bt' | 'hvm' | 'pv'): GuestRunResult {
  const guest = standardGuest(mode === 'pv' ? 'pv' : 'native');
  const opts = { memoryBytes: 8 * 1024 * 1024, maxCycles: 0, input: INPUT, initrd: guest.initrd };
  return mode === 'pv' ? runPvMode(guest.kernel, opts) : runImageInMode(mode, guest.kernel, opts);
}

function run(mode: 'trap' | 'bt' | 'hvm' | 'pv', slice: number) {
  const { hypervisor: hv, domain: d } = boot(mode);
  let cycles = 0;
  let instructions = 0;
  let idle = 0;
  for (;;) {
    const r = hv.run({ maxCycles: slice });
    cycles += r.cycles;
    instructions += r.instructions;
    idle += r.idleCycles;
    if (r.reason !== 'limit') break;
  }
  return { output: d.consoleOutput(), cycles, instructions, idle, ledger: [...hv.cpu.evCount], base: hv.cpu.baseCycles, stopped: d.stopped };
}

describe('slicing a run does not change it', () => {
  for (const mode of ['trap', 'bt', 'hvm', 'pv'] as const) {
    it(`${mode}: in slices of 100,003 cycles as in one go, to the ledger's last event`, () => {
      const whole = run(mode, 2_000_000_000);
      const sliced = run(mode, 100_003);
      expect(whole.stopped).toBe(true);
      expect(whole.output).toContain('sliced\n');
      expect(sliced).toEqual(whole);
    });
  }
});
