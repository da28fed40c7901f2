// One native poller (select, poll or epoll) as the select module and
// asyncore's passes both use it: its interest set, a zero-timeout poll on
// this thread, and waits, one at a time, that return to the Node event loop
// meanwhile (on the poller's worker thread for select and poll; for epoll,
// on Node's own loop, which watches the epoll fd). Results are [fd, revents]
// pairs written into an Int32Array the caller owns.
import { constants as osConstants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { binding as defaultBinding } from './binding';
import type { NativeBinding, NativePoller } from './binding';
import { errorFromErrno } from './errors';

const E = osConstants.errno;

/** The longest single native wait (poll(2) takes an int); longer ones are waited out in pieces. */
export const MAX_WAIT_MS = 2 ** 31 - 1;

/**
 * CPython's ValueError for an fd that select() cannot hold (negative, or at
 * or above FD_SETSIZE), with advice on what to use instead.
 */
export function fdSetSizeError(fd: number, advice: string): RangeError {
  return new RangeError(`filedescriptor out of range in select(): ${fd} (${advice})`);
}

/**
 * How a wait ends (Poller.waitFor()): an error, or the number of pairs
 * written (> 0), 0 once the deadline passed, or what onWoken() answered.
 */
export type WaitDone = (error: Error | null, ready: number) => void;

export class Poller {
  readonly kind: number;
  readonly fdSetSize: number;
  private readonly native: NativePoller;
  /** What the native wait running now calls back: its result (count or -errno) and whether wake() ended it. */
  private pending: ((count: number, woken: boolean) => void) | null = null;
  /** The done() of the waitFor() that pending belongs to, for close(). */
  private pendingDone: WaitDone | null = null;
  private closed = false;

  constructor(kind: number, nativeBinding: NativeBinding = defaultBinding) {
    this.kind = kind;
    this.fdSetSize = nativeBinding.FD_SETSIZE;
    // The callback reaches the pending wait through this object only, so
    // that whoever holds the Poller can be garbage collected.
    this.native = new nativeBinding.Poller(kind, (count, woken) => {
      const pending = this.pending;
      this.pending = null;
      this.pendingDone = null;
      pending?.(count, woken);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * One batch of interest changes, for every kind: fds[i] wants events[i]
   * (0: nothing), flags[i] FRESH (1) when fds[i] may be another file than
   * the one watched before. The whole set (in the order waits report in),
   * or with `partial` only changes to it.
   */
  setInterest(fds: Int32Array, events: Int32Array, count: number, flags?: Int32Array, partial = false): void {
    const result = this.native.setInterest(fds, events, count, flags, partial);
    if (result < 0) throw errorFromErrno(-result);
  }

  /** Stops watching fd at once (its channel left it); 0 or -errno. */
  forget(fd: number): number {
    return this.native.forget(fd);
  }

  /** epoll, for Python's select.epoll objects: epoll_ctl(op, fd, events); 0 or -errno. */
  ctl(op: number, fd: number, events: number): number {
    return this.native.ctl(op, fd, events);
  }

  /** [fd, POLLNVAL] pairs in out for watched fds that are no longer open: their number. */
  findClosed(out: Int32Array): number {
    const result = this.native.findClosed(out);
    if (result < 0) throw errorFromErrno(-result);
    return result;
  }

  /** What is ready now, without waiting, on this thread: the number of pairs in out. */
  pollNow(out: Int32Array): number {
    const result = this.native.pollNow(out);
    if (result < 0) throw errorFromErrno(-result);
    return result;
  }

  /**
   * Waits until something is ready or `deadline` (performance.now() ms;
   * Infinity: none) has passed, in as many native waits as that takes:
   * a wait cut short by EINTR, or by a timeout longer than one native wait
   * can hold, goes on. A wait that wake() ended asks onWoken(count), whose
   * answer, unless 0, ends the wait; on 0 it goes on. done() gets the
   * number of pairs in out() (> 0), 0 once the deadline has passed, or
   * onWoken()'s answer; it is called from the native callback, so that the
   * caller runs its handlers in the same turn of Node's loop as the wake-up,
   * with no promise jobs in between.
   */
  waitFor(deadline: number, out: () => Int32Array, onWoken: (count: number) => number, done: WaitDone): void {
    const left = deadline - performance.now();
    if (left <= 0) {
      done(null, 0);
      return;
    }
    if (this.closed) {
      done(errorFromErrno(E.EBADF), 0);
      return;
    }
    const timeoutMs = left === Infinity ? -1 : Math.min(Math.ceil(left), MAX_WAIT_MS);
    this.pending = (count, woken) => {
      if (count === -E.EINTR) {
        this.waitFor(deadline, out, onWoken, done);
        return;
      }
      if (count < 0) {
        done(errorFromErrno(-count), 0);
        return;
      }
      if (woken) {
        let answer: number;
        try {
          answer = onWoken(count);
        } catch (err) {
          done(err as Error, 0);
          return;
        }
        if (answer !== 0) {
          done(null, answer);
          return;
        }
      } else if (count > 0) {
        done(null, count);
        return;
      }
      this.waitFor(deadline, out, onWoken, done);
    };
    this.pendingDone = done;
    const started = this.native.wait(timeoutMs, out());
    if (started < 0) {
      this.pending = null;
      this.pendingDone = null;
      done(errorFromErrno(-started), 0);
    }
  }

  /** waitFor() as a promise of its result. */
  waitUntil(deadline: number, out: () => Int32Array, onWoken: (count: number) => number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waitFor(deadline, out, onWoken, (error, ready) => (error === null ? resolve(ready) : reject(error)));
    });
  }

  /** Ends a running wait (its callback sees it as woken); safe at any time. */
  wake(): void {
    if (!this.closed) this.native.wake();
  }

  /** Whether a wait keeps the process alive (true, the default), for the wait running now and later ones. */
  setReferenced(referenced: boolean): void {
    if (!this.closed) this.native.setReferenced(referenced);
  }

  /** epoll: the epoll fd; -1 for the other kinds. */
  fileno(): number {
    return this.native.fileno();
  }

  /** Closes the native poller (its thread and fds). A wait still pending ends with `error`. */
  close(error: Error = errorFromErrno(E.EBADF)): void {
    if (this.closed) return;
    this.closed = true;
    const done = this.pendingDone;
    this.pending = null;
    this.pendingDone = null;
    this.native.close();
    done?.(error, 0);
  }
}
