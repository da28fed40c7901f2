/**
 * Python's select module: {@link select}, {@link poll} objects and
 * {@link epoll} objects, and their constants. The entry point
 * `asyncore/select`, also `select` in the package root.
 *
 * Differs from Python: every wait returns a Promise, and runs off the
 * JavaScript thread (on a native worker, or for epoll on Node's own loop),
 * so timers, Node's sockets and promises keep running meanwhile.
 *
 * @see {@link https://docs.python.org/3.11/library/select.html | Python 3.11's select documentation}
 * @module
 */
// Python's select module: select(), poll objects and epoll objects, on the
// package's Poller (src/poller.ts). A wait that may block returns to the
// Node event loop meanwhile; what is ready already is found by pollNow() on
// this thread, without a wait. Behaviour follows CPython 3.11
// Modules/selectmodule.c.
import { constants as osConstants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { binding as defaultBinding, PollerKind } from './binding';
import type { NativeBinding } from './binding';
import { constant } from './constants';
import { check, describe, errorFromErrno, textOf } from './errors';
import { fdSetSizeError, MAX_WAIT_MS, Poller } from './poller';
import { checkInteger, checkTimeout, toFd } from './validate';

const E = osConstants.errno;
const C = defaultBinding.constants;

/** poll(): there is data to read. */
export const POLLIN = C.POLLIN;
/** poll(): there is urgent data to read (TCP out-of-band). */
export const POLLPRI = C.POLLPRI;
/** poll(): writing will not block. */
export const POLLOUT = C.POLLOUT;
/** poll(), in revents only: an error condition on the fd. */
export const POLLERR = C.POLLERR;
/** poll(), in revents only: hang-up (the peer closed, or the fd was shut down). */
export const POLLHUP = C.POLLHUP;
/** poll(), in revents only: the fd is not open. */
export const POLLNVAL = C.POLLNVAL;
/** poll(): normal data to read (Linux: as POLLIN). */
export const POLLRDNORM = C.POLLRDNORM;
/** poll(): priority-band data to read. */
export const POLLRDBAND = C.POLLRDBAND;
/** poll(): writing normal data will not block (Linux: as POLLOUT). */
export const POLLWRNORM = C.POLLWRNORM;
/** poll(): priority-band data may be written. */
export const POLLWRBAND = C.POLLWRBAND;
/** poll(): the peer closed its end or shut down writing (Linux). */
export const POLLRDHUP = C.POLLRDHUP;

/** epoll: there is data to read. */
export const EPOLLIN = C.EPOLLIN;
/** epoll: writing will not block. */
export const EPOLLOUT = C.EPOLLOUT;
/** epoll: there is urgent data to read. */
export const EPOLLPRI = C.EPOLLPRI;
/** epoll, in events only: an error condition on the fd. */
export const EPOLLERR = C.EPOLLERR;
/** epoll, in events only: hang-up. */
export const EPOLLHUP = C.EPOLLHUP;
/** epoll: edge-triggered (report a change once, not while the condition lasts). */
export const EPOLLET = C.EPOLLET;
/** epoll: report one event, then disable the fd until modify(). */
export const EPOLLONESHOT = C.EPOLLONESHOT;
/** epoll: wake one of several epoll fds waiting on the same fd (register() only). */
export const EPOLLEXCLUSIVE = C.EPOLLEXCLUSIVE;
/** epoll: the peer closed its end or shut down writing. */
export const EPOLLRDHUP = C.EPOLLRDHUP;
/** epoll: as POLLRDNORM. */
export const EPOLLRDNORM = C.EPOLLRDNORM;
/** epoll: as POLLRDBAND. */
export const EPOLLRDBAND = C.EPOLLRDBAND;
/** epoll: as POLLWRNORM. */
export const EPOLLWRNORM = C.EPOLLWRNORM;
/** epoll: as POLLWRBAND. */
export const EPOLLWRBAND = C.EPOLLWRBAND;
/** epoll: unused by Linux; kept for Python's list. */
export const EPOLLMSG = C.EPOLLMSG;
/** epoll_create1(2)'s only flag; the addon always sets it (fds are close-on-exec). */
export const EPOLL_CLOEXEC = C.EPOLL_CLOEXEC;

/** An fd, or an object that has one (Python's PyObject_AsFileDescriptor). */
export type Waitable =
  | number
  | {
      /** The fd to wait on. */
      fileno(): number;
    };

const EPOLL_CTL_ADD = constant('EPOLL_CTL_ADD');
const EPOLL_CTL_DEL = constant('EPOLL_CTL_DEL');
const EPOLL_CTL_MOD = constant('EPOLL_CTL_MOD');

/** Idle pollers kept per kind: each holds a thread and a wake-up fd. */
const MAX_IDLE_POLLERS = 4;

/**
 * Python's KeyError (poll.unregister() of an fd that is not registered).
 * JavaScript has no KeyError; this is a RangeError (the value is not among
 * the allowed ones) whose name says what Python would have raised.
 */
export class KeyError extends RangeError {
  /** A KeyError for `key` (any value, as Python's str() of it). */
  constructor(key?: unknown) {
    super(key === undefined ? undefined : textOf(key));
  }

  /** 'KeyError', as Python prints it. */
  override get name(): string {
    return 'KeyError';
  }
}

/**
 * Collects ready fds into `out` as [fd, revents] pairs and returns their
 * count: at once when something is ready or timeoutMs is 0, else within
 * timeoutMs (null: no limit). A wait that ends early without events (woken,
 * EINTR) waits out the rest, as CPython does after EINTR (PEP 475).
 */
async function collect(poller: Poller, timeoutMs: number | null, out: Int32Array): Promise<number> {
  const ready = poller.pollNow(out);
  if (ready > 0 || timeoutMs === 0) return ready;
  const deadline = timeoutMs === null ? Infinity : performance.now() + timeoutMs;
  return poller.waitUntil(deadline, () => out, (count) => count);
}

/**
 * Idle select and poll pollers, reused across calls: a poller costs a
 * thread, and calls that run at the same time each need their own. Idle
 * pollers do not keep the process alive (the addon refs the loop only while
 * a wait runs).
 */
class PollerPool {
  private readonly idle: Poller[] = [];

  constructor(
    private readonly kind: number,
    private readonly nativeBinding: NativeBinding,
  ) {}

  acquire(): Poller {
    return this.idle.pop() ?? new Poller(this.kind, this.nativeBinding);
  }

  release(poller: Poller): void {
    if (this.idle.length < MAX_IDLE_POLLERS) this.idle.push(poller);
    else poller.close();
  }

  closeIdle(): void {
    for (const poller of this.idle.splice(0)) poller.close();
  }

  /** Sets the interest set, collects, and gives the poller back. */
  async run(fds: Int32Array, events: Int32Array, timeoutMs: number | null): Promise<Int32Array> {
    const poller = this.acquire();
    try {
      poller.setInterest(fds, events, fds.length);
      const out = new Int32Array(Math.max(2, 2 * fds.length));
      const count = await collect(poller, timeoutMs, out);
      return out.subarray(0, 2 * count);
    } finally {
      this.release(poller);
    }
  }
}

/** Python's seq2set(): the fds of one list, with the objects as given. */
function readList<T>(value: T[], fdSetSize: number): Array<{ item: T; fd: number }> {
  if (!Array.isArray(value)) {
    throw new TypeError(`select(): arguments 1-3 must be arrays, not ${describe(value)}`);
  }
  const entries: Array<{ item: T; fd: number }> = [];
  // The length is read at each step, as CPython does: a fileno() that
  // shortens the list ends the walk early (test_select_mutated).
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    let fd: unknown = item;
    if (typeof item === 'object' && item !== null && typeof (item as { fileno?: unknown }).fileno === 'function') {
      fd = (item as { fileno(): unknown }).fileno();
    }
    if (typeof fd !== 'number' || !Number.isInteger(fd)) {
      throw new TypeError(`select(): argument must be an int, or have a fileno() method, not ${describe(item)}`);
    }
    if (fd < 0 || fd >= fdSetSize) {
      throw fdSetSizeError(fd, `select() takes 0 to ${fdSetSize - 1}; use poll() or epoll() for higher fds`);
    }
    entries.push({ item: item as T, fd });
  }
  return entries;
}

/** select()'s timeout in seconds: null for none, else milliseconds. */
function selectTimeoutMs(timeout: unknown): number | null {
  const seconds = checkTimeout('select(): timeout', timeout);
  return seconds === null ? null : seconds * 1000;
}

/**
 * A timeout in milliseconds for poll.poll() and epoll.poll(): null or
 * negative waits forever, as in CPython (which rounds away from zero, so
 * even -1e-100 blocks); at most INT_MAX ms, as poll(2) takes an int.
 */
function pollTimeoutMs(caller: string, timeoutMs: unknown): number | null {
  if (timeoutMs === null || timeoutMs === undefined) return null;
  if (typeof timeoutMs !== 'number') {
    throw new TypeError(`${caller}(): timeout must be a number or null, not ${describe(timeoutMs)}`);
  }
  if (Number.isNaN(timeoutMs)) throw new RangeError(`${caller}(): timeout must be a number, got NaN`);
  if (timeoutMs < 0) return null;
  const ms = Math.ceil(timeoutMs);
  if (ms > MAX_WAIT_MS) throw new RangeError(`${caller}(): timeout is too large: ${describe(timeoutMs)}`);
  return ms;
}

function checkEventMask(caller: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${caller}(): eventmask must be an integer, not ${describe(value)}`);
  }
  if (value < 0) throw new RangeError(`${caller}(): eventmask must be positive, got ${describe(value)}`);
  if (value > max) throw new RangeError(`${caller}(): eventmask is too large for poll (at most ${max}), got ${value}`);
  return value;
}

/** Only select.poll() makes poll objects (CPython: type(select.poll())() is a TypeError). */
const POLL_FACTORY = Symbol('select.poll');

/**
 * Python's poll object, made by {@link poll}: a set of fds and the events
 * to watch on each, waited on with poll(). Registrations live here; each
 * poll() borrows a pooled native poller.
 *
 * @example
 * ```ts
 * const p = select.poll();
 * p.register(sock, select.POLLIN);
 * for (const [fd, revents] of await p.poll(1000)) console.log(fd, revents & select.POLLIN);
 * ```
 */
class Poll {
  /** fd -> eventmask, in registration order as Python's dict keeps it. */
  readonly #registered = new Map<number, number>();
  #running = false;
  private readonly pool: PollerPool;

  /**
   * Made by {@link poll}; anything else is a TypeError.
   * @internal
   */
  constructor(pool: PollerPool, factory: typeof POLL_FACTORY) {
    if (factory !== POLL_FACTORY) throw new TypeError("cannot create 'select.poll' instances; call select.poll()");
    this.pool = pool;
  }

  /**
   * Watches fd (a number, or an object with fileno()) for `eventmask`
   * (default POLLIN | POLLPRI | POLLOUT); registering it again changes the
   * mask.
   */
  register(fd: Waitable, eventmask: number = POLLIN | POLLPRI | POLLOUT): void {
    const key = toFd('register', fd);
    this.#registered.set(key, checkEventMask('register', eventmask, 0xffff));
  }

  /** Changes the mask of a registered fd; one not registered is FileNotFoundError (ENOENT), as in Python. */
  modify(fd: Waitable, eventmask: number): void {
    const key = toFd('modify', fd);
    const mask = checkEventMask('modify', eventmask, 0xffff);
    // CPython sets errno = ENOENT and raises OSError (FileNotFoundError).
    if (!this.#registered.has(key)) throw errorFromErrno(E.ENOENT);
    this.#registered.set(key, mask);
  }

  /** Stops watching fd; one not registered is a {@link KeyError}. */
  unregister(fd: Waitable): void {
    const key = toFd('unregister', fd);
    if (!this.#registered.delete(key)) throw new KeyError(`fd ${key} is not registered`);
  }

  /**
   * Waits at most `timeout` milliseconds (null, undefined or negative: no
   * limit) for a registered fd to be ready; resolves to [fd, revents] pairs.
   * Changes made while a poll() waits apply to the next one, as in Python.
   */
  async poll(timeout?: number | null): Promise<Array<[number, number]>> {
    const timeoutMs = pollTimeoutMs('poll', timeout);
    if (this.#running) throw new Error('concurrent poll() invocation');
    const fds = Int32Array.from(this.#registered.keys());
    const events = Int32Array.from(this.#registered.values());
    this.#running = true;
    try {
      return pairs(await this.pool.run(fds, events, timeoutMs), 0xffff);
    } finally {
      this.#running = false;
    }
  }

  /** "<select.poll object, N fds registered>". */
  toString(): string {
    return `<select.poll object, ${this.#registered.size} fds registered>`;
  }
}

function pairs(out: Int32Array, mask: number): Array<[number, number]> {
  const result: Array<[number, number]> = [];
  for (let i = 0; i < out.length; i += 2) result.push([out[i], (out[i + 1] & mask) >>> 0]);
  return result;
}

function closedEpoll(): RangeError {
  return new RangeError('I/O operation on closed epoll object');
}

/** Closes the epoll fd of an epoll object dropped without close(), as CPython's dealloc does. */
const epollFinalizer = new FinalizationRegistry<Poller>((poller) => poller.close(closedEpoll()));

/**
 * Python's epoll object, made by {@link epoll}: a kernel epoll set. Each
 * object owns an epoll fd; close() it when done (one dropped unclosed is
 * closed when garbage collected).
 *
 * @example
 * ```ts
 * const ep = select.epoll();
 * ep.register(sock.fileno(), select.EPOLLIN);
 * const events = await ep.poll(1); // [[fd, EPOLLIN], ...] within 1 s
 * ep.close();
 * ```
 */
class Epoll {
  #poller: Poller | null;
  readonly #fdSetSize: number;
  readonly #maxEvents: number;
  #polling = false;

  /**
   * Made by {@link epoll}.
   * @internal
   */
  constructor(sizehint: number, flags: number, nativeBinding: NativeBinding) {
    checkInteger('epoll(): sizehint', sizehint);
    checkInteger('epoll(): flags', flags);
    if (sizehint !== -1 && sizehint <= 0) {
      throw new RangeError(`epoll(): sizehint must be positive or -1, got ${sizehint}`);
    }
    if (flags !== 0 && flags !== EPOLL_CLOEXEC) throw errorFromErrno(E.EINVAL);
    this.#fdSetSize = nativeBinding.FD_SETSIZE;
    this.#maxEvents = nativeBinding.EPOLL_MAX_EVENTS;
    this.#poller = new Poller(PollerKind.epoll, nativeBinding);
    epollFinalizer.register(this, this.#poller, this);
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.#poller === null;
  }

  /** The epoll fd itself; it is readable while any registered fd is ready. */
  fileno(): number {
    return this.#open().fileno();
  }

  /** Closes the epoll fd; a poll() still waiting rejects. Idempotent. */
  close(): void {
    const poller = this.#poller;
    if (poller === null) return;
    this.#poller = null;
    epollFinalizer.unregister(this);
    poller.close(closedEpoll());
  }

  /**
   * Adds fd with `eventmask` (default EPOLLIN | EPOLLPRI | EPOLLOUT);
   * an fd already registered is FileExistsError (EEXIST), as the kernel says.
   */
  register(fd: Waitable, eventmask: number = EPOLLIN | EPOLLPRI | EPOLLOUT): void {
    this.#ctl('register', EPOLL_CTL_ADD, fd, eventmask);
  }

  /** Changes the mask of a registered fd; one not registered is FileNotFoundError (ENOENT). */
  modify(fd: Waitable, eventmask: number): void {
    this.#ctl('modify', EPOLL_CTL_MOD, fd, eventmask);
  }

  /** Removes fd; one not registered is FileNotFoundError (ENOENT). */
  unregister(fd: Waitable): void {
    const key = toFd('unregister', fd);
    check(this.#open().ctl(EPOLL_CTL_DEL, key, 0));
  }

  /**
   * Waits at most `timeout` seconds (null, undefined or negative: no limit)
   * for events; resolves to at most `maxevents` [fd, events] pairs (-1:
   * FD_SETSIZE - 1, as CPython). One poll() at a time per epoll object: the
   * object runs one wait at a time (Python would let threads share it).
   */
  async poll(timeout: number | null = -1, maxevents = -1): Promise<Array<[number, number]>> {
    // CPython checks for a closed object first, then the arguments.
    const poller = this.#open();
    let timeoutMs: number | null = null;
    if (timeout !== null && timeout !== undefined) {
      if (typeof timeout !== 'number') {
        throw new TypeError(`poll(): timeout must be a number of seconds or null, not ${describe(timeout)}`);
      }
      // CPython rounds seconds up to milliseconds first (so -0.0001 s is
      // 0 ms, no wait); what is still negative then waits forever.
      timeoutMs = pollTimeoutMs('poll', Math.ceil(timeout * 1000) + 0);
    }
    checkInteger('poll(): maxevents', maxevents);
    if (maxevents === -1) maxevents = this.#fdSetSize - 1;
    else if (maxevents < 1) throw new RangeError(`poll(): maxevents must be greater than 0, got ${maxevents}`);
    // Refused up front: the kernel would, after the buffer was allocated.
    else if (maxevents > this.#maxEvents) {
      throw new RangeError(`poll(): maxevents must be at most ${this.#maxEvents} (epoll_wait's limit), got ${maxevents}`);
    }
    if (this.#polling) throw new Error('concurrent poll() invocation on one epoll object');
    const out = new Int32Array(2 * maxevents);
    this.#polling = true;
    try {
      return pairs(out.subarray(0, 2 * (await collect(poller, timeoutMs, out))), 0xffffffff);
    } finally {
      this.#polling = false;
    }
  }

  /** "<select.epoll object fd=N>", or "(closed)". */
  toString(): string {
    return this.#poller === null ? '<select.epoll object (closed)>' : `<select.epoll object fd=${this.fileno()}>`;
  }

  #open(): Poller {
    if (this.#poller === null) throw closedEpoll();
    return this.#poller;
  }

  #ctl(caller: string, op: number, fd: Waitable, eventmask: number): void {
    const key = toFd(caller, fd);
    // CPython takes the mask bitwise (unsigned int), so -1 reaches the kernel,
    // which refuses it with EINVAL.
    checkInteger(`${caller}(): eventmask`, eventmask, -(2 ** 31), 2 ** 32 - 1);
    check(this.#open().ctl(op, key, eventmask | 0));
  }
}

/**
 * select, poll and epoll over one binding. The package's functions use the
 * real addon; tests build one over a fake to drive the worker's edge cases.
 * @internal
 */
export class SelectModule {
  private readonly selectPool: PollerPool;
  private readonly pollPool: PollerPool;

  /** A module over `nativeBinding` (default: the addon). */
  constructor(private readonly nativeBinding: NativeBinding = defaultBinding) {
    if (typeof (nativeBinding as { Poller?: unknown } | null)?.Poller !== 'function') {
      throw new TypeError(`SelectModule(): nativeBinding must be the addon's binding, not ${describe(nativeBinding)}`);
    }
    this.selectPool = new PollerPool(PollerKind.select, nativeBinding);
    this.pollPool = new PollerPool(PollerKind.poll, nativeBinding);
  }

  /** As the module's {@link select}. */
  async select<T extends Waitable>(rlist: T[], wlist: T[], xlist: T[], timeout?: number | null): Promise<[T[], T[], T[]]> {
    const timeoutMs = selectTimeoutMs(timeout);
    const size = this.nativeBinding.FD_SETSIZE;
    const lists = [readList(rlist, size), readList(wlist, size), readList(xlist, size)];
    // One interest entry per fd, whichever lists it is in.
    const bits = [POLLIN, POLLOUT, POLLPRI];
    const interest = new Map<number, number>();
    lists.forEach((entries, i) => {
      for (const { fd } of entries) interest.set(fd, (interest.get(fd) ?? 0) | bits[i]);
    });
    const fds = Int32Array.from(interest.keys());
    const events = Int32Array.from(interest.values());
    const out = await this.selectPool.run(fds, events, timeoutMs);
    const revents = new Map<number, number>();
    for (let i = 0; i < out.length; i += 2) {
      // The backend reports an fd that is not open as POLLNVAL; select(2)
      // fails as a whole for it, and so does Python's select.select().
      if (out[i + 1] & POLLNVAL) throw errorFromErrno(E.EBADF);
      revents.set(out[i], out[i + 1]);
    }
    // select(2) counts an fd with an error or a hang-up as readable (and an
    // error as writable), should a backend report those bits.
    const masks = [POLLIN | POLLHUP | POLLERR, POLLOUT | POLLERR, POLLPRI];
    const [r, w, x] = lists.map((entries, i) =>
      entries.filter(({ fd }) => ((revents.get(fd) ?? 0) & masks[i]) !== 0).map(({ item }) => item),
    );
    return [r, w, x];
  }

  /** As the module's {@link poll}. */
  poll(): Poll {
    return new Poll(this.pollPool, POLL_FACTORY);
  }

  /** As the module's {@link epoll}. */
  epoll(sizehint = -1, flags = 0): Epoll {
    return new Epoll(sizehint, flags, this.nativeBinding);
  }

  /** Closes the idle pooled pollers now (their threads and wake-up fds). */
  closeIdlePollers(): void {
    this.selectPool.closeIdle();
    this.pollPool.closeIdle();
  }
}

const defaultModule = new SelectModule();

/**
 * Waits until some of the fds are ready: to read (rlist), to write (wlist),
 * or with an exceptional condition such as TCP urgent data (xlist); at most
 * `timeout` seconds (null or undefined: no limit, 0: just look). Resolves to
 * the ready items of each list, as given and in their order. Items are fds
 * or objects with fileno(), such as sockets; fds must be below FD_SETSIZE
 * (1024), as select(2) requires: use {@link poll} or {@link epoll} past it.
 *
 * Differs from Python: returns a Promise; the wait runs on a worker thread.
 *
 * @example
 * ```ts
 * const [readable] = await select([server, ...clients], [], [], 5);
 * ```
 */
export function select<T extends Waitable>(
  rlist: T[],
  wlist: T[],
  xlist: T[],
  timeout?: number | null,
): Promise<[T[], T[], T[]]> {
  return defaultModule.select(rlist, wlist, xlist, timeout);
}

/** A new poll object (Python's select.poll()): register fds on it, then `await p.poll(ms)`. */
export function poll(): Poll {
  return defaultModule.poll();
}

/**
 * A new epoll object (Python's select.epoll()). `sizehint` is checked and
 * ignored, as by Linux; `flags` may be 0 or EPOLL_CLOEXEC (the fd is always
 * close-on-exec).
 */
export function epoll(sizehint = -1, flags = 0): Epoll {
  return defaultModule.epoll(sizehint, flags);
}

/**
 * Closes the pollers select() and poll objects keep for reuse. Not needed
 * for the process to exit; for fd-leak checks, or to drop the threads now.
 * @internal
 */
export function _closeIdlePollers(): void {
  defaultModule.closeIdlePollers();
}

export type { Poll as PollObject, Epoll as EpollObject };
