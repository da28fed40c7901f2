// How a pass calls a channel's handlers: Python's read(), write(),
// _exception() and readwrite() (Lib/asyncore.py), with its rule that
// ExitNow propagates and every other error goes to handle_error().
import { constants as osConstants } from 'node:os';
import { describe, ESHUTDOWN, OSError } from '../errors';
import { checkInteger } from '../validate';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI } from '../select';

const E = osConstants.errno;

/** What a map may hold (duck typed, as in Python). */
export interface Channel {
  readable(): boolean;
  writable(): boolean;
  accepting?: boolean;
  handle_read_event(): void;
  handle_write_event(): void;
  handle_expt_event(): void;
  handle_close(): void;
  handle_error(err: unknown): void;
}

/** fd -> channel. */
export type SocketMap = Map<number, Channel>;

/** Thrown by a handler to stop loop(): it rejects the loop's promise. */
export class ExitNow extends Error {
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

export function read(obj: Channel): void {
  try {
    obj.handle_read_event();
  } catch (err) {
    if (err instanceof ExitNow) throw err;
    obj.handle_error(err);
  }
}

export function write(obj: Channel): void {
  try {
    obj.handle_write_event();
  } catch (err) {
    if (err instanceof ExitNow) throw err;
    obj.handle_error(err);
  }
}

export function _exception(obj: Channel): void {
  try {
    obj.handle_expt_event();
  } catch (err) {
    if (err instanceof ExitNow) throw err;
    obj.handle_error(err);
  }
}

const CLOSE_FLAGS = POLLHUP | POLLERR | POLLNVAL;

/** Python's readwrite(obj, flags): flags in POLL* or EPOLL* bits, as a pass got them. */
export function readwrite(obj: Channel, flags: number): void {
  if (typeof obj !== 'object' || obj === null) {
    throw new TypeError(`readwrite() obj must be a channel (a dispatcher), not ${describe(obj)}`);
  }
  // EPOLLET is bit 31: either sign of a 32-bit mask.
  checkInteger('flags', flags, -(2 ** 31), 2 ** 32 - 1);
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
