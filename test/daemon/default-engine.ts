// What the daemon's tests expect of the default engine: the shared pv machine of the default
// profile under it, and the other engine. The suite passes under either default
// (XENOLITH_ENGINE=interpreter npx vitest run), so a test that means "the default" says so here.
import { pvMachineKey } from '../../daemon/host.ts';
import { DEFAULT_ENGINE, type Engine } from '../../machine/translator.ts';

export { DEFAULT_ENGINE };
/** the shared pv machine of p4-2003 under the default engine */
export const PV = pvMachineKey('p4-2003', DEFAULT_ENGINE);
/** the engine that is not the default */
export const OTHER_ENGINE: Engine = DEFAULT_ENGINE === 'translator' ? 'interpreter' : 'translator';
