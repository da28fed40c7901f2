// The reactor with real sockets, after Twisted 22.4's
// twisted/internet/test/test_tcp.py and test_core.py: the order of the
// protocol and factory calls, addresses, closing (clean, after the buffer
// drains, aborted, by a reset peer), producers and flow control, UNIX and
// UDP sockets, addReader/addWriter, timed calls, and the faults a server
// meets (a protocol method that throws, a write after loseConnection,
// callLater from another connection's handler, 1,000 connections). One
// reactor runs for the whole file, as under Twisted's trial.
import { Buffer } from 'node:buffer';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as posix from '../src/posix';
import { AF_UNIX, SOCK_STREAM, SOL_SOCKET, SO_RCVBUF, SO_SNDBUF, socket } from '../src/socket';
import { IPv4Address, IPv6Address, UNIXAddress } from '../src/twisted/address';
import { LineReceiver } from '../src/twisted/basic';
import { Deferred } from '../src/twisted/defer';
import {
  CannotListenError,
  ConnectionAborted,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
  TimeoutError,
  UserError,
} from '../src/twisted/error';
import { Failure } from '../src/twisted/failure';
import * as log from '../src/twisted/log';
import { ClientFactory, DatagramProtocol, Factory, Protocol, ReconnectingClientFactory, ServerFactory } from '../src/twisted/protocol';
import type { IConnector, IProducer, ITransport } from '../src/twisted/protocol';
import { reactor } from '../src/twisted/reactor';
import type { Connection, Server, TCPPort } from '../src/twisted/tcp';
import { expectNoFdLeaks, ipv6Available, waitFor } from './support';
import { runReactorForTests } from './twisted-support';

expectNoFdLeaks();

runReactorForTests(reactor);

/** Errors logged while `fn` runs (the log observer), and the observer removed after. */
async function capturingLog<T>(fn: (events: log.LogEvent[]) => Promise<T>): Promise<T> {
  const events: log.LogEvent[] = [];
  const observer = (e: log.LogEvent) => void events.push(e);
  log.addObserver(observer);
  try {
    return await fn(events);
  } finally {
    log.removeObserver(observer);
  }
}

/** A promise and its resolve(): a Deferred would treat a Failure result as an error. */
function signal<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A client protocol that keeps what it receives and settles `done` on connectionLost. */
class Collector extends Protocol {
  data: Buffer[] = [];
  made = false;
  reason: Failure | null = null;
  readonly done = signal<Failure>();
  override connectionMade(): void {
    this.made = true;
  }
  override dataReceived(data: Buffer): void {
    this.data.push(Buffer.from(data));
  }
  override connectionLost(reason: Failure): void {
    this.reason = reason;
    this.done.resolve(reason);
  }
  text(): string {
    return Buffer.concat(this.data).toString('latin1');
  }
}

/** A client factory recording the calls it gets and keeping the protocol it built. */
class RecordingClientFactory extends ClientFactory {
  events: string[] = [];
  built: Collector | null = null;
  failure: Failure | null = null;
  lost: Failure | null = null;
  readonly finished = new Deferred<string>();
  constructor(readonly make: () => Collector = () => new Collector()) {
    super();
  }
  override startFactory(): void {
    this.events.push('startFactory');
  }
  override stopFactory(): void {
    this.events.push('stopFactory');
  }
  override startedConnecting(): void {
    this.events.push('startedConnecting');
  }
  override buildProtocol(): Collector {
    this.events.push('buildProtocol');
    this.built = this.make();
    this.built.factory = this;
    return this.built;
  }
  override clientConnectionFailed(_c: IConnector, reason: Failure): void {
    this.events.push('clientConnectionFailed');
    this.failure = reason;
    this.finished.callback('failed');
  }
  override clientConnectionLost(_c: IConnector, reason: Failure): void {
    this.events.push('clientConnectionLost');
    this.lost = reason;
    this.finished.callback('lost');
  }
}

function listen(protocol: new () => Protocol, iface = '127.0.0.1', backlog = 50): { port: TCPPort; factory: Factory; number: number } {
  const factory = Factory.forProtocol(protocol);
  const port = reactor.listenTCP(0, factory, backlog, iface);
  return { port, factory, number: (port.getHost() as IPv4Address).port };
}

describe('connections: the order of calls (test_tcp.py, test_core.py)', () => {
  it('server: makeConnection, connectionMade, dataReceived, connectionLost(ConnectionDone); client factory likewise', async () => {
    const serverEvents: string[] = [];
    class Server extends Protocol {
      override makeConnection(t: ITransport): void {
        serverEvents.push(`makeConnection connected=${this.connected}`);
        super.makeConnection(t);
      }
      override connectionMade(): void {
        serverEvents.push(`connectionMade connected=${this.connected} transport=${this.transport !== null}`);
        this.transport.write(Buffer.from('hi'));
      }
      override dataReceived(data: Buffer): void {
        serverEvents.push(`dataReceived ${data.toString()}`);
      }
      override connectionLost(reason: Failure): void {
        serverEvents.push(`connectionLost ${reason.type.name}`);
      }
    }
    const { port, number } = listen(Server);
    const cf = new RecordingClientFactory(
      () =>
        new (class extends Collector {
          override dataReceived(data: Buffer): void {
            super.dataReceived(data);
            this.transport.write(Buffer.from('bye'));
            this.transport.loseConnection();
          }
        })(),
    );
    reactor.connectTCP('127.0.0.1', number, cf);
    await cf.finished;
    await waitFor(() => serverEvents.length === 4);
    expect(serverEvents).toEqual([
      'makeConnection connected=0',
      'connectionMade connected=1 transport=true',
      'dataReceived bye',
      'connectionLost ConnectionDone',
    ]);
    expect(cf.events).toEqual(['startFactory', 'startedConnecting', 'buildProtocol', 'clientConnectionLost', 'stopFactory']);
    expect(cf.lost!.check(ConnectionDone)).toBe(ConnectionDone);
    expect(cf.built!.reason!.getErrorMessage()).toBe('Connection was closed cleanly.');
    expect(cf.numPorts).toBe(0);
    await port.stopListening();
  });

  it('getHost(), getPeer() and transport.client on both ends', async () => {
    let server: Server | null = null;
    class Keep extends Protocol {
      override connectionMade(): void {
        server = this.transport as unknown as Server;
      }
    }
    const { port, number } = listen(Keep);
    expect(port.getHost()).toEqual(new IPv4Address('TCP', '127.0.0.1', number));
    const cf = new RecordingClientFactory();
    const connector = reactor.connectTCP('127.0.0.1', number, cf);
    expect(connector.getDestination()).toEqual(new IPv4Address('TCP', '127.0.0.1', number));
    await waitFor(() => server !== null && cf.built?.made === true);
    const client = cf.built!.transport as Connection;
    const clientHost = client.getHost() as IPv4Address;
    expect(client.getPeer()).toEqual(new IPv4Address('TCP', '127.0.0.1', number));
    expect(server!.getHost()).toEqual(new IPv4Address('TCP', '127.0.0.1', number));
    expect(server!.getPeer()).toEqual(clientHost);
    expect(server!.client).toEqual(['127.0.0.1', clientHost.port]);
    client.loseConnection();
    await cf.finished;
    await port.stopListening();
  });

  it.runIf(ipv6Available())('listens and connects over IPv6 (::1)', async () => {
    const { port, number } = listen(
      class extends Protocol {
        override connectionMade(): void {
          this.transport.write(Buffer.from(String(this.transport.getPeer().constructor.name)));
          this.transport.loseConnection();
        }
      },
      '::1',
    );
    expect(port.getHost()).toBeInstanceOf(IPv6Address);
    const cf = new RecordingClientFactory();
    reactor.connectTCP('::1', number, cf);
    await cf.finished;
    expect(cf.built!.text()).toBe('IPv6Address');
    await port.stopListening();
  });

  it('a host name is looked up before connecting', async () => {
    const { port, number } = listen(
      class extends Protocol {
        override connectionMade(): void {
          this.transport.loseConnection();
        }
      },
    );
    const cf = new RecordingClientFactory();
    reactor.connectTCP('localhost', number, cf);
    expect(await cf.finished).toBe('lost');
    await port.stopListening();
  });

  it('connection refused: clientConnectionFailed with ConnectionRefusedError, the factory stopped', async () => {
    const { port, number } = listen(Protocol);
    await port.stopListening();
    const cf = new RecordingClientFactory();
    reactor.connectTCP('127.0.0.1', number, cf);
    await cf.finished;
    expect(cf.events).toEqual(['startFactory', 'startedConnecting', 'clientConnectionFailed', 'stopFactory']);
    expect(cf.failure!.check(ConnectionRefusedError)).toBe(ConnectionRefusedError);
    expect(cf.failure!.getErrorMessage()).toMatch(/^Connection was refused by other side: 111: /);
  });

  it('stopConnecting() fails the attempt with UserError; a full UNIX backlog times out with TimeoutError', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tw-'));
    const where = path.join(dir, 'full.sock');
    const listener = new socket(AF_UNIX, SOCK_STREAM);
    listener.bind(where);
    listener.listen(0);
    const fillers: socket[] = [];
    try {
      // Fill the backlog: further non-blocking connects get EAGAIN, which
      // is "in progress" and never completes.
      for (let i = 0; i < 4; i++) {
        const s = new socket(AF_UNIX, SOCK_STREAM);
        s.setblocking(false);
        if (s.connect_ex(where) !== 0) {
          s.close();
          break;
        }
        fillers.push(s);
      }
      const timedOut = new RecordingClientFactory();
      reactor.connectUNIX(where, timedOut, 0.2);
      await timedOut.finished;
      expect(timedOut.failure!.check(TimeoutError)).toBe(TimeoutError);
      expect(timedOut.failure!.getErrorMessage()).toBe('User timeout caused connection failure.');
      const stopped = new RecordingClientFactory();
      const connector = reactor.connectUNIX(where, stopped, 30);
      await new Promise((r) => setTimeout(r, 20));
      connector.stopConnecting();
      await stopped.finished;
      expect(stopped.failure!.check(UserError)).toBe(UserError);
      expect(() => connector.stopConnecting()).toThrow(/not trying to connect/);
    } finally {
      for (const s of fillers) s.close();
      listener.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('doStart()/doStop() count ports: one startFactory() and one stopFactory() for two ports', async () => {
    const calls: string[] = [];
    const factory = new (class extends ServerFactory {
      override startFactory(): void {
        calls.push('start');
      }
      override stopFactory(): void {
        calls.push('stop');
      }
    })();
    factory.protocol = Protocol;
    const p1 = reactor.listenTCP(0, factory, 50, '127.0.0.1');
    const p2 = reactor.listenTCP(0, factory, 50, '127.0.0.1');
    expect([calls, factory.numPorts]).toEqual([['start'], 2]);
    await p1.stopListening();
    expect([calls, factory.numPorts]).toEqual([['start'], 1]);
    await p2.stopListening();
    expect([calls, factory.numPorts]).toEqual([['start', 'stop'], 0]);
    expect(p2.stopListening()).toBe(undefined);
  });

  it('listening on a port in use is CannotListenError; bad arguments are TypeError/RangeError', () => {
    const { port, number } = listen(Protocol);
    expect(() => reactor.listenTCP(number, Factory.forProtocol(Protocol), 50, '127.0.0.1')).toThrow(CannotListenError);
    expect(() => reactor.listenTCP(number, Factory.forProtocol(Protocol), 50, '127.0.0.1')).toThrow(
      new RegExp(`Couldn't listen on 127.0.0.1:${number}: \\[Errno 98\\]`),
    );
    expect(() => reactor.listenTCP(70000, Factory.forProtocol(Protocol))).toThrow(/port must be an integer from 0 to 65535, not 70000/);
    expect(() => reactor.listenTCP(0, {} as never)).toThrow(/needs a Factory/);
    expect(() => reactor.connectTCP(5 as never, 80, new ClientFactory())).toThrow(/host must be a string, not 5/);
    expect(() => reactor.connectTCP('127.0.0.1', -1, new ClientFactory())).toThrow(RangeError);
    expect(() => reactor.connectTCP('127.0.0.1', 80, new ClientFactory(), -3)).toThrow(/timeout/);
    expect(() => reactor.listenUNIX('', Factory.forProtocol(Protocol))).toThrow(/needs a socket path/);
    expect(() => reactor.callLater(-1, () => 0)).toThrow(/negative delay: -1/);
    expect(() => reactor.callLater('1' as never, () => 0)).toThrow(/needs a number of seconds/);
    expect(() => reactor.callLater(1, 'f' as never)).toThrow(/needs a function/);
    expect(() => reactor.addReader({} as never)).toThrow(/needs an object with fileno\(\)/);
    expect(() => reactor.addSystemEventTrigger('sometime' as never, 'startup', () => 0)).toThrow(RangeError);
    expect(() => new Factory().buildProtocol(new IPv4Address('TCP', 'h', 1))).toThrow(/protocol is not set/);
    return port.stopListening();
  });
});

describe('refusing connections', () => {
  it('a server factory whose buildProtocol() returns null closes the connection at once', async () => {
    const factory = new (class extends ServerFactory {
      override buildProtocol(): null {
        return null;
      }
    })();
    const port = reactor.listenTCP(0, factory, 50, '127.0.0.1');
    const cf = new RecordingClientFactory();
    reactor.connectTCP('127.0.0.1', (port.getHost() as IPv4Address).port, cf);
    expect(await cf.finished).toBe('lost');
    expect(cf.built!.data).toEqual([]);
    await port.stopListening();
  });

  it('a client factory whose buildProtocol() returns null closes the connection; the factory hears it', async () => {
    const serverReason = signal<Failure>();
    const { port, number } = listen(
      class extends Protocol {
        override connectionLost(reason: Failure): void {
          serverReason.resolve(reason);
        }
      },
    );
    const lost = signal<Failure>();
    const cf = new (class extends ClientFactory {
      override buildProtocol(): null {
        return null;
      }
      override clientConnectionLost(_c: IConnector, reason: Failure): void {
        lost.resolve(reason);
      }
    })();
    reactor.connectTCP('127.0.0.1', number, cf);
    expect((await lost.promise).check(ConnectionDone)).toBe(ConnectionDone);
    expect((await serverReason.promise).check(ConnectionDone)).toBe(ConnectionDone);
    await port.stopListening();
  });
});

describe('closing', () => {
  it('loseConnection() closes only after everything written is sent (4 MiB)', async () => {
    const size = 4 * 1024 * 1024;
    const { port, number } = listen(
      class extends Protocol {
        override connectionMade(): void {
          this.transport.write(Buffer.alloc(size, 0x61));
          this.transport.loseConnection();
        }
      },
    );
    const cf = new RecordingClientFactory();
    reactor.connectTCP('127.0.0.1', number, cf);
    await cf.finished;
    expect(Buffer.concat(cf.built!.data).length).toBe(size);
    expect(cf.lost!.check(ConnectionDone)).toBe(ConnectionDone);
    await port.stopListening();
  });

  it('a write after loseConnection() (before the close) is still sent; after the close it is dropped', async () => {
    let lateWrite: (() => void) | null = null;
    const { port, number } = listen(
      class extends Protocol {
        override connectionMade(): void {
          this.transport.write(Buffer.from('a'));
          this.transport.loseConnection();
          this.transport.write(Buffer.from('b'));
          this.transport.loseConnection();
        }
        override connectionLost(): void {
          lateWrite = () => this.transport.write(Buffer.from('c'));
        }
      },
    );
    const cf = new RecordingClientFactory();
    reactor.connectTCP('127.0.0.1', number, cf);
    await cf.finished;
    await waitFor(() => lateWrite !== null);
    expect(lateWrite!).not.toThrow();
    expect(cf.built!.text()).toBe('ab');
    await port.stopListening();
  });

  it('loseWriteConnection(): the peer reads to the end of the stream, and this side still reads its reply', async () => {
    const serverGot: string[] = [];
    const serverReason = signal<Failure>();
    const { port, number } = listen(
      class extends Protocol {
        override dataReceived(d: Buffer): void {
          serverGot.push(d.toString());
          this.transport.write(Buffer.from('reply'));
        }
        override connectionLost(reason: Failure): void {
          // The client's half-close ends the stream the server reads.
          serverReason.resolve(reason);
        }
      },
    );
    const seen: string[] = [];
    const cf = new RecordingClientFactory(
      () =>
        new (class extends Collector {
          override connectionMade(): void {
            this.transport.write(Buffer.from('half'));
            this.transport.loseWriteConnection();
            seen.push(`disconnecting=${String(this.transport.disconnecting)}`);
          }
        })(),
    );
    reactor.connectTCP('127.0.0.1', number, cf);
    await cf.finished;
    expect(seen).toEqual(['disconnecting=false']);
    expect(serverGot.join('')).toBe('half');
    expect((await serverReason.promise).check(ConnectionDone)).toBe(ConnectionDone);
    // The client could still read after closing its sending half.
    expect(cf.built!.text()).toBe('reply');
    expect(cf.lost!.check(ConnectionDone)).toBe(ConnectionDone);
    await port.stopListening();
  });

  it('abortConnection(): the protocol gets ConnectionAborted, the peer a reset (ConnectionLost)', async () => {
    const serverReason = signal<Failure>();
    const { port, number } = listen(
      class extends Protocol {
        override dataReceived(): void {
          this.transport.write(Buffer.alloc(1 << 20));
          this.transport.abortConnection();
          this.transport.abortConnection();
        }
        override connectionLost(reason: Failure): void {
          serverReason.resolve(reason);
        }
      },
    );
    const cf = new RecordingClientFactory(
      () =>
        new (class extends Collector {
          override connectionMade(): void {
            this.transport.write(Buffer.from('go'));
          }
        })(),
    );
    reactor.connectTCP('127.0.0.1', number, cf);
    const reason = await serverReason.promise;
    expect(reason.check(ConnectionAborted)).toBe(ConnectionAborted);
    await cf.finished;
    expect(cf.lost!.check(ConnectionLost)).toBe(ConnectionLost);
    await port.stopListening();
  });

  it('abortConnection() after loseConnection(), with data still queued: ConnectionAborted, not ConnectionDone', async () => {
    const serverReason = signal<Failure>();
    const { port, number } = listen(
      class extends Protocol {
        override connectionMade(): void {
          this.transport.getHandle().setsockopt(SOL_SOCKET, SO_SNDBUF, 4096);
          this.transport.write(Buffer.alloc(4 << 20));
          this.transport.loseConnection();
          reactor.callLater(0.05, () => this.transport.abortConnection());
        }
        override connectionLost(reason: Failure): void {
          serverReason.resolve(reason);
        }
      },
    );
    const cf = new RecordingClientFactory(
      () =>
        new (class extends Collector {
          override connectionMade(): void {
            // Read nothing, so that the server cannot drain its buffer.
            this.transport.pauseProducing();
          }
        })(),
    );
    reactor.connectTCP('127.0.0.1', number, cf);
    expect((await serverReason.promise).check(ConnectionAborted)).toBe(ConnectionAborted);
    cf.built!.transport.resumeProducing();
    await cf.finished;
    expect(cf.lost!.check(ConnectionLost)).toBe(ConnectionLost);
    await port.stopListening();
  });

  it('a peer reset: connectionLost with ConnectionLost, not ConnectionDone', async () => {
    const serverReason = signal<Failure>();
    const { port, number } = listen(
      class extends Protocol {
        override connectionLost(reason: Failure): void {
          serverReason.resolve(reason);
        }
      },
    );
    const client = net.connect(number, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    client.resetAndDestroy();
    const reason = await serverReason.promise;
    expect(reason.check(ConnectionLost)).toBe(ConnectionLost);
    expect(reason.getErrorMessage()).toBe('Connection to the other side was lost in a non-clean fashion.');
    await port.stopListening();
  });

  it('the client closing cleanly gives the server ConnectionDone (Node net peer)', async () => {
    const serverReason = signal<Failure>();
    const got: string[] = [];
    const { port, number } = listen(
      class extends Protocol {
        override dataReceived(d: Buffer): void {
          got.push(d.toString());
        }
        override connectionLost(reason: Failure): void {
          serverReason.resolve(reason);
        }
      },
    );
    const client = net.connect(number, '127.0.0.1');
    client.end('hello');
    const reason = await serverReason.promise;
    expect(got.join('')).toBe('hello');
    expect(reason.check(ConnectionDone)).toBe(ConnectionDone);
    await port.stopListening();
  });
});

describe('faults', () => {
  it('a dataReceived() that throws is logged and drops that connection only; connectionLost gets the error', async () => {
    await capturingLog(async (events) => {
      const reasons: Failure[] = [];
      class Fragile extends Protocol {
        override dataReceived(data: Buffer): void {
          if (data.toString() === 'boom') throw new RangeError('protocol bug');
          this.transport.write(data);
        }
        override connectionLost(reason: Failure): void {
          reasons.push(reason);
        }
      }
      const { port, number } = listen(Fragile);
      const bad = new RecordingClientFactory(
        () =>
          new (class extends Collector {
            override connectionMade(): void {
              this.transport.write(Buffer.from('boom'));
            }
          })(),
      );
      const good = new RecordingClientFactory(
        () =>
          new (class extends Collector {
            override connectionMade(): void {
              this.transport.write(Buffer.from('fine'));
            }
            override dataReceived(d: Buffer): void {
              super.dataReceived(d);
              this.transport.loseConnection();
            }
          })(),
      );
      reactor.connectTCP('127.0.0.1', number, bad);
      await bad.finished;
      reactor.connectTCP('127.0.0.1', number, good);
      await good.finished;
      expect(good.built!.text()).toBe('fine');
      await waitFor(() => reasons.length === 2);
      expect(reasons[0]!.check(RangeError)).toBe(RangeError);
      expect(reasons[0]!.getErrorMessage()).toBe('protocol bug');
      expect(reasons[1]!.check(ConnectionDone)).toBe(ConnectionDone);
      const errors = events.filter((e) => e.isError);
      expect(errors.length).toBe(1);
      expect(errors[0]!.failure!.getErrorMessage()).toBe('protocol bug');
      await port.stopListening();
    });
  });

  it('a connectionMade() that throws is logged, and the connection is dropped after what it wrote', async () => {
    await capturingLog(async (events) => {
      const serverReason = signal<Failure>();
      class Greeter extends Protocol {
        override connectionMade(): void {
          this.transport.write(Buffer.from('hello'));
          throw new Error('greeting failed');
        }
        override connectionLost(reason: Failure): void {
          serverReason.resolve(reason);
        }
      }
      const { port, number } = listen(Greeter);
      const cf = new RecordingClientFactory();
      reactor.connectTCP('127.0.0.1', number, cf);
      await cf.finished;
      expect(cf.built!.text()).toBe('hello');
      expect(cf.lost!.check(ConnectionDone)).toBe(ConnectionDone);
      expect((await serverReason.promise).getErrorMessage()).toBe('greeting failed');
      expect(events.filter((e) => e.isError).map((e) => e.failure!.getErrorMessage())).toEqual(['greeting failed']);
      await port.stopListening();
    });
  });

  it('a connectionLost() and a delayed call that throw are logged, and the reactor goes on', async () => {
    await capturingLog(async (events) => {
      const { port, number } = listen(
        class extends Protocol {
          override connectionMade(): void {
            this.transport.loseConnection();
          }
          override connectionLost(): void {
            throw new Error('in connectionLost');
          }
        },
      );
      const cf = new RecordingClientFactory();
      reactor.connectTCP('127.0.0.1', number, cf);
      await cf.finished;
      const ran = new Deferred<void>();
      reactor.callLater(0, () => {
        throw new Error('in a delayed call');
      });
      reactor.callLater(0.01, () => ran.callback());
      await ran;
      await waitFor(() => events.filter((e) => e.isError).length === 2);
      expect(events.filter((e) => e.isError).map((e) => e.failure!.getErrorMessage()).sort()).toEqual([
        'in a delayed call',
        'in connectionLost',
      ]);
      await port.stopListening();
    });
  });

  it('callLater() from one connection’s handler writes to another connection', async () => {
    const conns: Protocol[] = [];
    class Relay extends LineReceiver {
      override delimiter = Buffer.from('\n');
      override connectionMade(): void {
        conns.push(this);
      }
      override lineReceived(line: Buffer): void {
        const other = conns.find((c) => c !== this)!;
        reactor.callLater(0.01, () => other.transport.write(Buffer.concat([Buffer.from('relayed '), line, Buffer.from('\n')])));
      }
    }
    const { port, number } = listen(Relay);
    const a = new RecordingClientFactory();
    const b = new RecordingClientFactory();
    reactor.connectTCP('127.0.0.1', number, a);
    reactor.connectTCP('127.0.0.1', number, b);
    await waitFor(() => conns.length === 2 && a.built?.made === true && b.built?.made === true);
    a.built!.transport.write(Buffer.from('ping\n'));
    await waitFor(() => b.built!.text() === 'relayed ping\n');
    a.built!.transport.loseConnection();
    b.built!.transport.loseConnection();
    await Promise.all([a.finished, b.finished]);
    await port.stopListening();
  });

  it('1,000 connections at once, each echoed', async () => {
    const n = 1000;
    class Echo extends Protocol {
      override dataReceived(d: Buffer): void {
        this.transport.write(d);
      }
    }
    // A backlog for them all: with Twisted's 50, the kernel drops SYNs and
    // the clients retry after a second or more.
    const { port, number } = listen(Echo, '127.0.0.1', 1024);
    let closed = 0;
    let echoed = 0;
    const allDone = new Deferred<void>();
    const factory = new (class extends ClientFactory {
      override buildProtocol(): Protocol {
        return new (class extends Protocol {
          override connectionMade(): void {
            this.transport.write(Buffer.from('x'.repeat(32)));
          }
          override dataReceived(d: Buffer): void {
            echoed += d.length;
            if (echoed % 32 === 0) this.transport.loseConnection();
          }
          override connectionLost(): void {
            closed += 1;
            if (closed === n) allDone.callback();
          }
        })();
      }
    })();
    for (let i = 0; i < n; i++) reactor.connectTCP('127.0.0.1', number, factory);
    await allDone;
    expect(echoed).toBe(32 * n);
    await port.stopListening();
  }, 60_000);
});

describe('producers and consumers', () => {
  it('a streaming producer is paused above the buffer size and resumed when it drains', async () => {
    const total = 2 * 1024 * 1024;
    const events: string[] = [];
    class Streamer extends Protocol implements IProducer {
      sent = 0;
      paused = false;
      override connectionMade(): void {
        // Small kernel buffers, so that the transport's own buffer fills.
        this.transport.getHandle().setsockopt(SOL_SOCKET, SO_SNDBUF, 16384);
        this.transport.registerProducer(this, true);
        this.produce();
      }
      produce(): void {
        while (!this.paused && this.sent < total) {
          this.sent += 16384;
          this.transport.write(Buffer.alloc(16384, 0x62));
        }
        if (this.sent >= total) {
          this.transport.unregisterProducer();
          this.transport.loseConnection();
        }
      }
      pauseProducing(): void {
        if (events.at(-1) !== 'pause') events.push('pause');
        this.paused = true;
      }
      resumeProducing(): void {
        if (events.at(-1) !== 'resume') events.push('resume');
        this.paused = false;
        reactor.callLater(0, () => this.produce());
      }
      stopProducing(): void {
        events.push('stop');
      }
    }
    const { port, number } = listen(Streamer);
    const cf = new RecordingClientFactory(
      () =>
        new (class extends Collector {
          override connectionMade(): void {
            // Read nothing for a while, so that the server's buffer fills.
            this.transport.getHandle().setsockopt(SOL_SOCKET, SO_RCVBUF, 16384);
            this.transport.pauseProducing();
            reactor.callLater(0.2, () => this.transport.resumeProducing());
          }
        })(),
    );
    reactor.connectTCP('127.0.0.1', number, cf);
    await cf.finished;
    expect(Buffer.concat(cf.built!.data).length).toBe(total);
    expect(events.slice(0, 2)).toEqual(['pause', 'resume']);
    expect(events).not.toContain('stop');
    await port.stopListening();
  });

  it('a pull producer is asked for one chunk each time the buffer drains', async () => {
    let asked = 0;
    class Puller extends Protocol implements IProducer {
      override connectionMade(): void {
        this.transport.registerProducer(this, false);
        expect(() => this.transport.registerProducer(this, false)).toThrow(/never unregistered/);
      }
      resumeProducing(): void {
        asked += 1;
        if (asked <= 20) this.transport.write(Buffer.alloc(100_000, 0x63));
        else {
          this.transport.unregisterProducer();
          this.transport.loseConnection();
        }
      }
      stopProducing(): void {}
    }
    const { port, number } = listen(Puller);
    const cf = new RecordingClientFactory();
    reactor.connectTCP('127.0.0.1', number, cf);
    await cf.finished;
    expect(asked).toBe(21);
    expect(Buffer.concat(cf.built!.data).length).toBe(20 * 100_000);
    await port.stopListening();
  });

  it('a producer registered when the connection is lost is stopped; one registered after is stopped at once', async () => {
    const stops: string[] = [];
    let transport: Connection | null = null;
    const { port, number } = listen(
      class extends Protocol {
        override connectionMade(): void {
          transport = this.transport as unknown as Connection;
          this.transport.registerProducer({ resumeProducing() {}, pauseProducing() {}, stopProducing: () => stops.push('first') }, true);
        }
      },
    );
    const client = net.connect(number, '127.0.0.1');
    await waitFor(() => transport !== null);
    client.end();
    await waitFor(() => stops.length === 1);
    transport!.registerProducer({ resumeProducing() {}, stopProducing: () => stops.push('late') }, false);
    expect(stops).toEqual(['first', 'late']);
    expect(() => transport!.registerProducer(null as never, true)).toThrow(TypeError);
    await port.stopListening();
  });

  it('writeSequence(), setTcpNoDelay() and setTcpKeepAlive(); write() takes bytes only', async () => {
    const checks: unknown[] = [];
    const { port, number } = listen(
      class extends Protocol {
        override connectionMade(): void {
          this.transport.setTcpNoDelay(true);
          checks.push(this.transport.getTcpNoDelay());
          this.transport.setTcpNoDelay(false);
          checks.push(this.transport.getTcpNoDelay());
          this.transport.setTcpKeepAlive(true);
          checks.push(this.transport.getTcpKeepAlive());
          try {
            this.transport.write('text' as never);
          } catch (err) {
            checks.push((err as Error).message);
          }
          this.transport.writeSequence([Buffer.from('a'), Buffer.from('bc'), new Uint8Array([0x64])]);
          this.transport.loseConnection();
        }
      },
    );
    const cf = new RecordingClientFactory();
    reactor.connectTCP('127.0.0.1', number, cf);
    await cf.finished;
    expect(cf.built!.text()).toBe('abcd');
    expect(checks).toEqual([true, false, true, "write(): takes bytes (a Buffer or Uint8Array), not 'text'"]);
    await port.stopListening();
  });
});

describe('UNIX and UDP', () => {
  it('listenUNIX()/connectUNIX(): UNIXAddress ends, and the socket file goes with stopListening()', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tw-'));
    const where = path.join(dir, 'echo.sock');
    try {
      let peer: unknown = null;
      const port = reactor.listenUNIX(
        where,
        Factory.forProtocol(
          class extends Protocol {
            override connectionMade(): void {
              peer = this.transport.getPeer();
            }
            override dataReceived(d: Buffer): void {
              this.transport.write(d);
              this.transport.loseConnection();
            }
          },
        ),
      );
      expect(port.getHost()).toEqual(new UNIXAddress(where));
      const cf = new RecordingClientFactory(
        () =>
          new (class extends Collector {
            override connectionMade(): void {
              this.transport.write(Buffer.from('over unix'));
            }
          })(),
      );
      reactor.connectUNIX(where, cf);
      await cf.finished;
      expect(cf.built!.text()).toBe('over unix');
      expect(peer).toEqual(new UNIXAddress(null));
      expect(existsSync(where)).toBe(true);
      await port.stopListening();
      expect(existsSync(where)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('listenUDP(): datagrams both ways, startProtocol()/stopProtocol(), a connected port', async () => {
    const got: Array<[string, number]> = [];
    const lifecycle: string[] = [];
    class Echo extends DatagramProtocol {
      override startProtocol(): void {
        lifecycle.push('start');
      }
      override stopProtocol(): void {
        lifecycle.push('stop');
      }
      override datagramReceived(data: Buffer, addr: [string, number]): void {
        this.transport.write(Buffer.concat([Buffer.from('echo '), data]), addr);
      }
    }
    class Sender extends DatagramProtocol {
      override datagramReceived(data: Buffer, addr: [string, number]): void {
        got.push([data.toString(), addr[1]]);
      }
    }
    const server = reactor.listenUDP(0, new Echo(), '127.0.0.1');
    const serverPort = server.getHost().port;
    const client = reactor.listenUDP(0, new Sender(), '127.0.0.1');
    client.write(Buffer.from('one'), ['127.0.0.1', serverPort]);
    await waitFor(() => got.length === 1);
    expect(got).toEqual([['echo one', serverPort]]);
    client.connect('127.0.0.1', serverPort);
    client.write(Buffer.from('two'));
    await waitFor(() => got.length === 2);
    expect(got[1]).toEqual(['echo two', serverPort]);
    expect(() => client.write(Buffer.from('x'), ['127.0.0.1', 1])).toThrow(/connected/);
    expect(() => client.connect('localhost' as string, 1)).toThrow(/IP address/);
    await server.stopListening();
    await client.stopListening();
    expect(lifecycle).toEqual(['start', 'stop']);
  });

  it('a connected UDP port whose peer is closed hears connectionRefused()', async () => {
    let refused = 0;
    const closed = reactor.listenUDP(0, new DatagramProtocol(), '127.0.0.1');
    const deadPort = closed.getHost().port;
    await closed.stopListening();
    const proto = new (class extends DatagramProtocol {
      override connectionRefused(): void {
        refused += 1;
      }
    })();
    const p = reactor.listenUDP(0, proto, '127.0.0.1');
    p.connect('127.0.0.1', deadPort);
    p.write(Buffer.from('anyone?'));
    await waitFor(() => refused > 0);
    // The port stays open, and works.
    expect(p.connected).toBe(true);
    p.write(Buffer.from('again'));
    await waitFor(() => refused > 1);
    await p.stopListening();
  });
});

describe('the reactor', () => {
  it('addReader()/addWriter() watch any object with fileno(); removeReader()/removeWriter() stop it', async () => {
    const [r, w] = posix.pipe();
    try {
      const reads: string[] = [];
      let writes = 0;
      const reader = {
        fileno: () => r,
        doRead: () => void reads.push(posix.read(r, 100).toString()),
      };
      const writer = {
        fileno: () => w,
        doWrite: () => {
          writes += 1;
          reactor.removeWriter(writer);
        },
      };
      reactor.addReader(reader);
      expect(reactor.getReaders()).toContain(reader);
      posix.write(w, Buffer.from('ping'));
      await waitFor(() => reads.length === 1);
      expect(reads).toEqual(['ping']);
      reactor.addWriter(writer);
      await waitFor(() => writes === 1);
      expect(reactor.getWriters()).not.toContain(writer);
      reactor.removeReader(reader);
      expect(reactor.getReaders()).not.toContain(reader);
      posix.write(w, Buffer.from('not read'));
      await new Promise((res) => setTimeout(res, 50));
      expect(reads).toEqual(['ping']);
    } finally {
      posix.close(r);
      posix.close(w);
    }
  });

  it('a reader whose doRead() returns an Error gets connectionLost() with it', async () => {
    const [r, w] = posix.pipe();
    try {
      const lost = signal<Failure>();
      reactor.addReader({
        fileno: () => r,
        doRead: () => new ConnectionDone(),
        connectionLost: (reason: Failure) => lost.resolve(reason),
      });
      posix.write(w, Buffer.from('x'));
      const reason = await lost.promise;
      expect(reason.check(ConnectionDone)).toBe(ConnectionDone);
    } finally {
      posix.close(r);
      posix.close(w);
    }
  });

  it('callLater(): order, cancel(), reset(), delay(), active(), getTime(); running and seconds()', async () => {
    expect(reactor.running).toBe(true);
    const order: string[] = [];
    const start = reactor.seconds();
    const a = reactor.callLater(0.03, () => order.push('a'));
    const b = reactor.callLater(0.01, () => order.push('b'));
    const c = reactor.callLater(0.02, () => order.push('c'));
    const d = reactor.callLater(0.02, () => order.push('d'));
    expect(a.getTime()).toBeGreaterThanOrEqual(start + 0.03);
    c.cancel();
    expect(c.active()).toBe(false);
    d.reset(0.05);
    b.delay(0.05);
    expect(reactor.getDelayedCalls()).toContain(a);
    expect(reactor.getDelayedCalls()).not.toContain(c);
    await waitFor(() => order.length === 3);
    expect(order).toEqual(['a', 'd', 'b']);
    expect(a.active()).toBe(false);
    expect(() => a.reset(1)).toThrow(AlreadyCalled);
    expect(() => c.delay(1)).toThrow(AlreadyCancelled);
    expect(reactor.seconds()).toBeGreaterThanOrEqual(start + 0.06);
  });

  it('callLater(0) from a delayed call runs on a later round, not in the same one', async () => {
    const order: string[] = [];
    reactor.callLater(0, () => {
      order.push('first');
      reactor.callLater(0, () => order.push('third'));
      order.push('second');
    });
    await waitFor(() => order.length === 3);
    expect(order).toEqual(['first', 'second', 'third']);
  });

  it('callWhenRunning() while running calls at once', () => {
    let called = false;
    reactor.callWhenRunning(() => {
      called = true;
    });
    expect(called).toBe(true);
  });

  it('ReconnectingClientFactory retries with back-off until maxRetries, then stops', async () => {
    const { port, number } = listen(Protocol);
    await port.stopListening();
    const attempts: number[] = [];
    const gaveUp = new Deferred<void>();
    const f = new (class extends ReconnectingClientFactory {
      override startedConnecting(): void {
        attempts.push(reactor.seconds());
      }
      override clientConnectionFailed(c: IConnector, reason: Failure): void {
        super.clientConnectionFailed(c, reason);
        if (this.retries > (this.maxRetries ?? 0)) gaveUp.callback();
      }
    })();
    f.initialDelay = 0.01;
    f.delay = 0.01;
    f.maxDelay = 0.05;
    f.maxRetries = 3;
    f.noisy = false;
    f.protocol = Protocol;
    reactor.connectTCP('127.0.0.1', number, f);
    await gaveUp;
    expect(attempts.length).toBe(4);
    f.resetDelay();
    expect([f.retries, f.delay]).toEqual([0, 0.01]);
    f.stopTrying();
    expect(f.continueTrying).toBe(false);
  });
});

import { AlreadyCalled, AlreadyCancelled } from '../src/twisted/error';
