// The monitor: QEMU HMP's names for looking inside a domain of the host - `info mode` (the
// counterpart of `info kvm`: technique, profile and exit/trap/hypercall counts), `info registers`,
// `info cpus`, `info mem`, `info tlb`, `info shadow`, `info events`, `x/Ni ADDR` (symbolized
// disassembly), `x/Nx ADDR`, `stop`, `cont`, `step`, and `cpu N`, which selects the vCPU whose
// registers and address space the others show (QEMU's `cpu`; vCPU 0 until then). Addresses are numbers (0x...) or symbols of
// the kernel or of a user program (`prog:symbol`). Runs in the host's worker, between slices;
// reads guest state, and changes it only through the host's own commands (stop, cont, step).

import { CR0_PG, decode, Pte } from '../machine/isa.ts';
import { type Image, type ImageSymbol, symbolize } from '../machine/image.ts';
import type { CpuState } from '../machine/cpu.ts';
import { disassembleOne } from '../toolchain/asm/disasm.ts';
import { SharedInfo } from '../hypercalls/structs.ts';
import { PvDomain, PortState } from '../hypervisor/pv/state.ts';
import { btStatsSummary } from '../hypervisor/bt/stats.ts';
import { hvmExitCounts, pleLine } from '../hypervisor/hvm/stats.ts';
import { HvmVcpu } from '../hypervisor/hvm/state.ts';
import { TrapVcpu } from '../hypervisor/trap/virtual-cpu.ts';
import type { Domain } from '../hypervisor/core/domain.ts';
import type { Hypervisor } from '../hypervisor/core/hypervisor.ts';
import type { Machine } from '../machine/machine.ts';
import { HostError, pvMachineKey, type Host } from './host.ts';

const MODE_TITLES: Record<string, string> = {
  native: 'native (no hypervisor: the kernel on its own bare XL32 machine)',
  trap: 'trap (trap-and-emulate: unmodified kernel at ring 1, shadow page tables)',
  bt: 'bt (binary translation of kernel code, shadow page tables)',
  hvm: 'hvm (hardware assist: non-root mode, VM exits, second-stage paging)',
  pv: 'pv (paravirtualization: hypercalls, validated direct page tables, event channels)',
};

/** Most items x/N shows, and most lines the mapping listings print. */
const MAX_ITEMS = 256;

export const MONITOR_HELP = [
  'info mode              technique, profile, machine, exit/trap/hypercall counts (QEMU: info kvm)',
  'cpu N                  select vCPU N: the commands below show it (no N: which one is selected)',
  'info registers         the selected vCPU\'s registers',
  'info cpus              the vCPUs and where they are (* the selected one)',
  'info mem               the guest\'s virtual mappings (ranges, rights) and memory quota',
  'info tlb               virtual page -> guest-physical page, one line each',
  'info shadow            shadow page-table counters (trap, bt, hvm on shadow paging)',
  'info events            event channels (pv) or injected interrupts',
  'x/Ni ADDR              N instructions at ADDR, disassembled and symbolized',
  'x/Nx ADDR              N words at ADDR in hex',
  'stop | cont            pause | continue the domain',
  'step                   run one instruction of the stopped domain',
  'break [ADDR]           stop before the instruction at ADDR (no ADDR: list the breakpoints)',
  'delete [N]             remove breakpoint N (no N: all)',
].join('\n');

interface Target {
  name: string;
  mode: string;
  profile: string;
  machineKey: string | null;
  domain: Domain | null;
  hv: Hypervisor | null;
  bare: Machine | null;
  image: Image | null;
  userImages: ReadonlyMap<string, Image>;
  /** the vCPU the commands show (`cpu N`) */
  cpu: number;
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/**
 * The vCPU's state as the guest sees it: under trap and bt the real CPU holds the shadow root and
 * the hypervisor's trap table, so the control registers come from the virtual CPU instead; under
 * hvm on shadow paging CR0 and CR3 do (x/ and info mem walked the shadow root as a guest table).
 */
function cpuState(t: Target, k = t.cpu): CpuState {
  if (t.bare) return t.bare.cpus[k]!.saveState();
  const v = t.domain!.vcpus[k]!;
  const st = t.hv!.vcpuState(v);
  if (v.modeState instanceof TrapVcpu) {
    const g = v.modeState.v;
    st.cr0 = g.cr0;
    st.cr2 = g.cr2;
    st.cr3 = g.cr3;
    st.cr4 = g.cr4;
    st.idtBase = g.idtBase;
    st.idtLimit = g.idtLimit;
  } else if (v.modeState instanceof HvmVcpu && v.modeState.shadow !== null) {
    // hvm on shadow paging: the real CR3 is the shadow root; the guest's CR0 and CR3 are the virtual ones
    const g = v.modeState.shadow.v;
    st.cr0 = g.cr0;
    st.cr3 = g.cr3;
  }
  return st;
}

/** A word of machine memory (the page tables a pv guest keeps hold machine addresses). */
function machineWord(t: Target, ma: number): number {
  const mem = t.bare ? t.bare.mem : t.hv!.mem;
  if (ma < 0 || ma + 4 > mem.size) return 0;
  return mem.i32[ma >>> 2]! >>> 0;
}

/** Read a word at a "table address": machine for pv and native, guest-physical otherwise. */
function tableWord(t: Target, addr: number): number {
  if (t.bare || t.mode === 'pv') return machineWord(t, addr);
  return t.domain!.memory.read32(addr) >>> 0;
}

/** Virtual -> table address (machine for pv/native, guest-physical otherwise) with PTE rights, or null. */
function walk(t: Target, st: CpuState, va: number): { pa: number; rights: number } | null {
  if ((st.cr0 & CR0_PG) === 0) return { pa: va >>> 0, rights: Pte.W | Pte.U };
  const pde = tableWord(t, ((st.cr3 & ~0xfff) >>> 0) + (va >>> 22) * 4);
  if ((pde & Pte.P) === 0) return null;
  const pte = tableWord(t, ((pde & ~0xfff) >>> 0) + ((va >>> 12) & 1023) * 4);
  if ((pte & Pte.P) === 0) return null;
  return { pa: (((pte & ~0xfff) >>> 0) + (va & 0xfff)) >>> 0, rights: pde & pte & (Pte.W | Pte.U) };
}

/** A word at a virtual address of the domain, or null if unmapped. */
function readVirtual(t: Target, st: CpuState, va: number): number | null {
  const w = walk(t, st, va);
  if (!w) return null;
  if (t.bare || t.mode === 'pv') return machineWord(t, w.pa);
  if (!t.domain!.memory.contains(w.pa, 4)) return null;
  return t.domain!.memory.read32(w.pa) >>> 0;
}

function allSymbols(t: Target): ImageSymbol[] {
  return t.image?.symbols ?? [];
}

/** A symbol by its full name (module.function), or by its last part when that names one symbol. */
function findSymbol(symbols: readonly ImageSymbol[], name: string): ImageSymbol | undefined {
  const exact = symbols.find((s) => s.name === name);
  if (exact) return exact;
  const tail = symbols.filter((s) => s.name.endsWith(`.${name}`));
  return tail.length === 1 ? tail[0] : undefined;
}

/** ADDR: a number (0x.., decimal), a kernel symbol, or prog:symbol of a user program; +offset allowed. */
function parseAddress(t: Target, text: string, st: CpuState): number {
  const m = /^([^+]+?)(?:\+(0x[0-9a-f]+|\d+))?$/i.exec(text.trim());
  if (!m) throw new HostError(400, `bad address "${text}"`);
  const base = m[1]!;
  const off = m[2] ? Number(m[2]) : 0;
  if (/^(0x[0-9a-f]+|\d+)$/i.test(base)) return (Number(base) + off) >>> 0;
  if (base === '$pc' || base === 'pc') return (st.pc + off) >>> 0;
  const colon = base.indexOf(':');
  if (colon > 0) {
    const prog = base.slice(0, colon);
    const img = t.userImages.get(prog);
    if (!img) throw new HostError(400, `no user program "${prog}" in the initrd (have ${[...t.userImages.keys()].join(', ')})`);
    const sym = findSymbol(img.symbols, base.slice(colon + 1));
    if (!sym) throw new HostError(400, `no symbol "${base.slice(colon + 1)}" in user program ${prog}`);
    return (sym.addr + off) >>> 0;
  }
  const sym = findSymbol(allSymbols(t), base);
  if (sym) return (sym.addr + off) >>> 0;
  for (const [prog, img] of t.userImages) {
    const s = findSymbol(img.symbols, base);
    if (s) throw new HostError(400, `"${base}" is not a kernel symbol; it is in user program ${prog}: write ${prog}:${base}`);
  }
  throw new HostError(400, `unknown symbol "${base}" (a kernel symbol, prog:symbol, or an address like 0x1000)`);
}

/** The symbol table that covers `addr` (user programs live below the kernel's addresses). */
function symbolsFor(t: Target, addr: number, userHint: string | null): readonly ImageSymbol[] {
  if (userHint) return t.userImages.get(userHint)?.symbols ?? [];
  return allSymbols(t);
}

function examine(t: Target, fmt: string, countText: string, addrText: string): string {
  const st = cpuState(t);
  const count = countText === '' ? 1 : Number(countText);
  if (!Number.isInteger(count) || count < 1 || count > MAX_ITEMS) throw new HostError(400, `x/N: N must be from 1 to ${MAX_ITEMS}`);
  let addr = parseAddress(t, addrText, st);
  const user = /^([^:+]+):/.exec(addrText.trim())?.[1] ?? null;
  const syms = symbolsFor(t, addr, user);
  const lines: string[] = [];
  if (fmt === 'x') {
    for (let k = 0; k < count; k += 4) {
      const words: string[] = [];
      for (let j = k; j < Math.min(count, k + 4); j++) {
        const w = readVirtual(t, st, (addr + j * 4) >>> 0);
        words.push(w === null ? '(unmapped)' : hex(w));
      }
      lines.push(`${hex(addr + k * 4)}: ${words.join(' ')}`);
    }
    return lines.join('\n');
  }
  for (let k = 0; k < count; k++) {
    const word = readVirtual(t, st, addr);
    if (word === null) {
      lines.push(`${hex(addr)}: (unmapped)`);
      break;
    }
    const ext = readVirtual(t, st, (addr + 4) >>> 0) ?? 0;
    const bytes = decode(word, ext).bytes;
    const label = symbolize(syms, addr);
    let text = disassembleOne(word, ext, addr);
    // name branch targets
    text = text.replace(/0x[0-9a-f]{8}\b/g, (h) => {
      const a = Number(h);
      const s = symbolize(syms, a);
      return s.startsWith('0x') ? h : `${h} <${s}>`;
    });
    lines.push(`${hex(addr)} <${label}>: ${text}${addr === st.pc >>> 0 ? '    <- pc' : ''}`);
    addr = (addr + bytes) >>> 0;
  }
  return lines.join('\n');
}

function infoRegisters(t: Target): string {
  const st = cpuState(t);
  const lines: string[] = [];
  for (let k = 0; k < 16; k += 4) {
    lines.push(
      st.regs
        .slice(k, k + 4)
        .map((v, j) => `r${String(k + j).padEnd(2)}=${hex(v)}`)
        .join(' '),
    );
  }
  lines.push(`pc =${hex(st.pc)} <${symbolize(allSymbols(t), st.pc)}>  flags=${hex(st.flags)}  cpl=${st.cpl}`);
  lines.push(`cr0=${hex(st.cr0)} cr2=${hex(st.cr2)} cr3=${hex(st.cr3)} cr4=${hex(st.cr4)}`);
  lines.push(`idt=${hex(st.idtBase)}/${st.idtLimit}  ksp=${st.ksp.map(hex).join(' ')}`);
  lines.push(`cycles=${st.cycles} instructions=${st.instructions}${st.halted ? ' (halted)' : ''}`);
  return lines.join('\n');
}

/** Every CPU (vCPU) of the target, a line each; `*` marks the selected one (`cpu N`), which `info registers` shows. */
function infoCpus(t: Target): string {
  const n = t.bare ? t.bare.cpus.length : t.domain!.vcpus.length;
  const lines: string[] = [];
  for (let k = 0; k < n; k++) {
    const st = cpuState(t, k);
    const v = t.domain?.vcpus[k];
    const state = v === undefined ? (st.halted ? 'halted' : 'running') : v.up ? v.runState : 'down';
    // with several physical CPUs, where each vCPU is pinned
    const pcpu = v !== undefined && t.hv !== null && t.hv.pcpus > 1 ? ` pcpu ${v.pcpu}` : '';
    lines.push(`${k === t.cpu ? '*' : ' '} CPU #${k}: pc=${hex(st.pc)} <${symbolize(allSymbols(t), st.pc)}> cpl=${st.cpl} ${state}${pcpu}`);
  }
  return lines.join('\n');
}

/** The domain's mapped virtual pages, in address order: [va, pa, rights]. */
function mappings(t: Target, st: CpuState, each: (va: number, pa: number, rights: number) => boolean): void {
  if ((st.cr0 & CR0_PG) === 0) return;
  for (let dir = 0; dir < 1024; dir++) {
    const pde = tableWord(t, ((st.cr3 & ~0xfff) >>> 0) + dir * 4);
    if ((pde & Pte.P) === 0) continue;
    for (let k = 0; k < 1024; k++) {
      const pte = tableWord(t, ((pde & ~0xfff) >>> 0) + k * 4);
      if ((pte & Pte.P) === 0) continue;
      if (!each(((dir << 22) | (k << 12)) >>> 0, (pte & ~0xfff) >>> 0, pde & pte & (Pte.W | Pte.U))) return;
    }
  }
}

const rightsText = (r: number): string => `${r & Pte.U ? 'u' : '-'}r${r & Pte.W ? 'w' : '-'}`;

function infoMem(t: Target): string {
  const st = cpuState(t);
  const lines: string[] = [];
  if (t.domain) lines.push(`memory: ${t.domain.quotaFrames * 4} KiB quota (${t.domain.quotaFrames} frames)`);
  else if (t.bare) lines.push(`memory: ${t.bare.mem.size >> 10} KiB (a bare machine)`);
  if ((st.cr0 & CR0_PG) === 0) {
    lines.push('paging is off: virtual = physical');
    return lines.join('\n');
  }
  let start = -1;
  let end = 0;
  let rights = 0;
  let ranges = 0;
  const flush = () => {
    if (start < 0) return;
    if (ranges++ < MAX_ITEMS) lines.push(`${hex(start)}-${hex(end)} ${hex(end - start)} ${rightsText(rights)}`);
  };
  mappings(t, st, (va, _pa, r) => {
    if (start >= 0 && va === end && r === rights) end = va + 4096;
    else {
      flush();
      start = va;
      end = va + 4096;
      rights = r;
    }
    return true;
  });
  flush();
  if (ranges > MAX_ITEMS) lines.push(`... ${ranges - MAX_ITEMS} more ranges`);
  return lines.join('\n');
}

function infoTlb(t: Target): string {
  const st = cpuState(t);
  if ((st.cr0 & CR0_PG) === 0) return 'paging is off: virtual = physical';
  const lines: string[] = [];
  let n = 0;
  const physName = t.mode === 'pv' || t.bare ? 'machine' : 'guest-physical';
  mappings(t, st, (va, pa, r) => {
    if (n++ < MAX_ITEMS) lines.push(`${hex(va)}: ${hex(pa)} ${rightsText(r)}`);
    return true;
  });
  if (n > MAX_ITEMS) lines.push(`... ${n - MAX_ITEMS} more pages`);
  lines.push(`${n} pages mapped (virtual: ${physName} address)`);
  return lines.join('\n');
}

/** The domain runs on shadow page tables: trap, bt, or hvm without a second stage. */
function shadowPaging(t: Target): boolean {
  if (t.mode === 'trap' || t.mode === 'bt') return true;
  const v = t.mode === 'hvm' ? t.domain?.vcpus[0]?.modeState : undefined;
  return v instanceof HvmVcpu && v.shadow !== null;
}

function infoShadow(t: Target): string {
  if (!shadowPaging(t)) {
    return `no shadow page tables in ${t.mode} mode${t.mode === 'pv' ? ' (the guest\'s own tables are validated and used directly)' : t.mode === 'hvm' ? ' (the hardware walks a second stage)' : ''}`;
  }
  const s = t.domain!.stats.summary().shadow as Record<string, number>;
  return Object.entries(s)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
}

function infoEvents(t: Target): string {
  if (t.bare) return 'a bare machine: no hypervisor event channels';
  const d = t.domain!;
  const pv = d.modeState;
  if (!(pv instanceof PvDomain)) return `injected interrupts: ${d.stats.injectedInterrupts}`;
  const ev = pv.events;
  const mem = t.hv!.mem;
  const lines: string[] = [];
  for (let p = 1; p < ev.state.length; p++) {
    const s = ev.state[p]!;
    if (s === PortState.FREE) continue;
    const word = (pv.sharedInfo + SharedInfo.EVTCHN_PENDING + (p >>> 5) * 4) >>> 2;
    const mword = (pv.sharedInfo + SharedInfo.EVTCHN_MASK + (p >>> 5) * 4) >>> 2;
    const bit = 1 << (p & 31);
    const pending = (mem.i32[word]! & bit) !== 0;
    const masked = (mem.i32[mword]! & bit) !== 0;
    const what =
      s === PortState.VIRQ
        ? `virq ${ev.virq[p]}`
        : s === PortState.UNBOUND
          ? `unbound (for domain ${ev.remoteDom[p]})`
          : ev.hostHandler[p]
            ? 'interdomain (hypervisor back end)'
            : `interdomain (domain ${ev.remoteDom[p]} port ${ev.remotePort[p]})`;
    lines.push(`port ${p}: ${what}${pending ? ' pending' : ''}${masked ? ' masked' : ''}`);
  }
  lines.push(`events set pending: ${pv.stats.eventsPending}`);
  return lines.join('\n');
}

function infoMode(t: Target): string {
  const lines = [`mode: ${MODE_TITLES[t.mode] ?? t.mode}`, `profile: ${t.profile}`];
  if (t.bare) {
    lines.push('machine: own (a bare machine)');
    lines.push(`instructions: ${t.bare.cpu.instructions}`, `cycles: ${t.bare.cpu.cycles}`);
    return lines.join('\n');
  }
  const d = t.domain!;
  const hv = t.hv!;
  const others = hv.domains.filter((x) => x !== d && !x.stopped).length;
  lines.push(`machine: ${t.machineKey ?? 'own'} (domain id ${d.id}${others > 0 ? `, shared with ${others} other running domain${others > 1 ? 's' : ''}` : ''})`);
  const s = d.stats;
  const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);
  const summary = s.summary();
  lines.push(`instructions: ${s.instructions}`, `cycles: ${s.runCycles} (hypervisor work: ${s.monitorCycles})`);
  lines.push(`exits: ${sum(summary.loopExits as Record<string, number>)} to the hypervisor loop (${Object.entries(summary.loopExits as Record<string, number>).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ')})`);
  lines.push(`traps: ${sum(summary.traps as Record<string, number>)}`);
  lines.push(`hypercalls: ${sum(summary.hypercalls as Record<string, number>)}`);
  if (t.mode === 'hvm') {
    const e = hvmExitCounts(d);
    lines.push(`vm exits: ${e.total} (${Object.entries(e.byReason).map(([k, v]) => `${k} ${v}`).join(', ')})`);
    const ple = pleLine(d);
    if (ple !== null) lines.push(ple);
  }
  if (t.mode === 'bt') {
    const b = btStatsSummary(d) as unknown as Record<string, unknown>;
    lines.push(`translation: ${Object.entries(b).filter(([, v]) => typeof v === 'number').map(([k, v]) => `${k} ${v}`).join(', ')}`);
    const a = btStatsSummary(d).adaptive;
    if (a !== undefined) lines.push(`adaptive retranslation: ${a.retranslations} stores retranslated, ${a.emulatedStores} store callouts (${a.emulatedTraceStores} into traced page tables)`);
  }
  if (shadowPaging(t)) {
    const sh = summary.shadow as Record<string, number>;
    lines.push(`shadow page faults: ${sh.hiddenFaults} hidden, ${sh.trueFaults} true`);
  }
  return lines.join('\n');
}

function breakpointList(t: Target, list: number[]): string {
  if (list.length === 0) return 'no breakpoints';
  return list.map((a, k) => `${k + 1}: ${hex(a)} <${symbolize(allSymbols(t), a)}>`).join('\n');
}

/** Run a monitor command on domain `name` of `host`; the output text. */
export function monitorCommand(host: Host, name: string, command: string, userImages: ReadonlyMap<string, Image> = new Map()): string {
  const cmd = command.trim().replace(/\s+/g, ' ');
  if (cmd === 'help' || cmd === '?') return MONITOR_HELP;
  if (cmd === 'stop') {
    host.suspend(name);
    return `domain '${name}' stopped`;
  }
  if (cmd === 'cont' || cmd === 'c') {
    host.resume(name);
    return `domain '${name}' continues`;
  }
  const live = host.live(name);
  const t: Target = {
    name,
    mode: live.rec.def.mode,
    profile: live.rec.def.profile,
    machineKey: live.hv && live.rec.def.mode === 'pv' ? pvMachineKey(live.rec.def.profile, live.rec.def.engine) : null,
    domain: live.domain,
    hv: live.hv,
    bare: live.bare,
    image: live.rec.image,
    userImages,
    cpu: 0,
  };
  // the selected vCPU (a domain started again with fewer has its vCPU 0 selected)
  const ncpus = live.bare ? live.bare.cpus.length : live.domain!.vcpus.length;
  if (live.rec.monitorCpu >= ncpus) live.rec.monitorCpu = 0;
  t.cpu = live.rec.monitorCpu;
  const sel = /^cpu(?: (\S+))?$/.exec(cmd);
  if (sel) {
    if (sel[1] !== undefined) {
      const k = Number(sel[1]);
      if (!/^\d+$/.test(sel[1]) || k >= ncpus) throw new HostError(400, `cpu: no vCPU ${sel[1]} (domain '${name}' has ${ncpus}: 0..${ncpus - 1})`);
      live.rec.monitorCpu = t.cpu = k;
    }
    return `CPU #${t.cpu} selected (info registers, info mem, info tlb, x/ and break's addresses use its registers and address space)`;
  }
  const br = /^(?:break|b)(?: (.+))?$/.exec(cmd);
  if (br) {
    const list = br[1] === undefined ? host.breakpoints(name) : host.addBreakpoint(name, parseAddress(t, br[1], cpuState(t)));
    return breakpointList(t, list);
  }
  const del = /^(?:delete|d)(?: (\d+))?$/.exec(cmd);
  if (del) return breakpointList(t, host.deleteBreakpoints(name, del[1] === undefined ? undefined : Number(del[1])));
  if (cmd === 'step' || cmd === 's') return host.step1(name, (st) => `${hex(st.pc)} <${symbolize(allSymbols(t), st.pc)}>`);
  const x = /^x\/(\d*)([ix])\s+(.+)$/.exec(cmd);
  if (x) return examine(t, x[2]!, x[1]!, x[3]!);
  switch (cmd) {
    case 'info mode':
    case 'info kvm':
      return infoMode(t);
    case 'info registers':
      return infoRegisters(t);
    case 'info cpus':
      return infoCpus(t);
    case 'info mem':
      return infoMem(t);
    case 'info tlb':
      return infoTlb(t);
    case 'info shadow':
      return infoShadow(t);
    case 'info events':
      return infoEvents(t);
    default:
      throw new HostError(400, `unknown monitor command "${command}" (help lists them)`);
  }
}
