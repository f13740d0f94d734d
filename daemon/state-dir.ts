// The daemon's state directory (--state-dir, XENOLITH_STATE_DIR, or $XDG_STATE_HOME/xenolith):
//
//   domains/NAME.json   one definition per domain, written atomically (temporary file, fsync,
//                       rename, fsync of the directory), so a daemon killed at any moment leaves
//                       either the old or the new definition, never half of one
//   token               the API token, mode 0600: only the user (and root) can read it
//   daemon.sock         the API's unix socket (mode 0600)
//   daemon.json         the running daemon's pid, port and socket (for clients)
//   daemon.log          what an auto-started daemon printed
//   files/NAME          the files the API names: save files (save, restore) and definitions'
//                       records; the API takes a plain name (stateFileProblem), never a path, so
//                       a token holder writes nowhere else
//
// The directory itself is made with mode 0700. Host code; touches only this directory.

import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { DefinitionError, validateDefinition, type DomainDefinition } from './definition.ts';

/** The state directory to use: the option, else XENOLITH_STATE_DIR, else $XDG_STATE_HOME/xenolith. */
export function defaultStateDir(option?: string): string {
  if (option) return resolve(option);
  const env = process.env.XENOLITH_STATE_DIR;
  if (env) return resolve(env);
  const xdg = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(xdg, 'xenolith');
}

/** Write `data` to `file` atomically, with `mode` (0600 unless given). */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  // the rename is durable once the directory is
  try {
    const dfd = openSync(join(file, '..'), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // some file systems do not fsync directories; the rename is still atomic
  }
}

/**
 * Why `name` is not a file name the API may give (null: it is one): a plain name of the state
 * directory's files/ - letters, digits, '.', '_' and '-', at most 128, not starting with '.' - so
 * no path, no '..', nothing outside STATE_DIR/files.
 */
export function stateFileProblem(name: string): string | null {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) return null;
  return `"${name}" is not a file name of the daemon's state directory: the API takes a plain name (letters, digits, '.', '_', '-'; no '/', not starting with '.'), written in STATE_DIR/files`;
}

export class StateDir {
  readonly domainsDir: string;
  /** the files the API names (stateFileProblem) */
  readonly filesDir: string;
  readonly tokenFile: string;
  readonly socketPath: string;
  readonly infoFile: string;
  readonly logFile: string;

  constructor(readonly dir: string) {
    this.domainsDir = join(dir, 'domains');
    this.filesDir = join(dir, 'files');
    this.tokenFile = join(dir, 'token');
    this.socketPath = join(dir, 'daemon.sock');
    this.infoFile = join(dir, 'daemon.json');
    this.logFile = join(dir, 'daemon.log');
  }

  /** The path of the API's file `name` (checked by stateFileProblem first), making files/ (0700) if need be. */
  file(name: string): string {
    const why = stateFileProblem(name);
    if (why !== null) throw new Error(why);
    mkdirSync(this.filesDir, { recursive: true, mode: 0o700 });
    return join(this.filesDir, name);
  }

  /** Make the directories (0700). */
  ensure(): void {
    mkdirSync(this.domainsDir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
  }

  /** The token, made (random, 0600) if there is none; an existing token file keeps its value. */
  token(): string {
    try {
      const t = readFileSync(this.tokenFile, 'utf8').trim();
      if (t.length >= 32) {
        if ((statSync(this.tokenFile).mode & 0o077) !== 0) chmodSync(this.tokenFile, 0o600);
        return t;
      }
    } catch {
      // none yet
    }
    const t = randomBytes(32).toString('hex');
    writeFileAtomic(this.tokenFile, `${t}\n`, 0o600);
    return t;
  }

  /** The token if the file exists (clients), else null. */
  readToken(): string | null {
    try {
      const t = readFileSync(this.tokenFile, 'utf8').trim();
      return t.length > 0 ? t : null;
    } catch {
      return null;
    }
  }

  /**
   * running.json: the domains running (or paused) now, rewritten atomically whenever that set
   * changes; `clean` is set when `daemon stop` ended them. A daemon that starts finds there the
   * domains the previous one left running - their running state died with its host.
   */
  saveRunning(names: string[], clean = false): void {
    this.ensure();
    writeFileAtomic(join(this.dir, 'running.json'), `${JSON.stringify({ running: names, clean })}\n`);
  }

  /** What running.json says (nothing running when it is missing or unreadable). */
  loadRunning(): { running: string[]; clean: boolean } {
    try {
      const v = JSON.parse(readFileSync(join(this.dir, 'running.json'), 'utf8')) as { running?: unknown; clean?: unknown };
      const running = Array.isArray(v.running) ? v.running.filter((n): n is string => typeof n === 'string') : [];
      return { running, clean: v.clean === true };
    } catch {
      return { running: [], clean: false };
    }
  }

  definitionFile(name: string): string {
    return join(this.domainsDir, `${name}.json`);
  }

  saveDefinition(def: DomainDefinition): void {
    this.ensure();
    writeFileAtomic(this.definitionFile(def.name), `${JSON.stringify(def, null, 2)}\n`);
  }

  removeDefinition(name: string): void {
    rmSync(this.definitionFile(name), { force: true });
  }

  /**
   * Every definition in domains/ (a file that does not validate any more is skipped, and its
   * problem reported through `onBad`; leftover temporary files of an interrupted write are removed).
   */
  loadDefinitions(onBad: (message: string) => void = () => {}): DomainDefinition[] {
    let names: string[];
    try {
      names = readdirSync(this.domainsDir).sort();
    } catch {
      return [];
    }
    const out: DomainDefinition[] = [];
    for (const n of names) {
      const file = join(this.domainsDir, n);
      if (n.endsWith('.tmp')) {
        rmSync(file, { force: true });
        continue;
      }
      if (!n.endsWith('.json')) continue;
      try {
        const def = validateDefinition(JSON.parse(readFileSync(file, 'utf8')));
        if (`${def.name}.json` !== n) throw new DefinitionError(`its name is '${def.name}'`);
        out.push(def);
      } catch (e) {
        onBad(`${file}: ${e instanceof Error ? e.message : String(e)} (skipped)`);
      }
    }
    return out;
  }
}
