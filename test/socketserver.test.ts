// A port of CPython 3.11's Lib/test/test_socketserver.py: every case, in
// its order. Where Python runs the server in a thread and the client
// blocks, here the server runs on the reactor and the client waits with
// this package's select(), in the same process. Forking servers' children
// run test/fixtures/socketserver-child.ts, which makes the same server.
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitNow } from '../src/asyncore';
import * as socketserver from '../src/socketserver';
import {
  BaseRequestHandler,
  DatagramRequestHandler,
  ForkingMixIn,
  ForkingTCPServer,
  ForkingUDPServer,
  ForkingUnixDatagramServer,
  ForkingUnixStreamServer,
  StreamRequestHandler,
  TCPServer,
  ThreadingMixIn,
  ThreadingTCPServer,
  ThreadingUDPServer,
  ThreadingUnixDatagramServer,
  ThreadingUnixStreamServer,
  UDPServer,
  UnixDatagramServer,
  UnixStreamServer,
} from '../src/socketserver';
import type { BaseServer, Request } from '../src/socketserver';
import { SOCK_DGRAM, SOCK_STREAM, socket, IPPROTO_TCP } from '../src/socket';
import type { Address } from '../src/socket';
import { expectNoFdLeaks } from './support';
import {
  AF_INET,
  AF_UNIX,
  HOST,
  TEST_STR,
  running,
  connect,
  pickaddr,
  receive,
  receiveLine,
  removeUnixFiles,
  simpleSubprocess,
  useChildFixture,
} from './socketserver-support';

expectNoFdLeaks();

/** A server class of the tests: the statics a forking class has, when it has them. */
type AnyServerClass = (new (address: Address, handler: never) => BaseServer & { socket: socket }) & {
  prototype: { address_family: number };
  child_module?: string | null;
};

/** What each server class's children run: the fixture's kind for it. */
const childKinds = new Map<unknown, string>([
  [ForkingTCPServer, 'tcp'],
  [ForkingUnixStreamServer, 'unix'],
  [ForkingUDPServer, 'udp'],
  [ForkingUnixDatagramServer, 'unixdgram'],
]);

// Forking cases start Node processes on the TypeScript sources: slow on a loaded machine.
describe('SocketServerTest', { timeout: 90_000 }, () => {
  afterEach(() => removeUnixFiles());

  function makeServer(addr: Address, svrcls: AnyServerClass, hdlrbase: typeof StreamRequestHandler | typeof DatagramRequestHandler) {
    const Base = svrcls as unknown as typeof TCPServer;
    class MyServer extends Base {
      override handle_error(request: Request, client_address: Address, err: unknown): void {
        this.close_request(request);
        throw err;
      }
    }
    const kind = childKinds.get(svrcls);
    if (kind !== undefined) useChildFixture(MyServer as unknown as ForkingTCPServerStatics, kind);
    class MyHandler extends (hdlrbase as typeof StreamRequestHandler) {
      override async handle(): Promise<void> {
        const line = await this.rfile.readline();
        void this.wfile.write(line);
      }
    }
    const server = new MyServer(addr, MyHandler);
    expect(server.server_address).toEqual(server.socket.getsockname());
    return server;
  }

  async function runServer(
    svrcls: AnyServerClass,
    hdlrbase: typeof StreamRequestHandler | typeof DatagramRequestHandler,
    testfunc: (family: number, addr: Address) => Promise<void>,
  ): Promise<void> {
    const family = svrcls.prototype.address_family;
    const server = makeServer(pickaddr(family), svrcls, hdlrbase);
    const addr = server.server_address;
    const serving = server.serve_forever(0.01);
    for (let i = 0; i < 3; i++) await testfunc(family, addr);
    await server.shutdown();
    await serving;
    const forking = server instanceof ForkingMixIn;
    const children = () => (server as unknown as { active_children: Set<number> | null }).active_children;
    const pids = forking ? [...(children() ?? [])] : [];
    if (forking) expect(pids.length).toBeGreaterThan(0);
    await server.server_close();
    expect(server.socket.fileno()).toBe(-1);
    if (forking) {
      // bpo-31151: server_close() waits until every child has ended.
      expect(children()?.size).toBe(0);
      expect(pids.filter(running)).toEqual([]);
    }
  }

  async function streamExamine(family: number, addr: Address): Promise<void> {
    const s = connect(family, addr);
    try {
      s.sendall(TEST_STR);
      expect(await receiveLine(s)).toEqual(TEST_STR);
    } finally {
      s.close();
    }
  }

  async function dgramExamine(family: number, addr: Address): Promise<void> {
    const s = new socket(family, SOCK_DGRAM);
    try {
      if (family === AF_UNIX) s.bind(pickaddr(family));
      s.sendto(TEST_STR, addr);
      expect(await receiveLine(s)).toEqual(TEST_STR);
    } finally {
      s.close();
    }
  }

  /** CPython's simple_subprocess(): a child of the test's own, which the server must leave to it. */
  async function withSimpleSubprocess(body: () => Promise<void>): Promise<void> {
    const exit = simpleSubprocess();
    await body();
    expect(await exit).toBe(72);
  }

  it('test_TCPServer', () => runServer(TCPServer, StreamRequestHandler, streamExamine));
  it('test_ThreadingTCPServer', () => runServer(ThreadingTCPServer, StreamRequestHandler, streamExamine));
  it('test_ForkingTCPServer', () =>
    withSimpleSubprocess(() => runServer(ForkingTCPServer, StreamRequestHandler, streamExamine)));
  it('test_UnixStreamServer', () => runServer(UnixStreamServer, StreamRequestHandler, streamExamine));
  it('test_ThreadingUnixStreamServer', () =>
    runServer(ThreadingUnixStreamServer, StreamRequestHandler, streamExamine));
  it('test_ForkingUnixStreamServer', () =>
    withSimpleSubprocess(() => runServer(ForkingUnixStreamServer, StreamRequestHandler, streamExamine)));
  it('test_UDPServer', () => runServer(UDPServer, DatagramRequestHandler, dgramExamine));
  it('test_ThreadingUDPServer', () => runServer(ThreadingUDPServer, DatagramRequestHandler, dgramExamine));
  it('test_ForkingUDPServer', () =>
    withSimpleSubprocess(() => runServer(ForkingUDPServer, DatagramRequestHandler, dgramExamine)));
  it('test_UnixDatagramServer', () => runServer(UnixDatagramServer, DatagramRequestHandler, dgramExamine));
  it('test_ThreadingUnixDatagramServer', () =>
    runServer(ThreadingUnixDatagramServer, DatagramRequestHandler, dgramExamine));
  it('test_ForkingUnixDatagramServer', () =>
    runServer(ForkingUnixDatagramServer, DatagramRequestHandler, dgramExamine));

  it('test_shutdown: shutdown() always makes serve_forever() return (issue #2302)', async () => {
    class MyServer extends TCPServer {}
    class MyHandler extends StreamRequestHandler {}
    const servers = Array.from({ length: 20 }, () => new MyServer([HOST, 0], MyHandler));
    const serving = servers.map((s) => s.serve_forever(0.01));
    for (const s of servers) await s.shutdown();
    await Promise.all(serving);
    for (const s of servers) await s.server_close();
  });

  it('test_close_immediately', async () => {
    class MyServer extends ThreadingMixIn(TCPServer) {}
    const server = new MyServer([HOST, 0], (() => null) as never);
    await server.server_close();
    expect(server.socket.fileno()).toBe(-1);
  });

  it('test_tcpserver_bind_leak: a failed bind closes the socket (issue #22435)', () => {
    // Python's OverflowError for port -1 is a RangeError here. 1024 failures
    // would run out of fds if each left its socket open.
    for (let i = 0; i < 1024; i++) {
      expect(() => new TCPServer([HOST, -1], StreamRequestHandler)).toThrow(RangeError);
    }
  });

  it('test_context_manager', async () => {
    let server: TCPServer;
    {
      await using s = new TCPServer([HOST, 0], StreamRequestHandler);
      server = s;
    }
    expect(server.socket.fileno()).toBe(-1);
  });
});

type ForkingTCPServerStatics = {
  child_module: string | null;
  child_args: string[] | null;
  child_exec_argv: string[] | null;
};

describe('ErrorHandlerTest', { timeout: 90_000 }, () => {
  const TESTFN = path.join(tmpdir(), `asyncore-socketserver-errors-${process.pid}.log`);
  afterEach(() => rmSync(TESTFN, { force: true }));

  class BadHandler extends BaseRequestHandler {
    override handle(): void {
      appendFileSync(TESTFN, 'Handler called\n');
      throw new (this.server as unknown as { exception: new (message: string) => Error }).exception('Test error');
    }
  }

  /** CPython's BaseErrorTestServer: one connection, one handle_request(), close, then wait_done(). */
  function errorTestServer<T extends typeof TCPServer>(Base: T) {
    return class extends (Base as typeof TCPServer) {
      exception!: new (message: string) => Error;
      override handle_error(): void {
        appendFileSync(TESTFN, 'Error handled\n');
      }
      async run(exception: new (message: string) => Error): Promise<void> {
        this.exception = exception;
        const client = connect(AF_INET, this.server_address);
        client.close();
        try {
          await this.handle_request();
        } finally {
          await this.server_close();
        }
        await this.wait_done();
      }
      wait_done(): Promise<void> {
        return Promise.resolve();
      }
    };
  }

  const BaseErrorTestServer = errorTestServer(TCPServer);

  class ThreadingErrorTestServer extends errorTestServer(ThreadingTCPServer) {
    declare done: Promise<void>;
    declare setDone: () => void;
    override shutdown_request(request: Request): void {
      super.shutdown_request(request);
      this.setDone();
    }
    override wait_done(): Promise<void> {
      return this.done;
    }
  }
  function threadingServer(): ThreadingErrorTestServer {
    const server = new ThreadingErrorTestServer([HOST, 0], BadHandler);
    server.done = new Promise((resolve) => {
      server.setDone = resolve;
    });
    return server;
  }

  function forkingServer(kind: string): InstanceType<ReturnType<typeof errorTestServer>> {
    const Server = class extends errorTestServer(ForkingTCPServer) {};
    useChildFixture(Server as unknown as ForkingTCPServerStatics, kind, TESTFN);
    return new Server([HOST, 0], BadHandler);
  }

  function checkResult(handled: boolean): void {
    expect(readFileSync(TESTFN, 'utf8')).toBe('Handler called\n' + 'Error handled\n'.repeat(handled ? 1 : 0));
  }

  it('test_sync_handled', async () => {
    await new BaseErrorTestServer([HOST, 0], BadHandler).run(RangeError);
    checkResult(true);
  });

  it('test_sync_not_handled: ExitNow (Python: SystemExit) passes handle_error() by', async () => {
    await expect(new BaseErrorTestServer([HOST, 0], BadHandler).run(ExitNow)).rejects.toBeInstanceOf(ExitNow);
    checkResult(false);
  });

  it('test_threading_handled', async () => {
    await threadingServer().run(RangeError);
    checkResult(true);
  });

  it('test_threading_not_handled', async () => {
    await threadingServer().run(ExitNow);
    checkResult(false);
  });

  it('test_forking_handled', async () => {
    await forkingServer('error-value').run(RangeError);
    checkResult(true);
  });

  it('test_forking_not_handled', async () => {
    await forkingServer('error-exit').run(ExitNow);
    checkResult(false);
  });
});

describe('SocketWriterTest', () => {
  it('test_basics', async () => {
    class Handler extends StreamRequestHandler<TCPServer & Record<string, unknown>> {
      override handle(): void {
        this.server.wfile = this.wfile;
        this.server.wfile_fileno = this.wfile.fileno();
        this.server.request_fileno = this.request.fileno();
      }
    }
    const server = new TCPServer([HOST, 0], Handler) as TCPServer & Record<string, unknown>;
    try {
      const s = new socket(server.address_family, SOCK_STREAM, IPPROTO_TCP);
      s.connect(server.server_address);
      s.close();
      await server.handle_request();
      const wfile = server.wfile as { write: unknown; flush: unknown; writelines: unknown };
      expect(typeof wfile.write).toBe('function');
      expect(typeof wfile.flush).toBe('function');
      expect(typeof wfile.writelines).toBe('function');
      expect(server.wfile_fileno).toBe(server.request_fileno);
    } finally {
      await server.server_close();
    }
  });

  it('test_write: writes go out at once, whole, even when signals arrive meanwhile', async () => {
    const SOCK_MAX_SIZE = 16 * 1024 * 1024;
    class Handler extends StreamRequestHandler<TCPServer & Record<string, unknown>> {
      override async handle(): Promise<void> {
        this.server.sent1 = await this.wfile.write(Buffer.from('write data\n'));
        // Sent at once, without flush().
        this.server.received = await this.rfile.readline();
        const bigChunk = Buffer.alloc(SOCK_MAX_SIZE);
        this.server.sent2 = await this.wfile.write(bigChunk);
      }
    }
    const server = new TCPServer([HOST, 0], Handler) as TCPServer & Record<string, unknown>;
    let interrupted = false;
    const onSignal = (): void => {
      interrupted = true;
    };
    process.on('SIGUSR1', onSignal);
    try {
      const runClient = async (): Promise<[Buffer, number]> => {
        const s = new socket(server.address_family, SOCK_STREAM, IPPROTO_TCP);
        try {
          s.connect(server.server_address);
          const response1 = await receiveLine(s);
          s.sendall(Buffer.from('client response\n'));
          let first = 0;
          while (first < 100) first += (await receive(s, 100 - first)).length;
          // The server now waits for room to send; signals must not cut its send short.
          while (!interrupted) {
            process.kill(process.pid, 'SIGUSR1');
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          let received2 = 0;
          for (;;) {
            const data = await receive(s, 1 << 20);
            if (data.length === 0) break;
            received2 += data.length;
          }
          return [response1, received2];
        } finally {
          s.close();
        }
      };
      const client = runClient();
      await server.handle_request();
      const [response1, received2] = await client;
      expect(server.sent1).toBe(response1.length);
      expect(response1).toEqual(Buffer.from('write data\n'));
      expect(server.received).toEqual(Buffer.from('client response\n'));
      expect(server.sent2).toBe(SOCK_MAX_SIZE);
      expect(received2).toBe(SOCK_MAX_SIZE - 100);
    } finally {
      process.off('SIGUSR1', onSignal);
      await server.server_close();
    }
  });
});

describe('MiscTestCase', () => {
  it('test_all: the classes the module exports are those of __all__', () => {
    const expected = Object.entries(socketserver)
      .filter(([, value]) => typeof value === 'function')
      .map(([name]) => name);
    expect([...socketserver.__all__].sort()).toEqual(expected.sort());
  });

  it('test_shutdown_request_called_if_verify_request_false (issue #26309)', async () => {
    class MyServer extends TCPServer {
      shutdown_called = 0;
      override verify_request(): boolean {
        return false;
      }
      override shutdown_request(request: Request): void {
        this.shutdown_called += 1;
        super.shutdown_request(request);
      }
    }
    const server = new MyServer([HOST, 0], StreamRequestHandler);
    const s = new socket(server.address_family, SOCK_STREAM);
    s.connect(server.server_address);
    s.close();
    await server.handle_request();
    expect(server.shutdown_called).toBe(1);
    await server.server_close();
  });

  it('test_threads_reaped: finished request tasks are not kept (issue #37193)', async () => {
    class MyServer extends ThreadingMixIn(TCPServer) {}
    const server = new MyServer([HOST, 0], StreamRequestHandler);
    for (let n = 0; n < 10; n++) {
      const s = connect(AF_INET, server.server_address);
      await server.handle_request();
      s.close();
    }
    expect((server as unknown as { _threads: { length: number } })._threads.length).toBeLessThan(10);
    await server.server_close();
  });
});
