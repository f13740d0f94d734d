// A worker thread of `compare --jobs N` (bench/compare-parallel.ts): runs one guest run or one
// traced boot of the comparison, as the serial compare would in its own thread, and returns the
// result (plain data, copied back to the main thread).
import { RUNNERS, traceTimeline, type GuestRun, type ModeName, type ModeTimeline, type RunSpec } from './runners.ts';

export type CompareTask = { kind: 'run'; mode: ModeName; spec: RunSpec } | { kind: 'timeline'; mode: ModeName; options: Parameters<typeof traceTimeline>[1] };

export function runTask(task: CompareTask): GuestRun | ModeTimeline | null {
  return task.kind === 'run' ? RUNNERS[task.mode](task.spec) : traceTimeline(task.mode, task.options);
}
