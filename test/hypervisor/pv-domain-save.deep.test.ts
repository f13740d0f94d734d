// The pv-domain save/restore oracle of pv-domain-save.test.ts at many more save points: each
// restored on a machine with the same frames (exact) and with other frames (exact but for the
// guest's own m2p TLB walks). And a domain with a disk, saved with its block ring connected: the
// ring's page is renamed and the guest reads the disk after the restore. Deep: npm run test:deep.
import { describe, expect, test } from 'vitest';
import { checkPvSavePoints, machine, runSliced, spec, SLICE, type PvMachine } from './pv-domain-harness.ts';
import { loadPvDomainFile, pvQuietPoint, restorePvDomain, savePvDomain } from '../../hypervisor/save/pv-domain.ts';
import { BlkBack } from '../../hypervisor/pv/blkback.ts';

describe('a pv domain restored on another machine ends as the uninterrupted one (deep)', () => {
  for (const seed of [0x11, 0x22, 0x33, 0x44]) {
    test(`8 save slices, seed ${seed}`, () => {
      checkPvSavePoints(8, seed);
    }, 600_000);
  }
});

test('with a disk: saved with its block ring connected, restored, it reads the disk as the uninterrupted one', () => {
  const input = 'spin 1\ndisk\necho saved\n\x04';
  const withDisk = (m: PvMachine) => {
    const out: number[] = [];
    const disk = new Uint8Array(64 * 1024);
    const dom = m.hv.createDomain(m.mode, { name: 'g', memoryBytes: 4 << 20, devices: false, input, disk, onOutput: (b) => out.push(b) }, spec);
    return { dom, out };
  };
  const u = machine(false);
  const ug = withDisk(u);
  const end = runSliced(u, ug.dom);
  const output = Buffer.from(ug.out).toString('latin1');
  expect(output).toContain('$ disk\ndisk: 128 sectors\n');
  const a = machine(false);
  const ag = withDisk(a);
  for (let k = 0; k < 150; k++) a.hv.run({ maxCycles: SLICE });
  while (pvQuietPoint(a.hv, a.mode.pv(ag.dom)) !== null) a.hv.run({ maxCycles: SLICE });
  expect((a.mode.pv(ag.dom).blk as BlkBack).ringMachineFrame).toBeGreaterThan(0);
  const file = savePvDomain(a.hv, a.mode, ag.dom, {});
  for (const other of [false, true]) {
    const b = machine(other);
    const bg = withDisk(b);
    restorePvDomain(b.hv, b.mode, loadPvDomainFile(file), bg.dom);
    const ring = (b.mode.pv(bg.dom).blk as BlkBack).ringMachineFrame;
    expect(b.hv.frames.owner[ring]).toBe(bg.dom.id);
    const e = runSliced(b, bg.dom);
    expect(Buffer.from([...ag.out, ...bg.out]).toString('latin1')).toBe(output);
    expect(e.instructions).toBe(end.instructions);
    if (!other) expect(e.cycles).toBe(end.cycles);
  }
}, 600_000);
