// Self time by function of V8 CPU profiles (.cpuprofile, e.g. bench/kernel-steady.ts's per-run
// ones with KS_PROFILE=DIR): per file, the functions with the most self time, in milliseconds;
// the translator's functions are summed under their prefix (tb_*: the main translator's, run_*:
// bt's compiled chains and straight runs), as their names are their guest addresses. The
// inspector's own work after a run (Session.post's `dispatch`) is left out.
//
//   node --import tsx/esm bench/profile-summary.ts [--top N] FILE...
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Self milliseconds by function name, largest first; translated functions summed by prefix, or
 * with `translated: 'each'` each under its own name (bench/bt-chains.ts).
 */
export function selfTimes(profile: Profile, opts: { translated?: 'summed' | 'each' } = {}): Array<[string, number]> {
  const summed = opts.translated !== 'each';
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const by = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    let name = n.callFrame.functionName || '(anonymous)';
    if (name === 'dispatch' && n.callFrame.url === '' && byId.get(parent.get(id) ?? -1)?.callFrame.functionName === 'post') continue;
    if (summed && /^tb_[0-9a-f]+$/.test(name)) name = 'tb_*';
    else if (summed && /^run_[0-9a-f]+$/.test(name)) name = 'run_*';
    by.set(name, (by.get(name) ?? 0) + us / 1000);
  }
  return [...by].sort((a, b) => b[1] - a[1]);
}

/** The command line: per file, the functions with the most self time. */
function main(): void {
  const args = process.argv.slice(2);
  let top = 15;
  if (args[0] === '--top') {
    top = Number(args[1]);
    args.splice(0, 2);
  }
  if (args.length === 0 || !(top >= 1)) {
    process.stderr.write('usage: node --import tsx/esm bench/profile-summary.ts [--top N] FILE.cpuprofile...\n');
    process.exit(2);
  }
  for (const file of args) {
    const rows = selfTimes(JSON.parse(readFileSync(file, 'utf8')) as Profile);
    const total = rows.reduce((a, [, ms]) => a + ms, 0);
    process.stdout.write(`${file}: ${total.toFixed(1)} ms of samples\n`);
    for (const [name, ms] of rows.slice(0, top)) process.stdout.write(`${ms.toFixed(1).padStart(8)}  ${name}\n`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
