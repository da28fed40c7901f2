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

interface PendingWait {
  resolve(outcome: WaitOutcome): void;
  reject(error: Error): void;
}

/** How one native wait ended: the number of pairs written (or -errno), and whether wake() ended it. */
export interface WaitOutcome {
  count: number;
  woken: boolean;
}

export class Poller {
  readonly kind: number;
  readonly fdSetSize: number;
  private readonly native: NativePoller;
  private pending: PendingWait | null = null;
  private closed = false;

  constructor(kind: number, nativeBinding: NativeBinding = defaultBinding) {
    this.kind = kind;
    this.fdSetSize = nativeBinding.FD_SETSIZE;
    // The callback reaches the pending wait through this object only, so
    // that whoever holds the Poller can be garbage collected.
    this.native = new nativeBinding.Poller(kind, (count, woken) => {
      const pending = this.pending;
      this.pending = null;
      pending?.resolve({ count, woken });
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

  /** One native wait of at most timeoutMs (-1: no limit). */
  waitOnce(timeoutMs: number, out: Int32Array): Promise<WaitOutcome> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(errorFromErrno(E.EBADF));
        return;
      }
      this.pending = { resolve, reject };
      const started = this.native.wait(Math.min(timeoutMs, MAX_WAIT_MS), out);
      if (started < 0) {
        this.pending = null;
        reject(errorFromErrno(-started));
      }
    });
  }

  /**
   * Waits until something is ready or `deadline` (performance.now() ms;
   * Infinity: none) has passed, in as many native waits as that takes:
   * a wait cut short by EINTR, or by a timeout longer than one native wait
   * can hold, goes on. A wait that wake() ended asks onWoken(count), whose
   * answer, unless 0, is returned; on 0 the wait goes on. Resolves to the
   * number of pairs in out() (> 0), 0 once the deadline has passed, or what
   * onWoken() returned.
   */
  async waitUntil(deadline: number, out: () => Int32Array, onWoken: (count: number) => number): Promise<number> {
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) return 0;
      const timeoutMs = left === Infinity ? -1 : Math.ceil(left);
      const { count, woken } = await this.waitOnce(timeoutMs, out());
      if (count < 0) {
        if (count === -E.EINTR) continue;
        throw errorFromErrno(-count);
      }
      if (woken) {
        const answer = onWoken(count);
        if (answer !== 0) return answer;
      } else if (count > 0) {
        return count;
      }
    }
  }

  /** Ends a running wait (it resolves as woken); safe at any time. */
  wake(): void {
    if (!this.closed) this.native.wake();
  }

  /** epoll: the epoll fd; -1 for the other kinds. */
  fileno(): number {
    return this.native.fileno();
  }

  /** Closes the native poller (its thread and fds). A wait still pending rejects with `error`. */
  close(error: Error = errorFromErrno(E.EBADF)): void {
    if (this.closed) return;
    this.closed = true;
    const pending = this.pending;
    this.pending = null;
    this.native.close();
    pending?.reject(error);
  }
}
