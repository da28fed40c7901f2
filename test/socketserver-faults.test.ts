// Faults: children killed mid-request, the parent killed by SIGKILL,
// handlers that throw, handlers that never read, a thousand connections at
// once, and a client that reads one byte a second. Each test counts the
// fds, threads and child processes before and after.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { _closeIdlePollers, select } from '../src/select';
import { SOL_SOCKET, SO_RCVBUF, TimeoutError, socket } from '../src/socket';
import type { Address } from '../src/socket';
import { ForkingTCPServer, StreamRequestHandler, TCPServer, ThreadingTCPServer } from '../src/socketserver';
import type { BaseServer, Request } from '../src/socketserver';
import { openFds, sleep, TIMEOUT_MULTIPLIER, waitFor } from './support';
import {
  AF_INET,
  HOST,
  childPids,
  connect,
  receive,
  receiveAll,
  receiveLine,
  TSX,
  root,
  running,
  threadCount,
  useChildFixture,
} from './socketserver-support';

type Statics = { child_module: string | null; child_args: string[] | null; child_exec_argv: string[] | null };

let before: { fds: number[]; threads: number; children: number[] };

beforeEach(async () => {
  _closeIdlePollers();
  await sleep(0);
  before = { fds: openFds(), threads: threadCount(), children: childPids() };
});

afterEach(async () => {
  _closeIdlePollers();
  // The reactor gives its fds back at the end of the turn it goes idle in.
  await waitFor(() => openFds().length <= before.fds.length, 5000).catch(() => {});
  expect(openFds()).toEqual(before.fds);
  expect(threadCount()).toBeLessThanOrEqual(before.threads);
  expect(childPids()).toEqual(before.children);
});

/** Echoes one line. */
class Echo extends StreamRequestHandler {
  override async handle(): Promise<void> {
    await this.wfile.write(await this.rfile.readline());
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- TypeScript's rule for mix-ins (TS2545)
type MixinBase = new (...args: any[]) => BaseServer;

/** Records handle_error() instead of printing. */
function recording<T extends MixinBase>(Base: T) {
  return class extends Base {
    errors: unknown[] = [];
    override handle_error(_request: Request, _address: Address, err: unknown): void {
      this.errors.push(err);
    }
  };
}

/** One line to the server and its answer, over Node's net (so that many can wait at once). */
function echoOnce(address: Address, line: string): Promise<string> {
  const [host, port] = address as [string, number];
  return new Promise((resolve, reject) => {
    let text = '';
    const client = net.connect(port, host, () => client.write(line));
    client.on('data', (data) => {
      text += data;
    });
    client.on('end', () => {
      client.destroy();
      resolve(text);
    });
    client.on('error', reject);
  });
}

// Children start a Node process with the TypeScript sources each: slow on a loaded machine.
describe('ForkingMixIn children', { timeout: 90_000 }, () => {
  it('a child killed mid-request loses only that request: handle_error() hears of it and the server goes on', async () => {
    const Server = class extends recording(ForkingTCPServer) {};
    useChildFixture(Server as unknown as Statics, 'pid');
    const server = new Server([HOST, 0], StreamRequestHandler);
    const serving = server.serve_forever(0.01);
    try {
      const victim = connect(AF_INET, server.server_address);
      const pid = Number(String(await receiveLine(victim)));
      expect(running(pid)).toBe(true);
      process.kill(pid, 'SIGKILL');
      // The child held the only copy of the connection: the client sees it end.
      expect((await receiveAll(victim)).length).toBe(0);
      victim.close();
      await waitFor(() => server.errors.length === 1, 10_000);
      expect(String(server.errors[0])).toMatch(new RegExp(`child process ${pid} was killed by SIGKILL while serving`));
      // The next request gets a new child, and is served whole.
      const next = connect(AF_INET, server.server_address);
      const other = Number(String(await receiveLine(next)));
      expect(other).not.toBe(pid);
      next.sendall(Buffer.from('still here\n'));
      expect(String(await receiveLine(next))).toBe('still here\n');
      next.close();
    } finally {
      await server.shutdown();
      await serving;
      await server.server_close();
    }
    expect(server.errors).toHaveLength(1);
  });

  it('children are reused, at most max_children at once, one request each at a time', async () => {
    const Server = class extends recording(ForkingTCPServer) {};
    useChildFixture(Server as unknown as Statics, 'pid');
    Server.prototype.max_children = 2;
    const server = new Server([HOST, 0], StreamRequestHandler);
    const serving = server.serve_forever(0.01);
    try {
      const first = [connect(AF_INET, server.server_address), connect(AF_INET, server.server_address)];
      const pids = await Promise.all(first.map(async (c) => Number(String(await receiveLine(c)))));
      expect(new Set(pids).size).toBe(2);
      // Both children are busy: a third connection waits for one of them.
      const third = connect(AF_INET, server.server_address);
      const [r] = await select([third], [], [], 0.3);
      expect(r).toEqual([]);
      first[0].close();
      const pid3 = Number(String(await receiveLine(third)));
      expect(pid3).toBe(pids[0]);
      expect([...(server.active_children ?? [])].sort()).toEqual([...pids].sort());
      first[1].close();
      third.close();
    } finally {
      await server.shutdown();
      await serving;
      await server.server_close();
    }
    expect(server.errors).toEqual([]);
    expect(server.active_children?.size).toBe(0);
  });

  it('SIGKILL of the parent: no child is left 2 s later', async () => {
    const parent = spawn(process.execPath, [...TSX, path.join(root, 'test', 'fixtures', 'socketserver-parent.ts')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const parentExit = new Promise((resolve) => parent.once('exit', resolve));
    let clients: net.Socket[] = [];
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let text = '';
        parent.stdout!.on('data', (chunk: Buffer) => {
          text += chunk;
          if (text.includes('\n')) resolve(Number(text.trim()));
        });
        parent.once('exit', () => reject(new Error('the parent program ended before it listened')));
      });
      // Two requests at once: two children, both serving.
      const pids = await Promise.all(
        [0, 1].map(
          () =>
            new Promise<number>((resolve, reject) => {
              const c = net.connect(port, HOST);
              clients.push(c);
              c.once('data', (d) => resolve(Number(String(d).trim())));
              c.once('error', reject);
            }),
        ),
      );
      expect(childPids(parent.pid)).toEqual(expect.arrayContaining(pids));
      parent.kill('SIGKILL');
      await parentExit;
      await sleep(2000 * TIMEOUT_MULTIPLIER);
      expect(pids.filter(running)).toEqual([]);
    } finally {
      for (const c of clients) c.destroy();
      clients = [];
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
      await parentExit;
    }
  });
});

describe('a handler that throws', { timeout: 90_000 }, () => {
  it.each([
    ['TCPServer', TCPServer],
    ['ThreadingTCPServer', ThreadingTCPServer],
  ])('%s reports the error and serves the next request', async (_name, Base) => {
    class FailOrEcho extends StreamRequestHandler {
      override async handle(): Promise<void> {
        const line = await this.rfile.readline();
        if (String(line) === 'fail\n') throw new RangeError('asked to fail');
        await this.wfile.write(line);
      }
    }
    const Server = recording(Base);
    const server = new Server([HOST, 0], FailOrEcho);
    const serving = server.serve_forever(0.01);
    try {
      // Ten at once, every other one failing: no failure reaches another request.
      const replies = await Promise.all(
        Array.from({ length: 10 }, (_, i) => echoOnce(server.server_address, i % 2 ? 'fail\n' : `ok ${i}\n`)),
      );
      expect(replies).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 ? '' : `ok ${i}\n`)));
      expect(server.errors).toHaveLength(5);
      for (const err of server.errors) expect(String(err)).toBe('RangeError: asked to fail');
    } finally {
      await server.shutdown();
      await serving;
      await server.server_close();
    }
  });

  it('ThreadingTCPServer: a handle_error() that throws ends only its own task', async () => {
    class Fail extends StreamRequestHandler {
      override async handle(): Promise<void> {
        const line = await this.rfile.readline();
        if (String(line) === 'fail\n') throw new RangeError('asked to fail');
        await this.wfile.write(line);
      }
    }
    class Server extends ThreadingTCPServer {
      override handle_error(): void {
        throw new Error('handle_error failed too');
      }
    }
    const server = new Server([HOST, 0], Fail);
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    const serving = server.serve_forever(0.01);
    try {
      expect(await echoOnce(server.server_address, 'fail\n')).toBe('');
      expect(await echoOnce(server.server_address, 'fine\n')).toBe('fine\n');
    } finally {
      await server.shutdown();
      await serving;
      await server.server_close();
      process.stderr.write = original;
    }
    expect(written.join('')).toMatch(/^Exception in the task serving \('127\.0\.0\.1', \d+\):\nError: handle_error failed too/);
  });

  it('ForkingTCPServer: the child reports it through its handle_error(), and serves the next', async () => {
    const log = path.join(tmpdir(), `asyncore-socketserver-faults-${process.pid}.log`);
    const Server = class extends recording(ForkingTCPServer) {};
    useChildFixture(Server as unknown as Statics, 'fail-or-echo', log);
    Server.prototype.max_children = 1;
    const server = new Server([HOST, 0], StreamRequestHandler);
    const serving = server.serve_forever(0.01);
    try {
      expect(await echoOnce(server.server_address, 'fail\n')).toBe('');
      expect(await echoOnce(server.server_address, 'ok\n')).toBe('ok\n');
      expect(server.active_children?.size).toBe(1);
    } finally {
      await server.shutdown();
      await serving;
      await server.server_close();
    }
    expect(readFileSync(log, 'utf8')).toBe('Error handled\n');
    expect(server.errors).toEqual([]);
    rmSync(log, { force: true });
  });
});

describe('clients and handlers that do not keep up', () => {
  it('a handler that never reads: the client is answered and closed, other clients are served', async () => {
    class Ignore extends StreamRequestHandler<ThreadingTCPServer & { ignorePort: number }> {
      override async handle(): Promise<void> {
        if (this.client_address[1] === this.server.ignorePort) {
          await this.wfile.write(Buffer.from('not reading\n'));
          return;
        }
        await this.wfile.write(await this.rfile.readline());
      }
    }
    const server = new (recording(ThreadingTCPServer))([HOST, 0], Ignore) as ThreadingTCPServer & {
      ignorePort: number;
      errors: unknown[];
    };
    const serving = server.serve_forever(0.01);
    try {
      const rude = connect(AF_INET, server.server_address);
      server.ignorePort = (rude.getsockname() as [string, number])[1];
      rude.setblocking(false);
      let sent = 0;
      try {
        for (;;) sent += rude.send(Buffer.alloc(65536));
      } catch {
        // The buffers are full: the handler reads nothing.
      }
      expect(sent).toBeGreaterThan(0);
      rude.setblocking(true);
      expect(String(await receiveLine(rude))).toBe('not reading\n');
      expect(await echoOnce(server.server_address, 'polite\n')).toBe('polite\n');
      // Closed with unread data: an end of stream or a reset, never a hang.
      await receiveAll(rude).catch((err: { code?: string }) => expect(err.code).toBe('ECONNRESET'));
      rude.close();
    } finally {
      await server.shutdown();
      await serving;
      await server.server_close();
    }
    expect(server.errors).toEqual([]);
  });

  it('ThreadingTCPServer serves 1,000 connections made at once', async () => {
    class Server extends recording(ThreadingTCPServer) {}
    Server.prototype.request_queue_size = 1024;
    const server = new Server([HOST, 0], Echo);
    const serving = server.serve_forever(0.01);
    const port = (server.server_address as [string, number])[1];
    try {
      const replies = await Promise.all(
        Array.from(
          { length: 1000 },
          (_, i) =>
            new Promise<string>((resolve, reject) => {
              let text = '';
              const c = net.connect(port, HOST, () => c.write(`client ${i}\n`));
              c.on('data', (d) => (text += d));
              c.on('end', () => {
                c.destroy();
                resolve(text);
              });
              c.on('error', reject);
            }),
        ),
      );
      expect(replies).toEqual(Array.from({ length: 1000 }, (_, i) => `client ${i}\n`));
      expect(server.errors).toEqual([]);
    } finally {
      await server.shutdown();
      await serving;
      await server.server_close();
    }
  }, 120_000);

  it('a client that reads one byte a second holds up only its own request, which times out', async () => {
    class Flood extends StreamRequestHandler {
      override async handle(): Promise<void> {
        const line = await this.rfile.readline();
        if (String(line) === 'flood\n') await this.wfile.write(Buffer.alloc(8 << 20, 33));
        else await this.wfile.write(line);
      }
    }
    class Server extends recording(ThreadingTCPServer) {}
    Flood.prototype.timeout = 1;
    const server = new Server([HOST, 0], Flood);
    const serving = server.serve_forever(0.01);
    try {
      const slow = new socket(AF_INET);
      slow.setsockopt(SOL_SOCKET, SO_RCVBUF, 4096);
      slow.connect(server.server_address);
      slow.sendall(Buffer.from('flood\n'));
      let got = 0;
      for (let second = 0; second < 3; second++) {
        got += (await receive(slow, 1)).length;
        // Meanwhile other clients are served at once.
        expect(await echoOnce(server.server_address, `fast ${second}\n`)).toBe(`fast ${second}\n`);
        await sleep(1000);
      }
      expect(got).toBe(3);
      await waitFor(() => server.errors.length === 1, 10_000);
      expect(server.errors[0]).toBeInstanceOf(TimeoutError);
      slow.close();
    } finally {
      await server.shutdown();
      await serving;
      await server.server_close();
    }
  }, 60_000);
});
