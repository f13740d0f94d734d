// The editor plugin (toolchain/ts-plugin) reports the guest subset's errors where the compiler
// does, through a real language service configured like the guest tsconfig; and the guest
// tsconfigs type guest code without Node's types.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { compile } from '../../toolchain/compiler/index.ts';
import { CompileError } from '../../toolchain/compiler/diagnostics.ts';
import { guestCompilerOptions } from '../../toolchain/compiler/program.ts';
import { init, SUBSET_ERROR_CODE } from '../../toolchain/ts-plugin/plugin.ts';

const BAD = `import { cstr } from 'xl32';
// classes and console.log: what a newcomer writes first

class Point {
  x = 1;
}

export function main(): number {
  console.log('hi');
  const o = { a: 1 };
  return o.a + cstr('x');
}
`;

/** A language service over `files`, with the guest compiler options, wrapped by the plugin. */
function pluginService(files: string[], config: Record<string, unknown>): ts.LanguageService {
  const options = guestCompilerOptions();
  const host: ts.LanguageServiceHost = {
    getCompilationSettings: () => options,
    getScriptFileNames: () => files,
    getScriptVersion: () => '1',
    getScriptSnapshot: (f) => (ts.sys.fileExists(f) ? ts.ScriptSnapshot.fromString(ts.sys.readFile(f)!) : undefined),
    getCurrentDirectory: () => process.cwd(),
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: ts.sys.fileExists,
    readFile: ts.sys.readFile,
  };
  const ls = ts.createLanguageService(host);
  return init({ typescript: ts }).create({ languageService: ls, config } as unknown as ts.server.PluginCreateInfo);
}

const at = (d: ts.Diagnostic) => {
  const p = d.file!.getLineAndCharacterOfPosition(d.start!);
  return `${p.line + 1}:${p.character + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
};

describe('the guest language-service plugin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xl-plugin-'));
  const file = join(dir, 'bad.ts');
  writeFileSync(file, BAD);

  it('reports each subset error at the line and column the compiler reports, with its message', () => {
    let compilerSubset: string[] = [];
    try {
      compile(file, { arch: 'native', user: true });
      throw new Error('bad.ts compiled');
    } catch (e) {
      expect(e).toBeInstanceOf(CompileError);
      compilerSubset = (e as CompileError).diagnostics.filter((d) => !/\(TS\d+\)$/.test(d.message)).map((d) => `${d.line}:${d.col}: ${d.message}`);
    }
    const diags = pluginService([file], { arch: 'native', user: true }).getSemanticDiagnostics(file);
    const subset = diags.filter((d) => d.code === SUBSET_ERROR_CODE);
    expect(subset.map(at)).toEqual(compilerSubset);
    expect(subset.map(at)).toEqual([
      '4:1: classes are outside the subset; use module-level functions, with struct field offsets in a const enum and load32/store32',
      "9:3: property access 'console.log' is outside the subset; use a const enum member, or load32(base + Field.OFFSET) for a struct field",
      '10:13: object literals are outside the subset; reserve memory with staticBuffer and name field offsets in a const enum',
      "11:10: property access 'o.a' is outside the subset; use a const enum member, or load32(base + Field.OFFSET) for a struct field",
    ]);
    expect(subset[0]!.length).toBe('class'.length);
    // TypeScript's own errors stay: without Node's types there is no console
    expect(diags.filter((d) => d.code !== SUBSET_ERROR_CODE).map(at)).toContainEqual(expect.stringMatching(/^9:3: Cannot find name 'console'/));
  });

  it("reports an import the compiler refuses (a Node module) at its specifier, as the compiler's loader does", () => {
    const imp = join(dir, 'imp.ts');
    writeFileSync(imp, "import { readFileSync } from 'node:fs';\nexport function main(): number {\n  return 0;\n}\n");
    const subset = pluginService([imp], {}).getSemanticDiagnostics(imp).filter((d) => d.code === SUBSET_ERROR_CODE);
    expect(subset.map(at)).toEqual(["1:30: imports from 'node:fs' are outside the subset; import guest modules by relative path ('./name.ts') and intrinsics from 'xl32'"]);
    expect(() => compile(imp, { arch: 'native' })).toThrow(`${imp}:1:30: imports from 'node:fs' are outside the subset`);
  });

  it('passes a good program without a diagnostic', () => {
    const diags = pluginService([resolve('examples/programs/primes.ts')], { user: true }).getSemanticDiagnostics(resolve('examples/programs/primes.ts'));
    expect(diags).toEqual([]);
  });

  it('loads through index.cjs, as tsserver loads it (require)', () => {
    const require = createRequire(import.meta.url);
    const viaCjs = require('../../toolchain/ts-plugin/index.cjs') as typeof init;
    expect(typeof viaCjs({ typescript: ts }).create).toBe('function');
  });
});

describe('guest tsconfigs', () => {
  for (const project of ['guest-kernel', 'examples/programs', 'examples/hypercall-experiment']) {
    it(`${project}/tsconfig.json types its guest code against xl32 and hypercalls/ alone: no errors, no Node types, the plugin named`, () => {
      const configFile = resolve(project, 'tsconfig.json');
      const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
      expect(parsed.options.types).toEqual([]);
      expect(parsed.options.lib).toEqual(['lib.es2022.d.ts']);
      expect((parsed.options.plugins as { name: string }[]).map((p) => p.name)).toEqual(['xenolith-guest-plugin']);
      const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
      expect(ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '))).toEqual([]);
    });
  }
});
