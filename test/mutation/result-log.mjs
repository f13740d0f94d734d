// A Stryker reporter (npm run mutate): one JSON line per mutant as soon as it has been tested,
// in reports/mutation/<file>.results.jsonl. Stryker writes its own reports only at the end of a
// run; this log keeps what a stopped run (^C, a crash) had found, survivors with their line, so
// the work is not lost (test/mutation/run.ts prints its counts for a file that did not finish).
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PluginKind, declareFactoryPlugin } from '@stryker-mutator/api/plugin';

/** where the log of the file XENOLITH_MUTATE_FILE names goes (run.ts reads it back) */
export function resultLogPath(file) {
  const tag = file ? file.replace(/^.*\//, '').replace(/\.ts$/, '') : 'all';
  return `reports/mutation/${tag}.results.jsonl`;
}

export class ResultLog {
  constructor(path) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '');
  }

  /** one line: status, where (1-based line, column), the mutator and its replacement */
  onMutantTested(m) {
    const line = { status: m.status, file: m.fileName, line: m.location.start.line, column: m.location.start.column, mutator: m.mutatorName, replacement: m.replacement };
    appendFileSync(this.path, `${JSON.stringify(line)}\n`);
  }
}

function create() {
  return new ResultLog(resultLogPath(process.env.XENOLITH_MUTATE_FILE));
}
create.inject = [];

export const strykerPlugins = [declareFactoryPlugin(PluginKind.Reporter, 'xenolith-log', create)];
