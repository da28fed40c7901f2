// The reactor: Twisted's one event loop per process, built on an asyncore
// loop over a map of its own (epoll backend, interest on change, so that a
// pass costs what changed and not the number of idle connections). Every
// descriptor it watches is a channel of that map; timed calls run from one Node timer armed for
// the earliest of them; stop() wakes the loop through a pipe whose channel
// ends the asyncore loop with ExitNow. The shutdown then runs as Twisted
// runs it: the "before" triggers (whose Deferreds it waits for), "during"
// (disconnecting everything), "after".
import { performance } from 'node:perf_hooks';
import * as util from 'node:util';
import { dispatcher, ExitNow, loop } from '../asyncore';
import type { SocketMap } from '../asyncore';
import { BlockingIOError } from '../errors';
import * as posix from '../posix';
import { checkFd } from '../validate';
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
import { Selectable, disconnectSelectable, logThrown, type SelectableReactor } from './selectable';
import { setDefaultClock, type ClientFactory, type DatagramProtocol, type Factory } from './protocol';
import { Connector, TCPPort } from './tcp';
import { UNIXConnector, UNIXPort } from './unix';
import { UDPPort } from './udp';
import { LongTimeout } from '../timer';

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

/** The channel that stands for an object given to addReader()/addWriter(). */
class ForeignDescriptor extends Selectable {
  readonly target: Descriptor;

  constructor(reactor: SelectableReactor, target: Descriptor, fd: number) {
    super(reactor);
    this.target = target;
    this._fileno = fd;
    this.add_channel();
  }

  doRead(): unknown {
    return this.target.doRead?.();
  }

  doWrite(): unknown {
    return this.target.doWrite?.();
  }

  connectionLost(reason: Failure): void {
    this.disconnected = true;
    this.leaveMap();
    this.target.connectionLost?.(reason);
  }

  /** Detaches from the map without telling the target (removeReader and removeWriter both done). */
  detach(): void {
    this.leaveMap();
  }

  override logPrefix(): string {
    return this.target.logPrefix?.() ?? this.target.constructor.name;
  }
}

/** The pipe through which stop() and crash() end a waiting asyncore pass. */
class Waker extends dispatcher {
  private readonly writeFd: number;
  private readonly readFd: number;

  constructor(map: SocketMap) {
    super(null, map);
    const [r, w] = posix.pipe();
    posix.set_blocking(r, false);
    posix.set_blocking(w, false);
    this.readFd = r;
    this.writeFd = w;
    this._fileno = r;
    this.add_channel();
  }

  override readable(): boolean {
    return true;
  }

  override writable(): boolean {
    return false;
  }

  wakeUp(): void {
    try {
      posix.write(this.writeFd, WAKE_BYTE);
    } catch (err) {
      // A full pipe already holds a wake-up.
      if (!(err instanceof BlockingIOError)) throw err;
    }
  }

  override handle_read_event(): void {
    try {
      while (posix.read(this.readFd, 512).length > 0);
    } catch (err) {
      if (!(err instanceof BlockingIOError)) throw err;
    }
    throw new ExitNow('reactor wake-up');
  }

  override close(): void {
    this.del_channel();
    posix.close(this.readFd);
    posix.close(this.writeFd);
  }
}

const WAKE_BYTE = new Uint8Array([0x78]);

/** The listening ports and connectors listenTCP() and its kin return. */
export type { TCPPort, Connector, UNIXPort, UNIXConnector, UDPPort };

/**
 * Twisted's reactor: the single event loop of the process. Its loop is an
 * asyncore loop over its own map on the epoll backend; while it runs,
 * Node's event loop keeps running too (timers, promises, other I/O).
 */
export class Reactor implements SelectableReactor {
  /** The asyncore map of every descriptor the reactor watches. */
  readonly map: SocketMap = new Map();
  /** True from the startup event until the reactor stops. */
  running = false;
  private started = false;
  private stopped = true;
  private startedBefore = false;
  private justStopped = false;
  private waker: Waker | null = null;
  private readonly events = new Map<string, ThreePhaseEvent>();
  private readonly foreign = new Map<object, ForeignDescriptor>();
  private readonly delayed: DelayedCallQueue;
  private timer: LongTimeout | NodeJS.Immediate | null = null;
  private timerTime = Infinity;

  /** Not meant to be made: use the `reactor` this module exports. */
  constructor() {
    this.delayed = new DelayedCallQueue(
      () => this.seconds(),
      () => this.armTimer(),
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

  private armTimer(): void {
    if (!this.running && !this.started) return;
    const next = this.delayed.nextTime();
    if (next === null) {
      this.clearTimer();
      return;
    }
    if (this.timer !== null && next >= this.timerTime) return;
    this.clearTimer();
    const ms = (next - this.seconds()) * 1000;
    // A call at Infinity (callLater(Infinity)) never runs: no timer at all.
    if (ms === Infinity) return;
    this.timerTime = next;
    if (ms <= 0) this.timer = setImmediate(() => this.onTimer());
    else this.timer = new LongTimeout(() => this.onTimer(), ms);
  }

  private clearTimer(): void {
    if (this.timer === null) return;
    if (this.timer instanceof LongTimeout) this.timer.clear();
    else clearImmediate(this.timer);
    this.timer = null;
    this.timerTime = Infinity;
  }

  private onTimer(): void {
    this.timer = null;
    this.timerTime = Infinity;
    if (this.started) this.delayed.runUntilCurrent();
    this.armTimer();
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
    try {
      await this.mainLoop();
    } finally {
      this.clearTimer();
      this.waker?.close();
      this.waker = null;
    }
  }

  private startRunning(): void {
    if (this.started) throw new ReactorAlreadyRunning();
    if (this.startedBefore) throw new ReactorNotRestartable();
    this.started = true;
    this.stopped = false;
    this.waker = new Waker(this.map);
    this.fireSystemEvent('startup');
  }

  private reallyStartRunning(): void {
    this.running = true;
    this.armTimer();
  }

  private async mainLoop(): Promise<void> {
    while (this.started) {
      if (this.justStopped) {
        this.justStopped = false;
        this.fireSystemEvent('shutdown');
        continue;
      }
      try {
        await loop({ map: this.map, backend: 'epoll', timeout: null, interest: 'on_change' });
      } catch (err) {
        if (!(err instanceof ExitNow)) {
          this.started = false;
          this.running = false;
          throw err;
        }
      }
    }
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
    this.waker?.wakeUp();
  }

  /**
   * Stops the loop at once, without the shutdown event. The reactor is
   * left as it is (connections stay open).
   */
  crash(): void {
    this.started = false;
    this.running = false;
    this.addSystemEventTrigger('during', 'startup', () => this.reallyStartRunning());
    this.clearTimer();
    this.waker?.wakeUp();
  }

  // -------------------------------------------------------------------------
  // Descriptors.

  /** Watches `reader` for read readiness: its doRead() runs when it is readable. */
  addReader(reader: IReadDescriptor | Selectable): void {
    if (reader instanceof Selectable) {
      reader.startReading();
      return;
    }
    this.#descriptorFor(reader, 'addReader').startReading();
  }

  /** Watches `writer` for write readiness: its doWrite() runs when it is writable. */
  addWriter(writer: IWriteDescriptor | Selectable): void {
    if (writer instanceof Selectable) {
      writer.startWriting();
      return;
    }
    this.#descriptorFor(writer, 'addWriter').startWriting();
  }

  /** Stops watching `reader` for reading. */
  removeReader(reader: IReadDescriptor | Selectable): void {
    if (reader instanceof Selectable) {
      reader.stopReading();
      return;
    }
    const d = this.foreign.get(reader);
    if (d === undefined) return;
    d.stopReading();
    this.#dropIfIdle(reader, d);
  }

  /** Stops watching `writer` for writing. */
  removeWriter(writer: IWriteDescriptor | Selectable): void {
    if (writer instanceof Selectable) {
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

  private selectables(): Selectable[] {
    const out: Selectable[] = [];
    for (const channel of this.map.values()) if (channel instanceof Selectable) out.push(channel);
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
