// The reactor: Twisted's one event loop per process, a client of the fd
// watcher (epoll) as Twisted's epollreactor is of epoll. It keeps one table,
// fd to descriptor; a descriptor's reader and writer sets are the watch of
// its fd. Each turn of its loop runs the timed calls that are due, then
// waits on the watcher until an fd is ready (each ready descriptor's
// doRead()/doWrite() runs from the watcher's callback) or the earliest
// timed call is due. A turn after one that ran handlers spins first, as
// asyncore's passes do (spin.ts): a wait costs a turn of Node's loop, and
// a busy peer's next message usually comes within the few tens of
// microseconds the spin re-polls for. A change made from outside the loop
// (callLater(), stop(), crash()) wakes the wait so that the turn is taken
// again. The shutdown runs as Twisted runs it: the "before" triggers
// (whose Deferreds it waits for), "during" (disconnecting everything),
// "after".
import { performance } from 'node:perf_hooks';
import * as util from 'node:util';
import { PollerKind } from '../binding';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT } from '../constants';
import { SpinPolicy } from '../spin';
import { checkFd } from '../validate';
import { Watcher } from '../watcher';
import { isNewOnly } from './callable';
import { Deferred, DeferredList } from './defer';
import { describe } from './describe';
import {
  AlreadyCalled,
  AlreadyCancelled,
  ConnectionDone,
  ConnectionLost,
  ReactorAlreadyRunning,
  ReactorNotRestartable,
  ReactorNotRunning,
} from './error';
import { Failure } from './failure';
import {
  FileDescriptor,
  addSelectable,
  asFailure,
  disconnectSelectable,
  doReadOrWrite,
  hangUp,
  logThrown,
  removeSelectable,
  watchSelectable,
  watchedFd,
  type SelectableReactor,
} from './selectable';
import { setDefaultClock, type ClientFactory, type DatagramProtocol, type Factory } from './protocol';
import { Connector, TCPPort } from './tcp';
import { UNIXConnector, UNIXPort } from './unix';
import { UDPPort } from './udp';
import { PassIO, passIO } from './pass_io';

/** A function to call later, with its arguments. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Callable = (...args: any[]) => unknown;

/** The time source a DelayedCall asks (a reactor or a task.Clock). */
interface DelayedCallOwner {
  seconds(): number;
  /** The call's time changed (reset(), delay()). */
  rescheduled(call: DelayedCall): void;
  /** The call was cancelled. */
  cancelled(call: DelayedCall): void;
}

/**
 * A call scheduled by callLater(): Twisted's IDelayedCall. It can be
 * cancelled, moved to another time (reset) or put off (delay) until it runs.
 */
export class DelayedCall {
  /** When it runs, in seconds since the epoch (the clock's seconds()). */
  time: number;
  /** The function to call. */
  func: Callable | null;
  /** Its arguments. */
  args: unknown[];
  /** Set by cancel(). */
  cancelled = false;
  /** Set when it has run. */
  called = false;
  /** Bumped on every change of time, so that stale queue entries are known. */
  generation = 0;
  private readonly owner: DelayedCallOwner;

  /** Made by callLater(); not meant to be made directly. */
  constructor(time: number, func: Callable, args: unknown[], owner: DelayedCallOwner) {
    const o = owner as Partial<DelayedCallOwner> | null;
    if (o === null || typeof o !== 'object' || typeof o.seconds !== 'function' || typeof o.rescheduled !== 'function' || typeof o.cancelled !== 'function') {
      throw new TypeError(`DelayedCall(): needs the clock that schedules it (seconds(), rescheduled(), cancelled()), not ${describe(owner)}`);
    }
    if (typeof time !== 'number') throw new TypeError(`DelayedCall(): time must be a number of seconds, not ${describe(time)}`);
    if (typeof func !== 'function' || isNewOnly(func)) throw new TypeError(`DelayedCall(): func must be a function to call, not ${describe(func)}`);
    if (!Array.isArray(args)) throw new TypeError(`DelayedCall(): args must be an array, not ${describe(args)}`);
    this.time = time;
    this.func = func;
    this.args = args;
    this.owner = owner;
  }

  /** When the call is to run (seconds, the clock's time). */
  getTime(): number {
    return this.time;
  }

  /** Stops the call from running; AlreadyCancelled or AlreadyCalled if it cannot. */
  cancel(): void {
    this.checkActive();
    this.cancelled = true;
    this.generation += 1;
    this.owner.cancelled(this);
    this.func = null;
    this.args = [];
  }

  /** Makes the call run `secondsFromNow` seconds from now instead. */
  reset(secondsFromNow: number): void {
    checkDelay('reset', secondsFromNow);
    this.checkActive();
    this.time = this.owner.seconds() + secondsFromNow;
    this.generation += 1;
    this.owner.rescheduled(this);
  }

  /** Puts the call off by `secondsLater` seconds (negative: brings it forward). */
  delay(secondsLater: number): void {
    if (typeof secondsLater !== 'number' || Number.isNaN(secondsLater)) {
      throw new TypeError(`delay(): needs a number of seconds, not ${util.inspect(secondsLater)}`);
    }
    this.checkActive();
    this.time += secondsLater;
    this.generation += 1;
    this.owner.rescheduled(this);
  }

  /** Whether it has neither run nor been cancelled. */
  active(): boolean {
    return !(this.cancelled || this.called);
  }

  /** "<DelayedCall [active|called|cancelled] time=... fn>". */
  toString(): string {
    const state = this.cancelled ? 'cancelled' : this.called ? 'called' : `${(this.time - this.owner.seconds()).toFixed(3)}s`;
    return `<DelayedCall ${state} ${this.func?.name || 'anonymous'}>`;
  }

  private checkActive(): void {
    if (this.cancelled) throw new AlreadyCancelled();
    if (this.called) throw new AlreadyCalled();
  }
}

function checkDelay(where: string, delay: unknown): void {
  if (typeof delay !== 'number' || Number.isNaN(delay)) {
    throw new TypeError(`${where}(): needs a number of seconds, not ${util.inspect(delay)}`);
  }
  if (delay < 0) throw new RangeError(`${where}(): cannot take a negative delay: ${delay}`);
}

interface QueueEntry {
  time: number;
  seq: number;
  generation: number;
  call: DelayedCall;
}

/**
 * The timed calls of a clock, in a binary heap by (time, order of
 * scheduling). Changed and cancelled calls leave stale entries behind,
 * which are skipped (their generation no longer matches).
 */
export class DelayedCallQueue implements DelayedCallOwner {
  private heap: QueueEntry[] = [];
  private seq = 0;
  private live = 0;
  private readonly now: () => number;
  private readonly changed: () => void;

  /** A queue on the time source `now`; `changed` is told when the earliest time may have moved. */
  constructor(now: () => number, changed: () => void = () => {}) {
    this.now = now;
    this.changed = changed;
  }

  /** The clock's time. */
  seconds(): number {
    return this.now();
  }

  /** Schedules `fn(...args)` `delay` seconds from now. */
  schedule(delay: number, fn: Callable, args: unknown[]): DelayedCall {
    checkDelay('callLater', delay);
    if (typeof fn !== 'function') throw new TypeError(`callLater(): needs a function, not ${util.inspect(fn)}`);
    const call = new DelayedCall(this.now() + delay, fn, args, this);
    this.live += 1;
    this.push(call);
    return call;
  }

  /** A DelayedCall's time changed. */
  rescheduled(call: DelayedCall): void {
    this.push(call);
  }

  /** A DelayedCall was cancelled. */
  cancelled(_call: DelayedCall): void {
    this.live -= 1;
    this.changed();
  }

  private push(call: DelayedCall): void {
    const entry: QueueEntry = { time: call.time, seq: ++this.seq, generation: call.generation, call };
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
    this.changed();
  }

  private pop(): QueueEntry | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }

  private dropStale(): void {
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      if (top.generation === top.call.generation && top.call.active()) return;
      this.pop();
    }
  }

  /** The time of the earliest active call, or null when there is none. */
  nextTime(): number | null {
    this.dropStale();
    return this.heap.length > 0 ? this.heap[0]!.time : null;
  }

  /** The calls not yet run nor cancelled. */
  getDelayedCalls(): DelayedCall[] {
    const calls = new Set<DelayedCall>();
    for (const e of this.heap) if (e.generation === e.call.generation && e.call.active()) calls.add(e.call);
    return [...calls];
  }

  /**
   * Runs every call due now, in time order. Calls scheduled while these
   * run wait for the next round, even when due, as in Twisted.
   */
  runUntilCurrent(): void {
    const now = this.now();
    const due: QueueEntry[] = [];
    for (;;) {
      this.dropStale();
      const top = this.heap[0];
      if (top === undefined || top.time > now) break;
      due.push(this.pop()!);
    }
    for (const entry of due) {
      const call = entry.call;
      if (entry.generation !== call.generation || !call.active()) continue;
      call.called = true;
      this.live -= 1;
      const fn = call.func!;
      const args = call.args;
      call.func = null;
      call.args = [];
      try {
        fn(...args);
      } catch (err) {
        logThrown(err, 'Unhandled error in a delayed call:');
      }
    }
  }
}

function before(a: QueueEntry, b: QueueEntry): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

type Phase = 'before' | 'during' | 'after';

/** A system event's triggers, fired in three phases as Twisted fires them. */
class ThreePhaseEvent {
  readonly triggers: Record<Phase, Array<[Callable, unknown[]]>> = { before: [], during: [], after: [] };

  add(phase: Phase, fn: Callable, args: unknown[]): [Callable, unknown[]] {
    const entry: [Callable, unknown[]] = [fn, args];
    this.triggers[phase].push(entry);
    return entry;
  }

  remove(phase: Phase, entry: [Callable, unknown[]]): void {
    const list = this.triggers[phase];
    const i = list.indexOf(entry);
    if (i < 0) throw new RangeError('removeSystemEventTrigger(): that trigger is not (or no longer) registered');
    list.splice(i, 1);
  }

  fire(): void {
    const results: Array<Deferred<unknown>> = [];
    while (this.triggers.before.length > 0) {
      const [fn, args] = this.triggers.before.shift()!;
      try {
        const result = fn(...args);
        if (result instanceof Deferred) results.push(result);
      } catch (err) {
        logThrown(err);
      }
    }
    new DeferredList(results).addCallback(() => this.continueFiring());
  }

  private continueFiring(): void {
    for (const phase of ['during', 'after'] as const) {
      while (this.triggers[phase].length > 0) {
        const [fn, args] = this.triggers[phase].shift()!;
        try {
          fn(...args);
        } catch (err) {
          logThrown(err);
        }
      }
    }
  }
}

/** Something addReader() may watch: it has a file descriptor and a doRead(). */
export interface IReadDescriptor {
  /** The file descriptor to watch. */
  fileno(): number;
  /** Called when it is readable; an Error returned disconnects it. */
  doRead(): unknown;
  /** Called when it is dropped (an error, or the reactor shutting down). */
  connectionLost?(reason: Failure): void;
  /** Optional prefix for log lines. */
  logPrefix?(): string;
}

/** Something addWriter() may watch: it has a file descriptor and a doWrite(). */
export interface IWriteDescriptor {
  /** The file descriptor to watch. */
  fileno(): number;
  /** Called when it is writable; an Error returned disconnects it. */
  doWrite(): unknown;
  /** Called when it is dropped. */
  connectionLost?(reason: Failure): void;
  /** Optional prefix for log lines. */
  logPrefix?(): string;
}

type Descriptor = Partial<IReadDescriptor & IWriteDescriptor> & { fileno(): number };

/** The descriptor that stands for an object given to addReader()/addWriter(). */
class ForeignDescriptor extends FileDescriptor {
  readonly target: Descriptor;
  private readonly fd: number;

  constructor(reactor: SelectableReactor, target: Descriptor, fd: number) {
    super(reactor);
    this.target = target;
    this.fd = fd;
    this.register(fd);
  }

  fileno(): number {
    return this.fd;
  }

  doRead(): unknown {
    return this.target.doRead?.();
  }

  doWrite(): unknown {
    return this.target.doWrite?.();
  }

  connectionLost(reason: Failure): void {
    this.disconnected = true;
    this.unregister();
    this.target.connectionLost?.(reason);
  }

  /** Leaves the reactor without telling the target (removeReader and removeWriter both done). */
  detach(): void {
    this.unregister();
  }

  override logPrefix(): string {
    return this.target.logPrefix?.() ?? this.target.constructor.name;
  }
}

/** What the hang-up of an fd is: the bits poll(2) sets whether asked for or not. */
const HANGUP = POLLHUP | POLLERR | POLLNVAL;

/** The listening ports and connectors listenTCP() and its kin return. */
export type { TCPPort, Connector, UNIXPort, UNIXConnector, UDPPort };

/**
 * Twisted's reactor: the single event loop of the process. It waits on its
 * own fd watcher (epoll); while it runs, Node's event loop keeps running
 * too (timers, promises, other I/O).
 */
export class Reactor implements SelectableReactor {
  /** True from the startup event until the reactor stops. */
  running = false;
  private started = false;
  private stopped = true;
  private startedBefore = false;
  private justStopped = false;
  private readonly events = new Map<string, ThreePhaseEvent>();
  private readonly foreign = new Map<object, ForeignDescriptor>();
  private readonly delayed: DelayedCallQueue;
  /**
   * The fd watcher, while the loop runs: made when it starts (watching
   * what each descriptor's reading/writing asks), closed when it ends, so
   * that a reactor not running holds no fd of its own.
   */
  #watcher: Watcher | null = null;
  /** fd -> the descriptor that holds it. */
  readonly #selectables: Array<FileDescriptor | undefined> = [];
  /** Each pass's reads and its connections' writes, one native call each. @internal */
  readonly [passIO] = new PassIO(this.#selectables);
  /** Whether the loop is under way (a wait pending, a pass running, or its first turn scheduled). */
  #looping = false;
  /** Set while #turn() runs, so that a wait that ends at once does not recurse. */
  #inTurn = false;
  /** Set when a wait ended while #turn() was still in the call that started it. */
  #endedInTurn = false;
  /** The deadline (performance.now() ms) of the wait pending: a timed call due earlier wakes it. */
  #waitDeadline = Infinity;
  /** Whether a turn spins before it waits, and when turns that find work yield to Node's loop. */
  readonly #spin = new SpinPolicy();
  /** What run() waits for: told once the loop ends (null), or fails. */
  #loopEnded: Array<(error: Error | null) => void> = [];

  /** Not meant to be made: use the `reactor` this module exports. */
  constructor() {
    this.delayed = new DelayedCallQueue(
      () => this.seconds(),
      () => this.#delayedChanged(),
    );
    this.addSystemEventTrigger('during', 'startup', () => this.reallyStartRunning());
    this.addSystemEventTrigger('during', 'shutdown', () => this.crash());
    this.addSystemEventTrigger('during', 'shutdown', () => this.disconnectAll());
  }

  // -------------------------------------------------------------------------
  // Time.

  /** The current time in seconds since the epoch, with sub-millisecond resolution. */
  seconds(): number {
    return (performance.timeOrigin + performance.now()) / 1000;
  }

  /** Calls `fn(...args)` `delay` seconds from now, once the reactor runs; the DelayedCall can cancel or move it. */
  callLater(delay: number, fn: Callable, ...args: unknown[]): DelayedCall {
    return this.delayed.schedule(delay, fn, args);
  }

  /** The calls scheduled with callLater() that have not run nor been cancelled. */
  getDelayedCalls(): DelayedCall[] {
    return this.delayed.getDelayedCalls();
  }

  /**
   * The earliest timed call may have moved. Within a turn the next wait
   * reads it anyway; a wait pending is woken only if the call is due
   * before that wait would end.
   */
  #delayedChanged(): void {
    const watcher = this.#watcher;
    if (watcher === null || !watcher.waiting) return;
    const next = this.delayed.nextTime();
    if (next !== null && deadlineOf(next) < this.#waitDeadline) this.#wakeWait();
  }

  // -------------------------------------------------------------------------
  // System events.

  /**
   * Adds a trigger for a system event ('startup' or 'shutdown'; any name
   * works with fireSystemEvent()) in a phase: 'before' (a Deferred it
   * returns is waited for), 'during' or 'after'. Returns an id for
   * removeSystemEventTrigger().
   */
  addSystemEventTrigger(phase: Phase, eventType: string, fn: Callable, ...args: unknown[]): unknown {
    if (phase !== 'before' && phase !== 'during' && phase !== 'after') {
      throw new RangeError(`addSystemEventTrigger(): phase must be 'before', 'during' or 'after', not ${describe(phase)}`);
    }
    if (typeof eventType !== 'string') {
      throw new TypeError(`addSystemEventTrigger(): eventType must be a string, not ${describe(eventType)}`);
    }
    if (typeof fn !== 'function') throw new TypeError(`addSystemEventTrigger(): needs a function, not ${describe(fn)}`);
    let event = this.events.get(eventType);
    if (event === undefined) {
      event = new ThreePhaseEvent();
      this.events.set(eventType, event);
    }
    return [eventType, phase, event.add(phase, fn, args)];
  }

  /** Removes a trigger added by addSystemEventTrigger(), given the id it returned. */
  removeSystemEventTrigger(triggerID: unknown): void {
    if (!Array.isArray(triggerID) || triggerID.length !== 3) {
      throw new TypeError(`removeSystemEventTrigger(): not a trigger id: ${describe(triggerID)}`);
    }
    const [eventType, phase, entry] = triggerID as [string, Phase, [Callable, unknown[]]];
    const event = this.events.get(eventType);
    if (event === undefined) throw new RangeError(`removeSystemEventTrigger(): no such trigger`);
    event.remove(phase, entry);
  }

  /** Fires a system event: its triggers run, phase by phase. */
  fireSystemEvent(eventType: string): void {
    this.events.get(eventType)?.fire();
  }

  /** Calls `fn(...args)` now if the reactor runs, or once it has started. */
  callWhenRunning(fn: Callable, ...args: unknown[]): unknown {
    if (this.running) {
      try {
        fn(...args);
      } catch (err) {
        logThrown(err);
      }
      return undefined;
    }
    return this.addSystemEventTrigger('after', 'startup', fn, ...args);
  }

  // -------------------------------------------------------------------------
  // Running and stopping.

  /**
   * Runs the reactor until stop(). The returned Promise resolves once the
   * shutdown triggers have run; meanwhile the process stays alive. It
   * rejects with ReactorAlreadyRunning or ReactorNotRestartable, as
   * Twisted's run() raises them.
   */
  async run(): Promise<void> {
    this.startRunning();
    await new Promise<void>((resolve, reject) => {
      this.#loopEnded.push((error) => (error === null ? resolve() : reject(error)));
      if (this.#looping) return;
      this.#looping = true;
      this.#openWatcher();
      this.#firstWait();
    });
  }

  private startRunning(): void {
    if (this.started) throw new ReactorAlreadyRunning();
    if (this.startedBefore) throw new ReactorNotRestartable();
    this.started = true;
    this.stopped = false;
    this.fireSystemEvent('startup');
  }

  private reallyStartRunning(): void {
    this.running = true;
  }

  /**
   * The loop starts with a wait, so that run() itself calls no handler:
   * timed calls already due run from Node's loop, as a zero delay runs.
   */
  #firstWait(): void {
    const next = this.delayed.nextTime();
    const deadline = next === null ? Infinity : deadlineOf(next);
    if (!this.started || this.justStopped || deadline <= performance.now()) {
      setImmediate(this.#turn);
      return;
    }
    this.#waitDeadline = deadline;
    this.#inTurn = true;
    this.#endedInTurn = false;
    try {
      this.#watcher!.wait(deadline, this.#waitEnded, this.#woken);
    } finally {
      this.#inTurn = false;
    }
    if (this.#endedInTurn) setImmediate(this.#turn);
  }

  /**
   * One turn of the loop, or more when a wait ends at once: the shutdown
   * if stop() asked for it, the timed calls that are due, a spin if the
   * last turn ran handlers, then a wait on the watcher until an fd is ready
   * or the next timed call is due. The wait's end (#waitEnded) takes the
   * next turn.
   */
  readonly #turn = (): void => {
    this.#inTurn = true;
    try {
      for (;;) {
        if (!this.started) {
          this.#endLoop(null);
          return;
        }
        if (this.justStopped) {
          this.justStopped = false;
          this.fireSystemEvent('shutdown');
          continue;
        }
        this.delayed.runUntilCurrent();
        if (!this.started || this.justStopped) continue;
        const next = this.delayed.nextTime();
        const deadline = next === null ? Infinity : deadlineOf(next);
        const watcher = this.#watcher!;
        if (deadline <= performance.now()) {
          // A timed call is due already: what is ready is handled without
          // waiting, and Node's loop gets its turn before the next one.
          this.#spin.passEnded(watcher.pollNow() > 0);
          this.#yield();
          return;
        }
        // A busy reactor re-polls before it pays for a wait, until the next
        // timed call is due at the latest; what the re-polls found has run,
        // and the next turn follows at once, or after Node's loop has had
        // its turn if turns have found work for long enough.
        const ready = this.#spin.spin(watcher, deadline);
        this.#spin.passEnded(ready > 0);
        if (ready > 0) {
          if (!this.#spin.shouldYield()) continue;
          this.#yield();
          return;
        }
        this.#waitDeadline = deadline;
        this.#endedInTurn = false;
        watcher.wait(deadline, this.#waitEnded, this.#woken);
        if (!this.#endedInTurn) return;
      }
    } catch (err) {
      this.#endLoop(err as Error);
    } finally {
      this.#inTurn = false;
    }
  };

  /** A wait ended: the ready descriptors were called back (count), or the wait failed. */
  readonly #waitEnded = (error: Error | null, count: number): void => {
    this.#waitDeadline = Infinity;
    if (error !== null) {
      this.#endLoop(error);
      return;
    }
    this.#spin.passEnded(count > 0);
    this.#spin.resetYieldBudget();
    if (this.#inTurn) this.#endedInTurn = true;
    else this.#turn();
  };

  /** The next turn runs after Node's loop has had its turn (timers, promises, its own I/O). */
  #yield(): void {
    this.#spin.resetYieldBudget();
    setImmediate(this.#turn);
  }

  /** #wakeWait() ended the wait: the turn is taken again (what was ready is still ready). */
  readonly #woken = (): boolean => true;

  #endLoop(error: Error | null): void {
    this.#looping = false;
    this.#watcher?.close();
    this.#watcher = null;
    if (error !== null) {
      this.started = false;
      this.running = false;
    }
    for (const ended of this.#loopEnded.splice(0)) ended(error);
  }

  /**
   * Stops the reactor: the shutdown event fires (its 'before' triggers,
   * then every connection and port is closed, then the 'after' triggers)
   * and run()'s Promise resolves. ReactorNotRunning when it is not running.
   */
  stop(): void {
    if (this.stopped) throw new ReactorNotRunning("Can't stop reactor that isn't running.");
    this.stopped = true;
    this.justStopped = true;
    this.startedBefore = true;
    this.#wakeWait();
  }

  /**
   * Stops the loop at once, without the shutdown event. The reactor is
   * left as it is (connections stay open).
   */
  crash(): void {
    this.started = false;
    this.running = false;
    this.addSystemEventTrigger('during', 'startup', () => this.reallyStartRunning());
    this.#wakeWait();
  }

  /**
   * stop(), crash() or an earlier timed call outside the loop's turn, while
   * it waits: the wait ends and the turn is taken again. Within a turn the
   * loop sees the change itself; a change of watch wakes the watcher's wait
   * by itself.
   */
  #wakeWait(): void {
    if (this.#watcher !== null && this.#watcher.waiting) this.#watcher.wake();
  }

  // -------------------------------------------------------------------------
  // Descriptors.

  /** A new watcher, watching each descriptor as its reading/writing asks. */
  #openWatcher(): void {
    this.#watcher = new Watcher(PollerKind.epoll);
    this.#watcher.setPassHooks(this[passIO]);
    for (const selectable of this.#selectables) if (selectable !== undefined) this[watchSelectable](selectable);
  }

  /** `selectable` holds `fd` now (see SelectableReactor). @internal */
  [addSelectable](selectable: FileDescriptor, fd: number): void {
    const held = this.#selectables[fd];
    // A descriptor whose fd was closed under it (a foreign one, closed by
    // its owner) leaves the table to the new file.
    if (held !== undefined) held[watchedFd] = -1;
    if (this.#watcher !== null && this.#watcher.watchedFor(fd) !== 0) this.#watcher.unwatch(fd);
    while (this.#selectables.length <= fd) this.#selectables.push(undefined);
    this.#selectables[fd] = selectable;
    selectable[watchedFd] = fd;
  }

  /** The watch of `selectable`'s fd follows its reading/writing. @internal */
  [watchSelectable](selectable: FileDescriptor): void {
    const fd = selectable[watchedFd];
    const watcher = this.#watcher;
    if (fd < 0 || watcher === null) return;
    const events = (selectable.reading ? POLLIN : 0) | (selectable.writing ? POLLOUT : 0);
    watcher.watch(fd, events, this.#onReady);
  }

  /** `selectable`'s fd is about to be closed: unwatched and forgotten. @internal */
  [removeSelectable](selectable: FileDescriptor): void {
    const fd = selectable[watchedFd];
    if (fd < 0) return;
    selectable[watchedFd] = -1;
    if (this.#selectables[fd] !== selectable) return;
    this.#selectables[fd] = undefined;
    this.#watcher?.unwatch(fd);
  }

  /**
   * A watched fd is ready: its descriptor reads, then writes if it still
   * holds the fd, then hangs up (POLLHUP, POLLERR) if it still does, so
   * that what came with a hang-up is read first. What a handler lets
   * through is logged and drops the descriptor.
   */
  readonly #onReady = (fd: number, revents: number): void => {
    const selectable = this.#selectables[fd];
    if (selectable === undefined) return;
    try {
      if (revents & POLLIN) doReadOrWrite(selectable, true);
      if (revents & POLLOUT && this.#selectables[fd] === selectable) doReadOrWrite(selectable, false);
      if (revents & HANGUP && this.#selectables[fd] === selectable && !selectable.disconnected) selectable[hangUp]();
    } catch (err) {
      logThrown(err);
      if (!selectable.disconnected) disconnectSelectable(selectable, asFailure(err));
    }
  };

  /** Watches `reader` for read readiness: its doRead() runs when it is readable. */
  addReader(reader: IReadDescriptor | FileDescriptor): void {
    if (reader instanceof FileDescriptor) {
      reader.startReading();
      return;
    }
    this.#descriptorFor(reader, 'addReader').startReading();
  }

  /** Watches `writer` for write readiness: its doWrite() runs when it is writable. */
  addWriter(writer: IWriteDescriptor | FileDescriptor): void {
    if (writer instanceof FileDescriptor) {
      writer.startWriting();
      return;
    }
    this.#descriptorFor(writer, 'addWriter').startWriting();
  }

  /** Stops watching `reader` for reading. */
  removeReader(reader: IReadDescriptor | FileDescriptor): void {
    if (reader instanceof FileDescriptor) {
      reader.stopReading();
      return;
    }
    const d = this.foreign.get(reader);
    if (d === undefined) return;
    d.stopReading();
    this.#dropIfIdle(reader, d);
  }

  /** Stops watching `writer` for writing. */
  removeWriter(writer: IWriteDescriptor | FileDescriptor): void {
    if (writer instanceof FileDescriptor) {
      writer.stopWriting();
      return;
    }
    const d = this.foreign.get(writer);
    if (d === undefined) return;
    d.stopWriting();
    this.#dropIfIdle(writer, d);
  }

  /** Everything watched for reading. */
  getReaders(): unknown[] {
    return this.selectables().filter((s) => s.reading).map((s) => (s instanceof ForeignDescriptor ? s.target : s));
  }

  /** Everything watched for writing. */
  getWriters(): unknown[] {
    return this.selectables().filter((s) => s.writing).map((s) => (s instanceof ForeignDescriptor ? s.target : s));
  }

  /** Stops watching everything; returns what was watched. */
  removeAll(): unknown[] {
    const all = this.selectables().filter((s) => s.reading || s.writing);
    for (const s of all) {
      if (s instanceof ForeignDescriptor) {
        this.foreign.delete(s.target);
        s.detach();
      } else {
        s.stopReading();
        s.stopWriting();
      }
    }
    return all.map((s) => (s instanceof ForeignDescriptor ? s.target : s));
  }

  /** Every descriptor the reactor holds, in fd order. */
  private selectables(): FileDescriptor[] {
    const out: FileDescriptor[] = [];
    for (const s of this.#selectables) if (s !== undefined) out.push(s);
    return out;
  }

  #descriptorFor(obj: Descriptor, where: string): ForeignDescriptor {
    if (obj === null || typeof obj !== 'object' || typeof obj.fileno !== 'function') {
      throw new TypeError(`${where}(): needs an object with fileno(), not ${describe(obj)}`);
    }
    let d = this.foreign.get(obj);
    if (d === undefined) {
      const fd = checkFd(`${where}(): fileno()`, obj.fileno());
      d = new ForeignDescriptor(this, obj, fd);
      this.foreign.set(obj, d);
    }
    return d;
  }

  #dropIfIdle(obj: object, d: ForeignDescriptor): void {
    if (d.reading || d.writing) return;
    this.foreign.delete(obj);
    d.detach();
  }

  /** At shutdown: every descriptor gets connectionLost() with ConnectionLost (ports: ConnectionDone). */
  private disconnectAll(): void {
    for (const s of this.selectables()) {
      if (s.disconnected) continue;
      if (s instanceof ForeignDescriptor) {
        this.foreign.delete(s.target);
        s.connectionLost(new Failure(new ConnectionLost()));
        continue;
      }
      const reason = s instanceof TCPPort || s instanceof UDPPort ? new ConnectionDone() : new ConnectionLost();
      disconnectSelectable(s, reason);
    }
  }

  // -------------------------------------------------------------------------
  // Networking.

  /** Listens on TCP `port` (0: any free one) of `iface` ('' : every IPv4 interface; '::' for IPv6). */
  listenTCP(port: number, factory: Factory, backlog = 50, iface = ''): TCPPort {
    const p = new TCPPort(this, port, factory, backlog, iface);
    p.startListening();
    return p;
  }

  /** Connects to `host`:`port` over TCP; `factory` builds the protocol once connected. */
  connectTCP(
    host: string,
    port: number,
    factory: ClientFactory,
    timeout: number | null = 30,
    bindAddress: [string, number] | null = null,
  ): Connector {
    const c = new Connector(this, host, port, factory, timeout, bindAddress);
    c.connect();
    return c;
  }

  /** Listens on the UNIX socket `address` (a path; "\0name" is abstract); wantPID: hold the lock file ADDRESS.lock. */
  listenUNIX(address: string, factory: Factory, backlog = 50, mode = 0o666, wantPID = false): UNIXPort {
    const p = new UNIXPort(this, address, factory, backlog, mode, wantPID);
    p.startListening();
    return p;
  }

  /** Connects to the UNIX socket `address`; checkPID: only while its server holds ADDRESS.lock. */
  connectUNIX(address: string, factory: ClientFactory, timeout: number | null = 30, checkPID = false): UNIXConnector {
    const c = new UNIXConnector(this, address, factory, timeout, checkPID);
    c.connect();
    return c;
  }

  /** Binds a UDP port for `protocol` (0: any free one). */
  listenUDP(port: number, protocol: DatagramProtocol, iface = '', maxPacketSize = 8192): UDPPort {
    const p = new UDPPort(this, port, protocol, iface, maxPacketSize);
    p.startListening();
    return p;
  }

  /** "<Reactor running|stopped>". */
  toString(): string {
    return `<Reactor ${this.running ? 'running' : 'stopped'}>`;
  }
}

/** The reactor of this process. */
export const reactor = new Reactor();

setDefaultClock(() => reactor);

/** A clock time (seconds since the epoch, as seconds() counts) as a performance.now() deadline in ms. */
function deadlineOf(seconds: number): number {
  return seconds * 1000 - performance.timeOrigin;
}
