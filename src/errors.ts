// Python's OSError hierarchy, chosen by errno as CPython's
// Objects/exceptions.c does, with Node's `code` names.
import { constants as osConstants } from 'node:os';
import * as util from 'node:util';

const E = osConstants.errno;
/** Node's table lacks ESHUTDOWN; this is Linux's number. */
export const ESHUTDOWN = 108;

/** Node's system error map, keyed by -errno: [code, message]. */
const systemErrors: Map<number, [string, string]> = util.getSystemErrorMap();

function errnoName(errno: number): string | undefined {
  return systemErrors.get(-errno)?.[0];
}

/** "broken pipe" -> "Broken pipe", the way C's strerror() spells it. */
export function describeErrno(errno: number): string {
  const message = systemErrors.get(-errno)?.[1];
  if (message === undefined) return `Unknown error ${errno}`;
  return message.charAt(0).toUpperCase() + message.slice(1);
}

export class OSError extends Error {
  errno: number | null;
  strerror: string | null;
  code: string | undefined;

  constructor(errno?: number | null, strerror?: string | null) {
    const hasErrno = typeof errno === 'number';
    const text = strerror ?? (hasErrno ? describeErrno(errno) : null);
    super(hasErrno ? `[Errno ${errno}] ${text}` : (text ?? ''));
    this.errno = hasErrno ? errno : null;
    this.strerror = text;
    this.code = hasErrno ? errnoName(errno) : undefined;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

export class BlockingIOError extends OSError {}
export class ConnectionError extends OSError {}
export class BrokenPipeError extends ConnectionError {}
export class ConnectionAbortedError extends ConnectionError {}
export class ConnectionRefusedError extends ConnectionError {}
export class ConnectionResetError extends ConnectionError {}
export class InterruptedError extends OSError {}
export class TimeoutError extends OSError {}
export class FileNotFoundError extends OSError {}
export class PermissionError extends OSError {}
export class FileExistsError extends OSError {}
export class IsADirectoryError extends OSError {}
export class NotADirectoryError extends OSError {}
export class ChildProcessError extends OSError {}
export class ProcessLookupError extends OSError {}

/**
 * socket.gaierror: a getaddrinfo() failure; errno is the EAI_* code, which
 * is no errno, so `code` is not looked up as one (socket.ts names it).
 */
export class gaierror extends OSError {
  constructor(errno?: number | null, strerror?: string | null) {
    super(errno, strerror);
    this.code = undefined;
  }
}

type OSErrorClass = new (errno?: number | null, strerror?: string | null) => OSError;

const classByErrno = new Map<number, OSErrorClass>([
  [E.EAGAIN, BlockingIOError],
  [E.EWOULDBLOCK, BlockingIOError],
  [E.EALREADY, BlockingIOError],
  [E.EINPROGRESS, BlockingIOError],
  [E.EPIPE, BrokenPipeError],
  [ESHUTDOWN, BrokenPipeError],
  [E.ECONNABORTED, ConnectionAbortedError],
  [E.ECONNREFUSED, ConnectionRefusedError],
  [E.ECONNRESET, ConnectionResetError],
  [E.EINTR, InterruptedError],
  [E.ETIMEDOUT, TimeoutError],
  [E.ENOENT, FileNotFoundError],
  [E.EACCES, PermissionError],
  [E.EPERM, PermissionError],
  [E.EEXIST, FileExistsError],
  [E.EISDIR, IsADirectoryError],
  [E.ENOTDIR, NotADirectoryError],
  [E.ECHILD, ChildProcessError],
  [E.ESRCH, ProcessLookupError],
]);

/** The OSError subclass that fits errno (a positive number). */
export function errorFromErrno(errno: number, strerror?: string): OSError {
  const Class = classByErrno.get(errno) ?? OSError;
  return new Class(errno, strerror);
}

/** Throws the OSError for a native result < 0 (-errno); returns it otherwise. */
export function check(result: number): number {
  if (result < 0) throw errorFromErrno(-result);
  return result;
}

/** A short description of a value for error messages, in JavaScript's notation (repr.ts writes Python's). */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`;
  if (value instanceof Uint8Array) return `<${value.constructor.name} of ${value.length} bytes>`;
  return util.inspect(value, { depth: 1, breakLength: Infinity });
}
