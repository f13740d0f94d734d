// The host the daemon runs in its worker, driven in-process: several pv domains on one shared
// machine, the lifecycle state machine, on_poweroff/on_crash actions, a throwing handler that
// crashes one domain and not the host, and the monitor.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateDir } from '../../daemon/state-dir.ts';
import { Host, HostError, MAX_CRASH_RESTARTS, type StateEvent } from '../../daemon/host.ts';
import { validateDefinition, type DomainDefinitionInput } from '../../daemon/definition.ts';
import { monitorCommand } from '../../daemon/monitor.ts';
import { HvmVcpu } from '../../hypervisor/hvm/state.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';
import { leastPvDomainPages } from '../../hypervisor/pv/builder.ts';
import type { PvMode } from '../../hypervisor/pv/mode.ts';
import { pvDomain } from '../../hypervisor/pv/state.ts';
import { currentReservation } from '../../hypervisor/pv/hypercalls.ts';
import { PV } from './default-engine.ts';

// the initrd's size comes from the build (it changes with every user program); the pages free are the kernel's footprint, pinned
const INITRD_BYTES = buildGuestKernel({ arch: 'pv' }).initrd.length;
const BANNER = `xenolith kernel 0.1 (pv) booting\nmemory: 8192 KiB, 1840 pages free\ninitrd: 20 programs, ${INITRD_BYTES} bytes\ntimer: 1000 Hz\ninit: starting sh\n$ `;

function makeHost() {
  const out: Record<string, string> = {};
  const events: StateEvent[] = [];
  const host = new Host(null, {
    hostMemoryMiB: 64,
    pacing: 'fast',
    standardGuest: (arch) => buildGuestKernel({ arch }),
    onEvent: (e) => events.push(e),
    onConsole: (name, bytes) => (out[name] = (out[name] ?? '') + Buffer.from(bytes).toString('latin1')),
  });
  const define = (d: Partial<DomainDefinitionInput> & { name: string }) => host.define(validateDefinition({ mode: 'pv', memory: 8, ...d }));
  /** step until `done` (at most `max` steps); the number of steps taken */
  const until = (done: () => boolean, max = 400) => {
    for (let k = 0; k < max; k++) {
      if (done()) return k;
      host.step();
    }
    throw new Error(`not done after ${max} steps`);
  };
  return { host, out, events, define, until };
}

function refusal(f: () => unknown): [number, string] {
  try {
    f();
  } catch (e) {
    if (e instanceof HostError) return [e.status, e.message];
    throw e;
  }
  throw new Error('not refused');
}

describe('the host', () => {
  it('runs two pv domains on one shared machine, each with its own console', () => {
    const { host, out, define, until } = makeHost();
    define({ name: 'a', console: { input: 'echo hi from a\\n' } });
    define({ name: 'b', console: { input: 'echo hi from b\\n' } });
    host.start('a');
    host.start('b');
    until(() => (out.a ?? '').endsWith('hi from a\n$ ') && (out.b ?? '').endsWith('hi from b\n$ '));
    expect(out.a).toBe(`${BANNER}echo hi from a\nhi from a\n$ `);
    expect(out.b).toBe(`${BANNER}echo hi from b\nhi from b\n$ `);
    const [a, b] = host.list();
    expect([a!.id, a!.machine, b!.id, b!.machine]).toEqual([1, PV, 2, PV]);
    host.consoleInput('b', Buffer.from('echo again\n'));
    until(() => out.b!.endsWith('again\n$ '));
    expect(out.a).toBe(`${BANNER}echo hi from a\nhi from a\n$ `);
    expect(monitorCommand(host, 'a', 'info mode').split('\n').slice(0, 3)).toEqual([
      'mode: pv (paravirtualization: hypercalls, validated direct page tables, event channels)',
      'profile: p4-2003',
      `machine: ${PV} (domain id 1, shared with 1 other running domain)`,
    ]);
  });

  it('runs trap and native domains as machines of their own beside the shared pv machine', () => {
    const { host, out, define, until } = makeHost();
    define({ name: 'n', mode: 'native', console: { input: 'echo same\\n' } });
    define({ name: 't', mode: 'trap', console: { input: 'echo same\\n' } });
    define({ name: 'p' });
    for (const n of ['n', 't', 'p']) host.start(n);
    until(() => (out.n ?? '').endsWith('same\n$ ') && (out.t ?? '').endsWith('same\n$ ') && (out.p ?? '').endsWith('$ '));
    // the unmodified kernel prints the same under trap-and-emulate as on bare hardware
    expect(out.t).toBe(out.n);
    expect(host.list().map((d) => [d.name, d.machine])).toEqual([
      ['n', 'own'],
      ['p', PV],
      ['t', 'own'],
    ]);
    expect(monitorCommand(host, 't', 'info mode').split('\n')[0]).toBe('mode: trap (trap-and-emulate: unmodified kernel at ring 1, shadow page tables)');
    expect(monitorCommand(host, 'n', 'info mode').split('\n')[0]).toBe('mode: native (no hypervisor: the kernel on its own bare XL32 machine)');
    expect(host.machineStats().map((m) => m.key)).toEqual(['own:n', 'own:t', PV]);
  });

  it('bt_adaptive: the domain runs bt with adaptive retranslation (its counters in info mode), and its recording says so', () => {
    const { host, define } = makeHost();
    const log = join(mkdtempSync(join(tmpdir(), 'xenolith-adaptive-')), 'a.log');
    define({ name: 'a', mode: 'bt', shadow: 'traced', bt_adaptive: true, record: log, console: { input: 'echo x\\n' } });
    host.start('a');
    host.step();
    expect(monitorCommand(host, 'a', 'info mode')).toMatch(/^adaptive retranslation: \d+ stores retranslated, \d+ store callouts \(\d+ into traced page tables\)$/m);
    expect(JSON.parse(readFileSync(log, 'utf8').split('\n')[0]!).run).toMatchObject({ mode: 'bt', shadow: 'traced', btAdaptive: true });
    host.destroy('a');
  });

  it("a traced shadow's counters are in domstats and info shadow (trap, and hvm on shadow paging)", () => {
    const { host, out, define, until } = makeHost();
    define({ name: 't', mode: 'trap', shadow: 'traced', console: { input: 'echo same\\n' } });
    define({ name: 'h', mode: 'hvm', shadow: 'traced', console: { input: 'echo same\\n' } });
    define({ name: 'f', mode: 'hvm', console: { input: 'echo same\\n' } });
    for (const n of ['t', 'h', 'f']) host.start(n);
    until(() => ['t', 'h', 'f'].every((n) => (out[n] ?? '').endsWith('same\n$ ')));
    expect(out.h).toBe(out.t);
    for (const n of ['t', 'h']) {
      const s = host.domstats(n).stats.shadow as Record<string, number>;
      // init's and the shell's spaces were each missed once, then hit; the kernel wrote traced tables
      expect(s.spaceHits).toBeGreaterThan(0);
      expect(s.spaceMisses).toBeGreaterThan(0);
      expect(s.traceFaults).toBeGreaterThan(0);
      expect(monitorCommand(host, n, 'info shadow')).toMatch(new RegExp(`^traceFaults: ${s.traceFaults}\nspaceHits: ${s.spaceHits}\nspaceMisses: ${s.spaceMisses}$`, 'm'));
    }
    // the flushing shadow has none of them
    expect(host.domstats('f').stats.shadow).toMatchObject({ traceFaults: 0, spaceHits: 0, spaceMisses: 0 });
    expect(monitorCommand(host, 'f', 'info shadow')).toMatch(/^hiddenFaults: [1-9]\d*$/m);
  });

  it('gives a native domain a machine of `vcpus` CPUs and an hvm domain `vcpus` vCPUs: nproc prints 2 in both', () => {
    const { host, out, define, until } = makeHost();
    define({ name: 'n', mode: 'native', vcpus: 2, console: { input: 'nproc\\n' } });
    define({ name: 'h', mode: 'hvm', vcpus: 2, console: { input: 'nproc\\n' } });
    for (const n of ['n', 'h']) host.start(n);
    until(() => ['n', 'h'].every((n) => (out[n] ?? '').endsWith('$ nproc\n2\n$ ')));
    expect(out.h).toContain('smp: 2 CPUs\n');
    // the native domain's statistics are its machine's: every CPU's instructions and counters, the clock of the CPU that runs
    const bare = host.live('n').bare!;
    expect(host.domstats('n').stats.instructions).toBe(bare.cpus[0]!.instructions + bare.cpus[1]!.instructions);
    expect(bare.cpus[1]!.instructions).toBeGreaterThan(0);
    expect(host.domstats('n').stats.portWrites).toBe(bare.cpus[0]!.stats.portWrites + bare.cpus[1]!.stats.portWrites);
    expect(host.machineStats().find((m) => m.key === 'own:n')!.cycles).toBe(bare.now);
    // the monitor's info cpus: a line per CPU (vCPU), CPU 0 marked; an hvm domain's vCPUs each on its physical CPU
    const sym = '<[^>]+>';
    expect(monitorCommand(host, 'n', 'info cpus')).toMatch(new RegExp(`^\\* CPU #0: pc=0x[0-9a-f]{8} ${sym} cpl=\\d (running|halted)\n  CPU #1: pc=0x[0-9a-f]{8} ${sym} cpl=\\d (running|halted)$`));
    expect(monitorCommand(host, 'h', 'info cpus')).toMatch(new RegExp(`^\\* CPU #0: pc=0x[0-9a-f]{8} ${sym} cpl=\\d (runnable|blocked) pcpu 0\n  CPU #1: pc=0x[0-9a-f]{8} ${sym} cpl=\\d (runnable|blocked) pcpu 1$`));
    // cpu N (QEMU's): the other commands show vCPU N - its registers and its address space
    for (const n of ['n', 'h']) {
      const live = host.live(n);
      const st = (k: number) => (live.bare ? live.bare.cpus[k]!.saveState() : live.hv!.vcpuState(live.domain!.vcpus[k]!));
      const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
      expect(monitorCommand(host, n, 'cpu')).toBe("CPU #0 selected (info registers, info mem, info tlb, x/ and break's addresses use its registers and address space)");
      expect(monitorCommand(host, n, 'info registers')).toContain(`pc =${hex(st(0).pc)} `);
      expect(monitorCommand(host, n, 'cpu 1')).toBe("CPU #1 selected (info registers, info mem, info tlb, x/ and break's addresses use its registers and address space)");
      expect(monitorCommand(host, n, 'info cpus')).toMatch(/^  CPU #0: .*\n\* CPU #1: /);
      const regs = monitorCommand(host, n, 'info registers');
      expect(regs).toContain(`pc =${hex(st(1).pc)} `);
      expect(regs).toContain(`cycles=${st(1).cycles} instructions=${st(1).instructions}`);
      // the guest's CR3 (under hvm on shadow paging the virtual one, not the shadow root the real CPU holds)
      const cr3 = live.bare ? st(1).cr3 : (live.domain!.vcpus[1]!.modeState as HvmVcpu).shadow!.v.cr3;
      expect(regs).toContain(`cr3=${hex(cr3)}`);
      expect(monitorCommand(host, n, 'x/1i pc')).toMatch(new RegExp(`^${hex(st(1).pc)} `));
      expect(() => monitorCommand(host, n, 'cpu 2')).toThrow(new HostError(400, `cpu: no vCPU 2 (domain '${n}' has 2: 0..1)`));
      expect(() => monitorCommand(host, n, 'cpu one')).toThrow(new HostError(400, `cpu: no vCPU one (domain '${n}' has 2: 0..1)`));
      expect(monitorCommand(host, n, 'cpu 0')).toContain('CPU #0 selected');
    }
  });

  it('runs a domain on the engine its definition names: the same console either way, pv domains of each engine on their own shared machine', () => {
    const { host, out, define, until } = makeHost();
    define({ name: 'i', engine: 'interpreter', console: { input: 'echo same\\n' } });
    define({ name: 't', engine: 'translator', console: { input: 'echo same\\n' } });
    define({ name: 'n', mode: 'native', engine: 'translator', console: { input: 'echo same\\n' } });
    for (const n of ['i', 't', 'n']) host.start(n);
    until(() => ['i', 't', 'n'].every((n) => (out[n] ?? '').endsWith('same\n$ ')));
    expect(out.t).toBe(out.i);
    expect(host.list().map((d) => [d.name, d.machine])).toEqual([
      ['i', 'pv:p4-2003:interpreter'],
      ['n', 'own'],
      ['t', 'pv:p4-2003'],
    ]);
  });

  it('a pv domain too small for its kernel is refused with the least memory it needs, and the host runs on', () => {
    const { host, define, out } = makeHost();
    define({ name: 'tiny', memory: 1.5 });
    const least = leastPvDomainPages(buildGuestKernel({ arch: 'pv' }).kernel, INITRD_BYTES) * 4;
    expect(refusal(() => host.start('tiny'))).toEqual([
      409,
      `domain 'tiny' cannot start: the domain's 1536 KiB cannot hold the kernel, initrd and boot layout: they need at least ${least} KiB (${(Math.ceil((least / 1024) * 100) / 100).toFixed(2)} MiB, rounded up)`,
    ]);
    define({ name: 'ok' });
    host.start('ok');
    for (let k = 0; k < 400 && !(out.ok ?? '').endsWith('$ '); k++) host.step();
    expect(out.ok).toMatch(/\$ $/);
  });

  it('keeps the lifecycle rules: one transition at a time, refusals say why', () => {
    const { host, events, define } = makeHost();
    define({ name: 'a' });
    expect(refusal(() => host.suspend('a'))).toEqual([409, "domain 'a' is defined; only a running domain can be suspended"]);
    host.start('a');
    expect(refusal(() => host.start('a'))).toEqual([409, "domain 'a' is already running"]);
    expect(host.suspend('a').status).toBe('paused');
    expect(refusal(() => host.suspend('a'))).toEqual([409, "domain 'a' is paused; only a running domain can be suspended"]);
    expect(refusal(() => host.undefine('a'))).toEqual([409, "domain 'a' is paused: destroy it first (xenolith destroy a)"]);
    expect(host.resume('a').status).toBe('running');
    const d = host.destroy('a');
    expect([d.status, d.stopReason, d.id]).toEqual(['shut off', 'destroyed', null]);
    expect(refusal(() => host.destroy('a'))).toEqual([409, "domain 'a' is not running (it is shut off)"]);
    host.undefine('a');
    expect(refusal(() => host.dominfo('a'))).toEqual([404, "no domain named 'a' (xenolith list --all shows the defined ones)"]);
    expect(events.map((e) => `${e.status}${e.stopReason ? `/${e.stopReason}` : ''}`)).toEqual(['defined', 'running', 'paused', 'running', 'shut off/destroyed', 'undefined']);
  });

  it('applies on_poweroff: destroy, restart, preserve', () => {
    const { host, out, define, until } = makeHost();
    define({ name: 'd', on_poweroff: 'destroy' });
    define({ name: 'r', on_poweroff: 'restart' });
    define({ name: 'p', on_poweroff: 'preserve' });
    for (const n of ['d', 'r', 'p']) host.start(n);
    until(() => ['d', 'r', 'p'].every((n) => (out[n] ?? '').endsWith('$ ')));
    for (const n of ['d', 'r', 'p']) host.shutdown(n);
    until(() => host.dominfo('d').status === 'shut off' && host.dominfo('p').status === 'shut off' && host.dominfo('r').restarts === 1);
    const [d, p, r] = host.list();
    expect([d!.status, d!.stopReason, d!.stopStatus, d!.id]).toEqual(['shut off', 'poweroff', 0, null]);
    expect([r!.status, r!.restarts, r!.id]).toEqual(['running', 1, 4]);
    // preserved: the memory and registers stay for the monitor until destroy
    expect([p!.status, p!.stopReason, p!.id]).toEqual(['shut off', 'poweroff', 3]);
    expect(monitorCommand(host, 'p', 'info cpus')).toMatch(/^\* CPU #0: pc=0x[0-9a-f]{8} <[^>]+> cpl=\d stopped$/);
    expect(host.start('p').id).toBe(5);
    expect(host.destroy('p').id).toBe(null);
  });

  it('shutdown and reboot reach a pv guest through the control path (VIRQ_CONTROL); on_reboot applies', () => {
    const { host, out, define, until } = makeHost();
    define({ name: 's' });
    define({ name: 'r', on_reboot: 'restart' });
    define({ name: 'x', on_reboot: 'destroy' });
    for (const n of ['s', 'r', 'x']) host.start(n);
    until(() => ['s', 'r', 'x'].every((n) => (out[n] ?? '').endsWith('$ ')));
    host.shutdown('s');
    host.reboot('r');
    host.reboot('x');
    until(() => host.dominfo('s').status === 'shut off' && host.dominfo('x').status === 'shut off' && host.dominfo('r').restarts === 1 && out.r!.endsWith('$ '));
    // the guest kernel took the request from its shared-info page: no console input was typed
    expect(out.s).toBe(`${BANNER}\nkernel: shutdown requested: powering off\n`);
    expect(out.x).toBe(`${BANNER}\nkernel: reboot requested\n`);
    expect(out.r).toBe(`${BANNER}\nkernel: reboot requested\n${BANNER}`);
    const [s, r, x] = ['s', 'r', 'x'].map((n) => host.dominfo(n));
    expect([s!.status, s!.stopReason, s!.stopStatus]).toEqual(['shut off', 'poweroff', 0]);
    expect([r!.status, r!.restarts]).toEqual(['running', 1]);
    expect([x!.status, x!.stopReason]).toEqual(['shut off', 'reboot']);
  });

  it('a daemon starting again shuts off the domains its predecessor left running, and says why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenolith-host-'));
    try {
      const opts = { hostMemoryMiB: 64, pacing: 'fast' as const, standardGuest: (arch: 'native' | 'pv') => buildGuestKernel({ arch }) };
      const first = new Host(new StateDir(dir), opts);
      first.define(validateDefinition({ name: 'up', mode: 'pv', memory: 8 }));
      first.define(validateDefinition({ name: 'idle', mode: 'pv', memory: 8 }));
      first.start('up');
      first.step();
      expect(JSON.parse(readFileSync(join(dir, 'running.json'), 'utf8'))).toEqual({ running: ['up'], clean: false });
      // killed: nothing more is written; the next daemon finds running.json as it was
      const second = new Host(new StateDir(dir), opts);
      expect([second.dominfo('up').status, second.dominfo('up').stopReason]).toEqual(['shut off', 'daemon-died']);
      expect(second.dominfo('up').stopDetail).toBe('it was running when the daemon ended without stopping it (killed or crashed); its running state ended with the host');
      expect([second.dominfo('idle').status, second.dominfo('idle').stopReason]).toEqual(['defined', null]);
      second.start('up');
      second.shutdownAll();
      // daemon stop: the domains it ended are marked as such
      const third = new Host(new StateDir(dir), opts);
      expect([third.dominfo('up').status, third.dominfo('up').stopReason]).toEqual(['shut off', 'daemon-stopped']);
      expect(JSON.parse(readFileSync(join(dir, 'running.json'), 'utf8'))).toEqual({ running: [], clean: false });
      first.shutdownAll();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('setmem balloons a running pv domain: the guest gives pages back and takes them again', () => {
    const { host, out, define, until } = makeHost();
    define({ name: 'm' });
    host.start('m');
    until(() => (out.m ?? '').endsWith('$ '));
    const pv = pvDomain(host.live('m').domain!);
    const free = () => {
      const at = out.m!.length;
      host.consoleInput('m', Buffer.from('free\n'));
      until(() => out.m!.slice(at).endsWith('$ '));
      return out.m!.slice(at);
    };
    expect(free()).toBe('free\nfree: 1807 of 1844 pages free, 3 processes\n$ ');
    expect(currentReservation(pv)).toBe(2048);
    host.setmem('m', 6);
    until(() => currentReservation(pv) === 1536);
    expect(free()).toBe('free\nfree: 1295 of 1844 pages free, 3 processes\n$ ');
    host.setmem('m', 8);
    until(() => currentReservation(pv) === 2048);
    expect(free()).toBe('free\nfree: 1807 of 1844 pages free, 3 processes\n$ ');
    expect(refusal(() => host.setmem('m', 9))).toEqual([409, "domain 'm' can balloon up to 8 MiB, its memory at start (the definition's memory applies from the next start)"]);
    expect(host.dominfo('m').memoryMiB).toBe(8);
  });

  it('a throwing handler crashes the domain on the CPU, never the host; on_crash restart gives up after a crash loop', () => {
    const { host, out, define, until } = makeHost();
    define({ name: 'good', console: { input: 'echo ok\\n' } });
    define({ name: 'bad', on_crash: 'restart' });
    host.start('good');
    host.start('bad');
    const pv = host.live('bad').domain!.mode as PvMode;
    const run = pv.runVcpu.bind(pv);
    pv.runVcpu = (vcpu, deadline) => {
      if (vcpu.domain.name === 'bad') throw new Error('boom');
      return run(vcpu, deadline);
    };
    until(() => host.dominfo('bad').status === 'crashed' && (out.good ?? '').endsWith('ok\n$ '));
    const bad = host.dominfo('bad');
    expect([bad.status, bad.stopReason, bad.restarts]).toEqual(['crashed', 'crashed', MAX_CRASH_RESTARTS]);
    expect(bad.stopDetail).toBe(`hypervisor error: boom; crashed ${MAX_CRASH_RESTARTS + 1} times in a row: not restarted again`);
    expect(host.dominfo('good').status).toBe('running');
    host.consoleInput('good', Buffer.from('echo still here\n'));
    until(() => out.good!.endsWith('still here\n$ '));
  });

  it('stops at a breakpoint where a block begins, continues past it, and deletes it', () => {
    const { host, out, define, until } = makeHost();
    define({ name: 'b' });
    host.start('b');
    until(() => (out.b ?? '').endsWith('$ '));
    expect(monitorCommand(host, 'b', 'break sysWrite')).toMatch(/^1: 0x[0-9a-f]{8} <sysfile\.sysWrite>$/);
    host.consoleInput('b', Buffer.from('echo hi\n'));
    until(() => host.dominfo('b').status === 'paused');
    const at = monitorCommand(host, 'b', 'break').slice(3, 13);
    expect(host.dominfo('b').stopDetail).toBe(`breakpoint 1 at ${at}`);
    expect(monitorCommand(host, 'b', 'info cpus')).toBe(`* CPU #0: pc=${at} <sysfile.sysWrite> cpl=1 runnable`);
    // the shell writes the echo and then its prompt: two more stops at sysWrite
    monitorCommand(host, 'b', 'cont');
    until(() => host.dominfo('b').status === 'paused');
    expect(monitorCommand(host, 'b', 'delete 1')).toBe('no breakpoints');
    monitorCommand(host, 'b', 'cont');
    until(() => out.b!.endsWith('hi\n$ '));
    expect(host.dominfo('b').status).toBe('running');
  });

  it('stops exactly at a breakpoint inside a block, steps one instruction at a time, and other domains at that address pass it', () => {
    const { host, out, define, until } = makeHost();
    define({ name: 'b' });
    define({ name: 'other' });
    host.start('b');
    host.start('other');
    until(() => (out.b ?? '').endsWith('$ ') && (out.other ?? '').endsWith('$ '));
    // the first instructions of sysWrite: straight-line code, one block
    const insns = monitorCommand(host, 'b', 'x/4i sysWrite').split('\n').map((l) => l.slice(0, 10));
    expect(monitorCommand(host, 'b', 'x/4i sysWrite').split('\n').map((l) => /<(\S+)>/.exec(l)![1])).toEqual([
      'sysfile.sysWrite', 'sysfile.sysWrite+0x4', 'sysfile.sysWrite+0x8', 'sysfile.sysWrite+0xc',
    ]);
    expect(monitorCommand(host, 'b', 'break sysWrite+0x8')).toBe(`1: ${insns[2]} <sysfile.sysWrite+0x8>`);
    // the other domain runs the same kernel through sysWrite+0x8 while b's breakpoint is armed
    host.consoleInput('other', Buffer.from('echo there\n'));
    until(() => out.other!.endsWith('there\n$ '));
    expect([host.dominfo('b').status, host.dominfo('other').status]).toEqual(['running', 'running']);
    host.consoleInput('b', Buffer.from('echo hi\n'));
    until(() => host.dominfo('b').status === 'paused');
    expect(host.dominfo('b').stopDetail).toBe(`breakpoint 1 at ${insns[2]}`);
    expect(monitorCommand(host, 'b', 'info cpus')).toBe(`* CPU #0: pc=${insns[2]} <sysfile.sysWrite+0x8> cpl=1 runnable`);
    expect(monitorCommand(host, 'b', 'step')).toBe(`1 instruction; pc ${insns[3]} <sysfile.sysWrite+0xc>`);
    expect(monitorCommand(host, 'b', 'info cpus')).toBe(`* CPU #0: pc=${insns[3]} <sysfile.sysWrite+0xc> cpl=1 runnable`);
    // cont: the shell writes its output and prompt through sysWrite again: the next stop is exact too
    monitorCommand(host, 'b', 'cont');
    until(() => host.dominfo('b').status === 'paused');
    expect(monitorCommand(host, 'b', 'info cpus')).toBe(`* CPU #0: pc=${insns[2]} <sysfile.sysWrite+0x8> cpl=1 runnable`);
    monitorCommand(host, 'b', 'delete');
    monitorCommand(host, 'b', 'cont');
    until(() => out.b!.endsWith('hi\n$ '));
  });

  it('the monitor disassembles at symbols and refuses what it does not know', () => {
    const { host, define, until } = makeHost();
    define({ name: 'm' });
    host.start('m');
    until(() => host.dominfo('m').instructions > 0);
    const lines = monitorCommand(host, 'm', 'x/2i kmain').split('\n');
    expect(lines.length).toBe(2);
    expect(lines[0]).toMatch(/^0x[0-9a-f]{8} <main.kmain>: \S/);
    expect(lines[1]).toMatch(/^0x[0-9a-f]{8} <main.kmain\+0x[48]>: \S/);
    expect(monitorCommand(host, 'm', 'x/4x kmain').split('\n')).toHaveLength(1);
    expect(refusal(() => monitorCommand(host, 'm', 'info nothing'))).toEqual([400, 'unknown monitor command "info nothing" (help lists them)']);
    expect(refusal(() => monitorCommand(host, 'm', 'x/2i nosuchsym'))).toEqual([400, 'unknown symbol "nosuchsym" (a kernel symbol, prog:symbol, or an address like 0x1000)']);
    expect(monitorCommand(host, 'm', 'stop')).toBe("domain 'm' stopped");
    expect(host.dominfo('m').status).toBe('paused');
    expect(monitorCommand(host, 'm', 'cont')).toBe("domain 'm' continues");
  });
});
