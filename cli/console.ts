// The guest console on the host's stdout: bytes pass straight through (prompts without a newline
// show at once), and backtrace lines ("  #3 0x00101234") get the function each address falls in,
// and its source line when the image has a line map, appended before their newline: a kernel
// panic's from the kernel image, a killed user program's (after the kernel's "pid N (NAME): ...:
// killed" line) from that program's image in the initrd.
import { symbolize, SymKind, type Image, type ImageSymbol } from '../machine/image.ts';

const BACKTRACE_LINE = /^\s+#(\d+) 0x([0-9a-f]{8})$/;
/** the kernel's report of a user fault (guest-kernel/kernel/trap.ts), naming the program */
const USER_FAULT_LINE = /^pid \d+ \(([^)]+)\): .*: killed$/;
/** user programs are linked here and below the kernel's half (guest-kernel/kernel/abi.ts UserLayout) */
const USER_BASE = 0x00400000;
const USER_TOP = 0xc0000000;
/** bytes of a line kept for matching (longer lines are never backtrace or fault lines) */
const LINE_KEEP = 160;

/** The source line of the instructions at pc, from the image's line map (compiler notes): "file.ts:12". */
export function sourceLine(notes: Image['notes'] | undefined, pc: number): string | undefined {
  const map = notes?.lineMap;
  const files = notes?.sourceFiles;
  if (!Array.isArray(map) || !Array.isArray(files) || map.length < 3) return undefined;
  // the last entry at or below pc (entries ascend by pc)
  let lo = 0;
  let hi = map.length / 3 - 1;
  if ((map[0] as number) > pc) return undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((map[mid * 3] as number) <= pc) lo = mid;
    else hi = mid - 1;
  }
  const file = files[map[lo * 3 + 1] as number];
  return typeof file === 'string' ? `${file}:${map[lo * 3 + 2] as number}` : undefined;
}

/** " name+0x1c (file.ts:12)" for frame n at addr (a return address, for n > 0, is looked up one byte back). */
function describe(symbols: readonly ImageSymbol[], notes: Image['notes'] | undefined, n: number, addr: number): string {
  const at = n > 0 ? addr - 1 : addr;
  // a source line only for code inside a function (a jump into data has none)
  const inCode = symbols.some((s) => s.kind === SymKind.Function && at >= s.addr && at < s.addr + s.size);
  const where = inCode ? sourceLine(notes, at) : undefined;
  return ` ${symbolize(symbols, addr)}${where ? ` (${where})` : ''}`;
}

/** Does a user page-fault report name an address in the unmapped page below the program's stack? */
function guardHit(program: Image, faultLine: string): boolean {
  const m = /page fault at 0x([0-9a-f]{8})/.exec(faultLine);
  const stack = program.symbols.find((s) => s.name === '__stack');
  if (!m || !stack) return false;
  const addr = parseInt(m[1]!, 16);
  return addr < stack.addr && addr >= stack.addr - 4096;
}

export interface ConsoleImages {
  /** the kernel image's line map (its notes) */
  kernelNotes?: () => Image['notes'] | undefined;
  /** the user programs of the initrd, by name */
  programs?: () => ReadonlyMap<string, Image>;
}

/** An onOutput callback writing to `out`, symbolizing backtrace lines with the kernel's `symbols()` and `images`. */
export function consoleWriter(symbols: () => readonly ImageSymbol[], out: (bytes: Buffer) => void = (b) => process.stdout.write(b), images: ConsoleImages = {}): (byte: number) => void {
  let line = '';
  /** the program a user fault report named: the backtrace lines after it are its */
  let faulting: Image | undefined;
  return (byte: number) => {
    if (byte === 0x0a) {
      let suffix = '';
      const m = BACKTRACE_LINE.exec(line);
      if (m) {
        const n = Number(m[1]);
        const addr = parseInt(m[2]!, 16);
        const user = addr >= USER_BASE && addr < USER_TOP;
        if (user && faulting) suffix = describe(faulting.symbols, faulting.notes, n, addr);
        else if (!user && symbols().length > 0) suffix = describe(symbols(), images.kernelNotes?.(), n, addr);
      } else {
        const fault = USER_FAULT_LINE.exec(line);
        faulting = fault ? images.programs?.().get(fault[1]!) : undefined;
        if (faulting && guardHit(faulting, line)) suffix = ' (stack overflow: the guard page below the stack)';
      }
      out(Buffer.from(`${suffix}\n`, 'latin1'));
      line = '';
      return;
    }
    if (line.length < LINE_KEEP) line += String.fromCharCode(byte);
    out(Buffer.of(byte));
  };
}
