// Helpers shared by the socket and posix test files.
import { readFileSync } from 'node:fs';
import { afterEach } from 'vitest';
import { socket } from '../src/socket';
import * as posix from '../src/posix';

/** O_CLOEXEC as /proc/self/fdinfo shows it (octal flags). */
const O_CLOEXEC = 0o2000000;

/** Whether the kernel has close-on-exec set on fd. */
export function isCloexec(fd: number): boolean {
  const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  const flags = /^flags:\s+([0-7]+)$/m.exec(info);
  if (!flags) throw new Error(`no flags line in fdinfo of fd ${fd}`);
  return (parseInt(flags[1], 8) & O_CLOEXEC) !== 0;
}

/**
 * Registers the sockets and fds a test opens, and closes them after it, so
 * a failing test leaks nothing into the next one or the fd-leak check.
 */
export function tracker(): { sock<T extends socket>(s: T): T; fd(fd: number): number } {
  const sockets: socket[] = [];
  const fds: number[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
    for (const fd of fds.splice(0)) {
      try {
        posix.close(fd);
      } catch {
        // Closed by the test itself.
      }
    }
  });
  return {
    sock<T extends socket>(s: T): T {
      sockets.push(s);
      return s;
    },
    fd(fd: number): number {
      fds.push(fd);
      return fd;
    },
  };
}

/** The error fn() throws; fails the test when it throws nothing. */
export function thrown(fn: () => unknown): Error & { errno?: number | null; code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an exception');
}
