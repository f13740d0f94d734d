// Links every typed stub of hypercalls/guest.ts (and the ring helpers) into one PV image, so the
// contract test can read the code the compiler made of each. Guest code, compiled with --arch pv.

import { schedShutdown } from '../../../hypercalls/guest.ts';
export * from '../../../hypercalls/guest.ts';
export * from '../../../hypercalls/ring.ts';

export function main(): void {
  schedShutdown(0);
}
