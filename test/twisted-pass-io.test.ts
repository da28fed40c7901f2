// A reactor pass reads its readable connections with one native call and
// sends what they wrote with another (src/twisted/pass_io.ts): each
// connection must still get its own bytes, all of them and in order, and a
// write must behave as one outside a pass would when the connection closes.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { binding } from '../src/binding';
import { SOL_SOCKET, SO_SNDBUF } from '../src/socket';
import type { IAddress, IPv4Address } from '../src/twisted/address';
import { ConnectionDone } from '../src/twisted/error';
import { Failure } from '../src/twisted/failure';
import { Factory, Protocol } from '../src/twisted/protocol';
import { reactor } from '../src/twisted/reactor';
import type { Connection, TCPPort } from '../src/twisted/tcp';
import { expectNoFdLeaks, waitFor } from './support';
import { runReactorForTests } from './twisted-support';

expectNoFdLeaks();

runReactorForTests(reactor);
afterEach(() => {
  vi.restoreAllMocks();
});

/** A factory that counts the connections it has made a protocol for. */
class CountingFactory extends Factory {
  accepted = 0;
  override buildProtocol(addr: IAddress): ReturnType<Factory['buildProtocol']> {
    this.accepted += 1;
    return super.buildProtocol(addr);
  }
}

/**
 * A server of `protocol`, and connect(n): n clients, once the server has
 * accepted them all, so that their next writes, made in one synchronous
 * loop, are read in one pass.
 */
function listen(protocol: new () => Protocol): { port: TCPPort; connect(n: number): Promise<net.Socket[]> } {
  const factory = CountingFactory.forProtocol(protocol);
  const port = reactor.listenTCP(0, factory, 50, '127.0.0.1');
  const number = (port.getHost() as IPv4Address).port;
  const connect = async (n: number): Promise<net.Socket[]> => {
    const expected = factory.accepted + n;
    const socks = await Promise.all(
      Array.from({ length: n }, () => new Promise<net.Socket>((resolve, reject) => {
        const sock = net.connect(number, '127.0.0.1', () => resolve(sock));
        sock.on('error', reject);
      })),
    );
    await waitFor(() => factory.accepted === expected);
    return socks;
  };
  return { port, connect };
}

/** What `sock` receives until it has `length` bytes, or until the end of its stream. */
function receive(sock: net.Socket, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const done = (): void => resolve(Buffer.concat(chunks));
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got >= length) done();
    });
    sock.on('end', done);
    sock.on('close', done);
    sock.on('error', reject);
  });
}

function sha1(data: Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

/** `length` bytes that show where each one belongs: `seed`, then a counter. */
function pattern(seed: number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (seed * 31 + i * 7 + (i >> 8)) & 0xff;
  return bytes;
}

describe('one pass, many connections', () => {
  it('the connections readable in one pass are read with one call and answered with one, each with its own bytes', async () => {
    const { port, connect } = listen(
      class extends Protocol {
        override dataReceived(data: Buffer): void {
          this.transport!.write(Buffer.concat([Buffer.from('re:'), data]));
        }
      },
    );
    const socks = await connect(12);
    const recvMany = vi.spyOn(binding, 'recvMany');
    const sendMany = vi.spyOn(binding, 'sendMany');
    const replies = socks.map((s) => receive(s, 3 + 100));
    // One synchronous loop: all twelve are readable before the reactor's next pass.
    socks.forEach((s, i) => s.write(pattern(i, 100)));
    const got = await Promise.all(replies);
    got.forEach((reply, i) => expect(reply.equals(Buffer.concat([Buffer.from('re:'), pattern(i, 100)]))).toBe(true));
    expect(Math.max(...recvMany.mock.calls.map((c) => c[1]))).toBe(12);
    expect(Math.max(...sendMany.mock.calls.map((c) => c[1]))).toBe(12);
    for (const s of socks) s.destroy();
    await port.stopListening();
  });

  it('a read that fills its share of the arena is followed by the rest: every byte arrives, in order', async () => {
    const received = new Map<number, Buffer[]>();
    let nextId = 0;
    const { port, connect } = listen(
      class extends Protocol {
        readonly id = nextId++;
        override dataReceived(data: Buffer): void {
          const list = received.get(this.id) ?? [];
          list.push(Buffer.from(data));
          received.set(this.id, list);
        }
      },
    );
    // One client: a 64 KiB share, as big as a read; twenty: shares smaller than a read.
    for (const [n, size] of [[1, 3 * 1024 * 1024], [20, 300 * 1024]] as const) {
      received.clear();
      nextId = 0;
      const socks = await connect(n);
      const sent = socks.map((_, i) => pattern(i + n, size));
      socks.forEach((s, i) => s.write(sent[i]));
      await waitFor(() => [...received.values()].reduce((sum, l) => sum + l.reduce((a, b) => a + b.length, 0), 0) === n * size, 20_000);
      // Each connection's bytes are one client's, whole and in order.
      const byHash = new Set(sent.map(sha1));
      for (const list of received.values()) expect(byHash.has(sha1(Buffer.concat(list)))).toBe(true);
      expect(new Set([...received.values()].map((l) => sha1(Buffer.concat(l)))).size).toBe(n);
      for (const s of socks) s.destroy();
    }
    await port.stopListening();
  });
});

describe('a connection that reads little at a time', () => {
  it('is read as before, at most bufferSize bytes a read, beside connections the pass reads ahead', async () => {
    const chunks = new Map<number, number[]>();
    const bytes = new Map<number, Buffer[]>();
    let nextId = 0;
    const { port, connect } = listen(
      class extends Protocol {
        readonly id = nextId++;
        override connectionMade(): void {
          if (this.id === 0) (this.transport as unknown as Connection).bufferSize = 1000;
        }
        override dataReceived(data: Buffer): void {
          chunks.set(this.id, [...(chunks.get(this.id) ?? []), data.length]);
          bytes.set(this.id, [...(bytes.get(this.id) ?? []), Buffer.from(data)]);
        }
      },
    );
    const socks = await connect(3);
    const recvMany = vi.spyOn(binding, 'recvMany');
    const sent = socks.map((_, i) => pattern(i, 20_000));
    socks.forEach((s, i) => s.write(sent[i]));
    const total = (id: number): number => (chunks.get(id) ?? []).reduce((a, b) => a + b, 0);
    await waitFor(() => [0, 1, 2].every((id) => total(id) === 20_000));
    expect(Math.max(...chunks.get(0)!)).toBeLessThanOrEqual(1000);
    expect(new Set([0, 1, 2].map((id) => sha1(Buffer.concat(bytes.get(id)!))))).toEqual(new Set(sent.map(sha1)));
    // The other two were read ahead, with shares of the arena, not of 1,000 bytes.
    expect(recvMany).toHaveBeenCalled();
    expect(Math.min(...recvMany.mock.calls.map((c) => c[3]))).toBeGreaterThanOrEqual(4096);
    for (const s of socks) s.destroy();
    await port.stopListening();
  });
});

describe('what a pass writes', () => {
  it('goes out before what is written after it, whatever the kernel takes at once', async () => {
    const CHUNK = 16 * 1024;
    const chunks = Array.from({ length: 80 }, (_, i) => pattern(i, CHUNK));
    const { port, connect } = listen(
      class extends Protocol {
        override connectionMade(): void {
          // A small kernel buffer: the pass's send takes only part of its bytes.
          (this.transport as unknown as Connection).socket.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096);
        }
        override dataReceived(): void {
          // The first connection's chunks fill the pass's send buffer (1 MiB), the
          // rest are queued behind them, and the second's find it full.
          for (const chunk of chunks) this.transport!.write(chunk);
          reactor.callLater(0, () => this.transport!.write(Buffer.from('last')));
        }
      },
    );
    const socks = await connect(2);
    const sendMany = vi.spyOn(binding, 'sendMany');
    const all = socks.map((s) => receive(s, 80 * CHUNK + 4));
    for (const s of socks) s.write('go');
    for (const got of await Promise.all(all)) {
      expect(got.length).toBe(80 * CHUNK + 4);
      expect(got.equals(Buffer.concat([...chunks, Buffer.from('last')]))).toBe(true);
    }
    expect(sendMany).toHaveBeenCalled();
    for (const s of socks) s.destroy();
    await port.stopListening();
  });

  it('counts in bufferedAmount until the pass ends', async () => {
    const amounts: number[] = [];
    const { port, connect } = listen(
      class extends Protocol {
        override dataReceived(data: Buffer): void {
          const transport = this.transport as unknown as Connection;
          transport.write(data);
          transport.write(data);
          amounts.push(transport.bufferedAmount);
          reactor.callLater(0, () => amounts.push(transport.bufferedAmount));
        }
      },
    );
    const socks = await connect(2);
    const echoed = socks.map((s) => receive(s, 10));
    for (const s of socks) s.write('hello');
    for (const got of await Promise.all(echoed)) expect(got.toString()).toBe('hellohello');
    await waitFor(() => amounts.length === 4);
    expect(amounts).toEqual([10, 10, 0, 0]);
    for (const s of socks) s.destroy();
    await port.stopListening();
  });

  it('to another connection reaches that connection', async () => {
    const transports: Connection[] = [];
    const { port, connect } = listen(
      class extends Protocol {
        override connectionMade(): void {
          transports.push(this.transport as unknown as Connection);
        }
        override dataReceived(data: Buffer): void {
          for (const t of transports) if (t !== (this.transport as unknown)) t.write(data);
        }
      },
    );
    const socks = await connect(2);
    const sendMany = vi.spyOn(binding, 'sendMany');
    const crossed = socks.map((s) => receive(s, 5));
    socks.forEach((s, i) => s.write(['hello', 'world'][i]!));
    expect((await Promise.all(crossed)).map(String)).toEqual(['world', 'hello']);
    expect(sendMany).toHaveBeenCalled();
    for (const s of socks) s.destroy();
    await port.stopListening();
  });

  it('is dropped by abortConnection() in the same pass, as Twisted drops its buffer', async () => {
    const { port, connect } = listen(
      class extends Protocol {
        override dataReceived(): void {
          this.transport!.write(Buffer.from('secret'));
          (this.transport as unknown as Connection).abortConnection();
        }
      },
    );
    const socks = await connect(2);
    const sent = vi.spyOn(binding, 'send');
    const sendMany = binding.sendMany.bind(binding);
    const handedOver: number[][] = [];
    vi.spyOn(binding, 'sendMany').mockImplementation((fds, count, ...rest) => {
      handedOver.push(Array.from(fds.subarray(0, count)));
      return sendMany(fds, count, ...rest);
    });
    const got = socks.map((s) => receive(s, 6).catch(() => Buffer.alloc(0)));
    for (const s of socks) s.write('go');
    for (const bytes of await Promise.all(got)) expect(bytes.length).toBe(0);
    // Nothing was handed to the kernel for them.
    expect(sent).not.toHaveBeenCalled();
    expect(handedOver.flat()).toEqual([-1, -1]);
    for (const s of socks) s.destroy();
    await port.stopListening();
  });

  it('is sent once when a callback at the end of the pass closes its connection by hand', async () => {
    // The first connection read fills its kernel buffer, defers 16 KiB and
    // registers a streaming producer; the second defers a few bytes. The
    // pass's sendMany() sends both; the first's bytes find no room, and its
    // transport pauses the producer, which closes the second connection.
    // Its bytes are out already: closing must not send them again.
    const transports: Connection[] = [];
    let closedPort = 0;
    const { port, connect } = listen(
      class extends Protocol {
        override dataReceived(): void {
          const transport = this.transport as unknown as Connection;
          transports.push(transport);
          if (transports.length === 2) {
            closedPort = (transport.getPeer() as IPv4Address).port;
            transport.write(Buffer.from('once'));
            return;
          }
          transport.bufferSize = 4096;
          while (transport.socket._trySend(Buffer.alloc(64 * 1024)) > 0);
          transport.write(Buffer.alloc(16 * 1024));
          transport.registerProducer(
            {
              pauseProducing: () => transports[1]!.connectionLost(new Failure(new ConnectionDone())),
              resumeProducing: () => undefined,
              stopProducing: () => undefined,
            },
            true,
          );
        }
      },
    );
    const socks = await connect(2);
    // Read now: a socket that the server closes forgets its port.
    const localPorts = socks.map((s) => s.localPort);
    const sendMany = vi.spyOn(binding, 'sendMany');
    const got = socks.map((s) => receive(s, Infinity));
    for (const s of socks) s.write('go');
    await waitFor(() => transports.length === 2 && transports[1]!.disconnected);
    // The client whose connection was closed by hand gets its bytes once, then the end.
    const closedIndex = localPorts.indexOf(closedPort);
    expect((await got[closedIndex]!).toString()).toBe('once');
    expect(sendMany).toHaveBeenCalledTimes(1);
    for (const s of socks) s.destroy();
    await port.stopListening();
  });

  it('by the only connection the pass read is sent at once, with no copy', async () => {
    const { port, connect } = listen(
      class extends Protocol {
        override dataReceived(data: Buffer): void {
          this.transport!.write(data);
        }
      },
    );
    const [sock] = await connect(1);
    const sendMany = vi.spyOn(binding, 'sendMany');
    const send = vi.spyOn(binding, 'send');
    const echoed = receive(sock!, 5);
    sock!.write('hello');
    expect((await echoed).toString()).toBe('hello');
    expect(sendMany).not.toHaveBeenCalled();
    expect(send).toHaveBeenCalledTimes(1);
    sock!.destroy();
    await port.stopListening();
  });
});
