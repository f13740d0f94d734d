// `run --disk FILE [--snapshot]`: the block device's bytes, loaded from FILE. The guest's writes
// land in this in-memory copy (the XL32 block device and the pv block ring have no cache and no
// flush command: a write is done when its completion is popped); the copy is written back to
// FILE when the run ends, whatever ended it, if the guest changed it. With --snapshot (QEMU's
// -snapshot) the copy is a throw-away overlay: FILE is never written. Host code for the CLI.
import { accessSync, constants, writeFileSync } from 'node:fs';
import { CliError } from './errors.ts';
import { readInputFile } from './image-files.ts';

export interface DiskFile {
  /** the device's bytes, read and written by the guest */
  bytes: Uint8Array;
  /** write the bytes back to the file if the guest changed them (never with --snapshot); true if written */
  writeBack(): boolean;
}

export function openDisk(path: string, snapshot: boolean): DiskFile {
  const original = readInputFile(path);
  if (!snapshot) {
    try {
      accessSync(path, constants.W_OK);
    } catch {
      throw new CliError(`cannot write ${path}: permission denied (add --snapshot to keep the guest's writes in memory only)`);
    }
  }
  const bytes = new Uint8Array(original);
  return {
    bytes,
    writeBack() {
      if (snapshot || Buffer.compare(original, bytes) === 0) return false;
      try {
        writeFileSync(path, bytes);
      } catch (e) {
        throw new CliError(`cannot write the disk back to ${path}: ${(e as Error).message}`);
      }
      original.set(bytes);
      return true;
    },
  };
}
