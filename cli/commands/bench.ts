// `xenolith bench cpu|compiler|boot|all|domains|mechanisms|retranslation|vpid|smp [--json]`: benchmarks, printed next to a baseline measured
// in the same run. `--json` prints { cpu?, compiler?, boot?, commandStart? }: one row shape per benchmark, whichever
// verb asked for it. Timing lives here and in bench/, never in tests.
import type { Command } from 'commander';
import { CPU_LOOPS, runCpuBench, type CpuBenchRow } from '../../bench/cpu.ts';
import { textTable } from '../../bench/text-table.ts';
import { CliError } from '../errors.ts';
import { engineSchema, parseOptions } from '../options.ts';
import { ENGINES } from '../../machine/translator.ts';
import { z } from 'zod';
import { MODE_NAMES, type ModeName } from '../../hypervisor/modes.ts';

function cpuTable(rows: CpuBenchRow[]): string {
  const interp = (loop: string) => rows.find((r) => r.loop === loop && r.engine === 'interpreter');
  const table = textTable(
    ['loop', 'engine', 'guest MIPS', 'vs interpreter', 'per CPU s', 'vs interp. (CPU)', 'plain-JS MIPS', 'guest/JS', 'instructions', 'sim. cycles'],
    rows.map((r) => {
      const base = interp(r.loop);
      return [
        r.loop,
        r.engine,
        r.mips.toFixed(1),
        base ? `${(r.mips / base.mips).toFixed(2)}x` : '-',
        r.cpuMips.toFixed(1),
        base ? `${(r.cpuMips / base.cpuMips).toFixed(2)}x` : '-',
        r.jsMips === null ? '-' : r.jsMips.toFixed(1),
        r.jsMips === null ? '-' : (r.mips / r.jsMips).toFixed(3),
        r.instructions,
        r.cycles,
      ];
    }),
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
  const caches = rows
    .filter((r) => r.cache)
    .map((r) => {
      const c = r.cache!;
      return `  ${r.loop}: ${c.translations} translations${c.btFunctions !== undefined ? ` and ${c.btFunctions} functions compiled from bt's units,` : ''} of ${c.guestBytes} guest bytes; ${c.sourceChars} chars of JavaScript, ${c.hostCodeBytes} bytes of V8 code and bytecode: ${(c.hostBytesPerGuestMiB / 1024 / 1024).toFixed(1)} MiB per MiB of guest code`;
    });
  // a line per kernel row's loop: its warm-up (the first of the untimed runs) for each engine
  const firstLine = [...new Set(rows.filter((r) => r.firstMips !== undefined).map((r) => r.loop))]
    .map((loop) => {
      const firsts = rows.filter((r) => r.loop === loop && r.firstMips !== undefined);
      return `\n${loop}, the warm-up (the engine's first run of the workload in this process; the medians are of its 4th-6th runs): ${firsts.map((r) => `${r.engine} ${r.firstMips!.toFixed(1)} M instr/s`).join(', ')}${firsts.length === 2 ? ` (${(firsts[1]!.firstMips! / firsts[0]!.firstMips!).toFixed(2)}x)` : ''}`;
    })
    .join('');
  return (caches.length > 0 ? `${table}\ntranslation cache (end of a timed run):\n${caches.join('\n')}` : table) + firstLine;
}

export function register(program: Command): void {
  program
    .command('bench')
    .description('run benchmarks: cpu (engine speed), compiler (compiled vs hand-written code), boot (kernel boot to the shell prompt), all; domains (N pv domains on one host: aggregate throughput, memory, fairness; not part of all); mechanisms (host nanoseconds of one pv hypercall, one trapped-and-emulated instruction and the same one rewritten in line by bt, one VM exit and one hidden shadow fault; not part of all); network (netbench against the simulated peer and between two domains on a bridge, per mode; not part of all); retranslation (would bt\'s adaptive retranslation of stores that keep faulting on traced page tables pay? simulated cycles; not part of all); vpid (two hvm domains on one CPU with VPID-tagged TLB entries kept across world switches, beside untagged and flushed at each switch: TLB misses and simulated cycles, the host cost of a tag change; not part of all); migrate (live migration of a memory-writing domain, pv by default, between two hosts: rounds, downtime, identical to an uninterrupted run; not part of all); smp (lock-holder preemption with vCPUs outnumbering physical CPUs 2:1, and its remedies --spin-yield, hvm\'s --ple, --cosched and pv\'s yielding spinlock side by side, per mode: simulated cycles, spin wasted, host time; not part of all)')
    .argument('[which]', 'cpu | compiler | boot | all | domains | mechanisms | network | retranslation | vpid | migrate | smp', 'all')
    .option('--json', 'print JSON instead of a table')
    .option('--scale <n>', 'work multiplier (1 = default size)', '1')
    .option('--engine <name>', 'cpu: only this engine\'s rows (default: interpreter and translator, same run); boot, mechanisms: the engine (default: the default engine, as run --engine)')
    .option('--loops <list>', `cpu: the loops, comma-separated (${CPU_LOOPS.join(', ')}; kernel: lmbench under the native kernel, kernel-trap and kernel-bt: the same in a trap or bt domain)`, CPU_LOOPS.join(','))
    .option('--modes <list>', 'network: the modes, comma-separated', 'native,trap,bt,hvm,pv')
    .option('--counts <list>', 'domains: the numbers of domains to run, comma-separated (1 to 1000)', '1,10,50,100')
    .option('--mode <mode>', 'migrate: the domain\'s mode (pv, trap, bt, hvm, native)', 'pv')
    .option('--link-mbps <n>', 'migrate: the modelled link, megabits per second of simulated time', '10000')
    .option('--no-host-time', 'smp, vpid: leave out the host-time columns (the rest is simulated and exact)')
    .option('--domain-memory <MiB>', "domains: each domain's memory, a whole number of 4 KiB pages (1.75: the least the standard pv kernel runs in)", '1.75')
    .action(async (which: string, opts: { json?: boolean; scale: string; loops: string; counts: string; domainMemory: string; engine?: string; modes: string; mode: string; linkMbps: string; hostTime: boolean }) => {
      const engine = opts.engine === undefined ? undefined : parseOptions(z.object({ engine: engineSchema }), { engine: opts.engine }).engine;
      const scale = Number(opts.scale);
      if (!Number.isFinite(scale) || scale <= 0) throw new CliError(`--scale must be a positive number, not "${opts.scale}"`);
      if (!['cpu', 'compiler', 'boot', 'all', 'domains', 'mechanisms', 'network', 'retranslation', 'vpid', 'migrate', 'smp'].includes(which)) throw new CliError(`unknown benchmark "${which}" (choose cpu, compiler, boot, all, domains, mechanisms, network, retranslation, vpid, migrate or smp)`);
      const out: Record<string, unknown> = {};
      if (which === 'migrate') {
        const { runMigrateBench, migrateBenchText, MIGRATE_MODES, BENCH_LINK } = await import('../../bench/migrate.ts');
        const { MIGRATE_GUEST } = await import('../../bench/migrate-guest.ts');
        if (!(MIGRATE_MODES as readonly string[]).includes(opts.mode)) throw new CliError(`--mode must be one of ${MIGRATE_MODES.join(', ')} for bench migrate (not "${opts.mode}")`);
        const mbps = Number(opts.linkMbps);
        if (!(Number.isFinite(mbps) && mbps > 0)) throw new CliError(`--link-mbps must be a positive number, not "${opts.linkMbps}"`);
        const r = await runMigrateBench({
          mode: opts.mode as (typeof MIGRATE_MODES)[number],
          link: { ...BENCH_LINK, bytesPerSecond: (mbps * 1_000_000) / 8 },
          shape: { ...MIGRATE_GUEST, passes: Math.max(1, Math.round(MIGRATE_GUEST.passes * scale)) },
        });
        // the keys of the issue at the top level: rounds, downtimeMs, wallDowntimeMs, pagesSent, identical
        process.stdout.write(opts.json ? `${JSON.stringify({ ...r, downtimeMs: round(r.downtimeMs * 1000) / 1000, wallDowntimeMs: round(r.wallDowntimeMs) }, null, 2)}\n` : `${migrateBenchText(r)}\n`);
        return;
      }
      if (which === 'domains') {
        const counts = opts.counts.split(',').map((c) => Number(c.trim()));
        if (counts.some((c) => !Number.isInteger(c) || c < 1 || c > 1000)) throw new CliError(`--counts must be whole numbers from 1 to 1000, comma-separated (not "${opts.counts}")`);
        const memoryMiB = Number(opts.domainMemory);
        if (!Number.isInteger(memoryMiB * 256) || memoryMiB < 1 || memoryMiB > 1024) throw new CliError(`--domain-memory must be MiB from 1 to 1024, a whole number of 4 KiB pages (not "${opts.domainMemory}")`);
        const { runDomainsBench, domainsTable } = await import('../../bench/domains.ts');
        const rows = runDomainsBench({ counts, memoryMiB, windowCycles: Math.round(30_000_000 * scale) });
        out.domains = rows;
        if (!opts.json) process.stdout.write(`N pv domains running spin on one host (simulated throughput exact; wall time measured in this run; "vs 1" against one domain alone)\n${domainsTable(rows)}\n`);
      }
      if (which === 'mechanisms') {
        const { runMechanismsBench, mechanismsTable } = await import('../../bench/mechanisms.ts');
        const rows = runMechanismsBench(scale, engine);
        out.mechanisms = rows.map((r) => ({ ...r, ns: round(r.ns), cycles: round(r.cycles), withMs: round(r.withMs), withoutMs: round(r.withoutMs), controlMs: round(r.controlMs) }));
        if (!opts.json) process.stdout.write(`Mechanism costs (host ns per occurrence: a guest loop with it minus its baseline loop, same run; "sim cycles": the same difference in simulated cycles; "seen": occurrences the domain counted in the loop; "control": a fixed piece of plain JavaScript shaped like the simulator's hot code, timed between the row's runs - the host's speed at the time, which on a shared machine moves the rows with it)\n${mechanismsTable(rows)}\n`);
      }
      if (which === 'network') {
        const modes = opts.modes.split(',').map((m) => m.trim());
        const bad = modes.find((m) => !(MODE_NAMES as readonly string[]).includes(m));
        if (bad !== undefined || modes.length === 0) throw new CliError(`--modes must be modes from ${MODE_NAMES.join(', ')}, comma-separated (not "${opts.modes}")`);
        const { runNetworkBench, networkTable } = await import('../../bench/network.ts');
        const rows = runNetworkBench(modes as ModeName[]);
        out.network = rows.map((r) => ({ ...r, peerWallMs: round(r.peerWallMs), bridgedWallMs: round(r.bridgedWallMs) }));
        if (!opts.json) process.stdout.write(`netbench 8 1472 against the peer simulated in the host (the baseline) and against udpecho in a second domain on a bridge (simulated us and KB/s exact; wall time measured in this run)\n${networkTable(rows)}\n`);
      }
      if (which === 'retranslation') {
        const { runRetranslationBench, retranslationReport } = await import('../../bench/retranslation.ts');
        const r = runRetranslationBench();
        out.retranslation = r;
        if (!opts.json) process.stdout.write(`${retranslationReport(r)}\n`);
      }
      if (which === 'smp') {
        const { runSmpBench, smpBenchReport } = await import('../../bench/smp.ts');
        const rows = runSmpBench();
        out.smp = opts.hostTime ? rows.map((r) => ({ ...r, hostMs: round(r.hostMs) })) : rows.map(({ hostMs: _, ...r }) => r);
        if (!opts.json) process.stdout.write(`${smpBenchReport(rows, opts.hostTime)}\n`);
      }
      if (which === 'vpid') {
        const { runVpidBench, vpidReport, vpidHostReport, timeTagChange } = await import('../../bench/vpid.ts');
        const r = runVpidBench();
        const ns = opts.hostTime ? timeTagChange() : 0;
        out.vpid = opts.hostTime ? { ...r, nsPerTagChange: round(ns) } : r;
        if (!opts.json) process.stdout.write(`${vpidReport(r)}\n${opts.hostTime ? `${vpidHostReport(r, ns)}\n` : ''}`);
      }
      if (which === 'cpu' || which === 'all') {
        const loops = opts.loops.split(',');
        if (loops.length === 0 || loops.some((l) => !(CPU_LOOPS as readonly string[]).includes(l))) throw new CliError(`--loops must be loops from ${CPU_LOOPS.join(', ')}, comma-separated (not "${opts.loops}")`);
        const rows = runCpuBench(scale, engine === undefined ? ENGINES : [engine], loops as CpuBenchRow['loop'][]);
        out.cpu = rows.map((r) => ({ ...r, mips: round(r.mips), jsMips: r.jsMips === null ? null : round(r.jsMips) }));
        if (!opts.json) {
          process.stdout.write(`CPU engine speed (wall clock; same loops as plain JavaScript, same run; kernel: the native kernel running lmbench all; kernel-trap, kernel-bt: the same in a trap or bt domain; the kernel rows' engines alternating run by run)\n${cpuTable(rows)}\n\n`);
        }
      }
      if (which === 'compiler' || which === 'all') {
        const { runCompilerBench, compilerTable } = await import('../../bench/compiler.ts');
        const rows = runCompilerBench();
        out.compiler = rows;
        if (!opts.json) process.stdout.write(`Compiled guest code vs hand-written assembly (executed instructions, exact)\n${compilerTable(rows)}\n`);
      }
      if (which === 'boot' || which === 'all') {
        const { runBootBench, bootTable, bootWarmUpLine, runCommandStartBench, commandStartTable } = await import('../../bench/boot.ts');
        const rows = runBootBench(engine === undefined ? {} : { engine });
        out.boot = rows;
        if (!opts.json) process.stdout.write(`\nBooting the standard guest (simulated cycles exact; wall time the median of several runs)\n${bootTable(rows)}\n${bootWarmUpLine(rows)}\n`);
        const start = runCommandStartBench(engine === undefined ? {} : { engine });
        out.commandStart = start;
        if (!opts.json) process.stdout.write(`\nThe same from the shell, a process each (the runtime's own start and exit as the baseline; the three in turn, after a warm-up round)\n${commandStartTable(start)}\n`);
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
