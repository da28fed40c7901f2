// twisted.internet.defer, ported from the parts of Twisted 22.4's
// twisted/test/test_defer.py that cover what this package has: the
// callback chain, chaining, pausing, cancellation, DeferredList,
// gatherResults, maybeDeferred, ensureDeferred and awaiting. Plus Failure
// and the delayed calls of task.Clock (test_task.py's ClockTests).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AlreadyCalledError,
  CancelledError,
  Deferred,
  DeferredList,
  FirstError,
  ensureDeferred,
  fail,
  gatherResults,
  maybeDeferred,
  succeed,
} from '../src/twisted/defer';
import { AlreadyCalled, AlreadyCancelled, ConnectionDone, ConnectionLost } from '../src/twisted/error';
import { Failure, NoCurrentExceptionError } from '../src/twisted/failure';
import { Clock, LoopingCall, deferLater } from '../src/twisted/task';

class GenericError extends Error {}

describe('Deferred (DeferredTests)', () => {
  it('test_callbackWithoutArgs, test_callbackWithArgs, test_twoCallbacks', () => {
    const calls: unknown[][] = [];
    const d = new Deferred<string>();
    d.addCallback((...a: unknown[]) => void calls.push(a));
    d.callback('hello');
    expect(calls).toEqual([['hello']]);
    const e = new Deferred<string>();
    e.addCallback((...a: unknown[]) => void calls.push(a), 'world');
    e.callback('hello');
    expect(calls[1]).toEqual(['hello', 'world']);
    const f = new Deferred<string>();
    const order: string[] = [];
    f.addCallback((r) => {
      order.push(`1:${r}`);
      return 'next';
    });
    f.addCallback((r) => void order.push(`2:${r}`));
    f.callback('x');
    expect(order).toEqual(['1:x', '2:next']);
  });

  it('test_addCallbacksNoneErrback / NoneCallbackArgs: a missing half passes the result on', () => {
    const got: unknown[] = [];
    const d = new Deferred<string>();
    d.addCallbacks((r) => void got.push(r), null);
    d.callback('hello');
    const e = new Deferred<string>();
    e.addCallbacks(null, (f: Failure) => void got.push(f.getErrorMessage()));
    e.errback(new GenericError('boom'));
    expect(got).toEqual(['hello', 'boom']);
  });

  it('an error thrown by a callback goes to the next errback, which can recover', () => {
    const d = new Deferred<number>();
    const seen: unknown[] = [];
    d.addCallback(() => {
      throw new GenericError('oops');
    });
    d.addCallback(() => seen.push('skipped'));
    d.addErrback((f: Failure) => {
      seen.push(f.check(GenericError) === GenericError, f.getErrorMessage());
      return 'recovered';
    });
    d.addCallback((r) => void seen.push(r));
    d.callback(1);
    expect(seen).toEqual([true, 'oops', 'recovered']);
  });

  it('addBoth sees results and failures; trap() passes other failures on', () => {
    const seen: unknown[] = [];
    const d = fail<number>(new ConnectionLost());
    d.addErrback((f: Failure) => {
      seen.push('first');
      f.trap(ConnectionDone);
    });
    d.addBoth((r) => {
      seen.push(r instanceof Failure ? r.type.name : r);
      return null;
    });
    expect(seen).toEqual(['first', 'ConnectionLost']);
    succeed(5).addBoth((r) => void seen.push(r));
    expect(seen[2]).toBe(5);
  });

  it('test_alreadyCalled: a second callback() or errback() is AlreadyCalledError', () => {
    const d = new Deferred<number>();
    d.callback(1);
    expect(() => d.callback(2)).toThrow(AlreadyCalledError);
    expect(() => d.errback(new Error('x'))).toThrow(AlreadyCalledError);
    const e = new Deferred<number>();
    e.errback(new Error('x'));
    e.addErrback(() => null);
    expect(() => e.callback(1)).toThrow(AlreadyCalledError);
  });

  it('callback(Deferred) is a TypeError; errback() needs a value; callbacks must be functions', () => {
    expect(() => new Deferred().callback(new Deferred())).toThrow(TypeError);
    expect(() => new Deferred().errback()).toThrow(/errback\(\): needs/);
    expect(() => new Deferred().addCallback(42 as never)).toThrow(/addCallback\(\): needs a function, not 42/);
    expect(() => new Deferred().addErrback('x' as never)).toThrow(TypeError);
    expect(() => new Deferred(7 as never)).toThrow(/canceller must be a function/);
  });

  it('test_pausedDeferredChained / pause and unpause', () => {
    const d = new Deferred<number>();
    const got: unknown[] = [];
    d.pause();
    d.addCallback((r) => void got.push(r));
    d.callback(1);
    expect(got).toEqual([]);
    d.unpause();
    expect(got).toEqual([1]);
  });

  it('test_synchronousImplicitChain / test_asynchronousImplicitChain: a returned Deferred holds the chain', () => {
    const results: unknown[] = [];
    succeed(1)
      .addCallback(() => succeed(2))
      .addCallback((r) => void results.push(r));
    expect(results).toEqual([2]);
    const inner = new Deferred<number>();
    const outer = succeed(1);
    outer.addCallback(() => inner);
    outer.addCallback((r) => void results.push(r));
    expect(results).toEqual([2]);
    expect(String(outer)).toMatch(/waiting on Deferred/);
    inner.callback(3);
    expect(results).toEqual([2, 3]);
    expect(inner.result).toBe(undefined);
  });

  it('test_synchronousImplicitErrorChain / test_asynchronousImplicitErrorChain', () => {
    const seen: string[] = [];
    succeed(1)
      .addCallback(() => fail(new GenericError('sync')))
      .addErrback((f: Failure) => void seen.push(f.getErrorMessage()));
    const inner = new Deferred();
    succeed(1)
      .addCallback(() => inner)
      .addErrback((f: Failure) => void seen.push(f.getErrorMessage()));
    inner.errback(new GenericError('async'));
    expect(seen).toEqual(['sync', 'async']);
  });

  it('test_doubleAsynchronousImplicitChaining and test_nestedAsynchronousChainedDeferreds', () => {
    const first = new Deferred<number>();
    const second = new Deferred<number>();
    second.addCallback(() => first);
    const third = new Deferred<number>();
    third.addCallback(() => second);
    const results: unknown[] = [];
    third.addCallback((r) => void results.push(r));
    second.callback(undefined as never);
    third.callback(undefined as never);
    expect(results).toEqual([]);
    first.callback(42);
    expect(results).toEqual([42]);

    const log: string[] = [];
    const outer = new Deferred<string>();
    const inner2 = new Deferred<string>();
    outer.addCallback((r) => {
      log.push(`outer ${r}`);
      const nested = new Deferred<string>();
      inner2.addCallback(() => nested);
      inner2.addCallback((x) => {
        log.push(`inner ${x}`);
        return x;
      });
      nested.callback('nested');
      return inner2;
    });
    outer.addCallback((r) => void log.push(`end ${r}`));
    outer.callback('go');
    inner2.callback('start');
    expect(log).toEqual(['outer go', 'inner nested', 'end nested']);
  });

  it('test_reentrantRunCallbacks: a callback that adds callbacks to its own Deferred', () => {
    const d = new Deferred<void>();
    const called: number[] = [];
    d.addCallback(() => {
      d.addCallback(() => void called.push(2));
      called.push(1);
    });
    d.callback();
    expect(called).toEqual([1, 2]);
  });

  it('test_callbackOrderPreserved and test_innerCallbacksPreserved', () => {
    const order: string[] = [];
    const a = new Deferred<void>();
    const b = new Deferred<void>();
    a.addCallback(() => {
      order.push('a1');
      return b;
    });
    a.addCallback(() => void order.push('a2'));
    b.addCallback(() => void order.push('b1'));
    a.callback();
    b.callback();
    expect(order).toEqual(['a1', 'b1', 'a2']);
  });

  it('test_boundedStackDepth: a chain of 10,000 Deferreds uses no stack', () => {
    const first = new Deferred<number>();
    let last: Deferred<number> = first;
    for (let i = 0; i < 10_000; i++) {
      const prev = last;
      const next = new Deferred<number>();
      next.addCallback(() => prev);
      next.callback(0);
      last = next;
    }
    const got: number[] = [];
    last.addCallback((r) => void got.push(r));
    first.callback(7);
    expect(got).toEqual([7]);
  });

  it('chainDeferred() passes the result on', () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    const got: number[] = [];
    b.addCallback((r) => void got.push(r));
    a.chainDeferred(b as Deferred<unknown>);
    a.callback(9);
    expect(got).toEqual([9]);
  });
});

describe('cancellation (DeferredCancellerTests)', () => {
  it('test_noCanceller: cancel() fails it with CancelledError; a later callback() is ignored once', () => {
    const d = new Deferred<number>();
    const errors: Failure[] = [];
    d.addErrback((f: Failure) => void errors.push(f));
    d.cancel();
    expect(errors[0]!.check(CancelledError)).toBe(CancelledError);
    d.callback(1);
    expect(() => d.callback(2)).toThrow(AlreadyCalledError);
  });

  it('test_raisesAfterCancelAndErrback and test_noCancellerMultipleCancel', () => {
    const d = new Deferred<number>();
    d.addErrback(() => null);
    d.cancel();
    d.errback(new GenericError());
    expect(() => d.errback(new GenericError())).toThrow(AlreadyCalledError);
    const e = new Deferred();
    e.addErrback(() => null);
    e.cancel();
    e.cancel();
  });

  it('test_cancellerArg and test_cancellerMultipleCancel: the canceller runs once, with the Deferred', () => {
    const seen: unknown[] = [];
    const d: Deferred<number> = new Deferred<number>((x) => void seen.push(x === d));
    d.addErrback(() => null);
    d.cancel();
    d.cancel();
    expect(seen).toEqual([true]);
  });

  it('test_cancelAfterCallback and test_cancelAfterErrback: nothing happens', () => {
    let cancellerCalled = false;
    const d = new Deferred<string>(() => {
      cancellerCalled = true;
    });
    d.callback('biff!');
    d.cancel();
    expect(cancellerCalled).toBe(false);
    expect(d.result).toBe('biff!');
    const e = new Deferred<string>();
    e.errback(new GenericError());
    e.cancel();
    const f: Failure[] = [];
    e.addErrback((x: Failure) => void f.push(x));
    expect(f[0]!.check(GenericError)).toBe(GenericError);
  });

  it('test_cancellerThatErrbacks and test_cancellerThatCallbacks: the canceller decides the result', () => {
    const got: unknown[] = [];
    const d = new Deferred((x) => x.errback(new GenericError('from canceller')));
    d.addErrback((f: Failure) => void got.push(f.getErrorMessage()));
    d.cancel();
    const e = new Deferred((x) => x.callback('cancelled result'));
    e.addCallback((r) => void got.push(r));
    e.cancel();
    expect(got).toEqual(['from canceller', 'cancelled result']);
  });

  it('test_cancelNestedDeferred: cancelling the outer cancels the inner it waits on', () => {
    let innerCancelled = false;
    const inner = new Deferred(() => {
      innerCancelled = true;
    });
    const outer = succeed(1).addCallback(() => inner);
    const errors: Failure[] = [];
    outer.addErrback((f: Failure) => void errors.push(f));
    outer.cancel();
    expect(innerCancelled).toBe(true);
    expect(errors[0]!.check(CancelledError)).toBe(CancelledError);
  });
});

describe('DeferredList and gatherResults', () => {
  it('test_DeferredList: [success, result] pairs in order, once all have fired', () => {
    const d1 = new Deferred<string>();
    const d2 = new Deferred<string>();
    const d3 = new Deferred<string>();
    const dl = new DeferredList([d1, d2, d3] as Deferred<unknown>[]);
    const result: unknown[] = [];
    dl.addCallback((r) => void result.push(...r));
    d1.callback('1');
    expect(result).toEqual([]);
    d2.errback(new GenericError('2'));
    d3.callback('3');
    expect(result.length).toBe(3);
    expect(result[0]).toEqual([true, '1']);
    expect((result[1] as [boolean, Failure])[0]).toBe(false);
    expect((result[1] as [boolean, Failure])[1].getErrorMessage()).toBe('2');
    expect(result[2]).toEqual([true, '3']);
    // Without consumeErrors the failure goes on down d2's own chain.
    d2.addErrback(() => null);
  });

  it('test_emptyDeferredList: fires at once with []', () => {
    const got: unknown[] = [];
    new DeferredList([]).addCallback((r) => void got.push(r));
    expect(got).toEqual([[]]);
  });

  it('fireOnOneCallback, fireOnOneErrback (FirstError) and consumeErrors', () => {
    const a = new Deferred<string>();
    const b = new Deferred<string>();
    const got: unknown[] = [];
    new DeferredList([a, b] as Deferred<unknown>[], true).addCallback((r) => void got.push(r));
    b.callback('b');
    expect(got).toEqual([['b', 1]]);
    const c = new Deferred();
    const e = new Deferred();
    new DeferredList([c, e], false, true, true).addErrback((f: Failure) => {
      got.push(f.check(FirstError) === FirstError, (f.value as FirstError).index, (f.value as FirstError).subFailure.getErrorMessage());
    });
    e.errback(new GenericError('second'));
    expect(got.slice(1)).toEqual([true, 1, 'second']);
    const after: unknown[] = [];
    e.addBoth((r) => void after.push(r));
    expect(after).toEqual([undefined]);
  });

  it('test_cancelDeferredList: cancelling the list cancels every Deferred in it', () => {
    const d1 = new Deferred();
    const d2 = new Deferred();
    const dl = new DeferredList([d1, d2]);
    const got: unknown[] = [];
    dl.addCallback((r) => void got.push(r));
    dl.cancel();
    const entries = got[0] as Array<[boolean, Failure]>;
    expect(entries.map(([ok, f]) => [ok, f.check(CancelledError)])).toEqual([
      [false, CancelledError],
      [false, CancelledError],
    ]);
    d1.addErrback(() => null);
    d2.addErrback(() => null);
  });

  it('test_gatherResults, test_gatherResultsWithConsumeErrors, test_cancelGatherResults', () => {
    const got: unknown[] = [];
    const a = new Deferred<number>();
    gatherResults([a, succeed(2)] as Deferred<unknown>[]).addCallback((r) => void got.push(r));
    a.callback(1);
    expect(got).toEqual([[1, 2]]);
    const bad = fail(new GenericError('bad'));
    gatherResults([succeed(1), bad] as Deferred<unknown>[], true).addErrback(
      (f: Failure) => void got.push((f.value as FirstError).subFailure.getErrorMessage()),
    );
    expect(got[1]).toBe('bad');
    const c = new Deferred();
    const g = gatherResults([c]);
    g.addErrback((f: Failure) => void got.push(f.value instanceof FirstError));
    g.cancel();
    c.addErrback(() => null);
    expect(got[2]).toBe(true);
  });

  it('DeferredList() checks its argument', () => {
    expect(() => new DeferredList(5 as never)).toThrow(/needs an array of Deferreds/);
    expect(() => new DeferredList([5] as never)).toThrow(/needs Deferreds, got 5/);
  });
});

describe('maybeDeferred, ensureDeferred, awaiting', () => {
  it('test_maybeDeferredSync, SyncWithArgs, SyncException, SyncFailure, Async, AsyncError', async () => {
    const got: unknown[] = [];
    maybeDeferred(() => 10).addCallback((r) => void got.push(r));
    maybeDeferred((x: unknown) => (x as number) + 5, 10).addCallback((r) => void got.push(r));
    maybeDeferred(() => {
      throw new GenericError('e');
    }).addErrback((f: Failure) => void got.push(f.getErrorMessage()));
    const inner = new Deferred<string>();
    maybeDeferred(() => inner).addCallback((r) => void got.push(r));
    inner.callback('async');
    const p = maybeDeferred(async () => 'promised');
    got.push(await p);
    expect(got).toEqual([10, 15, 'e', 'async', 'promised']);
  });

  it('a Deferred is awaitable: its result, or its failure thrown', async () => {
    const d = new Deferred<number>();
    setTimeout(() => d.callback(5), 1);
    expect(await d).toBe(5);
    await expect(fail(new GenericError('bad'))).rejects.toThrow('bad');
    // Awaiting takes the result, as in Twisted.
    expect(d.result).toBe(undefined);
  });

  it('test_ensureDeferredCoroutine, test_passesThroughDeferreds, test_willNotAllowNonDeferredOrCoroutine', async () => {
    const d = ensureDeferred((async () => 'coro')());
    const got: unknown[] = [];
    d.addCallback((r) => void got.push(r));
    await d;
    expect(got).toEqual(['coro']);
    const e = new Deferred();
    expect(ensureDeferred(e)).toBe(e);
    expect(() => ensureDeferred('x' as never)).toThrow(/needs a Promise or a Deferred/);
    const rejected = ensureDeferred(Promise.reject(new GenericError('no')));
    const failures: string[] = [];
    rejected.addErrback((f: Failure) => void failures.push(f.getErrorMessage()));
    await new Promise((r) => setImmediate(r));
    expect(failures).toEqual(['no']);
  });

  it('an unhandled failure is logged when its Deferred is collected ("Unhandled error in Deferred")', () => {
    const script = `
      const { fail } = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'twisted', 'defer.ts'))});
      (function () { fail(new Error('never handled')); })();
      setTimeout(() => { global.gc(); setTimeout(() => {}, 50); }, 10);
    `;
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/Unhandled error in Deferred:\n[^]*never handled/);
  });
});

describe('Failure', () => {
  it('wraps an error: value, type, getErrorMessage(), check(), trap(), toString()', () => {
    const f = new Failure(new ConnectionDone());
    expect(f.value).toBeInstanceOf(ConnectionDone);
    expect(f.type).toBe(ConnectionDone);
    expect(f.getErrorMessage()).toBe('Connection was closed cleanly.');
    expect(f.check(ConnectionLost, ConnectionDone)).toBe(ConnectionDone);
    expect(f.check('ConnectionClosed')).toBe('ConnectionClosed');
    expect(f.check(ConnectionLost)).toBe(null);
    expect(() => f.trap(ConnectionLost)).toThrow(ConnectionDone);
    expect(String(f)).toBe('[Failure instance: ConnectionDone: Connection was closed cleanly.]');
    expect(new Failure(f).value).toBe(f.value);
    expect(new Failure('text').getErrorMessage()).toBe('text');
    expect(() => new Failure()).toThrow(NoCurrentExceptionError);
  });
});

describe('task.Clock, DelayedCall and LoopingCall (test_task.py)', () => {
  it('ClockTests: callLater, advance, cancel, reset, delay, active, getTime', () => {
    const c = new Clock();
    const events: string[] = [];
    const a = c.callLater(1, () => events.push('a'));
    const b = c.callLater(2, (x: string) => events.push(x), 'b');
    expect(a.getTime()).toBe(1);
    c.advance(1);
    expect(events).toEqual(['a']);
    expect(a.active()).toBe(false);
    expect(() => a.cancel()).toThrow(AlreadyCalled);
    b.delay(2);
    c.advance(2);
    expect(events).toEqual(['a']);
    b.reset(0.5);
    expect(b.getTime()).toBe(3.5);
    c.advance(0.5);
    expect(events).toEqual(['a', 'b']);
    const d = c.callLater(1, () => events.push('d'));
    d.cancel();
    expect(() => d.cancel()).toThrow(AlreadyCancelled);
    expect(() => d.reset(1)).toThrow(AlreadyCancelled);
    c.advance(5);
    expect(events).toEqual(['a', 'b']);
    expect(c.getDelayedCalls()).toEqual([]);
  });

  it('LoopingCall: runs now and then every interval; stop() fires its Deferred with it', () => {
    const clock = new Clock();
    const calls: number[] = [];
    const lc = new LoopingCall(() => void calls.push(clock.seconds()));
    lc.clock = clock;
    const d = lc.start(0.1);
    let done: unknown = null;
    d.addCallback((r) => {
      done = r;
    });
    clock.pump([0.1, 0.1, 0.1]);
    expect(calls.length).toBe(4);
    lc.stop();
    expect(done).toBe(lc);
    expect(() => lc.stop()).toThrow(/not running/);
  });

  it('LoopingCall: a late call is not run twice (testBadDelay kind), now=false waits first', () => {
    const clock = new Clock();
    const calls: number[] = [];
    const lc = new LoopingCall(() => void calls.push(clock.seconds()));
    lc.clock = clock;
    lc.start(1, false);
    expect(calls).toEqual([]);
    clock.advance(3.5);
    expect(calls).toEqual([3.5]);
    clock.advance(0.5);
    expect(calls).toEqual([3.5, 4]);
  });

  it('LoopingCall: an error stops it and fails its Deferred; a returned Deferred is waited for', () => {
    const clock = new Clock();
    let n = 0;
    const lc = new LoopingCall(() => {
      n += 1;
      if (n === 3) throw new GenericError('third');
    });
    lc.clock = clock;
    const errors: string[] = [];
    lc.start(1).addErrback((f: Failure) => void errors.push(f.getErrorMessage()));
    clock.pump([1, 1, 1, 1]);
    expect([n, errors, lc.running]).toEqual([3, ['third'], false]);

    let pending: Deferred<void> | null = null;
    let m = 0;
    const slow = new LoopingCall(() => {
      m += 1;
      pending = new Deferred<void>();
      return pending;
    });
    slow.clock = clock;
    slow.start(1);
    clock.pump([1, 1]);
    expect(m).toBe(1);
    pending!.callback();
    clock.advance(1);
    expect(m).toBe(2);
    expect(() => slow.start(1)).toThrow(/already running/);
    expect(() => new LoopingCall(3 as never)).toThrow(TypeError);
    expect(() => new LoopingCall(() => 0).start(-1)).toThrow(RangeError);
  });

  it('deferLater: fires after the delay; cancelling cancels the call', () => {
    const clock = new Clock();
    const got: unknown[] = [];
    deferLater(clock, 2, (x: unknown) => `${String(x)}!`, 'hi').addCallback((r) => void got.push(r));
    clock.advance(2);
    expect(got).toEqual(['hi!']);
    const d = deferLater(clock, 1);
    d.addErrback((f: Failure) => void got.push(f.check(CancelledError) === CancelledError));
    d.cancel();
    expect(got[1]).toBe(true);
    expect(clock.getDelayedCalls()).toEqual([]);
  });
});
