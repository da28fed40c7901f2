// twisted.python.lockfile: a lock between processes, as a symlink whose
// target is the holder's pid. Making a symlink is atomic; a lock whose
// holder no longer runs is stale, and is taken over.
import * as fs from 'node:fs';
import { describe } from './describe';

function errorCode(err: unknown): unknown {
  return err !== null && typeof err === 'object' ? (err as { code?: unknown }).code : undefined;
}

/**
 * A lock on the path `name`, shared by every process that uses the same
 * path. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.python.lockfile.FilesystemLock.html
 */
export class FilesystemLock {
  /** The path of the lock. */
  readonly name: string;
  /** Whether this object holds the lock. */
  locked = false;
  /** After lock(): false when a stale lock had to be broken first, else true; null before. */
  clean: boolean | null = null;

  /** A lock on `name` (not taken yet). */
  constructor(name: string) {
    if (typeof name !== 'string' || name === '' || name.includes('\0')) {
      throw new TypeError(`FilesystemLock(): name must be a path (without NUL bytes), not ${describe(name)}`);
    }
    this.name = name;
  }

  /** Takes the lock if it is free (or stale): true when it is now held, false when another process holds it. */
  lock(): boolean {
    let clean = true;
    for (;;) {
      try {
        fs.symlinkSync(String(process.pid), this.name);
      } catch (err) {
        if (errorCode(err) !== 'EEXIST') throw err;
        let pid: string;
        try {
          pid = fs.readlinkSync(this.name);
        } catch (readErr) {
          if (errorCode(readErr) === 'ENOENT') continue;
          throw readErr;
        }
        try {
          process.kill(Number(pid), 0);
        } catch (killErr) {
          if (errorCode(killErr) !== 'ESRCH') throw killErr;
          // The holder is gone: break its lock and try again.
          try {
            fs.unlinkSync(this.name);
          } catch (rmErr) {
            if (errorCode(rmErr) === 'ENOENT') continue;
            throw rmErr;
          }
          clean = false;
          continue;
        }
        return false;
      }
      this.locked = true;
      this.clean = clean;
      return true;
    }
  }

  /** Releases the lock; a RangeError if this process does not hold it. */
  unlock(): void {
    const pid = fs.readlinkSync(this.name);
    if (Number(pid) !== process.pid) throw new RangeError(`unlock(): Lock '${this.name}' not owned by this process`);
    fs.unlinkSync(this.name);
    this.locked = false;
  }
}

/**
 * Whether the lock at `name` is held by a live process. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.python.lockfile.html#isLocked
 */
export function isLocked(name: string): boolean {
  const l = new FilesystemLock(name);
  const result = l.lock();
  if (result) l.unlock();
  return !result;
}
