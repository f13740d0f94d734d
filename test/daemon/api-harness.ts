// A daemon served for real (main thread + host worker thread) on a temporary state directory,
// loopback only, for the API tests: `http` sends any request, `api` also checks the answer
// against the OpenAPI 3.1 document the daemon serves. beforeAll starts it, afterAll always ends it.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { startDaemon, type RunningDaemon } from '../../daemon/server.ts';
import { StateDir } from '../../daemon/state-dir.ts';

const dir = mkdtempSync(join(tmpdir(), 'xenolith-api-'));
export let daemon: RunningDaemon;
export let token: string;
export let doc: Record<string, any>;
export const stateDir = dir;
let ajv: InstanceType<typeof Ajv2020>;

export interface Answer {
  status: number;
  body: any;
}

export function http(method: string, path: string, opts: { body?: unknown; token?: string | null; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    const t = opts.token === undefined ? token : opts.token;
    if (t !== null) headers.authorization = `Bearer ${t}`;
    const data = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    if (data !== undefined) headers['content-type'] = 'application/json';
    const req = request({ host: '127.0.0.1', port: daemon.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/** The answer, after checking it against the OpenAPI document's schema for this route and status. */
export async function api(method: string, path: string, body?: unknown): Promise<Answer> {
  const a = await http(method, path, body === undefined ? {} : { body });
  const template = Object.keys(doc.paths).find((p) => new RegExp(`^${p.replace('{name}', '[^/]+')}$`).test(path));
  expect(template, `${path} is in the OpenAPI document`).toBeDefined();
  const op = doc.paths[template!][method.toLowerCase()];
  const schema = op.responses[String(a.status)]?.content?.['application/json']?.schema;
  expect(schema, `${method} ${path} documents status ${a.status}`).toBeDefined();
  const validate = ajv.compile({ ...schema, $defs: undefined, components: doc.components });
  if (!validate(a.body)) throw new Error(`${method} ${path}: response does not match the OpenAPI schema: ${ajv.errorsText(validate.errors)}`);
  return a;
}

/** Start the daemon before the file's tests and end it after them (call at the top level of a test file). */
export function useDaemon(): void {
beforeAll(async () => {
  daemon = await startDaemon({ stateDir: dir, port: 0, hostMemoryMiB: 64, pacing: 'fast', version: '0.1.0' });
  token = new StateDir(dir).readToken()!;
  doc = (await http('GET', '/openapi.json')).body;
  ajv = new Ajv2020({ strict: false, allErrors: true });
  // references point into the document's components: give ajv the document under that name
  ajv.addSchema({ $id: 'doc', components: doc.components }, undefined);
}, 60_000);

afterAll(async () => {
  await daemon?.close();
  rmSync(dir, { recursive: true, force: true });
});
}
