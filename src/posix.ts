/**
 * Raw file descriptors: the part of Python's `os` module that asyncore
 * needs (`os.pipe`, `os.dup`, `os.close`, `os.read`, `os.write`,
 * `os.set_blocking`, `os.get_blocking`), with the same behaviour and errors.
 * An fd is a number; a failed call throws the `OSError` subclass for its
 * errno. Use them for pipes and ttys with `asyncore.file_dispatcher`.
 *
 * @example
 * ```ts
 * import { pipe, write, read, close } from 'asyncore/posix';
 * const [r, w] = pipe();
 * write(w, Buffer.from('hi'));
 * console.log(read(r, 10).toString()); // hi
 * close(r); close(w);
 * ```
 * @see {@link https://docs.python.org/3.11/library/os.html#file-descriptor-operations | Python's os fd functions}
 * @module
 */
// Imported, not the global: globalThis.Buffer is a getter on every use.
import { Buffer } from 'node:buffer';
import { constants as osConstants } from 'node:os';
import { binding as native } from './binding';
import { check, errorFromErrno } from './errors';
import { readResult, readTarget } from './bytes';
import { checkBytes, checkFd as checkFdArgument, checkFlag, checkInteger } from './validate';

const EBADF = osConstants.errno.EBADF;

/**
 * An fd argument. A negative integer is not a RangeError but, as in Python
 * (os.close(-1)), the EBADF the kernel would give.
 */
function checkFd(caller: string, fd: unknown): number {
  if (typeof fd === 'number' && Number.isInteger(fd) && fd < 0) throw errorFromErrno(EBADF);
  return checkFdArgument(`${caller}(): fd`, fd);
}

/** A pipe's [read end, write end], both close-on-exec (Python's os.pipe). */
export function pipe(): [r: number, w: number] {
  const fds = new Int32Array(2);
  check(native.pipe(fds));
  return [fds[0], fds[1]];
}

/** A new, non-inheritable fd for the same open file (Python's os.dup). */
export function dup(fd: number): number {
  return check(native.dup(checkFd('dup', fd)));
}

/** Closes fd (Python's os.close); a closed or negative fd is OSError EBADF. */
export function close(fd: number): void {
  check(native.close(checkFd('close', fd)));
}

/** Up to n bytes; an empty Buffer at end of file. */
export function read(fd: number, n: number): Buffer {
  const target = checkFd('read', fd);
  const size = checkInteger('read(): n', n, 0, 2 ** 31 - 1);
  const buffer = readTarget(size);
  const count = native.read(target, buffer);
  if (count < 0) throw errorFromErrno(-count);
  return readResult(buffer, count);
}

/** The number of bytes written, which may be less than data.length. */
export function write(fd: number, data: Uint8Array): number {
  const target = checkFd('write', fd);
  return check(native.write(target, checkBytes('write(): data', data)));
}

/** Clears (true) or sets (false) O_NONBLOCK. */
export function set_blocking(fd: number, flag: boolean): void {
  const target = checkFd('set_blocking', fd);
  check(native.setBlocking(target, checkFlag('set_blocking(): flag', flag)));
}

/** Whether O_NONBLOCK is clear. */
export function get_blocking(fd: number): boolean {
  return check(native.getBlocking(checkFd('get_blocking', fd))) !== 0;
}
