// The compiler's random-expression differential test (random-expressions.ts), the first 10
// programs of the seed's sequence: a quick check in npm test. The deep suite runs all of them.
import { expressionFuzz } from './random-expressions.ts';

expressionFuzz(10);
