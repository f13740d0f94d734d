// The guest console on the host's stdout: bytes pass straight through (prompts without a newline
// show at once), and a kernel panic's backtrace lines ("  #3 0x00101234") get the symbol each
// address falls in appended before their newline, from the kernel image's symbols.
import { symbolize, type ImageSymbol } from '../machine/image.ts';

const BACKTRACE_LINE = /^\s+#\d+ 0x([0-9a-f]{8})$/;

/** An onOutput callback writing to `out`, symbolizing backtrace lines with the kernel's `symbols()`. */
export function consoleWriter(symbols: () => readonly ImageSymbol[], out: (bytes: Buffer) => void = (b) => process.stdout.write(b)): (byte: number) => void {
  let line = '';
  return (byte: number) => {
    if (byte === 0x0a) {
      const syms = symbols();
      const m = syms.length > 0 ? BACKTRACE_LINE.exec(line) : null;
      out(Buffer.from(m ? ` ${symbolize(syms, parseInt(m[1]!, 16))}\n` : '\n', 'latin1'));
      line = '';
      return;
    }
    if (line.length < 64) line += String.fromCharCode(byte);
    out(Buffer.of(byte));
  };
}
