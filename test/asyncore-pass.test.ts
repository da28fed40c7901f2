// What one pass does, per backend: CPython's order of handlers, accepting
// channels never asked for write, and the fix over CPython (gh-75114): an
// event reaches only the channel that held the fd when the pass began and
// still holds it. (The epoll registrations themselves are the native core's:
// native/test/core_test.cc tests them.)
import { afterEach, describe, expect, it } from 'vitest';
import * as asyncore from '../src/asyncore';
import type { SocketMap } from '../src/asyncore';
import { AF_UNIX, SOCK_STREAM, socket, socketpair } from '../src/socket';
import { BACKENDS } from './asyncore-support';
import { expectNoFdLeaks } from './support';

expectNoFdLeaks();

const open: socket[] = [];
let map: SocketMap = new Map();

afterEach(() => {
  asyncore.close_all(map, true);
  for (const s of open.splice(0)) s.close();
  map = new Map();
});

function pair(): [socket, socket] {
  const [a, b] = socketpair();
  open.push(a, b);
  return [a, b];
}

/** A dispatcher that records the handlers called and throws on any it was not told to expect. */
class Recorder extends asyncore.dispatcher {
  readonly name: string;
  readonly calls: string[];
  constructor(name: string, sock: socket, calls: string[], m: SocketMap) {
    super(sock, m);
    this.name = name;
    this.calls = calls;
  }
  override handle_read(): void {
    this.calls.push(`${this.name}.read`);
    this.recv(100);
  }
  override handle_write(): void {
    this.calls.push(`${this.name}.write`);
  }
  override handle_expt(): void {
    throw new Error(`${this.name}.handle_expt not supposed to be called`);
  }
  override handle_close(): void {
    throw new Error(`${this.name}.handle_close not supposed to be called`);
  }
  override handle_error(err: unknown): void {
    throw err;
  }
}

/** Takes fd numbers until one is `fd` (the kernel gives the lowest free one); closes the rest. */
function socketOnFd(fd: number): socket {
  const extra: socket[] = [];
  try {
    for (;;) {
      const s = new socket(AF_UNIX, SOCK_STREAM);
      if (s.fileno() === fd) return s;
      extra.push(s);
      if (extra.length > 1000) throw new Error(`fd ${fd} never came back`);
    }
  } finally {
    for (const s of extra) s.close();
  }
}

/** A socketpair whose first end has fd number `fd`; closes the pairs made on the way. */
function pairOnFd(fd: number): [socket, socket] {
  const extra: socket[] = [];
  try {
    for (;;) {
      const [x, y] = socketpair();
      if (x.fileno() === fd) return [x, y];
      if (y.fileno() === fd) return [y, x];
      extra.push(x, y);
      if (extra.length > 1000) throw new Error(`fd ${fd} never came back`);
    }
  } finally {
    for (const s of extra) s.close();
  }
}

describe.each(BACKENDS)('one pass (%s)', (backend) => {
  it('calls read, write and exception handlers in CPython order', async () => {
    const log: string[] = [];
    const [a, peerA] = pair();
    const [b, peerB] = pair();
    new Recorder('a', a, log, map);
    new Recorder('b', b, log, map);
    peerA.send(Buffer.from('x'));
    peerB.send(Buffer.from('y'));
    await asyncore.loop({ timeout: 1, count: 1, map, backend });
    if (backend === 'select') {
      // poll(): every read, then every write (Lib/asyncore.py).
      expect(log).toEqual(['a.read', 'b.read', 'a.write', 'b.write']);
    } else {
      // poll2(): readwrite() per fd, read before write.
      expect(log).toEqual(['a.read', 'a.write', 'b.read', 'b.write']);
    }
  });

  it('never asks an accepting channel for write', async () => {
    const log: string[] = [];
    const [a] = pair();
    const d = new Recorder('a', a, log, map);
    // A socketpair end is writable; accepting hides that from the pass.
    d.accepting = true;
    d.handle_accept = () => {
      throw new Error('handle_accept not supposed to be called');
    };
    await asyncore.loop({ timeout: 0.05, count: 1, map, backend });
    expect(log).toEqual([]);
  });

  it('skips a channel removed from the map during the pass', async () => {
    const log: string[] = [];
    const [a, peerA] = pair();
    const [b, peerB] = pair();
    const da = new Recorder('a', a, log, map);
    const db = new Recorder('b', b, log, map);
    da.writable = db.writable = () => false;
    // Whichever runs first closes the other, which was ready too.
    da.handle_read = () => {
      log.push('a.read');
      db.close();
    };
    db.handle_read = () => {
      log.push('b.read');
      da.close();
    };
    peerA.send(Buffer.from('x'));
    peerB.send(Buffer.from('y'));
    await asyncore.loop({ timeout: 1, count: 1, map, backend });
    expect(log).toHaveLength(1);
  });

  it('gh-75114: delivers no event of a closed channel to a new one on its fd', async () => {
    const log: string[] = [];
    const [a, peerA] = pair();
    const [b, peerB] = pair();
    const da = new Recorder('a', a, log, map);
    const db = new Recorder('b', b, log, map);
    peerA.send(Buffer.from('x'));
    peerB.send(Buffer.from('y'));
    let reused: number | null = null;
    const handler = (self: Recorder, other: Recorder) => () => {
      log.push(`${self.name}.read`);
      if (reused !== null) return;
      const fd = other._fileno as number;
      other.close();
      // A new channel on the same fd number, neither readable nor
      // writable in truth yet: any handler call it got would be b's event.
      const c = new asyncore.dispatcher(socketOnFd(fd), map);
      reused = c._fileno;
      c.handle_read_event = c.handle_write_event = c.handle_expt_event = c.handle_close = () => {
        throw new Error('the new channel got the old one\'s event');
      };
      c.handle_error = (err: unknown) => {
        throw err;
      };
    };
    da.handle_read = handler(da, db);
    db.handle_read = handler(db, da);
    await asyncore.loop({ timeout: 1, count: 1, map, backend });
    expect(reused).not.toBeNull();
    // The first channel read and wrote; the closed one did nothing more.
    expect(log.filter((entry) => entry.endsWith('.read'))).toHaveLength(1);
  });

  it('calls handle_close once when the peer is gone (no second call for POLLHUP)', async () => {
    const [a, peerA] = pair();
    let closes = 0;
    class Closer extends asyncore.dispatcher {
      override readable(): boolean {
        return true;
      }
      override writable(): boolean {
        return false;
      }
      override handle_read(): void {
        this.recv(100);
      }
      override handle_close(): void {
        closes += 1;
        this.close();
      }
      override handle_error(err: unknown): void {
        throw err;
      }
    }
    new Closer(a, map);
    peerA.close();
    await asyncore.loop({ timeout: 1, count: 1, map, backend });
    expect(closes).toBe(1);
    expect(map.size).toBe(0);
  });

  it('serves a new channel on a reused fd in the next pass', async () => {
    const log: string[] = [];
    const [a, peerA] = pair();
    const da = new Recorder('a', a, log, map);
    da.writable = () => false;
    peerA.send(Buffer.from('x'));
    await asyncore.loop({ timeout: 1, count: 1, map, backend });
    expect(log).toEqual(['a.read']);
    const fd = da._fileno as number;
    // Closed behind the dispatcher's back: the kernel drops an epoll
    // registration by itself; the map still holds a.
    a.close();
    map.delete(fd);
    const [c, peerC] = pairOnFd(fd);
    open.push(peerC);
    const dc = new Recorder('c', c, log, map);
    dc.writable = () => false;
    peerC.send(Buffer.from('z'));
    await asyncore.loop({ timeout: 1, count: 1, map, backend });
    expect(log).toEqual(['a.read', 'c.read']);
  });
});
