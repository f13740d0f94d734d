// Run the hypercall experiment: compile the guest with --arch pv, register the new hypercall in a
// PV mode, boot the guest as a domain, and print its console and the hypervisor's statistics for
// it. `npx tsx examples/hypercall-experiment/run.ts [--profile modern]`
// Host code.

import { fileURLToPath } from 'node:url';
import { compile } from '../../toolchain/compiler/index.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { PvMode } from '../../hypervisor/pv/mode.ts';
import { formatPvStats } from '../../hypervisor/pv/stats.ts';
import { registerChecksum } from './handler.ts';

export interface ExperimentResult {
  console: string;
  stats: string;
  status: number;
  /** per size: [bytes, guest cycles, hypercall cycles] */
  rows: [number, number, number][];
}

export function runExperiment(profile = 'p4-2003'): ExperimentResult {
  const image = compile(fileURLToPath(new URL('./guest.ts', import.meta.url)), { arch: 'pv' }).image;
  const hv = new Hypervisor({ memoryBytes: 8 * 1024 * 1024, profile });
  const mode = new PvMode();
  registerChecksum(mode.table);
  const domain = hv.createDomain(mode, { name: 'experiment', memoryBytes: 2 * 1024 * 1024, devices: false }, { kernel: image });
  hv.run({ maxCycles: 100_000_000 });
  const console = domain.consoleOutput();
  const rows = [...console.matchAll(/^checksum (\d+) bytes: guest (\d+) cycles, hypercall (\d+) cycles$/gm)].map(
    (m) => [Number(m[1]), Number(m[2]), Number(m[3])] as [number, number, number],
  );
  return { console, stats: formatPvStats(mode, domain), status: domain.stopStatus, rows };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const k = process.argv.indexOf('--profile');
  const r = runExperiment(k > 0 ? process.argv[k + 1] : undefined);
  process.stdout.write(r.console + '\n' + r.stats);
  process.exitCode = r.status;
}
