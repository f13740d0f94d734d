// Random int32 expressions in the guest subset, for differential testing (fast-check
// arbitraries). Every expression is written so JavaScript computes the same 32-bit value as
// XL32: `| 0` after + - / >>>, Math.imul for *, divisors made nonzero with `| 1` or nonzero
// literals. Each node knows whether TypeScript gives it a literal type, because `===` between
// disjoint literal types is a type error (TS2367) the compiler would report.
import fc from 'fast-check';

/** A generated expression: its source text and whether its TypeScript type is a literal type. */
export interface Expr {
  src: string;
  /** true for literals and ternaries of literals (types like `5` or `0 | 1`), not for `number` */
  literalType: boolean;
}

/** The parameters every generated function takes. */
export const PARAMS = ['a', 'b', 'c', 'd'] as const;

const INT32_EDGES = [0, 1, -1, 2, 3, 7, 31, 32, 33, 255, 256, 32767, -32768, 32768, 65535, 65536, -65536, 2147483647, -2147483648, -2147483647];
const NONZERO_DIVISORS = [1, -1, 2, -2, 3, 4, 7, 10, -10, 16, 256, 65536, 1000003, -2147483648, 2147483647];
const SHIFT_COUNTS = [0, 1, 2, 5, 15, 16, 31, 32, 33, 63, -1, -31];

const lit = (n: number): string => (n < 0 ? `(${n})` : `${n}`);

/** An int32, biased toward the edges where arithmetic goes wrong. */
export const int32: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(...INT32_EDGES),
  fc.integer({ min: -2147483648, max: 2147483647 }),
  fc.integer({ min: -300, max: 300 }),
);

const leaf: fc.Arbitrary<Expr> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PARAMS).map((v) => ({ src: v, literalType: false })) },
  { weight: 2, arbitrary: int32.map((n) => ({ src: lit(n), literalType: true })) },
);

/**
 * `x` usable as an operand of === / !== or ! : widened to `number` if its type is a literal type
 * (TS2367 "no overlap" and TS2872 "always truthy" are type errors).
 */
const eqOperand = (x: Expr): string => (x.literalType ? `(${x.src} | 0)` : x.src);
const num = (src: string): Expr => ({ src, literalType: false });

type Bin = (x: Expr, y: Expr) => Expr;
const BINARY: Bin[] = [
  (x, y) => num(`((${x.src} + ${y.src}) | 0)`),
  (x, y) => num(`((${x.src} - ${y.src}) | 0)`),
  (x, y) => num(`Math.imul(${x.src}, ${y.src})`),
  (x, y) => num(`((${x.src} / (${y.src} | 1)) | 0)`),
  (x, y) => num(`(${x.src} % (${y.src} | 1))`),
  (x, y) => num(`(${x.src} & ${y.src})`),
  (x, y) => num(`(${x.src} | ${y.src})`),
  (x, y) => num(`(${x.src} ^ ${y.src})`),
  (x, y) => num(`(${x.src} << ${y.src})`),
  (x, y) => num(`(${x.src} >> ${y.src})`),
  (x, y) => num(`((${x.src} >>> ${y.src}) | 0)`),
];

const COMPARE = ['<', '<=', '>', '>=', '===', '!=='] as const;
const UNSIGNED = ['ltu', 'leu', 'gtu', 'geu'] as const;

/** Arbitraries for number-valued and boolean-valued expressions, nested at most `maxDepth` deep. */
export function expressionArbitraries(maxDepth: number): { numExpr: fc.Arbitrary<Expr>; boolExpr: fc.Arbitrary<string> } {
  const tree = fc.letrec<{ numExpr: Expr; boolExpr: string }>((tie) => {
    const n = tie('numExpr');
    const b = tie('boolExpr');
    return {
      numExpr: fc.oneof(
        { maxDepth, depthIdentifier: 'expr' },
        leaf,
        { weight: 6, arbitrary: fc.tuple(fc.integer({ min: 0, max: BINARY.length - 1 }), n, n).map(([k, x, y]) => BINARY[k]!(x, y)) },
        fc.tuple(n, fc.constantFrom(...NONZERO_DIVISORS), fc.boolean()).map(([x, d, isRem]) =>
          num(isRem ? `(${x.src} % ${lit(d)})` : `((${x.src} / ${lit(d)}) | 0)`),
        ),
        fc.tuple(n, fc.constantFrom(...SHIFT_COUNTS), fc.constantFrom('<<', '>>', '>>>')).map(([x, k, op]) =>
          num(op === '>>>' ? `((${x.src} >>> ${lit(k)}) | 0)` : `(${x.src} ${op} ${lit(k)})`),
        ),
        n.map((x) => num(`(-${x.src} | 0)`)),
        n.map((x) => num(`(~${x.src})`)),
        fc.tuple(b, n, n).map(([c, x, y]) => ({ src: `(${c} ? ${x.src} : ${y.src})`, literalType: x.literalType && y.literalType })),
        b.map((c) => ({ src: `(${c} ? 1 : 0)`, literalType: true })),
      ),
      boolExpr: fc.oneof(
        { maxDepth, depthIdentifier: 'expr' },
        fc.tuple(n, fc.constantFrom(...COMPARE), n).map(([x, op, y]) => {
          if (op === '===' || op === '!==') return `(${eqOperand(x)} ${op} ${eqOperand(y)})`;
          // TypeScript parses `a < b > (c)` as a generic call, so `>` is never followed by `(`.
          if (op === '>' && y.src.startsWith('(')) return `(${y.src} < ${x.src})`;
          return `(${x.src} ${op} ${y.src})`;
        }),
        fc.tuple(fc.constantFrom(...UNSIGNED), n, n).map(([f, x, y]) => `${f}(${x.src}, ${y.src})`),
        n.map((x) => `(!${eqOperand(x)})`),
        b.map((c) => `(!${c})`),
        fc.tuple(b, b).map(([c, d]) => `(${c} && ${d})`),
        fc.tuple(b, b).map(([c, d]) => `(${c} || ${d})`),
      ),
    };
  });
  return tree;
}

/** One generated test case: an expression and the arguments it is evaluated with. */
export interface Case {
  expr: string;
  args: [number, number, number, number];
}

/** The guest program printing every case's value, one per line. `ioPath` is the import path of toolchain/lib/io.ts. */
export function programSource(cases: readonly Case[], ioPath: string): string {
  const lines = [
    '// Generated by test/toolchain/conformance/expressions.ts (property-based differential test).',
    "import { geu, gtu, leu, ltu } from 'xl32';",
    `import { newline, printInt } from '${ioPath}';`,
    '',
  ];
  cases.forEach((c, k) => {
    lines.push(`function e${k}(${PARAMS.map((p) => `${p}: number`).join(', ')}): number {`, `  return ${c.expr};`, '}', '');
  });
  lines.push('export function main(): number {');
  cases.forEach((c, k) => lines.push(`  printInt(e${k}(${c.args.map(lit).join(', ')}));`, '  newline();'));
  lines.push('  return 0;', '}', '');
  return lines.join('\n');
}
