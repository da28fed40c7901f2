// The one way this package's front ends wait on file descriptors: asyncore's
// passes, socketserver's waits and Twisted's reactor each hold a Watcher and
// tell it which fds they want read or written; it calls them back per ready
// fd. It is libuv's uv__io_t table in miniature: a watch is a change queued
// for the native poller and handed over in one batch before the next poll or
// wait, and unwatch() takes effect at once, so that an fd about to be closed
// is never watched under a number the kernel may give to a new file.
//
// The native poller takes no change while a wait runs (select and poll: its
// worker thread owns the set; epoll: the batch is applied when a wait
// starts). A change made meanwhile, from a timer or a promise job, wakes the
// wait, which applies it and goes on; the client is not told of such wakes.
//
// Waits run where the native poller runs them (see poller.ts): on its worker
// thread for select and poll, on Node's loop for epoll. Callbacks run from
// the native callback that ends the wait, in the turn of Node's loop that
// saw the fds ready.
import { constants as osConstants } from 'node:os';
import { PollerKind } from './binding';
import type { NativeBinding } from './binding';
import { constant } from './constants';
import { errorFromErrno } from './errors';
import { grownInt32 } from './int32';
import { Poller } from './poller';

const E = osConstants.errno;

/** Or'ed into watch()'s events: report changes of readiness only (EPOLLET; the epoll kind only). */
export const EDGE = constant('EPOLLET') | 0;

/** The native poller's flag for a change whose fd may be another file: register it afresh. */
const FRESH = 1;

/** What a watch calls back with: the fd and what it is ready for (POLL* bits). */
export type OnReady = (fd: number, revents: number) => void;

/**
 * How a wait ends: an error (the poller failed, or a callback threw; the
 * fds after it were not called back), or the number of fds called back
 * (0: the deadline passed; -1: onWoken() ended the wait).
 */
export type WaitDone = (error: Error | null, count: number) => void;

/**
 * A client's view of each batch of callbacks (a pass): before the first,
 * the [fd, revents] pairs about to be called back; after the last, even
 * when a callback threw. Twisted's reactor reads and sends a pass's
 * sockets in one native call each from here.
 */
export interface PassHooks {
  passStarted(ready: Int32Array, count: number): void;
  passEnded(): void;
}

export class Watcher {
  readonly kind: number;
  private readonly poller: Poller;
  /** fd -> its callback; undefined while not watched. */
  private readonly callbacks: Array<OnReady | undefined> = [];
  /** fd -> the events the native poller holds or will hold for it (0: none). */
  private events = new Int32Array(64);
  /** How many fds are watched, for the size of a wait's results. */
  private watchedCount = 0;
  // The changes queued since the last batch; changeAt[fd] is fd's index + 1.
  private changeFds = new Int32Array(16);
  private changeEvents = new Int32Array(16);
  private changeFlags = new Int32Array(16);
  private changeCount = 0;
  private changeAt = new Int32Array(64);
  /** [fd, revents] pairs written by the native side. */
  private out = new Int32Array(64);
  private waitRunning = false;
  /** wake() was called during the running wait: its onWoken() runs. */
  private wakeAsked = false;
  /** The running wait was woken to apply changes. */
  private flushAsked = false;
  private passHooks: PassHooks | null = null;

  /** kind: a PollerKind (select, poll or epoll); nativeBinding: the addon, or a fake of it in tests. */
  constructor(kind: number, nativeBinding?: NativeBinding) {
    this.kind = kind;
    this.poller = new Poller(kind, nativeBinding);
  }

  /** Calls `hooks` around each batch of callbacks from now on (null: none). */
  setPassHooks(hooks: PassHooks | null): void {
    this.passHooks = hooks;
  }

  /** select(): the first fd number it cannot hold. */
  get fdSetSize(): number {
    return this.poller.fdSetSize;
  }

  /** Whether a wait is running (wake() would end it). */
  get waiting(): boolean {
    return this.waitRunning;
  }

  get isClosed(): boolean {
    return this.poller.isClosed;
  }

  /** The events fd is watched for (0: none). */
  watchedFor(fd: number): number {
    return fd < this.events.length ? this.events[fd]! : 0;
  }

  /**
   * Watches fd for `events` (POLLIN, POLLOUT, POLLPRI, or'ed with EDGE),
   * calling onReady(fd, revents) each time it is ready; replaces fd's watch,
   * and `events` 0 stops it. Handed to the native poller before the next
   * poll or wait. `fresh`: fd may be another file than the one watched
   * before under its number, which is registered afresh; an edge-triggered
   * fd that is ready now is then reported again.
   */
  watch(fd: number, events: number, onReady: OnReady, fresh = false): void {
    if (fd >= this.events.length) {
      this.events = grownInt32(this.events, fd + 1);
      this.changeAt = grownInt32(this.changeAt, fd + 1);
    }
    const was = this.events[fd]!;
    if (events !== 0) {
      while (this.callbacks.length <= fd) this.callbacks.push(undefined);
      this.callbacks[fd] = onReady;
      if (was === 0) this.watchedCount += 1;
    } else {
      if (was === 0) return;
      this.callbacks[fd] = undefined;
      this.watchedCount -= 1;
    }
    this.events[fd] = events;
    const at = this.changeAt[fd]!;
    if (at !== 0) {
      this.changeEvents[at - 1] = events;
      if (fresh) this.changeFlags[at - 1] = FRESH;
      return;
    }
    if (was === events && !fresh) return;
    const index = this.changeCount;
    if (index === this.changeFds.length) {
      this.changeFds = grownInt32(this.changeFds, index + 1);
      this.changeEvents = grownInt32(this.changeEvents, index + 1);
      this.changeFlags = grownInt32(this.changeFlags, index + 1);
    }
    this.changeFds[index] = fd;
    this.changeEvents[index] = events;
    this.changeFlags[index] = fresh ? FRESH : 0;
    this.changeCount = index + 1;
    this.changeAt[fd] = index + 1;
    if (this.waitRunning) this.askFlush();
  }

  /**
   * Stops watching fd now, before its file is closed: no callback for it
   * runs from the wait or dispatch in progress either.
   */
  unwatch(fd: number): void {
    if (fd >= this.events.length) return;
    const at = this.changeAt[fd]!;
    if (at !== 0) this.dropChange(at - 1);
    if (this.events[fd] !== 0) {
      this.events[fd] = 0;
      this.callbacks[fd] = undefined;
      this.watchedCount -= 1;
    }
    if (this.poller.isClosed) return;
    if (this.waitRunning && this.kind !== PollerKind.epoll) {
      // The worker's set still holds fd: it goes when the wait is woken.
      // A wait that sees it closed first reports POLLNVAL, which nobody
      // is called back for.
      this.queueRemoval(fd);
      return;
    }
    // epoll's set is the kernel's, changed at once even while Node's loop waits on it.
    const result = this.poller.forget(fd);
    if (result < 0 && result !== -E.EBADF && result !== -E.ENOENT) throw errorFromErrno(-result);
  }

  /**
   * Replaces the whole watch with fds[0..count) and their events, all
   * calling onReady back; select and poll report ready fds in this order.
   */
  watchOnly(fds: Int32Array, events: Int32Array, count: number, onReady: OnReady, flags?: Int32Array): void {
    this.changeCount = 0;
    for (let fd = 0; fd < this.callbacks.length; fd++) {
      this.callbacks[fd] = undefined;
      this.events[fd] = 0;
      this.changeAt[fd] = 0;
    }
    let last = 0;
    for (let i = 0; i < count; i++) last = Math.max(last, fds[i]!);
    if (last >= this.events.length) {
      this.events = grownInt32(this.events, last + 1);
      this.changeAt = grownInt32(this.changeAt, last + 1);
    }
    while (this.callbacks.length <= last) this.callbacks.push(undefined);
    for (let i = 0; i < count; i++) {
      this.events[fds[i]!] = events[i]!;
      this.callbacks[fds[i]!] = onReady;
    }
    this.watchedCount = count;
    this.poller.setInterest(fds, events, count, flags);
  }

  /** Hands the queued changes to the native poller, as one batch. */
  flush(): void {
    const count = this.changeCount;
    if (count === 0) return;
    this.changeCount = 0;
    for (let i = 0; i < count; i++) this.changeAt[this.changeFds[i]!] = 0;
    this.poller.setInterest(this.changeFds, this.changeEvents, count, this.changeFlags, true);
  }

  /** What is ready now, on this thread with no wait: calls back each ready fd; their number. */
  pollNow(): number {
    this.flush();
    this.fitOut();
    return this.dispatch(this.poller.pollNow(this.out));
  }

  /**
   * epoll: calls back POLLNVAL for watched fds that are no longer open (the
   * kernel forgets a closed fd without a word; poll(2) reports it so).
   * select and poll report those from their waits: 0.
   */
  reportClosed(): number {
    if (this.kind !== PollerKind.epoll) return 0;
    this.fitOut();
    return this.dispatch(this.poller.findClosed(this.out));
  }

  /**
   * Waits until a watched fd is ready or `deadline` (performance.now() ms;
   * Infinity: none) has passed, then calls back each ready fd and done().
   * wake() ends the wait: onWoken() runs first (it may change watches); if
   * it answers true the wait ends with done(null, -1), else fds that were
   * ready are called back, or the wait goes on with the changes made.
   */
  wait(deadline: number, done: WaitDone, onWoken: () => boolean = () => false): void {
    try {
      this.flush();
    } catch (err) {
      done(err as Error, 0);
      return;
    }
    this.fitOut();
    this.waitRunning = true;
    let stopped = false;
    this.poller.waitFor(
      deadline,
      () => this.out,
      (count) => {
        const asked = this.wakeAsked;
        this.wakeAsked = false;
        this.flushAsked = false;
        if (asked) {
          stopped = onWoken();
          if (stopped) return -1;
        }
        if (count > 0) return count;
        this.flush();
        this.fitOut();
        return 0;
      },
      (error, ready) => {
        this.waitRunning = false;
        this.wakeAsked = false;
        this.flushAsked = false;
        if (error !== null) {
          done(error, 0);
          return;
        }
        if (stopped) {
          done(null, -1);
          return;
        }
        let called: number;
        try {
          called = this.dispatch(ready);
        } catch (err) {
          done(err as Error, 0);
          return;
        }
        // Everything reported had been unwatched meanwhile (a select or
        // poll wait that saw an fd closed under it): nothing happened yet.
        if (called === 0 && ready > 0) {
          this.wait(deadline, done, onWoken);
          return;
        }
        done(null, called);
      },
    );
  }

  /** Ends a running wait (onWoken() then runs); safe at any time. */
  wake(): void {
    if (this.waitRunning) this.wakeAsked = true;
    this.poller.wake();
  }

  /** Whether waits keep the process alive (true, the default). */
  setReferenced(referenced: boolean): void {
    this.poller.setReferenced(referenced);
  }

  /** Closes the native poller; a wait still running ends with `error` (EBADF by default). */
  close(error?: Error): void {
    this.changeCount = 0;
    this.poller.close(error);
  }

  /**
   * Calls back the fds of `ready` pairs still watched: their number. A
   * callback that throws ends the dispatch: what it threw goes to the caller.
   */
  private dispatch(ready: number): number {
    const hooks = this.passHooks;
    if (hooks === null || ready <= 0) return this.callBack(ready);
    try {
      hooks.passStarted(this.out, ready);
      return this.callBack(ready);
    } finally {
      hooks.passEnded();
    }
  }

  private callBack(ready: number): number {
    const out = this.out;
    const callbacks = this.callbacks;
    let called = 0;
    for (let i = 0; i < ready; i++) {
      const fd = out[2 * i]!;
      const onReady = callbacks[fd];
      if (onReady === undefined) continue;
      called += 1;
      onReady(fd, out[2 * i + 1]!);
    }
    return called;
  }

  /** Wakes the running wait once, to apply the changes queued (not the client's wake()). */
  private askFlush(): void {
    if (this.flushAsked) return;
    this.flushAsked = true;
    this.poller.wake();
  }

  /** fd leaves the native set with the next batch. */
  private queueRemoval(fd: number): void {
    const index = this.changeCount;
    if (index === this.changeFds.length) {
      this.changeFds = grownInt32(this.changeFds, index + 1);
      this.changeEvents = grownInt32(this.changeEvents, index + 1);
      this.changeFlags = grownInt32(this.changeFlags, index + 1);
    }
    this.changeFds[index] = fd;
    this.changeEvents[index] = 0;
    this.changeFlags[index] = 0;
    this.changeCount = index + 1;
    this.changeAt[fd] = index + 1;
    this.askFlush();
  }

  private fitOut(): void {
    this.out = grownInt32(this.out, 2 * this.watchedCount + 2);
  }

  private dropChange(index: number): void {
    const last = this.changeCount - 1;
    this.changeAt[this.changeFds[index]!] = 0;
    if (index !== last) {
      const moved = this.changeFds[last]!;
      this.changeFds[index] = moved;
      this.changeEvents[index] = this.changeEvents[last]!;
      this.changeFlags[index] = this.changeFlags[last]!;
      this.changeAt[moved] = index + 1;
    }
    this.changeCount = last;
  }
}
