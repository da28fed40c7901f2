// twisted.internet.task beyond Clock and LoopingCall's basics, ported from
// Twisted 22.4's twisted/test/test_task.py (LoopTests' withCount cases,
// ReactTests, ReactCoroutineFunctionTests) and test_cooperator.py, with
// Twisted's test names. Where Twisted's Cooperator tests use the real
// reactor as scheduler, these give the Cooperator a FakeScheduler and pump
// it: the same turns, without waiting on the event loop.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deferred, DeferredList, fail, succeed } from '../src/twisted/defer';
import { ReactorNotRunning } from '../src/twisted/error';
import { Failure } from '../src/twisted/failure';
import * as log from '../src/twisted/log';
import type { Callable } from '../src/twisted/reactor';
import {
  Clock,
  Cooperator,
  LoopingCall,
  NotPaused,
  SchedulerStopped,
  TaskDone,
  TaskFailed,
  TaskStopped,
  cooperate,
  deferLater,
  react,
  type IReactorCore,
} from '../src/twisted/task';

describe('LoopTests: LoopingCall.withCount', () => {
  it('test_reactorTimeCountSkips', () => {
    const times: Array<[number, number]> = [];
    const clock = new Clock();
    const call = LoopingCall.withCount((numCalls) => void times.push([clock.seconds(), numCalls]));
    call.clock = clock;
    const INTERVAL = 0.5;
    const REALISTIC_DELAY = 0.01;
    call.start(INTERVAL);
    expect(times).toEqual([[0, 1]]);
    clock.advance(INTERVAL + REALISTIC_DELAY);
    expect(times).toEqual([
      [0, 1],
      [INTERVAL + REALISTIC_DELAY, 1],
    ]);
    clock.advance(3 * INTERVAL + REALISTIC_DELAY);
    const expected = [
      [0, 1],
      [INTERVAL + REALISTIC_DELAY, 1],
      [4 * INTERVAL + 2 * REALISTIC_DELAY, 3],
    ];
    expect(times).toEqual(expected);
    clock.advance(0);
    expect(times).toEqual(expected);
  });

  it('test_countLengthyIntervalCounts', () => {
    const times: Array<[number, number]> = [];
    const clock = new Clock();
    const call = LoopingCall.withCount((count) => void times.push([clock.seconds(), count]));
    call.clock = clock;
    const INTERVAL = 0.5;
    const REALISTIC_DELAY = 0.01;
    call.start(INTERVAL);
    expect(times.pop()).toEqual([0, 1]);
    clock.advance(INTERVAL + REALISTIC_DELAY);
    expect(times.pop()).toEqual([INTERVAL + REALISTIC_DELAY, 1]);
    clock.advance(INTERVAL * 1.75);
    expect(times.pop()).toEqual([2.75 * INTERVAL + REALISTIC_DELAY, 1]);
    clock.advance(INTERVAL * 0.25);
    expect(times.pop()).toEqual([3.0 * INTERVAL + REALISTIC_DELAY, 1]);
  });

  it('test_withCountFloatingPointBoundary', () => {
    const clock = new Clock();
    const accumulator: number[] = [];
    const call = LoopingCall.withCount((n) => void accumulator.push(n));
    call.clock = clock;
    const count = 10;
    const timespan = 1.0;
    const interval = timespan / count;
    call.start(interval, false);
    for (let x = 0; x < count; x++) clock.advance(interval);
    const epsilon = timespan - new Array<number>(count).fill(interval).reduce((a, b) => a + b, 0);
    clock.advance(epsilon);
    expect(Math.abs(epsilon)).toBeGreaterThan(0);
    expect(clock.seconds()).toBeGreaterThanOrEqual(timespan);
    expect(accumulator.reduce((a, b) => a + b, 0)).toBe(count);
    expect(accumulator).not.toContain(0);
  });

  it('test_withCountIntervalZero', () => {
    const clock = new Clock();
    const accumulator: number[] = [];
    const loop: LoopingCall = LoopingCall.withCount((cnt) => {
      accumulator.push(cnt);
      if (accumulator.length > 4) loop.stop();
    });
    loop.clock = clock;
    const deferred = loop.start(0, false);
    clock.advance(0);
    let done: unknown = null;
    deferred.addCallback((r) => void (done = r));
    expect(done).toBe(loop);
    expect(accumulator).toEqual([1, 1, 1, 1, 1]);
  });

  it('test_withCountIntervalZeroDelay', () => {
    const clock = new Clock();
    const deferred = new Deferred();
    const accumulator: number[] = [];
    const loop: LoopingCall = LoopingCall.withCount((cnt) => {
      accumulator.push(cnt);
      if (accumulator.length === 2) return deferred;
      if (accumulator.length > 4) loop.stop();
      return undefined;
    });
    loop.clock = clock;
    loop.start(0, false);
    clock.advance(0);
    expect(accumulator).toEqual([1, 1]);
    clock.advance(2);
    expect(accumulator).toEqual([1, 1]);
    deferred.callback(undefined);
    clock.advance(0);
    expect(accumulator).toEqual([1, 1, 1, 1, 1]);
  });

  it('test_withCountIntervalZeroDelayThenNonZeroInterval', () => {
    const clock = new Clock();
    const deferred = new Deferred();
    const accumulator: number[] = [];
    const loop = LoopingCall.withCount((cnt) => {
      accumulator.push(cnt);
      return accumulator.length === 2 ? deferred : undefined;
    });
    loop.clock = clock;
    loop.start(0, false);
    clock.advance(10);
    expect(accumulator).toEqual([1, 1]);
    loop.interval = 2;
    deferred.callback(undefined);
    clock.advance(7);
    expect(accumulator).toEqual([1, 1, 3]);
    clock.advance(2);
    expect(accumulator).toEqual([1, 1, 3, 1]);
    clock.advance(4);
    expect(accumulator).toEqual([1, 1, 3, 1, 2]);
  });
});

const src = path.join(__dirname, '..', 'src', 'twisted');

/** Twisted's _FakeReactor: a Clock that run() advances until stop(). */
class FakeReactor implements IReactorCore {
  private running = false;
  private readonly clock = new Clock();
  private whenRunning: Array<[Callable, unknown[]]> | null = [];
  private shutdownTriggers: Record<string, Array<[Callable, unknown[]]>> | null = { before: [], during: [] };

  callLater(delay: number, fn: Callable, ...args: unknown[]): unknown {
    return this.clock.callLater(delay, fn, ...args);
  }

  seconds(): number {
    return this.clock.seconds();
  }

  callWhenRunning(fn: Callable, ...args: unknown[]): void {
    if (this.whenRunning === null) fn(...args);
    else this.whenRunning.push([fn, args]);
  }

  addSystemEventTrigger(phase: string, event: string, fn: Callable, ...args: unknown[]): void {
    expect(['before', 'during']).toContain(phase);
    expect(event).toBe('shutdown');
    this.shutdownTriggers![phase]!.push([fn, args]);
  }

  /**
   * Runs the calls until stopped. Between calls it lets the event loop take
   * a turn, so that an async main's Promise settles (Twisted drives a
   * coroutine synchronously; a Promise settles only in a later job).
   */
  async run(): Promise<void> {
    this.running = true;
    const whenRunning = this.whenRunning!;
    this.whenRunning = null;
    for (const [fn, args] of whenRunning) fn(...args);
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (!this.running) break;
      const calls = this.clock.getDelayedCalls();
      if (calls.length === 0) throw new Error('No DelayedCalls left');
      this.clock.advance(calls[0]!.getTime() - this.seconds());
    }
    const triggers = this.shutdownTriggers!;
    this.shutdownTriggers = null;
    for (const [fn, args] of [...triggers.before!, ...triggers.during!]) fn(...args);
  }

  stop(): void {
    if (!this.running) throw new ReactorNotRunning();
    this.running = false;
  }
}

/** What process.exit() was called with, in place of Python's SystemExit. */
class SystemExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

async function reactExit(
  main: (reactor: IReactorCore, ...argv: unknown[]) => unknown,
  argv: unknown[],
  r: IReactorCore,
): Promise<SystemExit> {
  try {
    await react(main, argv, r);
  } catch (e) {
    if (e instanceof SystemExit) return e;
    throw e;
  }
  throw new Error('react() returned');
}

class ExpectedException extends Error {}

for (const [className, wrap] of [
  ['ReactTests', (d: () => Deferred<unknown>) => d],
  // An async main: its Promise, as Twisted's coroutine main.
  ['ReactCoroutineFunctionTests', (d: () => Deferred<unknown>) => async () => await d()],
] as const) {
  describe(className, () => {
    let errors: log.LogEvent[] = [];
    const observer = (e: log.LogEvent): void => void errors.push(e);
    beforeEach(() => {
      errors = [];
      log.addObserver(observer);
      vi.spyOn(process, 'exit').mockImplementation((code) => {
        throw new SystemExit(Number(code));
      });
    });
    afterEach(() => {
      log.removeObserver(observer);
      vi.restoreAllMocks();
    });

    it('test_runsUntilAsyncCallback', async () => {
      const timePassed: boolean[] = [];
      const r = new FakeReactor();
      const main = wrap(() => {
        const finished = new Deferred();
        r.callLater(1, () => timePassed.push(true));
        r.callLater(2, () => finished.callback(undefined));
        return finished;
      });
      expect((await reactExit(main, [], r)).code).toBe(0);
      expect(timePassed).toEqual([true]);
      expect(r.seconds()).toBe(2);
    });

    it('test_runsUntilSyncCallback', async () => {
      const r = new FakeReactor();
      const code = (await reactExit(
        wrap(() => succeed(undefined)),
        [],
        r,
      )).code;
      expect(code).toBe(0);
      expect(r.seconds()).toBe(0);
    });

    it('test_runsUntilAsyncErrback', async () => {
      const r = new FakeReactor();
      const main = wrap(() => {
        const finished = new Deferred();
        r.callLater(1, () => finished.errback(new ExpectedException()));
        return finished;
      });
      expect((await reactExit(main, [], r)).code).toBe(1);
      expect(errors.filter((e) => e.failure?.check(ExpectedException))).toHaveLength(1);
      expect(errors[0]!.why).toBe('main function encountered error');
    });

    it('test_runsUntilSyncErrback', async () => {
      const r = new FakeReactor();
      expect((await reactExit(wrap(() => fail(new ExpectedException())), [], r)).code).toBe(1);
      expect(r.seconds()).toBe(0);
      expect(errors.filter((e) => e.failure?.check(ExpectedException))).toHaveLength(1);
    });

    it('test_singleStopCallback', async () => {
      const r = new FakeReactor();
      const main = wrap(() => {
        r.callLater(1, () => r.stop());
        const finished = new Deferred();
        r.addSystemEventTrigger('during', 'shutdown', () => finished.callback(undefined));
        return finished;
      });
      expect((await reactExit(main, [], r)).code).toBe(0);
      expect(r.seconds()).toBe(1);
    });

    it('test_singleStopErrback', async () => {
      const r = new FakeReactor();
      const main = wrap(() => {
        r.callLater(1, () => r.stop());
        const finished = new Deferred();
        r.addSystemEventTrigger('during', 'shutdown', () => finished.errback(new ExpectedException()));
        return finished;
      });
      expect((await reactExit(main, [], r)).code).toBe(1);
      expect(r.seconds()).toBe(1);
      expect(errors.filter((e) => e.failure?.check(ExpectedException))).toHaveLength(1);
    });

    it('test_arguments', async () => {
      const args: unknown[] = [];
      const r = new FakeReactor();
      const main = (_reactor: IReactorCore, x: unknown, y: unknown, z: unknown): unknown => {
        args.push(x, y, z);
        return wrap(() => succeed(undefined))();
      };
      expect((await reactExit(main as (reactor: IReactorCore, ...argv: unknown[]) => unknown, [1, 2, 3], r)).code).toBe(0);
      expect(args).toEqual([1, 2, 3]);
    });

    it.skip('test_defaultReactor (installReactor and NoReactor: the process has one reactor, which cannot be replaced)', () => {});

    it.skip('test_exitWithDefinedCode (SystemExit is a Python exception: JavaScript exits with process.exit())', () => {});

    it('test_synchronousStop', async () => {
      const r = new FakeReactor();
      const main = wrap(() => {
        const d = new Deferred();
        r.callWhenRunning(() => {
          r.stop();
          d.callback(undefined);
        });
        return d;
      });
      expect((await reactExit(main, [], r)).code).toBe(0);
    });

    it('test_asynchronousStop', async () => {
      const r = new FakeReactor();
      const main = wrap(() => {
        r.callLater(1, () => r.stop());
        return new Deferred();
      });
      expect((await reactExit(main, [], r)).code).toBe(0);
    });
  });
}

/** Twisted's FakeScheduler: the calls a Cooperator schedules, run by pump(). */
class FakeScheduler {
  work: Array<{ func: () => void; cancelled: boolean; cancel(): void }> = [];

  readonly schedule = (func: () => void): { cancel(): void } => {
    const unit = {
      func,
      cancelled: false,
      cancel() {
        this.cancelled = true;
      },
    };
    this.work.push(unit);
    return unit;
  };

  pump(): void {
    const work = this.work;
    this.work = [];
    for (const unit of work) if (!unit.cancelled) unit.func();
  }

  /** Pumps until nothing is scheduled (a bounded number of turns). */
  drain(): void {
    for (let i = 0; i < 1000 && this.work.length > 0; i++) this.pump();
  }
}

/** The result or failure a Deferred has now. */
function resultOf(d: Deferred<unknown>): { ok: boolean; value: unknown } | null {
  let got: { ok: boolean; value: unknown } | null = null;
  d.addCallbacks(
    (r) => {
      got = { ok: true, value: r };
      return r;
    },
    (f: Failure) => {
      got = { ok: false, value: f };
      return null;
    },
  );
  return got;
}

describe('CooperatorTests', () => {
  const RESULT = 'done';
  const ebIter = (err: Failure): string => {
    err.trap(SchedulerStopped);
    return RESULT;
  };
  const cbIter = (): never => {
    throw new Error('cbIter: should not be called');
  };

  it('testStoppedRejectsNewTasks', () => {
    for (const stuff of [null, new Deferred<Iterator<unknown>>()]) {
      const c = new Cooperator();
      c.stop();
      const d = c.coiterate([][Symbol.iterator](), stuff);
      d.addCallback(cbIter);
      d.addErrback(ebIter);
      expect(resultOf(d)).toEqual({ ok: true, value: RESULT });
    }
  });

  it('testStopRunning', () => {
    const scheduler = new FakeScheduler();
    const c = new Cooperator(undefined, scheduler.schedule);
    let value = -1;
    function* myiter(): Generator<number> {
      for (let i = 0; i < 3; i++) {
        value = i;
        yield i;
      }
    }
    const d = c.coiterate(myiter());
    d.addCallback(cbIter);
    d.addErrback(ebIter);
    c.stop();
    expect(resultOf(d)).toEqual({ ok: true, value: RESULT });
    expect(value).toBe(-1);
  });

  it('testStopOutstanding', () => {
    const scheduler = new FakeScheduler();
    const outstandingD = new Deferred();
    const c = new Cooperator(undefined, scheduler.schedule);
    function* myiter(): Generator<unknown> {
      yield outstandingD;
      throw new Error('should not resume');
    }
    const d = c.coiterate(myiter());
    scheduler.pump();
    c.stop();
    outstandingD.callback('arglebargle');
    d.addCallback(cbIter);
    d.addErrback(ebIter);
    expect(resultOf(d)).toEqual({ ok: true, value: RESULT });
  });

  it('testUnexpectedError', () => {
    const scheduler = new FakeScheduler();
    const c = new Cooperator(undefined, scheduler.schedule);
    // eslint-disable-next-line require-yield
    function* myiter(): Generator<unknown> {
      throw new RangeError('unexpected');
    }
    const d = c.coiterate(myiter());
    scheduler.drain();
    const r = resultOf(d)!;
    expect(r.ok).toBe(false);
    expect((r.value as Failure).value).toBeInstanceOf(RangeError);
  });

  it('testUnexpectedErrorActuallyLater', () => {
    const scheduler = new FakeScheduler();
    const clock = new Clock();
    function* myiter(): Generator<unknown> {
      const D = new Deferred();
      clock.callLater(0, () => D.errback(new RangeError('later')));
      yield D;
    }
    const c = new Cooperator(undefined, scheduler.schedule);
    const d = c.coiterate(myiter());
    scheduler.drain();
    clock.advance(0);
    const r = resultOf(d)!;
    expect(r.ok).toBe(false);
    expect((r.value as Failure).value).toBeInstanceOf(RangeError);
  });

  it('testUnexpectedErrorNotActuallyLater', () => {
    const scheduler = new FakeScheduler();
    function* myiter(): Generator<unknown> {
      yield fail(new RangeError('now'));
    }
    const c = new Cooperator(undefined, scheduler.schedule);
    const d = c.coiterate(myiter());
    scheduler.drain();
    const r = resultOf(d)!;
    expect(r.ok).toBe(false);
    expect((r.value as Failure).value).toBeInstanceOf(RangeError);
  });

  it('testCooperation', () => {
    const scheduler = new FakeScheduler();
    const L: unknown[] = [];
    function* myiter(things: Iterable<unknown>): Generator<undefined> {
      for (const th of things) {
        L.push(th);
        yield undefined;
      }
    }
    const groupsOfThings: unknown[][] = [['a', 'b', 'c'], [1, 2, 3], ['d', 'e', 'f'], [4, 5, 6]];
    // One step per task per turn, as Twisted's slices interleave them.
    const c = new Cooperator(() => () => false, scheduler.schedule);
    const tasks = groupsOfThings.map((stuff) => c.coiterate(myiter(stuff)));
    const all = new DeferredList(tasks as Array<Deferred<unknown>>);
    scheduler.drain();
    expect(resultOf(all)!.ok).toBe(true);
    const zipped = [0, 1, 2].flatMap((i) => groupsOfThings.map((g) => g[i]));
    expect(L).toEqual(zipped);
  });

  it('testResourceExhaustion', () => {
    const output: number[] = [];
    let stopped = false;
    function* myiter(): Generator<number> {
      for (let i = 0; i < 100; i++) {
        output.push(i);
        if (i === 9) stopped = true;
        yield i;
      }
    }
    const scheduler = new FakeScheduler();
    const c = new Cooperator(() => () => stopped, scheduler.schedule);
    c.coiterate(myiter()).addErrback(ebIter);
    // Twisted cancels the scheduled call and ticks by hand: one turn.
    scheduler.pump();
    c.stop();
    expect(stopped).toBe(true);
    expect(output).toEqual([...Array(10).keys()]);
  });

  it('testCallbackReCoiterate', () => {
    const calls: Array<{ func: () => void; cancel(): void }> = [];
    const sched = (f: () => void): { cancel(): void } => {
      expect(calls).toEqual([]);
      calls.push({ func: f, cancel: () => undefined });
      return calls[calls.length - 1]!;
    };
    const c = new Cooperator(() => () => true, sched);
    const d = c.coiterate([][Symbol.iterator]());
    const done: unknown[] = [];
    d.addCallback(() => {
      c.coiterate([][Symbol.iterator]()).addBoth((r) => void done.push(r));
    });
    let work = 0;
    while (done.length === 0) {
      work += 1;
      while (calls.length > 0) {
        calls.shift()!.func();
        work += 1;
      }
      if (work > 50) throw new Error('Cooperator took too long');
    }
  });

  it('test_removingLastTaskStopsScheduledCall', () => {
    const calls: Array<{ func: () => void; cancelled: boolean; cancel(): void } | null> = [null];
    const sched = (f: () => void): { cancel(): void } => {
      calls[0] = {
        func: f,
        cancelled: false,
        cancel() {
          this.cancelled = true;
        },
      };
      return calls[0];
    };
    const coop = new Cooperator(undefined, sched);
    const task1 = coop.cooperate([1, 2][Symbol.iterator]());
    const task2 = coop.cooperate([1, 2][Symbol.iterator]());
    const first = calls[0]!;
    task1.stop();
    expect(first.cancelled).toBe(false);
    task2.stop();
    expect(first.cancelled).toBe(true);
    coop.cooperate([1, 2][Symbol.iterator]());
    expect(calls[0]).not.toBe(first);
    expect(calls[0]!.cancelled).toBe(false);
  });

  it('test_runningWhenStarted', () => {
    expect(new Cooperator().running).toBe(true);
  });

  it('test_runningWhenNotStarted', () => {
    expect(new Cooperator(undefined, undefined, false).running).toBe(false);
  });

  it('test_runningWhenRunning', () => {
    const c = new Cooperator(undefined, undefined, false);
    c.start();
    expect(c.running).toBe(true);
    c.stop();
  });

  it('test_runningWhenStopped', () => {
    const c = new Cooperator(undefined, undefined, false);
    c.start();
    c.stop();
    expect(c.running).toBe(false);
  });
});

describe('AliasTests', () => {
  it('test_cooperate: the global Cooperator runs the task on the reactor', () => {
    // The reactor is the process's one: run it in a child.
    const script = `
      const { cooperate, coiterate } = require(${JSON.stringify(path.join(src, 'task.ts'))});
      const { Deferred } = require(${JSON.stringify(path.join(src, 'defer.ts'))});
      const { reactor } = require(${JSON.stringify(path.join(src, 'reactor.ts'))});
      const d = new Deferred();
      const steps = [];
      function* doit() { for (const i of [1, 2, 3]) { steps.push(i); yield i; } d.callback('yay'); }
      const theTask = cooperate(doit());
      d.addCallback((r) => coiterate([4, 5][Symbol.iterator]()).addCallback(() => {
        console.log(JSON.stringify({ r, steps, task: typeof theTask.whenDone }));
        reactor.stop();
      }));
      reactor.run();
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ r: 'yay', steps: [1, 2, 3], task: 'function' });
  });
});

class UnhandledException extends Error {}

describe('RunStateTests', () => {
  let doDeferNext = false;
  let doStopNext = false;
  let doDieNext = false;
  let work: unknown[] = [];
  let scheduler: FakeScheduler;
  let cooperator: Cooperator;
  let task: ReturnType<Cooperator['cooperate']>;
  let iterator: Generator<unknown>;

  function* worker(): Generator<unknown> {
    let i = 0;
    for (;;) {
      i += 1;
      if (doDeferNext) {
        doDeferNext = false;
        const d = new Deferred();
        work.push(d);
        yield d;
      } else if (doStopNext) {
        return;
      } else if (doDieNext) {
        throw new UnhandledException();
      } else {
        work.push(i);
        yield i;
      }
    }
  }

  beforeEach(() => {
    doDeferNext = false;
    doStopNext = false;
    doDieNext = false;
    work = [];
    scheduler = new FakeScheduler();
    cooperator = new Cooperator(() => () => true, scheduler.schedule);
    iterator = worker();
    task = cooperator.cooperate(iterator);
    cooperator.start();
  });

  it('test_pauseResume', () => {
    scheduler.pump();
    expect(work).toEqual([1]);
    scheduler.pump();
    expect(work).toEqual([1, 2]);
    task.pause();
    scheduler.pump();
    expect(work).toEqual([1, 2]);
    task.resume();
    expect(work).toEqual([1, 2]);
    scheduler.pump();
    expect(work).toEqual([1, 2, 3]);
  });

  it('test_resumeNotPaused', () => {
    expect(() => task.resume()).toThrow(NotPaused);
    task.pause();
    task.resume();
    expect(() => task.resume()).toThrow(NotPaused);
  });

  it('test_pauseTwice', () => {
    task.pause();
    scheduler.pump();
    expect(work).toEqual([]);
    task.pause();
    scheduler.pump();
    expect(work).toEqual([]);
    task.resume();
    scheduler.pump();
    expect(work).toEqual([]);
    task.resume();
    scheduler.pump();
    expect(work).toEqual([1]);
  });

  it('test_pauseWhileDeferred', () => {
    doDeferNext = true;
    scheduler.pump();
    expect(work).toHaveLength(1);
    expect(work[0]).toBeInstanceOf(Deferred);
    scheduler.pump();
    expect(work).toHaveLength(1);
    task.pause();
    scheduler.pump();
    expect(work).toHaveLength(1);
    task.resume();
    scheduler.pump();
    expect(work).toHaveLength(1);
    (work[0] as Deferred).callback('STUFF!');
    scheduler.pump();
    expect(work).toHaveLength(2);
    expect(work[1]).toBe(2);
  });

  it('test_whenDone', () => {
    const deferred1 = task.whenDone();
    const deferred2 = task.whenDone();
    const results1: unknown[] = [];
    const results2: unknown[] = [];
    const final1: unknown[] = [];
    const final2: unknown[] = [];
    deferred1.addCallback((r) => {
      results1.push(r);
      return 1;
    });
    deferred2.addCallback((r) => {
      results2.push(r);
      return 2;
    });
    deferred1.addCallback((r) => void final1.push(r));
    deferred2.addCallback((r) => void final2.push(r));
    doStopNext = true;
    scheduler.pump();
    expect(results1).toEqual([iterator]);
    expect(results2[0]).toBe(iterator);
    expect(final1).toEqual([1]);
    expect(final2).toEqual([2]);
  });

  it('test_whenDoneError', () => {
    const results: Failure[] = [];
    task.whenDone().addErrback((f: Failure) => void results.push(f));
    doDieNext = true;
    scheduler.pump();
    expect(results).toHaveLength(1);
    expect(results[0]!.check(UnhandledException)).toBe(UnhandledException);
  });

  it('test_whenDoneStop', () => {
    const errors: Failure[] = [];
    task.whenDone().addErrback((f: Failure) => void errors.push(f));
    task.stop();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.check(TaskStopped)).toBe(TaskStopped);
  });

  it('test_whenDoneAlreadyDone', () => {
    doStopNext = true;
    scheduler.pump();
    const results: unknown[] = [];
    task.whenDone().addCallback((r) => void results.push(r));
    expect(results).toEqual([iterator]);
  });

  it('test_stopStops', () => {
    task.stop();
    scheduler.pump();
    expect(work).toHaveLength(0);
    expect(() => task.stop()).toThrow(TaskStopped);
    expect(() => task.pause()).toThrow(TaskStopped);
    scheduler.pump();
    expect(work).toEqual([]);
  });

  it('test_pauseStopResume', () => {
    task.pause();
    task.stop();
    task.resume();
    scheduler.pump();
    expect(work).toEqual([]);
  });

  it('test_stopDeferred', () => {
    doDeferNext = true;
    scheduler.pump();
    const d = work.pop() as Deferred;
    const results: unknown[] = [];
    d.addBoth((r) => void results.push(r));
    scheduler.pump();
    task.stop();
    scheduler.pump();
    d.callback(7);
    scheduler.pump();
    expect(results).toEqual([undefined]);
    expect(work).toEqual([]);
  });

  it('test_stopExhausted', () => {
    doStopNext = true;
    scheduler.pump();
    expect(() => task.stop()).toThrow(TaskDone);
  });

  it('test_stopErrored', () => {
    doDieNext = true;
    task.whenDone().addErrback(() => null);
    scheduler.pump();
    expect(() => task.stop()).toThrow(TaskFailed);
  });

  it('test_stopCooperatorReentrancy', () => {
    const callbackPhases: unknown[] = [];
    task.whenDone().addCallback((result) => {
      callbackPhases.push(result);
      cooperator.stop();
      callbackPhases.push('done');
    });
    doStopNext = true;
    scheduler.pump();
    expect(callbackPhases).toEqual([iterator, 'done']);
  });
});

describe('task entry points name themselves and the bad value', () => {
  it('deferLater, LoopingCall.withCount, react, Cooperator, cooperate', async () => {
    expect(() => deferLater(2147483648 as never, Map as never)).toThrow(/^deferLater\(\): clock must have callLater\(\), not 2147483648$/);
    expect(() => deferLater(new Clock(), 'soon' as never)).toThrow(/deferLater\(\): delay must be a number of seconds, not 'soon'/);
    expect(() => deferLater(new Clock(), 1, 5 as never)).toThrow(/deferLater\(\): callable must be a function or null, not 5/);
    expect(() => LoopingCall.withCount(null as never)).toThrow(/LoopingCall.withCount\(\): needs a function, not null/);
    await expect(react(5 as never)).rejects.toThrow(/react\(\): main must be a function, not 5/);
    await expect(react(() => 1, 'x' as never)).rejects.toThrow(/react\(\): argv must be an array, not 'x'/);
    expect(() => new Cooperator(3 as never)).toThrow(/Cooperator\(\): terminationPredicateFactory must be a function, not 3/);
    expect(() => cooperate(7 as never)).toThrow(/CooperativeTask\(\): needs an iterator, not 7/);
    expect(() => new Cooperator().coiterate([][Symbol.iterator](), 4 as never)).toThrow(/coiterate\(\): doneDeferred must be a Deferred or null/);
  });

  it('deferLater with no callable fires with undefined; cancel() cancels the call', () => {
    const clock = new Clock();
    const d = deferLater(clock, 3, null);
    clock.advance(3);
    expect(resultOf(d)).toEqual({ ok: true, value: undefined });
    const e = deferLater(clock, 3, () => 'x');
    e.addErrback(() => 'cancelled');
    e.cancel();
    expect(clock.getDelayedCalls()).toHaveLength(0);
  });
});
