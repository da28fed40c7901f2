// twisted.internet.task: LoopingCall (a function called every interval),
// Clock (a clock that only moves when told, for tests), deferLater().
import { Deferred, maybeDeferred } from './defer';
import { describe } from './describe';
import type { Failure } from './failure';
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
  pump(timings: number[]): void {
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

  /** A looping call of `f(...args)`. */
  constructor(f: Callable, ...args: unknown[]) {
    if (typeof f !== 'function') throw new TypeError(`LoopingCall(): needs a function, not ${describe(f)}`);
    this.f = f;
    this.a = args;
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

  /** "LoopingCall<interval>(f, args)". */
  toString(): string {
    return `LoopingCall<${String(this.interval)}>(${this.f.name || 'anonymous'}, ${this.a.map((x) => describe(x)).join(', ')})`;
  }
}

/**
 * A Deferred that fires with `fn(...args)`'s result `delay` seconds from
 * now on `clock`; cancelling it cancels the call.
 */
export function deferLater<R>(clock: IReactorTime, delay: number, fn?: (...args: unknown[]) => R, ...args: unknown[]): Deferred<R> {
  let call: DelayedCall | null = null;
  const d = new Deferred<R>(() => call?.cancel());
  call = clock.callLater(delay, () => {
    d.callback(undefined as R);
  });
  if (fn !== undefined) d.addCallback(() => fn(...args));
  return d;
}
