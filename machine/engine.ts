// The CPU engines' names, the default engine and their parsing: apart from the translator
// (machine/translator.ts re-exports them), so the command line and the daemon's definitions can
// name an engine without loading it.

/** Which engine a CPU runs guest code with. */
export type Engine = 'interpreter' | 'translator';
export const ENGINES: readonly Engine[] = ['interpreter', 'translator'];
/**
 * The engine a Machine gets when its options name none: the translator, unless the environment
 * says XENOLITH_ENGINE=interpreter (how the whole test suite is run under the interpreter, the
 * oracle the translator is checked against). Why the translator: docs/engine.md "The default engine".
 */
export const DEFAULT_ENGINE: Engine = process.env.XENOLITH_ENGINE === 'interpreter' ? 'interpreter' : 'translator';

/** What is wrong with XENOLITH_ENGINE in the environment (a value other than an engine's name), or null. */
export function engineEnvironmentError(env: Record<string, string | undefined> = process.env): string | null {
  const v = env.XENOLITH_ENGINE;
  if (v === undefined || v === '' || (ENGINES as readonly string[]).includes(v)) return null;
  return `XENOLITH_ENGINE="${v}" in the environment is no engine (set it to ${ENGINES.join(' or ')}, or unset it: the default is the translator)`;
}

/** Parse an engine name (CLI, config); a one-line error otherwise. */
export function parseEngine(name: string): Engine {
  // the list's own string, not the one given: an engine name read from a command line or a file is
  // a string V8 did not intern, and comparing it with a literal on the hot path calls a builtin
  const i = (ENGINES as readonly string[]).indexOf(name);
  if (i >= 0) return ENGINES[i]!;
  throw new Error(`unknown engine '${name}' (expected ${ENGINES.join(' or ')})`);
}
