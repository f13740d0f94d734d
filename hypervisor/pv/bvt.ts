// Borrowed Virtual Time (Duda & Cheriton, SOSP 1999), the proportional-share scheduler of the
// 2003 Xen paper, behind the core's Scheduler interface. Each vCPU has a weight; while it runs its
// actual virtual time advances by cycles / weight, and the runnable vCPU with the smallest
// effective virtual time runs next, so over time each gets CPU in proportion to its weight. A
// context-switch allowance C keeps the current vCPU until another is ahead by C / weight. A woken
// vCPU's virtual time is raised to the scheduler's virtual time (the smallest among the runnable),
// so sleeping earns no credit; a vCPU with a warp runs that far ahead for at most warpLimit cycles
// after a wake-up (low latency for I/O-bound domains), then must wait unwarpCycles to warp again.
// Pure policy over Vcpu objects; deterministic (ties go to the vCPU added first).

import type { Scheduler } from '../core/scheduler.ts';
import type { Vcpu } from '../core/vcpu.ts';

export interface BvtParams {
  /** share of the CPU relative to the others (> 0; default 1) */
  weight: number;
  /** virtual time (cycles / weight) subtracted while warping (default 0: never warps) */
  warp?: number;
  /** cycles a warp may last (default 1 ms of a 3 GHz core) */
  warpLimitCycles?: number;
  /** cycles between the end of a warp and the next one (default 5 ms) */
  unwarpCycles?: number;
}

interface Entry {
  vcpu: Vcpu;
  order: number;
  weight: number;
  /** actual virtual time */
  avt: number;
  warp: number;
  warpLimit: number;
  unwarp: number;
  warping: boolean;
  warpUsed: number;
  lastUnwarp: number;
  runnable: boolean;
}

/** Default context-switch allowance: 1 ms at 3 GHz, the core's default slice. */
export const BVT_DEFAULT_ALLOWANCE = 3_000_000;

export class BvtScheduler implements Scheduler {
  readonly name = 'bvt';
  private readonly entries = new Map<Vcpu, Entry>();
  /** runnable entries in add order */
  private readonly runq: Entry[] = [];
  private current: Entry | null = null;
  private nextOrder = 0;
  private now = 0;
  /** parameters by domain id, applied to vCPUs added later and to existing ones */
  private readonly params = new Map<number, BvtParams>();

  /** allowance: the context-switch allowance C in cycles */
  constructor(readonly allowance = BVT_DEFAULT_ALLOWANCE) {
    if (!(allowance >= 1)) throw new RangeError('BvtScheduler: the allowance must be at least 1 cycle');
  }

  /** Set a domain's weight (and warp); may be called before or after its vCPUs are added. */
  setParams(domainId: number, p: BvtParams): void {
    if (!(p.weight > 0)) throw new RangeError(`BvtScheduler: weight must be positive (got ${p.weight})`);
    this.params.set(domainId, p);
    for (const e of this.entries.values()) if (e.vcpu.domain.id === domainId) this.apply(e, p);
  }

  /** Change only a domain's weight (its warp parameters stay). */
  setWeight(domainId: number, weight: number): void {
    this.setParams(domainId, { ...(this.params.get(domainId) ?? {}), weight });
  }

  /** A domain's weight (1 unless set). */
  weight(domainId: number): number {
    return this.params.get(domainId)?.weight ?? 1;
  }

  private apply(e: Entry, p: BvtParams): void {
    e.weight = p.weight;
    e.warp = p.warp ?? 0;
    e.warpLimit = p.warpLimitCycles ?? 3_000_000;
    e.unwarp = p.unwarpCycles ?? 15_000_000;
  }

  /** Scheduler virtual time: the smallest actual virtual time among the runnable (0 if none). */
  private svt(except?: Entry): number {
    let m = Infinity;
    for (const e of this.runq) if (e !== except && e.avt < m) m = e.avt;
    return m === Infinity ? (except ? except.avt : 0) : m;
  }

  private evt(e: Entry): number {
    return e.warping ? e.avt - e.warp : e.avt;
  }

  add(vcpu: Vcpu): void {
    if (this.entries.has(vcpu)) return;
    const e: Entry = {
      vcpu, order: this.nextOrder++, weight: 1, avt: 0, warp: 0, warpLimit: 0, unwarp: 0,
      warping: false, warpUsed: 0, lastUnwarp: -Infinity, runnable: false,
    };
    this.apply(e, this.params.get(vcpu.domain.id) ?? { weight: 1 });
    e.avt = this.svt();
    this.entries.set(vcpu, e);
    if (vcpu.runState === 'runnable') this.enqueue(e);
  }

  remove(vcpu: Vcpu): void {
    const e = this.entries.get(vcpu);
    if (!e) return;
    this.dequeue(e);
    this.entries.delete(vcpu);
    if (this.current === e) this.current = null;
  }

  wake(vcpu: Vcpu): void {
    const e = this.entries.get(vcpu);
    if (!e || e.runnable) return;
    e.avt = Math.max(e.avt, this.svt(e));
    if (e.warp > 0 && this.now - e.lastUnwarp >= e.unwarp) {
      e.warping = true;
      e.warpUsed = 0;
    }
    this.enqueue(e);
  }

  block(vcpu: Vcpu): void {
    const e = this.entries.get(vcpu);
    if (!e) return;
    if (e.warping) this.endWarp(e);
    this.dequeue(e);
  }

  /** Give up the CPU: go behind every other runnable vCPU in virtual time. */
  yield(vcpu: Vcpu): void {
    const e = this.entries.get(vcpu);
    if (!e || !e.runnable) return;
    let max = e.avt;
    for (const o of this.runq) if (o !== e && this.evt(o) > max) max = this.evt(o);
    e.avt = max;
    if (e.warping) this.endWarp(e);
    if (this.current === e) this.current = null;
  }

  pick(now: number): Vcpu | null {
    this.now = now;
    if (this.runq.length === 0) return null;
    let best = this.runq[0]!;
    for (const e of this.runq) if (this.evt(e) < this.evt(best)) best = e;
    const cur = this.current;
    if (cur && cur.runnable && cur !== best && this.evt(best) + this.allowance / cur.weight >= this.evt(cur)) best = cur;
    this.current = best;
    return best.vcpu;
  }

  budget(vcpu: Vcpu): number {
    const e = this.entries.get(vcpu);
    if (!e) return this.allowance;
    let next = Infinity;
    for (const o of this.runq) if (o !== e && this.evt(o) < next) next = this.evt(o);
    if (next === Infinity) return this.allowance;
    // run until this vCPU's effective virtual time passes the next one's by the allowance
    return Math.max(1, Math.ceil((next - this.evt(e)) * e.weight + this.allowance));
  }

  account(vcpu: Vcpu, cycles: number): void {
    const e = this.entries.get(vcpu);
    if (!e) return;
    e.avt += cycles / e.weight;
    this.now += cycles;
    if (e.warping) {
      e.warpUsed += cycles;
      if (e.warpUsed >= e.warpLimit) this.endWarp(e);
    }
  }

  private endWarp(e: Entry): void {
    e.warping = false;
    e.lastUnwarp = this.now;
  }

  private enqueue(e: Entry): void {
    if (e.runnable) return;
    e.runnable = true;
    // keep add order, so ties are decided the same way every run
    let k = this.runq.length;
    while (k > 0 && this.runq[k - 1]!.order > e.order) k--;
    this.runq.splice(k, 0, e);
  }

  private dequeue(e: Entry): void {
    if (!e.runnable) return;
    e.runnable = false;
    const k = this.runq.indexOf(e);
    if (k >= 0) this.runq.splice(k, 1);
  }

  /** Actual virtual time of a vCPU (for tests and `info`). */
  virtualTime(vcpu: Vcpu): number {
    return this.entries.get(vcpu)?.avt ?? 0;
  }
}
