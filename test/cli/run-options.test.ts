// The small things a new user meets first: --version, profile names in --help, a user-program
// image given to `run`, too much memory under pv, and --hypercalls used wrongly.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { xenolith } from './run-in-process.ts';
import { getProfile } from '../../machine/costs.ts';
import { encodeImage } from '../../machine/image.ts';
import { guestImage } from '../hypervisor/trap-harness.ts';
import { ROUNDS, STORE_LOOP } from '../hypervisor/fixtures/traced-guests.ts';

describe('xenolith (small things)', () => {
  it('--version prints the package version', async () => {
    const r = await xenolith('--version');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${(JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version}\n`);
  });

  it('the help of every verb that takes --profile names the profiles', async () => {
    for (const verb of ['run', 'compare', 'demo']) {
      const r = await xenolith('help', verb);
      expect(r.stdout, verb).toMatch(/--profile <name> +CPU cost profile:\s+p4-2003,\s+p4-2006-vtx,\s+core2-2006-vtx,\s+modern\s+\(default:\s+"p4-2003"\)/);
    }
  });

  it('compare --ple needs --smp and hvm among the modes, in one line', async () => {
    const noSmp = await xenolith('compare', '--ple', '--no-progress');
    expect([noSmp.status, noSmp.stderr]).toEqual([2, "xenolith: --ple turns on pause-loop exiting for hvm's suite on several vCPUs; it needs --smp N\n"]);
    const noHvm = await xenolith('compare', '--smp', '2', '--ple', '--modes', 'trap,bt', '--no-progress');
    expect([noHvm.status, noHvm.stderr]).toEqual([2, 'xenolith: --ple applies to hvm, which --modes leaves out (native, trap, bt)\n']);
  });

  it('run on a user-program image says to add its source to the initrd instead', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xl-user-'));
    const img = join(dir, 'primes.img');
    expect((await xenolith('compile', 'examples/programs/primes.ts', '--user', '-o', img)).status).toBe(0);
    const r = await xenolith('run', img, '--input', '');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `xenolith: ${img} is a user program (compile --user): it runs inside the guest kernel; add its source to the initrd with --add PROG.ts and start it with --input 'PROG ARGS' or --cmdline 'PROG ARGS'\n`,
    );
  });

  it('--hosted: a world switch per I/O exit under trap, bt or hvm; refused natively and under pv', async () => {
    const plain = await xenolith('run', '--mode', 'trap', '--cmdline', 'nanobench', '--input', '');
    const hosted = await xenolith('run', '--mode', 'trap', '--hosted', '--cmdline', 'nanobench', '--input', '');
    const portRead = (out: string) => Number(/^nanobench port-read: (\d+) cycles\/op$/m.exec(out)![1]);
    // one IN per operation: one more world switch each (the rest of the loop is the same)
    expect(portRead(hosted.stdout) - portRead(plain.stdout)).toBe(getProfile('p4-2003').hostedWorldSwitch);
    for (const mode of ['native', 'pv']) {
      const r = await xenolith('run', '--mode', mode, '--hosted', '--input', '');
      expect([r.status, r.stderr]).toEqual([2, `xenolith: --hosted charges a world switch per I/O exit; it needs --mode trap, bt or hvm (not ${mode})\n`]);
    }
  });

  it('--shadow: trap, bt and hvm on shadow paging; refused where hvm has a second stage and under pv', async () => {
    const hvm = await xenolith('run', '--mode', 'hvm', '--shadow', 'traced', '--cmdline', 'true', '--input', '', '--stats');
    expect(hvm.status).toBe(0);
    expect(hvm.stderr).toMatch(/^traced shadow: 2 trace faults, 1 address-space hits, 1 misses$/m);
    const refused = async (...args: string[]) => {
      const r = await xenolith('run', ...args, '--input', '');
      return [r.status, r.stderr];
    };
    expect(await refused('--mode', 'hvm', '--mmu', 'ept', '--shadow', 'traced')).toEqual([2, 'xenolith: --shadow chooses the shadow MMU; this hvm run has a second stage (ept): add --mmu shadow\n']);
    expect(await refused('--mode', 'hvm', '--profile', 'modern', '--shadow', 'flush')).toEqual([2, "xenolith: --shadow chooses the shadow MMU; this hvm run has a second stage (ept, profile modern's default): add --mmu shadow\n"]);
    expect(await refused('--mode', 'pv', '--shadow', 'traced')).toEqual([2, "xenolith: --shadow chooses the shadow MMU of trap, bt and hvm's shadow paging; it needs --mode trap, bt or hvm (not pv)\n"]);
  });

  it('--bt-adaptive: bt on the traced shadow, its counters in --stats; recorded and replayed, saved and restored (with what it learnt); refused elsewhere and with several vCPUs', async () => {
    const bt = await xenolith('run', '--mode', 'bt', '--shadow', 'traced', '--bt-adaptive', '--cmdline', 'true', '--input', '', '--stats');
    expect(bt.status).toBe(0);
    // booting to `true` takes two trace faults (from different stores): none is retranslated
    expect(bt.stderr).toMatch(/^adaptive retranslation: 0 stores retranslated as callouts; 0 stores emulated \(0 into traced page tables: trace faults avoided\)$/m);
    // a small guest whose one store into its page table is retranslated (bt-adaptive.test.ts):
    // recorded, replayed, saved half way and restored
    const dir = mkdtempSync(join(tmpdir(), 'xl-adaptive-'));
    const img = join(dir, 'store-loop.img');
    writeFileSync(img, encodeImage(guestImage(STORE_LOOP)));
    const log = join(dir, 'adaptive.log');
    const common = [img, '--mode', 'bt', '--shadow', 'traced', '--bt-adaptive', '--memory', '4', '--input', '', '--stats'];
    const u = await xenolith('run', ...common, '--record', log);
    expect([u.status, u.stdout]).toEqual([0, `${'bbbbbbbb aaaaaaaa '.repeat(ROUNDS / 2)}\n`]);
    const lines = (stderr: string) => stderr.split('\n').filter((l) => /^(cycles|instructions|adaptive retranslation):/.test(l));
    expect(lines(u.stderr)[2]).toBe('adaptive retranslation: 1 stores retranslated as callouts; 7 stores emulated (6 into traced page tables: trace faults avoided)');
    // the log carries the option: the replay runs with it, to the same counters
    expect(JSON.parse(readFileSync(log, 'utf8').split('\n')[0]!).run).toMatchObject({ mode: 'bt', shadow: 'traced', btAdaptive: true });
    const replay = await xenolith('run', '--replay', log, '--stats');
    expect([replay.status, replay.stdout, lines(replay.stderr)]).toEqual([0, u.stdout, lines(u.stderr)]);
    const file = join(dir, 'adaptive.xls');
    const s = await xenolith('run', ...common, '--save-at', String(Math.floor(Number(/^cycles: (\d+)$/m.exec(u.stderr)![1]) / 2)), file);
    const r = await xenolith('run', '--restore', file, '--stats');
    expect([s.status, r.status, s.stdout + r.stdout, lines(r.stderr)]).toEqual([0, 0, u.stdout, lines(u.stderr)]);
    const refused = async (...args: string[]) => {
      const x = await xenolith('run', ...args, '--input', '');
      return [x.status, x.stderr];
    };
    expect(await refused('--mode', 'trap', '--shadow', 'traced', '--bt-adaptive')).toEqual([2, "xenolith: --bt-adaptive retranslates bt's stores that keep taking trace faults; it needs --mode bt --shadow traced (not --mode trap)\n"]);
    expect(await refused('--mode', 'bt', '--bt-adaptive')).toEqual([2, "xenolith: --bt-adaptive retranslates bt's stores that keep taking trace faults; it needs --mode bt --shadow traced\n"]);
    expect(await refused('--mode', 'bt', '--shadow', 'traced', '--bt-adaptive', '--smp', '2')).toEqual([2, "xenolith: --smp 2: --bt-adaptive counts the trace faults of the traced shadow, which follows one vCPU's page-table writes (a store by another vCPU would not fault); use one vCPU\n"]);
  });

  it('too little memory under pv: the builder says how much the kernel, initrd and boot layout need, on one line', async () => {
    const pv = await xenolith('run', '--mode', 'pv', '--memory', '1', '--input', '');
    expect(pv.status).toBe(2);
    expect(pv.stderr).toMatch(/^xenolith: guest kernel: the domain's 1024 KiB cannot hold the kernel, initrd and boot layout: they need at least \d+ KiB \(\d+\.\d\d MiB, rounded up\)\n$/);
  });

  it('too much memory under pv gets the same kind of message as the other hypervisor modes', async () => {
    const pv = await xenolith('run', '--mode', 'pv', '--memory', '1020', '--input', '');
    expect(pv.status).toBe(2);
    expect(pv.stderr).toBe(
      "xenolith: guest kernel: domain 'guest': at most 1016 MiB under pv mode (the machine has at most 1024 MiB, and the hypervisor keeps 8 MiB of it for its own data (the frame table, the shared pages, the I/O rings))\n",
    );
    // within the machine, more than the pv kernel's MMU tracks (256 MiB): it boots and uses 256 MiB
    const big = await xenolith('run', '--mode', 'pv', '--memory', '512', '--input', 'echo up');
    expect(big.status).toBe(0);
    expect(big.stdout).toContain('memory: 262144 KiB, ');
    expect(big.stdout).toContain('$ echo up\nup\n');
    const hvm = await xenolith('run', '--mode', 'hvm', '--memory', '1024', '--input', '');
    expect(hvm.stderr).toMatch(/^xenolith: guest kernel: domain 'guest': at most 1022 MiB under hvm mode \(/);
  });

  it('--hypercalls needs --mode pv and a module exporting register functions', async () => {
    const wrongMode = await xenolith('run', '--hypercalls', 'examples/hypercall-experiment/handler.ts', '--input', '');
    expect(wrongMode.status).toBe(2);
    expect(wrongMode.stderr).toBe('xenolith: --hypercalls adds hypercalls to the pv interface; it needs --mode pv (not native)\n');
    const dir = mkdtempSync(join(tmpdir(), 'xl-hc-'));
    writeFileSync(join(dir, 'empty.ts'), 'export const nothing = 1;\n');
    const none = await xenolith('run', '--mode', 'pv', '--hypercalls', join(dir, 'empty.ts'), '--input', '');
    expect(none.stderr).toBe(`xenolith: ${join(dir, 'empty.ts')}: exports no register...(table) function (see docs/hypercalls.md, "Adding a hypercall")\n`);
    writeFileSync(join(dir, 'clash.ts'), "export function registerClash(t: { register(n: number, name: string, h: () => number): void }) { t.register(3, 'mine', () => 0); }\n");
    const clash = await xenolith('run', '--mode', 'pv', '--hypercalls', join(dir, 'clash.ts'), '--input', '');
    expect(clash.stderr).toBe(`xenolith: ${join(dir, 'clash.ts')}: registerClash: hypercall 3 is already 'stack_switch'\n`);
  });

  it('--hypercalls runs the hypercall experiment guest from the command line, the new hypercall in --stats', async () => {
    const r = await xenolith('run', 'examples/hypercall-experiment/guest.ts', '--mode', 'pv', '--hypercalls', 'examples/hypercall-experiment/handler.ts', '--stats', '--input', '');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('odd size: 22, unmapped: 14 (negated error codes)\n');
    expect(r.stderr).toMatch(/^ {2}40 {2}checksum +8 +\d+ +\d+ +2 +0$/m);
  });
});
