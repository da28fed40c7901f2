// select.poll(): CPython's Lib/test/test_poll.py, ported, and the waits,
// timeouts and errors of the Promise-based port.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { FileNotFoundError, OSError } from '../src/errors';
import {
  _closeIdlePollers,
  KeyError,
  poll,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  POLLPRI,
} from '../src/select';
import { expectNoFdLeaks, sleep, TIMEOUT_MULTIPLIER } from './support';
import { isPending, readFd, sendOob, since, trackFds, writeFd } from './fixtures/select-helpers';

expectNoFdLeaks();
afterAll(() => _closeIdlePollers());

const fds = trackFds();
const SLACK_MS = 1000 * TIMEOUT_MULTIPLIER;
const INT_MAX = 2 ** 31 - 1;
const UINT_MAX = 2 ** 32 - 1;
const USHRT_MAX = 0xffff;

function findReadyMatching(ready: Array<[number, number]>, flag: number): number[] {
  return ready.filter(([, mode]) => (mode & flag) !== 0).map(([fd]) => fd);
}

function randomChoice<T>(items: T[]): T {
  return items[Math.floor(Math.random() * items.length)];
}

describe('test_poll.py', () => {
  it('test_poll1: a bunch of pipes, written and read in random order', async () => {
    const p = poll();
    const NUM_PIPES = 12;
    const MSG = Buffer.from(' This is a test.');
    const writers: number[] = [];
    const r2w = new Map<number, number>();
    for (let i = 0; i < NUM_PIPES; i++) {
      const [rd, wr] = fds.pipe();
      p.register(rd);
      p.modify(rd, POLLIN);
      p.register(wr, POLLOUT);
      writers.push(wr);
      r2w.set(rd, wr);
    }
    const bufs: Buffer[] = [];
    while (writers.length > 0) {
      let ready = await p.poll();
      const readyWriters = findReadyMatching(ready, POLLOUT);
      expect(readyWriters.length).toBeGreaterThan(0);
      writeFd(randomChoice(readyWriters), MSG);

      ready = await p.poll();
      const readyReaders = findReadyMatching(ready, POLLIN);
      expect(readyReaders.length).toBeGreaterThan(0);
      const rd = randomChoice(readyReaders);
      const buf = readFd(rd, MSG.length);
      expect(buf.length).toBe(MSG.length);
      bufs.push(buf);
      const wr = r2w.get(rd) as number;
      fds.close(wr);
      fds.close(rd);
      p.unregister(wr);
      p.unregister(rd);
      writers.splice(writers.indexOf(wr), 1);
    }
    expect(bufs).toEqual(Array(NUM_PIPES).fill(MSG));
  });

  it('test_poll_unit_tests: POLLNVAL, TypeError, KeyError', async () => {
    // Returns NVAL for an invalid file descriptor.
    const [FD, w] = fds.pipe();
    fds.close(FD);
    fds.close(w);
    let p = poll();
    p.register(FD);
    let r = await p.poll();
    expect(r[0]).toEqual([FD, POLLNVAL]);

    const dir = mkdtempSync(path.join(tmpdir(), 'asyncore-poll-'));
    try {
      const fd = openSync(path.join(dir, 'file'), 'w');
      p = poll();
      p.register({ fileno: () => fd });
      r = await p.poll();
      expect(r[0][0]).toBe(fd);
      closeSync(fd);
      r = await p.poll();
      expect(r[0]).toEqual([fd, POLLNVAL]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // Type error for invalid arguments.
    p = poll();
    expect(() => p.register(p as never)).toThrow(TypeError);
    expect(() => p.unregister(p as never)).toThrow(TypeError);

    // Can't unregister a non-existent object: Python's KeyError.
    p = poll();
    expect(() => p.unregister(3)).toThrow(KeyError);
    expect(() => p.unregister(3)).toThrow(RangeError);
    expect(() => p.unregister(3)).toThrow(/fd 3 is not registered/);
    try {
      p.unregister(3);
    } catch (error) {
      expect((error as Error).name).toBe('KeyError');
    }

    const pollster = poll();
    class Nope {}
    class Almost {
      fileno(): unknown {
        return 'fileno';
      }
    }
    expect(() => pollster.register(new Nope() as never, 0)).toThrow(TypeError);
    expect(() => pollster.register(new Almost() as never, 0)).toThrow(TypeError);
  });

  it('test_poll2: follows a child writing lines (POLLIN, then POLLHUP at the end)', async () => {
    const [r, w] = fds.pipe();
    const code = `let i = 0;
      const timer = setInterval(() => {
        process.stdout.write('testing...\\n');
        if (++i === 10) clearInterval(timer);
      }, 50);`;
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', w, 'inherit'] });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    fds.close(w);
    const pollster = poll();
    pollster.register(r, POLLIN);
    let lines = '';
    let sawEnd = false;
    for (const timeout of [0, 1000, 2000, 4000, 8000, 16000, ...Array<number>(30).fill(-1)]) {
      const fdlist = await pollster.poll(timeout);
      if (fdlist.length === 0) continue;
      const [fd, flags] = fdlist[0];
      expect(fd).toBe(r);
      if ((flags & (POLLIN | POLLHUP)) === 0) throw new Error(`unexpected result from poll: ${fdlist}`);
      const chunk = readFd(r, 4096);
      if (chunk.length === 0) {
        // End of file comes with POLLHUP (and no data).
        expect(flags & POLLHUP).toBe(POLLHUP);
        sawEnd = true;
        break;
      }
      lines += chunk.toString();
    }
    await exited;
    expect(sawEnd).toBe(true);
    expect(lines).toBe('testing...\n'.repeat(10));
  });

  it('test_poll3: integer overflow is a RangeError (OverflowError/ValueError in Python)', async () => {
    const pollster = poll();
    pollster.register(1);
    await expect(pollster.poll(2 ** 64)).rejects.toThrow(RangeError);
    expect(() => pollster.register(0, -1)).toThrow(RangeError);
    expect(() => pollster.register(0, 2 ** 64)).toThrow(RangeError);
    expect(() => pollster.modify(1, -1)).toThrow(RangeError);
    expect(() => pollster.modify(1, 2 ** 64)).toThrow(RangeError);
  });

  it('test_poll_c_limits: USHRT_MAX + 1 masks, INT_MAX + 1 ms timeouts', async () => {
    const pollster = poll();
    pollster.register(1);
    expect(() => pollster.register(0, USHRT_MAX + 1)).toThrow(RangeError);
    expect(() => pollster.modify(1, USHRT_MAX + 1)).toThrow(RangeError);
    await expect(pollster.poll(INT_MAX + 1)).rejects.toThrow(/timeout is too large/);
    await expect(pollster.poll(UINT_MAX + 1)).rejects.toThrow(RangeError);
  });

  it('test_threaded_poll: a second poll() while one waits is refused; changes apply next time', async () => {
    const [r, w] = fds.pipe();
    const rfds = Array.from({ length: 10 }, () => fds.dup(r));
    const pollster = poll();
    for (const fd of rfds) pollster.register(fd, POLLIN);
    const first = pollster.poll();
    await sleep(100);
    // Python's "trigger ufds array reallocation".
    for (const fd of rfds) pollster.unregister(fd);
    pollster.register(w, POLLOUT);
    await expect(pollster.poll()).rejects.toThrow('concurrent poll() invocation');
    expect(await isPending(first)).toBe(true);
    // The running poll() still waits on what was registered when it began.
    writeFd(w, 'spam');
    const ready = await first;
    expect(ready.map(([fd]) => fd).sort((a, b) => a - b)).toEqual(rfds.slice().sort((a, b) => a - b));
    expect(ready.every(([, events]) => events === POLLIN)).toBe(true);
    // The next poll() sees the new registrations.
    expect(await pollster.poll(0)).toEqual([[w, POLLOUT]]);
  });

  it('test_poll_blocks_with_negative_ms: null and negative timeouts block', async () => {
    for (const timeoutMs of [null, undefined, -1000, -1, -1.0, -0.1, -1e-100]) {
      const [r, w] = fds.pipe();
      const pollster = poll();
      pollster.register(r, POLLIN);
      const waiting = pollster.poll(timeoutMs);
      await sleep(100);
      expect(await isPending(waiting)).toBe(true);
      writeFd(w, 'spam');
      expect(await waiting).toEqual([[r, POLLIN]]);
      fds.close(r);
      fds.close(w);
    }
  });
});

describe('poll object', () => {
  it('register() defaults to POLLIN | POLLPRI | POLLOUT; results follow registration order', async () => {
    const [r1, w1] = fds.pipe();
    const [r2, w2] = fds.pipe();
    const pollster = poll();
    pollster.register(w2);
    pollster.register({ fileno: () => r1 });
    pollster.register(w1);
    pollster.register(r2);
    expect(await pollster.poll(0)).toEqual([
      [w2, POLLOUT],
      [w1, POLLOUT],
    ]);
    writeFd(w1, 'x');
    // Registering again keeps the place, as a Python dict does.
    pollster.register(w2, POLLOUT);
    expect(await pollster.poll(0)).toEqual([
      [w2, POLLOUT],
      [r1, POLLIN],
      [w1, POLLOUT],
    ]);
  });

  it('modify() of an fd not registered is FileNotFoundError (ENOENT)', () => {
    const pollster = poll();
    const error = (() => {
      try {
        pollster.modify(5, POLLIN);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(FileNotFoundError);
    expect(error).toBeInstanceOf(OSError);
    expect((error as OSError).errno).toBe(osConstants.errno.ENOENT);
  });

  it('register() refuses a negative fd with a RangeError', () => {
    expect(() => poll().register(-1)).toThrow(RangeError);
  });

  it('bad timeouts reject, never throw', async () => {
    const pollster = poll() as unknown as { poll(t: unknown): Promise<unknown> };
    let pending: Promise<unknown> = Promise.resolve();
    expect(() => {
      pending = pollster.poll('x');
    }).not.toThrow();
    await expect(pending).rejects.toThrow(TypeError);
    await expect(pollster.poll(Number.NaN)).rejects.toThrow(RangeError);
    await expect(pollster.poll(Infinity)).rejects.toThrow(RangeError);
  });

  it('honours a 200 ms timeout, with nothing ready', async () => {
    const [r] = fds.pipe();
    const pollster = poll();
    pollster.register(r, POLLIN);
    const start = performance.now();
    expect(await pollster.poll(200)).toEqual([]);
    const elapsed = since(start);
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(200 + SLACK_MS);
  });

  it('with nothing registered, sleeps for the timeout', async () => {
    const start = performance.now();
    expect(await poll().poll(100)).toEqual([]);
    expect(since(start)).toBeGreaterThanOrEqual(95);
  });

  it('returns as soon as an fd becomes ready, well before a long timeout; timers keep firing', async () => {
    const [r, w] = fds.pipe();
    const pollster = poll();
    pollster.register(r, POLLIN);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    setTimeout(() => writeFd(w, 'x'), 150);
    const start = performance.now();
    try {
      expect(await pollster.poll(30_000)).toEqual([[r, POLLIN]]);
    } finally {
      clearInterval(ticker);
    }
    expect(since(start)).toBeLessThan(150 + SLACK_MS);
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it('a signal during a wait does not end it early', async () => {
    const [r] = fds.pipe();
    const pollster = poll();
    pollster.register(r, POLLIN);
    let signalled = 0;
    const handler = (): void => {
      signalled++;
    };
    process.on('SIGUSR2', handler);
    try {
      setTimeout(() => process.kill(process.pid, 'SIGUSR2'), 100);
      const start = performance.now();
      expect(await pollster.poll(500)).toEqual([]);
      expect(since(start)).toBeGreaterThanOrEqual(495);
      expect(signalled).toBe(1);
    } finally {
      process.off('SIGUSR2', handler);
    }
  });

  it('sees TCP urgent data as POLLPRI', async () => {
    const listener = fds.listener();
    const { client, server } = fds.connectedPair(listener);
    const pollster = poll();
    pollster.register(server, POLLIN | POLLPRI);
    expect(await pollster.poll(0)).toEqual([]);
    sendOob(client);
    const ready = await pollster.poll(5000);
    expect(ready).toHaveLength(1);
    expect(ready[0][0]).toBe(server);
    expect(ready[0][1] & POLLPRI).toBe(POLLPRI);
  });

  it("reports POLLERR on a pipe's write end once its reader closed", async () => {
    const [r, w] = fds.pipe();
    const pollster = poll();
    pollster.register(w, POLLOUT);
    fds.close(r);
    const ready = await pollster.poll(0);
    expect(ready).toHaveLength(1);
    expect(ready[0][1] & POLLERR).toBe(POLLERR);
  });

  it('two poll objects wait side by side', async () => {
    const [r1, w1] = fds.pipe();
    const [r2, w2] = fds.pipe();
    const p1 = poll();
    const p2 = poll();
    p1.register(r1, POLLIN);
    p2.register(r2, POLLIN);
    const first = p1.poll(10_000);
    const second = p2.poll(10_000);
    await sleep(50);
    writeFd(w2, 'x');
    expect(await second).toEqual([[r2, POLLIN]]);
    expect(await isPending(first)).toBe(true);
    writeFd(w1, 'x');
    expect(await first).toEqual([[r1, POLLIN]]);
  });
});
