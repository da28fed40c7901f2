// What every file descriptor the reactor watches has in common: a channel
// of the reactor's asyncore map (an asyncore dispatcher) whose interest is
// Twisted's reader and writer sets. startReading()/startWriting() are
// reactor.addReader()/addWriter(): they set what readable() and writable()
// answer, and tell the map's passes so that they ask again.
import { dispatcher } from '../asyncore';
import type { SocketMap } from '../asyncore';
import { channelChanged } from '../notify';
import { describe } from './describe';
import { Failure } from './failure';
import * as log from './log';

/**
 * What a selectable needs from the reactor: its map, the way events are
 * run (Twisted's _doReadOrWrite), and callLater for what is deferred to
 * the next turn.
 */
export interface SelectableReactor {
  /** The asyncore map the reactor's loop runs over. */
  readonly map: SocketMap;
  /** Runs a read or write event of `selectable` as Twisted does, and disconnects it on failure. */
  doReadOrWrite(selectable: Selectable, isRead: boolean): void;
  /** Disconnects `selectable` with `why` (an error, or a Failure). */
  disconnectSelectable(selectable: Selectable, why: unknown, isRead: boolean): void;
  /** Schedules a call, as reactor.callLater() does. */
  callLater(delay: number, fn: (...args: never[]) => unknown, ...args: unknown[]): { cancel(): void; active(): boolean };
}

/** `reactor` as a SelectableReactor, or a TypeError naming `where` and the value. */
export function checkReactor(where: string, reactor: unknown): SelectableReactor {
  const r = reactor as SelectableReactor | null;
  if (r === null || typeof r !== 'object' || !(r.map instanceof Map) || typeof r.callLater !== 'function' || typeof r.doReadOrWrite !== 'function') {
    throw new TypeError(`${where}(): needs the reactor, not ${describe(reactor)}`);
  }
  return r;
}

/**
 * A file descriptor watched by the reactor: Twisted's FileDescriptor
 * skeleton. Subclasses give doRead(), doWrite() and connectionLost().
 */
export abstract class Selectable extends dispatcher {
  /** The reactor that watches this descriptor. */
  readonly reactor: SelectableReactor;
  /** Whether the reactor reports read readiness (Twisted: in the reader set). */
  reading = false;
  /** Whether the reactor reports write readiness (Twisted: in the writer set). */
  writing = false;
  /** Set once connectionLost() has run. */
  disconnected = false;

  /** Makes the descriptor; it joins the reactor's map once it has a socket. */
  constructor(reactor: SelectableReactor) {
    super(null, checkReactor(new.target.name, reactor).map);
    this.reactor = reactor;
  }

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
    this.interestChanged();
  }

  /** Stops reporting read readiness (reactor.removeReader()). */
  stopReading(): void {
    if (!this.reading) return;
    this.reading = false;
    this.interestChanged();
  }

  /** Starts reporting write readiness (reactor.addWriter()). */
  startWriting(): void {
    if (this.writing) return;
    this.writing = true;
    this.interestChanged();
  }

  /** Stops reporting write readiness (reactor.removeWriter()). */
  stopWriting(): void {
    if (!this.writing) return;
    this.writing = false;
    this.interestChanged();
  }

  /** Tells a pass waiting over the map that readable()/writable() changed. */
  protected interestChanged(): void {
    // As the package's own channel methods do: wake(map, channel) less its argument checks.
    channelChanged(this._map, this);
  }

  /** Read interest is the reader set. */
  override readable(): boolean {
    return this.reading;
  }

  /** Write interest is the writer set. */
  override writable(): boolean {
    return this.writing;
  }

  /** A read event: doRead(), as the reactor runs it. */
  override handle_read_event(): void {
    this.reactor.doReadOrWrite(this, true);
  }

  /** A write event: doWrite(), as the reactor runs it. */
  override handle_write_event(): void {
    this.reactor.doReadOrWrite(this, false);
  }

  /** Out-of-band data is not read; Twisted ignores it too. */
  override handle_expt_event(): void {}

  /**
   * A hang-up or an error on the descriptor (POLLHUP, POLLERR). What is
   * still readable is read first, as Twisted's epoll reactor does when the
   * hang-up comes with POLLIN; otherwise the connection is lost.
   */
  override handle_close(): void {
    if (this.disconnected) return;
    this.onHangup();
  }

  /** What a hang-up does; by default, the descriptor's connection is lost. */
  protected onHangup(): void {
    this.reactor.disconnectSelectable(this, null, false);
  }

  /** An error the event handlers let through: logged, and the descriptor dropped. */
  override handle_error(err: unknown): void {
    logThrown(err);
    if (!this.disconnected) this.reactor.disconnectSelectable(this, err, false);
  }

  /** Leaves the reactor's map: no more events. */
  protected leaveMap(): void {
    this.reading = false;
    this.writing = false;
    this.del_channel();
  }

  /** "<ClassName fd=N>". */
  override toString(): string {
    return `<${this.constructor.name} fd=${this._fileno ?? -1}>`;
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
