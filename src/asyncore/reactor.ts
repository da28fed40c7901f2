// The pass machinery under asyncore.poll(), poll2() and loop(): one native
// Poller per (map, backend), the interest set computed from readable() and
// writable() as Lib/asyncore.py computes it, and the dispatch of what is
// ready in CPython's order, with the gh-75114 fix (an event reaches only the
// channel that held the fd when the pass began and still holds it).
//
// A pass first polls with a zero timeout on the JavaScript thread
// (Poller.pollNow): when something is ready, as on a busy server, the pass
// never hops to the worker thread. Only a pass that must sleep goes to the
// worker (Poller.wait) and returns to the Node event loop meanwhile.
import { constants as osConstants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { binding as defaultBinding, PollerKind } from '../binding';
import type { NativeBinding, NativePoller, PollerKindName } from '../binding';
import { errorFromErrno } from '../errors';
import { POLLIN, POLLNVAL, POLLOUT, POLLPRI } from '../select';
import { _exception, read, readwriteInPass, write } from './handlers';
import { grownInt32 } from './int32';
import type { Channel, PassView, SocketMap } from './handlers';
import { EpollRegistry } from './epoll_registry';

const E = osConstants.errno;

export type Backend = PollerKindName;

/**
 * How long passes that find work ready may run back to back before the
 * pass loop yields to the Node event loop with setImmediate(): 64 passes or
 * 2 ms, whichever comes first. Each yield costs a turn of libuv's loop (a
 * few microseconds, about one idle pass), so this keeps that overhead near
 * 1% on a busy server while timers, Node's own sockets and other maps' loops
 * wait at most ~2 ms. A pass that finds nothing ready and may not sleep
 * (timeout 0) always yields: it has nothing better to do.
 */
const YIELD_EVERY_PASSES = 64;
const YIELD_AFTER_MS = 2;

/**
 * How long a busy map re-polls with a zero timeout before it pays for a
 * wait. A wait costs a thread hop or a turn of Node's loop (tens of
 * microseconds) while a zero-timeout poll costs one system call,
 * and a peer that was just answered usually writes again within a few tens
 * of microseconds. Only a map whose previous pass ran handlers spins, so an
 * idle server never does, and the spin stays inside the yield budget above.
 */
const SPIN_BEFORE_WAIT_MS = 0.05;

/**
 * The spin pays only while peers answer within it. Each spin's outcome
 * feeds a moving average (weight 1/8); below a 50% hit rate the map stops
 * spinning, so that a server with sparse traffic (a request every few
 * hundred microseconds) does not burn 50 us per request, and it tries a
 * spin again every 16th pass that could spin, to notice when traffic
 * turns dense again.
 */
const SPIN_HIT_WEIGHT = 1 / 8;
const SPIN_MIN_HIT_RATE = 0.5;
const SPIN_PROBE_EVERY = 16;

/** The longest single native wait; longer timeouts are waited out in pieces. */
const MAX_WAIT_MS = 2 ** 31 - 1;

/** CPython's ValueError for an fd that select() cannot hold. */
function selectRangeError(fd: number): RangeError {
  return new RangeError(`filedescriptor out of range in select(): ${fd} (use poll or epoll: loop({ use_poll: true }))`);
}

/** The result of the synchronous part of a pass. */
const Step = {
  /** Handlers ran: work was ready. */
  Dispatched: 0,
  /** Nothing ready and the pass may not sleep, or the map is empty. */
  Idle: 1,
  /** Nothing ready: the pass must wait on the worker thread. */
  MustWait: 2,
} as const;
type Step = (typeof Step)[keyof typeof Step];

/** One native poller serving one map, and the state of the pass it runs. */
export class Reactor implements PassView {
  readonly kind: number;
  private readonly map: SocketMap;
  private readonly native: NativePoller;
  private readonly fdSetSize: number;
  private readonly registry: EpollRegistry | null;

  // The interest set of the running pass, reused from pass to pass so that
  // handing it to the native side allocates nothing per channel.
  private fds = new Int32Array(64);
  private events = new Int32Array(64);
  private count = 0;
  /** [fd, revents] pairs written by the native side. */
  private out = new Int32Array(128);
  /** fd -> the channel that held it when the pass began (gh-75114). */
  private readonly passChannels: Array<Channel | undefined> = [];

  // Interest on change: the answers of the channels asked, kept from pass
  // to pass. passChannels then holds the channel of every fd with an
  // answer (it is the snapshot of each pass: the cache changes only between
  // passes), cachedEvents its events; cachedList lists those fds densely
  // (cachedPosition[fd] is the index + 1, 0 when fd has none).
  private changes: ChangeLog | null = null;
  private cachedEvents = new Int32Array(64);
  private cachedPosition = new Int32Array(64);
  private cachedList = new Int32Array(64);
  private cachedCount = 0;
  /** select/poll: the set handed to the native side no longer matches the cache. */
  private interestStale = true;

  private waitResult = 0;
  private waitWoken = false;
  private waitDone: (() => void) | null = null;
  private closed = false;
  private askStamp = 0;
  private askedStamp = new Int32Array(64);

  constructor(kind: number, map: SocketMap, nativeBinding: NativeBinding = defaultBinding) {
    this.kind = kind;
    this.map = map;
    this.fdSetSize = nativeBinding.FD_SETSIZE;
    this.native = new nativeBinding.Poller(kind, (result, woken) => this.onWaitDone(result, woken));
    this.registry = kind === PollerKind.epoll ? new EpollRegistry(this.native) : null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  holds(fd: number, obj: Channel): boolean {
    return this.passChannels[fd] === obj && this.map.get(fd) === obj;
  }

  /**
   * The channel to dispatch fd's event to: the one that held fd when the
   * pass began, if it still does and was not taken off the map meanwhile.
   */
  private holder(fd: number): Channel | undefined {
    const obj = this.passChannels[fd];
    return obj !== undefined && this.map.get(fd) === obj ? obj : undefined;
  }

  /**
   * Reads readable()/writable() of every channel into the interest set, as
   * poll() (select kind) and poll2() compute it. Returns the number of
   * channels interested, or -1 when the map is empty (Python's `if map:`).
   */
  collect(): number {
    if (this.changes !== null) this.dropCache();
    const map = this.map;
    if (map.size === 0) return -1;
    this.count = 0;
    const select = this.kind === PollerKind.select;
    map.forEach((obj, fd) => {
      if (typeof fd !== 'number' || (fd | 0) !== fd || fd < 0) {
        throw new TypeError(`socket map keys must be file descriptors (integers >= 0), got ${String(fd)}`);
      }
      const events = this.ask(fd, obj, select);
      if (events === 0) return;
      const index = this.count;
      if (index === this.fds.length) {
        this.fds = grownInt32(this.fds, index + 1);
        this.events = grownInt32(this.events, index + 1);
      }
      this.fds[index] = fd;
      this.events[index] = events;
      while (this.passChannels.length <= fd) this.passChannels.push(undefined);
      this.passChannels[fd] = obj;
      this.count = index + 1;
    });
    return this.count;
  }

  /**
   * The events a pass waits for on fd: readable() and writable() read as
   * poll() (select kind) and poll2() read them; 0 when neither holds.
   */
  private ask(fd: number, obj: Channel, select: boolean): number {
    const isReadable = obj.readable();
    // Accepting channels are never asked for write (Lib/asyncore.py).
    const isWritable = obj.writable() && !obj.accepting;
    if (!isReadable && !isWritable) return 0;
    if (select) {
      if (fd >= this.fdSetSize) throw selectRangeError(fd);
      // poll(): r gets readable fds, w writable ones, e both (POLLPRI
      // stands for select()'s exceptional set).
      return (isReadable ? POLLIN : 0) | (isWritable ? POLLOUT : 0) | POLLPRI;
    }
    return (isReadable ? POLLIN | POLLPRI : 0) | (isWritable ? POLLOUT : 0);
  }

  /**
   * The interest-on-change version of scan(): asks only the channels the
   * log names (all of them when it says so, or when this reactor did not
   * run the last pass on change), updates the kept answers and hands what
   * changed over, then polls with a zero timeout. The number of ready
   * pairs, or -1 when the map is empty.
   */
  scanChanges(changes: ChangeLog): number {
    if (this.changes !== changes || changes.owner !== this) {
      changes.owner?.dropCache();
      changes.owner = this;
      this.changes = changes;
      changes.all = true;
    }
    if (this.map.size === 0) {
      changes.dirty.clear();
      return -1;
    }
    try {
      if (changes.all) this.askAll(changes);
      else if (changes.dirty.size > 0) this.askDirty(changes);
    } catch (err) {
      // A readable() or writable() threw: start afresh next pass.
      changes.all = true;
      throw err;
    }
    this.registerCache();
    return this.cachedCount > 0 ? this.pollNow() : 0;
  }

  /** Asks every channel of the map, as a pass every pass does. */
  private askAll(changes: ChangeLog): void {
    changes.all = false;
    changes.dirty.clear();
    changes.fdOf.clear();
    const stamp = ++this.askStamp;
    const select = this.kind === PollerKind.select;
    this.map.forEach((obj, fd) => {
      if (typeof fd !== 'number' || (fd | 0) !== fd || fd < 0) {
        throw new TypeError(`socket map keys must be file descriptors (integers >= 0), got ${String(fd)}`);
      }
      changes.fdOf.set(obj, fd);
      this.fitCache(fd);
      this.askedStamp[fd] = stamp;
      this.setCached(fd, obj, this.ask(fd, obj, select));
    });
    // Answers kept for fds that are no longer in the map.
    for (let i = this.cachedCount - 1; i >= 0; i--) {
      const fd = this.cachedList[i]!;
      if (this.askedStamp[fd] !== stamp) this.setCached(fd, undefined, 0);
    }
    // Registrations left by passes of the other kind, for fds no channel
    // of the map wants now.
    this.registry?.sweep((fd) => fd < this.cachedPosition.length && this.cachedPosition[fd] !== 0);
  }

  /** Asks the channels named since the last pass. */
  private askDirty(changes: ChangeLog): void {
    const select = this.kind === PollerKind.select;
    const map = this.map;
    for (const obj of changes.dirty) {
      changes.dirty.delete(obj);
      const fd = changes.fdOf.get(obj);
      // Not in the map (any more): the map's delete() forgot it already.
      if (fd === undefined || map.get(fd) !== obj) continue;
      if (typeof fd !== 'number' || (fd | 0) !== fd || fd < 0) {
        throw new TypeError(`socket map keys must be file descriptors (integers >= 0), got ${String(fd)}`);
      }
      this.fitCache(fd);
      this.setCached(fd, obj, this.ask(fd, obj, select));
    }
  }

  private fitCache(fd: number): void {
    if (fd < this.cachedPosition.length) return;
    this.cachedEvents = grownInt32(this.cachedEvents, fd + 1);
    this.cachedPosition = grownInt32(this.cachedPosition, fd + 1);
    this.askedStamp = grownInt32(this.askedStamp, fd + 1);
  }

  /** Keeps obj's answer for fd (0: not interested, forgotten). */
  private setCached(fd: number, obj: Channel | undefined, events: number): void {
    const position = this.cachedPosition[fd]!;
    if (events === 0) {
      if (position !== 0) {
        const last = this.cachedList[this.cachedCount - 1]!;
        this.cachedList[position - 1] = last;
        this.cachedPosition[last] = position;
        this.cachedCount -= 1;
        this.cachedPosition[fd] = 0;
        this.cachedEvents[fd] = 0;
        this.passChannels[fd] = undefined;
        this.interestStale = true;
      }
      this.registry?.want(fd, 0, undefined);
      return;
    }
    if (position === 0) {
      this.cachedList = grownInt32(this.cachedList, this.cachedCount + 1);
      this.cachedList[this.cachedCount] = fd;
      this.cachedCount += 1;
      this.cachedPosition[fd] = this.cachedCount;
      this.interestStale = true;
    } else if (this.cachedEvents[fd] !== events || this.passChannels[fd] !== obj) {
      this.interestStale = true;
    }
    this.cachedEvents[fd] = events;
    while (this.passChannels.length <= fd) this.passChannels.push(undefined);
    this.passChannels[fd] = obj;
    this.registry?.want(fd, events, obj);
  }

  /**
   * Hands the kept answers over: epoll applies the changes queued; select
   * and poll get the whole set again, in the map's order, when anything in
   * it changed.
   */
  private registerCache(): void {
    this.out = grownInt32(this.out, 2 * this.cachedCount + 2);
    this.count = this.cachedCount;
    if (this.registry !== null) {
      this.registry.apply();
      return;
    }
    if (!this.interestStale) return;
    this.fds = grownInt32(this.fds, this.cachedCount);
    this.events = grownInt32(this.events, this.cachedCount);
    let index = 0;
    this.map.forEach((obj, fd) => {
      if (fd < this.cachedPosition.length && this.cachedPosition[fd] !== 0 && this.passChannels[fd] === obj) {
        this.fds[index] = fd;
        this.events[index] = this.cachedEvents[fd]!;
        index += 1;
      }
    });
    const result = this.native.setInterest(this.fds, this.events, index);
    if (result < 0) throw errorFromErrno(-result);
    this.interestStale = false;
  }

  /**
   * A channel left fd outside a pass's dispatch, or a map's delete() ran:
   * its kept answer goes (and, for epoll, its registration).
   */
  forget(fd: number): void {
    if (this.changes === null || fd >= this.cachedPosition.length) return;
    this.setCached(fd, undefined, 0);
    this.registry?.apply();
  }

  /** Forgets every kept answer: the next pass on change asks every channel. */
  dropCache(): void {
    for (let i = 0; i < this.cachedCount; i++) {
      const fd = this.cachedList[i]!;
      this.cachedPosition[fd] = 0;
      this.cachedEvents[fd] = 0;
      this.passChannels[fd] = undefined;
    }
    this.cachedCount = 0;
    this.count = 0;
    this.interestStale = true;
    if (this.changes !== null && this.changes.owner === this) this.changes.owner = null;
    this.changes = null;
  }

  /** Whether passes keep their answers (interest on change). */
  get keepsAnswers(): boolean {
    return this.changes !== null;
  }

  /** Hands the interest set collected to the kernel or the native side. */
  register(): void {
    // No wait reports more fds than are interested: the epoll registry
    // holds exactly this pass's interest set once updated.
    this.out = grownInt32(this.out, 2 * this.count + 2);
    if (this.registry !== null) {
      this.registry.update(this.fds, this.events, this.count, this.passChannels);
      return;
    }
    const result = this.native.setInterest(this.fds, this.events, this.count);
    if (result < 0) throw errorFromErrno(-result);
  }

  /** The number of channels interested in this pass. */
  get interested(): number {
    return this.count;
  }

  /**
   * One look at the map: collect the interest set, hand it over, and poll
   * with a zero timeout. The number of ready pairs, or -1 when the map is
   * empty (Python's `if map:`).
   */
  scan(): number {
    const interested = this.collect();
    if (interested < 0) return -1;
    this.register();
    return interested > 0 ? this.pollNow() : 0;
  }

  /** The zero-timeout poll, on this thread: the number of ready pairs in `out`. */
  pollNow(): number {
    let ready = this.native.pollNow(this.out);
    if (ready < 0) throw errorFromErrno(-ready);
    if (this.registry !== null) ready = this.registry.addSynthetic(this.out, ready);
    return ready;
  }

  /**
   * Waits for at most timeoutMs (-1: forever), on the worker thread or, for
   * epoll, on Node's loop. Resolves when the wait ends; lastWaitResult is
   * then the number of ready pairs in `out` (or -errno) and lastWaitWoken
   * whether wake() ended it.
   */
  wait(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waitDone = resolve;
      const result = this.native.wait(Math.min(timeoutMs, MAX_WAIT_MS), this.out);
      if (result < 0) {
        this.waitDone = null;
        reject(errorFromErrno(-result));
      }
    });
  }

  get lastWaitResult(): number {
    return this.waitResult;
  }

  get lastWaitWoken(): boolean {
    return this.waitWoken;
  }

  private onWaitDone(result: number, woken: boolean): void {
    this.waitResult = result;
    this.waitWoken = woken;
    const done = this.waitDone;
    this.waitDone = null;
    done?.();
  }

  wake(): void {
    if (!this.closed) this.native.wake();
  }

  /** Runs the handlers for `ready` pairs, in CPython's order for the kind. */
  dispatch(ready: number): void {
    const out = this.out;
    // Interest on change: every channel a handler ran for is asked again.
    const dirty = this.changes?.dirty;
    if (this.kind === PollerKind.select) {
      // poll(): every read, then every write, then every exceptional
      // condition, each skipped when its channel has left the fd.
      // An fd closed under a channel still in the map fails select() in
      // CPython (OSError EBADF out of poll()); one whose channel left the
      // map during the wait is no concern of this pass.
      for (let i = 0; i < ready; i++) {
        if (out[2 * i + 1]! & POLLNVAL && this.holder(out[2 * i]!) !== undefined) {
          throw errorFromErrno(E.EBADF);
        }
      }
      for (let i = 0; i < ready; i++) {
        if (!(out[2 * i + 1]! & POLLIN)) continue;
        const obj = this.holder(out[2 * i]!);
        if (obj === undefined) continue;
        dirty?.add(obj);
        read(obj);
      }
      for (let i = 0; i < ready; i++) {
        if (!(out[2 * i + 1]! & POLLOUT)) continue;
        const obj = this.holder(out[2 * i]!);
        if (obj === undefined) continue;
        dirty?.add(obj);
        write(obj);
      }
      for (let i = 0; i < ready; i++) {
        if (!(out[2 * i + 1]! & POLLPRI)) continue;
        const obj = this.holder(out[2 * i]!);
        if (obj === undefined) continue;
        dirty?.add(obj);
        _exception(obj);
      }
      return;
    }
    for (let i = 0; i < ready; i++) {
      const fd = out[2 * i]!;
      const obj = this.holder(fd);
      if (obj === undefined) continue;
      // Noted before the handlers run: one that throws ExitNow ends the
      // pass, and the channel must still be asked again.
      dirty?.add(obj);
      readwriteInPass(obj, out[2 * i + 1]!, fd, this);
    }
  }

  /** Forgets the snapshot of the pass; no handler runs from it afterwards. */
  endPass(): void {
    // On change, the kept answers are the snapshot and outlive the pass.
    if (this.changes !== null) return;
    const fds = this.fds;
    const channels = this.passChannels;
    for (let i = 0; i < this.count; i++) channels[fds[i]!] = undefined;
    this.count = 0;
  }

  /** A channel left fd during the pass, or between passes. */
  channelRemoved(fd: number): void {
    // On change, the map's delete() made the log forget fd already.
    if (this.changes !== null) return;
    if (fd < this.passChannels.length) this.passChannels[fd] = undefined;
    // epoll: unregister now, while fd still refers to the socket being
    // closed (dispatcher.close() deletes the channel before it closes the
    // socket), so no registration outlives it under a dup() of the file.
    this.registry?.remove(fd);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.changes !== null) this.dropCache();
    this.native.close();
    this.registry?.clear();
  }
}

/**
 * What interest on change needs to know between passes: the channels to ask
 * again, whether to ask all of them, and where each channel is in the map.
 *
 * While it exists, the map's own set(), delete() and clear() report to it
 * (they are replaced on the map object, and restored by stop()), so a
 * channel that joins the map by any route is asked, and one that leaves is
 * forgotten at once.
 */
export class ChangeLog {
  /** Channels to ask again at the start of the next pass. */
  readonly dirty = new Set<Channel>();
  /** Ask every channel at the start of the next pass. */
  all = true;
  /** The fd each channel is in the map under, as the log saw it join. */
  readonly fdOf = new Map<Channel, number>();
  /** The reactor whose kept answers this log feeds. */
  owner: Reactor | null = null;
  private readonly restore: Array<() => void> = [];

  constructor(
    private readonly map: SocketMap,
    private readonly state: MapState,
  ) {
    this.watch();
  }

  private watch(): void {
    const map = this.map;
    const set = map.set;
    const del = map.delete;
    const clear = map.clear;
    const joined = (fd: number, obj: Channel, before: Channel | undefined): void => {
      if (before !== undefined && before !== obj) this.left(fd, before);
      this.fdOf.set(obj, fd);
      this.dirty.add(obj);
      this.state.changed();
    };
    this.replace('set', function (this: SocketMap, fd: number, obj: Channel) {
      const before = this.get(fd);
      set.call(this, fd, obj);
      joined(fd, obj, before);
      return this;
    });
    this.replace('delete', function (this: SocketMap, fd: number) {
      const before = this.get(fd);
      const deleted = del.call(this, fd);
      if (before !== undefined) {
        logLeft(fd, before);
      }
      return deleted;
    });
    const logLeft = (fd: number, before: Channel): void => {
      this.left(fd, before);
      this.state.changed();
    };
    this.replace('clear', function (this: SocketMap) {
      const entries = [...this.entries()];
      clear.call(this);
      for (const [fd, obj] of entries) logLeft(fd, obj);
    });
  }

  private replace(name: 'set' | 'delete' | 'clear', value: unknown): void {
    const map = this.map as unknown as Record<string, unknown>;
    const own = Object.getOwnPropertyDescriptor(map, name);
    Object.defineProperty(map, name, { value, writable: true, configurable: true, enumerable: false });
    this.restore.push(() => {
      if (own === undefined) delete map[name];
      else Object.defineProperty(map, name, own);
    });
  }

  /** obj no longer holds fd: its kept answer goes now. */
  private left(fd: number, obj: Channel): void {
    if (this.fdOf.get(obj) === fd) this.fdOf.delete(obj);
    this.owner?.forget(fd);
  }

  /** Gives the map its own set(), delete() and clear() back. */
  stop(): void {
    for (const restore of this.restore.splice(0).reverse()) restore();
    this.owner?.dropCache();
    this.owner = null;
    this.dirty.clear();
    this.fdOf.clear();
  }
}

/** What each map needs between passes: its reactors and who is running. */
export class MapState {
  readonly map: SocketMap;
  private readonly nativeBinding: NativeBinding;
  private readonly reactors: Array<Reactor | undefined> = [];
  /** What is running a pass over this map now, for the error message. */
  busy: 'loop' | 'pass' | null = null;
  /** The reactor whose wait is pending, so that wake() can reach it. */
  waiting: Reactor | null = null;
  /** The reactor running a pass now (collected, maybe waiting, dispatching). */
  current: Reactor | null = null;
  private closeScheduled = false;
  // The budget of synchronous passes before yielding to the event loop.
  private passesSinceYield = 0;
  /** Whether the last pass ran handlers: the map is busy, worth a spin. */
  private lastPassDispatched = false;
  /** Moving average of the spins that found work (1: every one did). */
  private spinHitRate = 1;
  /** Passes that could have spun but did not, since the last probe. */
  private spinsSkipped = 0;
  private yieldDeadline = 0;
  /** Interest on change: what changed since the last pass (null: every pass asks all). */
  changes: ChangeLog | null = null;

  constructor(map: SocketMap, nativeBinding: NativeBinding) {
    this.map = map;
    this.nativeBinding = nativeBinding;
  }

  reactor(kind: number): Reactor {
    let reactor = this.reactors[kind];
    if (reactor === undefined || reactor.isClosed) {
      // Checked before the poller is made: with every fd below FD_SETSIZE
      // taken by channels, its wake-up fd could not be watched by select()
      // and making it would fail with a less helpful EMFILE.
      if (kind === PollerKind.select) {
        for (const fd of this.map.keys()) {
          if (fd >= this.nativeBinding.FD_SETSIZE) throw selectRangeError(fd);
        }
      }
      reactor = new Reactor(kind, this.map, this.nativeBinding);
      this.reactors[kind] = reactor;
    }
    return reactor;
  }

  acquire(what: 'loop' | 'pass'): void {
    if (this.busy !== null) {
      const running = this.busy === 'loop' ? 'an asyncore loop()' : 'an asyncore pass (poll()/poll2())';
      throw new Error(
        `${running} is already running on this map; ${what === 'loop' ? 'loop()' : 'a pass'} cannot run ` +
          'on the same map at the same time (use another map)',
      );
    }
    this.busy = what;
    this.resetYieldBudget();
  }

  /**
   * Ends a loop() or a single pass. The reactors are closed at the end of
   * this turn of the event loop unless another pass starts first, so that
   * `while (...) await poll()` reuses one poller while nothing is left open
   * once the program stops calling.
   */
  release(): void {
    this.busy = null;
    this.current = null;
    this.waiting = null;
    if (this.closeScheduled) return;
    this.closeScheduled = true;
    setImmediate(() => {
      this.closeScheduled = false;
      if (this.busy === null) this.closeReactors();
    });
  }

  closeReactors(): void {
    this.changes?.stop();
    this.changes = null;
    for (const reactor of this.reactors) reactor?.close();
    this.reactors.length = 0;
  }

  /**
   * Chooses how the passes to come read readable() and writable(): on
   * change, or every pass (which forgets what on change kept).
   */
  setInterest(onChange: boolean): void {
    if (onChange) {
      this.changes ??= new ChangeLog(this.map, this);
    } else if (this.changes !== null) {
      this.changes.stop();
      this.changes = null;
    }
  }

  /** wake(map): every channel is asked again, and a waiting pass wakes. */
  wake(): void {
    if (this.changes !== null) this.changes.all = true;
    this.waiting?.wake();
  }

  /**
   * A method of this package changed channel's state, or wake(map,
   * channel) named it: it is asked again, and a waiting pass wakes.
   */
  channelChanged(channel: Channel): void {
    this.changes?.dirty.add(channel);
    this.waiting?.wake();
  }

  /** The map's membership changed: a waiting pass wakes to see it. */
  changed(): void {
    this.waiting?.wake();
  }

  channelRemoved(fd: number): void {
    this.current?.channelRemoved(fd);
    const epoll = this.reactors[PollerKind.epoll];
    if (epoll !== undefined && epoll !== this.current) epoll.channelRemoved(fd);
    this.waiting?.wake();
  }

  /** Whether passes that found work have run long enough to yield now. */
  private shouldYield(): boolean {
    return ++this.passesSinceYield >= YIELD_EVERY_PASSES || performance.now() >= this.yieldDeadline;
  }

  private resetYieldBudget(): void {
    this.passesSinceYield = 0;
    this.yieldDeadline = performance.now() + YIELD_AFTER_MS;
  }

  /**
   * One pass of the given kind with a timeout in ms (-1: none). Returns
   * undefined when it completed synchronously and need not yield; a promise
   * otherwise.
   */
  pass(kind: number, timeoutMs: number): Promise<void> | undefined {
    const reactor = this.reactor(kind);
    const step = this.passSync(reactor, timeoutMs);
    if (step === Step.MustWait) return this.passWait(reactor, timeoutMs);
    if (step === Step.Idle || this.shouldYield()) return this.yieldToEventLoop();
    return undefined;
  }

  private passSync(reactor: Reactor, timeoutMs: number): Step {
    this.current = reactor;
    let step: Step = Step.Idle;
    try {
      const changes = this.changes;
      let ready = changes === null ? reactor.scan() : reactor.scanChanges(changes);
      if (ready < 0) return step;
      if (ready === 0 && reactor.interested > 0 && timeoutMs !== 0 && this.lastPassDispatched && this.spinPays()) {
        ready = this.spinPoll(reactor);
        this.spinHitRate += SPIN_HIT_WEIGHT * ((ready > 0 ? 1 : 0) - this.spinHitRate);
      }
      this.lastPassDispatched = ready > 0;
      if (ready > 0) {
        step = Step.Dispatched;
        reactor.dispatch(ready);
      } else if (timeoutMs !== 0) {
        step = Step.MustWait;
      } else if (changes !== null) {
        // The pass ended because its timeout (0) ran out.
        changes.all = true;
      }
      return step;
    } finally {
      // A pass that goes on to wait keeps its snapshot; passWait() ends it.
      if (step !== Step.MustWait) {
        reactor.endPass();
        this.current = null;
      }
    }
  }

  /** Whether to spin now: while spins keep finding work, and every so often to probe. */
  private spinPays(): boolean {
    if (this.spinHitRate >= SPIN_MIN_HIT_RATE) return true;
    if (++this.spinsSkipped < SPIN_PROBE_EVERY) return false;
    this.spinsSkipped = 0;
    return true;
  }

  /** Re-polls for up to SPIN_BEFORE_WAIT_MS; the number of ready pairs. */
  private spinPoll(reactor: Reactor): number {
    const deadline = performance.now() + SPIN_BEFORE_WAIT_MS;
    let ready = 0;
    while (ready === 0 && performance.now() < deadline) ready = reactor.pollNow();
    return ready;
  }

  private async passWait(reactor: Reactor, timeoutMs: number): Promise<void> {
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    try {
      for (;;) {
        const remaining = timeoutMs < 0 ? -1 : Math.max(0, Math.ceil(deadline - performance.now()));
        this.waiting = reactor;
        try {
          await reactor.wait(remaining);
        } finally {
          this.waiting = null;
        }
        const result = reactor.lastWaitResult;
        if (result < 0) throw errorFromErrno(-result);
        if (!reactor.lastWaitWoken) {
          this.lastPassDispatched = result > 0;
          if (result > 0) reactor.dispatch(result);
          // A timeout longer than one native wait can hold goes on waiting.
          else if (remaining > MAX_WAIT_MS) continue;
          else this.timedOut();
          return;
        }
        // Woken: something changed outside a handler. Read readable() and
        // writable() again and go on waiting for what is left of timeout.
        reactor.endPass();
        const changes = this.changes;
        const ready = changes === null ? reactor.scan() : reactor.scanChanges(changes);
        if (ready < 0) return;
        if (ready > 0) {
          reactor.dispatch(ready);
          return;
        }
        if (deadline - performance.now() <= 0) {
          this.timedOut();
          return;
        }
      }
    } finally {
      reactor.endPass();
      this.current = null;
      this.resetYieldBudget();
    }
  }

  /** A pass ended because its timeout ran out: on change, every channel is asked next. */
  private timedOut(): void {
    if (this.changes !== null) this.changes.all = true;
  }

  private yieldToEventLoop(): Promise<void> {
    this.resetYieldBudget();
    return new Promise((resolve) => setImmediate(resolve));
  }
}

const states = new WeakMap<SocketMap, MapState>();

export function stateOf(map: SocketMap, nativeBinding: NativeBinding = defaultBinding): MapState {
  let state = states.get(map);
  if (state === undefined) {
    state = new MapState(map, nativeBinding);
    states.set(map, state);
  }
  return state;
}

/** Wakes a pass waiting over map, if there is one; cheap when there is none. */
export function wakeMap(map: SocketMap): void {
  states.get(map)?.wake();
}

/** A channel joined map: a waiting pass wakes to see it. */
export function mapChanged(map: SocketMap): void {
  states.get(map)?.changed();
}

/**
 * A method of this package changed channel's state (or wake(map, channel)
 * named it): a pass on change asks it again, and a waiting pass wakes.
 */
export function channelChanged(map: SocketMap, channel: Channel): void {
  states.get(map)?.channelChanged(channel);
}


/** A channel was deleted from map under fd (dispatcher.del_channel()). */
export function channelRemoved(map: SocketMap, fd: number): void {
  states.get(map)?.channelRemoved(fd);
}

export const kindOf: Readonly<Record<Backend, number>> = PollerKind;

/** Timeout in seconds (null: forever) -> ms for the native wait (-1: forever). */
export function timeoutToMs(timeout: number | null): number {
  if (timeout === null) return -1;
  // Rounded to microseconds first, so that 0.3 s is 300 ms and not 301.
  return Math.ceil(Math.round(timeout * 1e6) / 1000);
}
