// The compiler's random-expression differential test (random-expressions.ts), the whole sequence
// (60 programs of 20 expressions; XENOLITH_FUZZ_RUNS for more): npm run test:deep.
import { DEEP_PROGRAMS, expressionFuzz } from './random-expressions.ts';

expressionFuzz(DEEP_PROGRAMS);
