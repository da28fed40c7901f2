// select.select(): CPython's Lib/test/test_select.py, ported, and what the
// Promise-based port adds (waits on the worker thread, timeouts, signals,
// FD_SETSIZE, urgent data).
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { binding } from '../src/binding';
import { OSError } from '../src/errors';
import { _closeIdlePollers, POLLIN, POLLOUT, poll, select } from '../src/select';
import { expectNoFdLeaks, openFds, sleep, TIMEOUT_MULTIPLIER } from './support';
import { isPending, readFd, sendOob, since, trackFds, writeFd } from './fixtures/select-helpers';

expectNoFdLeaks();
// Registered after expectNoFdLeaks(): vitest runs afterAll hooks in reverse,
// so the pooled pollers' fds are closed before the check.
afterAll(() => _closeIdlePollers());

const fds = trackFds();
const EBADF = osConstants.errno.EBADF;
/** A generous upper bound for "at once" and for overshooting a timeout. */
const SLACK_MS = 1000 * TIMEOUT_MULTIPLIER;

class Nope {}
class Almost {
  fileno(): unknown {
    return 'fileno';
  }
}

describe('test_select.py', () => {
  it('test_error_conditions: bad arguments reject, never throw', async () => {
    const bad = select as unknown as (...args: unknown[]) => Promise<unknown>;
    let pending: Promise<unknown> = Promise.resolve();
    expect(() => {
      pending = bad(1, 2, 3);
    }).not.toThrow();
    await expect(pending).rejects.toThrow(TypeError);
    await expect(bad([new Nope()], [], [])).rejects.toThrow(TypeError);
    await expect(bad([new Almost()], [], [])).rejects.toThrow(/must be an int, or have a fileno\(\) method/);
    await expect(bad([], [], [], 'not a number')).rejects.toThrow(TypeError);
    await expect(bad([], [], [], -1)).rejects.toThrow(RangeError);
    await expect(bad([], [], [], -1)).rejects.toThrow('timeout must be non-negative');
    await expect(bad([], [], [], Number.NaN)).rejects.toThrow(TypeError);
  });

  it('test_errno: a closed fd is OSError EBADF', async () => {
    // As CPython writes it; select-lifetime.test.ts runs it as the first
    // select() of a fresh process.
    const [r, w] = fds.pipe();
    fds.close(r);
    fds.close(w);
    const error = await select([r], [], [], 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OSError);
    expect((error as OSError).errno).toBe(EBADF);
    expect((error as OSError).code).toBe('EBADF');
  });

  it('test_returned_list_identity: three distinct arrays', async () => {
    const [r, w, x] = await select([], [], [], 0.05);
    expect(r).not.toBe(w);
    expect(r).not.toBe(x);
    expect(w).not.toBe(x);
  });

  it('test_select: follows a child writing lines, until end of file', async () => {
    const [r, w] = fds.pipe();
    const code = `let i = 0;
      const timer = setInterval(() => {
        process.stdout.write('testing...\\n');
        if (++i === 10) clearInterval(timer);
      }, 50);`;
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', w, 'inherit'] });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    fds.close(w);
    let text = '';
    let sawEof = false;
    for (const timeout of [0, 1, 2, 4, 8, 16, ...Array<null>(20).fill(null)]) {
      const [rfd, wfd, xfd] = await select([r], [], [], timeout);
      expect(wfd).toEqual([]);
      expect(xfd).toEqual([]);
      if (rfd.length === 0) continue;
      expect(rfd).toEqual([r]);
      const chunk = readFd(r, 4096);
      if (chunk.length === 0) {
        sawEof = true;
        break;
      }
      text += chunk.toString();
    }
    await exited;
    expect(sawEof).toBe(true);
    expect(text).toBe('testing...\n'.repeat(10));
  });

  it('test_select_mutated: a fileno() that shortens the list', async () => {
    const [, w] = fds.pipe();
    const a: F[] = [];
    class F {
      fileno(): number {
        a.pop();
        return w;
      }
    }
    const f = new F();
    a.push(...Array<F>(10).fill(f));
    // The walk reads the length at each step, as CPython's does: 5 items.
    expect(await select([], a, [])).toEqual([[], a.slice(0, 5), []]);
    expect(a.length).toBe(5);
  });
});

describe('readiness and results', () => {
  it('returns the objects given, same identity, in input order, duplicates kept', async () => {
    const [r1, w1] = fds.pipe();
    const [r2, w2] = fds.pipe();
    const a = { fileno: () => w1 };
    const b = { fileno: () => w2 };
    const c = { fileno: () => r1 };
    const [r, w, x] = await select<{ fileno(): number }>([c], [b, a, b], [], 0);
    expect(r).toEqual([]);
    expect(w).toHaveLength(3);
    expect(w[0]).toBe(b);
    expect(w[1]).toBe(a);
    expect(w[2]).toBe(b);
    expect(x).toEqual([]);
    writeFd(w1, 'x');
    const [readable] = await select([r2, c, r1], [], [], 0);
    expect(readable).toEqual([c, r1]);
    expect(readable[0]).toBe(c);
  });

  it('an fd in several lists is reported in each where it is ready', async () => {
    const [r, w] = fds.pipe();
    expect(await select([w, r], [w, r], [w, r], 0)).toEqual([[], [w], []]);
    writeFd(w, 'data');
    expect(await select([w, r], [w, r], [w, r], 0)).toEqual([[r], [w], []]);
  });

  it('a read end whose writer closed is readable (end of file)', async () => {
    const [r, w] = fds.pipe();
    fds.close(w);
    expect(await select([r], [], [], 0)).toEqual([[r], [], []]);
    expect(readFd(r, 10).length).toBe(0);
  });

  it('sees TCP urgent data (MSG_OOB) in the exception list', async () => {
    const listener = fds.listener();
    const { client, server } = fds.connectedPair(listener);
    expect(await select([server], [], [server], 0)).toEqual([[], [], []]);
    sendOob(client);
    const [r, w, x] = await select([], [], [server], 5);
    expect([r, w, x]).toEqual([[], [], [server]]);
  });

  it('timeout 0 looks and returns at once', async () => {
    const [r] = fds.pipe();
    const start = performance.now();
    expect(await select([r], [], [], 0)).toEqual([[], [], []]);
    expect(since(start)).toBeLessThan(SLACK_MS);
  });
});

describe('timeouts and waiting', () => {
  it('honours a 0.2 s timeout, with nothing ready', async () => {
    const [r] = fds.pipe();
    const start = performance.now();
    expect(await select([r], [], [], 0.2)).toEqual([[], [], []]);
    const elapsed = since(start);
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(200 + SLACK_MS);
  });

  it('with empty lists, sleeps for the timeout', async () => {
    const start = performance.now();
    expect(await select([], [], [], 0.15)).toEqual([[], [], []]);
    expect(since(start)).toBeGreaterThanOrEqual(145);
  });

  it('a null timeout waits until an fd is ready (written by a timer after 100 ms)', async () => {
    const [r, w] = fds.pipe();
    setTimeout(() => writeFd(w, 'x'), 100);
    const start = performance.now();
    expect(await select([r], [], [], null)).toEqual([[r], [], []]);
    expect(since(start)).toBeGreaterThanOrEqual(90);
  });

  it('an undefined timeout waits too', async () => {
    const [r, w] = fds.pipe();
    setTimeout(() => writeFd(w, 'x'), 50);
    expect(await select([r], [], [])).toEqual([[r], [], []]);
  });

  it('returns as soon as an fd becomes ready, well before a long timeout', async () => {
    const [r, w] = fds.pipe();
    setTimeout(() => writeFd(w, 'x'), 100);
    const start = performance.now();
    expect(await select([r], [], [], 30)).toEqual([[r], [], []]);
    expect(since(start)).toBeLessThan(100 + SLACK_MS);
  });

  it('keeps the event loop running: a timer fires while select waits', async () => {
    const [r] = fds.pipe();
    const start = performance.now();
    let firedAt = -1;
    setTimeout(() => {
      firedAt = since(start);
    }, 50);
    const waiting = select([r], [], [], 0.4);
    await sleep(100);
    expect(firedAt).toBeGreaterThanOrEqual(0);
    expect(await isPending(waiting)).toBe(true);
    expect(await waiting).toEqual([[], [], []]);
    expect(firedAt).toBeLessThan(350);
  });

  it('concurrent selects each wait on their own fds', async () => {
    const [r1, w1] = fds.pipe();
    const [r2, w2] = fds.pipe();
    const first = select([r1], [], [], 10);
    const second = select([r2], [], [], 10);
    await sleep(50);
    writeFd(w2, 'x');
    expect(await second).toEqual([[r2], [], []]);
    expect(await isPending(first)).toBe(true);
    writeFd(w1, 'x');
    expect(await first).toEqual([[r1], [], []]);
  });

  it('many selects in sequence reuse pollers (no fd growth)', async () => {
    const [r, w] = fds.pipe();
    await select([r], [], [], 0.01);
    const before = openFds().length;
    for (let i = 0; i < 50; i++) {
      await select([r], [w], [], 0.001);
    }
    expect(openFds().length).toBe(before);
  });
});

describe('signals', () => {
  it('a signal during a 0.5 s wait: the handler runs and the wait carries on to its timeout', async () => {
    const [r] = fds.pipe();
    let signalled = 0;
    const handler = (): void => {
      signalled++;
    };
    process.on('SIGUSR2', handler);
    try {
      const start = performance.now();
      setTimeout(() => process.kill(process.pid, 'SIGUSR2'), 100);
      expect(await select([r], [], [], 0.5)).toEqual([[], [], []]);
      const elapsed = since(start);
      expect(signalled).toBe(1);
      expect(elapsed).toBeGreaterThanOrEqual(495);
      expect(elapsed).toBeLessThan(500 + SLACK_MS);
    } finally {
      process.off('SIGUSR2', handler);
    }
  });

  it('a signal during a wait: readiness that follows is still reported', async () => {
    const [r, w] = fds.pipe();
    let signalled = 0;
    const handler = (): void => {
      signalled++;
    };
    process.on('SIGUSR2', handler);
    try {
      const start = performance.now();
      setTimeout(() => process.kill(process.pid, 'SIGUSR2'), 50);
      setTimeout(() => writeFd(w, 'x'), 200);
      expect(await select([r], [], [], 5)).toEqual([[r], [], []]);
      expect(signalled).toBe(1);
      expect(since(start)).toBeLessThan(200 + SLACK_MS);
    } finally {
      process.off('SIGUSR2', handler);
    }
  });
});

describe('FD_SETSIZE', () => {
  it('rejects a negative fd with a RangeError that names poll', async () => {
    await expect(select([-1], [], [], 0)).rejects.toThrow(RangeError);
    await expect(select([], [], [-1], 0)).rejects.toThrow(/out of range in select\(\).*poll/);
  });

  it(`rejects fd >= FD_SETSIZE (${binding.FD_SETSIZE}) with a RangeError, while poll() takes it`, async () => {
    // Open pipes until both ends are past FD_SETSIZE (no F_DUPFD in the addon).
    // Checking only the write end is not enough: the read end may be 1023.
    let high: [number, number] | null = null;
    for (let i = 0; i < binding.FD_SETSIZE && high === null; i++) {
      const pair = fds.pipe();
      if (Math.min(...pair) >= binding.FD_SETSIZE) high = pair;
    }
    expect(high).not.toBeNull();
    const [r, w] = high as [number, number];
    const error = await select([r], [], [], 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(/filedescriptor out of range in select\(\)/);
    expect((error as Error).message).toMatch(/poll/);
    await expect(select([], [{ fileno: () => w }], [], 0)).rejects.toThrow(RangeError);

    const pollster = poll();
    pollster.register(r, POLLIN);
    pollster.register(w, POLLOUT);
    expect(await pollster.poll(0)).toEqual([[w, POLLOUT]]);
    writeFd(w, 'x');
    expect(await pollster.poll(0)).toEqual([
      [r, POLLIN],
      [w, POLLOUT],
    ]);
  });
});
