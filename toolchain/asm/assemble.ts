// The assembler pipeline: lex+parse (parser.ts) -> pass 1, addresses and symbols (layout.ts) ->
// pass 2, values and bytes (emit.ts). Collects every error of a run and throws one AsmError.
// Pure (no I/O); imports only its phases and the image types.
import type { ArchName, Image } from '../../machine/image.ts';
import { Diagnostics } from './errors.ts';
import { emit, type ListingEntry } from './emit.ts';
import { layout } from './layout.ts';
import { parse } from './parser.ts';

export interface AsmOptions {
  /** the image's arch; a `.arch` directive in the source must agree with it (default: bare) */
  arch?: ArchName;
}

export interface AsmResult {
  image: Image;
  /** source line and address of every statement that produced bytes, in source order */
  listing: ListingEntry[];
}

/**
 * Assemble one source file into an image. `file` is used only in messages. Throws AsmError
 * (errors.ts) listing every problem found, each as "file:line:col: message".
 */
export function assemble(source: string, file: string, opts: AsmOptions = {}): AsmResult {
  const diags = new Diagnostics(file);
  const parsed = parse(source, diags);
  const lay = layout(parsed, diags, opts.arch);
  const out = emit(lay, diags);
  diags.throwIfAny();
  return out;
}
