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

/**
 * Python's str() of a value given as an error's text: a string as it is,
 * anything else as String() makes it, or described when that fails (a
 * Symbol, an object whose toString() throws), so that making an error never
 * throws.
 */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return String(value);
  } catch {
    return describe(value);
  }
}

/** "broken pipe" -> "Broken pipe", the way C's strerror() spells it. */
export function describeErrno(errno: number): string {
  const message = systemErrors.get(-errno)?.[1];
  if (message === undefined) return `Unknown error ${errno}`;
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/**
 * Python's OSError: a system call failed. Every error the kernel reports
 * through this package is an OSError, or the subclass that fits its errno
 * (`ECONNREFUSED` is a {@link ConnectionRefusedError}, `EAGAIN` a
 * {@link BlockingIOError}, ...), chosen as CPython chooses.
 *
 * Differs from Python: it also has Node's `code` (`'ECONNREFUSED'`), so
 * code written for Node's errors can test that. The message is Python's,
 * `[Errno 111] Connection refused`.
 *
 * @example
 * ```ts
 * try {
 *   sock.connect(['127.0.0.1', 1]);
 * } catch (err) {
 *   if (err instanceof ConnectionRefusedError) console.log(err.errno, err.code); // 111 ECONNREFUSED
 * }
 * ```
 * @see {@link https://docs.python.org/3.11/library/exceptions.html#OSError | Python's OSError}
 */
export class OSError extends Error {
  /** The errno (a positive number, as in C), or null for an error the package raises itself. */
  errno: number | null;
  /** The system's text for errno ("Connection refused"), or the message given. */
  strerror: string | null;
  /** Node's name for errno ('ECONNREFUSED'); undefined without an errno. */
  code: string | undefined;

  /**
   * An OSError for `errno`, with `strerror` (by default the system's text
   * for it). `new OSError(null, 'text')` is an error with a message only.
   * To get the subclass that fits an errno, the package uses its own
   * lookup; `new OSError(111)` is a plain OSError.
   */
  constructor(errno?: number | null, strerror?: string | null) {
    const hasErrno = typeof errno === 'number';
    const text = strerror === null || strerror === undefined ? (hasErrno ? describeErrno(errno) : null) : textOf(strerror);
    super(hasErrno ? `[Errno ${errno}] ${text}` : (text ?? ''));
    this.errno = hasErrno ? errno : null;
    this.strerror = text;
    this.code = hasErrno ? errnoName(errno) : undefined;
  }

  /** The class name ('ConnectionRefusedError'), as Python prints it. */
  override get name(): string {
    return this.constructor.name;
  }
}

/** The operation would block on a non-blocking fd: EAGAIN, EWOULDBLOCK, EALREADY, EINPROGRESS. */
export class BlockingIOError extends OSError {}
/** Base class of the connection errors below (Python's ConnectionError). */
export class ConnectionError extends OSError {}
/** Writing to a connection the peer has shut down: EPIPE, ESHUTDOWN. Never a SIGPIPE here. */
export class BrokenPipeError extends ConnectionError {}
/** The connection was aborted, as by a peer gone before accept(): ECONNABORTED. */
export class ConnectionAbortedError extends ConnectionError {}
/** Nobody listens at the address: ECONNREFUSED. */
export class ConnectionRefusedError extends ConnectionError {}
/** The peer reset the connection: ECONNRESET. */
export class ConnectionResetError extends ConnectionError {}
/**
 * A system call was interrupted by a signal: EINTR. The package retries
 * those itself (PEP 475), so it rarely reaches user code.
 */
export class InterruptedError extends OSError {}
/**
 * A timeout ran out: ETIMEDOUT, or a socket's own timeout
 * (`socket.settimeout()`), which gives `TimeoutError('timed out')` with no
 * errno, as in Python. Not JavaScript's DOMException TimeoutError.
 */
export class TimeoutError extends OSError {}
/** No such file or directory: ENOENT (a unix socket path that does not exist, say). */
export class FileNotFoundError extends OSError {}
/** Not allowed: EACCES, EPERM (binding a port below 1024 without the right, say). */
export class PermissionError extends OSError {}
/** The file exists already: EEXIST. */
export class FileExistsError extends OSError {}
/** A directory where a file was expected: EISDIR. */
export class IsADirectoryError extends OSError {}
/** Not a directory where one was expected: ENOTDIR. */
export class NotADirectoryError extends OSError {}
/** No child process: ECHILD (kept for Python's full hierarchy). */
export class ChildProcessError extends OSError {}
/** No such process: ESRCH (kept for Python's full hierarchy). */
export class ProcessLookupError extends OSError {}

/**
 * Python's socket.gaierror: resolving a host name failed (getaddrinfo()).
 * `errno` is the `EAI_*` code (negative on Linux, see `socket.EAI_NONAME`),
 * not an errno; `code` is its name ('EAI_NONAME').
 *
 * @example
 * ```ts
 * try {
 *   sock.connect(['no-such-host.invalid', 80]);
 * } catch (err) {
 *   if (err instanceof gaierror) console.log(err.code); // EAI_NONAME
 * }
 * ```
 */
export class gaierror extends OSError {
  /** As OSError's, with an `EAI_*` code for errno; `code` is left for the caller to name. */
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
