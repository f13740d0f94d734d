// The console's keys, typed at the moments a person would (when the prompt or a program's output
// has appeared), natively and under pv through the CLI's guest sessions (cli/session.ts): Ctrl-C
// at the prompt abandons the line; Ctrl-C during a program kills its process group (status 130,
// which the shell reports and keeps); the shell's line editor moves with the arrows, erases in the
// middle and recalls earlier lines. Exact transcripts.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../machine/machine.ts';
import { bootNative } from '../../hypervisor/boot/native.ts';
import { runPvMode } from '../../hypervisor/index.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';
import { machineSession, domainSession, type GuestSession } from '../../cli/session.ts';

const LEFT = '\x1b[D';
const UP = '\x1b[A';
const CTRL_C = '\x03';

interface Booted {
  session: GuestSession;
  out: number[];
}

function nativeGuest(): Booted {
  const build = buildGuestKernel({ arch: 'native' });
  const out: number[] = [];
  const machine = new Machine({ memoryBytes: 8 << 20, onOutput: (b) => out.push(b) });
  bootNative(machine, { kernel: build.kernel, initrd: build.initrd });
  return { session: machineSession(machine), out };
}

function pvGuest(): Booted {
  const build = buildGuestKernel({ arch: 'pv' });
  const out: number[] = [];
  const r = runPvMode(build.kernel, { initrd: build.initrd, memoryBytes: 8 << 20, maxCycles: 0, onOutput: (b) => out.push(b) });
  return { session: domainSession(r.hypervisor, r.domain, r.mode), out };
}

const text = (out: number[]) => Buffer.from(out).toString('latin1');

/**
 * Type each step's keys once the console output ends with its `after` text (plus `settle`
 * cycles, for a program to get going); then run to power-off. The transcript from the first
 * prompt, and the power-off status.
 */
function script(g: Booted, steps: { after: string; keys: string; settle?: number }[]): { transcript: string; status: number } {
  const SLICE = 200_000;
  let budget = 400_000_000;
  const runUntil = (done: () => boolean) => {
    while (!done()) {
      const s = g.session.run(SLICE);
      budget -= s.cycles;
      if (s.stopped || budget <= 0) return;
    }
  };
  for (const step of steps) {
    runUntil(() => text(g.out).endsWith(step.after));
    expect(text(g.out).endsWith(step.after), `waiting for ${JSON.stringify(step.after)}:\n${text(g.out)}`).toBe(true);
    if (step.settle) g.session.run(step.settle);
    g.session.feed(Buffer.from(step.keys, 'latin1'));
  }
  runUntil(() => false);
  const all = text(g.out);
  const end = g.session.end();
  expect(end.reason).toBe('poweroff');
  return { transcript: all.slice(all.indexOf('init: starting sh\n')), status: end.status };
}

const SESSION = [
  { after: '$ ', keys: 'ech' },
  { after: '$ ech', keys: CTRL_C },
  { after: '$ ', keys: `echo wrld${LEFT}${LEFT}${LEFT}o\n` },
  { after: 'world\n$ ', keys: `echo helxlo${LEFT}${LEFT}\b\n` },
  { after: 'hello\n$ ', keys: `${UP}${UP}\n` },
  { after: 'world\n$ ', keys: 'spin\n' },
  { after: '$ spin\n', keys: CTRL_C, settle: 20_000_000 },
  { after: 'sh: killed by interrupt\n$ ', keys: 'cat\n' },
  { after: '$ cat\n', keys: 'typed, then', settle: 20_000_000 },
  { after: 'typed, then', keys: CTRL_C },
  { after: 'sh: killed by interrupt\n$ ', keys: 'exit\n' },
];

/** What the session shows: the shell echoes as it edits (a backspace moves the cursor left). */
const TRANSCRIPT = [
  'init: starting sh',
  '$ ech^C',
  // the arrows move back three places; the o goes in before "rld", which is redrawn
  '$ echo wrld\b\b\borld\b\b\b',
  'world',
  // back two places, erase the x: the rest is redrawn over it, one blank clears the end
  '$ echo helxlo\b\b\blo \b\b\b',
  'hello',
  // up once shows the last line; up again: back over it, the line before it (as long: no blanks)
  `$ echo hello${'\b'.repeat(10)}echo world`,
  'world',
  '$ spin',
  '^C',
  'sh: killed by interrupt',
  '$ cat',
  'typed, then^C',
  'sh: killed by interrupt',
  '$ exit',
  'init exited with status 130: powering off',
  '',
].join('\n');

describe('console keys: Ctrl-C, the foreground group, the line editor', () => {
  it('natively', () => {
    const r = script(nativeGuest(), SESSION);
    expect(r.transcript).toBe(TRANSCRIPT);
    expect(r.status).toBe(130);
  });

  it('under pv, through the pv console', () => {
    const r = script(pvGuest(), SESSION);
    expect(r.transcript).toBe(TRANSCRIPT);
    expect(r.status).toBe(130);
  });
});
