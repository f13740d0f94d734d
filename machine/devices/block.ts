// The XL32 block device: 512-byte sectors moved by DMA, a queue of up to BLK_QUEUE_DEPTH requests
// served in submission order, completions popped by the driver, IRQ 14; registers per
// machine/devices/ports.ts. Device model only: touches its backing bytes and, via DeviceContext, DMA.

import type { DeviceContext, IoDevice } from '../types.ts';
import { deferred } from '../deferred.ts';
import {
  BLK_ADDR,
  BLK_CAPACITY,
  BLK_CMD_READ,
  BLK_CMD_WRITE,
  BLK_COMMAND,
  BLK_COMPLETE,
  BLK_COUNT,
  BLK_ERROR,
  BLK_OK,
  BLK_QUEUE_DEPTH,
  BLK_SECTOR,
  BLK_STATUS,
  Irq,
  SECTOR_BYTES,
} from './ports.ts';

/**
 * Service time of a request: requestCycles + count * perSectorCycles.
 *
 * The defaults model a fast device, not a 2003 mechanical disk: at a nominal 1 GHz core,
 * 20,000 cycles is 20 us of command overhead and 2,000 cycles per 512-byte sector is 256 MB/s,
 * roughly a RAM-backed or early flash device behind a simple controller. A disk of the period
 * would be ~8 ms per request (8,000,000 cycles) and ~50 MB/s (~10,000 cycles per sector); pass
 * those to study I/O-bound behaviour. Benchmarks should not be dominated by waiting on the disk.
 */
export const BLK_DEFAULT_REQUEST_CYCLES = 20_000;
export const BLK_DEFAULT_PER_SECTOR_CYCLES = 2_000;

export interface BlockTiming {
  requestCycles?: number;
  perSectorCycles?: number;
}

interface Request {
  tag: number;
  cmd: number;
  sector: number;
  count: number;
  addr: number;
  /** sector range inside the device and count >= 1 */
  inRange: boolean;
  handle: number;
}

/*
 * A request occupies one of the BLK_QUEUE_DEPTH slots from its submission until the driver pops
 * its completion, so the completion queue can never overflow (virtio and NVMe bound theirs the
 * same way). "Queue full" (status bit 0) therefore means in flight + completions waiting = depth.
 *
 * Requests are served one after another: each starts when the previous one finishes (or at
 * submission if the device is idle) and finishes requestCycles + count * perSectorCycles later;
 * an out-of-range request is rejected after requestCycles alone. Data moves at completion time,
 * as DMA does: a write reads guest memory then, a read writes guest memory then.
 */
export class BlockDevice implements IoDevice {
  readonly name = 'block';
  readonly portBase = BLK_SECTOR;
  readonly portCount = BLK_CAPACITY - BLK_SECTOR + 1;

  /** capacity in whole sectors (a partial last sector of the backing is not addressable) */
  readonly capacitySectors: number;
  readonly requestCycles: number;
  readonly perSectorCycles: number;

  /** the next request's parameters, as last written */
  private sector = 0;
  private count = 0;
  private addr = 0;
  private lastRefused = false;
  /** submitted, not yet completed, in submission order */
  private inFlight: Request[] = [];
  /** completion words (tag | result << 8) waiting to be popped, oldest first */
  private completions: number[] = [];
  /** cycle at which the last queued request finishes */
  private busyUntil = 0;

  /**
   * Statistics since power-on, kept across reset: successful read and write requests and the
   * sectors they moved, requests completed with BLK_ERROR, submissions refused.
   */
  reads = 0;
  writes = 0;
  sectorsRead = 0;
  sectorsWritten = 0;
  errors = 0;
  refused = 0;

  /** backing: the disk's bytes (e.g. a file loaded by the caller), read and written in place. */
  constructor(
    private readonly ctx: DeviceContext,
    readonly backing: Uint8Array,
    timing: BlockTiming = {},
  ) {
    this.requestCycles = checkCycles('requestCycles', timing.requestCycles ?? BLK_DEFAULT_REQUEST_CYCLES);
    this.perSectorCycles = checkCycles('perSectorCycles', timing.perSectorCycles ?? BLK_DEFAULT_PER_SECTOR_CYCLES);
    this.capacitySectors = Math.floor(backing.length / SECTOR_BYTES);
  }

  reset(): void {
    for (const r of this.inFlight) this.ctx.cancel(r.handle);
    this.inFlight = [];
    this.completions = [];
    this.busyUntil = 0;
    this.sector = this.count = this.addr = 0;
    this.lastRefused = false;
  }

  /** Total sectors moved (read + written). */
  get sectors(): number {
    return this.sectorsRead + this.sectorsWritten;
  }

  read(port: number, _size: number): number {
    switch (port) {
      case BLK_STATUS:
        return this.status();
      case BLK_COMPLETE:
        return this.popCompletion();
      case BLK_CAPACITY:
        return this.capacitySectors >>> 0;
      default:
        return 0; // SECTOR, COUNT, ADDR and COMMAND are write-only
    }
  }

  write(port: number, _size: number, value: number): void {
    switch (port) {
      case BLK_SECTOR:
        this.sector = value >>> 0;
        return;
      case BLK_COUNT:
        this.count = value >>> 0;
        return;
      case BLK_ADDR:
        this.addr = value >>> 0;
        return;
      case BLK_COMMAND:
        this.submit(value & 0xff, (value >>> 8) & 0xff);
        return;
      default:
        return; // read-only registers
    }
  }

  private slotsUsed(): number {
    return this.inFlight.length + this.completions.length;
  }

  private status(): number {
    return (
      (this.slotsUsed() >= BLK_QUEUE_DEPTH ? 1 : 0) |
      (this.lastRefused ? 2 : 0) |
      (this.inFlight.length << 8) |
      (this.completions.length << 16)
    );
  }

  private submit(cmd: number, tag: number): void {
    if ((cmd !== BLK_CMD_READ && cmd !== BLK_CMD_WRITE) || this.slotsUsed() >= BLK_QUEUE_DEPTH) {
      this.lastRefused = true;
      this.refused++;
      return;
    }
    this.lastRefused = false;
    const { sector, count, addr } = this;
    const inRange = count >= 1 && sector + count <= this.capacitySectors;
    const serviceCycles = this.requestCycles + (inRange ? count * this.perSectorCycles : 0);
    const finish = Math.max(this.ctx.now(), this.busyUntil) + serviceCycles;
    this.busyUntil = finish;
    const req: Request = { tag, cmd, sector, count, addr, inRange, handle: 0 };
    req.handle = this.ctx.schedule(finish, deferred(this, 'complete', req));
    this.inFlight.push(req);
  }

  /** The request finished: move its data, queue its completion, raise the line. */
  private complete(req: Request): void {
    // Completion events are scheduled at non-decreasing times in submission order, and the
    // event queue breaks ties by scheduling order, so req is always the head.
    this.inFlight.shift();
    const ok = req.inRange && this.transfer(req);
    if (!ok) this.errors++;
    this.completions.push(req.tag | ((ok ? BLK_OK : BLK_ERROR) << 8));
    this.ctx.raiseIrq(Irq.Block);
  }

  /** Move the data by DMA; false on a bad guest buffer (nothing is written to the backing then). */
  private transfer(req: Request): boolean {
    const offset = req.sector * SECTOR_BYTES;
    const bytes = req.count * SECTOR_BYTES;
    if (req.cmd === BLK_CMD_READ) {
      if (!this.ctx.dmaWrite(req.addr, this.backing.subarray(offset, offset + bytes))) return false;
      this.reads++;
      this.sectorsRead += req.count;
    } else {
      const data = this.ctx.dmaRead(req.addr, bytes);
      if (data === null || data.length !== bytes) return false;
      this.backing.set(data, offset);
      this.writes++;
      this.sectorsWritten += req.count;
    }
    return true;
  }

  private popCompletion(): number {
    const c = this.completions.shift();
    if (c === undefined) return 0xffffffff;
    if (this.completions.length === 0) this.ctx.lowerIrq(Irq.Block);
    return c;
  }
}

function checkCycles(what: string, n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`BlockDevice: ${what} must be a non-negative integer, got ${n}`);
  return n;
}
