// twisted.internet.defer: a result that is not there yet, and the chain of
// callbacks and errbacks that runs once it is. The chain runs iteratively
// as Twisted's does, so that Deferreds waiting on Deferreds to any depth
// use no stack. A Deferred is also awaitable (it has then()).
import * as util from 'node:util';
import { Failure } from './failure';
import * as log from './log';
import type { IReactorTime } from './task';
import { isNewOnly } from './callable';
import { describe, messageOf, pythonRepr, textOf } from './describe';

/** A callback or errback: gets the result and the extra arguments given with it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Callback = (result: any, ...args: any[]) => unknown;

/** callback() or errback() on a Deferred that already has its result. */
export class AlreadyCalledError extends Error {
  /** Makes the error; any message is shown as text, whatever it is. */
  constructor(message?: unknown) {
    super(messageOf(message));
  }

  /** The class name. */
  override get name(): string {
    return 'AlreadyCalledError';
  }
}

/** The error a cancelled Deferred fails with. */
export class CancelledError extends Error {
  /** Makes the error; any message is shown as text, whatever it is. */
  constructor(message?: unknown) {
    super(messageOf(message));
  }

  /** The class name. */
  override get name(): string {
    return 'CancelledError';
  }
}

/** The first failure of a DeferredList made with fireOnOneErrback, and where it came from. */
export class FirstError extends Error {
  /** The failure of the Deferred that failed. */
  readonly subFailure: Failure;
  /** Its position in the list. */
  readonly index: number;

  /** Makes the error for the failure at `index`. */
  constructor(failure: Failure, index: number) {
    super(`FirstError[#${textOf(index)}, ${textOf(failure)}]`);
    this.subFailure = failure;
    this.index = index;
  }

  /** The class name. */
  override get name(): string {
    return 'FirstError';
  }
}

/**
 * A Deferred timed out: what addTimeout() and timeout() fail it with. Its
 * message is its arguments, as Python shows an exception's: one argument
 * as it is ("Connection timeout"), several as a tuple ("(5, 'Deferred')").
 * Not the connection kind, twisted.internet.error's TimeoutError. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.defer.TimeoutError.html
 */
export class TimeoutError extends Error {
  /** The arguments it was made with. */
  readonly args: unknown[];

  /** Makes the error; its message is `args` as Python's str() shows them. */
  constructor(...args: unknown[]) {
    super(exceptionText(args));
    this.args = args;
  }

  /** The class name. */
  override get name(): string {
    return 'TimeoutError';
  }
}

/**
 * then()'s callbacks are called, so a class (which cannot be) is refused
 * at once, by name, as addCallbacks() refuses one; anything not a function
 * is ignored, as Promise does.
 */
function checkThenCallback(what: string, fn: unknown): void {
  if (isNewOnly(fn)) {
    throw new TypeError(`then(): ${what} must be a function to call, not the class ${describe(fn)} (it needs new)`);
  }
}

/** str() of a Python exception made with `args`. */
function exceptionText(args: unknown[]): string {
  if (args.length === 0) return '';
  if (args.length === 1) return typeof args[0] === 'string' ? args[0] : pythonRepr(args[0]);
  return pythonRepr(args);
}


const NO_RESULT: unique symbol = Symbol('no result');
const CONTINUE: unique symbol = Symbol('continue');

type Step = [fn: Callback | typeof CONTINUE, args: unknown[]];
type Pair = [callback: Step, errback: Step];

const passthru: Callback = (x) => x;

/**
 * A failure left at the end of a Deferred's chain, held apart from the
 * Deferred (a registry's held value must not reach its target, or the
 * target is never collected).
 */
interface PendingFailure {
  failure: Failure | null;
  /** The debug-mode creation and invocation stacks, or ''. */
  debugInfo: string;
}

/** The pending failures of live Deferreds, logged at exit if still pending. */
const pendingFailures = new Set<PendingFailure>();

/** Logs "Unhandled error in Deferred:" when a Deferred with a failure is collected. */
const unhandled = new FinalizationRegistry<PendingFailure>(reportUnhandled);

function reportUnhandled(pending: PendingFailure): void {
  pendingFailures.delete(pending);
  const failure = pending.failure;
  if (failure === null) return;
  pending.failure = null;
  const why = pending.debugInfo === '' ? 'Unhandled error in Deferred:' : `Unhandled error in Deferred:\n(debug: ${pending.debugInfo})`;
  log.err(failure, why);
}

// A process may exit before the collector runs: what is still pending then
// is logged, so that no failure is lost.
process.on('exit', () => {
  for (const pending of [...pendingFailures]) reportUnhandled(pending);
});

/** Twisted's id() in a repr: a number per object, stable while it lives. */
const objectIds = new WeakMap<object, number>();
let nextObjectId = 0x7f0000001000;

function objectId(obj: object): string {
  let id = objectIds.get(obj);
  if (id === undefined) {
    id = nextObjectId;
    nextObjectId += 0x40;
    objectIds.set(obj, id);
  }
  return `0x${id.toString(16)}`;
}

/** The current stack as text, without this function and the `skip` frames under it. */
function formatStack(skip: number): string {
  const lines = (new Error().stack ?? '').split('\n').slice(2 + skip);
  return lines.map((line) => `${line.trim()}\n`).join('');
}

/** Where a Deferred was made and first fired, recorded in debug mode. */
class DebugInfo {
  creator: string | null = null;
  invoker: string | null = null;

  /** " C: Deferred was created: ... I: First Invoker was: ...", as Twisted prints it. */
  tracebacks(): string {
    let info = '';
    if (this.creator !== null) info += ` C: Deferred was created:\n C:${this.creator.trimEnd().replace(/\n/g, '\n C:')}\n`;
    if (this.invoker !== null) info += ` I: First Invoker was:\n I:${this.invoker.trimEnd().replace(/\n/g, '\n I:')}\n`;
    return info;
  }
}

/**
 * A result to come. Callbacks added with addCallback() run, in order, once
 * callback() gives the result; errbacks run for a Failure given to
 * errback() or thrown by a callback. A callback that returns a Deferred
 * holds the chain until that one has its result.
 */
export class Deferred<T = unknown> implements PromiseLike<T> {
  /**
   * Debug mode: each new Deferred records where it was made and first
   * fired, shown in AlreadyCalledError and unhandled-error reports. Set by
   * {@link setDebugging}. See
   * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.defer.Deferred.html#debug
   */
  static debug = false;

  /** Whether callback() or errback() has been called. */
  called = false;
  /** How many times pause() was called without unpause(). */
  paused = 0;
  /** The current result, while the chain has one. */
  result: unknown = NO_RESULT;
  /** The pairs of callback and errback still to run. */
  callbacks: Pair[] = [];
  private runningCallbacks = false;
  private suppressAlreadyCalled = false;
  private chainedTo: Deferred<unknown> | null = null;
  // Typed loosely so that a Deferred<T> stays assignable to Deferred<unknown>.
  private readonly canceller: ((d: Deferred<unknown>) => void) | null;
  private pendingFailure: PendingFailure | null = null;
  private debugInfo: DebugInfo | null = null;
  private ownDebug: boolean | null = null;

  /** Makes a Deferred; `canceller` is called by cancel() before it fails the Deferred. */
  constructor(canceller: ((d: Deferred<T>) => void) | null = null) {
    if (canceller !== null && (typeof canceller !== 'function' || isNewOnly(canceller))) {
      throw new TypeError(`Deferred(): canceller must be a function or null, not ${describe(canceller)}`);
    }
    this.canceller = canceller as ((d: Deferred<unknown>) => void) | null;
    if (Deferred.debug) {
      this.debugInfo = new DebugInfo();
      this.debugInfo.creator = formatStack(1);
    }
  }

  /** Debug mode for this Deferred: its own setting once set, else the class's {@link Deferred.debug}. */
  get debug(): boolean {
    return this.ownDebug ?? Deferred.debug;
  }

  /** Sets this Deferred's own debug mode, whatever the class's. */
  set debug(on: boolean) {
    this.ownDebug = Boolean(on);
  }

  /** Adds a callback and an errback as one step; either may be omitted (passes the result on). */
  addCallbacks(
    callback: Callback | null,
    errback: Callback | null = null,
    callbackArgs: unknown[] = [],
    errbackArgs: unknown[] = [],
  ): this {
    checkCallable('addCallbacks', callback ?? passthru);
    checkCallable('addCallbacks', errback ?? passthru);
    if (!Array.isArray(callbackArgs)) throw new TypeError(`addCallbacks(): callbackArgs must be an array, not ${describe(callbackArgs)}`);
    if (!Array.isArray(errbackArgs)) throw new TypeError(`addCallbacks(): errbackArgs must be an array, not ${describe(errbackArgs)}`);
    this.callbacks.push([
      [callback ?? passthru, callbackArgs],
      [errback ?? passthru, errbackArgs],
    ]);
    if (this.called) this.runCallbacks();
    return this;
  }

  /** Adds a step that runs on success; a failure passes it by. */
  addCallback(callback: Callback, ...args: unknown[]): this {
    checkCallable('addCallback', callback);
    return this.addCallbacks(callback, null, args);
  }

  /** Adds a step that runs on failure (given the Failure); a success passes it by. */
  addErrback(errback: Callback, ...args: unknown[]): this {
    checkCallable('addErrback', errback);
    return this.addCallbacks(null, errback, [], args);
  }

  /** Adds a step that runs in either case. */
  addBoth(callback: Callback, ...args: unknown[]): this {
    checkCallable('addBoth', callback);
    return this.addCallbacks(callback, callback, args, args);
  }

  /**
   * Cancels this Deferred if it has no result `timeout` seconds from now
   * on `clock`; it then fails with a TimeoutError (or with what
   * `onTimeoutCancel(result, timeout)` returns). The timeout covers the
   * callbacks added before it, not those added after. See
   * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.defer.Deferred.html#addTimeout
   */
  addTimeout(timeout: number, clock: IReactorTime, onTimeoutCancel: ((result: unknown, timeout: number) => unknown) | null = null): this {
    if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
      throw new TypeError(`addTimeout(): timeout must be a number of seconds, not ${describe(timeout)}`);
    }
    if (clock === null || typeof clock !== 'object' || typeof clock.callLater !== 'function') {
      throw new TypeError(`addTimeout(): clock must have callLater(), not ${describe(clock)}`);
    }
    if (onTimeoutCancel !== null && typeof onTimeoutCancel !== 'function') {
      throw new TypeError(`addTimeout(): onTimeoutCancel must be a function or null, not ${describe(onTimeoutCancel)}`);
    }
    let timedOut = false;
    const delayedCall = clock.callLater(timeout, () => {
      timedOut = true;
      this.cancel();
    });
    this.addBoth((value: unknown) => {
      if (!timedOut) return value;
      return (onTimeoutCancel ?? cancelledToTimedOutError)(value, timeout);
    });
    this.addBoth((result: unknown) => {
      if (delayedCall.active()) delayedCall.cancel();
      return result;
    });
    return this;
  }

  /**
   * Makes `d` get this Deferred's result at this point of the chain; the
   * result here becomes undefined. Until then `d`'s repr says it is
   * "waiting on Deferred at 0x...", this one. See
   * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.defer.Deferred.html#chainDeferred
   */
  chainDeferred(d: Deferred<T> | Deferred<unknown>): this {
    if (!(d instanceof Deferred)) throw new TypeError(`chainDeferred(): needs a Deferred, not ${describe(d)}`);
    d.chainedTo = this as Deferred<unknown>;
    return this.addCallbacks(
      (r) => d.callback(r),
      (f) => d.errback(f),
    );
  }

  /** Gives the result: the callbacks start running. */
  callback(result?: T): void {
    if (result instanceof Deferred) throw new TypeError('callback(): cannot be given a Deferred');
    this.startRunCallbacks(result);
  }

  /**
   * Gives a failure: the errbacks start running. Anything that is not a
   * Failure is wrapped in one.
   */
  errback(fail?: unknown): void {
    if (fail === undefined) throw new TypeError('errback(): needs the error or Failure to fail with');
    this.startRunCallbacks(fail instanceof Failure ? fail : new Failure(fail));
  }

  /** Stops the chain after the current step, until unpause(). */
  pause(): void {
    this.paused += 1;
  }

  /** Undoes one pause(); the chain goes on when none is left. */
  unpause(): void {
    this.paused -= 1;
    if (this.paused > 0) return;
    if (this.called) this.runCallbacks();
  }

  /**
   * Cancels: the canceller runs, and unless it gave a result the Deferred
   * fails with CancelledError. A Deferred waiting on another cancels that one.
   */
  cancel(): void {
    if (!this.called) {
      if (this.canceller !== null) this.canceller(this as Deferred<unknown>);
      else this.suppressAlreadyCalled = true;
      if (!this.called) this.errback(new Failure(new CancelledError()));
    } else if (this.result instanceof Deferred) {
      this.result.cancel();
    } else if (this.chainedTo !== null) {
      this.chainedTo.cancel();
    }
  }

  /**
   * Awaiting a Deferred: resolves with its result, or rejects with the
   * failure's error. As in Twisted, awaiting takes the result: the chain
   * goes on with undefined after it.
   */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    checkThenCallback('onfulfilled', onfulfilled);
    checkThenCallback('onrejected', onrejected);
    return new Promise<T>((resolve, reject) => {
      this.addCallbacks(
        (r) => {
          resolve(r as T);
          return undefined;
        },
        (f: Failure) => {
          reject(f.value);
          return undefined;
        },
      );
    }).then(onfulfilled, onrejected);
  }

  /** A Deferred that fires with a Promise's result (or its rejection, as a Failure). */
  static fromPromise<R>(promise: PromiseLike<R>): Deferred<R> {
    if (!isThenable(promise)) throw new TypeError(`fromPromise(): needs a Promise, not ${describe(promise)}`);
    const d = new Deferred<R>();
    promise.then(
      (v) => d.callback(v),
      (e) => d.errback(e),
    );
    return d;
  }

  /** "<Deferred at 0x.. current result: ..>", as Twisted shows one. */
  toString(): string {
    const name = this.constructor.name || 'Deferred';
    let state = '';
    if (this.chainedTo !== null) state = ` waiting on Deferred at ${objectId(this.chainedTo)}`;
    else if (this.result !== NO_RESULT) state = ` current result: ${describe(this.result)}`;
    return `<${name} at ${objectId(this)}${state}>`;
  }

  /** The same text as toString(), for console.log() and util.inspect(). */
  [util.inspect.custom](): string {
    return this.toString();
  }

  private startRunCallbacks(result: unknown): void {
    if (this.called) {
      if (this.suppressAlreadyCalled) {
        this.suppressAlreadyCalled = false;
        return;
      }
      if (this.debug) {
        this.debugInfo ??= new DebugInfo();
        throw new AlreadyCalledError(`\n${this.debugInfo.tracebacks()}`);
      }
      throw new AlreadyCalledError('This Deferred has already been called');
    }
    if (this.debug) {
      this.debugInfo ??= new DebugInfo();
      this.debugInfo.invoker = formatStack(2);
    }
    this.called = true;
    this.result = result;
    this.runCallbacks();
  }

  private continuation(): Pair {
    const step: Step = [CONTINUE, [this]];
    return [step, step];
  }

  private trackFailure(): void {
    if (!(this.result instanceof Failure)) {
      this.clearFailure();
      return;
    }
    if (this.pendingFailure === null) {
      this.pendingFailure = { failure: null, debugInfo: '' };
      unhandled.register(this, this.pendingFailure);
    }
    // The error's frames may hold this Deferred: drop them, or it would
    // never be collected (and the failure never logged).
    this.result.cleanFailure();
    this.pendingFailure.failure = this.result;
    this.pendingFailure.debugInfo = this.debugInfo?.tracebacks() ?? '';
    pendingFailures.add(this.pendingFailure);
  }

  private clearFailure(): void {
    if (this.pendingFailure === null) return;
    this.pendingFailure.failure = null;
    pendingFailures.delete(this.pendingFailure);
  }

  private runCallbacks(): void {
    if (this.runningCallbacks) return;
    const chain: Array<Deferred<unknown>> = [this as Deferred<unknown>];
    while (chain.length > 0) {
      const current = chain[chain.length - 1]!;
      if (current.paused > 0) return;
      let finished = true;
      current.chainedTo = null;
      while (current.callbacks.length > 0) {
        const pair = current.callbacks.shift()!;
        const [fn, args] = current.result instanceof Failure ? pair[1] : pair[0];
        if (fn === CONTINUE) {
          const chainee = args[0] as Deferred<unknown>;
          chainee.result = current.result;
          current.result = undefined;
          current.clearFailure();
          chainee.paused -= 1;
          chain.push(chainee);
          finished = false;
          break;
        }
        try {
          current.runningCallbacks = true;
          try {
            current.result = fn(current.result, ...args);
          } finally {
            current.runningCallbacks = false;
          }
        } catch (err) {
          current.result = new Failure(err);
          continue;
        }
        const returned = current.result;
        if (returned instanceof Deferred) {
          const inner = returned as Deferred<unknown>;
          const innerResult = inner.result;
          if (innerResult === NO_RESULT || innerResult instanceof Deferred || inner.paused > 0) {
            current.pause();
            current.chainedTo = inner;
            inner.callbacks.push(current.continuation());
            break;
          }
          inner.result = undefined;
          inner.clearFailure();
          current.result = innerResult;
        }
      }
      if (finished) {
        current.trackFailure();
        chain.pop();
      }
    }
  }
}

/** A CancelledError failure becomes a TimeoutError(timeout, 'Deferred'); other failures pass on. */
function cancelledToTimedOutError(value: unknown, timeout: number): unknown {
  if (value instanceof Failure) {
    value.trap(CancelledError);
    throw new TimeoutError(timeout, 'Deferred');
  }
  return value;
}

/**
 * Fails `deferred` with TimeoutError("Callback timed out"). See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.defer.html#timeout
 */
export function timeout(deferred: Deferred<unknown>): void {
  if (!(deferred instanceof Deferred)) throw new TypeError(`timeout(): needs a Deferred, not ${describe(deferred)}`);
  deferred.errback(new Failure(new TimeoutError('Callback timed out')));
}

/**
 * Turns debug mode on or off: Deferreds made from now on record where they
 * were made and first fired. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.defer.html#setDebugging
 */
export function setDebugging(on: boolean): void {
  Deferred.debug = Boolean(on);
}

/**
 * Whether debug mode is on. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.defer.html#getDebugging
 */
export function getDebugging(): boolean {
  return Deferred.debug;
}

/**
 * Logs `err` and returns it: an errback that passes the failure on
 * unchanged. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.defer.html#logError
 */
export function logError(err: Failure): Failure {
  if (!(err instanceof Failure)) throw new TypeError(`logError(): needs a Failure, not ${describe(err)}`);
  log.err(err);
  return err;
}

function checkCallable(where: string, fn: unknown): void {
  if (typeof fn !== 'function') throw new TypeError(`${where}(): needs a function, not ${describe(fn)}`);
  if (isNewOnly(fn)) throw new TypeError(`${where}(): needs a function to call, not the class ${describe(fn)} (it needs new)`);
}

/** A Deferred that already has `result`. */
export function succeed<R>(result?: R): Deferred<R> {
  const d = new Deferred<R>();
  d.callback(result);
  return d;
}

/** A Deferred that has already failed with `result` (an error or a Failure). */
export function fail<R = never>(result: unknown): Deferred<R> {
  if (result === undefined) throw new TypeError('fail(): needs the error or Failure to fail with');
  const d = new Deferred<R>();
  d.errback(result);
  return d;
}

/**
 * Calls `f(...args)` and makes a Deferred of what it returns or throws: a
 * Deferred is returned as it is, a Promise becomes a Deferred of its result.
 */
export function maybeDeferred<R>(f: (...args: unknown[]) => R | Deferred<R> | PromiseLike<R>, ...args: unknown[]): Deferred<R> {
  if (typeof f !== 'function') throw new TypeError(`maybeDeferred(): needs a function, not ${describe(f)}`);
  let result: unknown;
  try {
    result = f(...args);
  } catch (err) {
    return fail(err);
  }
  if (result instanceof Deferred) return result as Deferred<R>;
  if (isThenable(result)) return Deferred.fromPromise(result as PromiseLike<R>);
  return succeed(result as R);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * A Deferred for a coroutine's result: Twisted's ensureDeferred(). Given a
 * Promise (an async function's result) it makes a Deferred that fires with
 * it; given a Deferred, it returns it.
 */
export function ensureDeferred<R>(coro: PromiseLike<R> | Deferred<R>): Deferred<R> {
  if (coro instanceof Deferred) return coro;
  if (isThenable(coro)) return Deferred.fromPromise(coro);
  throw new TypeError(`ensureDeferred(): needs a Promise or a Deferred, not ${describe(coro)}`);
}

/** One entry of a DeferredList's result: [true, result] or [false, failure]. */
export type DeferredListEntry = [success: boolean, result: unknown];

/**
 * A Deferred for a list of Deferreds: it fires with [success, result] for
 * each, in order, once all have fired; or with the first result
 * (fireOnOneCallback) or a FirstError (fireOnOneErrback) as soon as one does.
 * consumeErrors makes failures stop at the list instead of going on down
 * each Deferred's own chain.
 */
export class DeferredList extends Deferred<unknown> {
  /** The list's Deferreds. */
  readonly resultList: Array<DeferredListEntry | undefined>;
  /** How many of them have fired. */
  finishedCount = 0;
  /** Whether the first success fires the list. */
  readonly fireOnOneCallback: boolean;
  /** Whether the first failure fires the list. */
  readonly fireOnOneErrback: boolean;
  /** Whether failures end in the list. */
  readonly consumeErrors: boolean;
  private readonly deferreds: Array<Deferred<unknown>>;

  /** Watches `deferredList`; the options are Twisted's. */
  constructor(
    deferredList: Array<Deferred<unknown>>,
    fireOnOneCallback = false,
    fireOnOneErrback = false,
    consumeErrors = false,
  ) {
    super((self) => (self as DeferredList).cancelAll());
    if (!Array.isArray(deferredList)) {
      throw new TypeError(`DeferredList(): needs an array of Deferreds, not ${describe(deferredList)}`);
    }
    for (const d of deferredList) {
      if (!(d instanceof Deferred)) throw new TypeError(`DeferredList(): needs Deferreds, got ${describe(d)}`);
    }
    this.deferreds = [...deferredList];
    this.resultList = new Array<DeferredListEntry | undefined>(deferredList.length).fill(undefined);
    this.fireOnOneCallback = fireOnOneCallback;
    this.fireOnOneErrback = fireOnOneErrback;
    this.consumeErrors = consumeErrors;
    if (deferredList.length === 0 && !fireOnOneCallback) this.callback(this.resultList as DeferredListEntry[]);
    deferredList.forEach((d, index) => {
      d.addCallbacks(
        (r) => this.#cbDeferred(r, true, index),
        (f) => this.#cbDeferred(f, false, index),
      );
    });
  }

  #cbDeferred(result: unknown, succeeded: boolean, index: number): unknown {
    this.resultList[index] = [succeeded, result];
    this.finishedCount += 1;
    if (!this.called) {
      if (succeeded && this.fireOnOneCallback) this.callback([result, index]);
      else if (!succeeded && this.fireOnOneErrback) this.errback(new Failure(new FirstError(result as Failure, index)));
      else if (this.finishedCount === this.resultList.length) this.callback(this.resultList);
    }
    if (!succeeded && this.consumeErrors) return undefined;
    return result;
  }

  private cancelAll(): void {
    for (const d of this.deferreds) {
      try {
        d.cancel();
      } catch (err) {
        log.err(new Failure(err), 'Exception raised from user supplied canceller');
      }
    }
  }
}

/**
 * A Deferred for the results of every Deferred in the list, in order; it
 * fails with a FirstError at the first failure.
 */
export function gatherResults(deferredList: Array<Deferred<unknown>>, consumeErrors = false): Deferred<unknown[]> {
  if (!Array.isArray(deferredList)) {
    throw new TypeError(`gatherResults(): needs an array of Deferreds, not ${describe(deferredList)}`);
  }
  const d = new DeferredList(deferredList, false, true, consumeErrors);
  d.addCallback((entries: DeferredListEntry[]) => entries.map((e) => e[1]));
  return d as unknown as Deferred<unknown[]>;
}

// The rest of twisted.internet.defer, so that this module is Twisted's
// whole `defer` (its namespace in asyncore/twisted). They import Deferred
// from here, and use it only once called.
export { inlineCallbacks, returnValue } from './inline_callbacks';
export { DeferredLock, DeferredSemaphore, DeferredQueue, QueueOverflow, QueueUnderflow } from './defer_primitives';
export { DeferredFilesystemLock, AlreadyTryingToLockError } from './defer_filesystem_lock';
