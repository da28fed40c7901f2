// async_chat over real sockets, beyond CPython's test_asynchat: the accepting
// side on every address family and backend, and a large push that must not
// hold up the other channels of the loop.
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as asyncore from '../src/asyncore';
import { async_chat } from '../src/asynchat';
import { AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM, type socket } from '../src/socket';
import { expectNoFdLeaks, ipv6Available } from './support';

expectNoFdLeaks();

const backends = [
  { name: 'select', options: { use_poll: false } },
  { name: 'poll', options: { use_poll: true } },
  { name: 'epoll', options: { backend: 'epoll' as const } },
];

let map: asyncore.SocketMap = new Map();
afterEach(() => {
  asyncore.close_all(map);
  map = new Map();
});

/** Echoes every line back, with its terminator, as bench/py/asynchat_echo.py does. */
class LineEcho extends async_chat {
  constructor(sock: socket, channelMap: asyncore.SocketMap) {
    super(sock, channelMap);
    this.set_terminator(Buffer.from('\n'));
  }

  override collect_incoming_data(data: Buffer): void {
    this._collect_incoming_data(data);
  }

  override found_terminator(): void {
    this.push(Buffer.concat([this._get_data(), Buffer.from('\n')]));
  }
}

class LineEchoServer extends asyncore.dispatcher {
  constructor(family: number, address: asyncore.Address, channelMap: asyncore.SocketMap) {
    super(null, channelMap);
    this.create_socket(family, SOCK_STREAM);
    if (family !== AF_UNIX) this.set_reuse_addr();
    this.bind(address);
    this.listen(16);
  }

  override handle_accepted(sock: socket): void {
    new LineEcho(sock, this._map);
  }
}

const families = [
  { name: 'IPv4', family: AF_INET, address: (): asyncore.Address => ['127.0.0.1', 0] },
  ...(ipv6Available() ? [{ name: 'IPv6', family: AF_INET6, address: (): asyncore.Address => ['::1', 0] }] : []),
  {
    name: 'unix',
    family: AF_UNIX,
    address: (): asyncore.Address => path.join(tmpdir(), `asynchat-${process.pid}-${Math.random().toString(36).slice(2)}.sock`),
  },
];

describe.each(backends)('line echo server with $name', ({ options }) => {
  it.each(families)('echoes lines split at random over $name', async ({ family, address }) => {
    const where = address();
    const server = new LineEchoServer(family, where, map);
    const bound = (server.socket as socket).getsockname();
    const running = asyncore.loop({ ...options, timeout: 0.05, map });
    try {
      const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ${'x'.repeat(i % 37)}`);
      const stream = Buffer.from(lines.map((line) => `${line}\n`).join(''));
      const echoed = await new Promise<string>((resolve, reject) => {
        const client = typeof bound === 'string' ? net.connect(bound) : net.connect(bound[1], bound[0]);
        const chunks: Buffer[] = [];
        client.setNoDelay?.(true);
        client.on('connect', async () => {
          // Random cuts, so terminators are split across reads.
          let at = 0;
          while (at < stream.length) {
            const size = 1 + Math.floor(Math.random() * 300);
            client.write(stream.subarray(at, at + size));
            at += size;
            if (Math.random() < 0.1) await new Promise((r) => setTimeout(r, 1));
          }
        });
        client.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          if (Buffer.concat(chunks).length >= stream.length) client.end();
        });
        client.on('close', () => resolve(Buffer.concat(chunks).toString()));
        client.on('error', reject);
      });
      expect(echoed).toBe(stream.toString());
    } finally {
      asyncore.close_all(map);
      await running;
      if (typeof where === 'string') rmSync(where, { force: true });
    }
  });
});

/** A Node server that reads at most 64 KiB every `delayMs`: a slow reader. */
async function startSlowSink(delayMs: number): Promise<{
  port: number;
  received: () => number;
  done: Promise<{ bytes: number; sha256: string }>;
}> {
  const server = net.createServer();
  let received = 0;
  const done = new Promise<{ bytes: number; sha256: string }>((resolve, reject) => {
    server.once('connection', (conn) => {
      server.close();
      const hash = createHash('sha256');
      conn.on('data', (chunk: Buffer) => {
        received += chunk.length;
        hash.update(chunk);
        conn.pause();
        setTimeout(() => conn.resume(), delayMs);
      });
      conn.on('end', () => conn.end());
      conn.on('close', () => resolve({ bytes: received, sha256: hash.digest('hex') }));
      conn.on('error', reject);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, received: () => received, done };
}

async function startEchoServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((conn) => {
    conn.setNoDelay(true);
    conn.pipe(conn);
    conn.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

class BulkSender extends async_chat {
  constructor(port: number, channelMap: asyncore.SocketMap) {
    super(null, channelMap);
    this.create_socket(AF_INET, SOCK_STREAM);
    this.connect(['127.0.0.1', port]);
  }

  override handle_connect(): void {}
  override collect_incoming_data(): void {}
  override found_terminator(): void {}
}

/** Ping-pongs `rounds` lines through an echo server, then closes. */
class PingPong extends async_chat {
  rounds = 0;
  sinkBytesWhenDone = -1;

  constructor(
    port: number,
    channelMap: asyncore.SocketMap,
    private readonly wanted: number,
    private readonly sinkBytes: () => number,
  ) {
    super(null, channelMap);
    this.create_socket(AF_INET, SOCK_STREAM);
    this.connect(['127.0.0.1', port]);
    this.set_terminator(Buffer.from('\n'));
  }

  override handle_connect(): void {
    this.push(Buffer.from('ping 0\n'));
  }

  override collect_incoming_data(data: Buffer): void {
    this._collect_incoming_data(data);
  }

  override found_terminator(): void {
    const line = this._get_data().toString();
    if (line !== `ping ${this.rounds}`) throw new Error(`unexpected echo ${JSON.stringify(line)}`);
    this.rounds++;
    if (this.rounds < this.wanted) {
      this.push(Buffer.from(`ping ${this.rounds}\n`));
    } else {
      this.sinkBytesWhenDone = this.sinkBytes();
      this.close();
    }
  }
}

describe.each(backends)('large push with $name', ({ options }) => {
  it('a 64 MiB push to a slow reader keeps other channels served, then arrives whole', async () => {
    const size = 64 << 20;
    const payload = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i += 4) payload.writeUInt32LE((i * 2654435761) >>> 0, i);
    const expectedHash = createHash('sha256').update(payload).digest('hex');

    // 64 KiB per 3 ms at most: the push needs 3 s or more to drain.
    const sink = await startSlowSink(3);
    const echo = await startEchoServer();
    try {
      const bulk = new BulkSender(sink.port, map);
      bulk.push(payload);
      // Queued as views of the payload, not copies; nothing sent yet (connecting).
      expect(bulk.producer_fifo.length).toBe(size / bulk.ac_out_buffer_size);
      expect((bulk.producer_fifo[0] as Uint8Array).buffer).toBe(payload.buffer);
      bulk.close_when_done();

      const ping = new PingPong(echo.port, map, 100, sink.received);
      await asyncore.loop({ ...options, timeout: 0.05, map });

      expect(ping.rounds).toBe(100);
      // The ping-pong finished while the push was still draining.
      expect(ping.sinkBytesWhenDone).toBeGreaterThan(0);
      expect(ping.sinkBytesWhenDone).toBeLessThan(size);
      // close_when_done closed only after the queue drained: all of it arrived.
      const { bytes, sha256 } = await sink.done;
      expect(bytes).toBe(size);
      expect(sha256).toBe(expectedHash);
    } finally {
      await echo.close();
    }
  });
});
