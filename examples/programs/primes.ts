// primes: a user's own program for the xenolith guest. Prints the primes below N (default 50)
// and how many it found. Run it inside the guest:
//   npx xenolith run --add examples/programs/primes.ts --input 'primes 30'
// User program (the TypeScript subset, compiled with --user).

import { cstr } from 'xl32';
import { argc, argv, atoi, puts, putd } from '../../guest-kernel/user/lib/ulib.ts';

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) {
    if (n % d === 0) return false;
  }
  return true;
}

export function main(): number {
  const limit = argc() > 1 ? atoi(argv(1)) : 50;
  let count = 0;
  for (let n = 2; n < limit; n++) {
    if (isPrime(n)) {
      if (count > 0) puts(cstr(' '));
      putd(n);
      count++;
    }
  }
  puts(cstr('\n'));
  puts(cstr('primes: '));
  putd(count);
  puts(cstr(' found\n'));
  return 0;
}
