// What a map's passes of one kind (select, poll or epoll) tell the fd
// watcher, and what they do with what it reports, as Lib/asyncore.py makes
// a pass: the interest set read from readable() and writable() (every pass,
// or kept between passes and asked again only on change), the gh-75114
// snapshot (an event reaches only the channel that held the fd when the
// pass began and still holds it), and the handlers of what is ready in
// CPython's order. Passes in sequence, the waits and the spin are
// asyncore/passes.ts's.
import { constants as osConstants } from 'node:os';
import { PollerKind } from '../binding';
import type { NativeBinding } from '../binding';
import { POLLIN, POLLNVAL, POLLOUT, POLLPRI } from '../constants';
import { errorFromErrno } from '../errors';
import { grownInt32 } from '../int32';
import { fdSetSizeError } from '../poller';
import { Watcher } from '../watcher';
import type { WaitDone } from '../watcher';
import { _exception, read, readwriteInPass, write } from './handlers';
import type { Channel, PassView, SocketMap } from './handlers';
import type { MapChanges } from './map_changes';

const E = osConstants.errno;

/** The watcher's flag for an fd that may be another file than before (registered afresh). */
const FRESH = 1;

/** CPython's ValueError for an fd that select() cannot hold, with asyncore's advice. */
export function selectRangeError(fd: number): RangeError {
  return fdSetSizeError(fd, 'use poll or epoll: loop({ use_poll: true })');
}

function checkKey(fd: unknown): void {
  if (typeof fd !== 'number' || (fd | 0) !== fd || fd < 0) {
    throw new TypeError(`socket map keys must be file descriptors (integers >= 0), got ${String(fd)}`);
  }
}

/** One map's watch of one kind: its watcher, the interest set it was given, the snapshot of the pass. */
export class MapWatch implements PassView {
  readonly kind: number;
  private readonly map: SocketMap;
  private readonly watcher: Watcher;
  private readonly fdSetSize: number;
  /** select: handlers run after the poll, every read, then every write, then every exception. */
  private readonly select: boolean;
  /**
   * epoll: the channel each fd was last handed to the watcher for. A
   * different one now means the fd may be another file (the old one closed
   * behind the package's back, the number reused), which the watcher then
   * registers afresh (FRESH).
   */
  private readonly registeredFor: Array<Channel | undefined> | null;

  // The interest set handed over whole (every pass, and on change when the
  // whole set goes again), reused from pass to pass so that it allocates
  // nothing per channel.
  private fds = new Int32Array(64);
  private events = new Int32Array(64);
  private flags = new Int32Array(64);
  private count = 0;
  /** fd -> the channel that held it when the pass began (gh-75114). */
  private readonly passChannels: Array<Channel | undefined> = [];
  /** select: the [fd, revents] pairs reported by the poll, for the handlers run after it. */
  private ready = new Int32Array(64);
  private readyCount = 0;

  // Interest on change: the answers of the channels asked, kept from pass
  // to pass. passChannels then holds the channel of every fd with an
  // answer (it is the snapshot of each pass: the answers change only
  // between passes), keptEvents its events; keptList lists those fds
  // densely (keptPosition[fd] is the index + 1, 0 when fd has none).
  private changes: MapChanges | null = null;
  private keptEvents = new Int32Array(64);
  private keptPosition = new Int32Array(64);
  private keptList = new Int32Array(64);
  private keptCount = 0;
  /** On change: the whole set goes to the watcher next (select and poll report in map order). */
  private wholeSetStale = true;
  private askStamp = 0;
  private askedStamp = new Int32Array(64);

  constructor(kind: number, map: SocketMap, nativeBinding?: NativeBinding) {
    this.kind = kind;
    this.map = map;
    this.watcher = new Watcher(kind, nativeBinding);
    this.fdSetSize = this.watcher.fdSetSize;
    this.select = kind === PollerKind.select;
    this.registeredFor = kind === PollerKind.epoll ? [] : null;
  }

  get isClosed(): boolean {
    return this.watcher.isClosed;
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
   * What the watcher calls back for each ready fd: poll and epoll run its
   * channel's handlers now, in the order the kernel reports; select keeps
   * the pair for dispatchSelect().
   */
  private readonly onReady = (fd: number, revents: number): void => {
    if (this.select) {
      const at = 2 * this.readyCount;
      if (at === this.ready.length) this.ready = grownInt32(this.ready, at + 2);
      this.ready[at] = fd;
      this.ready[at + 1] = revents;
      this.readyCount += 1;
      return;
    }
    const obj = this.holder(fd);
    if (obj === undefined) return;
    // Noted before the handlers run: one that throws ExitNow ends the
    // pass, and the channel must still be asked again.
    this.changes?.markFd(fd);
    readwriteInPass(obj, revents, fd, this);
  };

  /**
   * The events a pass watches fd for: readable() and writable() read as
   * poll() (select kind) and poll2() read them; 0 when neither holds.
   */
  private ask(fd: number, obj: Channel): number {
    const isReadable = obj.readable();
    // Accepting channels are never asked for write (Lib/asyncore.py).
    const isWritable = obj.writable() && !obj.accepting;
    if (!isReadable && !isWritable) return 0;
    if (this.select) {
      if (fd >= this.fdSetSize) throw selectRangeError(fd);
      // poll(): r gets readable fds, w writable ones, e both (POLLPRI
      // stands for select()'s exceptional set).
      return (isReadable ? POLLIN : 0) | (isWritable ? POLLOUT : 0) | POLLPRI;
    }
    return (isReadable ? POLLIN | POLLPRI : 0) | (isWritable ? POLLOUT : 0);
  }

  /** Adds fd, for obj, to the interest set handed over whole. */
  private pushInterest(fd: number, obj: Channel, events: number): void {
    const index = this.count;
    if (index === this.fds.length) {
      this.fds = grownInt32(this.fds, index + 1);
      this.events = grownInt32(this.events, index + 1);
      this.flags = grownInt32(this.flags, index + 1);
    }
    this.fds[index] = fd;
    this.events[index] = events;
    this.flags[index] = this.registeredFor === null ? 0 : this.fresh(fd, obj);
    this.count = index + 1;
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
   * Every pass: reads readable()/writable() of every channel into the
   * interest set, as poll() (select kind) and poll2() compute it, and
   * hands it to the watcher whole. Returns the number of channels
   * interested, or -1 when the map is empty (Python's `if map:`).
   */
  private collect(): number {
    if (this.changes !== null) this.forgetAnswers();
    const map = this.map;
    if (map.size === 0) return -1;
    this.count = 0;
    map.forEach(this.collectOne);
    this.handOver();
    return this.count;
  }

  /** collect() for one channel (a field, so that a pass makes no closure). */
  private readonly collectOne = (obj: Channel, fd: number): void => {
    checkKey(fd);
    const events = this.ask(fd, obj);
    if (events === 0) return;
    while (this.passChannels.length <= fd) this.passChannels.push(undefined);
    this.passChannels[fd] = obj;
    this.pushInterest(fd, obj, events);
  };

  /**
   * One look at the map, every pass: collect the interest set, hand it
   * over, and poll with a zero timeout, running the handlers of what is
   * ready. The number of ready fds, or -1 when the map is empty.
   */
  scan(): number {
    const interested = this.collect();
    if (interested < 0) return -1;
    return interested > 0 ? this.pollNow() : 0;
  }

  /**
   * The interest-on-change version of scan(): asks only the channels the
   * log names (all of them when it says so, when the map's size is not
   * what the log expects, or when this watch did not run the last pass on
   * change), hands what changed to the watcher, then polls with a zero
   * timeout, running the handlers of what is ready. The number of ready
   * fds, or -1 when the map is empty.
   */
  scanChanges(changes: MapChanges): number {
    if (this.changes !== changes) {
      if (this.changes !== null) this.forgetAnswers();
      this.changes = changes;
      changes.all = true;
    }
    if (this.map.size === 0) {
      changes.clearDirty();
      return -1;
    }
    try {
      if (changes.all || changes.sizeChanged(this.map)) this.askAll(changes);
      else if (changes.anyDirty) changes.takeDirty(this.askAgain);
    } catch (err) {
      // A readable() or writable() threw: start afresh next pass.
      changes.all = true;
      throw err;
    }
    if (this.wholeSetStale) this.handOverKept();
    this.count = this.keptCount;
    return this.keptCount > 0 ? this.pollNow() : 0;
  }

  /** Asks every channel of the map, as a pass every pass does. */
  private askAll(changes: MapChanges): void {
    // The whole set goes over next, which also drops watches left by
    // passes every pass for fds no channel wants now.
    this.wholeSetStale = true;
    changes.fdOf.clear();
    const stamp = ++this.askStamp;
    this.map.forEach((obj, fd) => {
      checkKey(fd);
      changes.fdOf.set(obj, fd);
      this.fitKept(fd);
      this.askedStamp[fd] = stamp;
      this.keep(fd, obj, this.ask(fd, obj));
    });
    // Answers kept for fds that are no longer in the map.
    for (let i = this.keptCount - 1; i >= 0; i--) {
      const fd = this.keptList[i]!;
      if (this.askedStamp[fd] !== stamp) this.keep(fd, undefined, 0);
    }
    changes.askedAll(this.map);
  }

  /** Asks the channel under fd again (named since the last pass), if fd still holds one. */
  private readonly askAgain = (fd: number): void => {
    const obj = this.map.get(fd);
    if (obj === undefined) return;
    this.fitKept(fd);
    this.keep(fd, obj, this.ask(fd, obj));
  };

  private fitKept(fd: number): void {
    if (fd < this.keptPosition.length) return;
    this.keptEvents = grownInt32(this.keptEvents, fd + 1);
    this.keptPosition = grownInt32(this.keptPosition, fd + 1);
    this.askedStamp = grownInt32(this.askedStamp, fd + 1);
  }

  /**
   * Keeps obj's answer for fd (0: not interested, forgotten). epoll hands
   * the change to the watcher at once (it goes over with the next poll);
   * select and poll hand the whole set over again, in the map's order.
   */
  private keep(fd: number, obj: Channel | undefined, events: number): void {
    const position = this.keptPosition[fd]!;
    if (events === 0) {
      if (position === 0) return;
      const last = this.keptList[this.keptCount - 1]!;
      this.keptList[position - 1] = last;
      this.keptPosition[last] = position;
      this.keptCount -= 1;
      this.keptPosition[fd] = 0;
      this.keptEvents[fd] = 0;
      this.passChannels[fd] = undefined;
      this.changed(fd, 0, undefined);
      return;
    }
    if (position === 0) {
      this.keptList = grownInt32(this.keptList, this.keptCount + 1);
      this.keptList[this.keptCount] = fd;
      this.keptCount += 1;
      this.keptPosition[fd] = this.keptCount;
    } else if (this.keptEvents[fd] === events && this.passChannels[fd] === obj) {
      return;
    }
    this.keptEvents[fd] = events;
    while (this.passChannels.length <= fd) this.passChannels.push(undefined);
    this.passChannels[fd] = obj;
    this.changed(fd, events, obj);
  }

  /** fd's kept answer changed: tell the watcher, or hand the whole set over next. */
  private changed(fd: number, events: number, obj: Channel | undefined): void {
    if (this.registeredFor === null || this.wholeSetStale) {
      this.wholeSetStale = true;
      return;
    }
    this.watcher.watch(fd, events, this.onReady, events !== 0 && this.fresh(fd, obj) === FRESH);
  }

  /** Hands the kept answers to the watcher whole, in the map's order (the order select and poll report in). */
  private handOverKept(): void {
    this.count = 0;
    this.map.forEach((obj, fd) => {
      if (fd < this.keptPosition.length && this.keptPosition[fd] !== 0 && this.passChannels[fd] === obj) {
        this.pushInterest(fd, obj, this.keptEvents[fd]!);
      }
    });
    this.handOver();
    this.wholeSetStale = false;
  }

  /** Replaces the watcher's whole watch with the interest set (epoll: with its fresh flags). */
  private handOver(): void {
    const flags = this.registeredFor === null ? undefined : this.flags;
    this.watcher.watchOnly(this.fds, this.events, this.count, this.onReady, flags);
  }

  /** Forgets every kept answer: the next pass on change asks every channel. */
  forgetAnswers(): void {
    for (let i = 0; i < this.keptCount; i++) {
      const fd = this.keptList[i]!;
      this.keptPosition[fd] = 0;
      this.keptEvents[fd] = 0;
      this.passChannels[fd] = undefined;
    }
    this.keptCount = 0;
    this.count = 0;
    this.wholeSetStale = true;
    this.changes = null;
  }

  /** Whether passes keep their answers (interest on change). */
  get keepsAnswers(): boolean {
    return this.changes !== null;
  }

  /** The number of channels interested in this pass. */
  get interested(): number {
    return this.count;
  }

  /**
   * The zero-timeout poll, on this thread, running the handlers of what is
   * ready: the number of ready fds.
   */
  pollNow(): number {
    this.readyCount = 0;
    const ready = this.watcher.pollNow();
    if (this.readyCount > 0) this.dispatchSelect();
    return ready;
  }

  /**
   * epoll: runs handle_close() (POLLNVAL) for watched fds that are no
   * longer open. The kernel drops the registration of a closed fd without
   * a word, so a channel whose fd was closed behind its back would never
   * hear of it; poll(2) reports such an fd as POLLNVAL. select and poll
   * find those by themselves: 0. The number of such fds.
   */
  reportClosed(): number {
    return this.watcher.reportClosed();
  }

  /**
   * Waits until `deadline` (performance.now() ms; Infinity: none), on the
   * worker thread or, for epoll, on Node's loop, then runs the handlers of
   * what is ready and calls done() with their number (0: the deadline
   * passed; -1: wake() ended the wait, and the pass must look at the map
   * again).
   */
  wait(deadline: number, done: WaitDone): void {
    if (!this.select) {
      this.watcher.wait(deadline, done, endWait);
      return;
    }
    this.readyCount = 0;
    this.watcher.wait(
      deadline,
      (error, count) => {
        if (error === null && this.readyCount > 0) {
          try {
            this.dispatchSelect();
          } catch (err) {
            done(err as Error, 0);
            return;
          }
        }
        done(error, count);
      },
      endWait,
    );
  }

  /** Ends a running wait (its done() gets -1). */
  wake(): void {
    this.watcher.wake();
  }

  /**
   * select: runs the handlers of the pairs the poll reported, as poll()
   * does: every read, then every write, then every exceptional condition,
   * each skipped when its channel has left the fd.
   */
  private dispatchSelect(): void {
    const ready = this.ready;
    const count = this.readyCount;
    this.readyCount = 0;
    const changes = this.changes;
    // An fd closed under a channel still in the map fails select() in
    // CPython (OSError EBADF out of poll()); one whose channel left the
    // map during the wait is no concern of this pass.
    for (let i = 0; i < count; i++) {
      if (ready[2 * i + 1]! & POLLNVAL && this.holder(ready[2 * i]!) !== undefined) {
        throw errorFromErrno(E.EBADF);
      }
    }
    for (let i = 0; i < count; i++) {
      if (!(ready[2 * i + 1]! & POLLIN)) continue;
      const fd = ready[2 * i]!;
      const obj = this.holder(fd);
      if (obj === undefined) continue;
      changes?.markFd(fd);
      read(obj);
    }
    for (let i = 0; i < count; i++) {
      if (!(ready[2 * i + 1]! & POLLOUT)) continue;
      const fd = ready[2 * i]!;
      const obj = this.holder(fd);
      if (obj === undefined) continue;
      changes?.markFd(fd);
      write(obj);
    }
    for (let i = 0; i < count; i++) {
      if (!(ready[2 * i + 1]! & POLLPRI)) continue;
      const fd = ready[2 * i]!;
      const obj = this.holder(fd);
      if (obj === undefined) continue;
      changes?.markFd(fd);
      _exception(obj);
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

  /**
   * A channel left fd (outside a pass, or during one): no event of the
   * pass reaches it, its kept answer goes, and epoll stops watching fd now,
   * while fd still refers to the socket being closed (dispatcher.close()
   * deletes the channel before it closes the socket), so that no
   * registration outlives it under a dup() of the file. select and poll
   * hand the whole set over at the next pass (their worker may be waiting
   * on it now).
   */
  channelRemoved(fd: number): void {
    if (this.changes !== null && fd < this.keptPosition.length) this.keep(fd, undefined, 0);
    else if (fd < this.passChannels.length) this.passChannels[fd] = undefined;
    const registeredFor = this.registeredFor;
    if (registeredFor === null) return;
    if (fd < registeredFor.length) registeredFor[fd] = undefined;
    if (!this.watcher.isClosed) this.watcher.unwatch(fd);
  }

  close(): void {
    if (this.watcher.isClosed) return;
    if (this.changes !== null) this.forgetAnswers();
    this.watcher.close();
  }
}

/** A wait that wake() ended ends: the pass looks at the map again. */
function endWait(): boolean {
  return true;
}
