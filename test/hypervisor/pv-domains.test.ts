// Several xenolith kernel domains on one hypervisor: each runs exactly as it does alone, none can
// reach another's frames, BVT weights divide the CPU between busy ones, and the control domain
// manages the others through dom0_op while an unprivileged domain is refused.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Hc, HvLayout, MmuextCmd, UvmFlags } from '../../hypercalls/numbers.ts';
import { HcErr } from '../../hypercalls/errors.ts';
import { StartFlags } from '../../hypercalls/structs.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import type { Domain } from '../../hypervisor/core/domain.ts';
import { OWNER_HYPERVISOR } from '../../hypervisor/core/frames.ts';
import { PvMode } from '../../hypervisor/pv/mode.ts';
import { BvtScheduler } from '../../hypervisor/pv/bvt.ts';
import { pvGuest } from './pv-harness.ts';
import { compiledGuest, loadVcpu, PAGE } from './pv-helpers.ts';

const MiB = 1024 * 1024;
const P = 1;
const W = 2;

/** Kernel domains of 16 MiB, one per command line, on one machine. */
function kernels(cmdlines: string[], scheduler?: BvtScheduler) {
  const build = pvGuest();
  const opts: { memoryBytes: number; scheduler?: BvtScheduler } = { memoryBytes: (cmdlines.length * 16 + 8) * MiB };
  if (scheduler) opts.scheduler = scheduler;
  const hv = new Hypervisor(opts);
  const mode = new PvMode();
  const domains = cmdlines.map((cmdline, k) =>
    hv.createDomain(mode, { name: `k${k}`, memoryBytes: 16 * MiB, devices: false }, { kernel: build.kernel, initrd: build.initrd, cmdline }));
  return { hv, mode, domains };
}

/**
 * Every present entry of every table the domain has pinned or loaded, checked: a directory names
 * only tables of its own; a table maps only frames of its own or hypervisor pages shared with it.
 * The number of entries checked.
 */
function checkTablesOwn(hv: Hypervisor, mode: PvMode, d: Domain): number {
  const types = mode.host.types;
  const owner = hv.frames.owner;
  const mayMap = (f: number) => owner[f] === d.id || (owner[f] === OWNER_HYPERVISOR && mode.host.sharedWith.get(f) === d.id);
  let checked = 0;
  for (const dir of d.p2m) {
    if (types.type[dir] !== 2 || types.typeCount[dir] === 0) continue;
    for (let k = 0; k < HvLayout.PDE; k++) {
      const pde = hv.mem.read32(dir * PAGE + k * 4);
      if ((pde & P) === 0) continue;
      const l1 = pde >>> 12;
      expect(owner[l1], `directory entry ${k} of domain ${d.id}`).toBe(d.id);
      for (let j = 0; j < 1024; j++) {
        const e = hv.mem.read32(l1 * PAGE + j * 4);
        if ((e & P) === 0) continue;
        expect(mayMap(e >>> 12), `frame 0x${(e >>> 12).toString(16)} in a table of domain ${d.id}`).toBe(true);
        checked++;
      }
    }
  }
  return checked;
}

describe('several xenolith kernel domains at once', () => {
  it('runs three kernel domains at once, each passing usertests with exactly the transcript it prints alone', () => {
    const alone = kernels(['usertests']);
    alone.hv.run({ maxCycles: 2_000_000_000 });
    const expected = alone.domains[0]!.consoleOutput();
    expect(expected).toContain('usertests: 31 passed, 0 failed\ninit exited with status 0: powering off\n');
    const { hv, domains } = kernels(['usertests', 'usertests', 'usertests']);
    expect(hv.run({ maxCycles: 4_000_000_000 }).reason).toBe('all-stopped');
    for (const d of domains) {
      expect([d.stopReason, d.stopStatus]).toEqual(['poweroff', 0]);
      expect(d.consoleOutput()).toBe(expected);
    }
  });

  it("keeps them apart: each domain's frames are its own, its tables map nothing of another's, and mapping another's frame is refused", () => {
    const { hv, mode, domains } = kernels(['usertests', 'usertests']);
    const [a, b] = domains as [Domain, Domain];
    hv.run({ maxCycles: 20_000_000 });
    // disjoint memory, each frame owned by its domain, the m2p table naming it back
    const fa = new Set(a.p2m);
    expect(Array.from(b.p2m).some((f) => fa.has(f))).toBe(false);
    for (const d of domains) d.p2m.forEach((f, pfn) => expect([hv.frames.owner[f], mode.host.m2p[f]]).toEqual([d.id, pfn]));
    // mid-run, with processes and their address spaces live in both
    expect(checkTablesOwn(hv, mode, a)).toBeGreaterThan(8192);
    expect(checkTablesOwn(hv, mode, b)).toBeGreaterThan(8192);
    // a's kernel asks to map one of b's frames (writable, then read-only), to write b's page
    // directory, and to pin b's frame as its table: each refused, nothing changed
    const vcpu = a.vcpus[0]!;
    loadVcpu(hv, vcpu);
    const bFrame = b.p2m[0x300]!;
    const bDir = mode.pv(b).vcpus[0]!.baseptr;
    const before = [hv.mem.readBytes(bFrame * PAGE, PAGE), hv.mem.readBytes(bDir * PAGE, PAGE)];
    expect(mode.hypercall(vcpu, Hc.UPDATE_VA_MAPPING, 0x5000, (bFrame * PAGE) | P | W, UvmFlags.INVLPG)).toBe(HcErr.EPERM);
    expect(mode.hypercall(vcpu, Hc.UPDATE_VA_MAPPING, 0x5000, (bFrame * PAGE) | P, UvmFlags.INVLPG)).toBe(HcErr.EPERM);
    // (requests in a's free page 6, mapped at 0x6000 in its kernel's tables)
    a.memory.write32(0x6000, bDir * PAGE);
    a.memory.write32(0x6004, 0);
    expect(mode.hypercall(vcpu, Hc.MMU_UPDATE, 0x6000, 1, 0)).toBe(HcErr.EPERM);
    a.memory.write32(0x6000, MmuextCmd.PIN_L1_TABLE);
    a.memory.write32(0x6004, bFrame);
    expect(mode.hypercall(vcpu, Hc.MMUEXT_OP, 0x6000, 1, 0)).toBe(HcErr.EPERM);
    expect(mode.pv(a).vcpus[0]!.baseptr).not.toBe(bDir);
    expect(hv.mem.readBytes(bDir * PAGE, PAGE)).toEqual(before[1]);
    expect(hv.mem.readBytes(bFrame * PAGE, PAGE)).toEqual(before[0]);
    // both still finish their suites
    hv.run({ maxCycles: 2_000_000_000 });
    for (const d of domains) expect(d.consoleOutput()).toContain('usertests: 31 passed, 0 failed\n');
  });

  it('divides the CPU 1:2 between two busy kernel domains of BVT weights 1 and 2 (within 2%)', () => {
    const sched = new BvtScheduler();
    const { hv, domains } = kernels(['spin', 'spin'], sched);
    domains.forEach((d, k) => sched.setParams(d.id, { weight: k + 1 }));
    // both boot and start spinning, then the shares are measured over 50 ms
    hv.run({ maxCycles: 30_000_000 });
    for (const d of domains) expect(d.consoleOutput()).toMatch(/timer: 1000 Hz\n$/);
    const start = domains.map((d) => d.stats.runCycles);
    hv.run({ maxCycles: 150_000_000 });
    const used = domains.map((d, k) => d.stats.runCycles - start[k]!);
    const share = used[1]! / (used[0]! + used[1]!);
    expect(Math.abs(share - 2 / 3) / (2 / 3)).toBeLessThan(0.02);
  });
});

describe('the control domain (dom0_op)', () => {
  const guest = (n: string) => compiledGuest(fileURLToPath(new URL(`../guest-programs/pv/${n}.ts`, import.meta.url)));

  it('manages another domain: info, pause (its CPU time stops) and unpause, weight, console, destroy; an unprivileged domain is refused and changes nothing', () => {
    const build = pvGuest();
    const hv = new Hypervisor({ memoryBytes: 28 * MiB, scheduler: new BvtScheduler() });
    const mode = new PvMode();
    const control = hv.createDomain(mode, { name: 'control', memoryBytes: 2 * MiB, devices: false }, { kernel: guest('control') });
    const target = hv.createDomain(mode, { name: 'target', memoryBytes: 16 * MiB, devices: false }, { kernel: build.kernel, initrd: build.initrd, cmdline: 'spin' });
    const intruder = hv.createDomain(mode, { name: 'intruder', memoryBytes: 2 * MiB, devices: false }, { kernel: guest('intruder') });
    expect([mode.pv(control).privileged, mode.pv(target).privileged, mode.pv(intruder).privileged]).toEqual([true, false, false]);
    expect(hv.run({ maxCycles: 500_000_000 }).reason).toBe('all-stopped');
    // the intruder ran first (the control domain sleeps while the target boots): all refused
    expect(intruder.consoleOutput()).toBe(
      ['intruder: start_info flags: 0', 'info: -1', 'pause: -1', 'unpause: -1', 'weight 7: -1', 'read console: -1', 'destroy: -1', ''].join('\n'),
    );
    expect(control.consoleOutput()).toBe([
      `control: start_info flags: ${StartFlags.PRIVILEGED | StartFlags.INITDOMAIN}`,
      'info of domain 2: 2',
      '  flags: 1', // running
      '  pages: 4096',
      '  max pages: 4096',
      '  vcpus: 1',
      '  weight: 1', // the intruder's weight 7 did not happen
      '  has run: 1',
      'pause: 0',
      'pause again: -22',
      '  flags: 5', // paused, its vCPU runnable
      '  ran while paused: 0',
      'unpause: 0',
      '  ran after unpause: 1',
      '  flags: 1',
      'weight 3: 0',
      '  weight: 3',
      'weight 0: -22',
      'read console: 40',
      '  "xenolith kernel 0.1 (pv) booting',
      'memory:"',
      'read past its end: 0',
      'pause itself: -22',
      'destroy: 0',
      'info of domain 2 or the next: 3', // domain 2 is gone; 3 (the intruder) has shut down
      '  flags: 8',
      'info of domain 4 or the next: -3',
      'unknown command: -22',
      '',
    ].join('\n'));
    expect(target.stopReason).toBe('destroyed');
    expect(hv.domain(target.id)).toBeUndefined();
    expect(Array.from(hv.frames.owner).filter((o) => o === target.id)).toHaveLength(0);
    expect([control.stopReason, intruder.stopReason]).toEqual(['poweroff', 'poweroff']);
  });
});
