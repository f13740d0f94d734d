// Messages between the daemon's main thread (the API) and its host thread (daemon/worker.ts).
// Types only.

export interface WorkerData {
  stateDir: string;
  hostMemoryMiB: number;
  pacing: 'wall' | 'fast';
}

/** A command for the host: `op` is a Route's op (daemon/api.ts), `args` its validated input. */
export interface HostRequest {
  id: number;
  op: string;
  args: unknown;
}

export type HostReply =
  | { type: 'ready' }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; status: number; error: string }
  | { type: 'event'; event: { name: string; status: string; stopReason: string | null; detail: string | null } }
  | { type: 'console'; name: string; data: string }
  | { type: 'log'; message: string }
  /** bytes for (or the end of) an incoming migration's connection, which the main thread holds */
  | { type: 'migrate'; session: number; kind: 'data'; data: Uint8Array }
  | { type: 'migrate'; session: number; kind: 'end' };

/**
 * An incoming migration's connection, relayed from the main thread (which holds the socket) as
 * a HostRequest of op 'migrateIn' (never answered): opened, bytes, closed.
 */
export type MigrateRelay = { session: number; kind: 'open' } | { session: number; kind: 'data'; data: Uint8Array } | { session: number; kind: 'close'; why: string };
