// twisted.internet.task: LoopingCall (a function called every interval),
// Clock (a clock that only moves when told, for tests), deferLater().
import { Deferred, maybeDeferred } from './defer';
import { describe, pythonRepr } from './describe';
import { ReactorNotRunning } from './error';
import { Failure } from './failure';
import * as log from './log';
import { DelayedCall, reactor, type Callable } from './reactor';

/** What LoopingCall and deferLater schedule on: the reactor, or a Clock. */
export interface IReactorTime {
  /** Schedules `fn(...args)` `delay` seconds from now. */
  callLater(delay: number, fn: Callable, ...args: unknown[]): DelayedCall;
  /** The current time, in seconds. */
  seconds(): number;
  /** The calls still to run. */
  getDelayedCalls(): DelayedCall[];
}

/**
 * A clock for tests: time stands still until advance() moves it, which
 * runs what falls due, in order (calls made due by those calls included).
 */
export class Clock implements IReactorTime {
  /** The current time, in seconds. */
  rightNow = 0.0;
  /** The scheduled calls, earliest first. */
  calls: DelayedCall[] = [];

  /** The current time. */
  seconds(): number {
    return this.rightNow;
  }

  /** Schedules `fn(...args)` `delay` seconds from now on this clock. */
  callLater(delay: number, fn: Callable, ...args: unknown[]): DelayedCall {
    if (typeof delay !== 'number' || Number.isNaN(delay)) {
      throw new TypeError(`callLater(): needs a number of seconds, not ${describe(delay)}`);
    }
    if (typeof fn !== 'function') throw new TypeError(`callLater(): needs a function, not ${describe(fn)}`);
    const owner = {
      seconds: () => this.seconds(),
      rescheduled: () => this.sortCalls(),
      cancelled: (call: DelayedCall) => {
        const i = this.calls.indexOf(call);
        if (i >= 0) this.calls.splice(i, 1);
      },
    };
    const call = new DelayedCall(this.seconds() + delay, fn, args, owner);
    this.calls.push(call);
    this.sortCalls();
    return call;
  }

  /** The calls still to run. */
  getDelayedCalls(): DelayedCall[] {
    return this.calls;
  }

  private sortCalls(): void {
    this.calls.sort((a, b) => a.getTime() - b.getTime());
  }

  /** Moves time on by `amount` seconds, running every call that falls due. */
  advance(amount: number): void {
    if (typeof amount !== 'number' || Number.isNaN(amount)) {
      throw new TypeError(`advance(): needs a number of seconds, not ${describe(amount)}`);
    }
    this.rightNow += amount;
    this.sortCalls();
    while (this.calls.length > 0 && this.calls[0]!.getTime() <= this.seconds()) {
      const call = this.calls.shift()!;
      call.called = true;
      const fn = call.func!;
      const args = call.args;
      fn(...args);
      this.sortCalls();
    }
  }

  /** advance() by each amount in turn. */
  pump(timings: Iterable<number>): void {
    if (timings === null || typeof timings !== 'object' || typeof (timings as Partial<Iterable<number>>)[Symbol.iterator] !== 'function') {
      throw new TypeError(`pump(): timings must be an iterable of seconds, not ${describe(timings)}`);
    }
    for (const amount of timings) this.advance(amount);
  }
}

/**
 * Calls a function every `interval` seconds. start() returns a Deferred
 * that fires with the LoopingCall when stop() is called, or fails with the
 * first error the function throws (or fails its Deferred with); a call
 * that returns a Deferred or a Promise is waited for before the next.
 * Calls keep to the original schedule: late ones are not run twice.
 */
export class LoopingCall {
  /** The function called. */
  readonly f: Callable;
  /** Its arguments. */
  readonly a: unknown[];
  /** The clock it schedules on (the reactor unless set). */
  clock: IReactorTime = reactor;
  /** Whether it is started. */
  running = false;
  /** The seconds between calls, once started. */
  interval: number | null = null;
  /** When start() was called. */
  starttime: number | null = null;
  /** The next scheduled call. */
  call: DelayedCall | null = null;
  private deferredResult: Deferred<LoopingCall> | null = null;
  private runAtStart = false;
  /** When withCount()'s function was last really called. */
  private realLastTime: number | null = null;

  /** A looping call of `f(...args)`. */
  constructor(f: Callable, ...args: unknown[]) {
    if (typeof f !== 'function') throw new TypeError(`LoopingCall(): needs a function, not ${describe(f)}`);
    this.f = f;
    this.a = args;
  }

  /**
   * A LoopingCall of `countCallable(count)`, where count is how many
   * intervals have passed since it was last called: 1 normally, more when
   * calls were missed (a blocked process, a slow Deferred). See
   * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.task.LoopingCall.html#withCount
   */
  static withCount(countCallable: (count: number) => unknown): LoopingCall {
    if (typeof countCallable !== 'function') {
      throw new TypeError(`LoopingCall.withCount(): needs a function, not ${describe(countCallable)}`);
    }
    const call: LoopingCall = new LoopingCall(() => {
      const now = call.clock.seconds();
      if (call.interval === 0) {
        call.realLastTime = now;
        return countCallable(1);
      }
      let lastTime = call.realLastTime;
      if (lastTime === null) {
        lastTime = call.starttime!;
        if (call.runAtStart) lastTime -= call.interval!;
      }
      const count = call.intervalOf(now) - call.intervalOf(lastTime);
      if (count > 0) {
        call.realLastTime = now;
        return countCallable(count);
      }
      return undefined;
    });
    return call;
  }

  /** How many whole intervals have passed at time `t` since the start. */
  private intervalOf(t: number): number {
    const elapsed = t - this.starttime!;
    const intervalNum = Math.trunc(elapsed / this.interval!);
    return intervalNum;
  }

  /** The Deferred start() returned, while running. */
  get deferred(): Deferred<LoopingCall> | null {
    return this.deferredResult;
  }

  /** Starts calling every `interval` seconds, first at once unless `now` is false. */
  start(interval: number, now = true): Deferred<LoopingCall> {
    if (this.running) throw new Error('Tried to start an already running LoopingCall.');
    if (typeof interval !== 'number' || Number.isNaN(interval)) {
      throw new TypeError(`start(): needs an interval in seconds, not ${describe(interval)}`);
    }
    if (interval < 0) throw new RangeError(`start(): interval must be >= 0, not ${interval}`);
    this.running = true;
    const d = new Deferred<LoopingCall>();
    this.deferredResult = d;
    this.starttime = this.clock.seconds();
    this.interval = interval;
    this.runAtStart = now;
    if (now) this.runOnce();
    else this.scheduleFrom(this.starttime);
    return d;
  }

  /** Stops; start()'s Deferred fires with this LoopingCall. */
  stop(): void {
    if (!this.running) throw new Error('Tried to stop a LoopingCall that was not running.');
    this.running = false;
    if (this.call !== null) {
      this.call.cancel();
      this.call = null;
      const d = this.deferredResult;
      this.deferredResult = null;
      d?.callback(this);
    }
  }

  /** Starts the schedule again from now. */
  reset(): void {
    if (!this.running) throw new Error('Tried to reset a LoopingCall that was not running.');
    if (this.call !== null) {
      this.call.cancel();
      this.call = null;
      this.starttime = this.clock.seconds();
      this.scheduleFrom(this.starttime);
    }
  }

  private runOnce(): void {
    this.call = null;
    const d = maybeDeferred(this.f, ...this.a);
    d.addCallback(() => {
      if (this.running) {
        this.scheduleFrom(this.clock.seconds());
      } else {
        const done = this.deferredResult;
        this.deferredResult = null;
        done?.callback(this);
      }
    });
    d.addErrback((failure: Failure) => {
      this.running = false;
      const done = this.deferredResult;
      this.deferredResult = null;
      done?.errback(failure);
    });
  }

  private scheduleFrom(when: number): void {
    const interval = this.interval!;
    let delay: number;
    if (interval === 0) {
      delay = 0;
    } else {
      const runningFor = when - this.starttime!;
      const untilNextInterval = interval - (runningFor % interval);
      delay = when === when + untilNextInterval ? interval : untilNextInterval;
    }
    this.call = this.clock.callLater(delay, () => this.runOnce());
  }

  /** "LoopingCall<interval>(f, *(args,), **{})", as Twisted's repr (there are no keyword arguments). */
  toString(): string {
    const interval = this.interval === null ? 'None' : String(this.interval);
    return `LoopingCall<${interval}>(${this.f.name || '<anonymous>'}, *${pythonRepr(this.a)}, **{})`;
  }
}

/**
 * A Deferred that fires with `fn(...args)`'s result `delay` seconds from
 * now on `clock`; cancelling it cancels the call. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.task.html#deferLater
 */
export function deferLater<R>(clock: IReactorTime, delay: number, fn?: ((...args: unknown[]) => R) | null, ...args: unknown[]): Deferred<R> {
  if (clock === null || typeof clock !== 'object' || typeof (clock as Partial<IReactorTime>).callLater !== 'function') {
    throw new TypeError(`deferLater(): clock must have callLater(), not ${describe(clock)}`);
  }
  if (typeof delay !== 'number' || Number.isNaN(delay)) {
    throw new TypeError(`deferLater(): delay must be a number of seconds, not ${describe(delay)}`);
  }
  if (fn !== undefined && fn !== null && typeof fn !== 'function') {
    throw new TypeError(`deferLater(): callable must be a function or null, not ${describe(fn)}`);
  }
  const d = new Deferred<R>(() => delayedCall.cancel());
  d.addCallback(() => (fn === undefined || fn === null ? undefined : fn(...args)));
  const delayedCall = clock.callLater(delay, () => d.callback(undefined as R));
  return d;
}

/** The reactor react() runs: the parts of IReactorCore it uses. */
export interface IReactorCore {
  /** Runs until stop(); may return a Promise that resolves then. */
  run(): unknown;
  /** Stops running (throws ReactorNotRunning when it is not). */
  stop(): void;
  /** Calls `fn(...args)` once running (at once if it is). */
  callWhenRunning(fn: Callable, ...args: unknown[]): unknown;
  /** Calls `fn(...args)` at `phase` of `eventType` ('before', 'shutdown'). */
  addSystemEventTrigger(phase: string, eventType: string, fn: Callable, ...args: unknown[]): unknown;
}

/**
 * Calls `main(reactor, ...argv)` and runs the reactor until its result (a
 * Deferred, a Promise or a value) is there; then stops the reactor and
 * exits the process: with 0, or with 1 after logging the failure ("main
 * function encountered error"). It resolves never: the process exits. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.task.html#react
 */
export async function react(
  main: (reactor: IReactorCore, ...argv: unknown[]) => unknown,
  argv: unknown[] = [],
  theReactor: IReactorCore = reactor,
): Promise<never> {
  if (typeof main !== 'function') throw new TypeError(`react(): main must be a function, not ${describe(main)}`);
  if (!Array.isArray(argv)) throw new TypeError(`react(): argv must be an array, not ${describe(argv)}`);
  if (theReactor === null || typeof theReactor !== 'object' || typeof theReactor.run !== 'function') {
    throw new TypeError(`react(): needs a reactor, not ${describe(theReactor)}`);
  }
  const finished = maybeDeferred(main as (...a: unknown[]) => unknown, theReactor, ...argv);
  let code = 0;
  let stopping = false;
  theReactor.addSystemEventTrigger('before', 'shutdown', () => {
    stopping = true;
  });
  const stop = (result: unknown, stopReactor: boolean): void => {
    if (stopReactor) {
      try {
        theReactor.stop();
      } catch (err) {
        if (!(err instanceof ReactorNotRunning)) throw err;
      }
    }
    if (result instanceof Failure) {
      log.err(result, 'main function encountered error');
      code = 1;
    }
  };
  finished.addBoth((result: unknown) => {
    if (stopping) stop(result, false);
    else theReactor.callWhenRunning(stop, result, true);
  });
  await theReactor.run();
  // A Promise main settled during shutdown reaches `finished` in a later
  // job: let it, so that its failure still sets the exit code.
  if (!finished.called) await new Promise((resolve) => setImmediate(resolve));
  return process.exit(code);
}

// The rest of twisted.internet.task, so that this module is Twisted's
// whole `task` (its namespace in asyncore/twisted).
export {
  Cooperator,
  CooperativeTask,
  cooperate,
  coiterate,
  SchedulerError,
  SchedulerStopped,
  TaskFinished,
  TaskDone,
  TaskStopped,
  TaskFailed,
  NotPaused,
} from './cooperator';
export type { Scheduler } from './cooperator';
