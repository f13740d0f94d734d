// Phase 1, loading: builds a ts.Program for the entry file, follows relative imports to collect
// the guest modules, gives each a symbol prefix, and reports syntax and type errors.
// Touches the file system (reads sources) and the TypeScript compiler API only.
import ts from './typescript.js';
import { dirname, resolve, relative, basename, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DiagnosticBag, displayPath, diagAt } from './diagnostics.ts';

/** The intrinsics module guests import as 'xl32'. */
export const XL32_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'lib', 'xl32.ts');

/** One guest source module. */
export interface GuestModule {
  /** absolute path */
  file: string;
  /** the parsed source */
  sf: ts.SourceFile;
  /** symbol prefix: the file's base name, widened with directories on a clash (`proc`, `kernel.lib`) */
  prefix: string;
}

/** The loaded program: every guest module reachable from the entry, entry first. */
export interface LoadedProgram {
  /** the TypeScript program (guest modules, xl32.ts, the ES2022 lib) */
  program: ts.Program;
  /** its type checker, used for name resolution, constant enum values and types */
  checker: ts.TypeChecker;
  /** guest modules in discovery order (entry first, then depth-first by import order) */
  modules: GuestModule[];
  /** absolute path -> module */
  byFile: Map<string, GuestModule>;
  /** whether any module failed to parse or import (later phases must not run) */
  broken: boolean;
}

/** Compiler options guests are checked with; toolchain/lib/tsconfig.guest.json says the same. */
export function guestCompilerOptions(): ts.CompilerOptions {
  return {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts'],
    types: [],
    strict: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    paths: { xl32: [XL32_PATH] },
  };
}

/*
 * Parsing the default library takes longer than compiling a small kernel, and tests compile
 * hundreds of programs in one process, so library and xl32 source files are shared between
 * compilations (TypeScript allows reusing SourceFile objects across programs).
 */
const sharedSourceFiles = new Map<string, ts.SourceFile>();

function makeHost(options: ts.CompilerOptions): ts.CompilerHost {
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  const libDir = dirname(ts.getDefaultLibFilePath(options));
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const shareable = fileName.startsWith(libDir) || resolve(fileName) === XL32_PATH;
    if (!shareable) return getSourceFile(fileName, languageVersion, onError, shouldCreate);
    const cached = sharedSourceFiles.get(fileName);
    if (cached) return cached;
    const sf = getSourceFile(fileName, languageVersion, onError, shouldCreate);
    if (sf) sharedSourceFiles.set(fileName, sf);
    return sf;
  };
  return host;
}

/** How an import specifier resolves. */
export type ImportTarget = { kind: 'xl32' } | { kind: 'guest'; file: string } | { kind: 'bad'; why: string };

export function resolveImport(spec: string, fromFile: string, program: ts.Program): ImportTarget {
  if (spec === 'xl32') return { kind: 'xl32' };
  if (!spec.startsWith('./') && !spec.startsWith('../')) {
    return { kind: 'bad', why: `imports from '${spec}' are outside the subset; import guest modules by relative path ('./name.ts') and intrinsics from 'xl32'` };
  }
  const res = ts.resolveModuleName(spec, fromFile, program.getCompilerOptions(), ts.sys);
  const target = res.resolvedModule?.resolvedFileName;
  if (!target) return { kind: 'bad', why: `cannot find module '${spec}'` };
  if (resolve(target) === XL32_PATH) return { kind: 'xl32' };
  if (target.endsWith('.d.ts') || !target.endsWith('.ts')) {
    return { kind: 'bad', why: `'${spec}' resolves to ${displayPath(target)}, which is not a guest TypeScript module; guest modules are .ts files` };
  }
  return { kind: 'guest', file: resolve(target) };
}

/** Module specifiers of a file's imports and re-exports, with the node to report at. */
function importsOf(sf: ts.SourceFile): { spec: string; node: ts.Node }[] {
  const out: { spec: string; node: ts.Node }[] = [];
  for (const st of sf.statements) {
    if ((ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
      out.push({ spec: st.moduleSpecifier.text, node: st.moduleSpecifier });
    }
  }
  return out;
}

export function loadProgram(entryFile: string, typeCheck: boolean, diags: DiagnosticBag): LoadedProgram | null {
  const entry = resolve(entryFile);
  if (!ts.sys.fileExists(entry)) {
    const why = ts.sys.directoryExists(entry) ? 'it is a directory' : 'no such file';
    diags.add({ file: displayPath(entry), line: 1, col: 1, message: `cannot read the entry file (${why})` });
    return null;
  }
  const options = guestCompilerOptions();
  const program = ts.createProgram({ rootNames: [entry], options, host: makeHost(options) });
  const checker = program.getTypeChecker();

  const modules: GuestModule[] = [];
  const byFile = new Map<string, GuestModule>();
  const visit = (file: string): void => {
    if (byFile.has(file)) return;
    const sf = program.getSourceFile(file);
    if (!sf) {
      diags.add({ file: displayPath(file), line: 1, col: 1, message: 'cannot read this module' });
      return;
    }
    const mod: GuestModule = { file, sf, prefix: '' };
    modules.push(mod);
    byFile.set(file, mod);
    for (const imp of importsOf(sf)) {
      const t = resolveImport(imp.spec, file, program);
      if (t.kind === 'guest') visit(t.file);
      else if (t.kind === 'bad') diags.error(imp.node, t.why);
    }
  };
  visit(entry);
  assignPrefixes(modules);

  for (const m of modules) {
    for (const d of program.getSyntacticDiagnostics(m.sf)) diags.add(fromTsDiagnostic(d));
  }
  const broken = diags.hasErrors;
  if (typeCheck && !broken) {
    for (const m of modules) {
      for (const d of program.getSemanticDiagnostics(m.sf)) diags.add(fromTsDiagnostic(d));
    }
  }
  return { program, checker, modules, byFile, broken };
}

function fromTsDiagnostic(d: ts.Diagnostic) {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n').replace(/\n\s*/g, ' ');
  if (!d.file || d.start === undefined) return { file: '<compiler>', line: 1, col: 1, message };
  const pos = d.file.getLineAndCharacterOfPosition(d.start);
  return { file: displayPath(d.file.fileName), line: pos.line + 1, col: pos.character + 1, message: `${message} (TS${d.code})` };
}

/** Characters allowed in an assembler symbol. */
function sanitize(s: string): string {
  const t = s.replace(/[^A-Za-z0-9_$]/g, '_');
  return /^[0-9]/.test(t) ? `_${t}` : t;
}

/*
 * A module's prefix is its base name (kernel/proc.ts -> proc). When two modules share a base
 * name, both are widened with parent directories until they differ (kernel.lib, user.lib).
 */
function assignPrefixes(modules: GuestModule[]): void {
  const parts = modules.map((m) => {
    const segs = m.file.split(sep).filter((s) => s !== '');
    segs[segs.length - 1] = basename(m.file).replace(/\.ts$/, '');
    return segs.map(sanitize);
  });
  const depth = modules.map(() => 1);
  const name = (k: number) => parts[k]!.slice(parts[k]!.length - depth[k]!).join('.');
  for (let changed = true; changed; ) {
    changed = false;
    const groups = new Map<string, number[]>();
    modules.forEach((_, k) => {
      const n = name(k);
      groups.set(n, [...(groups.get(n) ?? []), k]);
    });
    for (const ks of groups.values()) {
      if (ks.length < 2) continue;
      for (const k of ks) {
        if (depth[k]! < parts[k]!.length) {
          depth[k] = depth[k]! + 1;
          changed = true;
        }
      }
    }
  }
  modules.forEach((m, k) => (m.prefix = name(k)));
}

/** Path of a module relative to the entry's directory, for the image's source map. */
export function sourceMapPath(file: string, entryFile: string): string {
  return relative(dirname(resolve(entryFile)), file).split(sep).join('/');
}

export { diagAt };
