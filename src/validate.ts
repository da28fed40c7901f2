// Argument checks shared by the public modules. Each throws a TypeError for
// a wrong type and a RangeError for a value out of range (Python's
// ValueError), and names the argument and the value it got. Callers pass the
// name as 'function(): argument', so that every message starts with the
// function the user called.
import { describe } from './errors';
import { checkPyTime } from './timer';

export function checkInteger(name: string, value: unknown, min = -(2 ** 31), max = 2 ** 31 - 1): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${name} must be an integer, not ${describe(value)}`);
  }
  if (!Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer, not ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`${name} must be in [${min}, ${max}], got ${describe(value)}`);
  }
  return value;
}

export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new TypeError(`${name} must be a boolean, not ${describe(value)}`);
  }
  return value;
}

export function checkBytes(name: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Buffer or Uint8Array, not ${describe(value)}`);
  }
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

/** One more than the largest fd: the kernel's fds are C ints. */
const FD_LIMIT = 2 ** 31;

/**
 * An fd argument: an integer in [0, 2**31). A TypeError for anything but an
 * integer, a RangeError outside (CPython: ValueError for a negative fd,
 * OverflowError past INT_MAX); never a number that the addon would wrap.
 */
export function checkFd(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer, not ${describe(value)}`);
  }
  if (value < 0 || value >= FD_LIMIT) {
    throw new RangeError(`${name} must be a file descriptor in [0, 2**31), got ${describe(value)}`);
  }
  return value;
}

/** A timeout in seconds: a finite number >= 0, or null for "forever". */
export function checkTimeout(name: string, value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${name} must be a number of seconds or null, not ${describe(value)}`);
  }
  if (value < 0) throw new RangeError(`${name} must be non-negative, got ${describe(value)}`);
  return checkPyTime(name, value);
}

/**
 * An fd, or an object with fileno() (Python's PyObject_AsFileDescriptor);
 * `caller` names the public function in the error message.
 */
export function toFd(caller: string, value: unknown): number {
  let fd = value;
  if (typeof value === 'object' && value !== null && typeof (value as { fileno?: unknown }).fileno === 'function') {
    fd = (value as { fileno(): unknown }).fileno();
  }
  if (typeof fd !== 'number' || !Number.isInteger(fd)) {
    throw new TypeError(`${caller}(): argument must be an int, or have a fileno() method, not ${describe(value)}`);
  }
  return checkFd(`${caller}(): file descriptor`, fd);
}
