// Types of stryker.config.mjs for test/mutation/run.ts.
export declare const ISOLATION_CRITICAL: string[];
declare const config: Record<string, unknown>;
export default config;
