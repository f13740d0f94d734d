// Types of result-log.mjs (a Stryker plugin, plain JavaScript so Stryker loads it as it is).
export declare function resultLogPath(file: string | undefined): string;
export interface LoggedMutant {
  status?: string;
  fileName: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
  mutatorName: string;
  replacement: string;
}
export declare class ResultLog {
  readonly path: string;
  constructor(path: string);
  onMutantTested(m: LoggedMutant): void;
}
export declare const strykerPlugins: { kind: string; name: string }[];
