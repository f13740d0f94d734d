import { describe, expect, it } from 'vitest';
import { compareOptionsSchema, parseOptions, runOptionsSchema } from '../../cli/options.ts';
import { CliError } from '../../cli/errors.ts';
import { xenolith } from './run-in-process.ts';

const run = (o: Record<string, unknown>) => parseOptions(runOptionsSchema, { mode: 'native', profile: 'p4-2003', memory: '32', ...o });
const message = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    return (e as Error).message;
  }
  throw new Error('expected a CliError');
};

describe('CLI option validation (zod)', () => {
  it('accepts good values and converts them: MiB to bytes, underscores in counts', () => {
    expect(run({ memory: '64', maxCycles: '1_000_000' })).toEqual({ mode: 'native', profile: 'p4-2003', memory: 64 * 1024 * 1024, maxCycles: 1_000_000 });
    expect(run({}).maxCycles).toBeUndefined();
  });

  it('names the option and what it accepts for each bad value', () => {
    expect(message(() => run({ mode: 'warp' }))).toBe('unknown mode "warp" (choose one of native, trap, bt, hvm, pv)');
    expect(message(() => run({ profile: 'k6' }))).toBe('unknown CPU cost profile "k6" (choose one of p4-2003, p4-2006-vtx, core2-2006-vtx, modern)');
    expect(message(() => run({ memory: '0' }))).toBe('--memory must be a number of MiB from 1 to 1024');
    expect(message(() => run({ memory: '1.5' }))).toBe('--memory must be a number of MiB');
    expect(message(() => run({ maxCycles: 'lots' }))).toBe('--max-cycles must be a positive whole number');
  });

  it('splits --modes and checks each, and bounds --runs', () => {
    const c = (o: Record<string, unknown>) => parseOptions(compareOptionsSchema, { profile: 'modern', runs: '3', jobs: '1', maxCycles: '100', ...o });
    expect(c({ modes: 'trap, pv' })).toEqual({ profile: 'modern', runs: 3, jobs: 1, maxCycles: 100, modes: ['trap', 'pv'] });
    expect(c({}).modes).toBeUndefined();
    expect(message(() => c({ modes: 'trap,xen' }))).toBe('unknown mode "xen" (choose one of native, trap, bt, hvm, pv)');
    expect(message(() => c({ runs: '51' }))).toBe('--runs must be a whole number from 1 to 50');
    expect(message(() => c({ jobs: '0' }))).toBe('--jobs must be a whole number from 1 to 64');
  });

  it('--engine takes interpreter or translator, and names both when it is something else', () => {
    expect(run({ engine: 'translator' }).engine).toBe('translator');
    expect(run({ engine: 'interpreter' }).engine).toBe('interpreter');
    expect(message(() => run({ engine: 'jit' }))).toBe('unknown engine "jit" (choose interpreter or translator)');
  });

  it('XENOLITH_ENGINE other than an engine is refused in one line, before any verb runs', async () => {
    const saved = process.env.XENOLITH_ENGINE;
    process.env.XENOLITH_ENGINE = 'jit';
    try {
      expect(await xenolith('isa')).toMatchObject({ status: 2, stdout: '', stderr: 'xenolith: XENOLITH_ENGINE="jit" in the environment is no engine (set it to interpreter or translator, or unset it: the default is the translator)\n' });
    } finally {
      if (saved === undefined) delete process.env.XENOLITH_ENGINE;
      else process.env.XENOLITH_ENGINE = saved;
    }
    expect((await xenolith('isa')).status).toBe(0);
  });
});
