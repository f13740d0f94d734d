// run --save-at / --restore of a run with --hypercalls whose guest calls the added hypercall on
// both sides of the save (examples/hypercall-experiment): the handler module is loaded again at
// restore and the two halves are the uninterrupted run. Deep: a compile and three runs. Also the
// longer cases: a pv run of two vCPUs, and a run with --net (its forwards bound again at the
// restore, the gateway's state carried in the file).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { xenolith } from './run-in-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'xenolith-save-deep-'));
const counts = (stderr: string) => ({ cycles: /^cycles: (\d+)$/m.exec(stderr)?.[1], instructions: /^instructions: (\d+)$/m.exec(stderr)?.[1] });

describe('run --save-at, then run --restore (deep)', () => {
  test('--hypercalls: the handler module is loaded again at restore, and the two halves are the uninterrupted run', async () => {
    const img = join(dir, 'experiment.img');
    expect((await xenolith('compile', 'examples/hypercall-experiment/guest.ts', '--arch', 'pv', '--no-type-check', '-o', img)).status).toBe(0);
    const common = ['--mode', 'pv', '--memory', '4', '--hypercalls', 'examples/hypercall-experiment/handler.ts', img];
    const u = await xenolith('run', ...common, '--stats');
    expect(u.stdout).toContain('checksum 16384 bytes: guest');
    const file = join(dir, 'hypercalls.xls');
    const s = await xenolith('run', ...common, '--save-at', String(Math.floor(Number(counts(u.stderr).cycles) / 2)), file);
    expect(s.status).toBe(0);
    const r = await xenolith('run', '--restore', file, '--stats');
    expect(r.stdout).toContain('checksum');
    expect(s.stdout + r.stdout).toBe(u.stdout);
    expect(counts(r.stderr)).toEqual(counts(u.stderr));
    expect(r.status).toBe(u.status);
  });

  test('--mode pv --smp 2: a pv domain of two vCPUs saved and restored, the two halves are the uninterrupted run to its idle cycles', async () => {
    const common = ['--mode', 'pv', '--smp', '2', '--memory', '4', '--input', 'echo two'];
    const u = await xenolith('run', ...common, '--stats');
    expect(u.status).toBe(0);
    const file = join(dir, 'pv-smp.xls');
    const s = await xenolith('run', ...common, '--save-at', '1200000', file);
    expect(s.status).toBe(0);
    const r = await xenolith('run', '--restore', file, '--stats');
    expect(r.status).toBe(0);
    expect(s.stdout + r.stdout).toBe(u.stdout);
    const idle = (stderr: string) => /^idle cycles: (\d+)$/m.exec(stderr)?.[1];
    expect({ ...counts(r.stderr), idle: idle(r.stderr) }).toEqual({ ...counts(u.stderr), idle: idle(u.stderr) });
    expect(u.stdout).toContain('two\n');
  });

  test('--net: the forwards bound again at the restore, the gateway\'s state (clients, station addresses, IPv4 id, counters) and the frames on their way to the guest saved; the two halves are the uninterrupted run to the gateway\'s counters', async () => {
    const common = ['--mode', 'trap', '--memory', '4', '--net', 'hostfwd=udp:127.0.0.1:0-:7', '--input', 'ping 10.0.2.2 3'];
    const u = await xenolith('run', ...common, '--stats');
    expect(u.status).toBe(0);
    expect(u.stdout).toContain('3 packets transmitted, 3 received\n');
    const file = join(dir, 'net.xls');
    // between the second ping and the third: the gateway has learnt the guest's station address
    const s = await xenolith('run', ...common, '--save-at', '2500000000', file);
    expect(s.status).toBe(0);
    const r = await xenolith('run', '--restore', file, '--stats');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^\[xenolith: udp 127\.0\.0\.1:\d+ -> guest 10\.0\.2\.15:7\]$/m);
    expect(s.stdout + r.stdout).toBe(u.stdout);
    const stats = (stderr: string) => stderr.split('\n').filter((l) => l !== '' && !l.startsWith('[xenolith'));
    expect(stats(r.stderr)).toEqual(stats(u.stderr));
    expect(stats(u.stderr)).toContain('net pingReplies: 3');
  });

});
