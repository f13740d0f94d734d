// Deferred calls: the callbacks the event queue holds (a device's completion, a timer's expiry),
// made as data - a target, the name of its method (or of a registered function) and the
// arguments - rather than as closures, so a saved machine's pending events can be written to a
// file and run again after a restore (hypervisor/save/). Pure data structure; imports nothing.

/** What a deferred call does when it runs: `target[name](...args)`, or the registered function `name` (target null). */
export interface DeferredCall {
  target: object | null;
  name: string;
  args: unknown[];
}

/** A callback made by deferred(): a plain function carrying its call as data. */
export type DeferredFn = (() => void) & { deferredCall: DeferredCall };

const FUNCTIONS = new Map<string, (...args: never[]) => void>();

/** Register a module-level function as `name` for deferred(null, name, ...) (once per name). */
export function registerDeferred<A extends unknown[]>(name: string, fn: (...args: A) => void): void {
  const had = FUNCTIONS.get(name);
  if (had !== undefined && (had as unknown) !== fn) throw new Error(`registerDeferred: '${name}' is registered twice`);
  FUNCTIONS.set(name, fn as unknown as (...args: never[]) => void);
}

/** Whether `name` names a registered function. */
export function isRegisteredDeferred(name: string): boolean {
  return FUNCTIONS.has(name);
}

function invoke(c: DeferredCall): void {
  if (c.target === null) {
    const fn = FUNCTIONS.get(c.name);
    if (fn === undefined) throw new Error(`deferred call: no function '${c.name}' is registered`);
    (fn as (...a: unknown[]) => void)(...c.args);
    return;
  }
  const m = (c.target as Record<string, unknown>)[c.name];
  if (typeof m !== 'function') throw new Error(`deferred call: the target has no method '${c.name}'`);
  (m as (...a: unknown[]) => void).apply(c.target, c.args);
}

/** A callback that calls target[name](...args) (or the registered function `name` when target is null). */
export function deferred(target: object | null, name: string, ...args: unknown[]): DeferredFn {
  const f = (() => invoke(f.deferredCall)) as DeferredFn;
  f.deferredCall = { target, name, args };
  return f;
}

/** The call a deferred() callback carries, or null for any other function. */
export function deferredCallOf(fn: unknown): DeferredCall | null {
  if (typeof fn !== 'function') return null;
  const c = (fn as Partial<DeferredFn>).deferredCall;
  return c ?? null;
}
