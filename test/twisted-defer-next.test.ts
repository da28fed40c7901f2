// twisted.internet.defer beyond the callback chain, ported from Twisted
// 22.4's twisted/test/test_defer.py (UtilTests, DeferredTests' repr cases,
// AlreadyCalledTests, OtherPrimitivesTests, DeferredAddTimeoutTests,
// TimeoutErrorTests, DeferredFilesystemLockTests) and test_defgen.py (InlineCallbacksTests), with
// Twisted's test names; plus the entry points' checks of their arguments.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as twisted from '../src/twisted';
import {
  AlreadyCalledError,
  AlreadyTryingToLockError,
  CancelledError,
  Deferred,
  DeferredFilesystemLock,
  DeferredLock,
  DeferredQueue,
  DeferredSemaphore,
  QueueOverflow,
  QueueUnderflow,
  TimeoutError,
  fail,
  getDebugging,
  inlineCallbacks,
  logError,
  returnValue,
  setDebugging,
  succeed,
  timeout,
} from '../src/twisted/defer';
import { Failure } from '../src/twisted/failure';
import { isLocked } from '../src/twisted/lockfile';
import * as log from '../src/twisted/log';
import { reactor } from '../src/twisted/reactor';
import { Clock } from '../src/twisted/task';

/** The result of a Deferred that has one, taken as Twisted's successResultOf() does. */
function successResultOf<T>(d: Deferred<T>): T {
  const got: Array<{ ok: boolean; value: unknown }> = [];
  d.addCallbacks(
    (r) => void got.push({ ok: true, value: r }),
    (f: Failure) => void got.push({ ok: false, value: f }),
  );
  expect(got).toHaveLength(1);
  if (!got[0]!.ok) throw new Error(`expected a result, got ${String(got[0]!.value)}`);
  return got[0]!.value as T;
}

/** The failure of a Deferred that has failed, checked against `type` (failureResultOf()). */
function failureResultOf(d: Deferred<unknown>, type?: abstract new (...a: never[]) => unknown): Failure {
  const got: Array<{ ok: boolean; value: unknown }> = [];
  d.addCallbacks(
    (r) => void got.push({ ok: true, value: r }),
    (f: Failure) => void got.push({ ok: false, value: f }),
  );
  expect(got).toHaveLength(1);
  expect(got[0]!.ok).toBe(false);
  const f = got[0]!.value as Failure;
  if (type !== undefined) expect(f.value).toBeInstanceOf(type);
  return f;
}

function assertNoResult(d: Deferred<unknown>): void {
  expect(d.called && !(d.result instanceof Deferred)).toBe(false);
}

/** Collects what is logged while `fn` runs. */
function logged(fn: () => void): log.LogEvent[] {
  const events: log.LogEvent[] = [];
  const observer = (e: log.LogEvent): void => void events.push(e);
  log.addObserver(observer);
  try {
    fn();
  } finally {
    log.removeObserver(observer);
  }
  return events;
}

class RuntimeError extends Error {}

describe('UtilTests', () => {
  it('test_logErrorReturnsError', () => {
    const error = new Failure(new RuntimeError());
    let result: Failure | null = null;
    logged(() => (result = logError(error)));
    expect(result).toBe(error);
  });

  it('test_logErrorLogsError', () => {
    const error = new Failure(new RuntimeError());
    const events = logged(() => logError(error));
    expect(events.map((e) => e.failure)).toEqual([error]);
  });

  it('test_logErrorLogsErrorNoRepr', () => {
    const error = new Failure(new RuntimeError());
    const events = logged(() => logError(error));
    expect(log.formatEvent(events[0]!).startsWith('Unhandled Error\n')).toBe(true);
    expect(log.formatEvent(events[0]!)).not.toMatch(/Failure instance/);
  });
});

describe('Deferred repr (DeferredTests)', () => {
  const id = (text: string): string => /0x[0-9a-f]+/.exec(text)![0];

  it('test_repr', () => {
    const d = new Deferred();
    expect(String(d)).toMatch(/^<Deferred at 0x[0-9a-f]+>$/);
    expect(String(d)).toBe(String(d));
    expect(id(String(d))).not.toBe(id(String(new Deferred())));
  });

  it('test_reprWithResult', () => {
    const d = new Deferred<string>();
    d.callback('orange');
    expect(String(d)).toBe(`<Deferred at ${id(String(d))} current result: 'orange'>`);
  });

  it('test_reprWithChaining', () => {
    const a = new Deferred();
    const b = new Deferred();
    b.chainDeferred(a);
    expect(String(a)).toBe(`<Deferred at ${id(String(a))} waiting on Deferred at ${id(String(b))}>`);
    b.callback(1);
    expect(String(a)).toBe(`<Deferred at ${id(String(a))} current result: 1>`);
  });
});

describe('AlreadyCalledTests', () => {
  let wasDebugging = false;
  beforeEach(() => {
    wasDebugging = getDebugging();
    setDebugging(true);
  });
  afterEach(() => setDebugging(wasDebugging));

  const callback = (): void => undefined;
  const errback = (): void => undefined;
  const call1 = (d: Deferred<string>): void => d.callback('hello');
  const call2 = (d: Deferred<string>): void => d.callback('twice');
  const err1 = (d: Deferred<string>): void => d.errback(new Failure(new RuntimeError()));
  const err2 = (d: Deferred<string>): void => d.errback(new Failure(new RuntimeError()));

  /** How many " C:" or " I:" lines name `func` (V8's frames: "at func (file:line)"). */
  function count(linetype: string, func: string, lines: string[]): number {
    return lines.filter((line) => line.startsWith(` ${linetype}:`) && new RegExp(`\\b${func}\\b`).test(line)).length;
  }

  function check(e: unknown, caller: string, invoker1: string, invoker2: string): void {
    expect(e).toBeInstanceOf(AlreadyCalledError);
    const lines = (e as Error).message.split('\n');
    expect(count('C', caller, lines)).toBe(1);
    for (const f of ['call1', 'call2', 'err1', 'err2']) expect(count('C', f, lines)).toBe(0);
    expect(count('I', invoker1, lines)).toBe(1);
    expect(count('I', invoker2, lines)).toBe(0);
  }

  function secondCall(make: (d: Deferred<string>) => void, first: (d: Deferred<string>) => void, second: (d: Deferred<string>) => void): unknown {
    const d = new Deferred<string>();
    make(d);
    d.addCallbacks(callback, errback);
    first(d);
    try {
      second(d);
    } catch (e) {
      return e;
    }
    throw new Error('the second call did not throw');
  }

  it('testAlreadyCalled_CC, _CE, _EE, _EC', () => {
    expect(secondCall(() => {}, call1, call2)).toBeInstanceOf(AlreadyCalledError);
    expect(secondCall(() => {}, call1, err2)).toBeInstanceOf(AlreadyCalledError);
    expect(secondCall(() => {}, err1, err2)).toBeInstanceOf(AlreadyCalledError);
    expect(secondCall(() => {}, err1, call2)).toBeInstanceOf(AlreadyCalledError);
  });

  it('testAlreadyCalledDebug_CC', function testAlreadyCalledDebug_CC() {
    const d = new Deferred<string>();
    d.addCallbacks(callback, errback);
    call1(d);
    let e: unknown = null;
    try {
      call2(d);
    } catch (err) {
      e = err;
    }
    check(e, 'testAlreadyCalledDebug_CC', 'call1', 'call2');
  });

  it('testAlreadyCalledDebug_CE', function testAlreadyCalledDebug_CE() {
    const d = new Deferred<string>();
    d.addCallbacks(callback, errback);
    call1(d);
    let e: unknown = null;
    try {
      err2(d);
    } catch (err) {
      e = err;
    }
    check(e, 'testAlreadyCalledDebug_CE', 'call1', 'err2');
  });

  it('testAlreadyCalledDebug_EC', function testAlreadyCalledDebug_EC() {
    const d = new Deferred<string>();
    d.addCallbacks(callback, errback);
    err1(d);
    let e: unknown = null;
    try {
      call2(d);
    } catch (err) {
      e = err;
    }
    check(e, 'testAlreadyCalledDebug_EC', 'err1', 'call2');
  });

  it('testAlreadyCalledDebug_EE', function testAlreadyCalledDebug_EE() {
    const d = new Deferred<string>();
    d.addCallbacks(callback, errback);
    err1(d);
    let e: unknown = null;
    try {
      err2(d);
    } catch (err) {
      e = err;
    }
    check(e, 'testAlreadyCalledDebug_EE', 'err1', 'err2');
  });

  it('testNoDebugging', () => {
    setDebugging(false);
    const d = new Deferred<string>();
    d.addCallbacks(callback, errback);
    call1(d);
    expect(() => call2(d)).toThrow(AlreadyCalledError);
    expect(() => call2(d)).not.toThrow(/ C:| I:/);
  });

  it('testSwitchDebugging', () => {
    setDebugging(false);
    let d = new Deferred();
    d.addBoth(() => undefined);
    setDebugging(true);
    d.callback(undefined);
    setDebugging(false);
    d = new Deferred();
    d.callback(undefined);
    setDebugging(true);
    d.addBoth(() => undefined);
    expect(getDebugging()).toBe(true);
  });

  it('Deferred.debug: a Deferred\'s own setting, else the class\'s', () => {
    setDebugging(false);
    const d = new Deferred();
    expect(d.debug).toBe(false);
    d.debug = true;
    d.callback(1);
    expect(() => d.callback(2)).toThrow(/ I: First Invoker was:/);
    expect(Deferred.debug).toBe(false);
  });
});

describe('OtherPrimitivesTests', () => {
  let counter = 0;
  const incr = (): void => {
    counter += 1;
  };
  beforeEach(() => {
    counter = 0;
  });

  it('testLock', () => {
    const lock = new DeferredLock();
    lock.acquire().addCallback(incr);
    expect(lock.locked).toBe(true);
    expect(counter).toBe(1);
    lock.acquire().addCallback(incr);
    expect(lock.locked).toBe(true);
    expect(counter).toBe(1);
    lock.release();
    expect(lock.locked).toBe(true);
    expect(counter).toBe(2);
    lock.release();
    expect(lock.locked).toBe(false);
    expect(counter).toBe(2);
    expect(() => (lock.run as unknown as () => void)()).toThrow(TypeError);

    const firstUnique = {};
    const secondUnique = {};
    const controlDeferred = new Deferred();
    let result: unknown = null;
    const helper = (resultValue: unknown, returned: unknown = undefined): unknown => {
      result = resultValue;
      return returned;
    };
    const resultDeferred = lock.run(helper as (...a: unknown[]) => unknown, firstUnique, controlDeferred);
    expect(lock.locked).toBe(true);
    expect(result).toBe(firstUnique);
    resultDeferred.addCallback(helper);
    lock.acquire().addCallback(incr);
    expect(lock.locked).toBe(true);
    expect(counter).toBe(2);
    controlDeferred.callback(secondUnique);
    expect(result).toBe(secondUnique);
    expect(lock.locked).toBe(true);
    expect(counter).toBe(3);

    const d = lock.acquire().addBoth(helper);
    d.cancel();
    expect(result).toBeInstanceOf(Failure);
    expect((result as Failure).type).toBe(CancelledError);
    lock.release();
    expect(lock.locked).toBe(false);
  });

  it('test_cancelLockAfterAcquired', () => {
    const lock = new DeferredLock();
    const d = lock.acquire();
    d.addErrback(() => {
      throw new Error('Unexpected errback call!');
    });
    d.cancel();
    expect(successResultOf(d)).toBe(lock);
  });

  it('test_cancelLockBeforeAcquired', () => {
    const lock = new DeferredLock();
    lock.acquire();
    const d = lock.acquire();
    d.cancel();
    failureResultOf(d, CancelledError);
    expect(lock.waiting).toHaveLength(0);
  });

  it('testSemaphore', () => {
    const N = 13;
    const sem = new DeferredSemaphore(N);
    const controlDeferred = new Deferred();
    let helperArg: unknown = null;
    const helper = (arg: unknown): Deferred<unknown> => {
      helperArg = arg;
      return controlDeferred;
    };
    const results: unknown[] = [];
    const uniqueObject = {};
    const resultDeferred = sem.run(helper as (...a: unknown[]) => Deferred<unknown>, uniqueObject);
    resultDeferred.addCallback((r) => void results.push(r));
    resultDeferred.addCallback(incr);
    expect(results).toEqual([]);
    expect(helperArg).toBe(uniqueObject);
    controlDeferred.callback(undefined);
    expect(results.pop()).toBeUndefined();
    expect(counter).toBe(1);

    counter = 0;
    for (let i = 1; i <= N; i++) {
      sem.acquire().addCallback(incr);
      expect(counter).toBe(i);
    }
    const success: boolean[] = [];
    const d = sem.acquire().addCallbacks(
      () => void success.push(false),
      () => void success.push(true),
    );
    d.cancel();
    expect(success).toEqual([true]);
    sem.acquire().addCallback(incr);
    expect(counter).toBe(N);
    sem.release();
    expect(counter).toBe(N + 1);
    for (let i = 1; i <= N; i++) {
      sem.release();
      expect(counter).toBe(N + 1);
    }
  });

  it('test_semaphoreInvalidTokens', () => {
    expect(() => new DeferredSemaphore(0)).toThrow(RangeError);
    expect(() => new DeferredSemaphore(-1)).toThrow(RangeError);
  });

  it('test_cancelSemaphoreAfterAcquired', () => {
    const sem = new DeferredSemaphore(1);
    const d = sem.acquire();
    d.addErrback(() => {
      throw new Error('Unexpected errback call!');
    });
    d.cancel();
    expect(successResultOf(d)).toBe(sem);
  });

  it('test_cancelSemaphoreBeforeAcquired', () => {
    const sem = new DeferredSemaphore(1);
    sem.acquire();
    const d = sem.acquire();
    d.cancel();
    failureResultOf(d, CancelledError);
  });

  it('testQueue', () => {
    const N = 2;
    const M = 2;
    let queue = new DeferredQueue<number | null>(N, M);
    let gotten: unknown[] = [];
    for (let i = 0; i < M; i++) queue.get().addCallback((x) => void gotten.push(x));
    expect(() => queue.get()).toThrow(QueueUnderflow);
    for (let i = 0; i < M; i++) {
      queue.put(i);
      expect(gotten).toEqual([...Array(i + 1).keys()]);
    }
    for (let i = 0; i < N; i++) {
      queue.put(N + i);
      expect(gotten).toEqual([...Array(M).keys()]);
    }
    expect(() => queue.put(null)).toThrow(QueueOverflow);
    gotten = [];
    for (let i = 0; i < N; i++) {
      queue.get().addCallback((x) => void gotten.push(x));
      expect(gotten).toEqual([...Array(i + 1).keys()].map((k) => N + k));
    }
    queue = new DeferredQueue();
    gotten = [];
    for (let i = 0; i < N; i++) queue.get().addCallback((x) => void gotten.push(x));
    for (let i = 0; i < N; i++) queue.put(i);
    expect(gotten).toEqual([...Array(N).keys()]);
    expect(() => new DeferredQueue(0).put(null)).toThrow(QueueOverflow);
    expect(() => new DeferredQueue(null, 0).get()).toThrow(QueueUnderflow);
  });

  it('test_cancelQueueAfterSynchronousGet', () => {
    const queue = new DeferredQueue<null>();
    const d = queue.get();
    d.addErrback(() => {
      throw new Error('Unexpected errback call!');
    });
    queue.put(null);
    d.cancel();
    expect(successResultOf(d)).toBeNull();
  });

  it('test_cancelQueueAfterGet', () => {
    const queue = new DeferredQueue<null>();
    const d = queue.get();
    d.cancel();
    const done: unknown[] = [];
    d.addErrback((f: Failure) => {
      f.trap(CancelledError);
      return null;
    });
    d.addCallback(() => {
      queue.put(null);
      return queue.get().addCallback((r) => expect(r).toBeNull());
    });
    d.addCallback((r) => void done.push(r));
    expect(done).toHaveLength(1);
  });
});

describe('DeferredAddTimeoutTests', () => {
  const overrideFunc = (): string => 'OVERRIDDEN';

  it('test_timeoutChainable', () => {
    const d = new Deferred();
    d.addTimeout(5, new Clock());
    d.addCallback(() => 'done');
    d.callback(undefined);
    expect(successResultOf(d)).toBe('done');
  });

  it('test_successResultBeforeTimeout and test_successResultBeforeTimeoutCustom', () => {
    for (const custom of [null, overrideFunc]) {
      const clock = new Clock();
      const d = new Deferred<string>();
      d.addTimeout(10, clock, custom);
      const innerDeferred = new Deferred();
      let dCallbacked: string | null = null;
      d.addCallback((results: string) => {
        dCallbacked = results;
        return innerDeferred;
      });
      d.callback('results');
      expect(dCallbacked).toBe('results');
      assertNoResult(d);
      clock.advance(15);
      assertNoResult(innerDeferred);
      expect(clock.getDelayedCalls()).toHaveLength(0);
    }
  });

  it('test_failureBeforeTimeout and test_failureBeforeTimeoutCustom', () => {
    for (const custom of [null, overrideFunc]) {
      const clock = new Clock();
      const d = new Deferred();
      d.addTimeout(10, clock, custom);
      const innerDeferred = new Deferred();
      let dErrbacked: Failure | null = null;
      const error = new RangeError('fail');
      d.addErrback((f: Failure) => {
        dErrbacked = f;
        return innerDeferred;
      });
      d.errback(error);
      expect(dErrbacked!.value).toBe(error);
      assertNoResult(d);
      clock.advance(15);
      assertNoResult(innerDeferred);
    }
  });

  it('test_timedOut', () => {
    const clock = new Clock();
    const d = new Deferred();
    d.addTimeout(10, clock);
    assertNoResult(d);
    clock.advance(15);
    const f = failureResultOf(d, TimeoutError);
    expect(f.getErrorMessage()).toBe("(10, 'Deferred')");
  });

  it('test_timedOutCustom', () => {
    const clock = new Clock();
    const d = new Deferred();
    d.addTimeout(10, clock, overrideFunc);
    assertNoResult(d);
    clock.advance(15);
    expect(successResultOf(d)).toBe('OVERRIDDEN');
  });

  it('test_timedOutProvidedCancelSuccess', () => {
    const clock = new Clock();
    const d = new Deferred<string>((c) => c.callback('I was cancelled!'));
    d.addTimeout(10, clock);
    assertNoResult(d);
    clock.advance(15);
    expect(successResultOf(d)).toBe('I was cancelled!');
  });

  it('test_timedOutProvidedCancelFailure', () => {
    const clock = new Clock();
    const error = new RangeError('what!');
    const d = new Deferred((c) => c.errback(error));
    d.addTimeout(10, clock);
    assertNoResult(d);
    clock.advance(15);
    expect(failureResultOf(d, RangeError).value).toBe(error);
  });

  it('test_cancelBeforeTimeout and test_cancelBeforeTimeoutCustom', () => {
    for (const custom of [null, overrideFunc]) {
      const clock = new Clock();
      const d = new Deferred();
      d.addTimeout(10, clock, custom);
      const innerDeferred = new Deferred();
      let dCanceled: Failure | null = null;
      d.addErrback((f: Failure) => {
        dCanceled = f;
        return innerDeferred;
      });
      d.cancel();
      expect(dCanceled!.value).toBeInstanceOf(CancelledError);
      assertNoResult(d);
      clock.advance(15);
      assertNoResult(innerDeferred);
    }
  });

  it('test_providedCancelCalledBeforeTimeoutCustom', () => {
    const clock = new Clock();
    const d = new Deferred((c) => c.errback(new RangeError('what!')));
    d.addTimeout(10, clock, overrideFunc);
    assertNoResult(d);
    clock.advance(15);
    expect(successResultOf(d)).toBe('OVERRIDDEN');
  });

  it('test_errbackAddedBeforeTimeout', () => {
    const clock = new Clock();
    const d = new Deferred();
    let dErrbacked: Failure | null = null;
    d.addErrback((f: Failure) => {
      dErrbacked = f;
      return f;
    });
    d.addTimeout(10, clock);
    clock.advance(15);
    expect(dErrbacked!.value).toBeInstanceOf(CancelledError);
    failureResultOf(d, TimeoutError);
  });

  it('test_errbackAddedBeforeTimeoutSuppressesCancellation', () => {
    const clock = new Clock();
    const d = new Deferred();
    let dErrbacked: Failure | null = null;
    d.addErrback((f: Failure) => {
      dErrbacked = f;
      f.trap(CancelledError);
      return undefined;
    });
    d.addTimeout(10, clock);
    clock.advance(15);
    expect(dErrbacked!.value).toBeInstanceOf(CancelledError);
    expect(successResultOf(d)).toBeUndefined();
  });

  it('test_errbackAddedBeforeTimeoutCustom', () => {
    const clock = new Clock();
    const d = new Deferred();
    let dErrbacked: Failure | null = null;
    d.addErrback((f: Failure) => {
      dErrbacked = f;
      return f;
    });
    d.addTimeout(10, clock, overrideFunc);
    clock.advance(15);
    expect(dErrbacked!.value).toBeInstanceOf(CancelledError);
    expect(successResultOf(d)).toBe('OVERRIDDEN');
  });

  it('test_errbackAddedBeforeTimeoutSuppressesCancellationCustom', () => {
    const clock = new Clock();
    const d = new Deferred();
    let dErrbacked: Failure | null = null;
    d.addErrback((f: Failure) => {
      dErrbacked = f;
      return undefined;
    });
    d.addTimeout(10, clock, overrideFunc);
    clock.advance(15);
    expect(dErrbacked!.value).toBeInstanceOf(CancelledError);
    expect(successResultOf(d)).toBe('OVERRIDDEN');
  });

  it('test_callbackAddedToCancelerBeforeTimeout and test_callbackAddedToCancelerBeforeTimeoutCustom', () => {
    for (const custom of [null, overrideFunc]) {
      const clock = new Clock();
      const success = 'success';
      const d = new Deferred<string>((c) => c.callback(success));
      let dCallbacked: string | null = null;
      d.addCallback((value: string) => {
        dCallbacked = value;
        return value;
      });
      d.addTimeout(10, clock, custom);
      clock.advance(15);
      expect(dCallbacked).toBe(success);
      expect(successResultOf(d)).toBe(custom === null ? success : 'OVERRIDDEN');
    }
  });
});

describe('TimeoutErrorTests', () => {
  it('test_deprecatedTimeout (the failure; its DeprecationWarning is a Python warning)', () => {
    const deferred = new Deferred();
    timeout(deferred);
    expect(failureResultOf(deferred, TimeoutError).getErrorMessage()).toBe('Callback timed out');
  });

  it.skip('test_deprecatedTimeout: the DeprecationWarning part (Python warnings)', () => {});

  it('defer.TimeoutError and error.TimeoutError are two classes with Twisted\'s messages', () => {
    expect(twisted.defer.TimeoutError).not.toBe(twisted.error.TimeoutError);
    expect(twisted.TimeoutError).toBe(twisted.error.TimeoutError);
    expect(new twisted.defer.TimeoutError('Connection timeout').message).toBe('Connection timeout');
    expect(new twisted.error.TimeoutError().message).toMatch(/User timeout caused connection failure/);
  });
});

describe('InlineCallbacksTests (test_defgen.py)', () => {
  class TerminalException extends Error {}
  const getThing = (): Deferred<string> => {
    const d = new Deferred<string>();
    setImmediate(() => d.callback('hi'));
    return d;
  };
  const getOwie = (): Deferred<never> => {
    const d = new Deferred<never>();
    setImmediate(() => d.errback(new Error('OMG')));
    return d;
  };

  const _genBasics = inlineCallbacks(function* () {
    const x = yield getThing();
    expect(x).toBe('hi');
    try {
      yield getOwie();
    } catch (e) {
      expect((e as Error).message).toBe('OMG');
    }
    return 'WOOSH';
  });

  it('testBasics', async () => {
    expect(await _genBasics()).toBe('WOOSH');
  });

  it('testBuggy', async () => {
    const buggy = inlineCallbacks(function* () {
      yield getThing();
      throw new TypeError('buggy');
    });
    await expect(buggy()).rejects.toThrow(TypeError);
  });

  it('testNothing', async () => {
    const nothing = inlineCallbacks(function* () {
      // A generator with no yield, run to its end.
      if (Math.random() > 2) yield undefined;
    });
    expect(await nothing()).toBeUndefined();
  });

  it('testHandledTerminalFailure', async () => {
    const handled = inlineCallbacks(function* () {
      try {
        yield fail(new TerminalException('Handled Terminal Failure'));
      } catch {
        // handled
      }
    });
    expect(await handled()).toBeUndefined();
  });

  it('testHandledTerminalAsyncFailure', async () => {
    const d = new Deferred();
    const handled = inlineCallbacks(function* () {
      try {
        yield d;
      } catch {
        // handled
      }
    });
    const deferredGeneratorResultDeferred = handled();
    d.errback(new TerminalException('Handled Terminal Failure'));
    expect(await deferredGeneratorResultDeferred).toBeUndefined();
  });

  it('testStackUsage: 5,000 Deferreds that already have their result use no stack', async () => {
    const stackUsage = inlineCallbacks(function* () {
      for (let i = 0; i < 5000; i++) yield succeed(1);
      return 0;
    });
    expect(await stackUsage()).toBe(0);
  });

  it('testStackUsage2: 5,000 plain values', async () => {
    const stackUsage2 = inlineCallbacks(function* () {
      for (let i = 0; i < 5000; i++) yield 1;
      return 0;
    });
    expect(await stackUsage2()).toBe(0);
  });

  it('testYieldNonDeferred', async () => {
    const f = inlineCallbacks(function* () {
      return yield 5;
    });
    expect(await f()).toBe(5);
  });

  it('testReturnNoValue', async () => {
    const f = inlineCallbacks(function* () {
      yield 5;
      return;
    });
    expect(await f()).toBeUndefined();
  });

  it('testReturnValue', async () => {
    const f = inlineCallbacks(function* () {
      yield 5;
      returnValue(6);
    });
    expect(await f()).toBe(6);
  });

  it('test_nonGeneratorReturn', () => {
    const f = inlineCallbacks((() => 1) as never);
    expect(() => (f as () => unknown)()).toThrow(/inlineCallbacks\(\): requires .* to produce a generator; instead got 1/);
  });

  it('test_nonGeneratorReturnValue', () => {
    const f = inlineCallbacks((() => returnValue(1)) as never);
    expect(() => (f as () => unknown)()).toThrow(/instead caught returnValue being used in a non-generator/);
  });

  it('a Promise may be yielded: its result, or its rejection thrown into the generator', async () => {
    const f = inlineCallbacks(function* () {
      const a = (yield Promise.resolve(2)) as number;
      try {
        yield Promise.reject(new RangeError('no'));
      } catch (e) {
        return [a, (e as Error).message];
      }
      return null;
    });
    expect(await f()).toEqual([2, 'no']);
  });

  it('this and the arguments are passed to the generator', async () => {
    const obj = {
      base: 10,
      add: inlineCallbacks(function* (this: { base: number }, n: number) {
        const got = (yield succeed(n)) as number;
        return this.base + got;
      }),
    };
    expect(await obj.add(5)).toBe(15);
  });

  it('cancelling the returned Deferred cancels the one it waits on; the generator sees CancelledError', () => {
    const inner = new Deferred();
    const seen: unknown[] = [];
    const f = inlineCallbacks(function* () {
      try {
        yield inner;
      } catch (e) {
        seen.push(e instanceof CancelledError);
        return 'recovered';
      }
      return 'not cancelled';
    });
    const d = f();
    d.cancel();
    expect(seen).toEqual([true]);
    expect(inner.called).toBe(true);
    expect(successResultOf(d)).toBe('recovered');
  });

  it('a value thrown that is not an Error fails the Deferred with it wrapped', () => {
    const f = inlineCallbacks(function* () {
      yield 1;
      throw 'a string';
    });
    expect(failureResultOf(f()).getErrorMessage()).toBe('a string');
  });

  it('test_inlineCallbacksTracebacks: the failure keeps its error (and stack)', () => {
    const err = new RangeError('division by zero');
    const d = new Deferred();
    d.errback(err);
    const ic = inlineCallbacks(function* (x: unknown) {
      yield x;
    });
    const result = ic(d);
    const f = failureResultOf(result, RangeError);
    expect(f.value).toBe(err);
    expect(f.getTraceback()).toMatch(/test_inlineCallbacksTracebacks|twisted-defer-next/);
  });
});

describe('the entry points name themselves and the bad value', () => {
  it('Deferred methods and module functions', () => {
    const noisy = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
        getPrototypeOf() {
          throw new Error('trap');
        },
      },
    );
    expect(() => Deferred.fromPromise(Infinity as never)).toThrow(/^fromPromise\(\): needs a Promise, not Infinity$/);
    expect(() => new Deferred().chainDeferred(5 as never)).toThrow(/chainDeferred\(\): needs a Deferred, not 5/);
    expect(() => new Deferred().addTimeout('1' as never, new Clock())).toThrow(/addTimeout\(\): timeout must be a number/);
    expect(() => new Deferred().addTimeout(1, Map as never)).toThrow(/addTimeout\(\): clock must have callLater\(\)/);
    expect(() => new Deferred().addTimeout(1, new Clock(), 3 as never)).toThrow(/addTimeout\(\): onTimeoutCancel must be/);
    expect(() => timeout(null as never)).toThrow(/timeout\(\): needs a Deferred, not null/);
    expect(() => logError('x' as never)).toThrow(/logError\(\): needs a Failure, not 'x'/);
    expect(() => inlineCallbacks(7 as never)).toThrow(/inlineCallbacks\(\): needs a generator function, not 7/);
    expect(() => new DeferredSemaphore('2' as never)).toThrow(/DeferredSemaphore\(\): tokens must be an integer/);
    expect(() => new DeferredQueue(-1)).toThrow(/DeferredQueue\(\): size must be/);
    expect(() => new DeferredLock().run(noisy as never)).toThrow(/DeferredLock.run\(\): needs a function/);
    expect(() => new Deferred().addCallback(noisy as never)).toThrow(/addCallback\(\): needs a function/);
    expect(() => log.err(new Error('x'), 5 as never)).toThrow(/err\(\): why must be a string or null, not 5/);
    expect(() => log.addObserver(noisy as never)).toThrow(/addObserver\(\): needs a function/);
  });

  it('a value whose inspection throws is still named, without the report throwing', () => {
    const hostile = {
      [Symbol.for('nodejs.util.inspect.custom')]() {
        throw new Error('inspect trap');
      },
      toString() {
        throw new Error('toString trap');
      },
    };
    expect(() => new Deferred(hostile as never)).toThrow(/Deferred\(\): canceller must be a function or null, not <unprintable object>/);
    const f = new Failure(hostile);
    expect(f.getErrorMessage()).toBe('<unprintable object>');
    const d = new Deferred();
    d.callback(hostile);
    expect(String(d)).toMatch(/current result: <unprintable object>/);
  });
});

describe('log.err (twisted.python.log)', () => {
  it("log.err('some text') logs the text's repr, with no failure, as Twisted does", () => {
    const events = logged(() => log.err('some text'));
    expect(events).toHaveLength(1);
    expect(events[0]!.isError).toBe(true);
    expect(events[0]!.failure).toBeNull();
    expect(log.formatEvent(events[0]!)).toBe("'some text'\n");
  });

  it('log.err(failure, why) logs why, then the traceback', () => {
    const f = new Failure(new RangeError('v'));
    const events = logged(() => log.err(f, 'why here'));
    expect(events[0]!.failure).toBe(f);
    expect(log.formatEvent(events[0]!)).toMatch(/^why here\nRangeError: v\n/);
  });
});

describe('namespaces in asyncore/twisted', () => {
  it('defer, task, log and error hold Twisted\'s names', () => {
    expect(twisted.defer.Deferred).toBe(Deferred);
    expect(twisted.defer.inlineCallbacks).toBe(inlineCallbacks);
    expect(twisted.defer.DeferredQueue).toBe(DeferredQueue);
    expect(twisted.defer.timeout).toBe(timeout);
    expect(twisted.task.Clock).toBe(Clock);
    expect(typeof twisted.task.react).toBe('function');
    expect(typeof twisted.task.Cooperator).toBe('function');
    expect(twisted.log.err).toBe(log.err);
    expect(twisted.inlineCallbacks).toBe(inlineCallbacks);
  });
});

describe('DeferredFilesystemLockTests', () => {
  let dir = '';
  let clock: Clock;
  let lock: DeferredFilesystemLock;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'asyncore-lock-'));
    clock = new Clock();
    lock = new DeferredFilesystemLock(path.join(dir, 'lock'), clock);
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('test_waitUntilLockedWithNoLock', () => {
    expect(successResultOf(lock.deferUntilLocked(1))).toBeUndefined();
    expect(lock.locked).toBe(true);
  });

  it('test_waitUntilLockedWithTimeoutLocked', () => {
    expect(lock.lock()).toBe(true);
    const d = lock.deferUntilLocked(5.5);
    clock.pump(new Array<number>(10).fill(1));
    const f = failureResultOf(d, TimeoutError);
    expect(f.getErrorMessage()).toBe(`Timed out acquiring lock: ${lock.name} after 5.500000s`);
  });

  it('test_waitUntilLockedWithTimeoutUnlocked', () => {
    expect(lock.lock()).toBe(true);
    clock.callLater(1, () => lock.unlock());
    const d = lock.deferUntilLocked(10);
    clock.pump(new Array<number>(10).fill(1));
    expect(successResultOf(d)).toBeUndefined();
  });

  it('test_defaultScheduler', () => {
    expect(new DeferredFilesystemLock(path.join(dir, 'other')).scheduledOn).toBe(reactor);
  });

  it('test_concurrentUsage', () => {
    lock.lock();
    clock.callLater(1, () => lock.unlock());
    const d1 = lock.deferUntilLocked();
    const d2 = lock.deferUntilLocked();
    failureResultOf(d2, AlreadyTryingToLockError);
    clock.advance(1);
    expect(successResultOf(d1)).toBeUndefined();
  });

  it('test_multipleUsages', () => {
    lock.lock();
    clock.callLater(1, () => lock.unlock());
    const d = lock.deferUntilLocked();
    d.addCallback(() => {
      lock.unlock();
      return lock.deferUntilLocked();
    });
    clock.advance(1);
    expect(successResultOf(d)).toBeUndefined();
  });

  it('test_cancelDeferUntilLocked', () => {
    lock.lock();
    const deferred = lock.deferUntilLocked();
    const tryLockCall = lock.pendingCalls.tryLockCall!;
    deferred.cancel();
    expect(tryLockCall.active()).toBe(false);
    expect(lock.pendingCalls.tryLockCall).toBeNull();
    failureResultOf(deferred, CancelledError);
  });

  it('test_cancelDeferUntilLockedWithTimeout', () => {
    lock.lock();
    const deferred = lock.deferUntilLocked(1);
    const timeoutCall = lock.pendingCalls.timeoutCall!;
    deferred.cancel();
    expect(timeoutCall.active()).toBe(false);
    expect(lock.pendingCalls.timeoutCall).toBeNull();
    failureResultOf(deferred, CancelledError);
  });

  it('FilesystemLock: a lock held by a process that is gone is taken over (not clean)', () => {
    const name = path.join(dir, 'stale');
    // A pid that no process has: past the kernel's pid_max.
    symlinkSync(String(2 ** 22 + 1), name);
    const l = new DeferredFilesystemLock(name, clock);
    expect(l.lock()).toBe(true);
    expect(l.clean).toBe(false);
    expect(isLocked(name)).toBe(true);
    l.unlock();
    expect(isLocked(name)).toBe(false);
  });
});

describe('Failure, Clock and addCallbacks check their arguments', () => {
  it('name themselves and the bad value', () => {
    const f = new Failure(new RangeError('x'));
    expect(() => f.check(5 as never)).toThrow(/^check\(\): needs error classes or class names, not 5$/);
    expect(() => f.trap((() => 1) as never)).toThrow(/^trap\(\): needs error classes or class names/);
    expect(() => f.printTraceback({} as never)).toThrow(/printTraceback\(\): stream must have write\(\), not \{\}/);
    expect(() => new Clock().pump(3 as never)).toThrow(/pump\(\): timings must be an iterable of seconds, not 3/);
    expect(() => new Deferred().addCallbacks(() => 1, null, 7 as never)).toThrow(/addCallbacks\(\): callbackArgs must be an array, not 7/);
    expect(() => new Deferred().addCallbacks(() => 1, null, [], 'x' as never)).toThrow(/addCallbacks\(\): errbackArgs must be an array/);
    expect(f.check('RangeError', Error)).toBe('RangeError');
  });
});
