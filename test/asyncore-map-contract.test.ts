// loop({ interest: 'on_change' }) leaves the caller's Map as it is: no own
// properties, Map's own methods, while the loop runs and after it. Joins
// and leaves made with map.set() / map.delete() directly, not through the
// package, are seen after wake(map), or when a pass finds the map's size
// changed.
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import * as asyncore from '../src/asyncore';
import type { Channel, SocketMap } from '../src/asyncore';
import { socket, socketpair } from '../src/socket';
import { kindOf, stateOf } from '../src/asyncore/passes';
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
  a.setblocking(false);
  b.setblocking(false);
  open.push(a, b);
  return [a, b];
}

const MAP_METHODS = ['set', 'delete', 'clear', 'get', 'has', 'forEach', 'keys', 'values', 'entries'] as const;

/** What a plain Map looks like: no own properties, Map.prototype's methods and size. */
function plainness(m: SocketMap): { own: Array<string | symbol>; replaced: string[] } {
  const replaced: string[] = MAP_METHODS.filter((name) => m[name] !== Map.prototype[name]);
  if (m[Symbol.iterator] !== Map.prototype[Symbol.iterator]) replaced.push('[Symbol.iterator]');
  if (Object.getPrototypeOf(m) !== Map.prototype) replaced.push('prototype');
  return { own: Reflect.ownKeys(m), replaced };
}

const PLAIN = { own: [], replaced: [] };

/**
 * A channel that is not a dispatcher (duck typed, as Python allows), so
 * that nothing of the package tells the passes about it: only the map.
 */
class Bare implements Channel {
  reads = 0;
  asks = 0;
  constructor(
    readonly sock: socket,
    private readonly onRead: (self: Bare) => void = () => undefined,
  ) {}
  readable(): boolean {
    this.asks += 1;
    return true;
  }
  writable(): boolean {
    return false;
  }
  handle_read_event(): void {
    this.reads += 1;
    this.onRead(this);
  }
  handle_write_event(): void {
    throw new Error('handle_write_event not expected');
  }
  handle_expt_event(): void {
    throw new Error('handle_expt_event not expected');
  }
  handle_close(): void {
    throw new Error('handle_close not expected');
  }
  handle_error(err: unknown): void {
    throw err;
  }
}

/** A channel that is writable on every pass: each pass runs its handler, which runs pass k's action. */
class Clock implements Channel {
  ticks = 0;
  constructor(
    readonly sock: socket,
    private readonly actions: Map<number, () => void>,
  ) {}
  readable(): boolean {
    return false;
  }
  writable(): boolean {
    return true;
  }
  handle_read_event(): void {
    throw new Error('handle_read_event not expected');
  }
  handle_write_event(): void {
    const action = this.actions.get(this.ticks);
    this.ticks += 1;
    action?.();
  }
  handle_expt_event(): void {
    throw new Error('handle_expt_event not expected');
  }
  handle_close(): void {
    throw new Error('handle_close not expected');
  }
  handle_error(err: unknown): void {
    throw err;
  }
}

describe.each(BACKENDS)('the map of a loop with interest on change (%s)', (backend) => {
  it('stays a plain Map while the loop runs and after it resolves', async () => {
    const seen: Array<ReturnType<typeof plainness>> = [];
    class Echo extends asyncore.dispatcher_with_send {
      override handle_read(): void {
        seen.push(plainness(map));
        const data = this.recv(100);
        if (data.length > 0) this.send(data);
        this.close();
      }
    }
    const [a, peer] = pair();
    new Echo(a, map);
    peer.send(Buffer.from('x'));
    seen.push(plainness(map));
    await asyncore.loop({ map, timeout: 5, backend, interest: 'on_change' });
    seen.push(plainness(map));
    // One turn later too, when the loop's watches are closed.
    await new Promise((resolve) => setImmediate(resolve));
    seen.push(plainness(map));
    expect(seen).toEqual([PLAIN, PLAIN, PLAIN, PLAIN]);
  });

  it('sees a channel put in with map.set() after wake(map)', async () => {
    // The loop waits on a channel with nothing to read; a timer puts a
    // ready channel in the map behind the package's back and wakes it.
    const [quiet] = pair();
    const q = new Bare(quiet);
    map.set(quiet.fileno(), q);
    const [b, bPeer] = pair();
    const late = new Bare(b, () => {
      throw new asyncore.ExitNow('seen');
    });
    bPeer.send(Buffer.from('x'));
    setTimeout(() => {
      map.set(b.fileno(), late);
      asyncore.wake(map);
    }, 20);
    const started = performance.now();
    await expect(asyncore.loop({ map, timeout: 5, backend, interest: 'on_change' })).rejects.toThrow('seen');
    expect(late.reads).toBe(1);
    expect(performance.now() - started).toBeLessThan(4000);
  });

  it('sees a channel put in with map.set() from a handler, by the change of size', async () => {
    const [b, bPeer] = pair();
    const late = new Bare(b);
    bPeer.send(Buffer.from('x'));
    const [c] = pair();
    const clock = new Clock(c, new Map<number, () => void>([
      [1, () => void map.set(b.fileno(), late)],
      [4, () => void map.delete(c.fileno())],
    ]));
    map.set(c.fileno(), clock);
    await asyncore.loop({ map, timeout: 5, backend, interest: 'on_change', count: 6 });
    // Put in during pass 2: asked and read from pass 3 on (b stays readable).
    expect(late.asks).toBeGreaterThanOrEqual(1);
    expect(late.reads).toBeGreaterThanOrEqual(2);
  });

  it('forgets a channel taken out with map.delete() from a handler, by the change of size', async () => {
    const [b, bPeer] = pair();
    const gone = new Bare(b);
    bPeer.send(Buffer.from('x'));
    map.set(b.fileno(), gone);
    const [c] = pair();
    let readsWhenDeleted = -1;
    let asksWhenDeleted = -1;
    const clock = new Clock(c, new Map([
      [2, () => {
        map.delete(b.fileno());
        readsWhenDeleted = gone.reads;
        asksWhenDeleted = gone.asks;
      }],
    ]));
    map.set(c.fileno(), clock);
    await asyncore.loop({ map, timeout: 5, backend, interest: 'on_change', count: 8 });
    expect(readsWhenDeleted).toBeGreaterThanOrEqual(1);
    // Ready on every pass, but no longer in the map: neither read nor asked.
    expect(gone.reads).toBe(readsWhenDeleted);
    expect(gone.asks).toBe(asksWhenDeleted);
    expect(clock.ticks).toBe(8);
  });

  it('forgets a channel taken out with map.delete() after wake(map)', async () => {
    // The loop waits; a timer takes a channel out behind the package's
    // back and wakes the loop, then makes the channel readable; a last
    // timer empties the map the same way.
    const [quiet] = pair();
    const q = new Bare(quiet);
    map.set(quiet.fileno(), q);
    const [b, bPeer] = pair();
    const gone = new Bare(b);
    map.set(b.fileno(), gone);
    const watched: number[] = [];
    const asks: number[] = [];
    setTimeout(() => {
      asks.push(q.asks, gone.asks);
      map.delete(b.fileno());
      asyncore.wake(map);
      setTimeout(() => {
        bPeer.send(Buffer.from('x'));
        watched.push(stateOf(map).watch(kindOf[backend]).interested);
        asks.push(q.asks, gone.asks);
        setTimeout(() => {
          map.delete(quiet.fileno());
          asyncore.wake(map);
        }, 30);
      }, 30);
    }, 30);
    await asyncore.loop({ map, timeout: 5, backend, interest: 'on_change' });
    // Asked once at the start; on wake(map), q again and b no more.
    expect(asks).toEqual([1, 1, 2, 1]);
    expect(watched).toEqual([1]);
    expect(gone.reads).toBe(0);
  });
});
