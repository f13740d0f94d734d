import { describe, expect, it } from 'vitest';
import { xenolith } from './run-in-process.ts';
import { runBridged } from '../../bench/runners.ts';
import { BRIDGE_CMDLINE, parseNetbench } from '../../bench/compare.ts';

describe('xenolith bench --json', () => {
  it('bench cpu prints the rows under "cpu", the same shape bench all uses: loop, engine, mips, cpuMips, jsMips, instructions, cycles (kernel rows: firstMips)', async () => {
    const run = await xenolith('bench', 'cpu', '--json', '--scale', '0.01', '--loops', 'compute,memory,kernel');
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { cpu: Array<Record<string, unknown>> };
    expect(Object.keys(out)).toEqual(['cpu']);
    expect(out.cpu.map((r) => [r.loop, r.engine])).toEqual([
      ['compute', 'interpreter'],
      ['compute', 'translator'],
      ['memory', 'interpreter'],
      ['memory', 'translator'],
      ['kernel', 'interpreter'],
      ['kernel', 'translator'],
    ]);
    for (const r of out.cpu) {
      // translator rows add the translation cache's footprint; kernel rows the warm-up's speed (the engine's first run of the workload)
      expect(Object.keys(r)).toEqual(['loop', 'engine', 'mips', 'cpuMips', 'jsMips', 'instructions', 'cycles', ...(r.engine === 'translator' ? ['cache'] : []), ...(r.loop === 'kernel' ? ['firstMips'] : [])]);
      if (r.loop === 'kernel') expect(r.firstMips).toBeGreaterThan(0);
      expect(r.cpuMips).toBeGreaterThan(0);
      if (r.engine === 'translator') {
        expect(Object.keys(r.cache as object)).toEqual(['translations', 'guestBytes', 'sourceChars', 'hostCodeBytes', 'hostBytesPerGuestMiB']);
      }
      expect(r.mips).toBeGreaterThan(0);
      // the kernel-heavy row (lmbench under the native kernel) has no plain-JavaScript twin
      if (r.loop === 'kernel') expect(r.jsMips).toBe(null);
      else expect(r.jsMips).toBeGreaterThan(0);
      expect(Number.isInteger(r.instructions) && Number.isInteger(r.cycles)).toBe(true);
    }
    // both engines ran the same guest work: the same instructions and cycles per loop
    for (const loop of ['compute', 'memory', 'kernel']) {
      const [i, t] = out.cpu.filter((r) => r.loop === loop);
      expect([t!.instructions, t!.cycles]).toEqual([i!.instructions, i!.cycles]);
    }
  });

  it('bench network --modes pv: netbench against the simulated peer and between two domains on a bridge; the frames the switch carried; the simulated figures those of the same bridged run made again', async () => {
    const run = await xenolith('bench', 'network', '--json', '--modes', 'pv');
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { network: Array<Record<string, unknown>> };
    expect(Object.keys(out)).toEqual(['network']);
    const [row] = out.network;
    expect(Object.keys(row!)).toEqual(['mode', 'peerRttUs', 'peerKBs', 'peerWallMs', 'bridgedRttUs', 'bridgedKBs', 'bridgedWallMs', 'forwarded', 'flooded', 'late', 'ok']);
    // a: two ARP requests (the first before b's interface is up: both domains share one CPU), 9
    // round trips, 8 sends; b: the ARP reply and 9 echoes
    expect(row).toMatchObject({ mode: 'pv', forwarded: 27, flooded: 2, late: 0, ok: true });
    const again = parseNetbench(runBridged('pv', { cmdline: BRIDGE_CMDLINE, profile: 'p4-2003', maxCycles: 20_000_000_000, bridge: true }).console);
    expect([row!.bridgedRttUs, row!.bridgedKBs]).toEqual([again.get('udp round trip, 64 bytes (us)'), again.get('udp send throughput (KB/s)')]);
    expect(row!.peerRttUs).toBeGreaterThan(0);
    const bad = await xenolith('bench', 'network', '--modes', 'pv,vmware');
    expect([bad.status, bad.stderr.trim()]).toEqual([2, 'xenolith: --modes must be modes from native, trap, bt, hvm, pv, comma-separated (not "pv,vmware")']);
  });

  it('bench cpu --engine translator --loops prints those rows alone (kernel-bt: bench-cpu.deep.test.ts)', async () => {
    const run = await xenolith('bench', 'cpu', '--json', '--scale', '0.01', '--engine', 'translator', '--loops', 'compute,kernel');
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { cpu: Array<Record<string, unknown>> };
    expect(out.cpu.map((r) => [r.loop, r.engine])).toEqual([
      ['compute', 'translator'],
      ['kernel', 'translator'],
    ]);
    const bad = await xenolith('bench', 'cpu', '--loops', 'compute,kernel-vmware');
    expect([bad.status, bad.stderr.trim()]).toEqual([2, 'xenolith: --loops must be loops from compute, memory, kernel, kernel-trap, kernel-bt, comma-separated (not "compute,kernel-vmware")']);
  });

  it('bench mechanisms prints a row per mechanism under "mechanisms": each seen once per iteration, never in its baseline, with its simulated cycles', async () => {
    const run = await xenolith('bench', 'mechanisms', '--json', '--scale', '0.005');
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { mechanisms: Array<Record<string, unknown>> };
    expect(Object.keys(out)).toEqual(['mechanisms']);
    expect(out.mechanisms.map((r) => [r.mode, r.iterations, r.seen, r.seenWithout])).toEqual([
      ['pv', 1000, 1000, 0],
      ['trap', 1000, 1000, 0],
      ['bt', 1000, 1000, 0],
      ['hvm', 1000, 1000, 0],
      ['trap', 1000, 1000, 0],
    ]);
    for (const r of out.mechanisms) {
      expect(Object.keys(r)).toEqual(['mechanism', 'mode', 'baseline', 'ns', 'cycles', 'goalNs', 'iterations', 'seen', 'seenWithout', 'withMs', 'withoutMs', 'controlMs']);
      expect(r.cycles).toBeGreaterThan(0);
      // the host control was timed beside the row
      expect(r.controlMs).toBeGreaterThan(0);
    }
    // bt's rewritten CLI: no goal in the issue
    expect(out.mechanisms.map((r) => r.goalNs)).toEqual([100, 300, null, 200, 500]);
  });
});
