// The wait loop of src/select.ts against a fake native binding: waits that
// end early without events (woken, EINTR, a clock that returns early) are
// waited out to the deadline, results are read back, errors reject, and
// pollers are pooled and reused.
import { constants as osConstants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { binding } from '../src/binding';
import type { NativeBinding, NativePoller, WaitCallback } from '../src/binding';
import { OSError } from '../src/errors';
import { POLLIN, POLLOUT, POLLPRI, SelectModule } from '../src/select';
import { since } from './fixtures/select-helpers';

const E = osConstants.errno;

/** How one scripted wait ends: after `afterMs` (or its own timeout), with this result. */
interface WaitScript {
  afterMs?: number;
  result: number;
  woken?: boolean;
  ready?: Array<[number, number]>;
}

class FakePoller implements NativePoller {
  static made: FakePoller[] = [];
  /** How the next waits end, whichever poller runs them. */
  static script: WaitScript[] = [];
  readonly waits: number[] = [];
  interest: Array<[number, number]> = [];
  nowResult: number | Array<[number, number]> = 0;
  closed = false;
  waiting = false;

  constructor(
    readonly kind: number,
    private readonly onDone: WaitCallback,
  ) {
    FakePoller.made.push(this);
  }

  setInterest(fds: Int32Array, events: Int32Array, count: number): number {
    if (this.waiting) return -E.EBUSY;
    this.interest = Array.from({ length: count }, (_, i) => [fds[i], events[i]]);
    return 0;
  }

  ctl(): number {
    return 0;
  }

  findClosed(): number {
    return 0;
  }

  pollNow(out: Int32Array): number {
    if (typeof this.nowResult === 'number') return this.nowResult;
    return write(out, this.nowResult);
  }

  wait(timeoutMs: number, out: Int32Array): number {
    if (this.waiting) return -E.EBUSY;
    this.waits.push(timeoutMs);
    const step = FakePoller.script.shift() ?? { result: 0 };
    this.waiting = true;
    setTimeout(() => {
      this.waiting = false;
      const result = step.ready ? write(out, step.ready) : step.result;
      this.onDone(result, step.woken ?? false);
    // A kernel wait never ends before its timeout, but a Node timer may fire
    // up to a millisecond early by performance.now(): pad it like the kernel.
    }, step.afterMs ?? timeoutMs + 2);
    return 0;
  }

  wake(): void {}
  setReferenced(): void {}

  forget(): number {
    return 0;
  }

  close(): void {
    this.closed = true;
  }

  fileno(): number {
    return -1;
  }
}

function write(out: Int32Array, pairs: Array<[number, number]>): number {
  pairs.forEach(([fd, events], i) => {
    out[2 * i] = fd;
    out[2 * i + 1] = events;
  });
  return pairs.length;
}

function fakeModule(script: WaitScript[] = []): SelectModule {
  FakePoller.made = [];
  FakePoller.script = script;
  const fake = { ...binding, FD_SETSIZE: 1024, Poller: FakePoller } as unknown as NativeBinding;
  return new SelectModule(fake);
}

describe('the wait loop', () => {
  it('a wait woken without events, or ended by EINTR, waits out the rest of the timeout', async () => {
    const module = fakeModule([
      { afterMs: 50, result: 0, woken: true },
      { afterMs: 50, result: -E.EINTR },
      { result: 0 },
    ]);
    const start = performance.now();
    const waiting = module.select([3], [], [], 0.3);
    const poller = FakePoller.made[0];
    expect(await waiting).toEqual([[], [], []]);
    expect(since(start)).toBeGreaterThanOrEqual(295);
    expect(poller.waits).toHaveLength(3);
    // The first wait asks for the whole timeout, less what the call took
    // to get there (a millisecond or so on a loaded machine).
    expect(poller.waits[0]).toBeLessThanOrEqual(300);
    expect(poller.waits[0]).toBeGreaterThan(295);
    // Each re-wait asks for what is left, measured on the monotonic clock.
    expect(poller.waits[1]).toBeLessThanOrEqual(252);
    expect(poller.waits[1]).toBeGreaterThan(150);
    expect(poller.waits[2]).toBeLessThan(poller.waits[1]);
  });

  it('a wait that returns 0 before its deadline is resumed', async () => {
    const module = fakeModule([{ afterMs: 20, result: 0 }, { result: 0 }]);
    const start = performance.now();
    const pollster = module.poll();
    pollster.register(4, POLLIN);
    const result = pollster.poll(200);
    const poller = FakePoller.made[0];
    expect(await result).toEqual([]);
    expect(since(start)).toBeGreaterThanOrEqual(195);
    expect(poller.waits.length).toBeGreaterThanOrEqual(2);
  });

  it('a wait with no timeout asks for -1 and is resumed after a wake-up', async () => {
    const module = fakeModule([
      { afterMs: 10, result: 0, woken: true },
      { afterMs: 10, ready: [[5, POLLIN]], result: 1 },
    ]);
    const waiting = module.select([5], [], [], null);
    const poller = FakePoller.made[0];
    expect(await waiting).toEqual([[5], [], []]);
    expect(poller.waits).toEqual([-1, -1]);
  });

  it('a timeout longer than an int of milliseconds is waited in pieces', async () => {
    const module = fakeModule([{ afterMs: 5, ready: [[5, POLLIN]], result: 1 }]);
    const waiting = module.select([5], [], [], 10 ** 9);
    const poller = FakePoller.made[0];
    expect(await waiting).toEqual([[5], [], []]);
    expect(poller.waits).toEqual([2 ** 31 - 1]);
  });

  it('what pollNow() finds is returned without a wait', async () => {
    const module = fakeModule([{ afterMs: 5, ready: [[7, POLLOUT | POLLPRI]], result: 1 }]);
    const pending = module.select([6, 7], [7], [7], 10);
    const poller = FakePoller.made[0];
    expect(poller.interest).toEqual([
      [6, POLLIN],
      [7, POLLIN | POLLOUT | POLLPRI],
    ]);
    expect(await pending).toEqual([[], [7], [7]]);

    poller.nowResult = [[6, POLLIN]];
    expect(await module.select([6, 7], [], [], 10)).toEqual([[6], [], []]);
    expect(poller.waits).toHaveLength(1);
  });

  it('a negative wait result rejects with the OSError for that errno', async () => {
    const module = fakeModule([{ afterMs: 5, result: -E.EBADF }]);
    const waiting = module.select([3], [], [], 1);
    const error = await waiting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OSError);
    expect((error as OSError).errno).toBe(E.EBADF);
  });

  it('the select backend may report hang-ups and errors: read and write ready, as select(2)', async () => {
    const module = fakeModule();
    const first = module.select([3], [], [], 0);
    const poller = FakePoller.made[0];
    await first;
    poller.nowResult = [[3, binding.constants.POLLHUP]];
    expect(await module.select([3], [], [3], 0)).toEqual([[3], [], []]);
    poller.nowResult = [[3, binding.constants.POLLERR]];
    expect(await module.select([3], [3], [3], 0)).toEqual([[3], [3], []]);
  });
});

describe('the poller pool', () => {
  it('reuses an idle poller, makes one per concurrent call, keeps a few idle, closes the rest', async () => {
    const module = fakeModule();
    await module.select([3], [], [], 0);
    await module.select([3], [], [], 0);
    expect(FakePoller.made).toHaveLength(1);

    const waits = Array.from({ length: 6 }, () => module.select([3], [], [], 0.05));
    expect(FakePoller.made).toHaveLength(6);
    await Promise.all(waits);
    const closed = FakePoller.made.filter((p) => p.closed);
    expect(closed.length).toBe(2);

    module.closeIdlePollers();
    expect(FakePoller.made.every((p) => p.closed)).toBe(true);
  });

  it('select and poll objects use pollers of their own kind', async () => {
    const module = fakeModule();
    await module.select([3], [], [], 0);
    const pollster = module.poll();
    pollster.register(3);
    await pollster.poll(0);
    expect(FakePoller.made.map((p) => p.kind)).toEqual([0, 1]);
  });
});
