// The cost ledger: every simulated cycle that is not an instruction's own cost is charged as a
// counted event of a named kind with a fixed unit cost, so a run's time splits exactly into
// base (the instructions' own costs, cpu.baseCycles) + sum over kinds of count x unit cost.
// The CPU charges its own events (walks, deliveries, transitions, flushes); a hypervisor sets the
// unit costs of its software paths when it attaches and charges them through Cpu.charge().
// Pure data and arithmetic; imports only machine/costs.ts.

import type { CostProfile } from './costs.ts';

/**
 * The kinds of costed event. Plain numbers (not a const enum: cross-file const enums are
 * property loads under per-file transpilers). Each kind's unit cost is in LEDGER_UNITS below or
 * set by the hypervisor mode that charges it.
 */
export const Ev = {
  /** one page-table reference of a hardware TLB-miss walk (tlbWalkLevel) */
  TlbWalk: 0,
  /** one second-stage table reference of a walk in non-root mode (eptWalkLevel) */
  EptWalk: 1,
  /** delivery of an exception or external interrupt, through the IDT or to a root-mode intercept (trapEntry) */
  TrapDelivery: 2,
  /** delivery of INT n (intEntry) */
  IntDelivery: 3,
  /** the return to the guest after a root-mode intercept the monitor handled (iret) */
  InterceptReturn: 4,
  /** a CR3 or CR0 write's serialization and TLB flush, by the CPU or done by a monitor for the guest (cr3Write) */
  CrFlush: 5,
  /** an INVLPG a monitor performs for the guest (invlpg) */
  Invlpg: 6,
  /** HYPERCALL trapping into the hypervisor (hypercallEntry) */
  HypercallEntry: 7,
  /** the return from a hypercall (hypercallExit) */
  HypercallExit: 8,
  /** a VM entry (vmEntry) */
  VmEntry: 9,
  /** a VM exit (vmExit) */
  VmExit: 10,
  /** a trap-and-emulate monitor's software path for one trap (monitorTrap) */
  MonitorTrap: 11,
  /** a world switch between two vCPUs: a monitor path and a CR3 load (monitorTrap + cr3Write) */
  WorldSwitch: 12,
  /** one page-table reference of the monitor's software walk of the guest's tables (tlbWalkLevel) */
  MonitorWalk: 13,
  /** hvm: the monitor's exit handler, with its VMREADs (monitorTrap + VMCS_READS_PER_EXIT x vmcsRead) */
  HvmExitPath: 14,
  /** bt: a callout into the monitor (btCallout) */
  BtCallout: 15,
  /** bt: a translation-cache lookup (btLookup) */
  BtLookup: 16,
  /** bt: translating one guest instruction (btTranslate) */
  BtTranslate: 17,
  /** pv: decoding and dispatching one hypercall (PvCosts.dispatch) */
  PvDispatch: 18,
  /** pv: one request of a hypercall batch (PvCosts.perRequest) */
  PvRequest: 19,
  /** pv: validating or releasing one whole page table (PvCosts.tableScan) */
  PvTableScan: 20,
  /** pv: bouncing an exception or event upcall to the guest (PvCosts.bounce) */
  PvBounce: 21,
  /** pv: setting an event-channel port pending (PvCosts.eventSet) */
  PvEventSet: 22,
  /** pv: copying one sector between a disk model and a granted page (PvCosts.sectorCopy) */
  PvSectorCopy: 23,
  /** a descriptor-table load a monitor does for the guest (descriptorLoad) */
  DescriptorLoad: 24,
  /** cycles the CPU sat halted, fast-forwarded to the next device event (1 per cycle) */
  Idle: 25,
  /** hypervisor work charged by the cycle (an extension's hypercall handler: HcCtx.chargeCycles) */
  HvCycles: 26,
  /** the device model's handling of one emulated port access (deviceModel) */
  DeviceModel: 27,
  /** a hosted monitor's world switch to the host and back for an I/O exit (hostedWorldSwitch) */
  HostedSwitch: 28,
  /** log-dirty: the hypervisor's handling of a write fault on a write-protected frame: mark it dirty, make it writable (monitorTrap) */
  LogDirtyFault: 29,
  /** pv: copying one 64-byte line through a grant (grant copy: network back end, GNTTABOP_copy) (PvCosts.grantCopyLine) */
  PvGrantCopy: 30,
  /** pv: transferring one frame to a domain (page flipping: network receive) (PvCosts.pageFlip) */
  PvPageFlip: 31,
} as const;

export type EvKind = (typeof Ev)[keyof typeof Ev];

/** How many kinds there are (the length of the ledger's arrays). */
export const EV_KINDS = 32;

/** Short names of the kinds, by number: what reports print. */
export const EV_NAMES: readonly string[] = [
  'TLB-miss walk references',
  'EPT walk references',
  'exception/interrupt deliveries',
  'INT n deliveries',
  'returns from intercepts (IRET)',
  'CR3/CR0 flushes',
  'INVLPGs done by the monitor',
  'hypercall entries',
  'hypercall returns',
  'VM entries',
  'VM exits',
  'monitor trap paths',
  'world switches',
  'monitor guest-table references',
  'hvm exit handler paths (with VMREADs)',
  'bt callouts',
  'bt translation-cache lookups',
  'bt translated instructions',
  'pv hypercall dispatches',
  'pv batched requests',
  'pv page-table scans',
  'pv bounces to the guest',
  'pv event-channel sets',
  'pv sector copies',
  'descriptor loads by the monitor',
  'idle (halted) cycles',
  'other hypervisor work (cycles)',
  'device-model port accesses',
  'hosted world switches',
  'log-dirty write faults',
  'pv grant-copy lines (64 bytes)',
  'pv page flips (grant transfers)',
];

/**
 * The unit cost of every kind the machine itself knows from a profile; the hypervisor's own
 * software-path kinds (pv's) start at 0 and are set by the mode that charges them.
 */
export function ledgerUnits(p: CostProfile, vmcsReadsPerExit: number): Float64Array {
  const u = new Float64Array(EV_KINDS);
  u[Ev.TlbWalk] = p.tlbWalkLevel;
  u[Ev.EptWalk] = p.eptWalkLevel;
  u[Ev.TrapDelivery] = p.trapEntry;
  u[Ev.IntDelivery] = p.intEntry;
  u[Ev.InterceptReturn] = p.iret;
  u[Ev.CrFlush] = p.cr3Write;
  u[Ev.Invlpg] = p.invlpg;
  u[Ev.HypercallEntry] = p.hypercallEntry;
  u[Ev.HypercallExit] = p.hypercallExit;
  u[Ev.VmEntry] = p.vmEntry;
  u[Ev.VmExit] = p.vmExit;
  u[Ev.MonitorTrap] = p.monitorTrap;
  u[Ev.WorldSwitch] = p.monitorTrap + p.cr3Write;
  u[Ev.MonitorWalk] = p.tlbWalkLevel;
  u[Ev.HvmExitPath] = p.monitorTrap + vmcsReadsPerExit * p.vmcsRead;
  u[Ev.BtCallout] = p.btCallout;
  u[Ev.BtLookup] = p.btLookup;
  u[Ev.BtTranslate] = p.btTranslate;
  u[Ev.DescriptorLoad] = p.descriptorLoad;
  u[Ev.Idle] = 1;
  u[Ev.HvCycles] = 1;
  u[Ev.DeviceModel] = p.deviceModel;
  u[Ev.HostedSwitch] = p.hostedWorldSwitch;
  u[Ev.LogDirtyFault] = p.monitorTrap;
  return u;
}

/** A ledger read out: base cycles, and per kind the count and unit cost (kinds with events only). */
export interface LedgerSnapshot {
  /** cycles of the instructions' own costs */
  base: number;
  /** the time-stamp counter when the snapshot was taken */
  cycles: number;
  /** per kind name: events and cycles per event */
  events: Record<string, { count: number; unit: number }>;
}

/** Read a CPU's ledger (counts and units) at `cycles`: only kinds with a nonzero count. */
export function snapshotLedger(base: number, cycles: number, counts: Float64Array, units: Float64Array): LedgerSnapshot {
  const events: LedgerSnapshot['events'] = {};
  for (let k = 0; k < EV_KINDS; k++) if (counts[k] !== 0) events[EV_NAMES[k]!] = { count: counts[k]!, unit: units[k]! };
  return { base, cycles, events };
}

/** b - a: the events between two snapshots of one run (kinds whose count did not change are left out). */
export function ledgerDelta(a: LedgerSnapshot, b: LedgerSnapshot): LedgerSnapshot {
  const events: LedgerSnapshot['events'] = {};
  for (const [name, e] of Object.entries(b.events)) {
    const count = e.count - (a.events[name]?.count ?? 0);
    if (count !== 0) events[name] = { count, unit: e.unit };
  }
  return { base: b.base - a.base, cycles: b.cycles - a.cycles, events };
}

/**
 * x - y of two regions (deltas): one region's events less another's, kind by kind (a count may
 * come out negative: the other region had more of that kind). Still base + count x unit = cycles.
 */
export function ledgerLess(x: LedgerSnapshot, y: LedgerSnapshot): LedgerSnapshot {
  const events: LedgerSnapshot['events'] = {};
  for (const name of new Set([...Object.keys(x.events), ...Object.keys(y.events)])) {
    const count = (x.events[name]?.count ?? 0) - (y.events[name]?.count ?? 0);
    if (count !== 0) events[name] = { count, unit: (x.events[name] ?? y.events[name])!.unit };
  }
  return { base: x.base - y.base, cycles: x.cycles - y.cycles, events };
}

/** base + sum of count x unit: what the snapshot's cycles must equal exactly. */
export function ledgerTotal(s: LedgerSnapshot): number {
  let t = s.base;
  for (const e of Object.values(s.events)) t += e.count * e.unit;
  return t;
}
