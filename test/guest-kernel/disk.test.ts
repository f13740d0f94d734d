// The block-device driver (kernel/disk.ts) through the diskio system call and the `disk`
// program: capacity, reading what the host put on the disk, writing back to the host's bytes,
// and refusing sectors past the end.
import { describe, expect, it } from 'vitest';
import { bootKernel } from './harness.ts';

describe('block device', () => {
  it('reads and writes sectors by DMA, with completion interrupts', () => {
    const disk = new Uint8Array(64 * 512);
    disk.set(new TextEncoder().encode('hello from sector one'), 512);
    const run = bootKernel({ input: 'disk\ndisk read 1\ndisk write 2 written by the guest\ndisk read 2\ndisk read 64\nexit\n', disk });
    const out = run.output.slice(run.output.indexOf('$ disk\n'));
    expect(out.split('\n')).toEqual([
      '$ disk',
      'disk: 64 sectors',
      '$ disk read 1',
      'hello from sector one',
      '$ disk write 2 written by the guest',
      '$ disk read 2',
      'written by the guest',
      '$ disk read 64',
      'disk: read failed (error -22)',
      // exit without a status passes on the last command's: the failed read's 1
      '$ exit',
      'init exited with status 1: powering off',
      '',
    ]);
    const written = disk.subarray(1024, 1536);
    expect(new TextDecoder().decode(written.subarray(0, 20))).toBe('written by the guest');
    expect(written.subarray(20).every((b) => b === 0)).toBe(true);
  });
});

describe('diskbench', () => {
  /** a disk whose every byte is known, so the test can tell the benchmark left it as it was */
  function patternDisk(sectors: number): Uint8Array {
    const disk = new Uint8Array(sectors * 512);
    for (let k = 0; k < disk.length; k++) disk[k] = (k * 7 + (k >>> 9)) & 0xff;
    return disk;
  }

  const LINE = /^diskbench (seq-read|seq-write|rand-read|rand-write): ([1-9]\d*) KiB\/s, ([1-9]\d*) cycles\/op \((32|4) KiB\/op, ([1-9]\d*) ops\)$/;

  it('reports sequential and random read and write throughput from the simulated clock, and leaves the disk unchanged', () => {
    const disk = patternDisk(1024); // 512 KiB
    const before = disk.slice();
    const { output, result, machine } = bootKernel({ cmdline: 'diskbench 128', disk });
    expect(output).toContain('diskbench: 128 KiB per test of 512 KiB, 3000 MHz\n');
    const lines = output.split('\n').filter((l) => l.startsWith('diskbench '));
    expect(lines.map((l) => l.split(':')[0])).toEqual(['seq-read', 'seq-write', 'rand-read', 'rand-write'].map((n) => `diskbench ${n}`));
    const mhz = machine.profile.clockMHz;
    for (const l of lines) {
      const m = LINE.exec(l);
      expect(m, l).not.toBeNull();
      const [, name, kibPerSecond, cyclesPerOp, opKiB, ops] = m!;
      expect(Number(ops)).toBe(name!.startsWith('seq') ? 4 : 32);
      expect(Number(opKiB)).toBe(name!.startsWith('seq') ? 32 : 4);
      // KiB/s and cycles/op describe the same run: (KiB per op) / (cycles per op) at the clock
      const implied = (Number(opKiB) * mhz * 1e6) / Number(cyclesPerOp);
      expect(Math.abs(Number(kibPerSecond) - implied) / implied).toBeLessThan(1e-3);
    }
    // seq: 4 calls of 8 page-sized requests; rand: 32 calls of one request; reads then writes
    expect(machine.block.reads).toBe(4 * 8 + 32);
    expect(machine.block.writes).toBe(4 * 8 + 32);
    expect(machine.block.sectorsRead).toBe(256 + 32 * 8);
    expect(machine.block.sectorsWritten).toBe(256 + 32 * 8);
    expect(machine.block.errors).toBe(0);
    expect(machine.block.refused).toBe(0);
    expect(Buffer.from(disk).equals(Buffer.from(before))).toBe(true);
    expect(result.status).toBe(0);
  });

  it('keeps several requests in flight: one 32 KiB call costs fewer cycles than eight 4 KiB calls, close to the device time', () => {
    const { output, machine } = bootKernel({ cmdline: 'diskbench 128', disk: patternDisk(256) });
    const cyclesPerOp = (name: string): number => Number(new RegExp(`^diskbench ${name}: \\d+ KiB/s, (\\d+) cycles/op`, 'm').exec(output)![1]);
    expect(cyclesPerOp('seq-read')).toBeLessThan(8 * cyclesPerOp('rand-read'));
    expect(cyclesPerOp('seq-write')).toBeLessThan(8 * cyclesPerOp('rand-write'));
    // a 32 KiB call cannot beat the device's service time for its eight requests, and the CPU's
    // work (system call, copies, interrupts) overlaps it: no completion waits for a later
    // interrupt (the idle STI/HLT window, arch/native/traps.ts)
    const device = 8 * (machine.block.requestCycles + 8 * machine.block.perSectorCycles);
    for (const name of ['seq-read', 'seq-write']) {
      expect(cyclesPerOp(name)).toBeGreaterThanOrEqual(device);
      expect(cyclesPerOp(name)).toBeLessThan(1.25 * device);
    }
  });

  it('refuses a disk smaller than one 32 KiB call', () => {
    const run = bootKernel({ cmdline: 'diskbench', disk: new Uint8Array(63 * 512) });
    expect(run.output).toContain('diskbench: the disk has 63 sectors; it needs at least 64 (32 KiB)\n');
    expect(run.result.status).toBe(1);
  });

  it('moves up to 64 sectors in one diskio call, in order, and refuses 65 (usertests diskio on a disk)', () => {
    const disk = patternDisk(128);
    const before = disk.slice();
    const run = bootKernel({ cmdline: 'usertests diskio', disk });
    expect(run.output).toContain('PASS diskio\nusertests: 1 passed, 0 failed\n');
    // eight-request reads of the last 32 KiB, a pattern written and read back, the original restored
    expect(Buffer.from(disk).equals(Buffer.from(before))).toBe(true);
    expect(run.machine.block.sectorsWritten).toBe(128);
    expect(run.result.status).toBe(0);
  });
});
