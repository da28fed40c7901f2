// CPython 3.11 Lib/test/test_asynchat.py, test by test, with Python's names.
// The echo server that CPython runs in a thread is a Node `net` server in
// this process: asyncore's loop() waits on its worker thread, so Node's
// event loop serves the peer meanwhile.
import * as net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as asyncore from '../src/asyncore';
import * as asynchat from '../src/asynchat';
import { BlockingIOError } from '../src/errors';
import { AF_INET, SOCK_STREAM, type socket } from '../src/socket';
import { expectNoFdLeaks, sleep } from './support';

expectNoFdLeaks();

const HOST = '127.0.0.1';
const SERVER_QUIT = Buffer.from('QUIT\n');
const EAGAIN = 11;

/** threading.Event */
class Event {
  private resolve: () => void = () => {};
  private readonly promise = new Promise<void>((resolve) => (this.resolve = resolve));
  set(): void {
    this.resolve();
  }
  wait(): Promise<void> {
    return this.promise;
  }
}

/**
 * echo_server: accepts one connection, collects what it receives until
 * SERVER_QUIT (or end of stream), then sends it all back chunk_size bytes at
 * a time, a millisecond apart, and closes.
 */
class echo_server {
  // The number of bytes passed back to the client per send.
  chunk_size = 1;
  // Set when the client wants the server to wait before echoing back.
  start_resend_event: Event | null = null;
  buffer = Buffer.alloc(0);
  port = 0;
  private readonly server = net.createServer();
  private finished!: Promise<void>;

  async start(): Promise<void> {
    let connectionDone: () => void = () => {};
    const connectionClosed = new Promise<void>((resolve) => (connectionDone = resolve));
    const serverClosed = new Promise<void>((resolve) => this.server.once('close', resolve));
    this.finished = Promise.all([connectionClosed, serverClosed]).then(() => undefined);
    this.server.once('connection', (conn) => {
      this.server.close(); // one client, as CPython's accept() once
      this.serve(conn).finally(connectionDone);
    });
    await new Promise<void>((resolve) => this.server.listen(0, HOST, resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  private async serve(conn: net.Socket): Promise<void> {
    conn.setNoDelay(true);
    // The client may close first (test_close_when_done): writes then fail.
    conn.on('error', () => {});
    const closed = new Promise<void>((resolve) => conn.once('close', resolve));
    await new Promise<void>((resolve) => {
      const onData = (data: Buffer): void => {
        this.buffer = Buffer.concat([this.buffer, data]);
        const quit = this.buffer.indexOf(SERVER_QUIT);
        if (quit !== -1) {
          this.buffer = this.buffer.subarray(0, quit + SERVER_QUIT.length);
          finish();
        }
      };
      const finish = (): void => {
        conn.off('data', onData);
        conn.off('end', finish);
        resolve();
      };
      conn.on('data', onData);
      conn.on('end', finish);
    });
    // buffer.replace(SERVER_QUIT, b'')
    this.buffer = Buffer.from(this.buffer.toString('latin1').split(SERVER_QUIT.toString('latin1')).join(''), 'latin1');
    if (this.start_resend_event) await this.start_resend_event.wait();
    let rest = this.buffer;
    while (rest.length > 0 && !conn.destroyed && conn.writable) {
      conn.write(rest.subarray(0, this.chunk_size));
      await sleep(1);
      rest = rest.subarray(this.chunk_size);
    }
    conn.end();
    await closed;
  }

  /** threading_helper.join_thread(s) */
  join(): Promise<void> {
    return this.finished;
  }
}

class echo_client extends asynchat.async_chat {
  contents: Buffer[] = [];
  buffer = Buffer.alloc(0);

  constructor(terminator: Uint8Array | number | null, server_port: number) {
    super();
    this.create_socket(AF_INET, SOCK_STREAM);
    this.connect([HOST, server_port]);
    this.set_terminator(terminator);
  }

  override handle_connect(): void {}

  override collect_incoming_data(data: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, data]);
  }

  override found_terminator(): void {
    this.contents.push(this.buffer);
    this.buffer = Buffer.alloc(0);
  }
}

async function start_echo_server(): Promise<echo_server> {
  const s = new echo_server();
  await s.start();
  return s;
}

const texts = (list: Buffer[]): string[] => list.map((item) => item.toString('latin1'));

// TestAsynchat, TestAsynchat_WithPoll, and the same with epoll.
const variants = [
  { name: 'TestAsynchat', options: { use_poll: false } },
  { name: 'TestAsynchat_WithPoll', options: { use_poll: true } },
  { name: 'TestAsynchat_WithEpoll', options: { backend: 'epoll' as const } },
];

describe.each(variants)('$name', ({ options }) => {
  const loop = () => asyncore.loop({ ...options, count: 300, timeout: 0.01 });

  afterEach(() => {
    // A failed test must not leave its channel to the next one.
    asyncore.close_all();
  });

  async function line_terminator_check(term: Buffer, server_chunk: number): Promise<void> {
    const s = new echo_server();
    s.chunk_size = server_chunk;
    await s.start();
    const c = new echo_client(term, s.port);
    c.push(Buffer.from('hello '));
    c.push(Buffer.concat([Buffer.from('world'), term]));
    c.push(Buffer.concat([Buffer.from("I'm not dead yet!"), term]));
    c.push(SERVER_QUIT);
    await loop();
    await s.join();

    expect(texts(c.contents)).toEqual(['hello world', "I'm not dead yet!"]);
  }

  // The line terminator tests check receiving variously-sized chunks back
  // from the server in order to exercise all branches of handle_read.

  it('test_line_terminator1', async () => {
    // one-character terminator
    for (const l of [1, 2, 3]) await line_terminator_check(Buffer.from('\n'), l);
  });

  it('test_line_terminator2', async () => {
    // two-character terminator
    for (const l of [1, 2, 3]) await line_terminator_check(Buffer.from('\r\n'), l);
  });

  it('test_line_terminator3', async () => {
    // three-character terminator
    for (const l of [1, 2, 3]) await line_terminator_check(Buffer.from('qqq'), l);
  });

  async function numeric_terminator_check(termlen: number): Promise<void> {
    // Try reading a fixed number of bytes
    const s = await start_echo_server();
    const c = new echo_client(termlen, s.port);
    const data = Buffer.from("hello world, I'm not dead yet!\n");
    c.push(data);
    c.push(SERVER_QUIT);
    await loop();
    await s.join();

    expect(c.contents).toEqual([data.subarray(0, termlen)]);
  }

  it('test_numeric_terminator1', async () => {
    await numeric_terminator_check(1);
  });

  it('test_numeric_terminator2', async () => {
    await numeric_terminator_check(6);
  });

  it('test_none_terminator', async () => {
    const s = await start_echo_server();
    const c = new echo_client(null, s.port);
    const data = Buffer.from("hello world, I'm not dead yet!\n");
    c.push(data);
    c.push(SERVER_QUIT);
    await loop();
    await s.join();

    expect(c.contents).toEqual([]);
    expect(c.buffer).toEqual(data);
  });

  it('test_simple_producer', async () => {
    const s = await start_echo_server();
    const c = new echo_client(Buffer.from('\n'), s.port);
    const data = Buffer.from("hello world\nI'm not dead yet!\n");
    const p = new asynchat.simple_producer(Buffer.concat([data, SERVER_QUIT]), 8);
    c.push_with_producer(p);
    await loop();
    await s.join();

    expect(texts(c.contents)).toEqual(['hello world', "I'm not dead yet!"]);
  });

  it('test_string_producer', async () => {
    const s = await start_echo_server();
    const c = new echo_client(Buffer.from('\n'), s.port);
    const data = Buffer.from("hello world\nI'm not dead yet!\n");
    c.push_with_producer(Buffer.concat([data, SERVER_QUIT]));
    await loop();
    await s.join();

    expect(texts(c.contents)).toEqual(['hello world', "I'm not dead yet!"]);
  });

  it('test_empty_line', async () => {
    // checks that empty lines are handled correctly
    const s = await start_echo_server();
    const c = new echo_client(Buffer.from('\n'), s.port);
    c.push(Buffer.from("hello world\n\nI'm not dead yet!\n"));
    c.push(SERVER_QUIT);
    await loop();
    await s.join();

    expect(texts(c.contents)).toEqual(['hello world', '', "I'm not dead yet!"]);
  });

  it('test_close_when_done', async () => {
    const s = await start_echo_server();
    s.start_resend_event = new Event();
    const c = new echo_client(Buffer.from('\n'), s.port);
    c.push(Buffer.from("hello world\nI'm not dead yet!\n"));
    c.push(SERVER_QUIT);
    c.close_when_done();
    await loop();

    // Only allow the server to start echoing data back to the client after
    // the client has closed its connection. This prevents a race condition
    // where the server echoes all of its data before we can check that it
    // got any down below.
    s.start_resend_event.set();
    await s.join();

    expect(c.contents).toEqual([]);
    // the server might have been able to send a byte or two back, but this
    // at least checks that it received something and didn't just fail
    // (which could still result in the client not having received anything)
    expect(s.buffer.length).toBeGreaterThan(0);
  });

  it('test_push', async () => {
    // bpo-12523: push() should raise a TypeError if it doesn't get bytes
    const s = await start_echo_server();
    const c = new echo_client(Buffer.from('\n'), s.port);
    const data = Buffer.from('bytes\n');
    c.push(data);
    c.push(new Uint8Array(data)); // bytearray(data)
    c.push(new Uint8Array(data.buffer, data.byteOffset, data.length)); // memoryview(data)
    expect(() => c.push(10 as never)).toThrow(TypeError);
    expect(() => c.push('unicode' as never)).toThrow(TypeError);
    // In the words every bytes argument of the package uses.
    expect(() => c.push('unicode' as never)).toThrow(new TypeError('push(): data must be a Buffer or Uint8Array, not "unicode"'));
    c.push(SERVER_QUIT);
    await loop();
    await s.join();
    expect(texts(c.contents)).toEqual(['bytes', 'bytes', 'bytes']);
  });
});

describe('TestAsynchatMocked', () => {
  it('test_blockingioerror', () => {
    // bpo-16133: handle_read() must ignore BlockingIOError
    const sock = {
      fileno: () => 100_000,
      recv: vi.fn(() => {
        throw new BlockingIOError(EAGAIN);
      }),
      setblocking: () => {},
      close: () => {},
    };

    const dispatcher = new asynchat.async_chat();
    dispatcher.set_socket(sock as unknown as socket);
    try {
      const error = vi.spyOn(dispatcher, 'handle_error').mockImplementation(() => {});
      dispatcher.handle_read();
      expect(sock.recv).toHaveBeenCalled();
      expect(error).not.toHaveBeenCalled();
    } finally {
      dispatcher.del_channel();
    }
  });
});

describe('TestHelperFunctions', () => {
  it('test_find_prefix_at_end', () => {
    expect(asynchat.find_prefix_at_end('qwerty\r', '\r\n')).toBe(1);
    expect(asynchat.find_prefix_at_end('qwertydkjf', '\r\n')).toBe(0);
  });
});

describe('TestNotConnected', () => {
  it('test_disallow_negative_terminator', () => {
    // bpo-11259
    const client = new asynchat.async_chat();
    expect(() => client.set_terminator(-1)).toThrow(RangeError);
  });
});
