// Phase 2, subset check: walks every guest module and rejects whatever lies outside the guest
// subset with `file:line:col: <what is unsupported>; <what to write instead>`. Later phases
// assume a module that passed this check. Reads the AST and the type checker only.
import ts from './typescript.js';
import type { DiagnosticBag } from './diagnostics.ts';
import type { GuestModule } from './program.ts';
import { isIntegralType, type Names } from './names.ts';
import { literalValue, type ConstEval } from './consteval.ts';
import { intrinsicSpec, type ArgRule } from './intrinsics.ts';

/** What the checker needs to know about the target. */
export interface SubsetTarget {
  arch: 'native' | 'pv';
  user: boolean;
  /** whether TypeScript's own errors are reported (then they already cover unresolved imports) */
  typeCheck: boolean;
}

/** Messages for constructs rejected wholesale, keyed by what they are. */
export const MSG = {
  class: 'classes are outside the subset; use module-level functions, with struct field offsets in a const enum and load32/store32',
  nestedFunction: 'nested functions are outside the subset; declare the function at module level and pass what it needs as parameters',
  functionExpression: 'function expressions are outside the subset; declare a module-level function and use addressOf(name)',
  arrow: 'arrow functions are outside the subset; declare a module-level function and pass its name (addressOf(name), trapEntry(name))',
  objectLiteral: 'object literals are outside the subset; reserve memory with staticBuffer and name field offsets in a const enum',
  arrayLiteral: 'array literals are outside the subset; reserve memory with staticBuffer and use load32/store32',
  destructuring: 'destructuring is outside the subset; declare and assign each variable separately',
  spread: 'spread syntax is outside the subset; pass each argument explicitly',
  async: 'async functions are outside the subset; write synchronous code',
  await: 'await is outside the subset; write synchronous code',
  generator: 'generator functions are outside the subset; keep explicit state in variables and use a loop',
  yield: 'yield is outside the subset; keep explicit state in variables and use a loop',
  try: 'try/catch/finally is outside the subset; return an error code instead',
  throw: 'throw is outside the subset; return an error code (or call a panic function that halts)',
  new: 'new is outside the subset; reserve memory with staticBuffer',
  forOf: 'for..of is outside the subset; use a counted for loop',
  forIn: 'for..in is outside the subset; use a counted for loop',
  template: 'template literals with substitutions are outside the subset; print the parts one after another',
  taggedTemplate: 'tagged templates are outside the subset; use cstr("...") for text',
  optionalChain: 'optional chaining (?.) is outside the subset; test the value explicitly',
  nullish: 'the ?? operator is outside the subset (numbers are never null or undefined); use a comparison and ?:',
  delete: 'delete is outside the subset (there are no objects); store to memory with store32',
  typeof: 'typeof is outside the subset (every value is a 32-bit number)',
  void: 'the void operator is outside the subset; write the expression as a statement',
  instanceof: 'instanceof is outside the subset (there are no objects)',
  in: 'the in operator is outside the subset (there are no objects)',
  exponent: 'the ** operator is outside the subset; multiply in a loop',
  string: 'string literals are allowed only as the argument of cstr(); write cstr("...") for the address of NUL-terminated bytes',
  regex: 'regular expressions are outside the subset; scan bytes with load8',
  bigint: 'bigint is outside the subset; numbers are 32-bit integers (use mulhu/divu for wider arithmetic)',
  null: 'null is outside the subset; use 0',
  undefined: 'undefined is outside the subset; use 0',
  this: 'this is outside the subset; pass an address as a parameter',
  super: 'super is outside the subset; use module-level functions',
  var: 'var declarations are outside the subset; use let or const',
  defaultParam: 'default parameter values are outside the subset; pass every argument explicitly',
  optionalParam: 'optional parameters are outside the subset; pass every argument explicitly',
  restParam: 'rest parameters are outside the subset; pass each argument explicitly',
  indexing: 'indexing is outside the subset; use load32(base + i * 4) (or load8/load16) and the store functions',
  debugger: 'debugger statements are outside the subset; call brk() for a breakpoint trap',
  with: 'with statements are outside the subset',
  label: 'labels are allowed only on loops and switch statements; use a flag or a function instead',
  namespace: 'namespaces are outside the subset; use a module (a separate .ts file)',
  importEquals: 'import = require is outside the subset; use import { name } from "./module.ts"',
  defaultImport: 'default imports are outside the subset; import names explicitly: import { name } from "./module.ts"',
  namespaceImport: 'namespace imports are outside the subset; import names explicitly: import { name } from "./module.ts"',
  exportDefault: 'default exports are outside the subset; use named exports',
  ambient: 'declare is outside the subset; guest modules define everything they use (intrinsics come from "xl32")',
  overload: 'overload signatures are outside the subset; declare one function with a body',
  moduleStatement: 'statements at module level are outside the subset; put them in a function (e.g. main)',
  moduleInit: 'module-level initializers must be constant (integers, const enum members, cstr, staticBuffer, addressOf, trapEntry); assign the value in a function instead',
  staticBufferPlace: 'staticBuffer is allowed only as the initializer of a module-level const; declare `const buf = staticBuffer(bytes)` at module level',
  staticBufferShape: 'staticBuffer needs a constant size in bytes (greater than 0) and an optional constant alignment that is a power of two, e.g. staticBuffer(4096, 4096)',
  localEnum: 'enums must be declared at module level',
  stringEnum: 'string enum members are outside the subset; give every member an integer value',
  nonConstEnumMember: 'enum members must have constant integer values',
  enumValue: 'an enum can be used only through its members (E.Member)',
  functionValue: 'a function can only be called or passed to addressOf/trapEntry; use addressOf(name) for its address',
  intrinsicValue: 'intrinsics from "xl32" can only be called',
  badCall: 'only module-level functions and intrinsics can be called by name; call a function address with callIndirect(address, ...args)',
  statement: 'this statement is outside the subset',
  expression: 'this expression is outside the subset',
} as const;

export function checkSubset(modules: readonly GuestModule[], names: Names, ce: ConstEval, target: SubsetTarget, diags: DiagnosticBag): void {
  const c = new SubsetChecker(names, ce, target, diags);
  for (const m of modules) c.module(m);
}

class SubsetChecker {
  constructor(
    private readonly names: Names,
    private readonly ce: ConstEval,
    private readonly target: SubsetTarget,
    private readonly diags: DiagnosticBag,
  ) {}

  private err(node: ts.Node, message: string): void {
    this.diags.error(node, message);
  }

  module(m: GuestModule): void {
    for (const st of m.sf.statements) this.topLevel(st);
  }

  private hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
    return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((x) => x.kind === kind);
  }

  private topLevel(st: ts.Statement): void {
    if (this.hasModifier(st, ts.SyntaxKind.DeclareKeyword)) return this.err(st, MSG.ambient);
    if (this.hasModifier(st, ts.SyntaxKind.DefaultKeyword)) return this.err(st, MSG.exportDefault);
    switch (st.kind) {
      case ts.SyntaxKind.ImportDeclaration: {
        const clause = (st as ts.ImportDeclaration).importClause;
        if (!clause || clause.isTypeOnly) return;
        if (clause.name) this.err(clause.name, MSG.defaultImport);
        if (clause.namedBindings && ts.isNamespaceImport(clause.namedBindings)) this.err(clause.namedBindings, MSG.namespaceImport);
        if (clause.namedBindings && ts.isNamedImports(clause.namedBindings) && !this.target.typeCheck) {
          const from = ((st as ts.ImportDeclaration).moduleSpecifier as ts.StringLiteral).text;
          for (const el of clause.namedBindings.elements) {
            if (!el.isTypeOnly && this.names.isUnresolvedImport(el.name)) this.err(el, `'${(el.propertyName ?? el.name).text}' is not exported by '${from}'`);
          }
        }
        return;
      }
      case ts.SyntaxKind.ExportDeclaration: {
        const ed = st as ts.ExportDeclaration;
        if (ed.exportClause && ts.isNamespaceExport(ed.exportClause)) this.err(ed.exportClause, MSG.namespaceImport);
        return;
      }
      case ts.SyntaxKind.ExportAssignment:
        return this.err(st, MSG.exportDefault);
      case ts.SyntaxKind.ImportEqualsDeclaration:
        return this.err(st, MSG.importEquals);
      case ts.SyntaxKind.FunctionDeclaration:
        return this.functionDecl(st as ts.FunctionDeclaration);
      case ts.SyntaxKind.VariableStatement:
        return this.moduleVariables(st as ts.VariableStatement);
      case ts.SyntaxKind.EnumDeclaration:
        return this.enumDecl(st as ts.EnumDeclaration);
      case ts.SyntaxKind.InterfaceDeclaration:
      case ts.SyntaxKind.TypeAliasDeclaration:
      case ts.SyntaxKind.EmptyStatement:
        return;
      case ts.SyntaxKind.ClassDeclaration:
        return this.err(st, MSG.class);
      case ts.SyntaxKind.ModuleDeclaration:
        return this.err(st, MSG.namespace);
      default:
        return this.err(st, MSG.moduleStatement);
    }
  }

  private enumDecl(e: ts.EnumDeclaration): void {
    for (const member of e.members) {
      const v = this.names.checker.getConstantValue(member);
      if (typeof v === 'string') this.err(member, MSG.stringEnum);
      else if (typeof v !== 'number' || !Number.isInteger(v)) this.err(member, MSG.nonConstEnumMember);
    }
  }

  private moduleVariables(vs: ts.VariableStatement): void {
    const list = vs.declarationList;
    const isConst = (list.flags & ts.NodeFlags.Const) !== 0;
    if ((list.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const)) === 0) return this.err(vs, MSG.var);
    for (const d of list.declarations) {
      if (!ts.isIdentifier(d.name)) {
        this.err(d.name, MSG.destructuring);
        continue;
      }
      if (!d.initializer) {
        this.declaredType(d);
        continue;
      }
      if (this.ce.isStaticBufferCall(d.initializer)) {
        const call = d.initializer as ts.CallExpression;
        if (!isConst) this.err(call, MSG.staticBufferPlace);
        else if (!this.ce.staticBufferShape(call)) this.err(call, MSG.staticBufferShape);
        continue;
      }
      // Report subset violations inside the initializer first; they explain more than "not constant".
      const before = this.diags.items.length;
      this.expr(d.initializer);
      if (this.diags.items.length !== before) continue;
      this.declaredType(d);
      if (!this.ce.eval(d.initializer)) this.err(d.initializer, MSG.moduleInit);
    }
  }

  /** A variable's or parameter's type must be a number, boolean or enum. */
  private declaredType(d: ts.VariableDeclaration | ts.ParameterDeclaration): void {
    const t = this.names.checker.getTypeAtLocation(d.name);
    if (isIntegralType(t)) return;
    const shown = this.names.checker.typeToString(t);
    const name = ts.isIdentifier(d.name) ? d.name.text : '?';
    if (t.flags & ts.TypeFlags.Any) this.err(d.name, `'${name}' has type 'any', which is outside the subset; declare it as number (or boolean)`);
    else this.err(d.name, `'${name}' has type '${shown}', which is outside the subset; values are 32-bit numbers (number, boolean or an enum)`);
  }

  private functionDecl(fn: ts.FunctionDeclaration): void {
    if (!fn.body) return this.err(fn, MSG.overload);
    if (this.hasModifier(fn, ts.SyntaxKind.AsyncKeyword)) return this.err(fn, MSG.async);
    if (fn.asteriskToken) return this.err(fn, MSG.generator);
    const name = fn.name?.text ?? '?';
    for (const p of fn.parameters) {
      if (p.dotDotDotToken) this.err(p, MSG.restParam);
      else if (!ts.isIdentifier(p.name)) this.err(p.name, MSG.destructuring);
      else if (p.initializer) this.err(p.initializer, MSG.defaultParam);
      else if (p.questionToken) this.err(p, MSG.optionalParam);
      else this.declaredType(p);
    }
    const sig = this.names.checker.getSignatureFromDeclaration(fn);
    if (sig) {
      const rt = this.names.checker.getReturnTypeOfSignature(sig);
      const okVoid = (rt.flags & (ts.TypeFlags.Void | ts.TypeFlags.Never | ts.TypeFlags.Undefined)) !== 0;
      if (!okVoid && !isIntegralType(rt)) {
        this.err(fn.name ?? fn, `function '${name}' returns '${this.names.checker.typeToString(rt)}', which is outside the subset; return number, boolean or void`);
      }
    }
    for (const st of fn.body.statements) this.stmt(st);
  }

  private stmt(st: ts.Statement): void {
    switch (st.kind) {
      case ts.SyntaxKind.Block:
        for (const s of (st as ts.Block).statements) this.stmt(s);
        return;
      case ts.SyntaxKind.EmptyStatement:
      case ts.SyntaxKind.InterfaceDeclaration:
      case ts.SyntaxKind.TypeAliasDeclaration:
        return;
      case ts.SyntaxKind.VariableStatement:
        return this.localVariables((st as ts.VariableStatement).declarationList);
      case ts.SyntaxKind.ExpressionStatement:
        return this.expr((st as ts.ExpressionStatement).expression);
      case ts.SyntaxKind.IfStatement: {
        const s = st as ts.IfStatement;
        this.expr(s.expression);
        this.stmt(s.thenStatement);
        if (s.elseStatement) this.stmt(s.elseStatement);
        return;
      }
      case ts.SyntaxKind.WhileStatement:
      case ts.SyntaxKind.DoStatement: {
        const s = st as ts.WhileStatement | ts.DoStatement;
        this.expr(s.expression);
        this.stmt(s.statement);
        return;
      }
      case ts.SyntaxKind.ForStatement: {
        const s = st as ts.ForStatement;
        if (s.initializer) {
          if (ts.isVariableDeclarationList(s.initializer)) this.localVariables(s.initializer, s);
          else this.expr(s.initializer);
        }
        if (s.condition) this.expr(s.condition);
        if (s.incrementor) this.expr(s.incrementor);
        this.stmt(s.statement);
        return;
      }
      case ts.SyntaxKind.ForOfStatement:
        return this.err(st, MSG.forOf);
      case ts.SyntaxKind.ForInStatement:
        return this.err(st, MSG.forIn);
      case ts.SyntaxKind.SwitchStatement: {
        const s = st as ts.SwitchStatement;
        this.expr(s.expression);
        for (const clause of s.caseBlock.clauses) {
          if (ts.isCaseClause(clause)) this.expr(clause.expression);
          for (const x of clause.statements) this.stmt(x);
        }
        return;
      }
      case ts.SyntaxKind.BreakStatement:
      case ts.SyntaxKind.ContinueStatement:
        return;
      case ts.SyntaxKind.ReturnStatement: {
        const e = (st as ts.ReturnStatement).expression;
        if (e) this.expr(e);
        return;
      }
      case ts.SyntaxKind.LabeledStatement: {
        const inner = (st as ts.LabeledStatement).statement;
        const ok = ts.isForStatement(inner) || ts.isWhileStatement(inner) || ts.isDoStatement(inner) || ts.isSwitchStatement(inner);
        if (!ok && !ts.isForOfStatement(inner) && !ts.isForInStatement(inner)) return this.err(st, MSG.label);
        return this.stmt(inner);
      }
      case ts.SyntaxKind.ThrowStatement:
        return this.err(st, MSG.throw);
      case ts.SyntaxKind.TryStatement:
        return this.err(st, MSG.try);
      case ts.SyntaxKind.FunctionDeclaration:
        return this.err(st, MSG.nestedFunction);
      case ts.SyntaxKind.ClassDeclaration:
        return this.err(st, MSG.class);
      case ts.SyntaxKind.DebuggerStatement:
        return this.err(st, MSG.debugger);
      case ts.SyntaxKind.WithStatement:
        return this.err(st, MSG.with);
      case ts.SyntaxKind.EnumDeclaration:
        return this.err(st, MSG.localEnum);
      case ts.SyntaxKind.ModuleDeclaration:
        return this.err(st, MSG.namespace);
      default:
        return this.err(st, MSG.statement);
    }
  }

  private localVariables(list: ts.VariableDeclarationList, at: ts.Node = list): void {
    if ((list.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const)) === 0) return this.err(at === list ? list.parent : at, MSG.var);
    for (const d of list.declarations) {
      if (!ts.isIdentifier(d.name)) {
        this.err(d.name, MSG.destructuring);
        continue;
      }
      const before = this.diags.items.length;
      if (d.initializer) this.expr(d.initializer);
      // A broken initializer explains the variable's odd type already.
      if (this.diags.items.length === before) this.declaredType(d);
    }
  }

  private expr(e: ts.Expression): void {
    switch (e.kind) {
      case ts.SyntaxKind.NumericLiteral: {
        const lit = e as ts.NumericLiteral;
        if (literalValue(lit) !== null) return;
        const v = Number(lit.text);
        if (!Number.isInteger(v)) return this.err(e, `non-integer number ${lit.getText()} is outside the subset (numbers are 32-bit integers); use integer or fixed-point arithmetic`);
        return this.err(e, `integer ${lit.getText()} does not fit in 32 bits; use a value from -2147483648 to 4294967295`);
      }
      case ts.SyntaxKind.TrueKeyword:
      case ts.SyntaxKind.FalseKeyword:
        return;
      case ts.SyntaxKind.BigIntLiteral:
        return this.err(e, MSG.bigint);
      case ts.SyntaxKind.StringLiteral:
      case ts.SyntaxKind.NoSubstitutionTemplateLiteral:
        return this.err(e, MSG.string);
      case ts.SyntaxKind.TemplateExpression:
        return this.err(e, MSG.template);
      case ts.SyntaxKind.TaggedTemplateExpression:
        return this.err(e, MSG.taggedTemplate);
      case ts.SyntaxKind.RegularExpressionLiteral:
        return this.err(e, MSG.regex);
      case ts.SyntaxKind.NullKeyword:
        return this.err(e, MSG.null);
      case ts.SyntaxKind.ThisKeyword:
        return this.err(e, MSG.this);
      case ts.SyntaxKind.SuperKeyword:
        return this.err(e, MSG.super);
      case ts.SyntaxKind.Identifier:
        return this.identifier(e as ts.Identifier);
      case ts.SyntaxKind.ParenthesizedExpression:
      case ts.SyntaxKind.NonNullExpression:
        return this.expr((e as ts.ParenthesizedExpression).expression);
      case ts.SyntaxKind.AsExpression:
      case ts.SyntaxKind.TypeAssertionExpression:
      case ts.SyntaxKind.SatisfiesExpression: {
        const inner = (e as ts.AsExpression).expression;
        this.expr(inner);
        const t = this.names.checker.getTypeAtLocation(e);
        if (!isIntegralType(t)) this.err(e, `a value of type '${this.names.checker.typeToString(t)}' is outside the subset; values are 32-bit numbers (number, boolean or an enum)`);
        return;
      }
      case ts.SyntaxKind.PrefixUnaryExpression:
      case ts.SyntaxKind.PostfixUnaryExpression: {
        const u = e as ts.PrefixUnaryExpression | ts.PostfixUnaryExpression;
        if (u.operator === ts.SyntaxKind.PlusPlusToken || u.operator === ts.SyntaxKind.MinusMinusToken) return this.assignTarget(u.operand);
        return this.expr(u.operand);
      }
      case ts.SyntaxKind.BinaryExpression:
        return this.binary(e as ts.BinaryExpression);
      case ts.SyntaxKind.ConditionalExpression: {
        const c = e as ts.ConditionalExpression;
        this.expr(c.condition);
        this.expr(c.whenTrue);
        this.expr(c.whenFalse);
        return;
      }
      case ts.SyntaxKind.CallExpression:
        return this.call(e as ts.CallExpression);
      case ts.SyntaxKind.PropertyAccessExpression:
        return this.propertyAccess(e as ts.PropertyAccessExpression);
      case ts.SyntaxKind.ElementAccessExpression:
        return this.err(e, (e as ts.ElementAccessExpression).questionDotToken ? MSG.optionalChain : MSG.indexing);
      case ts.SyntaxKind.ObjectLiteralExpression:
        return this.err(e, MSG.objectLiteral);
      case ts.SyntaxKind.ArrayLiteralExpression:
        return this.err(e, MSG.arrayLiteral);
      case ts.SyntaxKind.ArrowFunction:
        return this.err(e, MSG.arrow);
      case ts.SyntaxKind.FunctionExpression:
        return this.err(e, MSG.functionExpression);
      case ts.SyntaxKind.ClassExpression:
        return this.err(e, MSG.class);
      case ts.SyntaxKind.NewExpression:
        return this.err(e, MSG.new);
      case ts.SyntaxKind.DeleteExpression:
        return this.err(e, MSG.delete);
      case ts.SyntaxKind.TypeOfExpression:
        return this.err(e, MSG.typeof);
      case ts.SyntaxKind.VoidExpression:
        return this.err(e, MSG.void);
      case ts.SyntaxKind.AwaitExpression:
        return this.err(e, MSG.await);
      case ts.SyntaxKind.YieldExpression:
        return this.err(e, MSG.yield);
      case ts.SyntaxKind.SpreadElement:
        return this.err(e, MSG.spread);
      default:
        return this.err(e, MSG.expression);
    }
  }

  private identifier(id: ts.Identifier): void {
    if (this.names.isUnresolvedImport(id)) return;
    const ent = this.names.entityOf(id);
    switch (ent.kind) {
      case 'local':
      case 'global':
        return;
      case 'function':
        return this.err(id, MSG.functionValue);
      case 'intrinsic':
        return this.err(id, MSG.intrinsicValue);
      case 'enum':
        return this.err(id, MSG.enumValue);
      case 'other':
        if (id.text === 'undefined') return this.err(id, MSG.undefined);
        return this.err(id, `'${id.text}' is not available in the guest subset; guests see only their own modules and the intrinsics from "xl32"`);
    }
  }

  private assignTarget(t: ts.Expression): void {
    while (ts.isParenthesizedExpression(t)) t = t.expression;
    if (ts.isIdentifier(t)) {
      const ent = this.names.entityOf(t);
      if (ent.kind === 'local' || ent.kind === 'global') {
        const isConst = ts.isVariableDeclaration(ent.decl) && (ent.decl.parent.flags & ts.NodeFlags.Const) !== 0;
        // The type checker reports this too (TS2588); without it, the subset check must.
        if (isConst && !this.target.typeCheck) this.err(t, `cannot assign to '${t.text}' because it is a const; declare it with let`);
        return;
      }
      return this.identifier(t);
    }
    if (ts.isArrayLiteralExpression(t) || ts.isObjectLiteralExpression(t)) return this.err(t, MSG.destructuring);
    if (ts.isElementAccessExpression(t)) return this.err(t, MSG.indexing);
    if (ts.isPropertyAccessExpression(t)) return this.err(t, `assigning to '${t.getText()}' is outside the subset; store to memory with store32(base + Field.OFFSET, value)`);
    return this.err(t, MSG.expression);
  }

  private binary(b: ts.BinaryExpression): void {
    const op = b.operatorToken.kind;
    switch (op) {
      case ts.SyntaxKind.AsteriskAsteriskToken:
      case ts.SyntaxKind.AsteriskAsteriskEqualsToken:
        return this.err(b.operatorToken, MSG.exponent);
      case ts.SyntaxKind.QuestionQuestionToken:
      case ts.SyntaxKind.QuestionQuestionEqualsToken:
        return this.err(b.operatorToken, MSG.nullish);
      case ts.SyntaxKind.InstanceOfKeyword:
        return this.err(b.operatorToken, MSG.instanceof);
      case ts.SyntaxKind.InKeyword:
        return this.err(b.operatorToken, MSG.in);
      default:
        break;
    }
    if (op >= ts.SyntaxKind.FirstAssignment && op <= ts.SyntaxKind.LastAssignment) {
      this.assignTarget(b.left);
      this.expr(b.right);
      return;
    }
    this.expr(b.left);
    this.expr(b.right);
  }

  private propertyAccess(p: ts.PropertyAccessExpression): void {
    if (p.questionDotToken) return this.err(p, MSG.optionalChain);
    if (ts.isIdentifier(p.expression) && p.expression.text === 'Math' && this.names.isLibGlobal(p.expression)) {
      return this.err(p, `Math.${p.name.text} is outside the subset (there is no floating point); only Math.imul is supported`);
    }
    if (ts.isIdentifier(p.expression) && this.names.entityOf(p.expression).kind === 'enum') {
      const v = this.names.checker.getConstantValue(p);
      if (typeof v === 'number') return;
    }
    return this.err(p, `property access '${p.getText()}' is outside the subset; use a const enum member, or load32(base + Field.OFFSET) for a struct field`);
  }

  private call(call: ts.CallExpression): void {
    if (call.questionDotToken) return this.err(call, MSG.optionalChain);
    for (const a of call.arguments) if (ts.isSpreadElement(a)) return this.err(a, MSG.spread);
    const callee = call.expression;
    if (this.names.isMathImul(callee)) {
      for (const a of call.arguments) this.expr(a);
      return;
    }
    if (ts.isIdentifier(callee)) {
      const ent = this.names.entityOf(callee);
      if (ent.kind === 'intrinsic') return this.intrinsic(call, ent.name);
      if (ent.kind === 'function') {
        const want = ent.decl.parameters.length;
        if (call.arguments.length !== want) {
          this.err(call, `'${callee.text}' takes ${want} argument${want === 1 ? '' : 's'}, not ${call.arguments.length}`);
        }
        for (const a of call.arguments) this.expr(a);
        return;
      }
    }
    if (ts.isPropertyAccessExpression(callee)) return this.propertyAccess(callee);
    // A call of a nested function or of a name whose import failed: already reported.
    const decl = ts.isIdentifier(callee) ? this.names.declarationOf(callee) : undefined;
    if (decl && ts.isFunctionDeclaration(decl)) return;
    if (ts.isIdentifier(callee) && this.names.isUnresolvedImport(callee)) {
      for (const a of call.arguments) this.expr(a);
      return;
    }
    this.err(callee, MSG.badCall);
  }

  private intrinsic(call: ts.CallExpression, name: string): void {
    const spec = intrinsicSpec(name);
    if (!spec) return this.err(call.expression, `intrinsic '${name}' is not supported by this compiler`);
    if (spec.place === 'staticBuffer') return this.err(call, MSG.staticBufferPlace);
    if (spec.pvOnly && (this.target.arch !== 'pv' || this.target.user)) {
      this.err(call.expression, this.target.user
        ? `${name} is available only to pv kernels, not to user programs; user programs make system calls`
        : `${name} is available only with --arch pv; a native kernel uses the CPU instructions directly`);
    }
    const args = call.arguments;
    if (args.length < spec.minArgs || args.length > spec.args.length) {
      const n = spec.minArgs === spec.args.length ? `${spec.minArgs}` : `${spec.minArgs} to ${spec.args.length}`;
      return this.err(call, `${name} takes ${n} argument${spec.args.length === 1 ? '' : 's'}, not ${args.length}`);
    }
    args.forEach((a, k) => this.intrinsicArg(name, a, spec.args[k]!));
  }

  private intrinsicArg(name: string, a: ts.Expression, rule: ArgRule): void {
    switch (rule.kind) {
      case 'value':
        return this.expr(a);
      case 'const': {
        const v = this.ce.int(a);
        if (v === null) {
          this.expr(a);
          return this.err(a, `${name} needs a constant ${rule.what} (${rule.range}); ${rule.hint}`);
        }
        if (!rule.ok(v)) return this.err(a, `${name}: ${rule.what} ${v} is out of range (${rule.range})`);
        return;
      }
      case 'string': {
        if (ts.isStringLiteral(a) || ts.isNoSubstitutionTemplateLiteral(a)) {
          for (let k = 0; k < a.text.length; k++) {
            if (a.text.charCodeAt(k) > 0xff) return this.err(a, `cstr strings are Latin-1 bytes; character U+${a.text.charCodeAt(k).toString(16).toUpperCase().padStart(4, '0')} does not fit in a byte`);
          }
          return;
        }
        if (ts.isTemplateExpression(a)) return this.err(a, MSG.template);
        return this.err(a, `cstr needs a string literal, e.g. cstr("hello\\n")`);
      }
      case 'function': {
        if (ts.isArrowFunction(a)) return this.err(a, MSG.arrow);
        if (ts.isFunctionExpression(a)) return this.err(a, MSG.functionExpression);
        if (ts.isIdentifier(a)) {
          const ent = this.names.entityOf(a);
          if (ent.kind === 'function') {
            if (name === 'trapEntry' && ent.decl.parameters.length > 1) {
              return this.err(a, `trapEntry handler '${a.text}' must take at most one parameter (the trap frame address)`);
            }
            return;
          }
        }
        return this.err(a, `${name} needs the name of a module-level function, e.g. ${name}(handler)`);
      }
    }
  }
}
