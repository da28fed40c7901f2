// The waits of the socketserver module: "tell me when this fd can be read
// (or written), within this many seconds". Every wait of the process goes
// through one epoll Watcher (watcher.ts), whose waits run on Node's own
// event loop, which keeps running meanwhile; a wait's callback runs from
// the native callback that ends the epoll wait.
//
// Fds stay watched, edge-triggered, from their first wait until forget()
// (the socket of a request served alone, only while it is waited for):
// a reader that has just found its socket empty (EAGAIN, or a short read)
// waits with no system call at all (waitDry()), since any data that comes
// after that read is an edge epoll reports. An edge that comes while nobody
// waits is remembered, and the next dry wait reads again instead. Other
// waits (readable(), writable()) do not know what the fd holds: they
// watch it afresh, which reports it at once if it is ready.
//
// A socket served alone in its process (a forking server's child) may also
// wait a little on the JavaScript thread itself, as Python's child blocks
// in recv(): see childBlockingReadPolicy.
import { performance } from 'node:perf_hooks';
import { binding, PollerKind } from '../binding';
import { errorFromErrno } from '../errors';
import { POLLERR, POLLHUP, POLLIN, POLLOUT } from '../select';
import type { socket } from '../socket';
import { LongTimeout } from '../timer';
import { EDGE, Watcher } from '../watcher';

/** What every fd is watched for, for as long as it is watched. */
const WATCHED = POLLIN | POLLOUT | EDGE;

/**
 * How a read of the one request a forking server's child serves may wait
 * for data on the JavaScript thread itself, as Python's child blocks in
 * recv(). Each wait here lasts at most waitMs: on a blocking socket one
 * recv() whose wait the kernel bounds (SO_RCVTIMEO = waitMs, see
 * kernelWaitMs()); on a socket with a timeout, a poll() and a recv(). A
 * peer that answers within waitMs costs no turn of Node's event loop.
 *
 * While such waits hold the thread, every checkMs the child asks whether
 * the event loop has anything to run (binding.eventLoopHasWork(): a due
 * timer, an immediate, a ready fd, a message from another thread) and
 * gives it its turn when it has: Node's timers and I/O are held up for at
 * most checkMs plus one wait. Callbacks of process.nextTick(), which that
 * question cannot see, run at the latest after runMs (plus one wait): the
 * read then waits on the event loop once.
 *
 * The numbers were chosen by measurement: ForkingTCPServer line echo, 10
 * connections, 64-byte lines, CPU time of the server and its children per
 * round trip (and round trips/s), median of 3 alternating runs, two rounds
 * on a shared 2-core machine, with poll() and recv(): waitMs 0 (always
 * wait on the event loop) 37.8 / 55.4 us (36k / 26k rt/s); 1: 20.2 / 27.6
 * us (68k / 50k); 2: 20.3 / 28.9 us (65k / 46k); 4: 16.6 / 21.7 us (70k /
 * 61k); 8: 19.9 / 22.2 us (60k / 51k). The one blocking recv() in place of
 * poll() and recv(), same bench, CPU of the server and its children per
 * round trip, medians of 3 runs alternating with the poll() build: 18.5
 * against 25.6 us, and 26.4 against 33.5 us in a busier round (Python's
 * server: 18.7, 19.7); a bare child echoing on the addon: 13.5 against
 * 18.0 us. A turn costs the child far more than the work it saves, as its
 * code is cold by then. Same bench, medians of 5 or 6 alternating runs,
 * round trips/s and user CPU per round trip, against a turn every 4 ms
 * whether the loop had work or not: runMs 100, 72.1k / 4.36 us against
 * 65.8k / 5.02 us; in another round 70.7k / 4.38 against 65.8k / 4.72,
 * where runMs 32 gave 68.3k / 4.63; runMs 16, 61.3k / 4.87 against 71.1k /
 * 4.38 (a wait on the event loop costs more than a setImmediate() turn).
 * Python's server in those rounds: 78.3k-85.9k, 3.1-3.3 us.
 */
export const childBlockingReadPolicy = Object.freeze({ waitMs: 4, checkMs: 4, runMs: 100 });

/**
 * How a wait ends: ready true when the fd is readable (or writable; or has
 * an error or hang-up, which the call that follows reports), false after
 * the timeout or when the wait was given up (cancel(), forget()); or an
 * error when the pump itself failed. Called from the pump: it must not throw.
 */
export type WaitDone = (error: Error | null, ready: boolean) => void;

interface Waiter {
  done: WaitDone;
  timer: LongTimeout | null;
  /** A wait of a daemon request, which does not keep the process alive. */
  daemon: boolean;
}

/** What the pump needs of a socket it is told of: its fd, -1 once closed. */
interface Fileno {
  fileno(): number;
}

/** What one fd is waited for, and what epoll said of it while nobody waited. */
class FdWaits {
  readers: Waiter[] = [];
  writers: Waiter[] = [];
  /** Whether epoll watches this fd. */
  watched = false;
  /** The socket whose dry waits the watch serves; null: watched for fd-only waits. */
  owner: object | null = null;
  /** POLLIN, POLLOUT: that edge came while no reader (writer) waited. */
  edges = 0;
}

class IoPump {
  private watcher: Watcher | null = null;
  private readonly fds = new Map<number, FdWaits>();
  private waiting = 0;
  private running = false;
  /** The one request this process serves now, whose reads may wait on this thread; null: none. */
  private alone: object | null = null;
  /** performance.now() when the current run of waits on this thread began; -1: none since the event loop's last turn. */
  private runStarted = -1;
  /** performance.now() when that run last asked whether the event loop has work. */
  private checked = -1;
  /** The sockets of daemon requests, by fd: their waits do not keep the process alive. */
  private readonly daemons = new Map<number, Fileno>();
  /** How many waits keep the process alive: those not of a daemon request. */
  private held = 0;
  /** Whether the watcher's wait keeps the process alive now. */
  private referenced = true;

  /**
   * Resolves true when fd is readable (or has an error or hang-up, which the
   * read that follows reports), false after timeoutMs (null: never).
   */
  readable(fd: number, timeoutMs: number | null): Promise<boolean> {
    return this.promise(fd, true, timeoutMs);
  }

  /** As readable(), for writing. */
  writable(fd: number, timeoutMs: number | null): Promise<boolean> {
    return this.promise(fd, false, timeoutMs);
  }

  /**
   * Waits for sock's fd to become readable (reading) or writable, for a
   * caller that has just found it empty (full) through sock: done() once it
   * is, or after timeoutMs (null: never). Returns false, waiting for
   * nothing, when an edge came since: the caller tries again first.
   */
  waitDry(sock: object, fd: number, reading: boolean, timeoutMs: number | null, done: WaitDone): boolean {
    const waits = this.fds.get(fd);
    if (waits !== undefined && waits.watched && waits.owner === sock) {
      const edge = reading ? POLLIN : POLLOUT;
      if ((waits.edges & edge) !== 0) {
        waits.edges &= ~edge;
        return false;
      }
      this.add(fd, waits, reading, timeoutMs, done);
      return true;
    }
    this.wait(fd, reading, timeoutMs, sock, done);
    return true;
  }

  /**
   * Marks sock as a daemon request's, as Python's daemon threads are: its
   * waits, from now until it is closed, do not keep the process alive.
   */
  daemon(sock: Fileno): void {
    const fd = sock.fileno();
    if (fd >= 0) this.daemons.set(fd, sock);
  }

  /**
   * Ends every wait on fd with `false` and stops watching it: called
   * before the fd is closed, so that a new socket given the same number
   * starts clean.
   */
  forget(fd: number): void {
    const waits = this.fds.get(fd);
    this.daemons.delete(fd);
    if (waits === undefined) return;
    this.fds.delete(fd);
    if (this.watcher !== null && this.watcher.watchedFor(fd) !== 0) this.watcher.unwatch(fd);
    for (const waiter of [...waits.readers, ...waits.writers]) this.finish(waiter, null, false);
    this.maybeStop();
  }

  /**
   * Tells the pump that sock is the one request this process serves now
   * (null: none), as a forking server's child does: nothing else would use
   * the time, so its reads may wait briefly on this thread (waitHereMs()),
   * and the pump stays open meanwhile for the reads that wait longer.
   */
  serveAlone(sock: object | null): void {
    const previous = this.alone as Partial<socket> | null;
    if (previous !== sock) previous?._unboundKernelReads?.();
    this.alone = sock;
    if (sock === null) this.closeWhenIdle();
  }

  /**
   * For a read of sock that may wait here (waitHereMs() > 0): waitMs when
   * that wait may be one blocking recv() (binding.recvWithin()) that the
   * kernel ends after waitMs (sock._boundKernelReads(), once per request,
   * taken away by serveAlone() when the request ends); 0 when it must be
   * poll() and recv(), on a socket that is not blocking (a timeout) or has
   * an SO_RCVTIMEO of its own, set before the request or during it. The
   * handler's own blocking reads of the socket (request.recv()) still
   * wait until data comes.
   */
  kernelWaitMs(sock: socket): number {
    if (sock !== this.alone || sock.gettimeout() !== null) return 0;
    const bounded = sock._kernelReadBound || sock._boundKernelReads(childBlockingReadPolicy.waitMs);
    return bounded ? childBlockingReadPolicy.waitMs : 0;
  }

  /**
   * How long a read of sock that finds no data may block this thread
   * waiting for it, before it waits on the event loop instead: a peer that
   * answers within that time costs a poll() and no turn of the event loop.
   * 0 unless sock is served alone, while anything else waits on the pump
   * (a write for room, say), and when the event loop is to have its turn
   * (see childBlockingReadPolicy).
   */
  waitHereMs(sock: object): number {
    if (this.waiting > 0 || sock !== this.alone) return 0;
    const now = performance.now();
    if (this.runStarted < 0) {
      this.runStarted = now;
      this.checked = now;
    } else if (now - this.checked >= childBlockingReadPolicy.checkMs) {
      if (now - this.runStarted >= childBlockingReadPolicy.runMs || binding.eventLoopHasWork()) return 0;
      this.checked = now;
    }
    return childBlockingReadPolicy.waitMs;
  }

  /** Cancels one pending wait (ended with false); the serve loop's shutdown uses it. */
  cancel(fd: number, reading: boolean): void {
    const waits = this.fds.get(fd);
    if (waits === undefined) return;
    const list = reading ? waits.readers : waits.writers;
    for (const waiter of list.splice(0)) this.finish(waiter, null, false);
    this.maybeStop();
  }

  private promise(fd: number, reading: boolean, timeoutMs: number | null): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.wait(fd, reading, timeoutMs, null, (error, ready) => (error === null ? resolve(ready) : reject(error)));
    });
  }

  /** A wait that (re-)arms fd in epoll first, so that a ready fd is reported at once; throws what epoll_ctl() failed with. */
  private wait(fd: number, reading: boolean, timeoutMs: number | null, owner: object | null, done: WaitDone): void {
    let waits = this.fds.get(fd);
    if (waits === undefined) {
      waits = new FdWaits();
      this.fds.set(fd, waits);
    }
    this.open();
    try {
      this.arm(fd, waits);
    } catch (err) {
      this.closeWhenIdle();
      throw err;
    }
    waits.owner = owner;
    this.add(fd, waits, reading, timeoutMs, done);
  }

  private add(fd: number, waits: FdWaits, reading: boolean, timeoutMs: number | null, done: WaitDone): void {
    // The event loop has its turn before this wait ends.
    this.runStarted = -1;
    const waiter: Waiter = { done, timer: null, daemon: this.isDaemon(fd) };
    // An infinite timeout arms no timer: it is null's "never".
    if (timeoutMs !== null && timeoutMs !== Infinity) {
      waiter.timer = new LongTimeout(() => this.expire(fd, waiter, reading), timeoutMs);
      if (waiter.daemon) waiter.timer.unref();
    }
    (reading ? waits.readers : waits.writers).push(waiter);
    this.waiting += 1;
    if (!waiter.daemon) this.held += 1;
    this.start();
    this.holdWhileNeeded();
  }

  /** Whether fd is a daemon request's socket (still the one marked: a closed fd's number may come back). */
  private isDaemon(fd: number): boolean {
    const sock = this.daemons.get(fd);
    if (sock === undefined) return false;
    if (sock.fileno() === fd) return true;
    this.daemons.delete(fd);
    return false;
  }

  /** The watcher's wait keeps the process alive while a wait not of a daemon request runs. */
  private holdWhileNeeded(): void {
    const hold = this.held > 0;
    if (hold === this.referenced || this.watcher === null) return;
    this.referenced = hold;
    this.watcher.setReferenced(hold);
  }

  private expire(fd: number, waiter: Waiter, reading: boolean): void {
    waiter.timer = null;
    const waits = this.fds.get(fd);
    if (waits === undefined) return;
    const list = reading ? waits.readers : waits.writers;
    const index = list.indexOf(waiter);
    if (index < 0) return;
    list.splice(index, 1);
    this.finish(waiter, null, false);
    this.maybeStop();
  }

  private finish(waiter: Waiter, error: Error | null, ready: boolean): void {
    waiter.timer?.clear();
    waiter.timer = null;
    this.waiting -= 1;
    if (!waiter.daemon) {
      this.held -= 1;
      this.holdWhileNeeded();
    }
    waiter.done(error, ready);
  }

  /**
   * Watches fd afresh: a fd that is ready now is reported at the next
   * wait, edges or not, and what was remembered of it is forgotten. A
   * running wait takes the change (the watcher wakes it). A fd that is not
   * open fails here: the watcher would report it only once its wait ends.
   */
  private arm(fd: number, waits: FdWaits): void {
    const open = binding.getInheritable(fd);
    if (open < 0) throw errorFromErrno(-open);
    const watcher = this.watcher!;
    watcher.watch(fd, WATCHED, this.onReady, true);
    waits.watched = true;
    waits.edges = 0;
  }

  private open(): void {
    if (this.watcher !== null) return;
    this.watcher = new Watcher(PollerKind.epoll);
    this.referenced = true;
  }

  private start(): void {
    if (this.running) return;
    this.running = true;
    this.watcher!.wait(Infinity, this.onWaitEnded, this.onWoken);
  }

  private readonly onReady = (fd: number, revents: number): void => this.dispatch(fd, revents);

  /**
   * A wait ended by wake(): it goes on with the watches changed since
   * (arm()), or stops when nothing is waited for. The edges it took are
   * lost then, so every fd is watched afresh by its next wait.
   */
  private readonly onWoken = (): boolean => {
    if (this.waiting > 0) return false;
    for (const waits of this.fds.values()) waits.watched = false;
    return true;
  };

  /** The watcher has called back every ready fd (dispatch()), or failed. */
  private readonly onWaitEnded = (error: Error | null): void => {
    this.running = false;
    if (error !== null) {
      this.failAll(error);
      return;
    }
    if (this.waiting > 0) this.start();
    else this.closeWhenIdle();
  };

  /** The watcher itself failed: no wait can be served any more. */
  private failAll(error: Error): void {
    for (const [fd, waits] of this.fds) {
      this.fds.delete(fd);
      for (const waiter of [...waits.readers, ...waits.writers]) this.finish(waiter, error, false);
    }
    this.close();
  }

  /**
   * Idle: closes the watcher (its epoll fd) at the end of this turn, unless a wait
   * comes first (a request loop waits again at once) or a request served
   * alone may wait again soon.
   */
  private closeWhenIdle(): void {
    // serveAlone(null) comes back here.
    if (this.alone !== null) return;
    setImmediate(() => {
      if (!this.running && this.waiting === 0 && this.alone === null) this.close();
    });
  }

  /** Closes the watcher; the next wait makes a new one. */
  private close(): void {
    if (this.watcher === null) return;
    this.watcher.close();
    this.watcher = null;
    // Everything left here is idle; a new epoll object holds none of it.
    this.fds.clear();
  }

  private dispatch(fd: number, revents: number): void {
    const waits = this.fds.get(fd);
    if (waits === undefined) return;
    const failed = (revents & (POLLERR | POLLHUP)) !== 0;
    if (((revents & POLLIN) !== 0 || failed) && !this.wakeAll(waits.readers)) waits.edges |= POLLIN;
    if (((revents & POLLOUT) !== 0 || failed) && !this.wakeAll(waits.writers)) waits.edges |= POLLOUT;
    if (waits.owner !== null && waits.owner === this.alone) this.unwatchIdle(fd, waits);
  }

  /**
   * Stops watching fd until its next wait, when none runs now: the socket
   * of a request served alone, whose reads wait on this thread. Edges of
   * its data would stay in epoll meanwhile, and leave the watcher's fd
   * ready to Node's loop, as if that had work (binding.eventLoopHasWork()).
   */
  private unwatchIdle(fd: number, waits: FdWaits): void {
    if (waits.readers.length > 0 || waits.writers.length > 0 || this.watcher === null) return;
    if (this.watcher.watchedFor(fd) !== 0) this.watcher.unwatch(fd);
    waits.watched = false;
    waits.edges = 0;
  }

  /**
   * Ends the waits in list with ready (not those its callbacks start);
   * false when there were none. One waiter, the common case, takes no array.
   */
  private wakeAll(list: Waiter[]): boolean {
    if (list.length === 0) return false;
    if (list.length === 1) this.finish(list.pop()!, null, true);
    else for (const waiter of list.splice(0)) this.finish(waiter, null, true);
    return true;
  }

  /** Ends the pump's wait when nothing is waited for, so the process may exit. */
  private maybeStop(): void {
    if (this.waiting === 0 && this.running) this.watcher?.wake();
  }
}

/** The one pump of this process. */
export const io = new IoPump();

/** Seconds (null: none) to the pump's milliseconds. */
export function toTimeoutMs(seconds: number | null): number | null {
  return seconds === null ? null : seconds * 1000;
}
