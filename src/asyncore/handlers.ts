// How a pass calls a channel's handlers: Python's read(), write(),
// _exception() and readwrite() (Lib/asyncore.py), with its rule that
// ExitNow propagates and every other error goes to handle_error().
import { constants as osConstants } from 'node:os';
import { describe, ESHUTDOWN, OSError, textOf } from '../errors';
import { checkInteger } from '../validate';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI } from '../constants';

const E = osConstants.errno;

/**
 * What a socket map may hold: a dispatcher, or any object with these
 * methods (duck typed, as in Python). A pass asks readable() and
 * writable() to build its interest set, then calls the *_event handlers.
 */
export interface Channel {
  /** Whether the pass should watch the channel for reading. */
  readable(): boolean;
  /** Whether the pass should watch the channel for writing. */
  writable(): boolean;
  /** A listening channel; the poll backends then watch it for reading only. */
  accepting?: boolean;
  /** The fd is readable (or, listening, has a connection to accept). */
  handle_read_event(): void;
  /** The fd is writable. */
  handle_write_event(): void;
  /** The fd has an exceptional condition (urgent data, or an error). */
  handle_expt_event(): void;
  /** The fd hung up or failed (POLLHUP, POLLERR, POLLNVAL), or a handler met a closed peer. */
  handle_close(): void;
  /** A handler threw `err` (anything but ExitNow). */
  handle_error(err: unknown): void;
}

/**
 * fd -> channel: the set of channels a loop serves. {@link socket_map} is
 * the default; a map of your own keeps a group of channels apart, and
 * loops over different maps run side by side.
 */
export type SocketMap = Map<number, Channel>;

/**
 * Throw it from a handler to stop loop(): the loop's Promise rejects with
 * it. Any other error goes to the channel's handle_error().
 *
 * @example
 * ```ts
 * class Once extends asyncore.dispatcher {
 *   override handle_read(): void {
 *     console.log(this.recv(100).toString());
 *     throw new asyncore.ExitNow();
 *   }
 * }
 * await asyncore.loop().catch((err) => { if (!(err instanceof asyncore.ExitNow)) throw err; });
 * ```
 */
export class ExitNow extends Error {
  /** ExitNow with `message` (any value, as Python's str() of it). */
  constructor(message?: unknown) {
    super(message === undefined ? undefined : textOf(message));
  }

  /** 'ExitNow'. */
  override get name(): string {
    return 'ExitNow';
  }
}

/**
 * Errors that mean the peer is gone: readwrite() and dispatcher.send()/recv()
 * turn them into handle_close() (Python's _DISCONNECTED).
 */
const DISCONNECTED: ReadonlySet<number> = new Set([
  E.ECONNRESET,
  E.ENOTCONN,
  ESHUTDOWN,
  E.ECONNABORTED,
  E.EPIPE,
  E.EBADF,
]);

export function isDisconnected(err: unknown): boolean {
  return err instanceof OSError && err.errno !== null && DISCONNECTED.has(err.errno);
}

/** Calls obj.handle_read_event(); an error other than ExitNow goes to obj.handle_error(). */
export function read(obj: Channel): void {
  checkChannel('read', obj, ['handle_read_event', 'handle_error']);
  try {
    obj.handle_read_event();
  } catch (err) {
    if (err instanceof ExitNow) throw err;
    obj.handle_error(err);
  }
}

/** Calls obj.handle_write_event(); an error other than ExitNow goes to obj.handle_error(). */
export function write(obj: Channel): void {
  checkChannel('write', obj, ['handle_write_event', 'handle_error']);
  try {
    obj.handle_write_event();
  } catch (err) {
    if (err instanceof ExitNow) throw err;
    obj.handle_error(err);
  }
}

/** Calls obj.handle_expt_event(); an error other than ExitNow goes to obj.handle_error(). */
export function _exception(obj: Channel): void {
  checkChannel('_exception', obj, ['handle_expt_event', 'handle_error']);
  try {
    obj.handle_expt_event();
  } catch (err) {
    if (err instanceof ExitNow) throw err;
    obj.handle_error(err);
  }
}

const CLOSE_FLAGS = POLLHUP | POLLERR | POLLNVAL;

const CHANNEL_HANDLERS = ['handle_read_event', 'handle_write_event', 'handle_expt_event', 'handle_close', 'handle_error'];

/**
 * obj has the handlers a call is about to use: Python would fail with an
 * AttributeError, this names the function, the handler and the value.
 */
function checkChannel(caller: string, obj: unknown, handlers: readonly string[]): void {
  if (typeof obj !== 'object' || obj === null) {
    throw new TypeError(`${caller}(): obj must be a channel (a dispatcher), not ${describe(obj)}`);
  }
  for (const handler of handlers) {
    if (typeof (obj as Record<string, unknown>)[handler] !== 'function') {
      throw new TypeError(`${caller}(): obj must be a channel with ${handler}(), not ${describe(obj)}`);
    }
  }
}

/**
 * Calls obj's handlers for poll() revents `flags` (POLL* or EPOLL* bits, as
 * a pass got them): read, write, expt, then handle_close() for
 * POLLHUP/POLLERR/POLLNVAL. A disconnection error goes to handle_close(),
 * ExitNow propagates, any other error to handle_error().
 */
export function readwrite(obj: Channel, flags: number): void {
  checkChannel('readwrite', obj, CHANNEL_HANDLERS);
  // EPOLLET is bit 31: either sign of a 32-bit mask.
  checkInteger('readwrite(): flags', flags, -(2 ** 31), 2 ** 32 - 1);
  try {
    if (flags & POLLIN) obj.handle_read_event();
    if (flags & POLLOUT) obj.handle_write_event();
    if (flags & POLLPRI) obj.handle_expt_event();
    if (flags & CLOSE_FLAGS) obj.handle_close();
  } catch (err) {
    handleReadwriteError(obj, err);
  }
}

/** Whether obj still holds fd in the map of the running pass. */
export interface PassView {
  holds(fd: number, obj: Channel): boolean;
}

/**
 * readwrite() as a pass runs it: the same handlers in the same order, but
 * once a handler has taken the channel off its fd (closed it), the rest of
 * the flags are not delivered (the gh-75114 rule; CPython would call
 * handle_close() a second time for POLLIN|POLLHUP after a recv() of b'').
 */
export function readwriteInPass(obj: Channel, flags: number, fd: number, pass: PassView): void {
  try {
    if (flags & POLLIN) obj.handle_read_event();
    if (flags & POLLOUT && pass.holds(fd, obj)) obj.handle_write_event();
    if (flags & POLLPRI && pass.holds(fd, obj)) obj.handle_expt_event();
    if (flags & CLOSE_FLAGS && pass.holds(fd, obj)) obj.handle_close();
  } catch (err) {
    handleReadwriteError(obj, err);
  }
}

function handleReadwriteError(obj: Channel, err: unknown): void {
  if (isDisconnected(err)) obj.handle_close();
  else if (err instanceof ExitNow) throw err;
  else obj.handle_error(err);
}
