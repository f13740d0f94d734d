// The guest TypeScript compiler: entry file -> XL32 image. Runs the phases in order
// (program.ts load + type check, subset.ts, lower.ts, regalloc.ts, peephole.ts, emit.ts) and hands the
// assembly to toolchain/asm; every problem comes back as a CompileError of file:line:col lines.
import ts from './typescript.js';
import { assemble, AsmError } from '../asm/index.ts';
import { SegFlag, type Image } from '../../machine/image.ts';
import { CompileError, DiagnosticBag, diagAtFile, displayPath, type Diagnostic } from './diagnostics.ts';
import { loadProgram, sourceMapPath } from './program.ts';
import { Names } from './names.ts';
import { ConstEval } from './consteval.ts';
import { Statics, intConst } from './statics.ts';
import { checkSubset } from './subset.ts';
import { lowerFunction, type LoweredFunction } from './lower.ts';
import { allocateRegisters, type Allocation } from './regalloc.ts';
import { peephole } from './peephole.ts';
import { emitProgram, type SectionLayout } from './emit.ts';
import { KERNEL_BASE, STACK_BYTES, USER_BASE } from './abi.ts';

export { CompileError, formatDiagnostic, type Diagnostic } from './diagnostics.ts';
export { KERNEL_BASE, USER_BASE, STACK_BYTES, ContextFrame } from './abi.ts';

export interface CompileOptions {
  /** the kernel architecture the source is built for (user programs: either) */
  arch: 'native' | 'pv';
  /** build a ring-3 user program (image arch 'user', linked at USER_BASE) */
  user?: boolean;
  /** report TypeScript type errors (default true) */
  typeCheck?: boolean;
  /** text base address (default KERNEL_BASE, or USER_BASE for user programs) */
  base?: number;
  /** bytes of the static stack `_start` runs main on (default STACK_BYTES) */
  stackBytes?: number;
}

export interface CompileResult {
  image: Image;
  /** the assembly handed to the assembler */
  asm: string;
  /** warnings (compilation succeeded); errors are thrown as CompileError */
  diagnostics: Diagnostic[];
  /** where text, rodata, data and bss were placed */
  sections: SectionLayout[];
}

/** Version tag written into image notes. */
export const COMPILER_ID = 'xenolith-compile 1';

export function compile(entryFile: string, opts: CompileOptions): CompileResult {
  const diags = new DiagnosticBag();
  const user = opts.user ?? false;
  const loaded = loadProgram(entryFile, opts.typeCheck ?? true, diags);
  // Type errors do not stop the subset check (both are reported); syntax errors do.
  if (!loaded || loaded.broken) {
    diags.throwIfAny();
    throw new CompileError(diags.items);
  }

  const names = new Names(loaded);
  const statics = new Statics();
  const ce = new ConstEval(names, statics);
  checkSubset(loaded.modules, names, ce, { arch: opts.arch, user, typeCheck: opts.typeCheck ?? true }, diags);

  const entry = loaded.modules[0]!;
  const main = entry.sf.statements.find((s): s is ts.FunctionDeclaration => ts.isFunctionDeclaration(s) && s.name?.text === 'main' && !!s.body);
  if (!main) diags.add(diagAtFile(entry.file, `the entry module has no function main(); declare \`export function main(): ${user ? 'number' : 'void'}\``));
  else if (main.parameters.length > 0) diags.error(main.parameters[0]!, 'main must take no parameters');
  diags.throwIfAny();

  // Module-level data, in module then declaration order (so the layout is deterministic).
  for (const m of loaded.modules) {
    for (const st of m.sf.statements) {
      if (!ts.isVariableStatement(st)) continue;
      const isConst = (st.declarationList.flags & ts.NodeFlags.Const) !== 0;
      for (const d of st.declarationList.declarations) {
        if (!ts.isIdentifier(d.name)) continue;
        const sym = `${m.prefix}.${d.name.text}`;
        if (isConst) ce.eval(d.name);
        else statics.words.push({ sym, init: d.initializer ? (ce.eval(d.initializer) ?? intConst(0)) : intConst(0) });
      }
    }
  }

  const files = loaded.modules.map((m) => sourceMapPath(m.file, entryFile));
  const functions: { f: LoweredFunction; alloc: Allocation }[] = [];
  loaded.modules.forEach((m, fileIndex) => {
    for (const st of m.sf.statements) {
      if (!ts.isFunctionDeclaration(st) || !st.body || !st.name) continue;
      // A failure here is a compiler bug; it is still reported as a diagnostic, not a stack trace.
      try {
        const f = lowerFunction(st, `${m.prefix}.${st.name.text}`, fileIndex, { names, ce, statics });
        const alloc = allocateRegisters(f);
        peephole(f);
        functions.push({ f, alloc });
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        diags.error(st.name, msg.startsWith('internal compiler error') ? msg : `internal compiler error: ${msg}`);
      }
    }
  });

  diags.throwIfAny();
  const mainSig = loaded.checker.getSignatureFromDeclaration(main!);
  const mainRet = mainSig ? loaded.checker.getReturnTypeOfSignature(mainSig) : undefined;
  const mainReturnsValue = !!mainRet && (mainRet.flags & (ts.TypeFlags.Void | ts.TypeFlags.Never | ts.TypeFlags.Undefined)) === 0;
  const out = emitProgram({
    arch: opts.arch,
    user,
    base: opts.base ?? (user ? USER_BASE : KERNEL_BASE),
    stackBytes: opts.stackBytes ?? STACK_BYTES,
    mainSym: `${entry.prefix}.main`,
    mainReturnsValue,
    functions,
    statics,
    files,
    banner: [`generated by ${COMPILER_ID} from ${files[0]} (${user ? 'user program' : `${opts.arch} kernel`})`],
  });

  const asmName = `${displayPath(entry.file).replace(/\.ts$/, '')}.s`;
  let image: Image;
  try {
    image = assemble(out.asm, asmName, { arch: user ? 'user' : opts.arch }).image;
  } catch (e) {
    if (e instanceof AsmError) {
      throw new CompileError(e.diagnostics.map((d) => ({ ...d, message: `internal compiler error: the assembler rejected generated code: ${d.message}` })));
    }
    throw e;
  }
  for (const s of image.symbols) {
    const want = out.symbols.get(s.name);
    if (want !== undefined && want !== s.addr) {
      throw new Error(`internal compiler error: ${s.name} assembled at 0x${s.addr.toString(16)}, expected 0x${want.toString(16)}`);
    }
  }
  finishSegments(image, out.sections);
  image.notes = {
    ...image.notes,
    compiler: COMPILER_ID,
    sourceFiles: files,
    /** [pc, file index, line] triples, ascending pc */
    lineMap: out.lineMap,
    sections: out.sections,
  };
  return { image, asm: out.asm, diagnostics: [], sections: out.sections };
}

/*
 * The assembler makes every segment rwx with its bytes in the file. The linker's view is
 * finer: text is r-x, rodata r--, data rw-, and bss is rw- memory with no file bytes.
 */
function finishSegments(image: Image, sections: SectionLayout[]): void {
  for (const seg of image.segments) {
    const sec = sections.find((s) => s.vaddr === seg.vaddr);
    if (!sec) continue;
    switch (sec.name) {
      case 'text':
        seg.flags = SegFlag.R | SegFlag.X;
        break;
      case 'rodata':
        seg.flags = SegFlag.R;
        break;
      case 'data':
        seg.flags = SegFlag.R | SegFlag.W;
        break;
      case 'bss':
      case 'stack':
        seg.flags = SegFlag.R | SegFlag.W;
        seg.memBytes = Math.max(seg.memBytes, sec.bytes);
        seg.data = new Uint8Array(0);
        break;
    }
  }
}
