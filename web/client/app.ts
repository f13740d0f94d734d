// The web console's page (bundled by esbuild when the daemon first serves it; daemon/web.ts):
// a login with the daemon's token, the domain list with live counters and lifecycle buttons, a
// terminal per domain (xterm.js, the CLI console's keys), the monitor's views (registers,
// disassembly around the pc), exits and hypercalls per second as a live chart, a timeline of a
// short traced run, and the comparison report. Everything goes over one WebSocket to the daemon.

import { Terminal } from '@xterm/xterm';
import { consoleKeys } from '../../cli/console-keys.ts';
import '@xterm/xterm/css/xterm.css';
import './style.css';

interface DomainInfo {
  name: string;
  id: number | null;
  status: string;
  mode: string;
  profile: string;
  memoryMiB: number;
  vcpus: number;
  weight: number;
  stopReason: string | null;
  stopDetail: string | null;
  machine: string | null;
  cycles: number;
  instructions: number;
}

interface TraceEvent {
  name: string;
  cat?: string;
  ph: string;
  ts?: number;
  dur?: number;
  tid: number;
  args?: Record<string, unknown>;
}

interface ChromeTrace {
  traceEvents: TraceEvent[];
  otherData: { machine: string; records: number; dropped: number; capacity: number; fromCycle: number; toCycle: number; clockMHz: number; counts: Record<string, number> };
}

const $ = <T extends HTMLElement>(sel: string, root: ParentNode = document): T => root.querySelector(sel) as T;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

// ------------------------------------------------------------------------------------ the connection

type Listener = (msg: { event: string; name?: string; data?: unknown }) => void;

class Connection {
  private ws: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<Listener>();
  private opening: Promise<void> | null = null;

  open(): Promise<void> {
    this.opening ??= new Promise((resolve, reject) => {
      const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ui/ws`);
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error('the WebSocket did not open (log in again)'));
      ws.onclose = () => {
        this.ws = null;
        this.opening = null;
        for (const p of this.pending.values()) p.reject(new Error('the connection to the daemon closed'));
        this.pending.clear();
        for (const l of this.listeners) l({ event: 'closed' });
      };
      ws.onmessage = (e) => {
        const msg = JSON.parse(String(e.data));
        if (typeof msg.id === 'number') {
          const p = this.pending.get(msg.id);
          if (!p) return;
          this.pending.delete(msg.id);
          if (msg.ok) p.resolve(msg.value);
          else p.reject(new Error(msg.error));
          return;
        }
        for (const l of this.listeners) l(msg);
      };
      this.ws = ws;
    });
    return this.opening;
  }

  async call<T = any>(op: string, name?: string, body?: unknown): Promise<T> {
    await this.open();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const msg: Record<string, unknown> = { id, op };
      if (name !== undefined) msg.name = name;
      if (body !== undefined) msg.body = body;
      this.ws!.send(JSON.stringify(msg));
    });
  }

  on(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  close(): void {
    this.ws?.close();
  }
}

const conn = new Connection();

// ------------------------------------------------------------------------------------ helpers

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let k = 0; k < bin.length; k++) out[k] = bin.charCodeAt(k);
  return out;
}

function sumValues(o: unknown): number {
  if (!o || typeof o !== 'object') return 0;
  let n = 0;
  for (const v of Object.values(o as Record<string, unknown>)) if (typeof v === 'number') n += v;
  return n;
}

/** Exits and hypercalls so far, from domstats (the DomainStats counters; a native domain has none). */
function counters(stats: Record<string, unknown>): { exits: number; hypercalls: number } {
  return { exits: sumValues(stats.cpuExits), hypercalls: sumValues(stats.hypercalls) };
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

let status: HTMLElement | null = null;
function flash(text: string, error = false): void {
  status ??= document.body.appendChild(el('div', { id: 'flash', role: 'status' }));
  status.textContent = text;
  status.className = error ? 'error' : '';
  if (text) setTimeout(() => status?.textContent === text && (status.textContent = ''), 6000);
}

const ACTIONS: { verb: string; label: string; when: string[] }[] = [
  { verb: 'start', label: 'Start', when: ['defined', 'shut off', 'crashed'] },
  { verb: 'shutdown', label: 'Shut down', when: ['running', 'paused'] },
  { verb: 'destroy', label: 'Destroy', when: ['running', 'paused'] },
  { verb: 'suspend', label: 'Suspend', when: ['running'] },
  { verb: 'resume', label: 'Resume', when: ['paused'] },
];

function actionButtons(d: DomainInfo, after: () => void): HTMLElement {
  const box = el('span', { class: 'actions' });
  for (const a of ACTIONS) {
    const b = el('button', { 'data-action': a.verb, text: a.label });
    const preserved = a.verb === 'destroy' && d.id !== null && (d.status === 'shut off' || d.status === 'crashed');
    b.disabled = !a.when.includes(d.status) && !preserved;
    b.onclick = async () => {
      b.disabled = true;
      try {
        await conn.call(a.verb, d.name);
      } catch (e) {
        flash((e as Error).message, true);
      }
      after();
    };
    box.append(b);
  }
  // save (xl save): the whole domain to a file on the daemon's host, and the domain shuts off;
  // restore (xl restore): the domain again from that file. The file's name is asked for (a plain
  // name: the daemon keeps it in STATE_DIR/files), NAME.xls offered (docs/management.md)
  const save = el('button', { 'data-action': 'save', text: 'Save', title: 'save the domain, whole, to a file on the daemon\'s host and shut it off (xl save)' });
  save.disabled = d.status !== 'running' && d.status !== 'paused';
  save.onclick = () => saveOrRestore('save', d, after);
  const restore = el('button', { 'data-action': 'restore', text: 'Restore', title: 'start the domain again from a file its save wrote (xl restore)' });
  restore.disabled = d.status === 'running' || d.status === 'paused';
  restore.onclick = () => saveOrRestore('restore', d, after);
  box.append(save, restore);
  return box;
}

/** The daemon's state directory (GET /daemon), once. */
let stateDir: Promise<string> | null = null;

async function saveOrRestore(op: 'save' | 'restore', d: DomainInfo, after: () => void): Promise<void> {
  try {
    stateDir ??= conn.call<{ stateDir: string }>('daemon').then((i) => i.stateDir);
    const files = `${await stateDir}/files`;
    const file = window.prompt(op === 'save' ? `Save ${d.name} to the file (a name in ${files}):` : `Restore ${d.name} from the file (a name in ${files}):`, `${d.name}.xls`);
    if (file === null) return;
    if (op === 'save') await conn.call('save', d.name, { file });
    else await conn.call('restore', undefined, { file });
    flash(op === 'save' ? `${d.name} saved to ${files}/${file}` : `${d.name} restored from ${files}/${file}`);
  } catch (e) {
    flash((e as Error).message, true);
  }
  after();
}

// ------------------------------------------------------------------------------------ views

let teardown: (() => void)[] = [];
function leave(): void {
  for (const f of teardown) f();
  teardown = [];
}

function every(ms: number, f: () => void): void {
  const t = setInterval(f, ms);
  teardown.push(() => clearInterval(t));
}

function loginView(main: HTMLElement): void {
  const input = el('input', { id: 'token', type: 'password', autocomplete: 'off', placeholder: 'the contents of STATE_DIR/token', size: '70' });
  const button = el('button', { id: 'login', type: 'submit', text: 'Log in' });
  const form = el('form', { id: 'login-form' }, el('label', { for: 'token', text: 'Token' }), input, button);
  form.onsubmit = async (e) => {
    e.preventDefault();
    const r = await fetch('/ui/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: input.value }) });
    if (!r.ok) {
      flash((await r.json()).error, true);
      return;
    }
    input.value = '';
    route();
  };
  main.replaceChildren(
    el('h1', { text: 'Log in' }),
    el('p', { text: 'The daemon keeps its token in STATE_DIR/token (mode 0600); `cat ~/.local/state/xenolith/token` shows it. The page then keeps an HttpOnly session cookie.' }),
    form,
  );
  input.focus();
}

function listView(main: HTMLElement): void {
  const tbody = el('tbody');
  const table = el(
    'table',
    { id: 'domains' },
    el('thead', {}, el('tr', {}, ...['Name', 'State', 'Mode', 'vCPUs', 'Memory', 'Cycles', 'Instructions', 'Exits/s', 'Hypercalls/s', ''].map((h) => el('th', { text: h })))),
    tbody,
  );
  main.replaceChildren(el('h1', { text: 'Domains' }), table, el('p', { class: 'muted', text: 'Define domains with `xenolith define FILE`; the list follows their state live.' }));
  const last = new Map<string, { t: number; exits: number; hypercalls: number }>();
  const rates = new Map<string, { exits: number; hypercalls: number }>();
  const refresh = async () => {
    let domains: DomainInfo[];
    try {
      domains = (await conn.call<{ domains: DomainInfo[] }>('list')).domains;
    } catch (e) {
      flash((e as Error).message, true);
      return;
    }
    for (const d of domains) {
      if (d.status !== 'running' && d.status !== 'paused') {
        rates.delete(d.name);
        last.delete(d.name);
        continue;
      }
      try {
        const s = await conn.call<{ stats: Record<string, unknown> }>('domstats', d.name);
        const c = counters(s.stats);
        const now = performance.now();
        const prev = last.get(d.name);
        if (prev && now > prev.t) rates.set(d.name, { exits: ((c.exits - prev.exits) * 1000) / (now - prev.t), hypercalls: ((c.hypercalls - prev.hypercalls) * 1000) / (now - prev.t) });
        last.set(d.name, { t: now, ...c });
      } catch {
        // it stopped meanwhile
      }
    }
    tbody.replaceChildren(
      ...domains.map((d) => {
        const r = rates.get(d.name);
        return el(
          'tr',
          { 'data-name': d.name, 'data-status': d.status },
          el('td', {}, el('a', { href: `#/domain/${encodeURIComponent(d.name)}`, text: d.name })),
          el('td', { class: `state ${d.status.replace(' ', '-')}`, text: d.status, title: d.stopReason ? `${d.stopReason}${d.stopDetail ? `: ${d.stopDetail}` : ''}` : '' }),
          el('td', { text: d.mode }),
          el('td', { class: 'n', text: String(d.vcpus) }),
          el('td', { class: 'n', text: `${d.memoryMiB} MiB` }),
          el('td', { class: 'n', text: fmt(d.cycles) }),
          el('td', { class: 'n', text: fmt(d.instructions) }),
          el('td', { class: 'n exits', text: r ? fmt(Math.round(r.exits)) : '' }),
          el('td', { class: 'n hypercalls', text: r ? fmt(Math.round(r.hypercalls)) : '' }),
          el('td', {}, actionButtons(d, refresh)),
        );
      }),
    );
  };
  void refresh();
  every(1000, () => void refresh());
  teardown.push(conn.on((m) => m.event === 'state' && void refresh()));
}

/** The exits and hypercalls per second of the last minute, drawn on a canvas. */
class RateChart {
  readonly canvas = el('canvas', { id: 'rates', width: '560', height: '180' });
  private readonly points: { exits: number; hypercalls: number }[] = [];

  push(p: { exits: number; hypercalls: number }): void {
    this.points.push(p);
    if (this.points.length > 60) this.points.shift();
    this.draw();
  }

  private draw(): void {
    const g = this.canvas.getContext('2d')!;
    const { width: w, height: h } = this.canvas;
    g.clearRect(0, 0, w, h);
    const max = Math.max(10, ...this.points.flatMap((p) => [p.exits, p.hypercalls]));
    g.strokeStyle = '#ddd';
    g.fillStyle = '#666';
    g.font = '11px system-ui, sans-serif';
    for (let k = 0; k <= 4; k++) {
      const y = 10 + ((h - 30) * k) / 4;
      g.beginPath();
      g.moveTo(50, y);
      g.lineTo(w - 5, y);
      g.stroke();
      g.fillText(fmt(Math.round((max * (4 - k)) / 4)), 2, y + 4);
    }
    g.fillText('last 60 s (per second)', 50, h - 4);
    const series: ['exits' | 'hypercalls', string][] = [
      ['exits', '#c0392b'],
      ['hypercalls', '#2471a3'],
    ];
    for (const [key, color] of series) {
      g.strokeStyle = color;
      g.lineWidth = 2;
      g.beginPath();
      this.points.forEach((p, k) => {
        const x = 50 + ((w - 55) * k) / 59;
        const y = 10 + (h - 30) * (1 - p[key] / max);
        if (k === 0) g.moveTo(x, y);
        else g.lineTo(x, y);
      });
      g.stroke();
      g.fillStyle = color;
      g.fillText(key, key === 'exits' ? w - 130 : w - 70, h - 4);
    }
    g.lineWidth = 1;
  }
}

const KIND_COLORS: Record<string, string> = { exit: '#c0392b', trap: '#d68910', hypercall: '#2471a3', event: '#229954', interrupt: '#8e44ad', switch: '#aab7b8' };

/** A trace as a timeline: one row per domain, run slices as bars, the other records as ticks by kind. */
function drawTimeline(canvas: HTMLCanvasElement, t: ChromeTrace): void {
  const g = canvas.getContext('2d')!;
  const threads = t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name');
  const rows = new Map(threads.map((e, k) => [e.tid, k]));
  const rowH = 46;
  canvas.height = Math.max(1, threads.length) * rowH + 40;
  const w = canvas.width;
  const left = 140;
  g.clearRect(0, 0, w, canvas.height);
  const spanUs = Math.max(1e-9, (t.otherData.toCycle - t.otherData.fromCycle) / t.otherData.clockMHz);
  const x = (us: number) => left + ((w - left - 10) * us) / spanUs;
  g.font = '12px system-ui, sans-serif';
  for (const th of threads) {
    const y = rows.get(th.tid)! * rowH + 10;
    g.fillStyle = '#333';
    g.fillText(String(th.args?.name ?? th.tid), 4, y + 24);
    g.fillStyle = '#f4f6f6';
    g.fillRect(left, y, w - left - 10, rowH - 8);
  }
  const lanes: Record<string, number> = { switch: 0, hypercall: 1, exit: 2, trap: 3, event: 4, interrupt: 5 };
  for (const e of t.traceEvents) {
    if (e.ph === 'M' || e.ts === undefined) continue;
    const row = rows.get(e.tid);
    if (row === undefined) continue;
    const cat = e.cat ?? '';
    const y = row * rowH + 10 + (lanes[cat] ?? 0) * 6;
    g.fillStyle = KIND_COLORS[cat] ?? '#000';
    if (e.ph === 'X') g.fillRect(x(e.ts), y, Math.max(1, x(e.ts + (e.dur ?? 0)) - x(e.ts)), cat === 'switch' ? rowH - 8 : 5);
    else g.fillRect(x(e.ts), y, 1, 5);
  }
  const y = canvas.height - 12;
  g.fillStyle = '#666';
  g.fillText(`0`, left, y);
  g.fillText(`${(spanUs / 1000).toFixed(2)} ms`, w - 70, y);
  let lx = left + 60;
  for (const [k, c] of Object.entries(KIND_COLORS)) {
    g.fillStyle = c;
    g.fillRect(lx, y - 9, 10, 10);
    g.fillStyle = '#333';
    g.fillText(k, lx + 14, y);
    lx += 90;
  }
}

function domainView(main: HTMLElement, name: string): void {
  const head = el('div', { class: 'domain-head' });
  const term = el('div', { id: 'terminal' });
  const regs = el('pre', { id: 'registers', text: '' });
  const disasm = el('pre', { id: 'disassembly', text: '' });
  const chart = new RateChart();
  const timeline = el('canvas', { id: 'timeline', width: '900', height: '120' });
  const traceButton = el('button', { id: 'trace', text: 'Trace 10 ms' });
  const traceInfo = el('span', { id: 'trace-info', class: 'muted' });
  const download = el('a', { id: 'trace-download', hidden: '', text: 'Download (Chrome trace JSON: Perfetto, chrome://tracing)' });
  main.replaceChildren(
    head,
    el(
      'div',
      { class: 'grid' },
      el('section', { class: 'term-box' }, el('h2', { text: 'Console' }), term, el('p', { class: 'muted', text: 'Keys go to the guest as in `xenolith console`: Enter is a newline, Backspace deletes, Ctrl-C interrupts its program, Ctrl-] detaches.' })),
      el('section', { class: 'monitor-box' }, el('h2', { text: 'Registers' }), regs, el('h2', { text: 'Around the pc' }), disasm, el('h2', { text: 'Exits and hypercalls per second' }), chart.canvas),
    ),
    el('section', { class: 'timeline-box' }, el('h2', { text: 'Timeline' }), el('p', {}, traceButton, ' ', traceInfo, ' ', download), timeline),
  );

  let info: DomainInfo | null = null;
  const renderHead = () => {
    if (!info) return;
    head.replaceChildren(
      el('h1', { text: info.name }),
      el('span', { id: 'domain-state', class: `state ${info.status.replace(' ', '-')}`, text: info.status }),
      el('span', { class: 'muted', text: ` ${info.mode}, ${info.profile}, ${info.vcpus} vCPU, ${info.memoryMiB} MiB${info.machine ? `, machine ${info.machine}` : ''}${info.stopReason ? ` (stopped: ${info.stopReason}${info.stopDetail ? `: ${info.stopDetail}` : ''})` : ''}` }),
      actionButtons(info, () => void refreshInfo()),
    );
  };
  const refreshInfo = async () => {
    try {
      info = await conn.call<DomainInfo>('dominfo', name);
      renderHead();
    } catch (e) {
      head.replaceChildren(el('h1', { text: name }), el('p', { class: 'error', text: (e as Error).message }));
    }
  };

  // the terminal
  const xterm = new Terminal({ rows: 24, cols: 80, convertEol: true, fontSize: 14, cursorBlink: true, theme: { background: '#101418' } });
  xterm.open(term);
  let attached = false;
  const attach = async () => {
    try {
      const log = await conn.call<{ data: string }>('attach', name);
      attached = true;
      xterm.reset();
      if (log.data) xterm.write(decodeBase64(log.data));
    } catch (e) {
      xterm.write(`\r\n[xenolith: ${(e as Error).message}]\r\n`);
    }
  };
  const typed = xterm.onData((data) => {
    if (!attached) return;
    const { text, left } = consoleKeys(data);
    if (text) conn.call('consoleInput', name, { data: text }).catch((e: Error) => flash(e.message, true));
    if (left) {
      attached = false;
      void conn.call('detach', name);
      xterm.write('\r\n[xenolith: detached (Ctrl-]); reload the page to attach again]\r\n');
    }
  });
  teardown.push(() => {
    typed.dispose();
    if (attached) void conn.call('detach', name).catch(() => {});
    xterm.dispose();
  });
  teardown.push(
    conn.on((m) => {
      if (m.event === 'output' && m.name === name && attached) xterm.write(decodeBase64(String(m.data)));
      if (m.event === 'state' && (m.data as { name?: string }).name === name) {
        void refreshInfo();
        if ((m.data as { status?: string }).status === 'running' && !attached) void attach();
      }
    }),
  );

  // the monitor's views and the live chart
  let prev: { t: number; exits: number; hypercalls: number } | null = null;
  const refreshMonitor = async () => {
    if (!info || (info.status !== 'running' && info.status !== 'paused' && info.id === null)) {
      regs.textContent = info ? `(the domain is ${info.status})` : '';
      disasm.textContent = '';
      return;
    }
    try {
      const r = (await conn.call<{ output: string }>('monitor', name, { command: 'info registers' })).output;
      regs.textContent = r;
      const pc = /pc =0x([0-9a-f]+)/.exec(r);
      // four instructions before the pc (they are 4 bytes each), the pc, and five after
      if (pc) disasm.textContent = (await conn.call<{ output: string }>('monitor', name, { command: `x/10i 0x${Math.max(0, parseInt(pc[1]!, 16) - 16).toString(16)}` })).output;
    } catch (e) {
      regs.textContent = (e as Error).message;
      disasm.textContent = '';
    }
    try {
      const s = await conn.call<{ stats: Record<string, unknown> }>('domstats', name);
      const c = counters(s.stats);
      const now = performance.now();
      if (prev && now > prev.t) chart.push({ exits: ((c.exits - prev.exits) * 1000) / (now - prev.t), hypercalls: ((c.hypercalls - prev.hypercalls) * 1000) / (now - prev.t) });
      prev = { t: now, ...c };
    } catch (e) {
      regs.textContent = (e as Error).message;
    }
  };

  // the timeline
  let blobUrl: string | null = null;
  traceButton.onclick = async () => {
    traceButton.disabled = true;
    traceInfo.textContent = 'tracing…';
    try {
      const t = await conn.call<ChromeTrace>('trace', name, { cycles: 30_000_000 });
      drawTimeline(timeline, t);
      const o = t.otherData;
      traceInfo.textContent = `${fmt(o.records)} records over ${fmt(o.toCycle - o.fromCycle)} cycles of ${o.machine}${o.dropped ? `, ${fmt(o.dropped)} dropped` : ''}: ${Object.entries(o.counts)
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(', ')}`;
      if (blobUrl) URL.revokeObjectURL(blobUrl);
      blobUrl = URL.createObjectURL(new Blob([JSON.stringify(t)], { type: 'application/json' }));
      download.href = blobUrl;
      download.download = `${name}-trace.json`;
      download.hidden = false;
    } catch (e) {
      traceInfo.textContent = (e as Error).message;
    }
    traceButton.disabled = false;
  };
  teardown.push(() => blobUrl && URL.revokeObjectURL(blobUrl));

  void refreshInfo().then(async () => {
    if (info && info.id !== null) await attach();
    await refreshMonitor();
  });
  every(1000, () => void refreshMonitor());
}

function compareView(main: HTMLElement): void {
  main.replaceChildren(el('h1', { text: 'Comparison' }), el('iframe', { id: 'report', src: '/ui/compare.html', title: 'the comparison report' }));
}

// ------------------------------------------------------------------------------------ routing

async function route(): Promise<void> {
  leave();
  const main = $<HTMLElement>('#main');
  const session = (await (await fetch('/ui/session')).json()) as { loggedIn: boolean };
  const logout = $<HTMLButtonElement>('#logout');
  logout.hidden = !session.loggedIn;
  if (!session.loggedIn) {
    conn.close();
    loginView(main);
    return;
  }
  try {
    await conn.open();
  } catch (e) {
    flash((e as Error).message, true);
    loginView(main);
    return;
  }
  const hash = location.hash.replace(/^#/, '') || '/';
  const m = /^\/domain\/(.+)$/.exec(hash);
  if (m) domainView(main, decodeURIComponent(m[1]!));
  else if (hash === '/compare') compareView(main);
  else listView(main);
}

window.addEventListener('hashchange', () => void route());
window.addEventListener('DOMContentLoaded', () => {
  $<HTMLButtonElement>('#logout').onclick = async () => {
    await fetch('/ui/logout', { method: 'POST' });
    conn.close();
    void route();
  };
  conn.on((m) => {
    if (m.event === 'closed') flash('the connection to the daemon closed; reload the page', true);
  });
  void route();
});
