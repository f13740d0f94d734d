// Generates the per-instruction reference table of docs/isa.md from machine/isa.ts, so the
// document cannot drift from the one opcode table (a test compares them). Pure; no I/O.
import { Fmt, INSTRUCTIONS, type OpInfo } from './isa.ts';
import { hex } from './hex.ts';
import { assertNever } from './never.ts';

/** Assembly operand syntax of each format (docs/asm.md). */
export function formatSyntax(fmt: Fmt): string {
  switch (fmt) {
    case Fmt.None: return '';
    case Fmt.D: return 'rd';
    case Fmt.A: return 'ra';
    case Fmt.DA: return 'rd, ra';
    case Fmt.DAB: return 'rd, ra, rb';
    case Fmt.DAI: return 'rd, ra, imm16';
    case Fmt.Load: return 'rd, [ra + imm16]';
    case Fmt.Store: return '[ra + imm16], rd';
    case Fmt.DImm32: return 'rd, imm32';
    case Fmt.Rel: return 'target';
    case Fmt.CondRel: return 'target';
    case Fmt.AB: return 'ra, rb';
    case Fmt.AI: return 'ra, imm16';
    case Fmt.DCond: return 'rd';
    case Fmt.Vec: return 'vector';
    case Fmt.DPort: return 'rd, port';
    case Fmt.PortA: return 'port, ra';
    case Fmt.CrA: return 'crN, ra';
    case Fmt.DCr: return 'rd, crN';
    case Fmt.AImm: return 'ra, count';
    case Fmt.RingA: return 'ring, ra';
    case Fmt.DD: return 'rd, ra';
    default:
      return assertNever(fmt, 'format');
  }
}

function spelled(info: OpInfo): string {
  // Jcc and SETcc are written with a condition suffix.
  if (info.fmt === Fmt.CondRel) return 'jCC';
  if (info.fmt === Fmt.DCond) return 'setCC';
  return info.mnemonic;
}

function behaviour(info: OpInfo): [string, string] {
  switch (info.cls) {
    case 'innocuous': return ['executes', 'same as CPL 0'];
    case 'privileged': return info.mnemonic === 'iret'
      ? ['executes', 'executes; #GP(0) if it would return to a more privileged ring']
      : ['executes', '#GP(0)'];
    case 'io-privileged': return ['executes', 'executes if CPL ≤ IOPL, else #GP(0)'];
    case 'critical': return ['executes', 'executes silently, revealing or ignoring privileged state (see Classes)'];
    case 'hypercall': return ['#UD on bare hardware; an exit when a hypervisor claims it', 'same as CPL 0'];
  }
}

/** The markdown table of every instruction. */
export function isaTableMarkdown(): string {
  const rows = INSTRUCTIONS.map((info) => {
    const [cpl0, cplN] = behaviour(info);
    const opcode = hex(info.op, 2);
    const syntax = `\`${`${spelled(info)} ${formatSyntax(info.fmt)}`.trim()}\``;
    return `| ${opcode} | ${syntax} | ${info.bytes} | ${info.cls} | ${cpl0} | ${cplN} | ${info.doc.replace(/\|/g, '\\|')} |`;
  });
  return [
    '| opcode | syntax | bytes | class | at CPL 0 | at CPL > 0 | semantics |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

export const TABLE_BEGIN = '<!-- instruction table: generated from machine/isa.ts by `xenolith isa --markdown`; do not edit by hand -->';
export const TABLE_END = '<!-- end of instruction table -->';
