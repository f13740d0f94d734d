// The TypeScript compiler API, loaded with require() when first used. The package is CommonJS:
// importing it as an ES module makes Node scan its 9 MB for named exports (and tsx's loader check
// its format) first, and loading it at all takes a third of a second, which every `xenolith`
// command paid at start whether it compiled anything or not (a cached guest kernel needs no
// compiler). Types: typescript.d.ts, the package's own.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let ts;
const api = () => (ts ??= require('typescript'));

export default new Proxy(
  {},
  {
    get: (_, key) => api()[key],
    has: (_, key) => key in api(),
  },
);
