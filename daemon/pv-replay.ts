// The replay of a daemon's shared pv machine from its recording (daemon/pv-record.ts, docs/replay.md
// "pv domains of the daemon"): a host of its own, its shared machine run to each logged cycle
// exactly and the logged input applied there through the Host methods the API calls; the host's
// own lifecycle actions wait for their logged `settle`. The end is compared with the recording's.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { encodeImage, type Image } from '../machine/image.ts';
import { validateDefinition, DefinitionError, type DomainDefinition } from './definition.ts';
import { Host, HostError } from './host.ts';
import { PvHostLogError, type PvCommand, type PvHostEnd, type PvHostLog } from './pv-record.ts';

/** What a replay gives: each domain's console output, the machine's end. */
export interface PvReplayResult {
  consoles: Map<string, string>;
  end: PvHostEnd;
}

export interface PvReplayOptions {
  /** the standard guest (the daemon's, built from guest-kernel/) */
  standardGuest: (arch: 'native' | 'pv') => { kernel: Image; initrd: Uint8Array };
  /** read a definition's disk (default: the file) */
  readDisk?: (path: string) => Uint8Array;
  /** a definition's kernel file (an image, or an entry module compiled): none, no domain with a kernel of its own replays */
  loadKernel?: (path: string, arch: 'native' | 'pv') => Image;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * Replay a pv host recording: a host of its own (no state directory, not paced), its shared
 * machine run to each logged cycle and the logged input applied there; the end compared with the
 * recording's. Throws PvHostLogError (one line) where it does not follow the recording.
 */
export function replayPvHost(log: PvHostLog, file: string, opts: PvReplayOptions): PvReplayResult {
  const m = log.machine;
  const consoles = new Map<string, string>();
  const host = new Host(null, {
    hostMemoryMiB: m.hostMemoryMiB,
    pacing: 'fast',
    // the recorded domains' forwards bind no host socket: their datagrams come from the log
    detachedNet: true,
    standardGuest: opts.standardGuest,
    ...(opts.loadKernel ? { loadKernel: opts.loadKernel } : {}),
    onConsole: (n, bytes) => consoles.set(n, (consoles.get(n) ?? '') + Buffer.from(bytes).toString('latin1')),
  });
  const diverged = (what: string): PvHostLogError => new PvHostLogError(`${file}: replay diverged: ${what}`);
  const definition = (raw: Record<string, unknown>, at: number): DomainDefinition => {
    try {
      return validateDefinition(raw);
    } catch (e) {
      if (e instanceof DefinitionError) throw new PvHostLogError(`${file}: the definition at cycle ${at}: ${e.message}`);
      throw e;
    }
  };
  /** a kernel of its own: the recorded image, by its SHA-256 (one line if it cannot be loaded or differs) */
  const checkKernel = (def: DomainDefinition, recorded: string | undefined): void => {
    const path = def.kernel;
    if (path === undefined || recorded === undefined) throw new PvHostLogError(`${file}: domain '${def.name}' started ${path === undefined ? 'with the standard kernel but its start line names a kernel image' : `with the kernel ${path} but its start line has no kernelSha256`}`);
    if (!opts.loadKernel) throw new PvHostLogError(`${file}: domain '${def.name}' started with a kernel of its own (${path}); this replay loads no kernel files`);
    let image: Image;
    try {
      image = opts.loadKernel(path, 'pv');
    } catch (err) {
      throw new PvHostLogError(`${file}: domain '${def.name}': kernel ${path}: ${(err as Error).message}`);
    }
    const now = sha256(encodeImage(image));
    if (now !== recorded) throw new PvHostLogError(`${file}: domain '${def.name}' started with the kernel ${path} of sha256 ${recorded.slice(0, 16)}...; the image there now has ${now.slice(0, 16)}... (it changed)`);
  };
  host.replayPvMachine(m.profile, m.engine);
  const cycles = (): number => host.pvMachineCounters(m.key)!.cycles;
  /** run the machine to exactly `to` (an idle machine's clock stands: then it must stand there) */
  const runTo = (to: number, what: string): void => {
    for (;;) {
      const now = cycles();
      if (now >= to) break;
      host.step(to - now);
      if (cycles() === now) break;
    }
    if (cycles() !== to) throw diverged(`${what} was applied at cycle ${to}; the replay's machine ${cycles() < to ? 'stood idle' : 'went on'} at cycle ${cycles()}`);
  };
  try {
    for (const e of log.events) {
      const what = e.kind === 'command' ? `${e.command} of '${e.name}'` : `${e.kind === 'keys' ? 'console input to' : e.kind === 'start' ? 'the start of' : e.kind === 'datagram' ? 'a host datagram to' : 'the lifecycle action of'} '${e.name}'`;
      runTo(e.cycle, what);
      switch (e.kind) {
        case 'start': {
          const def = definition(e.definition, e.cycle);
          const disk = def.disks[0];
          if (disk !== undefined || e.diskSha256 !== undefined) {
            const bytes = disk === undefined ? new Uint8Array(0) : (opts.readDisk ?? ((p) => new Uint8Array(readFileSync(p))))(disk.file);
            if (sha256(bytes) !== e.diskSha256) throw new PvHostLogError(`${file}: domain '${def.name}' started with a disk of sha256 ${String(e.diskSha256).slice(0, 16)}...; ${disk?.file ?? 'none'} differs now`);
          }
          if (e.kernelSha256 !== undefined || def.kernel !== undefined) checkKernel(def, e.kernelSha256);
          host.define(def);
          try {
            host.start(def.name);
          } catch (err) {
            // the recorded start failed too (a definition this machine could not take then)
            if (!(err instanceof HostError)) throw err;
          }
          break;
        }
        case 'keys':
          host.consoleInput(e.name, Buffer.from(e.text, 'latin1'));
          break;
        case 'command':
          applyCommand(host, e.name, e.command, e.args);
          break;
        case 'datagram':
          host.replayDatagram(e.name, e.rule, new Uint8Array(Buffer.from(e.base64, 'base64')), e.address, e.port);
          break;
        case 'settle':
          if (!host.settleRecorded(e.name, definition(e.definition, e.cycle))) throw diverged(`domain '${e.name}' stopped by cycle ${e.cycle} in the recording, not in the replay`);
          break;
      }
    }
    runTo(log.end.cycle, 'the end');
  } catch (err) {
    if (err instanceof HostError) throw diverged(err.message);
    throw err;
  }
  const c = host.pvMachineCounters(m.key)!;
  if (c.instructions !== log.end.instructions || c.idleCycles !== log.end.idleCycles) {
    throw diverged(`the machine ended at cycle ${c.cycles} with ${c.instructions} instructions and ${c.idleCycles} idle cycles; recorded ${log.end.instructions} and ${log.end.idleCycles}`);
  }
  for (const d of log.end.domains) {
    const info = host.dominfo(d.name);
    const out = Buffer.from(consoles.get(d.name) ?? '', 'latin1');
    if (out.length !== d.outputBytes || sha256(out) !== d.outputSha256) {
      throw diverged(`domain '${d.name}' printed ${out.length} bytes (sha256 ${sha256(out).slice(0, 16)}...); recorded ${d.outputBytes} bytes (${d.outputSha256.slice(0, 16)}...)`);
    }
    if (info.status !== d.status || info.cycles !== d.cycles || info.instructions !== d.instructions) {
      throw diverged(`domain '${d.name}' ended ${info.status} after ${info.cycles} cycles and ${info.instructions} instructions; recorded ${d.status}, ${d.cycles} and ${d.instructions}`);
    }
  }
  host.shutdownAll();
  return { consoles, end: log.end };
}

function applyCommand(host: Host, name: string, command: PvCommand, args: number[]): void {
  switch (command) {
    case 'shutdown':
      host.shutdown(name);
      break;
    case 'reboot':
      host.reboot(name);
      break;
    case 'destroy':
    case 'save':
      // a save takes the domain off the machine at its quiet point (the machine ran there first)
      host.destroy(name);
      break;
    case 'suspend':
      host.suspend(name);
      break;
    case 'resume':
      host.resume(name);
      break;
    case 'setmem':
      host.setmem(name, args[0]!);
      break;
    case 'weight':
      host.setWeight(name, args[0]!);
      break;
  }
}
