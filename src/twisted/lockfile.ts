// twisted.python.lockfile: a lock that is a symbolic link whose target is
// the owner's pid. symlink(2) either creates the link or fails with EEXIST,
// atomically, so two processes cannot both take it; a lock whose pid is no
// longer alive (kill(pid, 0) fails with ESRCH) is stale, and is taken over.
// listenUNIX(..., wantPID) holds one beside its socket file, and
// connectUNIX(..., checkPID) connects only while it is held.
import { readlinkSync, symlinkSync, unlinkSync } from 'node:fs';

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/**
 * A lock held by this process while the link `name` points at its pid.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.python.lockfile.FilesystemLock.html | Twisted's FilesystemLock}
 */
export class FilesystemLock {
  /** The path of the link. */
  readonly name: string;
  /** Whether this object holds the lock. */
  locked = false;
  /** False when lock() took over a stale lock (its owner died without unlocking). */
  clean: boolean | null = null;

  /** A lock at `name` (not taken yet: see lock()). */
  constructor(name: string) {
    if (typeof name !== 'string' || name === '') throw new TypeError(`FilesystemLock(): needs a path, not ${String(name)}`);
    this.name = name;
  }

  /** Takes the lock: true if taken (stale ones are taken over), false if a live process holds it. */
  lock(): boolean {
    let clean = true;
    for (;;) {
      try {
        symlinkSync(String(process.pid), this.name);
      } catch (err) {
        if (errorCode(err) !== 'EEXIST') throw err;
        let pid: string;
        try {
          pid = readlinkSync(this.name);
        } catch (e) {
          // Unlocked between our symlink() and readlink(): try again.
          if (errorCode(e) === 'ENOENT') continue;
          throw e;
        }
        if (isAlive(Number(pid))) return false;
        try {
          unlinkSync(this.name);
        } catch (e) {
          // Another process cleaned the stale lock up first.
          if (errorCode(e) !== 'ENOENT') throw e;
          continue;
        }
        clean = false;
        continue;
      }
      this.locked = true;
      this.clean = clean;
      return true;
    }
  }

  /** Releases the lock; an Error if this process does not hold it. */
  unlock(): void {
    const pid = readlinkSync(this.name);
    if (Number(pid) !== process.pid) {
      throw new Error(`FilesystemLock.unlock(): lock ${this.name} is held by process ${pid}, not this one`);
    }
    unlinkSync(this.name);
    this.locked = false;
  }
}

/** Whether process `pid` exists (EPERM: it does, owned by someone else). */
function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) !== 'ESRCH';
  }
}

/**
 * Whether the lock at `name` is held by a live process (taking and
 * releasing it to find out, as Twisted does).
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.python.lockfile.html#isLocked | Twisted's isLocked}
 */
export function isLocked(name: string): boolean {
  const lock = new FilesystemLock(name);
  const taken = lock.lock();
  if (taken) lock.unlock();
  return !taken;
}
