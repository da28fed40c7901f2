// Twisted's transports are Twisted's classes and its reactor is a client of
// the fd watcher, as Twisted's epollreactor is of epoll: a connected
// transport carries Twisted's methods only (no asyncore dispatcher in its
// prototype chain), and running the reactor, accepting, echoing and closing
// calls nothing of asyncore's.
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as asyncore from '../src/asyncore';
import { socket } from '../src/socket';
import { ClientFactory, DatagramProtocol, Factory, Protocol } from '../src/twisted/protocol';
import { reactor } from '../src/twisted/reactor';
import type { Client, Connection, Server, TCPPort } from '../src/twisted/tcp';
import { UDPPort } from '../src/twisted/udp';
import { expectNoFdLeaks, waitFor } from './support';

expectNoFdLeaks();

/** What an asyncore dispatcher has and a Twisted transport must not. */
const ASYNCORE_NAMES = [
  'recv',
  'send',
  'handle_read_event',
  'handle_write_event',
  'handle_expt_event',
  'handle_read',
  'handle_write',
  'handle_connect',
  'handle_accept',
  'handle_accepted',
  'handle_close',
  'handle_error',
  'readable',
  'writable',
  'add_channel',
  'del_channel',
  'set_socket',
  'create_socket',
  'set_reuse_addr',
  'accepting',
  'addr',
  '_fileno',
  '_map',
];

/** Counts every call of a method of asyncore.dispatcher's prototype while installed. */
function countDispatcherCalls(): { calls: string[]; restore(): void } {
  const proto = asyncore.dispatcher.prototype as unknown as Record<string, unknown>;
  const calls: string[] = [];
  const saved = new Map<string, PropertyDescriptor>();
  for (const name of Object.getOwnPropertyNames(proto)) {
    const desc = Object.getOwnPropertyDescriptor(proto, name)!;
    if (name === 'constructor' || typeof desc.value !== 'function') continue;
    saved.set(name, desc);
    const original = desc.value as (...args: unknown[]) => unknown;
    Object.defineProperty(proto, name, {
      ...desc,
      value(this: unknown, ...args: unknown[]) {
        calls.push(name);
        return original.apply(this, args);
      },
    });
  }
  return {
    calls,
    restore(): void {
      for (const [name, desc] of saved) Object.defineProperty(proto, name, desc);
    },
  };
}

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport!.write(data);
  }
}

describe('Twisted transports on the fd watcher', () => {
  let running: Promise<void>;
  let counting: ReturnType<typeof countDispatcherCalls>;
  const mapBefore = asyncore.socket_map.size;

  beforeAll(() => {
    // Installed before the reactor starts, so that its loop is counted too.
    counting = countDispatcherCalls();
    running = reactor.run();
  });

  afterAll(async () => {
    reactor.stop();
    await running;
    counting.restore();
  });

  it('a connected transport, a port and a UDP port have no asyncore methods and are no dispatchers', async () => {
    const servers: Server[] = [];
    const factory = Factory.forProtocol(Echo);
    const origBuild = factory.buildProtocol.bind(factory);
    factory.buildProtocol = (addr) => {
      const p = origBuild(addr);
      queueMicrotask(() => servers.push(p!.transport as unknown as Server));
      return p;
    };
    const port = reactor.listenTCP(0, factory, 50, '127.0.0.1') as TCPPort;
    const replies: Buffer[] = [];
    let clientTransport: Client | null = null;
    class Sender extends Protocol {
      override connectionMade(): void {
        clientTransport = this.transport as unknown as Client;
        this.transport!.write(Buffer.from('ping'));
      }
      override dataReceived(data: Buffer): void {
        replies.push(data);
      }
    }
    const cf = new ClientFactory();
    cf.protocol = Sender;
    reactor.connectTCP('127.0.0.1', port.getHost().port, cf);
    await waitFor(() => replies.length === 1 && servers.length === 1);
    const udp = reactor.listenUDP(0, new DatagramProtocol(), '127.0.0.1') as UDPPort;

    const transports: Array<[string, Connection | TCPPort | UDPPort]> = [
      ['server transport', servers[0]!],
      ['client transport', clientTransport!],
      ['TCP port', port],
      ['UDP port', udp],
    ];
    for (const [label, t] of transports) {
      expect(t, label).not.toBeInstanceOf(asyncore.dispatcher);
      const present = ASYNCORE_NAMES.filter((name) => name in t);
      expect(present, `${label} has asyncore members`).toEqual([]);
    }
    // Twisted's own members are there.
    for (const name of ['doRead', 'doWrite', 'write', 'writeSequence', 'loseConnection', 'abortConnection', 'getHost', 'getPeer', 'fileno']) {
      expect(typeof (servers[0] as unknown as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(servers[0]!.connected).toBe(true);
    expect(servers[0]!.disconnected).toBe(false);
    expect(Buffer.concat(replies).toString()).toBe('ping');

    clientTransport!.loseConnection();
    await waitFor(() => servers[0]!.disconnected);
    expect(servers[0]!.connected).toBe(false);
    await port.stopListening();
    await udp.stopListening();
  });

  it('running the reactor, connecting, echoing and closing call no asyncore dispatcher method and leave socket_map alone', () => {
    expect(counting.calls).toEqual([]);
    expect(asyncore.socket_map.size).toBe(mapBefore);
    // The reactor keeps no asyncore map of its own either.
    expect('map' in reactor).toBe(false);
  });

  it('a transport that fills the socket buffer and reads uses the sends and recvs that answer EAGAIN without an exception', async () => {
    const proto = socket.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
    const throwing: string[] = [];
    let trySends = 0;
    const saved = new Map<string, (...args: unknown[]) => unknown>();
    for (const name of ['send', 'recv', 'sendto', 'recvfrom', '_trySend']) {
      const original = proto[name];
      if (original === undefined) continue;
      saved.set(name, original);
      proto[name] = function (this: unknown, ...args: unknown[]) {
        const result = original.apply(this, args);
        if (name === '_trySend') {
          trySends += 1;
        } else {
          throwing.push(name);
        }
        return result;
      };
    }
    const size = 8 * 1024 * 1024;
    try {
      class Flood extends Protocol {
        override connectionMade(): void {
          this.transport!.write(Buffer.alloc(size, 0x61));
        }
        override dataReceived(data: Buffer): void {
          this.transport!.write(data);
        }
      }
      const port = reactor.listenTCP(0, Factory.forProtocol(Flood), 50, '127.0.0.1') as TCPPort;
      let received = 0;
      const client = net.connect(port.getHost().port, '127.0.0.1');
      client.pause();
      // Read only once the server's socket buffer is full.
      await new Promise((resolve) => setTimeout(resolve, 100));
      client.on('data', (chunk: Buffer) => (received += chunk.length));
      client.resume();
      client.write('ping');
      await waitFor(() => received >= size + 4, 10_000);
      client.destroy();
      await port.stopListening();
    } finally {
      for (const [name, original] of saved) proto[name] = original;
    }
    expect(throwing).toEqual([]);
    expect(trySends).toBeGreaterThan(1);
  });
});

describe('a UDP port before startListening()', () => {
  it('write() and getHost() say the port is not listening, not a TypeError from inside', () => {
    const port = new UDPPort(reactor, 0, new DatagramProtocol(), '127.0.0.1', 8192);
    expect(() => port.write(Buffer.from('x'), ['127.0.0.1', 9])).toThrow('write(): the port is not listening yet (startListening())');
    expect(() => port.getHost()).toThrow('getHost(): the port is not listening yet (startListening())');
    expect(port.fileno()).toBe(-1);
  });
});
