// twisted.internet.task's Clock, LoopingCall and deferLater, ported case by
// case from Twisted 22.4's twisted/test/test_task.py (ClockTests, LoopTests,
// ReactorLoopTests, DeferLaterTests), with Twisted's test names. Keyword
// arguments (b=2, d="d") are passed by position.
import { describe, expect, it } from 'vitest';
import { CancelledError, Deferred } from '../src/twisted/defer';
import { AlreadyCalled } from '../src/twisted/error';
import type { Failure } from '../src/twisted/failure';
import { reactor } from '../src/twisted/reactor';
import { Clock, LoopingCall, deferLater } from '../src/twisted/task';

class TestException extends Error {}

/** Twisted's TestableLoopingCall: a LoopingCall on a given clock. */
function testableLoopingCall(clock: Clock, f: (...a: never[]) => unknown, ...args: unknown[]): LoopingCall {
  const lc = new LoopingCall(f as (...a: unknown[]) => unknown, ...args);
  lc.clock = clock;
  return lc;
}

/** The result or failure a Deferred has now; a failure is consumed. */
function resultOf(d: Deferred<unknown>): { ok: boolean; value: unknown } | null {
  let got: { ok: boolean; value: unknown } | null = null;
  d.addCallbacks(
    (r) => void (got = { ok: true, value: r }),
    (f: Failure) => void (got = { ok: false, value: f.value }),
  );
  return got;
}

describe('ClockTests', () => {
  it('testSeconds', () => {
    expect(new Clock().seconds()).toBe(0);
  });

  it('testCallLater', () => {
    const c = new Clock();
    const call = c.callLater(1, () => undefined, 1, 2);
    expect(call.getTime()).toBe(1);
    expect(call.active()).toBe(true);
  });

  it('testCallLaterCancelled', () => {
    const c = new Clock();
    const call = c.callLater(1, () => undefined, 1, 2);
    call.cancel();
    expect(call.active()).toBe(false);
  });

  it('test_callLaterOrdering', () => {
    const c = new Clock();
    const call1 = c.callLater(10, () => undefined, 1, 2);
    const call2 = c.callLater(1, () => undefined, 3, 4);
    expect(call1).not.toBe(call2);
  });

  it('testAdvance', () => {
    const events: unknown[] = [];
    const c = new Clock();
    const call = c.callLater(2, () => events.push(null));
    c.advance(1);
    expect(events).toEqual([]);
    c.advance(1);
    expect(events).toEqual([null]);
    expect(call.active()).toBe(false);
  });

  it('testAdvanceCancel', () => {
    const c = new Clock();
    let threw: unknown = null;
    const call = c.callLater(1, () => {
      try {
        call.cancel();
      } catch (e) {
        threw = e;
      }
    });
    c.advance(1);
    expect(threw).toBeInstanceOf(AlreadyCalled);
  });

  it('testCallLaterDelayed', () => {
    const events: unknown[] = [];
    const c = new Clock();
    const call = c.callLater(1, (a: unknown, b: unknown) => events.push([a, b]), 1, 2);
    call.delay(1);
    expect(call.getTime()).toBe(2);
    c.advance(1.5);
    expect(events).toEqual([]);
    c.advance(1.0);
    expect(events).toEqual([[1, 2]]);
  });

  it('testCallLaterResetLater', () => {
    const events: unknown[] = [];
    const c = new Clock();
    const call = c.callLater(2, (a: unknown, b: unknown) => events.push([a, b]), 1, 2);
    c.advance(1);
    call.reset(3);
    expect(call.getTime()).toBe(4);
    c.advance(2);
    expect(events).toEqual([]);
    c.advance(1);
    expect(events).toEqual([[1, 2]]);
  });

  it('testCallLaterResetSooner', () => {
    const events: unknown[] = [];
    const c = new Clock();
    const call = c.callLater(4, (a: unknown, b: unknown) => events.push([a, b]), 1, 2);
    call.reset(3);
    expect(call.getTime()).toBe(3);
    c.advance(3);
    expect(events).toEqual([[1, 2]]);
  });

  it('test_getDelayedCalls', () => {
    const c = new Clock();
    const call = c.callLater(1, () => undefined);
    const call2 = c.callLater(2, () => undefined);
    expect(new Set(c.getDelayedCalls())).toEqual(new Set([call, call2]));
  });

  it('test_getDelayedCallsEmpty', () => {
    expect(new Clock().getDelayedCalls()).toEqual([]);
  });

  it('test_providesIReactorTime', () => {
    const c = new Clock();
    for (const method of ['callLater', 'seconds', 'getDelayedCalls'] as const) expect(typeof c[method]).toBe('function');
  });

  it('test_callLaterKeepsCallsOrdered', () => {
    const result: unknown[] = [];
    const clock = new Clock();
    const logtime = (n: string): number => result.push([n, clock.seconds()]);
    const callA = clock.callLater(1.0, logtime, 'a');
    callA.reset(3.0);
    clock.callLater(2.0, logtime, 'b');
    clock.pump([1, 1, 1]);
    expect(result).toEqual([
      ['b', 2.0],
      ['a', 3.0],
    ]);
  });

  it('test_callLaterResetKeepsCallsOrdered', () => {
    const result: unknown[] = [];
    const clock = new Clock();
    const logtime = (n: string): number => result.push([n, clock.seconds()]);
    const callA = clock.callLater(1.0, logtime, 'a');
    clock.callLater(2.0, logtime, 'b');
    callA.reset(3.0);
    clock.pump([1, 1, 1]);
    expect(result).toEqual([
      ['b', 2.0],
      ['a', 3.0],
    ]);
  });

  it('test_callLaterResetInsideCallKeepsCallsOrdered', () => {
    const result: unknown[] = [];
    const clock = new Clock();
    const logtime = (n: string): number => result.push([n, clock.seconds()]);
    const callB = clock.callLater(2.0, logtime, 'b');
    clock.callLater(1.0, () => callB.reset(3.0));
    clock.callLater(3.0, logtime, 'c');
    clock.pump(new Array<number>(10).fill(0.5));
    expect(result).toEqual([
      ['c', 3.0],
      ['b', 4.0],
    ]);
  });
});

describe('LoopTests', () => {
  it('test_defaultClock', () => {
    expect(new LoopingCall(() => undefined).clock).toBe(reactor);
  });

  it('test_callbackTimeSkips', () => {
    const times: number[] = [];
    let callDuration = 0;
    const clock = new Clock();
    const call = testableLoopingCall(clock, () => {
      times.push(clock.seconds());
      clock.advance(callDuration);
    });
    callDuration = 2;
    call.start(0.5);
    expect(times).toEqual([0]);
    expect(clock.seconds()).toBe(callDuration);
    clock.advance(0);
    expect(times).toEqual([0]);
    callDuration = 1;
    clock.advance(0.5);
    expect(times).toEqual([0, 2.5]);
    expect(clock.seconds()).toBe(3.5);
    clock.advance(0);
    expect(times).toEqual([0, 2.5]);
    callDuration = 0;
    clock.advance(0.5);
    expect(times).toEqual([0, 2.5, 4]);
    expect(clock.seconds()).toBe(4);
  });

  it('test_reactorTimeSkips', () => {
    const times: number[] = [];
    const clock = new Clock();
    const call = testableLoopingCall(clock, () => void times.push(clock.seconds()));
    call.start(0.5);
    expect(times).toEqual([0]);
    clock.advance(2);
    expect(times).toEqual([0, 2]);
    clock.advance(1);
    expect(times).toEqual([0, 2, 3]);
    clock.advance(0);
    expect(times).toEqual([0, 2, 3]);
  });

  it('testBasicFunction', () => {
    const clock = new Clock();
    const L: unknown[][] = [];
    const lc = testableLoopingCall(clock, (...a: unknown[]) => void L.push(a), 'a', 'b', undefined, 'd');
    const D = lc.start(0.1);
    const theResult: unknown[] = [];
    D.addCallback((r) => void theResult.push(r));
    clock.pump([0.05, 0.1, 0.1]);
    expect(L).toHaveLength(3);
    for (const [a, b, c, d] of L) {
      expect([a, b, c, d]).toEqual(['a', 'b', undefined, 'd']);
    }
    lc.stop();
    expect(theResult[0]).toBe(lc);
    expect(clock.calls).toHaveLength(0);
  });

  it('testDelayedStart', () => {
    const clock = new Clock();
    const L: unknown[] = [];
    const lc = testableLoopingCall(clock, (x: unknown) => void L.push(x), null);
    const d = lc.start(0.1, false);
    const theResult: unknown[] = [];
    d.addCallback((r) => void theResult.push(r));
    clock.pump([0.05, 0.1, 0.1]);
    expect(L).toHaveLength(2);
    lc.stop();
    expect(theResult[0]).toBe(lc);
    expect(clock.calls).toHaveLength(0);
  });

  it('testBadDelay', () => {
    expect(() => new LoopingCall(() => undefined).start(-1)).toThrow(RangeError);
  });

  for (const [name, delay] of [
    ['testStopAtOnce', 0],
    ['testStoppingBeforeDelayedStart', 10],
  ] as const) {
    it(name, () => {
      const ran: unknown[] = [];
      const clock = new Clock();
      const lc = testableLoopingCall(clock, () => void ran.push(null));
      lc.start(delay, false);
      lc.stop();
      expect(ran).toEqual([]);
      expect(clock.calls).toHaveLength(0);
    });
  }

  it('test_reset', () => {
    const ran: unknown[] = [];
    const c = new Clock();
    const lc = testableLoopingCall(c, () => void ran.push(null));
    lc.start(2, false);
    c.advance(1);
    lc.reset();
    c.advance(1);
    expect(ran).toEqual([]);
    c.advance(1);
    expect(ran).toEqual([null]);
  });

  it('test_reprFunction (the arguments by position: JavaScript has no keyword arguments)', () => {
    function installReactor(): void {}
    expect(String(new LoopingCall(installReactor, 1))).toBe('LoopingCall<None>(installReactor, *(1,), **{})');
  });

  it('test_reprMethod', () => {
    class TestableLoopingCall {
      init(): void {}
    }
    expect(String(new LoopingCall(TestableLoopingCall.prototype.init))).toBe('LoopingCall<None>(init, *(), **{})');
  });

  it.skip('test_deferredDeprecation (a Python DeprecationWarning)', () => {});
});

describe('ReactorLoopTests (on a Clock: the reactor is the process\'s one)', () => {
  it('testFailure', () => {
    const clock = new Clock();
    const lc = testableLoopingCall(clock, (x: unknown) => {
      throw new TestException(String(x));
    }, 'bar');
    const r = resultOf(lc.start(0.1))!;
    expect(r.ok).toBe(false);
    expect(r.value).toBeInstanceOf(TestException);
  });

  it('testFailAndStop', () => {
    const clock = new Clock();
    const lc: LoopingCall = testableLoopingCall(clock, (x: unknown) => {
      lc.stop();
      throw new TestException(String(x));
    }, 'bar');
    const r = resultOf(lc.start(0.1))!;
    expect(r.ok).toBe(false);
    expect(r.value).toBeInstanceOf(TestException);
  });

  it('testEveryIteration', () => {
    const clock = new Clock();
    const ran: unknown[] = [];
    const lc: LoopingCall = testableLoopingCall(clock, () => {
      ran.push(null);
      if (ran.length > 5) lc.stop();
    });
    const d = lc.start(0);
    for (let i = 0; i < 10; i++) clock.advance(0);
    expect(resultOf(d)).toEqual({ ok: true, value: lc });
    expect(ran).toHaveLength(6);
  });

  it('testStopAtOnceLater', () => {
    const clock = new Clock();
    const d = new Deferred();
    const lc = testableLoopingCall(clock, () => d.errback(new Error('This task also should never get called.')));
    lc.start(1, false);
    clock.callLater(0, () => {
      lc.stop();
      clock.callLater(0, () => d.callback('success'));
    });
    clock.advance(0);
    clock.advance(0);
    clock.advance(2);
    expect(resultOf(d)).toEqual({ ok: true, value: 'success' });
  });

  it('testWaitDeferred', () => {
    const clock = new Clock();
    const lc: LoopingCall = testableLoopingCall(clock, () => {
      const d = new Deferred();
      d.addCallback(() => lc.stop());
      clock.callLater(1, () => d.callback(undefined));
      return d;
    });
    lc.start(0.2);
    clock.pump([0.2, 0.8]);
    expect(clock.calls).toHaveLength(0);
  });

  it('testFailurePropagation', () => {
    const clock = new Clock();
    const lc = testableLoopingCall(clock, () => {
      const d = new Deferred();
      clock.callLater(0.3, () => d.errback(new TestException()));
      return d;
    });
    const d = lc.start(1);
    clock.pump([0.3]);
    expect(clock.calls).toHaveLength(0);
    const r = resultOf(d)!;
    expect(r.ok).toBe(false);
    expect(r.value).toBeInstanceOf(TestException);
  });

  it('test_deferredWithCount', () => {
    const testClock = new Clock();
    const d = new Deferred();
    const deferredCounts: number[] = [];
    const lc = LoopingCall.withCount((possibleCount) => {
      deferredCounts.push(possibleCount);
      return deferredCounts.length === 1 ? d : undefined;
    });
    lc.clock = testClock;
    lc.start(0.2, false);
    expect(deferredCounts).toEqual([]);
    testClock.pump([0.2, 0.4]);
    expect(deferredCounts).toHaveLength(1);
    d.callback(undefined);
    testClock.pump([0.2]);
    expect(deferredCounts).toEqual([1, 3]);
  });
});

describe('DeferLaterTests', () => {
  it('test_callback', () => {
    const results: unknown[] = [];
    const flag = {};
    const clock = new Clock();
    const d = deferLater(clock, 3, (foo: unknown, bar: unknown) => {
      results.push([foo, bar]);
      return flag;
    }, 'foo', 'bar');
    clock.advance(2);
    expect(results).toEqual([]);
    clock.advance(1);
    expect(results).toEqual([['foo', 'bar']]);
    expect(resultOf(d)).toEqual({ ok: true, value: flag });
  });

  it('test_errback', () => {
    const clock = new Clock();
    const d = deferLater(clock, 1, () => {
      throw new TestException();
    });
    clock.advance(1);
    const r = resultOf(d)!;
    expect(r.ok).toBe(false);
    expect(r.value).toBeInstanceOf(TestException);
  });

  it('test_cancel', () => {
    const called: unknown[] = [];
    const clock = new Clock();
    const d = deferLater(clock, 1, (x: unknown) => called.push(x), null);
    d.cancel();
    const r = resultOf(d)!;
    expect(r.value).toBeInstanceOf(CancelledError);
    expect(clock.getDelayedCalls()).toEqual([]);
    expect(called).toEqual([]);
  });

  it('test_noCallback', () => {
    const clock = new Clock();
    const d = deferLater(clock, 2.0);
    expect(d.called).toBe(false);
    clock.advance(2.0);
    expect(resultOf(d)).toEqual({ ok: true, value: undefined });
  });
});
