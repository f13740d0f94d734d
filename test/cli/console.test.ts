import { describe, expect, it } from 'vitest';
import { consoleWriter } from '../../cli/console.ts';
import { SymKind, type ImageSymbol } from '../../machine/image.ts';

const SYMBOLS: ImageSymbol[] = [
  { name: 'proc.sleep', addr: 0x00101200, size: 0x40, kind: SymKind.Function },
  { name: 'trap.trap', addr: 0x00101300, size: 0x80, kind: SymKind.Function },
];

function feed(text: string, symbols: ImageSymbol[] = SYMBOLS): { chunks: string[]; all: string } {
  const chunks: string[] = [];
  const write = consoleWriter(() => symbols, (b) => chunks.push(b.toString('latin1')));
  for (const ch of text) write(ch.charCodeAt(0));
  return { chunks, all: chunks.join('') };
}

describe('the console writer', () => {
  it('appends the symbol to each backtrace line of a panic, before its newline', () => {
    expect(feed('backtrace:\n  #0 0x0010121c\n  #1 0x00101300\n').all).toBe('backtrace:\n  #0 0x0010121c proc.sleep+0x1c\n  #1 0x00101300 trap.trap\n');
  });

  it('passes every other byte through at once, so a prompt without a newline shows immediately', () => {
    const { chunks } = feed('$ ');
    expect(chunks).toEqual(['$', ' ']);
    expect(feed('  #0 0x0010121c and more\n').all).toBe('  #0 0x0010121c and more\n');
    expect(feed('  #0 0x0010121c\n', []).all).toBe('  #0 0x0010121c\n');
  });
});
