// What every file descriptor the reactor watches has in common: Twisted's
// abstract.FileDescriptor. startReading()/startWriting() put it in the
// reactor's reader and writer sets, which are the watch of its fd; the
// reactor calls doRead()/doWrite() back when the fd is ready, and
// disconnects it (connectionLost()) when one of them returns or throws an
// error, as Twisted's _doReadOrWrite() and _disconnectSelectable() do.
import { describe } from './describe';
import { CONNECTION_LOST } from './error';
import { Failure } from './failure';
import * as log from './log';
import type { PassIO, passIO } from './pass_io';

// The reactor's side of its descriptors, under symbols: plumbing between
// this module and the reactor, not names of Twisted's API.
/** reactor[addSelectable](selectable, fd): it has an open fd, and is one of the reactor's descriptors until removed. */
export const addSelectable = Symbol('addSelectable');
/** reactor[watchSelectable](selectable): its `reading`/`writing` changed, the watch of its fd follows. */
export const watchSelectable = Symbol('watchSelectable');
/** reactor[removeSelectable](selectable): its fd is about to be closed; no watch, no event, not a descriptor any more. */
export const removeSelectable = Symbol('removeSelectable');
/** selectable[hangUp](): its fd hung up or failed (POLLHUP, POLLERR, POLLNVAL). */
export const hangUp = Symbol('hangUp');
/** selectable[watchedFd]: the fd the reactor holds it under (-1: none). */
export const watchedFd = Symbol('watchedFd');

/**
 * What a file descriptor needs from the reactor: callLater for what is
 * deferred to the next turn, and the table of its descriptors (fd to
 * descriptor) with the watch of each fd.
 */
export interface SelectableReactor {
  /** Schedules a call, as reactor.callLater() does. */
  callLater(delay: number, fn: (...args: never[]) => unknown, ...args: unknown[]): { cancel(): void; active(): boolean };
  /** @internal */
  [addSelectable](selectable: FileDescriptor, fd: number): void;
  /** @internal */
  [watchSelectable](selectable: FileDescriptor): void;
  /** @internal */
  [removeSelectable](selectable: FileDescriptor): void;
  /** The batching of its passes' reads and writes, if it batches them. @internal */
  readonly [passIO]?: PassIO;
}

/** `reactor` as a SelectableReactor, or a TypeError naming `where` and the value. */
export function checkReactor(where: string, reactor: unknown): SelectableReactor {
  const r = reactor as SelectableReactor | null;
  if (
    r === null ||
    typeof r !== 'object' ||
    typeof r.callLater !== 'function' ||
    typeof r[addSelectable] !== 'function' ||
    typeof r[watchSelectable] !== 'function' ||
    typeof r[removeSelectable] !== 'function'
  ) {
    throw new TypeError(`${where}(): needs the reactor, not ${describe(reactor)}`);
  }
  return r;
}

/**
 * A file descriptor watched by the reactor: Twisted's FileDescriptor.
 * Subclasses give fileno(), doRead(), doWrite() and connectionLost().
 */
export abstract class FileDescriptor {
  /** The reactor that watches this descriptor. */
  readonly reactor: SelectableReactor;
  /** Whether it is connected (a port: listening), as Twisted sets it. */
  connected = false;
  /** Set once connectionLost() has run. */
  disconnected = false;
  /** Set while it is closing (loseConnection(), stopListening()). */
  disconnecting = false;
  /** Whether it is in the reactor's reader set. */
  reading = false;
  /** Whether it is in the reactor's writer set. */
  writing = false;
  /** The fd the reactor holds this descriptor under (-1: none). @internal */
  [watchedFd] = -1;

  /** A descriptor of `reactor`; subclasses register their fd once it is open. */
  constructor(reactor: SelectableReactor) {
    this.reactor = checkReactor(new.target.name, reactor);
  }

  /** The file descriptor (-1 once closed). */
  abstract fileno(): number;

  /** Called when the descriptor is readable. A truthy Error result disconnects it with that reason. */
  abstract doRead(): unknown;

  /** Called when the descriptor is writable; as doRead(). */
  abstract doWrite(): unknown;

  /** The descriptor is gone: clean up and tell whoever owns it. */
  abstract connectionLost(reason: Failure): void;

  /** The text that prefixes log lines about this descriptor. */
  logPrefix(): string {
    return this.constructor.name;
  }

  /** Starts reporting read readiness (reactor.addReader()). */
  startReading(): void {
    if (this.reading) return;
    this.reading = true;
    this.reactor[watchSelectable](this);
  }

  /** Stops reporting read readiness (reactor.removeReader()). */
  stopReading(): void {
    if (!this.reading) return;
    this.reading = false;
    this.reactor[watchSelectable](this);
  }

  /** Starts reporting write readiness (reactor.addWriter()). */
  startWriting(): void {
    if (this.writing) return;
    this.writing = true;
    this.reactor[watchSelectable](this);
  }

  /** Stops reporting write readiness (reactor.removeWriter()). */
  stopWriting(): void {
    if (!this.writing) return;
    this.writing = false;
    this.reactor[watchSelectable](this);
  }

  /**
   * A hang-up or an error on the descriptor (POLLHUP, POLLERR, POLLNVAL),
   * after what came with it was read: the connection is lost. Subclasses
   * read what is still readable first.
   * @internal
   */
  [hangUp](): void {
    disconnectSelectable(this, null);
  }

  /** Joins the reactor's descriptors under `fd`. */
  protected register(fd: number): void {
    this.reactor[addSelectable](this, fd);
  }

  /** Leaves the reactor's reader and writer sets and its descriptors, before the fd is closed. */
  protected unregister(): void {
    this.reading = false;
    this.writing = false;
    this.reactor[removeSelectable](this);
  }

  /** "<ClassName fd=N>". */
  toString(): string {
    return `<${this.constructor.name} fd=${this.fileno()}>`;
  }
}

/**
 * Makes a Failure of `why` unless it is one already. Anything may be
 * thrown: a value that is not an Error (a string, `undefined`) is wrapped
 * in an Error whose message shows it, as Twisted shows any exception.
 */
export function asFailure(why: unknown): Failure {
  if (why instanceof Failure) return why;
  if (why instanceof Error) return new Failure(why);
  return new Failure(new Error(typeof why === 'string' ? why : describe(why)));
}

/** Logs anything thrown by protocol or factory code, as log.err() logs an exception. */
export function logThrown(thrown: unknown, why: string | null = null): void {
  log.err(asFailure(thrown), why);
}

/**
 * Runs a read or write event of `selectable`, as Twisted's
 * _doReadOrWrite(): an Error or Failure returned or thrown disconnects it.
 * A function of this module, not a reactor method, so that only the
 * descriptors reach it and the per-event path checks nothing.
 */
export function doReadOrWrite(selectable: FileDescriptor, isRead: boolean): void {
  let why: unknown;
  try {
    why = isRead ? selectable.doRead() : selectable.doWrite();
  } catch (err) {
    // Anything thrown, an Error or not, is this descriptor's failure.
    why = asFailure(err);
    log.err(why);
  }
  if (why instanceof Error || why instanceof Failure) disconnectSelectable(selectable, why);
}

/** Drops `selectable` with `why` as the reason (null: the connection was lost), as Twisted's _disconnectSelectable(). */
export function disconnectSelectable(selectable: FileDescriptor, why: unknown): void {
  if (selectable.disconnected) return;
  selectable.stopReading();
  selectable.stopWriting();
  const reason = asFailure(why === null || why === undefined ? CONNECTION_LOST : why);
  try {
    selectable.connectionLost(reason);
  } catch (err) {
    logThrown(err);
  }
}
