// What the port of CPython's suite does not reach: rfile and wfile in
// detail, the settings and hooks of the servers, and every bad argument.
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BaseRequestHandler,
  BaseServer,
  DatagramRequestHandler,
  ForkingTCPServer,
  StreamRequestHandler,
  TCPServer,
  ThreadingTCPServer,
  UDPServer,
} from '../src/socketserver';
import type { Request } from '../src/socketserver';
import {
  IPPROTO_TCP,
  SHUT_WR,
  SOCK_DGRAM,
  SOL_SOCKET,
  SO_REUSEADDR,
  SO_REUSEPORT,
  TCP_NODELAY,
  TimeoutError,
  socket,
} from '../src/socket';
import type { Address } from '../src/socket';
import { expectNoFdLeaks } from './support';
import { AF_INET, HOST, connect, receive, receiveAll, receiveLine, removeUnixFiles } from './socketserver-support';

expectNoFdLeaks();
afterEach(() => removeUnixFiles());

type Recorder = TCPServer & { seen: unknown[]; errors: unknown[] };

/** A TCPServer whose handler runs `body`; errors are recorded, not printed. */
function serverWith(body: (h: StreamRequestHandler<Recorder>) => Promise<void> | void, Base = TCPServer): Recorder {
  class Handler extends StreamRequestHandler<Recorder> {
    override async handle(): Promise<void> {
      await body(this);
    }
  }
  class Server extends Base {
    seen: unknown[] = [];
    errors: unknown[] = [];
    override handle_error(_request: Request, _address: Address, err: unknown): void {
      this.errors.push(err);
    }
  }
  return new Server([HOST, 0], Handler) as Recorder;
}

/** Connects, sends `data` (then shuts down writing when `end`), serves one request, and returns all the reply. */
async function exchange(server: TCPServer, data: string, end = true): Promise<Buffer> {
  const client = connect(AF_INET, server.server_address);
  try {
    client.sendall(Buffer.from(data));
    if (end) client.shutdown(SHUT_WR);
    const [reply] = await Promise.all([receiveAll(client), server.handle_request()]);
    return reply;
  } finally {
    client.close();
  }
}

describe('StreamRequestHandler.rfile', () => {
  it('readline(), readline(limit), read(n), read() to end of stream', async () => {
    const server = serverWith(async (h) => {
      h.server.seen.push(await h.rfile.readline());
      h.server.seen.push(await h.rfile.readline(3));
      h.server.seen.push(await h.rfile.readline(100));
      h.server.seen.push(await h.rfile.read(4));
      h.server.seen.push(await h.rfile.read(0));
      h.server.seen.push(await h.rfile.read());
      h.server.seen.push(await h.rfile.readline());
      h.server.seen.push(await h.rfile.read(5));
    });
    try {
      await exchange(server, 'first\nsecond\nthird and the rest');
      expect(server.seen.map(String)).toEqual(['first\n', 'sec', 'ond\n', 'thir', '', 'd and the rest', '', '']);
      expect(server.errors).toEqual([]);
    } finally {
      await server.server_close();
    }
  });

  it('readlines(), readlines(hint) and for await over lines', async () => {
    const server = serverWith(async (h) => {
      h.server.seen.push((await h.rfile.readlines(3)).map(String));
      const lines: string[] = [];
      for await (const line of h.rfile) lines.push(String(line));
      h.server.seen.push(lines);
      h.server.seen.push(await h.rfile.readlines());
    });
    try {
      await exchange(server, 'a\nbb\nccc\ndddd');
      expect(server.seen).toEqual([['a\n', 'bb\n'], ['ccc\n', 'dddd'], []]);
    } finally {
      await server.server_close();
    }
  });

  it('lines from separate reads are buffers of their own: later reads do not write over them', async () => {
    const sent = ['one\n', 'twenty-two\n', `${'x'.repeat(70000)}\n`, 'one\n', 'end\n'];
    const server = serverWith(async (h) => {
      const kept: Buffer[] = [];
      for await (const line of h.rfile) {
        kept.push(line);
        await h.wfile.write(Buffer.from('ok\n'));
      }
      h.server.seen.push(kept.map(String));
    });
    const client = connect(AF_INET, server.server_address);
    try {
      const served = server.handle_request();
      // One line per read: the next is sent only once the handler has this one.
      for (const line of sent) {
        client.sendall(Buffer.from(line));
        expect(String(await receiveLine(client))).toBe('ok\n');
      }
      client.shutdown(SHUT_WR);
      await served;
      expect(server.seen).toEqual([sent]);
    } finally {
      client.close();
      await server.server_close();
    }
  });

  it('rbufsize 0 reads no byte past the line, so the socket still has the rest', async () => {
    const server = serverWith(async (h) => {
      h.server.seen.push(String(await h.rfile.readline()));
      h.server.seen.push(String(h.request.recv(100)));
    });
    (server.RequestHandlerClass.prototype as StreamRequestHandler).rbufsize = 0;
    try {
      await exchange(server, 'line\nrest');
      expect(server.seen).toEqual(['line\n', 'rest']);
    } finally {
      await server.server_close();
    }
  });

  it('rbufsize n > 0 reads in chunks of n and gives the same lines', async () => {
    const server = serverWith(async (h) => {
      h.server.seen.push((await h.rfile.readlines()).map(String));
    });
    (server.RequestHandlerClass.prototype as StreamRequestHandler).rbufsize = 2;
    try {
      await exchange(server, 'abc\ndefgh\ni');
      expect(server.seen).toEqual([['abc\n', 'defgh\n', 'i']]);
    } finally {
      await server.server_close();
    }
  });

  it('a read that waits longer than the handler timeout fails with TimeoutError', async () => {
    const server = serverWith(async (h) => {
      await h.rfile.readline();
    });
    (server.RequestHandlerClass.prototype as StreamRequestHandler).timeout = 0.05;
    try {
      await exchange(server, 'no newline', false);
      expect(server.errors).toHaveLength(1);
      expect(server.errors[0]).toBeInstanceOf(TimeoutError);
      expect((server.errors[0] as Error).message).toBe('timed out');
    } finally {
      await server.server_close();
    }
  });

  it('reads after close() and bad sizes are errors that name the call', async () => {
    const server = serverWith(async (h) => {
      await expect(h.rfile.readline('x' as never)).rejects.toThrow(/readline\(\): size must be an integer/);
      await expect(h.rfile.read(1.5)).rejects.toThrow(TypeError);
      await expect(h.rfile.readlines('x' as never)).rejects.toThrow(TypeError);
      h.rfile.close();
      await expect(h.rfile.read()).rejects.toThrow(/I\/O operation on closed file/);
      await expect(h.rfile.readline()).rejects.toThrow(RangeError);
      expect(() => h.rfile.readable()).toThrow(RangeError);
      h.server.seen.push('checked');
    });
    try {
      await exchange(server, 'x\n');
      expect(server.errors).toEqual([]);
      expect(server.seen).toEqual(['checked']);
    } finally {
      await server.server_close();
    }
  });
});

describe('StreamRequestHandler.wfile', () => {
  it('writes that are not awaited go out in order before the request is closed', async () => {
    const server = serverWith((h) => {
      for (let i = 0; i < 200; i++) void h.wfile.write(Buffer.from(`${i},`));
      void h.wfile.write(Buffer.alloc(1 << 20, 120));
      void h.wfile.writelines([Buffer.from('end'), Buffer.from('!')]);
    });
    try {
      const reply = await exchange(server, '');
      const text = reply.toString();
      expect(text.startsWith(Array.from({ length: 200 }, (_, i) => `${i},`).join(''))).toBe(true);
      expect(text.endsWith('end!')).toBe(true);
      expect(reply.length).toBe(Array.from({ length: 200 }, (_, i) => `${i},`).join('').length + (1 << 20) + 4);
    } finally {
      await server.server_close();
    }
  });

  it('wbufsize > 0 gathers writes until flush() or finish()', async () => {
    let client: socket | null = null;
    const server = serverWith(async (h) => {
      expect(await h.wfile.write(Buffer.from('abc'))).toBe(3);
      h.request.setblocking(false);
      // Nothing was sent yet: the peer has nothing to read.
      client!.setblocking(false);
      expect(() => client!.recv(10)).toThrow(/EAGAIN|Resource temporarily/);
      client!.setblocking(true);
      await h.wfile.flush();
      h.server.seen.push(String(await receive(client!, 10)));
      void h.wfile.write(Buffer.from('def'));
    });
    (server.RequestHandlerClass.prototype as StreamRequestHandler).wbufsize = 1024;
    try {
      client = connect(AF_INET, server.server_address);
      client.shutdown(SHUT_WR);
      await server.handle_request();
      expect(server.errors).toEqual([]);
      expect(server.seen).toEqual(['abc']);
      expect(String(await receiveAll(client))).toBe('def');
    } finally {
      client?.close();
      await server.server_close();
    }
  });

  it('a write to a peer that is gone rejects (and is never an unhandled rejection); finish() ignores it', async () => {
    let client: socket | null = null;
    const server = serverWith(async (h) => {
      client!.close();
      await new Promise((resolve) => setTimeout(resolve, 20));
      let failure: unknown = null;
      for (let i = 0; i < 50 && failure === null; i++) {
        void h.wfile.write(Buffer.alloc(65536));
        await h.wfile.write(Buffer.alloc(1)).catch((err: unknown) => {
          failure = err;
        });
      }
      h.server.seen.push((failure as { code?: string } | null)?.code);
      void h.wfile.write(Buffer.from('after'));
    });
    try {
      client = connect(AF_INET, server.server_address);
      await server.handle_request();
      expect(server.errors).toEqual([]);
      expect(['EPIPE', 'ECONNRESET']).toContain(server.seen[0]);
    } finally {
      await server.server_close();
    }
  });

  it('bad writes and writes after close() are errors that name the call', async () => {
    const server = serverWith(async (h) => {
      await expect(h.wfile.write('text' as never)).rejects.toThrow(/write\(\): argument must be bytes/);
      h.wfile.close();
      await expect(h.wfile.write(Buffer.from('x'))).rejects.toThrow(/closed file/);
      await expect(h.wfile.flush()).rejects.toThrow(RangeError);
      expect(() => h.wfile.writable()).toThrow(RangeError);
      h.server.seen.push('checked');
    });
    try {
      await exchange(server, '');
      expect(server.errors).toEqual([]);
      expect(server.seen).toEqual(['checked']);
    } finally {
      await server.server_close();
    }
  });

  it('disable_nagle_algorithm sets TCP_NODELAY; timeout is set on the connection', async () => {
    const server = serverWith((h) => {
      h.server.seen.push(h.connection.getsockopt(IPPROTO_TCP, TCP_NODELAY) !== 0, h.connection.gettimeout());
    });
    const proto = server.RequestHandlerClass.prototype as StreamRequestHandler;
    proto.disable_nagle_algorithm = true;
    proto.timeout = 5;
    try {
      await exchange(server, '');
      expect(server.seen).toEqual([true, 5]);
    } finally {
      await server.server_close();
    }
  });
});

describe('DatagramRequestHandler', () => {
  it('reads the datagram from rfile and sends what wfile gathered as one reply', async () => {
    class Handler extends DatagramRequestHandler {
      override async handle(): Promise<void> {
        const lines = await this.rfile.readlines();
        await this.wfile.writelines(lines.reverse());
        await this.wfile.flush();
      }
    }
    const server = new UDPServer([HOST, 0], Handler);
    const client = new socket(AF_INET, SOCK_DGRAM);
    try {
      client.sendto(Buffer.from('one\ntwo\n'), server.server_address);
      await server.handle_request();
      expect(String(await receive(client, 100))).toBe('two\none\n');
      const wfile = new Handler([Buffer.from(''), client], ['127.0.0.1', 1], server);
      wfile.setup();
      await expect(wfile.wfile.write(3 as never)).rejects.toThrow(TypeError);
      wfile.wfile.close();
      await expect(wfile.wfile.write(Buffer.from('x'))).rejects.toThrow(RangeError);
      expect(() => wfile.rfile.fileno()).toThrow(RangeError);
    } finally {
      client.close();
      await server.server_close();
    }
  });
});

describe('servers', () => {
  it('bind_and_activate=false leaves binding to the caller; allow_reuse_address/port set their options first', async () => {
    class Server extends TCPServer {}
    Server.prototype.allow_reuse_address = true;
    Server.prototype.allow_reuse_port = true;
    Server.prototype.request_queue_size = 77;
    const server = new Server([HOST, 0], StreamRequestHandler, false);
    try {
      expect(server.socket.getsockname()).toEqual(['0.0.0.0', 0]);
      server.server_bind();
      server.server_activate();
      expect(server.socket.getsockopt(SOL_SOCKET, SO_REUSEADDR)).not.toBe(0);
      expect(server.socket.getsockopt(SOL_SOCKET, SO_REUSEPORT)).not.toBe(0);
      const port = (server.server_address as [string, number])[1];
      expect(port).toBeGreaterThan(0);
      // ss shows a listening socket's backlog as its Send-Q.
      const ss = spawnSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
      if (ss.status === 0) expect(ss.stdout.trim().split(/\s+/)[2]).toBe('77');
    } finally {
      await server.server_close();
    }
    const plain = new TCPServer([HOST, 0], StreamRequestHandler);
    expect(plain.socket.getsockopt(SOL_SOCKET, SO_REUSEADDR)).toBe(0);
    await plain.server_close();
  });

  it('handle_request() calls handle_timeout() after timeout; the socket timeout wins when shorter', async () => {
    class Server extends TCPServer {
      timeouts = 0;
      override handle_timeout(): void {
        this.timeouts += 1;
      }
    }
    const server = new Server([HOST, 0], StreamRequestHandler);
    try {
      server.timeout = 0.02;
      await server.handle_request();
      server.timeout = 30;
      server.socket.settimeout(0.02);
      await server.handle_request();
      expect(server.timeouts).toBe(2);
    } finally {
      await server.server_close();
    }
  });

  it('serve_forever() calls service_actions() on every turn and stops on shutdown()', async () => {
    class Server extends TCPServer {
      actions = 0;
      override service_actions(): void {
        this.actions += 1;
      }
    }
    const server = new Server([HOST, 0], StreamRequestHandler);
    try {
      const serving = server.serve_forever(0.005);
      while (server.actions < 3) await new Promise((resolve) => setTimeout(resolve, 5));
      await server.shutdown();
      await serving;
      // A shutdown() with nothing serving makes the next serve_forever() return at once, as in Python.
      await server.shutdown();
      const before = server.actions;
      await server.serve_forever(10);
      expect(server.actions).toBe(before);
    } finally {
      await server.server_close();
    }
  });

  it('an error thrown by a hook of serve_forever() rejects it and ends the loop', async () => {
    class Server extends TCPServer {
      override service_actions(): void {
        throw new Error('service failed');
      }
    }
    const server = new Server([HOST, 0], StreamRequestHandler);
    await expect(server.serve_forever(0.001)).rejects.toThrow('service failed');
    await server.server_close();
  });

  it('default handle_error() prints Python\'s report on stderr and the server goes on', async () => {
    class Handler extends BaseRequestHandler {
      override handle(): void {
        throw new RangeError('boom');
      }
    }
    const server = new TCPServer([HOST, 0], Handler);
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      const client = connect(AF_INET, server.server_address);
      await server.handle_request();
      client.close();
    } finally {
      process.stderr.write = original;
      await server.server_close();
    }
    const text = written.join('');
    expect(text).toMatch(/^-{40}\nException occurred during processing of request from \('127\.0\.0\.1', \d+\)\nRangeError: boom\n/);
    expect(text.endsWith(`${'-'.repeat(40)}\n`)).toBe(true);
  });

  it('bad arguments are TypeError or RangeError naming them', async () => {
    expect(() => new TCPServer([HOST, 0], 'handler' as never)).toThrow(/TCPServer\(\): RequestHandlerClass must be a class/);
    expect(() => new TCPServer([HOST, 0], StreamRequestHandler, 1 as never)).toThrow(
      /bind_and_activate must be a boolean/,
    );
    const server = new TCPServer([HOST, 0], StreamRequestHandler);
    await expect(server.serve_forever('1' as never)).rejects.toThrow(/poll_interval must be a number/);
    await expect(server.serve_forever(-1)).rejects.toThrow(RangeError);
    await server.server_close();
    const base = new BaseServer([HOST, 0], StreamRequestHandler);
    expect(() => base.fileno()).toThrow(/a BaseServer has no socket/);
    expect(() => base.get_request()).toThrow(TypeError);
    await base.server_close();
    class Forking extends ForkingTCPServer {}
    Forking.child_module = '';
    Forking.prototype.max_children = 1;
    const forking = new Forking([HOST, 0], StreamRequestHandler);
    const client = connect(AF_INET, forking.server_address);
    const errors: unknown[] = [];
    forking.handle_error = (_r, _a, err) => {
      errors.push(err);
    };
    await forking.handle_request();
    client.close();
    expect(String(errors[0])).toMatch(/child_module must name a module/);
    Forking.child_module = __filename;
    Forking.child_args = [3] as never;
    const client2 = connect(AF_INET, forking.server_address);
    await forking.handle_request();
    client2.close();
    expect(String(errors[1])).toMatch(/child_args must be an array of strings/);
    await forking.server_close();
  });

  it('await using closes a threading server and waits for its requests', async () => {
    let finished = false;
    let server: TCPServer;
    let client: socket;
    {
      await using s = serverWith(async (h) => {
        await h.rfile.readline();
        await new Promise((resolve) => setTimeout(resolve, 50));
        finished = true;
      }, ThreadingTCPServer);
      server = s;
      client = connect(AF_INET, s.server_address);
      client.sendall(Buffer.from('x\n'));
      await s.handle_request();
      expect(finished).toBe(false);
    }
    expect(finished).toBe(true);
    expect(server.socket.fileno()).toBe(-1);
    expect((await receiveLine(client)).length).toBe(0);
    client.close();
  });

  it('daemon_threads: server_close() does not wait for the requests', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const server = serverWith(async () => {
      await gate;
    }, ThreadingTCPServer) as unknown as ThreadingTCPServer;
    server.daemon_threads = true;
    const client = connect(AF_INET, server.server_address);
    await server.handle_request();
    await server.server_close();
    release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    client.close();
  });
});
