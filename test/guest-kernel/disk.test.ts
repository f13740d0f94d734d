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
      '$ exit',
      'init exited with status 0: powering off',
      '',
    ]);
    const written = disk.subarray(1024, 1536);
    expect(new TextDecoder().decode(written.subarray(0, 20))).toBe('written by the guest');
    expect(written.subarray(20).every((b) => b === 0)).toBe(true);
  });
});
