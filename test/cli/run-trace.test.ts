// `run --trace FILE`: the run's timeline in the Chrome Trace Event format, counting what --stats
// counts (one schema), bounded by --trace-records with the dropped records counted.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xenolith } from './run-in-process.ts';

describe('run --trace', () => {
  it('writes the pv run as Chrome trace events whose hypercall and event counts are the --stats counts', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'xl-trace-')), 't.json');
    const r = await xenolith('run', '--mode', 'pv', '--stats', '--input', 'exit', '--trace', file);
    expect(r.status).toBe(0);
    const t = JSON.parse(readFileSync(file, 'utf8'));
    expect(r.stderr).toContain(`xenolith: trace: ${t.otherData.records} records written to ${file}\n`);
    expect(t.otherData.dropped).toBe(0);
    expect(t.traceEvents.slice(0, 2)).toEqual([
      { name: 'process_name', ph: 'M', pid: 1, tid: 0, args: { name: 'pv:p4-2003' } },
      { name: 'thread_name', ph: 'M', pid: 1, tid: 1, args: { name: 'pv (domain 1)' } },
    ]);
    const total = /^ +total +(\d+) /m.exec(r.stderr)![1];
    expect(t.otherData.counts.hypercall).toBe(Number(total));
    expect(t.traceEvents.filter((e: { cat?: string }) => e.cat === 'hypercall').length).toBe(Number(total));
    const events = /events: (\d+) set pending, (\d+) upcalls/.exec(r.stderr)!;
    expect([t.otherData.counts.event, t.otherData.counts.interrupt]).toEqual([Number(events[1]), Number(events[2])]);
    // the pv kernel's first hypercall binds its console's event channel
    const first = t.traceEvents.find((e: { cat?: string }) => e.cat === 'hypercall');
    expect(first.name).toBe('hypercall event_channel_op');
  });

  it('keeps --trace-records records and counts the rest as dropped', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'xl-trace-')), 't.json');
    const r = await xenolith('run', '--mode', 'pv', '--input', 'exit', '--trace', file, '--trace-records', '10');
    expect(r.status).toBe(0);
    const t = JSON.parse(readFileSync(file, 'utf8'));
    expect(t.otherData.records).toBe(10);
    expect(r.stderr).toContain(`xenolith: trace: 10 records, ${t.otherData.dropped} dropped (the buffer holds 10; --trace-records sets it) written to ${file}\n`);
    expect(t.otherData.dropped).toBeGreaterThan(100);
  });

  it('refuses --trace without a hypervisor, and --trace-records without --trace, in one line', async () => {
    const native = await xenolith('run', '--trace', '/tmp/never.json', '--input', 'exit');
    expect([native.status, native.stderr]).toEqual([2, "xenolith: --trace records the hypervisor's events (exits, traps, hypercalls ...); native mode has no hypervisor: use --mode trap, bt, hvm or pv\n"]);
    const alone = await xenolith('run', '--mode', 'pv', '--trace-records', '5', '--input', 'exit');
    expect([alone.status, alone.stderr]).toEqual([2, 'xenolith: --trace-records sizes the --trace buffer; there is no --trace FILE\n']);
    const bad = await xenolith('run', '--mode', 'pv', '--trace', '/tmp/x.json', '--trace-records', '0', '--input', 'exit');
    expect(bad.stderr).toMatch(/^xenolith: --trace-records must be/);
  });
});
