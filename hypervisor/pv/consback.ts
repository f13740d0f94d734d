// The console back end, resident in the hypervisor (Xen ran it in domain 0 as xenconsoled): the
// domain's console page (structs.ts ConsoleRing) holds an output ring the guest fills and an
// input ring this back end fills, and one port carries notifications both ways, with the
// generic ring's hold-off on each side. The guest connects by notifying the port the first time;
// until then, input waits for console_io(READ) and VIRQ CONSOLE as before (early boot, and guests
// without a ring driver). The page is one of the domain's own frames: the back end holds a
// writable type reference on it, as xenconsoled's mapping did, so it can never become a page
// table (or leave the domain) while the back end may write it.
// Touches the domain's console page and console output.

import { ConsoleRing } from '../../hypercalls/structs.ts';
import { Virq } from '../../hypercalls/numbers.ts';
import { PageType } from './page-types.ts';
import { bindHostPort, sendVirq, setPending } from './events.ts';
import { shouldNotify } from './ring.ts';
import { ByteQueue } from './byte-queue.ts';
import type { PvDomain } from './state.ts';

const IN: number = ConsoleRing.IN;
const IN_BYTES: number = ConsoleRing.IN_BYTES;
const OUT: number = ConsoleRing.OUT;
const OUT_BYTES: number = ConsoleRing.OUT_BYTES;
const IN_CONS: number = ConsoleRing.IN_CONS;
const IN_PROD: number = ConsoleRing.IN_PROD;
const OUT_CONS: number = ConsoleRing.OUT_CONS;
const OUT_PROD: number = ConsoleRing.OUT_PROD;
const IN_EVENT: number = ConsoleRing.IN_EVENT;
const OUT_EVENT: number = ConsoleRing.OUT_EVENT;

export class ConsBack {
  readonly port: number;
  /** the guest has notified the port: input goes through the ring from now on */
  connected = false;
  /** input not yet in the ring (it was full, or the guest has not connected) */
  readonly pending = new ByteQueue();
  private held = true;
  /** the front end broke the ring's rules */
  broken = false;
  /** the back end's own indices (the shared copies are for the guest to read, never trusted back) */
  private outCons = 0;
  private inProd = 0;

  constructor(
    readonly d: PvDomain,
    /** machine frame of the console page */
    readonly frame: number,
  ) {
    const types = d.host.types;
    const r = types.getType(frame, PageType.WRITABLE, d.id);
    if (r < 0) throw new Error(`consback: the console page 0x${frame.toString(16)} cannot be held writable (${r})`);
    types.refCount[frame]!++;
    const p = bindHostPort(d, () => this.notify());
    if (p < 0) throw new Error('consback: no free port');
    this.port = p;
    const mem = d.host.mem;
    const page = frame * 4096;
    mem.fill(page, 4096, 0);
    // each side wants to hear about the first byte
    mem.write32(page + IN_EVENT, 1);
    mem.write32(page + OUT_EVENT, 1);
  }

  private word(off: number): number {
    return this.d.host.mem.i32[(this.frame * 4096 + off) >>> 2]!;
  }

  private setWord(off: number, v: number): void {
    const mem = this.d.host.mem;
    mem.noteWrite(this.frame * 4096 + off, 4); // drop code an engine cached from the page, if any
    mem.i32[(this.frame * 4096 + off) >>> 2] = v | 0;
  }

  /** The guest notified the port: take its output, top up its input. */
  notify(): void {
    const d = this.d;
    d.stats.consoleNotifyIn++;
    if (!this.connected) {
      this.connected = true;
      // input typed before the guest connected moves to the ring
      this.pending.pushFrom(d.consoleIn);
    }
    this.drain();
    this.fill();
  }

  /**
   * Copy the output the guest published to the domain's console, then ask for a notification at
   * the next byte and look once more (the consumer's half of the hold-off).
   */
  drain(): void {
    if (this.broken || !this.held) return;
    const d = this.d;
    const mem = d.host.mem;
    const ring = this.frame * 4096 + OUT;
    for (;;) {
      const cons = this.outCons;
      const prod = this.word(OUT_PROD);
      const n = (prod - cons) >>> 0;
      if (n > OUT_BYTES) {
        this.broken = true;
        d.domain.shutdown('crashed', 0, 'consback: the guest published more console output than the ring holds');
        return;
      }
      if (n === 0) {
        this.setWord(OUT_EVENT, cons + 1);
        if (this.word(OUT_PROD) === cons) return;
        continue;
      }
      for (let k = 0; k < n; k++) d.domain.emitConsole(mem.u8[ring + ((cons + k) & (OUT_BYTES - 1))]!);
      d.stats.consoleBytesOut += n;
      this.outCons = prod;
      this.setWord(OUT_CONS, prod);
    }
  }

  /** Type bytes on the console: into the input ring once the guest is connected. */
  feed(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const d = this.d;
    if (!this.connected) {
      d.consoleIn.push(bytes);
      sendVirq(d, Virq.CONSOLE);
      return;
    }
    this.pending.push(bytes);
    this.fill();
  }

  /** Move waiting input into the ring; notify the guest if it asked (the producer's hold-off). */
  private fill(): void {
    if (this.broken || !this.held || this.pending.length === 0) return;
    const d = this.d;
    const cons = this.word(IN_CONS);
    const prod = this.inProd;
    const used = (prod - cons) >>> 0;
    if (used > IN_BYTES) {
      this.broken = true;
      d.domain.shutdown('crashed', 0, 'consback: the guest consumed console input that was never there');
      return;
    }
    const n = Math.min(IN_BYTES - used, this.pending.length);
    if (n === 0) return;
    const mem = d.host.mem;
    const ring = this.frame * 4096 + IN;
    const src = this.pending.peek(n);
    mem.noteWrite(ring, IN_BYTES);
    for (let k = 0; k < n; k++) mem.u8[ring + ((prod + k) & (IN_BYTES - 1))] = src[k]!;
    this.pending.drop(n);
    const next = (prod + n) | 0;
    this.inProd = next;
    this.setWord(IN_PROD, next);
    d.stats.consoleBytesIn += n;
    if (shouldNotify(prod, next, this.word(IN_EVENT))) {
      d.stats.consoleNotifyOut++;
      setPending(d, this.port);
    } else {
      d.stats.consoleHeldOff++;
    }
  }

  /** The domain stops or goes away: take the last output, then let go of the page. */
  destroy(): void {
    this.drain();
    if (!this.held) return;
    this.held = false;
    const types = this.d.host.types;
    types.refCount[this.frame]!--;
    types.putType(this.frame, this.d.id);
  }
}
