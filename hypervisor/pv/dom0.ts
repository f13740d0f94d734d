// dom0_op, the control interface (Xen 1.x/2.0's hypercall 7): domain information, pause and
// unpause, destroy, the scheduling weight and a domain's console, for the privileged control
// domain only (the first PV domain; start_info FLAGS PRIVILEGED). Any other caller gets EPERM
// before an argument is read. These are mechanisms; which domain to pause or destroy, and when,
// is the control domain's policy.
// Touches the core's domain list and scheduler, and the caller's memory for results.

import { HcErr } from '../../hypercalls/errors.ts';
import { Dom0Cmd, DomainFlags, ShutdownReason } from '../../hypercalls/numbers.ts';
import { DomainInfo } from '../../hypercalls/structs.ts';
import type { Domain } from '../core/domain.ts';
import type { HcCtx } from './context.ts';
import { PvDomain } from './state.ts';

const INFO_BYTES: number = DomainInfo.BYTES;
/** the most a weight may be (BvtScheduler takes any positive number; the interface keeps it an integer) */
const MAX_WEIGHT = 10000;
/** most console bytes one READCONSOLE copies */
const READ_MAX = 65536;

/** A scheduler with weights (BvtScheduler). */
interface Weighted {
  setWeight(domainId: number, weight: number): void;
  weight(domainId: number): number;
}

function weighted(s: object): Weighted | null {
  const w = s as Partial<Weighted>;
  return typeof w.setWeight === 'function' && typeof w.weight === 'function' ? (w as Weighted) : null;
}

function shutdownReason(d: Domain): number {
  switch (d.stopReason) {
    case 'poweroff':
      return ShutdownReason.POWEROFF;
    case 'destroyed':
      return ShutdownReason.DESTROYED;
    default:
      return ShutdownReason.CRASH;
  }
}

function flagsOf(d: Domain): number {
  let f = 0;
  if (d.state === 'shutdown') f |= DomainFlags.SHUTDOWN;
  else if (d.state === 'paused') f |= DomainFlags.PAUSED;
  if (d.state !== 'shutdown') f |= d.vcpus.some((v) => v.runState === 'runnable') ? DomainFlags.RUNNING : DomainFlags.BLOCKED;
  if (d.modeState instanceof PvDomain && d.modeState.privileged) f |= DomainFlags.PRIVILEGED;
  return f;
}

function getDomainInfo(ctx: HcCtx, domid: number, buf: number): number {
  const p = ctx.host.platform;
  let target: Domain | undefined;
  for (const d of p.domains) if (d.id >= domid && (!target || d.id < target.id)) target = d;
  if (!target) return HcErr.ESRCH;
  if (ctx.gv.translate(ctx.cr3, buf, true) < 0 || ctx.gv.translate(ctx.cr3, buf + INFO_BYTES - 1, true) < 0) return HcErr.EFAULT;
  const owner = p.frames.owner;
  let pages = 0;
  for (const f of target.p2m) if (f >= 0 && owner[f] === target.id) pages++;
  const cycles = target.vcpus.reduce((s, v) => s + v.runCycles, 0);
  const w = weighted(p.scheduler);
  const words: [number, number][] = [
    [DomainInfo.DOMID, target.id],
    [DomainInfo.FLAGS, flagsOf(target)],
    [DomainInfo.NR_PAGES, pages],
    [DomainInfo.MAX_PAGES, target.quotaFrames],
    [DomainInfo.CPU_CYCLES, cycles % 2 ** 32],
    [DomainInfo.CPU_CYCLES + 4, Math.floor(cycles / 2 ** 32)],
    [DomainInfo.NR_VCPUS, target.vcpus.length],
    [DomainInfo.SHUTDOWN_REASON, target.stopped ? shutdownReason(target) : 0],
    [DomainInfo.SHUTDOWN_STATUS, target.stopped ? target.stopStatus : 0],
    [DomainInfo.WEIGHT, w ? w.weight(target.id) : 0],
    [DomainInfo.CONSOLE_BYTES, target.consoleBytes().length],
  ];
  for (const [off, v] of words) ctx.w32(buf + off, v | 0);
  return ctx.faulted() ? HcErr.EFAULT : target.id;
}

function readConsole(ctx: HcCtx, target: Domain, buf: number, count: number, offset: number): number {
  if (count < 0 || offset < 0) return HcErr.EINVAL;
  const out = target.consoleBytes();
  const n = Math.max(0, Math.min(count, READ_MAX, out.length - offset));
  if (n === 0) return 0;
  if (!ctx.gv.writeBytes(ctx.cr3, buf, out.subarray(offset, offset + n))) {
    ctx.faulted();
    return HcErr.EFAULT;
  }
  return n;
}

/** dom0_op(cmd, domid, a1, a2, a3) */
export function dom0Op(ctx: HcCtx, cmd: number, domid: number, a1: number, a2: number, a3: number): number {
  if (!ctx.d.privileged) return HcErr.EPERM;
  const p = ctx.host.platform;
  if (cmd === Dom0Cmd.GETDOMAININFO) return getDomainInfo(ctx, domid, a1);
  if (cmd < Dom0Cmd.PAUSEDOMAIN || cmd > Dom0Cmd.READCONSOLE) return HcErr.EINVAL;
  const target = p.domains.find((d) => d.id === domid);
  if (!target) return HcErr.ESRCH;
  switch (cmd) {
    case Dom0Cmd.READCONSOLE:
      return readConsole(ctx, target, a1, a2, a3);
    case Dom0Cmd.ADJUSTDOM: {
      const w = weighted(p.scheduler);
      if (!w) return HcErr.ENOSYS;
      if (a1 < 1 || a1 > MAX_WEIGHT) return HcErr.EINVAL;
      w.setWeight(target.id, a1);
      return 0;
    }
  }
  // the control domain does not pause or destroy itself through its own control interface
  if (target === ctx.d.domain) return HcErr.EINVAL;
  switch (cmd) {
    case Dom0Cmd.PAUSEDOMAIN:
      return p.pauseDomain(target) ? 0 : HcErr.EINVAL;
    case Dom0Cmd.UNPAUSEDOMAIN:
      return p.unpauseDomain(target) ? 0 : HcErr.EINVAL;
    case Dom0Cmd.DESTROYDOMAIN:
      p.destroyDomain(target);
      return 0;
    default:
      return HcErr.EINVAL;
  }
}
