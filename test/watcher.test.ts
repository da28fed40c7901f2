// The fd watcher under asyncore, socketserver and twisted: watches queued and
// handed over in one batch, unwatch() at once, callbacks per ready fd, waits
// that end by readiness, deadline or wake(), for every poller kind.
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { PollerKind } from '../src/binding';
import { POLLIN, POLLNVAL, POLLOUT } from '../src/constants';
import { EDGE, Watcher } from '../src/watcher';
import { readFd, trackFds, writeFd } from './fixtures/select-helpers';

const kinds = [
  ['select', PollerKind.select],
  ['poll', PollerKind.poll],
  ['epoll', PollerKind.epoll],
] as const;

const fds = trackFds();
const watchers: Watcher[] = [];
afterEach(() => {
  for (const w of watchers.splice(0)) w.close();
});

function watcher(kind: number): Watcher {
  const w = new Watcher(kind);
  watchers.push(w);
  return w;
}

function waitOnce(w: Watcher, deadline: number, onWoken?: () => boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    w.wait(deadline, (error, count) => (error === null ? resolve(count) : reject(error)), onWoken);
  });
}

describe.each(kinds)('Watcher (%s)', (_name, kind) => {
  it('calls back a readable fd from pollNow(), with its fd and revents', () => {
    const w = watcher(kind);
    const [r, wr] = fds.pipe();
    const seen: Array<[number, number]> = [];
    w.watch(r, POLLIN, (fd, revents) => seen.push([fd, revents]));
    expect(w.pollNow()).toBe(0);
    writeFd(wr, 'x');
    expect(w.pollNow()).toBe(1);
    expect(seen).toEqual([[r, POLLIN]]);
  });

  it('is level-triggered: an fd left ready is called back again', () => {
    const w = watcher(kind);
    const [r, wr] = fds.pipe();
    let calls = 0;
    w.watch(r, POLLIN, () => (calls += 1));
    writeFd(wr, 'x');
    w.pollNow();
    w.pollNow();
    expect(calls).toBe(2);
    readFd(r, 1);
    w.pollNow();
    expect(calls).toBe(2);
  });

  it('a new watch replaces the old one; events 0 stops it', () => {
    const w = watcher(kind);
    const [r, wr] = fds.pipe();
    const seen: string[] = [];
    w.watch(wr, POLLIN, () => seen.push('in'));
    w.watch(wr, POLLOUT, () => seen.push('out'));
    w.pollNow();
    expect(seen).toEqual(['out']);
    expect(w.watchedFor(wr)).toBe(POLLOUT);
    w.watch(wr, 0, () => seen.push('none'));
    w.pollNow();
    expect(seen).toEqual(['out']);
    expect(w.watchedFor(wr)).toBe(0);
    expect(r).toBeGreaterThanOrEqual(0);
  });

  it('unwatch() stops the callback at once, even for a change not yet handed over', () => {
    const w = watcher(kind);
    const [r, wr] = fds.pipe();
    let calls = 0;
    w.watch(r, POLLIN, () => (calls += 1));
    writeFd(wr, 'x');
    w.unwatch(r);
    expect(w.pollNow()).toBe(0);
    w.watch(r, POLLIN, () => (calls += 1));
    w.pollNow();
    w.unwatch(r);
    fds.close(r);
    // The closed fd is not handed over again, so nothing fails.
    expect(w.pollNow()).toBe(0);
    expect(calls).toBe(1);
  });

  it('a callback that unwatches a later fd of the same results keeps it from being called', () => {
    const w = watcher(kind);
    const [r1, w1] = fds.pipe();
    const [r2, w2] = fds.pipe();
    const seen: number[] = [];
    w.watch(r1, POLLIN, (fd) => {
      seen.push(fd);
      w.unwatch(r2);
    });
    w.watch(r2, POLLIN, (fd) => {
      seen.push(fd);
      w.unwatch(r1);
    });
    writeFd(w1, 'x');
    writeFd(w2, 'x');
    w.pollNow();
    expect(seen).toHaveLength(1);
  });

  it('a callback that throws ends the dispatch, and pollNow() throws it', () => {
    const w = watcher(kind);
    const [r, wr] = fds.pipe();
    w.watch(r, POLLIN, () => {
      throw new Error('boom');
    });
    writeFd(wr, 'x');
    expect(() => w.pollNow()).toThrow('boom');
  });

  it('wait() calls back a fd that becomes ready while it waits, then done(count)', async () => {
    const w = watcher(kind);
    const [r, wr] = fds.pipe();
    const seen: number[] = [];
    w.watch(r, POLLIN, (fd) => seen.push(fd));
    setTimeout(() => writeFd(wr, 'x'), 20);
    const count = await waitOnce(w, Infinity);
    expect(count).toBe(1);
    expect(seen).toEqual([r]);
    expect(w.waiting).toBe(false);
  });

  it('wait() ends with 0 once its deadline has passed', async () => {
    const w = watcher(kind);
    const [r] = fds.pipe();
    w.watch(r, POLLIN, () => {});
    const start = performance.now();
    expect(await waitOnce(w, start + 30)).toBe(0);
    expect(performance.now() - start).toBeGreaterThanOrEqual(29);
  });

  it('wake(): onWoken() may change the watch and go on, or end the wait with -1', async () => {
    const w = watcher(kind);
    const [r, wr] = fds.pipe();
    const [r2, w2] = fds.pipe();
    const seen: number[] = [];
    w.watch(r, POLLIN, (fd) => seen.push(fd));
    writeFd(w2, 'x');
    let woken = 0;
    const waited = waitOnce(w, Infinity, () => {
      woken += 1;
      // Goes on waiting, now for r2 too, which is ready.
      w.watch(r2, POLLIN, (fd) => seen.push(fd));
      return false;
    });
    setTimeout(() => w.wake(), 10);
    expect(await waited).toBe(1);
    expect(woken).toBe(1);
    expect(seen).toEqual([r2]);

    w.unwatch(r2);
    const ended = waitOnce(w, Infinity, () => true);
    setTimeout(() => w.wake(), 10);
    expect(await ended).toBe(-1);
    expect(seen).toEqual([r2]);
    expect(wr).toBeGreaterThanOrEqual(0);
  });

  it('a watch made while a wait runs is applied by the watcher, which goes on waiting without onWoken()', async () => {
    const w = watcher(kind);
    const [r, wr] = fds.pipe();
    const [r2, w2] = fds.pipe();
    const seen: number[] = [];
    w.watch(r, POLLIN, (fd) => seen.push(fd));
    writeFd(w2, 'x');
    let woken = 0;
    const waited = waitOnce(w, Infinity, () => {
      woken += 1;
      return true;
    });
    setTimeout(() => w.watch(r2, POLLIN, (fd) => seen.push(fd)), 10);
    expect(await waited).toBe(1);
    expect(seen).toEqual([r2]);
    expect(woken).toBe(0);
    expect(wr).toBeGreaterThanOrEqual(0);
  });

  it('unwatch() while a wait runs: the fd may be closed at once, and nobody is called back for it', async () => {
    const w = watcher(kind);
    const [r, wr] = fds.pipe();
    const [r2, w2] = fds.pipe();
    const seen: number[] = [];
    w.watch(r, POLLIN, (fd) => seen.push(fd));
    w.watch(r2, POLLIN, (fd) => seen.push(fd));
    const waited = waitOnce(w, Infinity);
    setTimeout(() => {
      w.unwatch(r);
      fds.close(r);
      setTimeout(() => writeFd(w2, 'x'), 20);
    }, 10);
    expect(await waited).toBeGreaterThanOrEqual(0);
    // Woken to drop r, the wait went on until r2 was ready.
    expect(seen).toEqual([r2]);
    expect(w.watchedFor(r)).toBe(0);
    expect(wr).toBeGreaterThanOrEqual(0);
    // The next wait hands over no closed fd.
    expect(w.pollNow()).toBe(1);
  });

  it('a callback that throws from a wait goes to done() as its error', async () => {
    const w = watcher(kind);
    const [r, wr] = fds.pipe();
    w.watch(r, POLLIN, () => {
      throw new Error('from a wait');
    });
    setTimeout(() => writeFd(wr, 'x'), 10);
    await expect(waitOnce(w, Infinity)).rejects.toThrow('from a wait');
  });

  it('close() ends a running wait with EBADF', async () => {
    const w = watcher(kind);
    const [r] = fds.pipe();
    w.watch(r, POLLIN, () => {});
    const waited = waitOnce(w, Infinity);
    setTimeout(() => w.close(), 10);
    await expect(waited).rejects.toMatchObject({ errno: 9 });
  });

  it('watchOnly() replaces every watch, in the order given', () => {
    const w = watcher(kind);
    const [r1, w1] = fds.pipe();
    const [r2, w2] = fds.pipe();
    const seen: number[] = [];
    const onReady = (fd: number): number => seen.push(fd);
    w.watch(r1, POLLIN, () => seen.push(-1));
    writeFd(w1, 'x');
    writeFd(w2, 'x');
    w.watchOnly(Int32Array.of(r2, w1), Int32Array.of(POLLIN, POLLOUT), 2, onReady);
    w.pollNow();
    expect(seen.sort()).toEqual([r2, w1].sort());
    expect(w.watchedFor(r1)).toBe(0);
  });
});

describe('Watcher (epoll only)', () => {
  it('EDGE reports a change of readiness once; a fresh watch reports a ready fd again', () => {
    const w = watcher(PollerKind.epoll);
    const [r, wr] = fds.pipe();
    let calls = 0;
    w.watch(r, POLLIN | EDGE, () => (calls += 1));
    writeFd(wr, 'x');
    w.pollNow();
    w.pollNow();
    expect(calls).toBe(1);
    w.watch(r, POLLIN | EDGE, () => (calls += 1), true);
    w.pollNow();
    expect(calls).toBe(2);
  });

  it('reportClosed() calls back POLLNVAL for a watched fd closed behind its back', () => {
    const w = watcher(PollerKind.epoll);
    const [r] = fds.pipe();
    const seen: Array<[number, number]> = [];
    w.watch(r, POLLIN, (fd, revents) => seen.push([fd, revents]));
    w.pollNow();
    fds.close(r);
    expect(w.reportClosed()).toBe(1);
    expect(seen).toEqual([[r, POLLNVAL]]);
  });
});
