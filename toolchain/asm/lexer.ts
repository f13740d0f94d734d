// Phase 1 of the assembler: splits one source line into tokens (identifiers, numbers, character
// and string literals, punctuation), dropping `;` and `//` comments. Pure; reports problems by
// throwing StmtError with the exact column. Imports only errors.ts.
import { StmtError, type Pos } from './errors.ts';

export type Token =
  | { kind: 'ident'; text: string; pos: Pos }
  | { kind: 'num'; value: bigint; text: string; pos: Pos }
  | { kind: 'str'; bytes: Uint8Array; text: string; pos: Pos }
  | { kind: 'punct'; text: Punct; pos: Pos };

export type Punct = ',' | ':' | '[' | ']' | '(' | ')' | '+' | '-' | '*' | '/' | '%' | '<<' | '>>' | '&' | '|' | '^' | '~' | '=';

const SINGLE = new Set<string>([',', ':', '[', ']', '(', ')', '+', '-', '*', '/', '%', '&', '|', '^', '~', '=']);
const IDENT_START = /[A-Za-z_.$]/;
const IDENT_PART = /[A-Za-z0-9_.$]/;

/** What a backslash escape stands for; shared by string and character literals. */
const ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, '\\': 92, '"': 34, "'": 39 };
const UTF8 = new TextEncoder();
const ESCAPE_LIST = '\\n \\t \\r \\0 \\\\ \\" \\\' \\xNN';

/** Tokens of one line (1-based line number). */
export function lexLine(text: string, line: number): Token[] {
  const out: Token[] = [];
  let i = 0;
  const at = (k: number): Pos => ({ line, col: k + 1 });
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
    } else if (c === ';' || (c === '/' && text[i + 1] === '/')) {
      break;
    } else if (IDENT_START.test(c)) {
      const start = i;
      while (i < text.length && IDENT_PART.test(text[i]!)) i++;
      out.push({ kind: 'ident', text: text.slice(start, i), pos: at(start) });
    } else if (c >= '0' && c <= '9') {
      const start = i;
      while (i < text.length && IDENT_PART.test(text[i]!)) i++;
      const raw = text.slice(start, i);
      out.push({ kind: 'num', value: parseNumber(raw, at(start)), text: raw, pos: at(start) });
    } else if (c === '"') {
      const start = i;
      const bytes: number[] = [];
      i++;
      for (;;) {
        if (i >= text.length) throw new StmtError(at(start), 'unterminated string: add the closing "');
        const ch = text[i]!;
        if (ch === '"') { i++; break; }
        if (ch === '\\') {
          const [value, next] = readEscape(text, i, line);
          bytes.push(value);
          i = next;
        } else if (ch.charCodeAt(0) < 0x80) {
          bytes.push(ch.charCodeAt(0));
          i++;
        } else {
          const chars = String.fromCodePoint(text.codePointAt(i)!);
          for (const b of UTF8.encode(chars)) bytes.push(b);
          i += chars.length;
        }
      }
      out.push({ kind: 'str', bytes: Uint8Array.from(bytes), text: text.slice(start, i), pos: at(start) });
    } else if (c === "'") {
      const start = i;
      i++;
      let value: number;
      if (i >= text.length) throw new StmtError(at(start), "unterminated character literal: add the closing '");
      if (text[i] === '\\') {
        [value, i] = readEscape(text, i, line);
      } else if (text[i] === "'") {
        throw new StmtError(at(start), "empty character literal ''; write one character between the quotes");
      } else {
        value = text.codePointAt(i)!;
        i += String.fromCodePoint(value).length;
      }
      if (text[i] !== "'") {
        const closes = text.indexOf("'", i) >= 0;
        throw new StmtError(at(start), closes
          ? 'character literal must hold exactly one character; use "..." with .ascii for strings'
          : "unterminated character literal: add the closing '");
      }
      i++;
      out.push({ kind: 'num', value: BigInt(value), text: text.slice(start, i), pos: at(start) });
    } else if ((c === '<' || c === '>') && text[i + 1] === c) {
      out.push({ kind: 'punct', text: (c + c) as Punct, pos: at(i) });
      i += 2;
    } else if (SINGLE.has(c)) {
      out.push({ kind: 'punct', text: c as Punct, pos: at(i) });
      i++;
    } else {
      const cp = text.codePointAt(i)!;
      throw new StmtError(at(i), `unexpected character \`${String.fromCodePoint(cp)}\``);
    }
  }
  return out;
}

/** Decimal, 0x hex or 0b binary; anything else that starts with a digit is an error. */
function parseNumber(raw: string, pos: Pos): bigint {
  if (/^[0-9]+$/.test(raw)) return BigInt(raw);
  if (/^0[xX][0-9a-fA-F]+$/.test(raw)) return BigInt(raw);
  if (/^0[bB][01]+$/.test(raw)) return BigInt(raw);
  throw new StmtError(pos, `bad number \`${raw}\`; write decimal (123), hex (0x7b) or binary (0b1111011)`);
}

/** The value of the escape starting at text[i] === '\\', and the index after it. */
function readEscape(text: string, i: number, line: number): [number, number] {
  const e = text[i + 1];
  if (e === undefined) throw new StmtError({ line, col: i + 1 }, `bad escape: \\ at the end of the line; use ${ESCAPE_LIST}`);
  if (e === 'x') {
    const hex = /^[0-9a-fA-F]{2}/.exec(text.slice(i + 2));
    if (!hex) throw new StmtError({ line, col: i + 1 }, 'bad escape \\x: it needs exactly two hex digits, as in \\x1b');
    return [parseInt(hex[0], 16), i + 4];
  }
  const v = ESCAPES[e];
  if (v === undefined) throw new StmtError({ line, col: i + 1 }, `bad escape \\${e}; use ${ESCAPE_LIST}`);
  return [v, i + 2];
}
