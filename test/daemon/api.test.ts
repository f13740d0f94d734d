// The daemon's API, served for real on a temporary state directory: the token, Host and Origin
// checks, zod-validated input, definitions, and every response checked against the OpenAPI 3.1
// document the daemon serves. (Starting guests loads the toolchain in the host thread: that part
// is in api.deep.test.ts.)
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { api, daemon, doc, http, stateDir as dir, useDaemon } from './api-harness.ts';

useDaemon();

describe('the daemon API', () => {
  it('serves an OpenAPI 3.1 document generated from the schemas', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/domains/{name}/monitor');
    expect(doc.components.schemas.DomainDefinition.properties.vcpus).toEqual({ default: 1, type: 'integer', minimum: 1, maximum: 8 });
    expect(statSync(join(dir, 'token')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'daemon.sock')).mode & 0o777).toBe(0o600);
  });

  it('keeps definitions: define, redefine, list, dominfo, setmem, undefine', async () => {
    expect((await api('POST', '/domains', { name: 'one', mode: 'trap', memory: 8 })).body).toMatchObject({ created: true, domain: { name: 'one', status: 'defined', mode: 'trap', id: null } });
    expect((await api('POST', '/domains', { name: 'one', mode: 'trap', memory: 16 })).body).toMatchObject({ created: false, domain: { memoryMiB: 16 } });
    expect((await api('PUT', '/domains/one/memory', { memory: 4 })).body.memoryMiB).toBe(4);
    expect((await api('GET', '/domains/one/definition')).body).toMatchObject({ name: 'one', memory: 4, on_crash: 'destroy' });
    expect((await api('GET', '/domains/one')).body.status).toBe('defined');
    expect((await api('PUT', '/domains/one/schedinfo', { weight: 0 })).body).toEqual({ error: "field 'weight': weight must be a whole number from 1 to 10000" });
    expect((await api('GET', '/domains')).body.domains.map((d: any) => d.name)).toEqual(['one']);
    expect((await api('DELETE', '/domains/one')).body).toEqual({ ok: true });
    expect((await api('GET', '/domains')).body).toEqual({ domains: [] });
    expect((await api('GET', '/daemon')).body).toMatchObject({ pacing: 'fast', port: daemon.port, stateDir: dir });
    // no domain has joined a bridge: none
    expect((await api('GET', '/bridges')).body).toEqual({ bridges: [] });
  });

  it('save and restore take a plain name of STATE_DIR/files and answer one line when they cannot', async () => {
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/domains/{name}/save', '/restore']));
    await api('POST', '/domains', { name: 'keep', mode: 'trap', memory: 8 });
    expect(await api('POST', '/domains/keep/save', { file: 'keep.xls' })).toEqual({ status: 409, body: { error: "domain 'keep' is defined; cannot save" } });
    expect(await api('POST', '/restore', { file: 'none.xls' })).toEqual({ status: 400, body: { error: `${join(dir, 'files', 'none.xls')}: cannot read (ENOENT)` } });
    expect(statSync(join(dir, 'files')).mode & 0o777).toBe(0o700);
    await api('DELETE', '/domains/keep');
  });

  it('confines what a token holder names for the daemon to write to STATE_DIR/files: no path, no .., a 400 in one line', async () => {
    const why = (f: string) => `"${f}" is not a file name of the daemon's state directory: the API takes a plain name (letters, digits, '.', '_', '-'; no '/', not starting with '.'), written in STATE_DIR/files`;
    // save and restore: an absolute path, a way up, a subdirectory, a hidden name (the state directory's own files are out of reach)
    for (const file of ['/tmp/evil.xls', '../token', '..', 'a/b.xls', '.hidden', join(dir, 'token'), '']) {
      const r = await api('POST', '/domains/keep/save', { file });
      expect(r).toEqual({ status: 400, body: { error: file === '' ? "field 'file': file must not be empty" : `field 'file': ${why(file)}` } });
      expect((await api('POST', '/restore', { file })).status).toBe(400);
    }
    // a definition's record: the same rule (kernel and disks are read, and stay absolute paths)
    for (const record of ['/tmp/r.log', '../r.log', 'logs/r.log']) {
      expect(await api('POST', '/domains', { name: 'rec', mode: 'trap', record })).toEqual({ status: 400, body: { error: `field 'record': ${why(record)}` } });
    }
    expect((await api('POST', '/domains', { name: 'rec', mode: 'trap', record: 'rec.log' })).body).toMatchObject({ created: true });
    expect((await api('GET', '/domains/rec/definition')).body.record).toBe('rec.log');
    await api('DELETE', '/domains/rec');
  });

  it('records the shared pv machine: POST /pv-record takes a plain name of STATE_DIR/files, /pv-record/stop answers the end line', async () => {
    expect(await api('POST', '/pv-record', { file: '../pv.log' })).toEqual({ status: 400, body: { error: `field 'file': "../pv.log" is not a file name of the daemon's state directory: the API takes a plain name (letters, digits, '.', '_', '-'; no '/', not starting with '.'), written in STATE_DIR/files` } });
    expect((await api('POST', '/pv-record', { file: 'pv.log', engine: 'x' })).status).toBe(400);
    expect(await api('POST', '/pv-record/stop')).toEqual({ status: 409, body: { error: 'no recording of a shared pv machine is being taken' } });
    expect((await api('POST', '/pv-record', { file: 'pv.log', engine: 'interpreter' })).body).toEqual({ machine: 'pv:p4-2003:interpreter', file: 'pv.log' });
    expect((await api('POST', '/pv-record', { file: 'pv2.log' })).body).toEqual({ error: `the shared machine pv:p4-2003:interpreter is being recorded already (to ${join(dir, 'files', 'pv.log')}); one recording at a time` });
    const end = (await api('POST', '/pv-record/stop')).body;
    expect(end).toMatchObject({ kind: 'end', cycle: 0, instructions: 0, idleCycles: 0, domains: [] });
    expect(readFileSync(join(dir, 'files', 'pv.log'), 'utf8').split('\n')[0]).toBe('{"format":"xenolith-pv-host-log","version":1,"machine":{"key":"pv:p4-2003:interpreter","profile":"p4-2003","engine":"interpreter","hostMemoryMiB":64}}');
  });

  it('refuses requests without the token, from another Host or Origin, and malformed input', async () => {
    expect(await http('GET', '/domains', { token: null })).toEqual({ status: 401, body: { error: 'a token is needed: Authorization: Bearer (the contents of STATE_DIR/token)' } });
    expect((await http('GET', '/domains', { token: 'f'.repeat(64) })).status).toBe(401);
    expect(await http('GET', '/domains', { headers: { host: 'attacker.example:80' } })).toEqual({ status: 403, body: { error: `Host "attacker.example:80" is not this daemon's loopback address (127.0.0.1:${daemon.port})` } });
    expect(await http('GET', '/domains', { headers: { origin: 'http://attacker.example' } })).toEqual({ status: 403, body: { error: 'Origin "http://attacker.example" may not use this daemon' } });
    expect(await http('POST', '/domains', { body: '{ "name": ' })).toEqual({ status: 400, body: { error: 'the body is not valid JSON (Unexpected end of JSON input)' } });
    expect(await api('POST', '/domains', { name: 'x', mode: 'pv', vcpus: 5 })).toEqual({ status: 400, body: { error: "field 'vcpus': vcpus must be at most 4 for a pv domain (its shared-info page has 4 vcpu_info slots)" } });
    expect((await api('POST', '/domains/nope/start')).status).toBe(404);
    expect(await api('POST', '/domains', { name: 'k', mode: 'pv', kernel: 'k.img' })).toEqual({ status: 400, body: { error: `field 'kernel': the API takes absolute paths (got "k.img")` } });
    expect((await http('DELETE', '/domains')).status).toBe(405);
  });

});
