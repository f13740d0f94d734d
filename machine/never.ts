// assertNever: the end of an exhaustive switch. The argument's type is `never` when every case is
// handled, so a case added to a union without a branch fails to compile; at run time (a value
// from outside the type system) it throws. Imports nothing.

/** Unreachable when the switch before it is exhaustive; `what` names the union for the message. */
export function assertNever(x: never, what = 'case'): never {
  throw new Error(`unhandled ${what}: ${String(x)}`);
}
