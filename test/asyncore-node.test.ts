// What asyncore promises a Node program beyond CPython (README.md, "Porting
// from Python"): the event loop keeps running while a pass waits,
// changes made outside a handler wake the wait, ExitNow rejects loop(), one
// loop per map, and nothing left open.
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import * as asyncore from '../src/asyncore';
import type { SocketMap } from '../src/asyncore';
import { AF_INET, socket, socketpair } from '../src/socket';
import { BACKENDS } from './asyncore-support';
import { expectNoFdLeaks, openFds, sleep, TIMEOUT_MULTIPLIER } from './support';

expectNoFdLeaks();

const maps: SocketMap[] = [];
const sockets: socket[] = [];

function newMap(): SocketMap {
  const map: SocketMap = new Map();
  maps.push(map);
  return map;
}

function pair(): [socket, socket] {
  const [a, b] = socketpair();
  sockets.push(a, b);
  return [a, b];
}

afterEach(() => {
  for (const map of maps.splice(0)) asyncore.close_all(map, true);
  for (const s of sockets.splice(0)) s.close();
});

/** A dispatcher that fails on every handler it is not given. */
class Strict extends asyncore.dispatcher {
  override handle_read(): void {
    throw new Error('handle_read not supposed to be called');
  }
  override handle_write(): void {
    throw new Error('handle_write not supposed to be called');
  }
  override handle_expt(): void {
    throw new Error('handle_expt not supposed to be called');
  }
  override handle_connect(): void {
    throw new Error('handle_connect not supposed to be called');
  }
  override handle_accept(): void {
    throw new Error('handle_accept not supposed to be called');
  }
  override handle_close(): void {
    throw new Error('handle_close not supposed to be called');
  }
  override handle_error(err: unknown): void {
    throw err;
  }
}

/** Readable only: waits for data that never comes. */
class Idle extends Strict {
  override writable(): boolean {
    return false;
  }
}

const WITHIN_MS = 100 * TIMEOUT_MULTIPLIER;

describe.each(BACKENDS)('%s', (backend) => {
  it('serves a dispatcher a timer adds during a 30 s wait within 100 ms', async () => {
    const map = newMap();
    new Idle(pair()[0], map);
    let addedAt = 0;
    let servedAt = 0;
    setTimeout(() => {
      const [a, peer] = pair();
      peer.send(Buffer.from('x'));
      addedAt = performance.now();
      const d = new Idle(a, map);
      d.handle_read = () => {
        servedAt = performance.now();
        asyncore.close_all(map);
      };
    }, 50);
    await asyncore.loop({ timeout: 30, map, backend });
    expect(servedAt).toBeGreaterThan(0);
    expect(servedAt - addedAt).toBeLessThan(WITHIN_MS);
  });

  it('ends a 30 s wait when a timer closes the last channel', async () => {
    const map = newMap();
    const d = new Idle(pair()[0], map);
    // Measured from the close itself, so a timer that fires late on a busy
    // machine does not count against the wake-up.
    let closedAt = 0;
    setTimeout(() => {
      closedAt = performance.now();
      d.close();
    }, 20);
    await asyncore.loop({ timeout: 30, map, backend });
    expect(closedAt).toBeGreaterThan(0);
    expect(performance.now() - closedAt).toBeLessThan(WITHIN_MS);
  });

  it('wake(map) makes a waiting pass read readable() again', async () => {
    const map = newMap();
    const [a, peer] = pair();
    peer.send(Buffer.from('x'));
    let ready = false;
    let wokenAt = 0;
    let servedAt = 0;
    const d = new Idle(a, map);
    d.readable = () => ready;
    d.handle_read = () => {
      servedAt = performance.now();
      d.recv(1);
      asyncore.close_all(map);
    };
    setTimeout(() => {
      ready = true;
      wokenAt = performance.now();
      asyncore.wake(map);
    }, 30);
    await asyncore.loop({ timeout: 30, map, backend });
    expect(servedAt - wokenAt).toBeLessThan(WITHIN_MS);
  });

  it('runs count passes', async () => {
    const map = newMap();
    let writes = 0;
    const d = new Strict(pair()[0], map);
    d.handle_write = () => {
      writes += 1;
    };
    await asyncore.loop({ timeout: 1, map, backend, count: 3 });
    expect(writes).toBe(3);
    await asyncore.loop({ timeout: 1, map, backend, count: 0 });
    expect(writes).toBe(3);
    // Passes with nothing ready count too, each after its timeout.
    d.writable = () => false;
    const start = performance.now();
    await asyncore.loop({ timeout: 0.02, map, backend, count: 3 });
    expect(performance.now() - start).toBeGreaterThanOrEqual(55);
  });

  it('rejects loop() with the ExitNow a handler raises', async () => {
    const map = newMap();
    const d = new Strict(pair()[0], map);
    const exit = new asyncore.ExitNow('enough');
    d.handle_write = () => {
      throw exit;
    };
    await expect(asyncore.loop({ timeout: 1, map, backend })).rejects.toBe(exit);
    // The map is free again.
    let writes = 0;
    d.handle_write = () => {
      writes += 1;
    };
    await asyncore.loop({ timeout: 1, map, backend, count: 1 });
    expect(writes).toBe(1);
  });

  it('rejects a second loop on the same map, and runs loops on two maps side by side', async () => {
    const map = newMap();
    new Idle(pair()[0], map);
    const first = asyncore.loop({ timeout: 30, map, backend });
    await expect(asyncore.loop({ timeout: 30, map, backend })).rejects.toThrow(/already running on this map/);
    await expect(asyncore.poll(0, map)).rejects.toThrow(/already running on this map/);
    setTimeout(() => asyncore.close_all(map), 10);
    await first;

    // Two maps, a ping-pong in each: both make progress while both run.
    const counts = [0, 0];
    const seenAtEnd: number[] = [];
    const loops = [0, 1].map((i) => {
      const m = newMap();
      const [a, b] = pair();
      const ends = [a, b].map((s) => {
        const d = new Strict(s, m);
        d.writable = () => false;
        d.handle_read = () => {
          d.recv(1);
          counts[i]! += 1;
          if (counts[i]! === 2000) {
            seenAtEnd[i] = counts[1 - i]!;
            asyncore.close_all(m);
          } else {
            d.send(Buffer.from('p'));
          }
        };
        return d;
      });
      ends[0]!.send(Buffer.from('p'));
      return asyncore.loop({ timeout: 5, map: m, backend });
    });
    await Promise.all(loops);
    expect(counts).toEqual([2000, 2000]);
    // Each loop saw the other make progress before it ended.
    expect(seenAtEnd[0]).toBeGreaterThan(0);
    expect(seenAtEnd[1]).toBeGreaterThan(0);
  });

  it('lets a Node net server in this process be served while loop() runs', async () => {
    const server = net.createServer((conn) => conn.pipe(conn));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const map = newMap();
    const received: Buffer[] = [];
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 5);
    try {
      class Client extends asyncore.dispatcher_with_send {
        override handle_connect(): void {
          this.send(Buffer.from('hello from asyncore'));
        }
        override handle_read(): void {
          received.push(this.recv(100));
          if (Buffer.concat(received).length === 19) this.close();
        }
        override handle_close(): void {
          throw new Error('handle_close not supposed to be called');
        }
        override handle_error(err: unknown): void {
          throw err;
        }
      }
      const client = new Client(null, map);
      client.create_socket(AF_INET);
      client.connect(['127.0.0.1', port]);
      // Idle 50 ms first, so timers are seen to run during the wait.
      await sleep(50);
      await asyncore.loop({ timeout: 30, map, backend });
      expect(Buffer.concat(received).toString()).toBe('hello from asyncore');
      expect(ticks).toBeGreaterThan(0);
    } finally {
      clearInterval(ticker);
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('keeps timers running while every pass finds work ready', async () => {
    const map = newMap();
    const d = new Strict(pair()[0], map);
    let writes = 0;
    d.handle_write = () => {
      writes += 1;
    };
    const start = performance.now();
    let firedAt = 0;
    setTimeout(() => {
      firedAt = performance.now();
      asyncore.close_all(map);
    }, 10);
    await asyncore.loop({ timeout: 30, map, backend });
    expect(writes).toBeGreaterThan(10);
    expect(firedAt - start).toBeLessThan(10 + 50 * TIMEOUT_MULTIPLIER);
  });

  it('leaves no fd open after opening and closing 1,000 dispatchers', async () => {
    // Pollers of earlier tests close at the end of their turn: let them.
    await new Promise((resolve) => setImmediate(resolve));
    const before = openFds();
    const map = newMap();
    // In batches: select() cannot hold an fd >= FD_SETSIZE (1024).
    for (let batch = 0; batch < 10; batch++) {
      const batchDispatchers: asyncore.dispatcher[] = [];
      const peers: socket[] = [];
      for (let i = 0; i < 100; i++) {
        const [a, b] = socketpair();
        batchDispatchers.push(new Idle(a, map));
        peers.push(b);
      }
      await asyncore.loop({ timeout: 0, map, backend, count: 1 });
      for (const d of batchDispatchers) d.close();
      for (const peer of peers) peer.close();
    }
    expect(map.size).toBe(0);
    // The poller is closed at the end of the turn in which the loop resolved.
    await new Promise((resolve) => setImmediate(resolve));
    expect(openFds()).toEqual(before);
  });
});

describe('process lifetime', () => {
  const root = path.resolve(__dirname, '..');

  /** Runs a script (JavaScript that may require the .ts sources) in a child node; its exit code and output. */
  function runChild(script: string): Promise<{ code: number | null; out: string; ms: number }> {
    const start = performance.now();
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('exit', (code) => resolve({ code, out, ms: performance.now() - start }));
    });
  }

  it('stays alive while a pass waits, and exits once loop() has resolved', async () => {
    const { code, out, ms } = await runChild(`
      const asyncore = require('./src/asyncore.ts');
      const { socketpair } = require('./src/socket.ts');
      const [a, b] = socketpair();
      class Idle extends asyncore.dispatcher {
        writable() { return false; }
        handle_read() { throw new Error('unexpected read'); }
      }
      new Idle(a);
      asyncore.loop({ timeout: 0.3, count: 2 }).then(() => {
        console.log('done');
        asyncore.close_all();
        b.close();
      });
    `);
    expect(out).toBe('done\n');
    expect(code).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(600);
  });

  it('exits after single passes, the poller closed behind them', async () => {
    const { code, out } = await runChild(`
      const asyncore = require('./src/asyncore.ts');
      const { socketpair } = require('./src/socket.ts');
      const [a, b] = socketpair();
      new asyncore.dispatcher(a);
      (async () => {
        for (let i = 0; i < 3; i++) await asyncore.poll2(0.01);
        console.log('done');
      })();
    `);
    expect(out).toMatch(/done\n/);
    expect(code).toBe(0);
  });
});
