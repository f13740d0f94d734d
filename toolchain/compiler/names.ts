// Name resolution: what a guest identifier refers to (a local, a module variable, a module
// function, an intrinsic from 'xl32', an enum), using the type checker's symbols, and the
// mangled assembler symbol of module-level things. Read-only over the loaded program.
import ts from './typescript.js';
import { resolve } from 'node:path';
import { XL32_PATH, type GuestModule, type LoadedProgram } from './program.ts';

/** What an identifier denotes. */
export type Entity =
  /** a parameter or function-local let/const */
  | { kind: 'local'; decl: ts.VariableDeclaration | ts.ParameterDeclaration }
  /** a module-level let/const */
  | { kind: 'global'; decl: ts.VariableDeclaration; module: GuestModule; sym: string; isConst: boolean }
  /** a module-level function */
  | { kind: 'function'; decl: ts.FunctionDeclaration; module: GuestModule; sym: string }
  /** an export of 'xl32' */
  | { kind: 'intrinsic'; name: string }
  /** an enum (const or plain) declared in a guest module or in xl32 */
  | { kind: 'enum'; decl: ts.EnumDeclaration }
  /** anything else: globals of the JavaScript library, unresolved names */
  | { kind: 'other'; name: string };

export class Names {
  /** declaration -> entity, memoized */
  private readonly cache = new Map<ts.Node, Entity>();
  constructor(private readonly loaded: LoadedProgram) {}

  get checker(): ts.TypeChecker {
    return this.loaded.checker;
  }

  /** The declaration an identifier (or property name) refers to, following import aliases. */
  declarationOf(node: ts.Node): ts.Declaration | undefined {
    let sym = this.loaded.checker.getSymbolAtLocation(node);
    if (!sym) return undefined;
    if (sym.flags & ts.SymbolFlags.Alias) sym = this.loaded.checker.getAliasedSymbol(sym);
    return sym.valueDeclaration ?? sym.declarations?.[0];
  }

  /** What `id` denotes. */
  entityOf(id: ts.Identifier): Entity {
    const decl = this.declarationOf(id);
    if (!decl) return { kind: 'other', name: id.text };
    return this.entityOfDeclaration(decl, id.text);
  }

  entityOfDeclaration(decl: ts.Declaration, name: string): Entity {
    const hit = this.cache.get(decl);
    if (hit) return hit;
    const e = this.classify(decl, name);
    this.cache.set(decl, e);
    return e;
  }

  private classify(decl: ts.Declaration, name: string): Entity {
    const file = resolve(decl.getSourceFile().fileName);
    if (file === XL32_PATH) {
      if (ts.isEnumDeclaration(decl)) return { kind: 'enum', decl };
      if (ts.isFunctionDeclaration(decl) && decl.name) return { kind: 'intrinsic', name: decl.name.text };
      return { kind: 'other', name };
    }
    const module = this.loaded.byFile.get(file);
    if (!module) return { kind: 'other', name };
    if (ts.isEnumDeclaration(decl)) return { kind: 'enum', decl };
    if (ts.isParameter(decl)) return { kind: 'local', decl };
    if (ts.isFunctionDeclaration(decl) && decl.name) {
      if (decl.parent === module.sf) return { kind: 'function', decl, module, sym: `${module.prefix}.${decl.name.text}` };
      return { kind: 'other', name };
    }
    if (ts.isVariableDeclaration(decl) && ts.isIdentifier(decl.name)) {
      const list = decl.parent;
      if (ts.isVariableDeclarationList(list) && ts.isVariableStatement(list.parent) && list.parent.parent === module.sf) {
        const isConst = (list.flags & ts.NodeFlags.Const) !== 0;
        return { kind: 'global', decl, module, sym: `${module.prefix}.${decl.name.text}`, isConst };
      }
      return { kind: 'local', decl };
    }
    return { kind: 'other', name };
  }

  /** Is `id` an imported name whose import does not resolve (already reported at the import)? */
  isUnresolvedImport(id: ts.Identifier): boolean {
    const sym = this.loaded.checker.getSymbolAtLocation(id);
    if (!sym || !(sym.flags & ts.SymbolFlags.Alias)) return false;
    const target = this.loaded.checker.getAliasedSymbol(sym);
    return !target.declarations || target.declarations.length === 0;
  }

  /** The intrinsic a call's callee names, or null. */
  intrinsicOf(callee: ts.Expression): string | null {
    if (!ts.isIdentifier(callee)) return null;
    const e = this.entityOf(callee);
    return e.kind === 'intrinsic' ? e.name : null;
  }

  /** Is `expr` the global Math.imul? */
  isMathImul(expr: ts.Expression): boolean {
    return ts.isPropertyAccessExpression(expr) && ts.isIdentifier(expr.expression) && expr.expression.text === 'Math' && expr.name.text === 'imul' && this.isLibGlobal(expr.expression);
  }

  /** Is the identifier a global of the JavaScript library (not shadowed by a guest declaration)? */
  isLibGlobal(id: ts.Identifier): boolean {
    const decl = this.declarationOf(id);
    if (!decl) return false;
    return decl.getSourceFile().hasNoDefaultLib || decl.getSourceFile().isDeclarationFile;
  }
}

/** Integral types: number, boolean, their literals and enums (values of the 32-bit subset). */
export function isIntegralType(t: ts.Type): boolean {
  if (t.isUnion()) return t.types.every(isIntegralType);
  const ok = ts.TypeFlags.Number | ts.TypeFlags.NumberLiteral | ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral | ts.TypeFlags.Enum | ts.TypeFlags.EnumLiteral;
  return (t.flags & ok) !== 0;
}
