// The waits of the socketserver module: "tell me when this fd can be read
// (or written), within this many seconds". Every wait of the process shares
// one select.epoll() object of this package, registered EPOLLONESHOT: arming
// a wait is one epoll_ctl(), and an event disarms itself, so a busy
// connection costs no extra system call to stop watching it. The epoll
// object's waits run on Node's own event loop, which keeps running meanwhile.
//
// epoll_ctl() takes effect even while a wait is running (epoll(7)), so a
// handler that arms a new wait never has to interrupt the one in progress;
// only a wait given up by a timer may leave the pump with nothing to wait
// for, and a byte on a self-pipe then ends its wait.
//
// A socket served alone in its process (a forking server's child) may also
// wait a little on the JavaScript thread itself, as Python's child blocks
// in recv(): see waitHereMs().
import { constants as osConstants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { binding } from '../binding';
import { constant } from '../constants';
import { errorFromErrno } from '../errors';
import { EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLONESHOT, EPOLLOUT, epoll } from '../select';
import type { EpollObject } from '../select';

const E = osConstants.errno;
const EPOLL_CTL_ADD = constant('EPOLL_CTL_ADD');
const EPOLL_CTL_DEL = constant('EPOLL_CTL_DEL');
const EPOLL_CTL_MOD = constant('EPOLL_CTL_MOD');

/** Most events taken from one epoll_wait(); more wait for the next. */
const MAX_EVENTS = 256;
/** Longest wait for data on the JavaScript thread, in ms. */
const WAIT_HERE_MS = 4;
/**
 * How long, in ms, reads may go on waiting on the JavaScript thread before
 * the event loop must have a turn: Node's timers and I/O are held up for at
 * most this plus one wait.
 */
const RUN_HERE_MS = 4;
/** waitHereMs(): the thread has been held long enough; turn() first. */
export const TURN_DUE = -1;

type Resolve = (ready: boolean) => void;

interface Waiter {
  resolve: Resolve;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | null;
}

/** What one fd is waited for. */
class FdWaits {
  readers: Waiter[] = [];
  writers: Waiter[] = [];
  /** Whether epoll holds this fd (armed or disarmed by ONESHOT). */
  added = false;
}

class IoPump {
  private ep: EpollObject | null = null;
  private readonly fds = new Map<number, FdWaits>();
  private waiting = 0;
  private running = false;
  private wakeRead = -1;
  private wakeWrite = -1;
  /** The one request this process serves now, whose reads may wait on this thread; null: none. */
  private alone: object | null = null;
  /** performance.now() when the current run of waits on this thread began; -1: none since the event loop's last turn. */
  private runStarted = -1;

  /**
   * Resolves true when fd is readable (or has an error or hang-up, which the
   * read that follows reports), false after timeoutMs (null: never).
   */
  readable(fd: number, timeoutMs: number | null): Promise<boolean> {
    return this.wait(fd, true, timeoutMs);
  }

  /** As readable(), for writing. */
  writable(fd: number, timeoutMs: number | null): Promise<boolean> {
    return this.wait(fd, false, timeoutMs);
  }

  /**
   * Ends every wait on fd with `false` and takes fd out of epoll: called
   * before the fd is closed, so that a new socket given the same number
   * starts clean.
   */
  forget(fd: number): void {
    const waits = this.fds.get(fd);
    if (waits === undefined) return;
    this.fds.delete(fd);
    if (waits.added) this.ctl(EPOLL_CTL_DEL, fd, 0);
    for (const waiter of [...waits.readers, ...waits.writers]) this.finish(waiter, false);
    this.maybeStop();
  }

  /**
   * Tells the pump that sock is the one request this process serves now
   * (null: none), as a forking server's child does: nothing else would use
   * the time, so its reads may wait briefly on this thread (waitHereMs()),
   * and the pump stays open meanwhile for the reads that wait longer.
   */
  serveAlone(sock: object | null): void {
    this.alone = sock;
    if (sock === null) this.closeWhenIdle();
  }

  /**
   * How long a read of sock that finds no data may block this thread
   * waiting for it, before it waits on the event loop instead: a peer that
   * answers within that time costs a poll() and no turn of the event loop.
   * 0 unless sock is served alone, and while anything else waits on the
   * pump (a write for room, say). TURN_DUE once such waits have gone on
   * for RUN_HERE_MS since the event loop's last turn.
   */
  waitHereMs(sock: object): number {
    if (this.waiting > 0 || sock !== this.alone) return 0;
    const now = performance.now();
    if (this.runStarted < 0) this.runStarted = now;
    else if (now - this.runStarted >= RUN_HERE_MS) return TURN_DUE;
    return WAIT_HERE_MS;
  }

  /** Resolves after one turn of the event loop (its timers and I/O included). */
  turn(): Promise<void> {
    return new Promise((resolve) =>
      setImmediate(() => {
        this.runStarted = -1;
        resolve();
      }),
    );
  }

  /** Cancels one pending wait (resolved false); the serve loop's shutdown uses it. */
  cancel(fd: number, reading: boolean): void {
    const waits = this.fds.get(fd);
    if (waits === undefined) return;
    const list = reading ? waits.readers : waits.writers;
    for (const waiter of list.splice(0)) this.finish(waiter, false);
    this.rearm(fd, waits);
    this.maybeStop();
  }

  private wait(fd: number, reading: boolean, timeoutMs: number | null): Promise<boolean> {
    // The event loop has its turn before this wait ends.
    this.runStarted = -1;
    return new Promise<boolean>((resolve, reject) => {
      let waits = this.fds.get(fd);
      if (waits === undefined) {
        waits = new FdWaits();
        this.fds.set(fd, waits);
      }
      const waiter: Waiter = { resolve, reject, timer: null };
      if (timeoutMs !== null) {
        waiter.timer = setTimeout(() => this.expire(fd, waiter, reading), Math.max(0, timeoutMs));
      }
      (reading ? waits.readers : waits.writers).push(waiter);
      this.waiting += 1;
      try {
        this.start();
        this.rearm(fd, waits);
      } catch (err) {
        this.remove(fd, waiter, reading);
        this.finish(waiter, false);
        reject(err as Error);
      }
    });
  }

  private expire(fd: number, waiter: Waiter, reading: boolean): void {
    waiter.timer = null;
    if (!this.remove(fd, waiter, reading)) return;
    this.finish(waiter, false);
    this.maybeStop();
  }

  /** Takes waiter off fd's list; false when it was not there any more. */
  private remove(fd: number, waiter: Waiter, reading: boolean): boolean {
    const waits = this.fds.get(fd);
    if (waits === undefined) return false;
    const list = reading ? waits.readers : waits.writers;
    const index = list.indexOf(waiter);
    if (index < 0) return false;
    list.splice(index, 1);
    return true;
  }

  private finish(waiter: Waiter, ready: boolean): void {
    if (waiter.timer !== null) clearTimeout(waiter.timer);
    waiter.timer = null;
    this.waiting -= 1;
    waiter.resolve(ready);
  }

  /** Arms fd in epoll for what it is still waited for. */
  private rearm(fd: number, waits: FdWaits): void {
    const events = (waits.readers.length > 0 ? EPOLLIN : 0) | (waits.writers.length > 0 ? EPOLLOUT : 0);
    if (events === 0) {
      // Disarmed already by ONESHOT or never armed: nothing to tell the kernel
      // unless it may still report the old interest.
      if (waits.added) this.ctl(EPOLL_CTL_MOD, fd, EPOLLONESHOT);
      return;
    }
    const mask = events | EPOLLONESHOT;
    let result = this.ctl(waits.added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, mask);
    // The kernel drops an fd from epoll when its last copy is closed, so a
    // number seen before may be gone (ENOENT) or back under a new socket
    // that was never forgotten (EEXIST).
    if (result === -E.ENOENT) result = this.ctl(EPOLL_CTL_ADD, fd, mask);
    else if (result === -E.EEXIST) result = this.ctl(EPOLL_CTL_MOD, fd, mask);
    if (result < 0) throw errorFromErrno(-result);
    waits.added = true;
  }

  /** epoll_ctl(): 0 or -errno. */
  private ctl(op: number, fd: number, events: number): number {
    const ep = this.ep!;
    try {
      if (op === EPOLL_CTL_ADD) ep.register(fd, events);
      else if (op === EPOLL_CTL_MOD) ep.modify(fd, events);
      else ep.unregister(fd);
      return 0;
    } catch (err) {
      const errno = (err as { errno?: unknown }).errno;
      if (typeof errno === 'number') return -errno;
      throw err;
    }
  }

  private start(): void {
    if (this.ep === null) {
      const ep = epoll();
      const fds = new Int32Array(2);
      const made = binding.pipe(fds);
      if (made < 0) {
        ep.close();
        throw errorFromErrno(-made);
      }
      this.wakeRead = fds[0];
      this.wakeWrite = fds[1];
      binding.setBlocking(this.wakeRead, false);
      binding.setBlocking(this.wakeWrite, false);
      ep.register(this.wakeRead, EPOLLIN);
      this.ep = ep;
    }
    if (this.running) return;
    this.running = true;
    void this.run();
  }

  private async run(): Promise<void> {
    const ep = this.ep!;
    try {
      while (this.waiting > 0) {
        const events = await ep.poll(-1, MAX_EVENTS);
        for (const [fd, revents] of events) {
          if (fd === this.wakeRead) {
            this.drainWake();
            continue;
          }
          this.dispatch(fd, revents);
        }
      }
    } catch (err) {
      // The epoll object itself failed: no wait can be served any more.
      for (const [fd, waits] of this.fds) {
        this.fds.delete(fd);
        for (const waiter of [...waits.readers, ...waits.writers]) {
          if (waiter.timer !== null) clearTimeout(waiter.timer);
          this.waiting -= 1;
          waiter.reject(err as Error);
        }
      }
    } finally {
      this.running = false;
    }
    // A wait armed after the loop saw none left, but before it ended.
    if (this.waiting > 0) {
      this.start();
      return;
    }
    this.closeWhenIdle();
  }

  /**
   * Idle: gives the epoll fd and the pipe back at the end of this turn,
   * unless a wait comes first (a request loop waits again at once) or a
   * request served alone may wait again soon.
   */
  private closeWhenIdle(): void {
    setImmediate(() => {
      if (!this.running && this.waiting === 0 && this.alone === null) this.close();
    });
  }

  /** Closes the epoll object and the pipe; the next wait makes new ones. */
  private close(): void {
    if (this.ep === null) return;
    this.ep.close();
    this.ep = null;
    binding.close(this.wakeRead);
    binding.close(this.wakeWrite);
    this.wakeRead = -1;
    this.wakeWrite = -1;
    // Everything left here is idle; a new epoll object holds none of it.
    this.fds.clear();
  }

  private dispatch(fd: number, revents: number): void {
    const waits = this.fds.get(fd);
    if (waits === undefined) return;
    const failed = (revents & (EPOLLERR | EPOLLHUP)) !== 0;
    if ((revents & EPOLLIN) !== 0 || failed) {
      for (const waiter of waits.readers.splice(0)) this.finish(waiter, true);
    }
    if ((revents & EPOLLOUT) !== 0 || failed) {
      for (const waiter of waits.writers.splice(0)) this.finish(waiter, true);
    }
    // ONESHOT disarmed fd: arm it again for whoever still waits.
    if (waits.readers.length > 0 || waits.writers.length > 0) this.rearm(fd, waits);
  }

  private drainWake(): void {
    const scratch = new Uint8Array(64);
    while (binding.read(this.wakeRead, scratch) > 0);
  }

  /** Ends the pump's wait when nothing is waited for, so the process may exit. */
  private maybeStop(): void {
    if (this.waiting === 0 && this.running) binding.write(this.wakeWrite, new Uint8Array(1));
  }
}

/** The one pump of this process. */
export const io = new IoPump();

/** Seconds (null: none) to the pump's milliseconds. */
export function toTimeoutMs(seconds: number | null): number | null {
  return seconds === null ? null : seconds * 1000;
}
