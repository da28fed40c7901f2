// One pass over a map, as Lib/asyncore.py makes it: the interest set read
// from readable() and writable() (every pass, or kept between passes and
// asked again only on change), the gh-75114 snapshot (an event reaches only
// the channel that held the fd when the pass began and still holds it), and
// the dispatch of what is ready in CPython's order. Passes in sequence, the
// waits and the spin are asyncore/passes.ts's.
import { constants as osConstants } from 'node:os';
import { PollerKind } from '../binding';
import type { NativeBinding } from '../binding';
import { POLLIN, POLLNVAL, POLLOUT, POLLPRI } from '../constants';
import { errorFromErrno } from '../errors';
import { fdSetSizeError, Poller } from '../poller';
import type { WaitDone } from '../poller';
import type { ChangeLog } from './change_log';
import { _exception, read, readwriteInPass, write } from './handlers';
import type { Channel, PassView, SocketMap } from './handlers';
import { grownInt32 } from '../int32';

const E = osConstants.errno;

/** A change for an fd that may be another file than before (registered afresh). */
const FRESH = 1;

/** CPython's ValueError for an fd that select() cannot hold, with asyncore's advice. */
export function selectRangeError(fd: number): RangeError {
  return fdSetSizeError(fd, 'use poll or epoll: loop({ use_poll: true })');
}

/** One poller serving one map, and the state of the pass it runs. */
export class MapPoller implements PassView {
  readonly kind: number;
  private readonly map: SocketMap;
  private readonly poller: Poller;
  private readonly fdSetSize: number;
  /**
   * epoll: the channel each fd was last handed to the native side for. A
   * different one now means the fd may be another file (the old one closed
   * behind the package's back, the number reused), which the native side
   * then registers afresh (FRESH).
   */
  private readonly registeredFor: Array<Channel | undefined> | null;
  // epoll, on change: the changes of the coming pass, as one batch.
  private changeFds = new Int32Array(16);
  private changeEvents = new Int32Array(16);
  private changeFlags = new Int32Array(16);
  private changeCount = 0;
  /** epoll, on change: hand over the whole set next (the answers were all asked again). */
  private resync = false;
  /** epoll, every pass: the fresh flags of the interest set. */
  private flags = new Int32Array(64);

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

  private closed = false;
  private askStamp = 0;
  private askedStamp = new Int32Array(64);

  constructor(kind: number, map: SocketMap, nativeBinding?: NativeBinding) {
    this.kind = kind;
    this.map = map;
    this.poller = new Poller(kind, nativeBinding);
    this.fdSetSize = this.poller.fdSetSize;
    this.registeredFor = kind === PollerKind.epoll ? [] : null;
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
    // epoll: the whole set goes over next, which also drops registrations
    // left by passes of the other kind for fds no channel wants now.
    this.changeCount = 0;
    this.resync = true;
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
        this.queueChange(fd, 0, undefined);
      }
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
    const changed = this.cachedEvents[fd] !== events || this.passChannels[fd] !== obj;
    this.cachedEvents[fd] = events;
    while (this.passChannels.length <= fd) this.passChannels.push(undefined);
    this.passChannels[fd] = obj;
    if (changed) this.queueChange(fd, events, obj);
  }

  /** epoll, on change: one change for the coming batch. */
  private queueChange(fd: number, events: number, obj: Channel | undefined): void {
    if (this.registeredFor === null || this.resync) return;
    const index = this.changeCount;
    if (index === this.changeFds.length) {
      this.changeFds = grownInt32(this.changeFds, index + 1);
      this.changeEvents = grownInt32(this.changeEvents, index + 1);
      this.changeFlags = grownInt32(this.changeFlags, index + 1);
    }
    this.changeFds[index] = fd;
    this.changeEvents[index] = events;
    this.changeFlags[index] = events !== 0 ? this.fresh(fd, obj) : 0;
    this.changeCount = index + 1;
  }

  /** FRESH when fd was last handed over for another channel (epoll); notes obj as its channel. */
  private fresh(fd: number, obj: Channel | undefined): number {
    const registeredFor = this.registeredFor!;
    while (registeredFor.length <= fd) registeredFor.push(undefined);
    const flag = registeredFor[fd] === obj ? 0 : FRESH;
    registeredFor[fd] = obj;
    return flag;
  }

  /**
   * Hands the kept answers over: epoll applies the changes queued; select
   * and poll get the whole set again, in the map's order, when anything in
   * it changed.
   */
  private registerCache(): void {
    this.out = grownInt32(this.out, 2 * this.cachedCount + 2);
    this.count = this.cachedCount;
    if (this.registeredFor !== null) {
      if (this.resync) {
        this.resync = false;
        this.fds = grownInt32(this.fds, this.cachedCount);
        this.events = grownInt32(this.events, this.cachedCount);
        this.flags = grownInt32(this.flags, this.cachedCount);
        for (let i = 0; i < this.cachedCount; i++) {
          const fd = this.cachedList[i]!;
          this.fds[i] = fd;
          this.events[i] = this.cachedEvents[fd]!;
          this.flags[i] = this.fresh(fd, this.passChannels[fd]);
        }
        this.poller.setInterest(this.fds, this.events, this.cachedCount, this.flags);
      } else if (this.changeCount > 0) {
        const count = this.changeCount;
        this.changeCount = 0;
        this.poller.setInterest(this.changeFds, this.changeEvents, count, this.changeFlags, true);
      }
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
    this.poller.setInterest(this.fds, this.events, index);
    this.interestStale = false;
  }

  /**
   * A channel left fd outside a pass's dispatch, or a map's delete() ran:
   * its kept answer goes (and, for epoll, its registration).
   */
  forget(fd: number): void {
    if (this.changes === null || fd >= this.cachedPosition.length) return;
    this.setCached(fd, undefined, 0);
    this.forgetNow(fd);
  }

  /**
   * epoll: the native side stops watching fd now, while fd still refers to
   * the socket being closed (dispatcher.close() deletes the channel before
   * it closes the socket), so no registration outlives it under a dup() of
   * the file.
   */
  private forgetNow(fd: number): void {
    const registeredFor = this.registeredFor;
    if (registeredFor === null) return;
    if (fd < registeredFor.length) registeredFor[fd] = undefined;
    if (this.closed) return;
    const result = this.poller.forget(fd);
    if (result < 0) throw errorFromErrno(-result);
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
    this.changeCount = 0;
    this.resync = false;
    if (this.changes !== null && this.changes.owner === this) this.changes.owner = null;
    this.changes = null;
  }

  /** Whether passes keep their answers (interest on change). */
  get keepsAnswers(): boolean {
    return this.changes !== null;
  }

  /** Hands the interest set collected to the kernel or the native side. */
  register(): void {
    // No wait reports more fds than are interested (epoll's registrations
    // are exactly this pass's interest set once applied).
    this.out = grownInt32(this.out, 2 * this.count + 2);
    if (this.registeredFor !== null) {
      this.flags = grownInt32(this.flags, this.count);
      for (let i = 0; i < this.count; i++) {
        const fd = this.fds[i]!;
        this.flags[i] = this.fresh(fd, this.passChannels[fd]);
      }
      this.poller.setInterest(this.fds, this.events, this.count, this.flags);
      return;
    }
    this.poller.setInterest(this.fds, this.events, this.count);
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
    return this.poller.pollNow(this.out);
  }

  /**
   * epoll: the number of [fd, POLLNVAL] pairs put in `out` for registered
   * fds that are no longer open. The kernel drops the registration of a
   * closed fd without a word, so a channel whose fd was closed behind its
   * back would never hear of it; poll(2) reports such an fd as POLLNVAL.
   * select and poll find those by themselves: 0.
   */
  findClosed(): number {
    return this.registeredFor === null ? 0 : this.poller.findClosed(this.out);
  }

  /**
   * Waits until `deadline` (performance.now() ms; Infinity: none), on the
   * worker thread or, for epoll, on Node's loop. While it waits, wake()
   * ends it; onWoken() then looks at the map again and answers as
   * Poller.waitFor() wants. done() gets the number of ready pairs in `out`,
   * 0 once the deadline has passed, or onWoken()'s answer.
   */
  waitReady(deadline: number, onWoken: () => number, done: WaitDone): void {
    this.poller.waitFor(deadline, () => this.out, onWoken, done);
  }

  /** Ends a running wait; onWoken() then runs. */
  wake(): void {
    if (!this.closed) this.poller.wake();
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
    this.forgetNow(fd);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.changes !== null) this.dropCache();
    this.poller.close();
  }
}

