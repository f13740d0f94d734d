// The TypeScript language-service plugin for guest code: the editor shows the guest subset's
// errors where `xenolith compile` would report them, from the compiler's own subset checker
// (toolchain/compiler/subset.ts) and import rules (program.ts) run on the editor's program. Loaded
// by tsserver through index.cjs, named in a guest tsconfig's "plugins" (toolchain/lib/tsconfig.guest.json).
// Plugin options: { "arch": "native" | "pv" (default "native"), "user": boolean (default false) }.
// Editor-side only: reads the language service's program, changes nothing on disk.
import ts from 'typescript';
import { resolve } from 'node:path';
import { DiagnosticBag } from '../compiler/diagnostics.ts';
import { resolveImport, XL32_PATH, type GuestModule, type LoadedProgram } from '../compiler/program.ts';
import { Names } from '../compiler/names.ts';
import { Statics } from '../compiler/statics.ts';
import { ConstEval } from '../compiler/consteval.ts';
import { checkSubset } from '../compiler/subset.ts';

/** Diagnostic code of subset errors in the editor ("XL" errors, not TypeScript's TSnnnn). */
export const SUBSET_ERROR_CODE = 93201;

export interface GuestTarget {
  arch: 'native' | 'pv';
  user: boolean;
}

/** Guest modules of an editor program: its own source files other than declarations and xl32. */
function guestModules(program: ts.Program): GuestModule[] {
  return program
    .getSourceFiles()
    .filter((sf) => !sf.isDeclarationFile && resolve(sf.fileName) !== XL32_PATH && !sf.fileName.includes('/node_modules/'))
    .map((sf) => ({ file: resolve(sf.fileName), sf, prefix: '' }));
}

/** The length of the token at `pos` (for the squiggle), at least 1. */
function tokenLength(text: string, pos: number): number {
  const m = /^(?:[A-Za-z_$][\w$]*|\d+|.)/.exec(text.slice(pos));
  return m ? m[0].length : 1;
}

/**
 * The subset errors of one file of `program`, as the compiler reports them (its import rules and
 * its subset checker), converted to TypeScript diagnostics at the same line and column.
 */
export function subsetDiagnostics(program: ts.Program, fileName: string, target: GuestTarget): ts.Diagnostic[] {
  const sf = program.getSourceFile(fileName);
  if (!sf || sf.isDeclarationFile || resolve(sf.fileName) === XL32_PATH) return [];
  const modules = guestModules(program);
  const mod = modules.find((m) => m.file === resolve(sf.fileName));
  if (!mod) return [];
  const loaded: LoadedProgram = { program, checker: program.getTypeChecker(), modules, byFile: new Map(modules.map((m) => [m.file, m])), broken: false };
  const diags = new DiagnosticBag();
  for (const st of sf.statements) {
    if ((ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
      const t = resolveImport(st.moduleSpecifier.text, mod.file, program);
      if (t.kind === 'bad') diags.error(st.moduleSpecifier, t.why);
    }
  }
  const names = new Names(loaded);
  try {
    checkSubset([mod], names, new ConstEval(names, new Statics()), { arch: target.arch, user: target.user, typeCheck: true }, diags);
  } catch {
    // a half-typed file can trip the checker; the editor shows TypeScript's own errors meanwhile
  }
  const text = sf.getFullText();
  return diags.items.map((d) => {
    const start = sf.getPositionOfLineAndCharacter(d.line - 1, d.col - 1);
    return { file: sf, start, length: tokenLength(text, start), messageText: d.message, category: ts.DiagnosticCategory.Error, code: SUBSET_ERROR_CODE, source: 'xenolith' };
  });
}

/** tsserver's plugin entry: decorate getSemanticDiagnostics with the subset errors. */
export function init(_modules: { typescript: typeof ts }): ts.server.PluginModule {
  return {
    create(info: ts.server.PluginCreateInfo): ts.LanguageService {
      const config = (info.config ?? {}) as Partial<GuestTarget>;
      const target: GuestTarget = { arch: config.arch === 'pv' ? 'pv' : 'native', user: config.user === true };
      const ls = info.languageService;
      const proxy = Object.create(null) as ts.LanguageService;
      for (const k of Object.keys(ls) as (keyof ts.LanguageService)[]) {
        const f = ls[k] as unknown;
        (proxy as unknown as Record<string, unknown>)[k] = typeof f === 'function' ? f.bind(ls) : f;
      }
      proxy.getSemanticDiagnostics = (fileName: string) => {
        const own = ls.getSemanticDiagnostics(fileName);
        const program = ls.getProgram();
        return program ? [...own, ...subsetDiagnostics(program, fileName, target)] : own;
      };
      return proxy;
    },
  };
}
