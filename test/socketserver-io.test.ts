// The socketserver module's waits (src/socketserver/io.ts): fds stay in
// epoll, edge-triggered, so a reader that found its socket empty waits with
// no system call. These tests check what that must not lose: an edge that
// came while nobody waited, a number another socket had before, and a wait
// that does not know what the fd holds.
import { Buffer } from 'node:buffer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OSError } from '../src/errors';
import { AF_UNIX, SOCK_STREAM, socketpair } from '../src/socket';
import type { socket } from '../src/socket';
import { io } from '../src/socketserver/io';
import { expectNoFdLeaks, openFds, waitFor } from './support';

expectNoFdLeaks();

const open: socket[] = [];
let fdsBefore = 0;

beforeEach(() => {
  fdsBefore = openFds().length;
});

afterEach(async () => {
  for (const sock of open.splice(0)) {
    const fd = sock.fileno();
    if (fd >= 0) io.forget(fd);
    sock.close();
  }
  // The pump gives its epoll fd back a turn or two after its last wait ends.
  await waitFor(() => openFds().length === fdsBefore);
});

function pair(): [socket, socket] {
  const ends = socketpair(AF_UNIX, SOCK_STREAM);
  for (const end of ends) end.setblocking(false);
  open.push(...ends);
  return ends;
}

/** A dry wait's end as a promise, or 'again' when waitDry() says to read again. */
function dryWait(sock: socket, timeoutMs: number | null = null): Promise<boolean> | 'again' {
  let settle!: (ready: boolean) => void;
  let fail!: (error: Error) => void;
  const ended = new Promise<boolean>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  const waiting = io.waitDry(sock, sock.fileno(), true, timeoutMs, (error, ready) => (error === null ? settle(ready) : fail(error)));
  return waiting ? ended : 'again';
}

/** Resolves after the pump has taken every event up to now: a byte sent to a second pair and waited for. */
async function pumpCatchesUp(): Promise<void> {
  const [near, far] = pair();
  far.send(Buffer.from('x'));
  expect(await io.readable(near.fileno(), 2000)).toBe(true);
}

describe('socketserver waits', () => {
  it('a dry wait ends when data comes, and only then', async () => {
    const [mine, theirs] = pair();
    const ended = dryWait(mine);
    expect(ended).not.toBe('again');
    let done = false;
    void (ended as Promise<boolean>).then(() => (done = true));
    await pumpCatchesUp();
    expect(done).toBe(false);
    theirs.send(Buffer.from('line\n'));
    expect(await ended).toBe(true);
    expect(mine.recv(100).toString()).toBe('line\n');
  });

  it('remembers data that came while nobody waited: the next dry wait says to read again', async () => {
    const [mine, theirs] = pair();
    // Watched from a first wait on.
    const first = dryWait(mine);
    theirs.send(Buffer.from('a'));
    expect(await first).toBe(true);
    expect(mine.recv(100).toString()).toBe('a');
    // More comes while the reader is busy, and the pump sees it.
    theirs.send(Buffer.from('b'));
    await pumpCatchesUp();
    expect(dryWait(mine)).toBe('again');
    expect(mine.recv(100).toString()).toBe('b');
    // Nothing new since: the wait is a real one.
    const next = dryWait(mine, 50);
    expect(next).not.toBe('again');
    expect(await next).toBe(false);
  });

  it('watches anew a socket that has the number of one closed without forget()', async () => {
    const [first, firstPeer] = pair();
    const number = first.fileno();
    const waited = dryWait(first);
    firstPeer.send(Buffer.from('x'));
    expect(await waited).toBe(true);
    // Closed by its user, behind the pump's back: epoll drops it.
    first.close();
    const [second, secondPeer] = pair();
    const reused = [second, secondPeer].find((end) => end.fileno() === number);
    expect(reused).toBeDefined();
    const peer = reused === second ? secondPeer : second;
    const ended = dryWait(reused!, 2000);
    peer.send(Buffer.from('y'));
    expect(await ended).toBe(true);
    expect(reused!.recv(100).toString()).toBe('y');
  });

  it('readable() reports data that is already there, even after an edge was taken', async () => {
    const [mine, theirs] = pair();
    const waited = dryWait(mine);
    theirs.send(Buffer.from('one'));
    expect(await waited).toBe(true);
    // The edge has been reported; the data is still unread.
    expect(await io.readable(mine.fileno(), 2000)).toBe(true);
  });

  it('forget() ends a dry wait with false', async () => {
    const [mine] = pair();
    const ended = dryWait(mine);
    io.forget(mine.fileno());
    expect(await ended).toBe(false);
  });

  it('a wait on an fd that is not open fails with EBADF, and the pump lets go', async () => {
    const failure = await io.readable(1_000_000, 100).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(OSError);
    expect((failure as OSError).errno).toBe(9);
  });
});
