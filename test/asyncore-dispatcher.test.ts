// The dispatcher's own behaviour beyond CPython's test_asyncore: toString()
// forms, handle_error() output, the errno handling of connect, send, recv and
// accept, and the argument checks of loop() and the passes.
import { performance } from 'node:perf_hooks';
import * as util from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as asyncore from '../src/asyncore';
import type { SocketMap } from '../src/asyncore';
import { ConnectionRefusedError, FileNotFoundError, OSError } from '../src/errors';
import { AF_INET, AF_INET6, AF_UNIX, socket, socketpair } from '../src/socket';
import { BACKENDS, removeUnixDir, unixPath } from './asyncore-support';
import { afterAll } from 'vitest';
import { expectNoFdLeaks } from './support';

expectNoFdLeaks();
afterAll(removeUnixDir);

let map: SocketMap = new Map();
const sockets: socket[] = [];

afterEach(() => {
  asyncore.close_all(map, true);
  for (const s of sockets.splice(0)) s.close();
  map = new Map();
});

function stdoutOf(fn: () => void): string {
  let text = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return text;
}

describe('toString', () => {
  it('shows listening and the address of a listening dispatcher', () => {
    const d = new asyncore.dispatcher(null, map);
    d.create_socket(AF_INET);
    d.bind(['127.0.0.1', 0]);
    d.listen(5);
    expect(String(d)).toMatch(/^<asyncore\.dispatcher listening 127\.0\.0\.1:0 at 0x[0-9a-f]+>$/);
  });

  it('shows connected and the peer of a connected one, with the subclass name', () => {
    class MyHandler extends asyncore.dispatcher {}
    const server = new socket(AF_INET);
    sockets.push(server);
    server.bind(['127.0.0.1', 0]);
    server.listen(1);
    const client = new socket(AF_INET);
    sockets.push(client);
    client.connect(server.getsockname());
    const [conn, addr] = server.accept();
    const d = new MyHandler(conn, map);
    const [host, port] = addr as [string, number];
    expect(String(d)).toMatch(new RegExp(`^<MyHandler connected ${host}:${port} at 0x[0-9a-f]+>$`));
    expect(util.inspect(d)).toBe(String(d));
  });

  it("shows Python's repr() of addresses '%s:%d' cannot format", () => {
    const d = new asyncore.dispatcher(null, map);
    d.addr = ['::1', 8080, 0, 0];
    expect(String(d)).toMatch(/^<asyncore\.dispatcher \('::1', 8080, 0, 0\) at 0x/);
    d.addr = "/tmp/it's";
    expect(String(d)).toMatch(/^<asyncore\.dispatcher "\/tmp\/it's" at 0x/);
    d.addr = '\0abstract';
    expect(String(d)).toMatch(/^<asyncore\.dispatcher '\\x00abstract' at 0x/);
  });

  it('names the package classes with their module', () => {
    const [a, b] = socketpair();
    sockets.push(b);
    expect(String(new asyncore.dispatcher_with_send(a, map))).toMatch(
      /^<asyncore\.dispatcher_with_send connected '' at 0x/,
    );
    const f = new asyncore.file_dispatcher(b.fileno(), map);
    expect(String(f)).toMatch(/^<asyncore\.file_dispatcher connected at 0x/);
  });
});

describe('handle_error', () => {
  it('logs a compact traceback as CPython does, and closes the channel', () => {
    const [a, b] = socketpair();
    sockets.push(b);
    const d = new asyncore.dispatcher(a, map);
    d.ignore_log_types = new Set();
    function failing(): never {
      throw new TypeError('boom');
    }
    let caught: unknown;
    try {
      failing();
    } catch (err) {
      caught = err;
    }
    const repr = String(d);
    const text = stdoutOf(() => d.handle_error(caught));
    const [, t, v, info] = asyncore.compact_traceback(caught);
    expect(text).toBe(
      `error: uncaptured python exception, closing channel ${repr} (${t}:${v} ${info})\n` +
        'warning: unhandled close event\n',
    );
    expect(t).toBe('TypeError');
    expect(info).toMatch(/\|failing\|\d+\]$/);
    expect(map.size).toBe(0);
  });

  it('copes with a toString() that throws, and with thrown non-errors', () => {
    class Broken extends asyncore.dispatcher {
      override toString(): string {
        throw new Error('no repr');
      }
    }
    const d = new Broken(null, map);
    const text = stdoutOf(() => d.handle_error('just a string'));
    expect(text).toMatch(/^error: uncaptured python exception, closing channel <__repr__\(self\) failed for object at 0x[0-9a-f]+> \(string:just a string \)\n$/);
  });
});

describe.each(BACKENDS)('errors in a pass (%s)', (backend) => {
  it('reports a refused connect through SO_ERROR to handle_error', async () => {
    // A port nobody listens on: bind one, and close it unlistened.
    const probe = new socket(AF_INET);
    probe.bind(['127.0.0.1', 0]);
    const address = probe.getsockname();
    probe.close();
    const errors: unknown[] = [];
    class Client extends asyncore.dispatcher {
      override handle_connect(): void {
        throw new Error('handle_connect not supposed to be called');
      }
      override handle_error(err: unknown): void {
        errors.push(err);
        this.close();
      }
    }
    const c = new Client(null, map);
    c.create_socket(AF_INET);
    c.connect(address);
    await asyncore.loop({ timeout: 1, map, backend, count: 5 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ConnectionRefusedError);
    expect((errors[0] as OSError).strerror).toBe('Connection refused');
  });

  it('sends a handler error to handle_error and goes on', async () => {
    const [a, b] = socketpair();
    sockets.push(b);
    const seen: unknown[] = [];
    let writes = 0;
    const d = new asyncore.dispatcher(a, map);
    d.readable = () => false;
    d.handle_write = () => {
      writes += 1;
      if (writes === 1) throw new RangeError('first write fails');
    };
    d.handle_error = (err: unknown) => seen.push(err);
    await asyncore.loop({ timeout: 1, map, backend, count: 3 });
    expect(writes).toBe(3);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(RangeError);
  });

  it('rejects loop() with what handle_error lets through', async () => {
    const [a, b] = socketpair();
    sockets.push(b);
    const d = new asyncore.dispatcher(a, map);
    const boom = new Error('boom');
    d.handle_write = () => {
      throw boom;
    };
    d.handle_error = (err: unknown) => {
      throw err;
    };
    await expect(asyncore.loop({ timeout: 1, map, backend })).rejects.toBe(boom);
  });
});

describe('socket methods', () => {
  it('connect() raises what connect_ex() returns, named as Python names it', () => {
    const d = new asyncore.dispatcher(null, map);
    d.create_socket(AF_UNIX);
    const error = (() => {
      try {
        d.connect(`${unixPath()}-missing`);
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(FileNotFoundError);
    expect((error as OSError).strerror).toBe('ENOENT');
    expect(d.connecting).toBe(true);
  });

  it("connect()'s argument errors name connect(), the function called, not connect_ex()", () => {
    const d = new asyncore.dispatcher(null, map);
    d.create_socket(AF_INET);
    expect(() => d.connect(['127.0.0.1', 'http'] as unknown as [string, number])).toThrow(
      new TypeError('connect(): port must be an integer, not "http"'),
    );
    expect(() => d.connect(['127.0.0.1', 70000])).toThrow(new RangeError('connect(): port must be 0-65535. Got 70000'));
    expect(() => d.connect('/tmp/x' as unknown as [string, number])).toThrow(
      new TypeError('connect(): AF_INET address must be a [host, port] array, not "/tmp/x"'),
    );
    // socket.connect_ex() itself still names connect_ex().
    expect(() => d.socket!.connect_ex(['127.0.0.1', -1])).toThrow(new RangeError('connect_ex(): port must be 0-65535. Got -1'));
  });

  it('takes a socket or null, and says so', () => {
    expect(() => new asyncore.dispatcher(5 as unknown as socket, map)).toThrow(
      new TypeError('dispatcher(): sock must be a socket or null, not 5'),
    );
    expect(map.size).toBe(0);
  });

  it('types socket so that the common socket calls need no cast', () => {
    const d = new asyncore.dispatcher(null, map);
    d.create_socket(AF_INET);
    d.bind(['127.0.0.1', 0]);
    d.listen(1);
    // Compiles as it is (tsc checks this file): socket is a socket here.
    const [host, port] = d.socket!.getsockname() as [string, number];
    expect(host).toBe('127.0.0.1');
    expect(port).toBeGreaterThan(0);
    expect(d.socket!.gettimeout()).toBe(0);
  });

  it('connect() that completes at once calls handle_connect_event()', () => {
    const path = unixPath();
    const server = new socket(AF_UNIX);
    sockets.push(server);
    server.bind(path);
    server.listen(1);
    let connected = 0;
    const d = new asyncore.dispatcher(null, map);
    d.handle_connect = () => (connected += 1);
    d.create_socket(AF_UNIX);
    d.connect(path);
    expect(connected).toBe(1);
    expect(d.connected).toBe(true);
    expect(d.connecting).toBe(false);
    expect(d.addr).toBe(path);
  });

  it('accept() returns null when no connection is waiting', () => {
    const d = new asyncore.dispatcher(null, map);
    d.create_socket(AF_INET6);
    d.bind(['::1', 0]);
    d.listen(5);
    expect(d.accept()).toBeNull();
  });

  it('accept() hands over a working connection, then null once the backlog is empty', () => {
    const path = unixPath();
    const d = new asyncore.dispatcher(null, map);
    d.create_socket(AF_UNIX);
    d.bind(path);
    d.listen(5);
    const client = new socket(AF_UNIX);
    sockets.push(client);
    client.connect(path);
    const accepted = d.accept();
    expect(accepted).not.toBeNull();
    const [conn] = accepted!;
    sockets.push(conn);
    expect([conn.family, conn.type]).toEqual([AF_UNIX, d.socket!.type]);
    client.send(Buffer.from('hi'));
    expect(conn.recv(10).toString()).toBe('hi');
    expect(d.accept()).toBeNull();
  });

  it("accept() calls a socket subclass's own accept(), as Python does", () => {
    const calls: string[] = [];
    class CountingSocket extends socket {
      override accept(): ReturnType<socket['accept']> {
        calls.push('accept');
        return super.accept();
      }
    }
    const listener = new CountingSocket(AF_INET6);
    listener.setblocking(false);
    const d = new asyncore.dispatcher(null, map);
    d.set_socket(listener);
    d.bind(['::1', 0]);
    d.listen(5);
    expect(d.accept()).toBeNull();
    expect(calls).toEqual(['accept']);
  });

  it('send() returns 0 when the socket would block; recv() an empty Buffer at close', () => {
    const [a, b] = socketpair();
    let closes = 0;
    const d = new asyncore.dispatcher(a, map);
    d.handle_close = () => {
      closes += 1;
      d.close();
    };
    const chunk = Buffer.alloc(65536);
    let sent = 0;
    for (let i = 0; i < 1000; i++) {
      const n = d.send(chunk);
      if (n === 0) break;
      sent += n;
    }
    expect(sent).toBeGreaterThan(0);
    expect(d.send(chunk)).toBe(0);
    expect(closes).toBe(0);
    b.close();
    const data = d.recv(10);
    expect(data).toEqual(Buffer.alloc(0));
    expect(Buffer.isBuffer(data)).toBe(true);
    expect(closes).toBe(1);
  });

  it('send() to a peer that is gone closes the channel and returns 0', () => {
    const [a, b] = socketpair();
    let closes = 0;
    const d = new asyncore.dispatcher(a, map);
    d.handle_close = () => {
      closes += 1;
      d.close();
    };
    b.close();
    expect(d.send(Buffer.from('x'))).toBe(0);
    expect(closes).toBe(1);
  });

  it('dispatcher_with_send sends what the socket takes and keeps the rest', async () => {
    const [a, b] = socketpair();
    sockets.push(b);
    const d = new asyncore.dispatcher_with_send(a, map);
    d.readable = () => false;
    const big = Buffer.alloc(4 << 20, 7);
    d.send(big);
    expect(d.out_buffer.length).toBeGreaterThan(0);
    expect(d.writable()).toBe(true);
    let received = 0;
    b.setblocking(false);
    const start = performance.now();
    while (received < big.length && performance.now() - start < 5000) {
      await asyncore.loop({ timeout: 0.1, map, count: 1 });
      try {
        for (;;) received += b.recv(1 << 20).length;
      } catch (err) {
        if (!(err instanceof OSError)) throw err;
      }
    }
    expect(received).toBe(big.length);
    expect(d.writable()).toBe(false);
  });

  /** Reads from b until `length` bytes came, running passes over map. */
  async function drain(b: socket, length: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let received = 0;
    b.setblocking(false);
    const start = performance.now();
    while (received < length && performance.now() - start < 5000) {
      await asyncore.loop({ timeout: 0.1, map, count: 1 });
      try {
        for (;;) {
          const chunk = b.recv(1 << 20);
          chunks.push(chunk);
          received += chunk.length;
        }
      } catch (err) {
        if (!(err instanceof OSError)) throw err;
      }
    }
    return Buffer.concat(chunks);
  }

  it('dispatcher_with_send keeps its own copy of what it could not send yet', async () => {
    const [a, b] = socketpair();
    sockets.push(b);
    const d = new asyncore.dispatcher_with_send(a, map);
    d.readable = () => false;
    const data = Buffer.alloc(4 << 20);
    for (let i = 0; i < data.length; i++) data[i] = i % 251;
    const expected = Buffer.from(data);
    d.send(data);
    expect(d.out_buffer.length).toBeGreaterThan(0);
    // The caller reuses its buffer at once, as a server reusing one read
    // buffer would: what goes out must still be what was sent.
    data.fill(0xff);
    const received = await drain(b, expected.length);
    expect(received.equals(expected)).toBe(true);
  });

  it('dispatcher_with_send takes a plain Uint8Array, and appends to what is queued', async () => {
    const [a, b] = socketpair();
    sockets.push(b);
    const d = new asyncore.dispatcher_with_send(a, map);
    d.readable = () => false;
    const first = new Uint8Array(4 << 20).fill(1);
    const second = new Uint8Array(10).fill(2);
    expect(d.send(first)).toBe(first.length);
    expect(d.send(second)).toBe(second.length);
    first.fill(0);
    second.fill(0);
    const received = await drain(b, (4 << 20) + 10);
    expect(received.length).toBe((4 << 20) + 10);
    expect(received.subarray(0, 4 << 20).every((byte) => byte === 1)).toBe(true);
    expect(received.subarray(4 << 20).every((byte) => byte === 2)).toBe(true);
  });

  it('dispatcher_with_send.send() goes through an overridden initiate_send()', () => {
    const [a, b] = socketpair();
    sockets.push(b);
    const seen: string[] = [];
    class Queued extends asyncore.dispatcher_with_send {
      override initiate_send(): void {
        seen.push(this.out_buffer.toString());
      }
    }
    const d = new Queued(a, map);
    d.send(Buffer.from('one'));
    d.send(Buffer.from('two'));
    expect(seen).toEqual(['one', 'onetwo']);
    expect(d.out_buffer.toString()).toBe('onetwo');
  });
});

describe('arguments', () => {
  it('rejects bad arguments, never throwing synchronously', async () => {
    await expect(asyncore.loop('30' as unknown as number)).rejects.toThrow(TypeError);
    await expect(asyncore.loop(-1)).rejects.toThrow(RangeError);
    await expect(asyncore.loop({ backend: 'kqueue' as 'poll' })).rejects.toThrow(/backend must be 'select', 'poll' or 'epoll'/);
    await expect(asyncore.loop({ bogus: 1 } as never)).rejects.toThrow(/unexpected option "bogus"/);
    await expect(asyncore.loop(1, 'yes' as unknown as boolean)).rejects.toThrow(TypeError);
    await expect(asyncore.poll(0, {} as SocketMap)).rejects.toThrow(/must be a Map/);
    await expect(asyncore.poll2(Number.NaN)).rejects.toThrow(TypeError);
    expect(asyncore.poll3).toBe(asyncore.poll2);
  });

  it("rejects an fd select() cannot hold, as CPython's select() does", async () => {
    const fake: asyncore.Channel = {
      readable: () => true,
      writable: () => false,
      handle_read_event: () => undefined,
      handle_write_event: () => undefined,
      handle_expt_event: () => undefined,
      handle_close: () => undefined,
      handle_error: () => undefined,
    };
    map.set(4096, fake);
    await expect(asyncore.poll(0, map)).rejects.toThrow('filedescriptor out of range in select()');
    map.delete(4096);
  });

  it('runs until the map is empty with the positional form', async () => {
    const [a, b] = socketpair();
    sockets.push(b);
    const d = new asyncore.dispatcher(a, map);
    let writes = 0;
    d.handle_write = () => {
      writes += 1;
      if (writes === 10) d.close();
    };
    await asyncore.loop(1, true, map);
    expect(writes).toBe(10);
    await asyncore.loop(1, false, map, null);
  });
});
