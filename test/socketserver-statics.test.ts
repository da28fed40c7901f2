// Python's class attributes are statics: `class S(TCPServer):
// allow_reuse_address = True` is `static allow_reuse_address = true`. An
// instance reads the nearest class's value, an assignment on the instance
// overrides it, and the field spelling, which would come after the
// constructor has bound the socket, is refused: by tsc, and in plain
// JavaScript at the first serve_forever() or handle_request() (tsc's
// side: socketserver-types.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import {
  DatagramRequestHandler,
  StreamRequestHandler,
  TCPServer,
  ThreadingTCPServer,
  UDPServer,
} from '../src/socketserver';
import {
  AF_INET6,
  IPPROTO_TCP,
  SO_REUSEADDR,
  SOCK_DGRAM,
  SOL_SOCKET,
  TCP_NODELAY,
  socket,
} from '../src/socket';
import { expectNoFdLeaks, sleep } from './support';
import { AF_INET, HOST, connect, receiveAll } from './socketserver-support';

expectNoFdLeaks();

const closing: TCPServer[] = [];
afterEach(async () => {
  for (const server of closing.splice(0)) await server.server_close();
});

/** Keeps server to be closed after the test. */
function kept<S extends TCPServer>(server: S): S {
  closing.push(server);
  return server;
}

class Nothing extends StreamRequestHandler {
  override handle(): void {}
}

function reuseAddr(server: TCPServer): number {
  return server.socket.getsockopt(SOL_SOCKET, SO_REUSEADDR);
}

/** One request served: the client connects, reads until the server closes, then closes too. */
async function serveOne(server: TCPServer, family = AF_INET): Promise<Buffer> {
  const client = connect(family, server.server_address);
  try {
    const [reply] = await Promise.all([receiveAll(client), server.handle_request()]);
    return reply;
  } finally {
    client.close();
  }
}

describe('server class attributes are statics', () => {
  it('static allow_reuse_address = true sets SO_REUSEADDR (getsockopt), and the default does not', () => {
    class Reusing extends TCPServer {
      static override allow_reuse_address = true;
    }
    expect(reuseAddr(kept(new Reusing([HOST, 0], Nothing)))).not.toBe(0);
    expect(reuseAddr(kept(new TCPServer([HOST, 0], Nothing)))).toBe(0);
  });

  it('a restart on a port left in TIME_WAIT succeeds with static allow_reuse_address, and fails without it', async () => {
    class Reusing extends TCPServer {
      static override allow_reuse_address = true;
    }
    const first = new Reusing([HOST, 0], Nothing);
    const port = (first.server_address as [string, number])[1];
    try {
      // The server closes first (shutdown_request()), then the client: the
      // server's side of the connection is left in TIME_WAIT on the port.
      await serveOne(first);
    } finally {
      await first.server_close();
    }
    expect(() => new TCPServer([HOST, port], Nothing)).toThrow(/Address already in use/);
    const second = kept(new Reusing([HOST, port], Nothing));
    expect(second.server_address).toEqual([HOST, port]);
  });

  it('static address_family = AF_INET6 serves on ::1', async () => {
    class Server6 extends TCPServer {
      static override address_family = AF_INET6;
    }
    class Hello extends StreamRequestHandler {
      override async handle(): Promise<void> {
        await this.wfile.write(Buffer.from('hello over IPv6'));
      }
    }
    const server = kept(new Server6(['::1', 0], Hello));
    expect(server.socket.family).toBe(AF_INET6);
    expect((server.server_address as unknown[])[0]).toBe('::1');
    expect((await serveOne(server, AF_INET6)).toString()).toBe('hello over IPv6');
  });

  it('static request_queue_size and max_packet_size are what listen() and recvfrom() get', async () => {
    class Datagrams extends UDPServer {
      static override max_packet_size = 4;
    }
    let packet: Buffer | null = null;
    class Keep extends DatagramRequestHandler {
      override handle(): void {
        packet = this.packet;
      }
    }
    const server = kept(new Datagrams([HOST, 0], Keep));
    expect(server.socket.type).toBe(SOCK_DGRAM);
    const client = new socket(AF_INET, SOCK_DGRAM);
    try {
      client.sendto(Buffer.from('abcdefgh'), server.server_address);
      await server.handle_request();
    } finally {
      client.close();
    }
    expect(packet!.toString()).toBe('abcd');
  });

  it('the nearest subclass wins, and an instance assignment wins over every class', () => {
    class A extends TCPServer {
      static override timeout: number | null = 7;
    }
    class B extends A {
      static override timeout: number | null = 3;
    }
    class C extends B {}
    const a = kept(new A([HOST, 0], Nothing));
    const c = kept(new C([HOST, 0], Nothing));
    expect([a.timeout, c.timeout]).toEqual([7, 3]);
    c.timeout = 0.5;
    expect([a.timeout, c.timeout, C.timeout, B.timeout]).toEqual([7, 0.5, 3, 3]);
    class Daemons extends ThreadingTCPServer {
      static override daemon_threads = true;
    }
    const d = kept(new Daemons([HOST, 0], Nothing));
    expect([d.daemon_threads, d.block_on_close]).toEqual([true, true]);
    d.block_on_close = false;
    expect([d.block_on_close, Daemons.block_on_close]).toEqual([false, true]);
  });

  it('an assignment before server_bind() (bind_and_activate false) overrides the static for that server only', () => {
    class Reusing extends TCPServer {
      static override allow_reuse_address = true;
    }
    const plain = kept(new Reusing([HOST, 0], Nothing, false));
    const off = kept(new Reusing([HOST, 0], Nothing, false));
    off.allow_reuse_address = false;
    plain.server_bind();
    off.server_bind();
    expect(reuseAddr(plain)).not.toBe(0);
    expect(reuseAddr(off)).toBe(0);
  });

  it('Server.prototype.x = v (the spelling before statics) sets the static of that class only', () => {
    class Old extends TCPServer {}
    Old.prototype.request_queue_size = 77;
    expect(Old.request_queue_size).toBe(77);
    expect(TCPServer.request_queue_size).toBe(5);
    expect(kept(new Old([HOST, 0], Nothing)).request_queue_size).toBe(77);
  });

  it("a handler's statics are what setup() applies: timeout, disable_nagle_algorithm", async () => {
    const seen: number[] = [];
    class Tuned extends StreamRequestHandler {
      static override timeout: number | null = 5;
      static override disable_nagle_algorithm = true;
      override handle(): void {
        seen.push(this.connection.gettimeout()!, this.connection.getsockopt(IPPROTO_TCP, TCP_NODELAY));
      }
    }
    await serveOne(kept(new TCPServer([HOST, 0], Tuned)));
    expect(seen[0]).toBe(5);
    expect(seen[1]).not.toBe(0);
  });
});

describe('the field spelling in plain JavaScript', () => {
  /** A subclass with a class field, made by V8 from JavaScript source (fields define own properties). */
  function withField<T>(Base: T, field: string): T {
    return new Function('Base', `return class FieldServer extends Base { ${field}; }`)(Base) as T;
  }

  it('a field the constructor already used: serve_forever() and handle_request() throw, naming the static form', async () => {
    const FieldServer = withField(TCPServer, 'allow_reuse_address = true');
    const server = kept(new FieldServer([HOST, 0], Nothing));
    const message =
      /FieldServer\.serve_forever\(\): allow_reuse_address is an instance field \(true\).*static allow_reuse_address = true/;
    await expect(server.serve_forever(0.01)).rejects.toThrow(TypeError);
    await expect(server.serve_forever(0.01)).rejects.toThrow(message);
    await expect(server.handle_request()).rejects.toThrow(/FieldServer\.handle_request\(\): allow_reuse_address/);
    const Family = withField(TCPServer, 'address_family = 10');
    await expect(kept(new Family([HOST, 0], Nothing)).handle_request()).rejects.toThrow(/static address_family = 10/);
  });

  it('with bind_and_activate false the field comes before server_bind(), which uses it: no error', async () => {
    const FieldServer = withField(TCPServer, 'allow_reuse_address = true');
    const server = kept(new FieldServer([HOST, 0], Nothing, false));
    server.server_bind();
    server.server_activate();
    expect(reuseAddr(server)).not.toBe(0);
    expect((await serveOne(server)).length).toBe(0);
  });

  it('a field the constructor does not use (timeout) works as an instance value', async () => {
    const FieldServer = withField(TCPServer, 'timeout = 0.01');
    let timedOut = 0;
    const server = kept(new FieldServer([HOST, 0], Nothing));
    server.handle_timeout = () => void timedOut++;
    await server.handle_request();
    expect(timedOut).toBe(1);
    // The pump gives its epoll fd back a few turns after its last wait ended.
    await sleep(50);
  });
});
