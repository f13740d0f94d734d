// Aligned plain-text tables for the terminal (benchmarks, the comparison), through cli-table3:
// no borders, two spaces between columns, numbers right-aligned. The one table helper of bench/
// and cli/. Host code.
import Table from 'cli-table3';

const NO_BORDER = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
};

/**
 * `head` and `rows` as aligned text, one line each, without trailing spaces. A column is
 * right-aligned when `align` says 'right' for it (default: the first column left, the rest right).
 */
export function textTable(head: readonly string[], rows: readonly (readonly (string | number)[])[], align?: readonly ('left' | 'right')[]): string {
  const aligns = align ?? head.map((_, c) => (c === 0 ? 'left' : 'right'));
  const table = new Table({
    head: [...head],
    chars: NO_BORDER,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
    colAligns: [...aligns],
  });
  for (const r of rows) table.push(r.map(String));
  return table
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}
