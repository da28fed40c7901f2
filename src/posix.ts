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
import { check, describe, errorFromErrno } from './errors';
import { checkBytes, checkInteger } from './validate';

const EBADF = osConstants.errno.EBADF;

/**
 * An fd argument: an integer. A negative one is not a RangeError but, as in
 * Python (os.close(-1)), the EBADF the kernel would give.
 */
function checkFd(fd: unknown): number {
  const value = checkInteger('fd', fd);
  if (value < 0) throw errorFromErrno(EBADF);
  return value;
}

/**
 * A flag as Python's setblocking(0) takes it: a boolean, or a number used
 * for its truth value, so that ported code keeps working.
 */
export function checkFlag(name: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && !Number.isNaN(value)) return value !== 0;
  throw new TypeError(`${name} must be a boolean, not ${describe(value)}`);
}

/** Largest read done into the shared scratch buffer; bigger ones allocate. */
const SCRATCH_LIMIT = 64 * 1024;
let scratch: Buffer | null = null;
/** scratch.subarray(0, n) for the n asked last: a server asks the same n every time. */
let scratchView: Buffer | null = null;

/**
 * Where a read of up to bufsize bytes goes. Small reads go to one scratch
 * buffer reused by every call (calls are synchronous, on the JavaScript
 * thread), so that a 64 KiB read that brings 10 bytes does not leave 64 KiB
 * allocated behind the result; readResult() copies out what arrived.
 */
export function readTarget(bufsize: number): Buffer {
  if (bufsize > SCRATCH_LIMIT) return Buffer.allocUnsafe(bufsize);
  if (scratchView === null || scratchView.length !== bufsize) {
    scratch ??= Buffer.allocUnsafeSlow(SCRATCH_LIMIT);
    scratchView = scratch.subarray(0, bufsize);
  }
  return scratchView;
}

/**
 * A Buffer of exactly the count bytes read into target (from readTarget),
 * as CPython shrinks its bytes object after a read.
 */
export function readResult(target: Buffer, count: number): Buffer {
  if (target !== scratchView && count === target.length) return target;
  // allocUnsafe() + copy() rather than Buffer.from(subarray): Buffer.from()
  // probes its argument (valueOf, length, buffer) on every call.
  const bytes = Buffer.allocUnsafe(count);
  target.copy(bytes, 0, 0, count);
  return bytes;
}

/** A pipe's [read end, write end], both close-on-exec (Python's os.pipe). */
export function pipe(): [r: number, w: number] {
  const fds = new Int32Array(2);
  check(native.pipe(fds));
  return [fds[0], fds[1]];
}

/** A new, non-inheritable fd for the same open file (Python's os.dup). */
export function dup(fd: number): number {
  return check(native.dup(checkFd(fd)));
}

/** Closes fd (Python's os.close); a closed or negative fd is OSError EBADF. */
export function close(fd: number): void {
  check(native.close(checkFd(fd)));
}

/** Up to n bytes; an empty Buffer at end of file. */
export function read(fd: number, n: number): Buffer {
  const target = checkFd(fd);
  const size = checkInteger('n', n, 0, 2 ** 31 - 1);
  const buffer = readTarget(size);
  const count = native.read(target, buffer);
  if (count < 0) throw errorFromErrno(-count);
  return readResult(buffer, count);
}

/** The number of bytes written, which may be less than data.length. */
export function write(fd: number, data: Uint8Array): number {
  const target = checkFd(fd);
  return check(native.write(target, checkBytes('data', data)));
}

/** Clears (true) or sets (false) O_NONBLOCK. */
export function set_blocking(fd: number, flag: boolean): void {
  const target = checkFd(fd);
  check(native.setBlocking(target, checkFlag('flag', flag)));
}

/** Whether O_NONBLOCK is clear. */
export function get_blocking(fd: number): boolean {
  return check(native.getBlocking(checkFd(fd))) !== 0;
}
