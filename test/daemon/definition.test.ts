// Domain definitions: what a file may say, and the one-line errors naming file, field and what is accepted.
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDefinitionFile, validateDefinition } from '../../daemon/definition.ts';
import { StateDir } from '../../daemon/state-dir.ts';
import { DEFAULT_ENGINE } from '../../machine/translator.ts';

const dir = mkdtempSync(join(tmpdir(), 'xenolith-def-'));
function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}
function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('domain definitions', () => {
  it('fills in the defaults and makes paths absolute, relative to the file', () => {
    const f = file('web.json', '{ "name": "web", "mode": "pv", "memory": 8, "kernel": "k.img", "disks": [{ "file": "d.img" }] }');
    expect(loadDefinitionFile(f)).toEqual({
      name: 'web',
      mode: 'pv',
      profile: 'p4-2003',
      engine: DEFAULT_ENGINE,
      memory: 8,
      vcpus: 1,
      kernel: join(dir, 'k.img'),
      disks: [{ file: join(dir, 'd.img'), snapshot: true }],
      console: { logBytes: 65536 },
      weight: 1,
      privileged: false,
      on_poweroff: 'destroy',
      on_reboot: 'restart',
      on_crash: 'destroy',
    });
  });

  it('names the file, the field and what is accepted', () => {
    expect(errorOf(() => loadDefinitionFile(file('e.json', '{ "name": "e", "mode": "pv", "engine": "jit" }')))).toBe(`${dir}/e.json: field 'engine': engine must be one of interpreter, translator`);
    expect(errorOf(() => loadDefinitionFile(file('a.json', '{ "name": "a", "mode": "xen" }')))).toBe(`${dir}/a.json: field 'mode': mode must be one of native, trap, bt, hvm, pv`);
    expect(errorOf(() => loadDefinitionFile(file('b.json', '{ "name": "b", "mode": "pv", "vcpus": 5 }')))).toBe(
      `${dir}/b.json: field 'vcpus': vcpus must be at most 4 for a pv domain (its shared-info page has 4 vcpu_info slots)`,
    );
    expect(errorOf(() => loadDefinitionFile(file('c.json', '{ "mode": "pv" }')))).toBe(`${dir}/c.json: field 'name' is missing: name must be a string`);
    expect(errorOf(() => loadDefinitionFile(file('d.json', '{ "name": "d", "mode": "pv", "memroy": 8 }')))).toBe(
      `${dir}/d.json: unknown field 'memroy' (accepted: name, mode, profile, engine, memory, vcpus, kernel, cmdline, disks, console, weight, privileged, net, bridge, ip, shadow, bt_adaptive, ple, record, on_poweroff, on_reboot, on_crash)`,
    );
    expect(errorOf(() => loadDefinitionFile(file('e.json', '{ "name": "e", "mode": "pv", "on_crash": "reboot" }')))).toBe(`${dir}/e.json: field 'on_crash': on_crash must be one of destroy, restart, preserve`);
    expect(errorOf(() => loadDefinitionFile(file('f.json', '{ "name": "f", "mode": "pv", "memory": 2000 }')))).toBe(`${dir}/f.json: field 'memory': memory must be at most 1024 MiB (the machine's memory ceiling)`);
    expect(errorOf(() => loadDefinitionFile(file('g.json', '{ "name": "g", "mode": "trap", "privileged": true }')))).toBe(
      `${dir}/g.json: field 'privileged': privileged applies to pv domains only (the control domain uses dom0_op)`,
    );
    expect(errorOf(() => loadDefinitionFile(file('h.json', '{ "name": "h", "mode": "pv", "disks": [{ "file": "x", "size": 3 }] }')))).toBe(
      `${dir}/h.json: unknown field 'size' in 'disks.0' (accepted: file, snapshot)`,
    );
  });

  it('gives line and column of a JSON syntax error', () => {
    expect(errorOf(() => loadDefinitionFile(file('s.json', '{ "name": "a",\n  "mode": pv }')))).toBe(`${dir}/s.json:2:11: not valid JSON (Unexpected token 'p')`);
    expect(errorOf(() => loadDefinitionFile(file('t.json', '{ "name": "a",\n}')))).toBe(`${dir}/t.json:2:1: not valid JSON (Expected double-quoted property name)`);
    expect(errorOf(() => loadDefinitionFile(join(dir, 'none.json')))).toBe(`${dir}/none.json: no such file`);
  });

  it('reads YAML (.yaml, .yml), with the line and column of the field at fault', () => {
    expect(loadDefinitionFile(file('y.yml', 'name: y\nmode: trap\nconsole:\n  input: "ls\\n"\non_crash: restart\n'))).toMatchObject({ name: 'y', mode: 'trap', console: { logBytes: 65536, input: 'ls\n' }, on_crash: 'restart' });
    expect(errorOf(() => loadDefinitionFile(file('n.yaml', 'name: n\nmode: hvm\nvcpus: 9\n')))).toBe(`${dir}/n.yaml:3:8: field 'vcpus': vcpus must be a whole number from 1 to 8`);
    expect(loadDefinitionFile(file('s.yaml', 'name: s\nmode: hvm\nvcpus: 2\n')).vcpus).toBe(2);
    expect(loadDefinitionFile(file('v2.yaml', 'name: v\nmode: pv\nvcpus: 2\n')).vcpus).toBe(2);
    expect(errorOf(() => loadDefinitionFile(file('w.yaml', 'name: w\nmode: pv\nmemroy: 8\n')))).toBe(
      `${dir}/w.yaml:3:9: unknown field 'memroy' (accepted: name, mode, profile, engine, memory, vcpus, kernel, cmdline, disks, console, weight, privileged, net, bridge, ip, shadow, bt_adaptive, ple, record, on_poweroff, on_reboot, on_crash)`,
    );
    expect(errorOf(() => loadDefinitionFile(file('x.yaml', 'name: x\nmode: [pv\n')))).toBe(`${dir}/x.yaml:3:1: not valid YAML (Flow sequence in block collection must be sufficiently indented and end with a ])`);
  });

  it('memory is a whole number of 4 KiB pages', () => {
    expect(validateDefinition({ name: 'm', mode: 'pv', memory: 1.5 }).memory).toBe(1.5);
    expect(errorOf(() => validateDefinition({ name: 'm', mode: 'pv', memory: 1.001 }))).toBe("field 'memory': memory must be a whole number of 4 KiB pages (a multiple of 1/256 MiB)");
  });

  it('shadow: trap, bt, and hvm on shadow paging only', () => {
    expect(['trap', 'bt', 'hvm'].map((mode) => validateDefinition({ name: 's', mode, shadow: 'traced' }).shadow)).toEqual(['traced', 'traced', 'traced']);
    expect(validateDefinition({ name: 's', mode: 'trap' }).shadow).toBe(undefined);
    expect(errorOf(() => validateDefinition({ name: 's', mode: 'hvm', profile: 'modern', shadow: 'traced' }))).toBe("field 'shadow': shadow applies to hvm on shadow paging; profile modern's CPU has a second stage (EPT)");
    expect(errorOf(() => validateDefinition({ name: 's', mode: 'pv', shadow: 'flush' }))).toBe("field 'shadow': shadow applies to trap, bt and hvm domains (their shadow page tables)");
    expect(errorOf(() => validateDefinition({ name: 's', mode: 'trap', shadow: 'cached' }))).toBe("field 'shadow': shadow must be flush or traced");
  });

  it('bt_adaptive: bt on the traced shadow, one vCPU', () => {
    expect(validateDefinition({ name: 'a', mode: 'bt', shadow: 'traced', bt_adaptive: true }).bt_adaptive).toBe(true);
    expect(validateDefinition({ name: 'a', mode: 'bt', shadow: 'traced', bt_adaptive: false, vcpus: 2 }).bt_adaptive).toBe(false);
    const needs = "field 'bt_adaptive': bt_adaptive retranslates bt's stores that keep taking trace faults; it needs mode bt and shadow traced";
    expect(errorOf(() => validateDefinition({ name: 'a', mode: 'bt', bt_adaptive: true }))).toBe(needs);
    expect(errorOf(() => validateDefinition({ name: 'a', mode: 'trap', shadow: 'traced', bt_adaptive: true }))).toBe(needs);
    expect(errorOf(() => validateDefinition({ name: 'a', mode: 'bt', shadow: 'traced', bt_adaptive: true, vcpus: 2 }))).toBe(
      "field 'bt_adaptive': bt_adaptive counts the trace faults of the traced shadow, which follows one vCPU's page-table writes (a store by another vCPU would not fault); it needs vcpus 1",
    );
    expect(errorOf(() => validateDefinition({ name: 'a', mode: 'bt', shadow: 'traced', bt_adaptive: 'yes' }))).toBe("field 'bt_adaptive': bt_adaptive must be true or false");
  });
});

describe('domain definitions: ple', () => {
  it('ple: hvm only (pause-loop exiting is a VMCS control), any vCPUs', () => {
    expect(validateDefinition({ name: 'a', mode: 'hvm', ple: true, vcpus: 2 }).ple).toBe(true);
    expect(validateDefinition({ name: 'a', mode: 'hvm' }).ple).toBeUndefined();
    expect(validateDefinition({ name: 'a', mode: 'trap', ple: false }).ple).toBe(false);
    for (const mode of ['native', 'trap', 'bt', 'pv']) {
      expect(errorOf(() => validateDefinition({ name: 'a', mode, ple: true, vcpus: 2 }))).toBe("field 'ple': ple turns on hardware assist's pause-loop exiting; it needs mode hvm");
    }
    expect(errorOf(() => validateDefinition({ name: 'a', mode: 'hvm', ple: 'yes' }))).toBe("field 'ple': ple must be true or false");
  });
});

describe('the state directory', () => {
  it('keeps definitions (atomically written, 0600) and a 0600 token that survives', () => {
    const s = new StateDir(mkdtempSync(join(tmpdir(), 'xenolith-state-')));
    s.ensure();
    const token = s.token();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(s.token()).toBe(token);
    const def = validateDefinition({ name: 'one', mode: 'pv', memory: 4 });
    s.saveDefinition(def);
    s.saveDefinition({ ...def, weight: 3 });
    writeFileSync(join(s.domainsDir, 'one.json.123.abcd.tmp'), '{ half');
    writeFileSync(join(s.domainsDir, 'bad.json'), '{ "name": "bad", "mode": "nope" }');
    const bad: string[] = [];
    expect(s.loadDefinitions((m) => bad.push(m))).toEqual([{ ...def, weight: 3 }]);
    expect(bad).toEqual([`${s.domainsDir}/bad.json: field 'mode': mode must be one of native, trap, bt, hvm, pv (skipped)`]);
    for (const f of [s.tokenFile, s.definitionFile('one')]) expect(statMode(f)).toBe(0o600);
    expect(statMode(s.dir)).toBe(0o700);
  });
});

function statMode(f: string): number {
  return statSync(f).mode & 0o777;
}
