// select.epoll(): CPython's Lib/test/test_epoll.py, ported, and the waits,
// timeouts and lifetime of the Promise-based port.
import { openSync, closeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { binding } from '../src/binding';
import { FileExistsError, FileNotFoundError, OSError } from '../src/errors';
import {
  epoll,
  EPOLLERR,
  EPOLLET,
  EPOLLHUP,
  EPOLLIN,
  EPOLLONESHOT,
  EPOLLOUT,
  EPOLLPRI,
  EPOLLRDHUP,
  EPOLLEXCLUSIVE,
  EPOLL_CLOEXEC,
} from '../src/select';
import type { EpollObject } from '../src/select';
import { expectNoFdLeaks, sleep, TIMEOUT_MULTIPLIER } from './support';
import { isPending, readFd, sendOob, since, trackFds, writeFd } from './fixtures/select-helpers';

expectNoFdLeaks();

const fds = trackFds();
const E = osConstants.errno;
const SLACK_MS = 1000 * TIMEOUT_MULTIPLIER;

/** Epoll objects made by a test, closed after it. */
const epolls: EpollObject[] = [];
function newEpoll(sizehint?: number, flags?: number): EpollObject {
  const ep = epoll(sizehint, flags);
  epolls.push(ep);
  return ep;
}
afterEach(() => {
  for (const ep of epolls.splice(0)) ep.close();
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
}

function sorted(events: Array<[number, number]>): Array<[number, number]> {
  return events.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

describe('test_epoll.py', () => {
  let listener: { fd: number; port: number };
  beforeEach(() => {
    listener = fds.listener();
  });
  const connectedPair = (): { client: number; server: number } => fds.connectedPair(listener);

  it('test_create', () => {
    const ep = newEpoll(16);
    expect(ep.fileno()).toBeGreaterThan(0);
    expect(ep.closed).toBe(false);
    ep.close();
    expect(ep.closed).toBe(true);
    expect(() => ep.fileno()).toThrow(RangeError);
    newEpoll(-1, EPOLL_CLOEXEC).close();
    newEpoll(undefined, EPOLL_CLOEXEC).close();
    newEpoll(undefined, 0).close();
  });

  it('test_badcreate', () => {
    const bad = epoll as unknown as (...args: unknown[]) => EpollObject;
    expect(() => bad('foo')).toThrow(TypeError);
    expect(() => bad(null)).toThrow(TypeError);
    expect(() => bad([])).toThrow(TypeError);
    expect(() => bad(['foo'])).toThrow(TypeError);
    expect(() => bad({})).toThrow(TypeError);
    expect(() => bad(0)).toThrow(RangeError);
    expect(() => bad(-2)).toThrow(RangeError);
    const error = thrown(() => bad(-1, 12356));
    expect(error).toBeInstanceOf(OSError);
    expect((error as OSError).errno).toBe(E.EINVAL);
  });

  it('test_add', () => {
    const { client, server } = connectedPair();
    let ep = newEpoll(2);
    ep.register(server, EPOLLIN | EPOLLOUT);
    ep.register(client, EPOLLIN | EPOLLOUT);
    ep.close();

    // Adding by object with fileno() works, too.
    ep = newEpoll(2);
    ep.register({ fileno: () => server }, EPOLLIN | EPOLLOUT);
    ep.register({ fileno: () => client }, EPOLLIN | EPOLLOUT);
    ep.close();

    ep = newEpoll(2);
    // TypeError: argument must be an int, or have a fileno() method.
    expect(() => ep.register({} as never, EPOLLIN | EPOLLOUT)).toThrow(TypeError);
    expect(() => ep.register(null as never, EPOLLIN | EPOLLOUT)).toThrow(TypeError);
    // ValueError: file descriptor cannot be a negative integer (-1).
    expect(() => ep.register(-1, EPOLLIN | EPOLLOUT)).toThrow(RangeError);
    // OSError: [Errno 9] Bad file descriptor.
    const ebadf = thrown(() => ep.register(10000, EPOLLIN | EPOLLOUT));
    expect(ebadf).toBeInstanceOf(OSError);
    expect((ebadf as OSError).errno).toBe(E.EBADF);
    // Registering twice also raises an exception: FileExistsError (EEXIST).
    ep.register(server, EPOLLIN | EPOLLOUT);
    const twice = thrown(() => ep.register(server, EPOLLIN | EPOLLOUT));
    expect(twice).toBeInstanceOf(FileExistsError);
    expect((twice as OSError).errno).toBe(E.EEXIST);
  });

  it('test_control_and_wait', async () => {
    const { client, server } = connectedPair();
    const ep = newEpoll(16);
    ep.register(server, EPOLLIN | EPOLLOUT | EPOLLET);
    ep.register(client, EPOLLIN | EPOLLOUT | EPOLLET);

    // EPOLLOUT.
    let now = performance.now();
    let events = await ep.poll(1, 4);
    expect(since(now)).toBeLessThan(100 * TIMEOUT_MULTIPLIER);
    expect(sorted(events)).toEqual(
      sorted([
        [client, EPOLLOUT],
        [server, EPOLLOUT],
      ]),
    );

    // No event (edge-triggered: nothing new happened).
    events = await ep.poll(0.1, 4);
    expect(events).toEqual([]);

    // Send: EPOLLIN and EPOLLOUT.
    writeFd(client, 'Hello!');
    writeFd(server, 'world!!!');
    now = performance.now();
    events = await ep.poll(1.0, 4);
    expect(since(now)).toBeLessThan(100 * TIMEOUT_MULTIPLIER);
    expect(sorted(events)).toEqual(
      sorted([
        [client, EPOLLIN | EPOLLOUT],
        [server, EPOLLIN | EPOLLOUT],
      ]),
    );

    // Unregister, modify.
    ep.unregister(client);
    ep.modify(server, EPOLLOUT);
    now = performance.now();
    events = await ep.poll(1, 4);
    expect(since(now)).toBeLessThan(100 * TIMEOUT_MULTIPLIER);
    expect(events).toEqual([[server, EPOLLOUT]]);
  });

  it('test_errors', () => {
    expect(() => epoll(-2)).toThrow(RangeError);
    expect(() => newEpoll().register(-1, EPOLLIN)).toThrow(RangeError);
  });

  it('test_unregister_closed: unregister() of a closed fd is EBADF', async () => {
    const { server } = connectedPair();
    const ep = newEpoll(16);
    ep.register(server);
    const now = performance.now();
    await ep.poll(1, 4);
    expect(since(now)).toBeLessThan(100 * TIMEOUT_MULTIPLIER);
    fds.close(server);
    const error = thrown(() => ep.unregister(server));
    expect(error).toBeInstanceOf(OSError);
    expect((error as OSError).errno).toBe(E.EBADF);
  });

  it('test_close: a closed epoll object refuses everything with a RangeError', async () => {
    const fd = openSync(__filename, 'r');
    try {
      const ep = epoll();
      expect(Number.isInteger(ep.fileno())).toBe(true);
      expect(ep.closed).toBe(false);
      ep.close();
      expect(ep.closed).toBe(true);
      expect(() => ep.fileno()).toThrow(RangeError);
      // close() can be called more than once.
      ep.close();
      const message = 'I/O operation on closed epoll object';
      expect(() => ep.modify(fd, EPOLLIN)).toThrow(message);
      await expect(ep.poll(1.0)).rejects.toThrow(message);
      await expect(ep.poll(1.0)).rejects.toThrow(RangeError);
      expect(() => ep.register(fd, EPOLLIN)).toThrow(message);
      expect(() => ep.unregister(fd)).toThrow(message);
    } finally {
      closeSync(fd);
    }
  });

  it('test_fd_non_inheritable', () => {
    const ep = newEpoll();
    expect(binding.getInheritable(ep.fileno())).toBe(0);
  });
});

describe('epoll object', () => {
  it('exports the EPOLL* constants', () => {
    for (const value of [EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLERR, EPOLLHUP, EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE, EPOLLRDHUP]) {
      expect(typeof value).toBe('number');
    }
    expect(EPOLLIN).toBe(1);
    expect(EPOLLOUT).toBe(4);
    expect(EPOLLET).toBe(2 ** 31);
    expect(EPOLL_CLOEXEC).toBe(0o2000000);
  });

  it('register() defaults to EPOLLIN | EPOLLPRI | EPOLLOUT', async () => {
    const [r, w] = fds.pipe();
    const ep = newEpoll();
    ep.register(r);
    ep.register(w);
    writeFd(w, 'x');
    expect(sorted(await ep.poll(0))).toEqual(sorted([
      [r, EPOLLIN],
      [w, EPOLLOUT],
    ]));
  });

  it('modify() and unregister() of an fd not registered are FileNotFoundError (ENOENT)', () => {
    const [r] = fds.pipe();
    const ep = newEpoll();
    for (const error of [thrown(() => ep.modify(r, EPOLLIN)), thrown(() => ep.unregister(r))]) {
      expect(error).toBeInstanceOf(FileNotFoundError);
      expect((error as OSError).errno).toBe(E.ENOENT);
    }
  });

  it('a negative eventmask reaches the kernel, which refuses it (EINVAL), as in Python', () => {
    const [r] = fds.pipe();
    const error = thrown(() => newEpoll().register(r, -1));
    expect(error).toBeInstanceOf(OSError);
    expect((error as OSError).errno).toBe(E.EINVAL);
  });

  it('EPOLLONESHOT reports once until modify() re-arms it', async () => {
    const [r, w] = fds.pipe();
    const ep = newEpoll();
    ep.register(r, EPOLLIN | EPOLLONESHOT);
    writeFd(w, 'x');
    expect(await ep.poll(0)).toEqual([[r, EPOLLIN]]);
    expect(await ep.poll(0)).toEqual([]);
    ep.modify(r, EPOLLIN | EPOLLONESHOT);
    expect(await ep.poll(0)).toEqual([[r, EPOLLIN]]);
  });

  it('maxevents caps the result; 0 and below -1 are RangeErrors', async () => {
    const ep = newEpoll();
    for (let i = 0; i < 3; i++) ep.register(fds.pipe()[1], EPOLLOUT);
    expect(await ep.poll(0, 2)).toHaveLength(2);
    expect(await ep.poll(0)).toHaveLength(3);
    await expect(ep.poll(0, 0)).rejects.toThrow('maxevents must be greater than 0, got 0');
    await expect(ep.poll(0, -2)).rejects.toThrow(RangeError);
    await expect(ep.poll(0, 1.5)).rejects.toThrow(TypeError);
  });

  it('an edge-triggered event past maxevents is kept for the next poll, not lost', async () => {
    const ep = newEpoll();
    const [r1, w1] = fds.pipe();
    const [r2, w2] = fds.pipe();
    ep.register(r1, EPOLLIN | EPOLLET);
    ep.register(r2, EPOLLIN | EPOLLET);
    writeFd(w1, 'x');
    writeFd(w2, 'y');
    const first = await ep.poll(0, 1);
    const second = await ep.poll(0, 1);
    expect(first).toHaveLength(1);
    expect(second).toHaveLength(1);
    expect([first[0]![0], second[0]![0]].sort((a, b) => a - b)).toEqual([r1, r2].sort((a, b) => a - b));
    expect(await ep.poll(0)).toEqual([]);
  });

  it('bad timeouts reject, never throw', async () => {
    const ep = newEpoll() as unknown as { poll(t: unknown): Promise<unknown> };
    let pending: Promise<unknown> = Promise.resolve();
    expect(() => {
      pending = ep.poll('x');
    }).not.toThrow();
    await expect(pending).rejects.toThrow(TypeError);
    await expect(ep.poll(Number.NaN)).rejects.toThrow(RangeError);
    await expect(ep.poll(2 ** 40)).rejects.toThrow(/timeout is too large/);
  });

  it('honours a 0.2 s timeout, with nothing ready', async () => {
    const [r] = fds.pipe();
    const ep = newEpoll();
    ep.register(r, EPOLLIN);
    const start = performance.now();
    expect(await ep.poll(0.2)).toEqual([]);
    const elapsed = since(start);
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(200 + SLACK_MS);
  });

  it('null, -1 and the default timeout wait until an fd is ready', async () => {
    for (const timeout of [null, -1, undefined, -5]) {
      const [r, w] = fds.pipe();
      const ep = newEpoll();
      ep.register(r, EPOLLIN);
      setTimeout(() => writeFd(w, 'x'), 100);
      const start = performance.now();
      expect(await ep.poll(timeout)).toEqual([[r, EPOLLIN]]);
      expect(since(start)).toBeGreaterThanOrEqual(90);
    }
  });

  it('returns as soon as an fd becomes ready, well before a long timeout; timers keep firing', async () => {
    const [r, w] = fds.pipe();
    const ep = newEpoll();
    ep.register(r, EPOLLIN);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    setTimeout(() => writeFd(w, 'x'), 150);
    const start = performance.now();
    try {
      expect(await ep.poll(30)).toEqual([[r, EPOLLIN]]);
    } finally {
      clearInterval(ticker);
    }
    expect(since(start)).toBeLessThan(150 + SLACK_MS);
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it('registrations made while a poll() waits take effect in that wait (as epoll_ctl does)', async () => {
    const [r, w] = fds.pipe();
    const ep = newEpoll();
    const waiting = ep.poll(10);
    await sleep(50);
    ep.register(r, EPOLLIN);
    writeFd(w, 'x');
    expect(await waiting).toEqual([[r, EPOLLIN]]);
  });

  it('a second poll() while one waits is refused', async () => {
    const [r, w] = fds.pipe();
    const ep = newEpoll();
    ep.register(r, EPOLLIN);
    const first = ep.poll(10);
    await expect(ep.poll(0)).rejects.toThrow(/concurrent poll\(\) invocation/);
    writeFd(w, 'x');
    expect(await first).toEqual([[r, EPOLLIN]]);
  });

  it('close() while a poll() waits rejects that poll() and closes the fd', async () => {
    const [r] = fds.pipe();
    const ep = epoll();
    const epfd = ep.fileno();
    ep.register(r, EPOLLIN);
    const waiting = ep.poll(10);
    await sleep(50);
    expect(await isPending(waiting)).toBe(true);
    const start = performance.now();
    ep.close();
    await expect(waiting).rejects.toThrow('I/O operation on closed epoll object');
    expect(since(start)).toBeLessThan(SLACK_MS);
    expect(binding.getInheritable(epfd)).toBe(-E.EBADF);
  });

  it('a signal during a wait does not end it early', async () => {
    const [r] = fds.pipe();
    const ep = newEpoll();
    ep.register(r, EPOLLIN);
    let signalled = 0;
    const handler = (): void => {
      signalled++;
    };
    process.on('SIGUSR2', handler);
    try {
      setTimeout(() => process.kill(process.pid, 'SIGUSR2'), 100);
      const start = performance.now();
      expect(await ep.poll(0.5)).toEqual([]);
      expect(since(start)).toBeGreaterThanOrEqual(495);
      expect(signalled).toBe(1);
    } finally {
      process.off('SIGUSR2', handler);
    }
  });

  it('sees TCP urgent data as EPOLLPRI', async () => {
    const listener = fds.listener();
    const { client, server } = fds.connectedPair(listener);
    const ep = newEpoll();
    ep.register(server, EPOLLIN | EPOLLPRI);
    expect(await ep.poll(0)).toEqual([]);
    sendOob(client);
    const ready = await ep.poll(5);
    expect(ready).toHaveLength(1);
    expect(ready[0][0]).toBe(server);
    expect(ready[0][1] & EPOLLPRI).toBe(EPOLLPRI);
  });

  it('reports EPOLLHUP for a read end whose writer closed', async () => {
    const [r, w] = fds.pipe();
    const ep = newEpoll();
    ep.register(r, EPOLLIN);
    fds.close(w);
    expect(await ep.poll(0)).toEqual([[r, EPOLLHUP]]);
    expect(readFd(r, 1).length).toBe(0);
  });
});
