// What the reactor does with anything protocol and factory code throws,
// after Twisted's Port.doRead() and _doReadOrWrite(): a buildProtocol()
// that throws has its accepted socket closed; anything thrown (an Error, a
// string, undefined) by dataReceived(), connectionMade() or buildProtocol()
// is logged, showing the value, and that connection is dropped
// (connectionLost() runs, the peer sees the end of the stream).
import { Buffer } from 'node:buffer';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IPv4Address } from '../src/twisted/address';
import { ConnectError } from '../src/twisted/error';
import type { Failure } from '../src/twisted/failure';
import * as log from '../src/twisted/log';
import { ClientFactory, DatagramProtocol, Factory, Protocol, ServerFactory } from '../src/twisted/protocol';
import type { IConnector } from '../src/twisted/protocol';
import { reactor } from '../src/twisted/reactor';
import type { TCPPort } from '../src/twisted/tcp';
import { expectNoFdLeaks, openFds, waitFor } from './support';
import { runReactorForTests } from './twisted-support';

expectNoFdLeaks();

runReactorForTests(reactor);

/** The errors logged while `fn` runs. */
async function loggedErrors(fn: () => Promise<void>): Promise<log.LogEvent[]> {
  const events: log.LogEvent[] = [];
  const observer = (e: log.LogEvent): void => {
    if (e.isError) events.push(e);
  };
  log.addObserver(observer);
  try {
    await fn();
  } finally {
    log.removeObserver(observer);
  }
  return events;
}

/** A Node client that connects, optionally sends, and resolves with what it read once the server closes. */
function nodeClient(port: number, send: string | null = null): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(port, '127.0.0.1', () => {
      if (send !== null) sock.write(send);
    });
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', () => {
      sock.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    sock.on('error', reject);
  });
}

function portNumber(port: TCPPort): number {
  return (port.getHost() as IPv4Address).port;
}

/** The values a protocol may throw, and the message their logged failure shows. */
const THROWN: Array<[label: string, value: unknown, message: string]> = [
  ['an Error', new RangeError('protocol bug'), 'protocol bug'],
  ['a string', 'a thrown string', 'a thrown string'],
  ['undefined', undefined, 'undefined'],
  ['an object', { code: 42 }, '{ code: 42 }'],
];

describe('buildProtocol() that throws (issue: the accepted socket leaked)', () => {
  it('closes each accepted socket: 50 clients see EOF and no fd is left open', async () => {
    const factory = new (class extends ServerFactory {
      override buildProtocol(): Protocol {
        throw new Error('no protocol for you');
      }
    })();
    const port = reactor.listenTCP(0, factory, 50, '127.0.0.1');
    const before = openFds().length;
    const errors = await loggedErrors(async () => {
      const replies = await Promise.all(Array.from({ length: 50 }, () => nodeClient(portNumber(port))));
      expect(replies).toEqual(Array(50).fill(''));
    });
    expect(errors.length).toBe(50);
    expect(errors.every((e) => e.failure!.getErrorMessage() === 'no protocol for you')).toBe(true);
    await waitFor(() => openFds().length <= before);
    expect(openFds().length).toBeLessThanOrEqual(before);
    await port.stopListening();
  });

  for (const [label, value, message] of THROWN) {
    it(`a server factory throwing ${label}: logged with the value, the client sees EOF`, async () => {
      const factory = new (class extends ServerFactory {
        override buildProtocol(): Protocol {
          throw value;
        }
      })();
      const port = reactor.listenTCP(0, factory, 50, '127.0.0.1');
      const errors = await loggedErrors(async () => {
        expect(await nodeClient(portNumber(port))).toBe('');
      });
      expect(errors.map((e) => e.failure!.getErrorMessage())).toEqual([message]);
      await port.stopListening();
    });
  }

  it('buildProtocol() returning undefined or null closes the socket, as Twisted does for None', async () => {
    for (const result of [undefined, null]) {
      const factory = new (class extends ServerFactory {
        override buildProtocol(): Protocol | null {
          return result as null;
        }
      })();
      const port = reactor.listenTCP(0, factory, 50, '127.0.0.1');
      expect(await nodeClient(portNumber(port))).toBe('');
      await port.stopListening();
    }
  });

  it('a client factory whose buildProtocol() throws: logged, and clientConnectionFailed with ConnectError', async () => {
    const server = reactor.listenTCP(0, Factory.forProtocol(Protocol), 50, '127.0.0.1');
    const failed = new Promise<Failure>((resolve) => {
      const cf = new (class extends ClientFactory {
        override buildProtocol(): Protocol {
          throw 'client side';
        }
        override clientConnectionFailed(_c: IConnector, reason: Failure): void {
          resolve(reason);
        }
      })();
      reactor.connectTCP('127.0.0.1', portNumber(server), cf);
    });
    const errors = await loggedErrors(async () => {
      const reason = await failed;
      expect(reason.check(ConnectError)).toBe(ConnectError);
    });
    expect(errors.map((e) => e.failure!.getErrorMessage())).toEqual(['client side']);
    await server.stopListening();
  });
});

describe('a UNIX client, connected on the turn it starts', () => {
  it('buildProtocol() throwing: logged, clientConnectionFailed; connectionMade() throwing: the server sees the close', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tw-faults-'));
    const address = path.join(dir, 's.sock');
    let serverLost = 0;
    const server = reactor.listenUNIX(
      address,
      Factory.forProtocol(
        class extends Protocol {
          override connectionLost(): void {
            serverLost += 1;
          }
        },
      ),
    );
    try {
      const failed = new Promise<Failure>((resolve) => {
        reactor.connectUNIX(
          address,
          new (class extends ClientFactory {
            override buildProtocol(): Protocol {
              throw undefined;
            }
            override clientConnectionFailed(_c: IConnector, reason: Failure): void {
              resolve(reason);
            }
          })(),
        );
      });
      const lost = new Promise<void>((resolve) => {
        reactor.connectUNIX(
          address,
          new (class extends ClientFactory {
            override buildProtocol(): Protocol {
              return new (class extends Protocol {
                override connectionMade(): void {
                  throw 'made';
                }
              })();
            }
            override clientConnectionLost(): void {
              resolve();
            }
          })(),
        );
      });
      const errors = await loggedErrors(async () => {
        expect((await failed).check(ConnectError)).toBe(ConnectError);
        await lost;
        await waitFor(() => serverLost === 2);
      });
      expect(errors.map((e) => e.failure!.getErrorMessage()).sort()).toEqual(['made', 'undefined']);
    } finally {
      await server.stopListening();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('anything thrown by a protocol drops its connection (issue: a string or undefined left it open)', () => {
  for (const [label, value, message] of THROWN) {
    it(`dataReceived() throwing ${label}: logged, connectionLost() with it, the peer sees EOF`, async () => {
      let lost: Failure | null = null;
      const port = reactor.listenTCP(
        0,
        Factory.forProtocol(
          class extends Protocol {
            override dataReceived(): void {
              this.transport.write(Buffer.from('before'));
              throw value;
            }
            override connectionLost(reason: Failure): void {
              lost = reason;
            }
          },
        ),
        50,
        '127.0.0.1',
      );
      const errors = await loggedErrors(async () => {
        expect(await nodeClient(portNumber(port), 'hello')).toBe('before');
        await waitFor(() => lost !== null);
      });
      expect(errors.map((e) => e.failure!.getErrorMessage())).toEqual([message]);
      expect(lost!.getErrorMessage()).toBe(message);
      await port.stopListening();
    });

    it(`connectionMade() throwing ${label} on a server: logged, and the connection dropped`, async () => {
      let lost: Failure | null = null;
      const port = reactor.listenTCP(
        0,
        Factory.forProtocol(
          class extends Protocol {
            override connectionMade(): void {
              throw value;
            }
            override connectionLost(reason: Failure): void {
              lost = reason;
            }
          },
        ),
        50,
        '127.0.0.1',
      );
      const errors = await loggedErrors(async () => {
        expect(await nodeClient(portNumber(port))).toBe('');
      });
      expect(errors.map((e) => e.failure!.getErrorMessage())).toEqual([message]);
      expect(lost!.getErrorMessage()).toBe(message);
      await port.stopListening();
    });
  }

  it('connectionMade() throwing undefined on a client: logged, connectionLost() and clientConnectionLost()', async () => {
    const serverSaw = new Promise<void>((resolve) => {
      const server = reactor.listenTCP(
        0,
        Factory.forProtocol(
          class extends Protocol {
            override connectionLost(): void {
              resolve();
              void server.stopListening();
            }
          },
        ),
        50,
        '127.0.0.1',
      );
      const cf = new (class extends ClientFactory {
        override buildProtocol(): Protocol {
          return new (class extends Protocol {
            override connectionMade(): void {
              throw undefined;
            }
          })();
        }
      })();
      reactor.connectTCP('127.0.0.1', portNumber(server), cf);
    });
    const errors = await loggedErrors(() => serverSaw);
    expect(errors.map((e) => e.failure!.getErrorMessage())).toEqual(['undefined']);
  });

  it('connectionLost() throwing undefined is logged with the value, not "Failure() needs the error to wrap"', async () => {
    let closed = false;
    const port = reactor.listenTCP(
      0,
      Factory.forProtocol(
        class extends Protocol {
          override connectionMade(): void {
            this.transport.loseConnection();
          }
          override connectionLost(): void {
            closed = true;
            throw undefined;
          }
        },
      ),
      50,
      '127.0.0.1',
    );
    const errors = await loggedErrors(async () => {
      expect(await nodeClient(portNumber(port))).toBe('');
      await waitFor(() => closed);
    });
    expect(errors.map((e) => e.failure!.getErrorMessage())).toEqual(['undefined']);
    await port.stopListening();
  });

  it('datagramReceived() throwing a string or undefined is logged, and the UDP port goes on reading', async () => {
    const got: string[] = [];
    const proto = new (class extends DatagramProtocol {
      override datagramReceived(data: Buffer): void {
        if (data.toString() === 'bad') throw 'datagram bug';
        if (data.toString() === 'none') throw undefined;
        got.push(data.toString());
      }
    })();
    const port = reactor.listenUDP(0, proto, '127.0.0.1');
    const sender = reactor.listenUDP(0, new DatagramProtocol(), '127.0.0.1');
    const errors = await loggedErrors(async () => {
      sender.write(Buffer.from('bad'), ['127.0.0.1', port.getHost().port]);
      sender.write(Buffer.from('none'), ['127.0.0.1', port.getHost().port]);
      sender.write(Buffer.from('good'), ['127.0.0.1', port.getHost().port]);
      await waitFor(() => got.length === 1);
    });
    expect(got).toEqual(['good']);
    expect(errors.map((e) => e.failure!.getErrorMessage())).toEqual(['datagram bug', 'undefined']);
    await sender.stopListening();
    await port.stopListening();
  });
});
