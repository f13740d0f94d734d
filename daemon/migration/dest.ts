// The destination's side of a live migration: take the hello (the host accepts or refuses the
// domain), hold the pages of every round (the latest copy of each), then at stop-and-copy build
// the domain from the state and the pages - paused, not yet listed - and run it once the source
// has committed and given its copy up. Nothing is half-built: until then the staged domain is
// only in this session, and a dropped connection, a dead or lying source, or any bad message
// discards it. The one exception is the commit's own window (docs/migration.md): once this side
// has answered `committed`, the source may have destroyed its copy, so a connection that drops
// before `done` leaves the domain here paused, "in doubt", never running twice. Host code.

import type { Channel } from './channel.ts';
import { MigrationError, type Message } from './wire.ts';

export type Hello = Extract<Message, { type: 'hello' }>;

/** A domain being built here (the host gives it; daemon/host.ts). */
export interface StagedDomain {
  /** build it from the state (a save file without its pages) and its pages, paused; then idle the downtime */
  build(state: Uint8Array, pages: PageStore, downtimeCycles: number): void;
  /** run it here (the source's copy is gone) */
  commit(): void;
  /** the connection dropped after `committed`: keep it, paused, and say why */
  keepInDoubt(why: string): void;
  /** forget it (nothing of it stays) */
  discard(): void;
}

/** What the destination host does with a hello: a staged domain, or a refusal (throws, one line). */
export type AcceptHello = (hello: Hello) => StagedDomain;

/** The latest copy of each page the source sent. */
export class PageStore {
  readonly bytes: Uint8Array;
  readonly held: Uint8Array;
  count = 0;

  constructor(readonly pages: number) {
    this.bytes = new Uint8Array(pages * 4096);
    this.held = new Uint8Array(pages);
  }

  put(pfns: readonly number[], data: Uint8Array): void {
    for (const pfn of pfns) if (pfn >= this.pages) throw new MigrationError(`the source sent page ${pfn}; the domain has ${this.pages}`);
    pfns.forEach((pfn, k) => {
      this.bytes.set(data.subarray(k * 4096, (k + 1) * 4096), pfn * 4096);
      if (this.held[pfn] === 0) {
        this.held[pfn] = 1;
        this.count++;
      }
    });
  }

  page(pfn: number): Uint8Array {
    return this.bytes.subarray(pfn * 4096, (pfn + 1) * 4096);
  }
}

/** One incoming migration on `ch`, to its end; resolves with the domain's name once it runs here. */
export async function migrateIn(ch: Channel, accept: AcceptHello): Promise<string> {
  let staged: StagedDomain | null = null;
  let answered = false;
  try {
    const { msg: hello } = await ch.expect('hello');
    staged = accept(hello);
    ch.send({ type: 'welcome' });
    const store = new PageStore(hello.pages);
    let round = 1;
    for (;;) {
      const f = await ch.next();
      if (f.msg.type === 'pages') {
        if (f.msg.round !== round) throw new MigrationError(`the source sent pages of round ${f.msg.round} during round ${round}`);
        store.put(f.msg.pfns, f.bin);
        continue;
      }
      if (f.msg.type === 'round-end') {
        if (f.msg.round !== round) throw new MigrationError(`the source ended round ${f.msg.round} during round ${round}`);
        ch.send({ type: 'round-ok', round, pagesHeld: f.msg.pagesSent });
        round++;
        continue;
      }
      if (f.msg.type !== 'state') throw new MigrationError(`the source sent ${f.msg.type} during the pre-copy rounds`);
      const { pfns, stateBytes, downtimeCycles } = f.msg;
      store.put(pfns, f.bin.subarray(0, pfns.length * 4096));
      if (store.count !== hello.pages) throw new MigrationError(`stop-and-copy came with ${hello.pages - store.count} of the domain's ${hello.pages} pages never sent`);
      staged.build(f.bin.subarray(pfns.length * 4096, pfns.length * 4096 + stateBytes), store, downtimeCycles);
      ch.send({ type: 'state-ok', pagesHeld: store.count });
      break;
    }
    await ch.expect('commit');
    ch.send({ type: 'committed' });
    answered = true;
    await ch.expect('done');
    staged.commit();
    ch.close();
    return hello.name;
  } catch (e) {
    const err = e instanceof MigrationError ? e : new MigrationError(e instanceof Error ? e.message : String(e));
    if (staged !== null) {
      if (answered) staged.keepInDoubt(err.message);
      else staged.discard();
    }
    ch.abort(err.message);
    throw err;
  }
}
