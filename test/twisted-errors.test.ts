// Bad input to asyncore/twisted: each is a TypeError or RangeError (or
// Twisted's own error) that names the function and the value.
import { Buffer } from 'node:buffer';
import * as util from 'node:util';
import { describe, expect, it } from 'vitest';
import { LineOnlyReceiver, LineReceiver, NetstringReceiver, Int16StringReceiver } from '../src/twisted/basic';
import * as log from '../src/twisted/log';
import { ClientFactory, DatagramProtocol, Factory, Protocol, ReconnectingClientFactory } from '../src/twisted/protocol';
import { reactor } from '../src/twisted/reactor';
import { Client, Connection, Connector, Server, TCPPort } from '../src/twisted/tcp';
import { UDPPort } from '../src/twisted/udp';
import { Clock, LoopingCall } from '../src/twisted/task';
import { StringTransport } from './twisted-support';
import { expectNoFdLeaks } from './support';

expectNoFdLeaks();

describe('asyncore/twisted rejects bad input, naming it', () => {
  it('log observers', () => {
    expect(() => log.addObserver('x' as never)).toThrow(/addObserver\(\): needs a function, not 'x'/);
  });

  it('delayed calls', () => {
    const c = new Clock();
    const call = c.callLater(1, () => 0);
    expect(() => call.reset(-1)).toThrow(/reset\(\): cannot take a negative delay: -1/);
    expect(() => call.reset('1' as never)).toThrow(/reset\(\): needs a number of seconds, not '1'/);
    expect(() => call.delay(Number.NaN)).toThrow(/delay\(\): needs a number of seconds, not NaN/);
    expect(() => c.callLater('soon' as never, () => 0)).toThrow(/callLater\(\): needs a number of seconds, not 'soon'/);
    expect(() => c.callLater(1, null as never)).toThrow(/callLater\(\): needs a function, not null/);
    expect(() => c.advance('1' as never)).toThrow(/advance\(\): needs a number of seconds/);
  });

  it('LoopingCall', () => {
    const lc = new LoopingCall(() => 0);
    lc.clock = new Clock();
    expect(() => lc.start('1' as never)).toThrow(/start\(\): needs an interval in seconds, not '1'/);
    expect(() => lc.reset()).toThrow(/reset a LoopingCall that was not running/);
  });

  it('system event triggers', () => {
    expect(() => reactor.addSystemEventTrigger('before', 5 as never, () => 0)).toThrow(/eventType must be a string, not 5/);
    expect(() => reactor.addSystemEventTrigger('before', 'custom', 'f' as never)).toThrow(/needs a function, not 'f'/);
    expect(() => reactor.removeSystemEventTrigger('nope')).toThrow(/not a trigger id: 'nope'/);
    const id = reactor.addSystemEventTrigger('before', 'custom', () => 0);
    reactor.removeSystemEventTrigger(id);
    expect(() => reactor.removeSystemEventTrigger(id)).toThrow(/not \(or no longer\) registered/);
    expect(() => reactor.removeSystemEventTrigger(['unknown-event', 'before', [() => 0, []]])).toThrow(/no such trigger/);
    let fired = 0;
    reactor.addSystemEventTrigger('after', 'custom', () => (fired += 1));
    reactor.fireSystemEvent('custom');
    expect(fired).toBe(1);
  });

  it('addReader()/addWriter() need a usable fileno()', () => {
    expect(() => reactor.addWriter({ fileno: () => -1, doWrite: () => 0 })).toThrow(
      /addWriter\(\): fileno\(\) must be a file descriptor in \[0, 2\*\*31\), got -1/,
    );
    // Past 2**31 the addon would take the fd mod 2**32: refused too.
    expect(() => reactor.addReader({ fileno: () => 2 ** 32, doRead: () => 0 })).toThrow(RangeError);
    expect(() => reactor.addReader({ fileno: () => 2 ** 31, doRead: () => 0 })).toThrow(RangeError);
    expect(() => reactor.addReader({ fileno: () => 1.5, doRead: () => 0 })).toThrow(TypeError);
    expect(() => reactor.addReader(null as never)).toThrow(/needs an object with fileno\(\), not null/);
  });

  it('listening and connecting', () => {
    const f = Factory.forProtocol(Protocol);
    expect(() => reactor.listenTCP(0, f, 1.5)).toThrow(/backlog must be an integer, not 1.5/);
    expect(() => reactor.listenTCP(0, f, 50, 7 as never)).toThrow(/interface must be a string, not 7/);
    expect(() => reactor.listenUNIX('/tmp/x.sock', f, 50, 'rw' as never)).toThrow(/mode must be an integer, not 'rw'/);
    expect(() => reactor.listenUDP(-1, new DatagramProtocol())).toThrow(/port must be an integer from 0 to 65535, not -1/);
    expect(() => reactor.listenUDP(0, {} as never)).toThrow(/needs a DatagramProtocol/);
    expect(() => reactor.listenUDP(0, new DatagramProtocol(), '127.0.0.1', 0)).toThrow(/maxPacketSize must be a positive integer, not 0/);
    expect(() => reactor.connectUNIX(42 as never, new ClientFactory())).toThrow(/needs a socket path \(a non-empty string\), not 42/);
  });

  it('a connector connects once at a time; retry() needs a connector', () => {
    const connector = reactor.connectUNIX('/nonexistent/socket', new ClientFactory(), null);
    expect(() => connector.connect()).toThrow(/can't connect in this state \(connecting\)/);
    connector.stopConnecting();
    const r = new ReconnectingClientFactory();
    expect(() => r.retry()).toThrow(/no connector to retry/);
  });

  it('UDP writes and connect()', () => {
    const p = reactor.listenUDP(0, new DatagramProtocol(), '127.0.0.1');
    try {
      expect(() => p.write('text' as never, ['127.0.0.1', 9])).toThrow(/write\(\): takes bytes, not 'text'/);
      expect(() => p.write(Buffer.from('x'), 'host' as never)).toThrow(/needs the address as \[host, port\], not 'host'/);
      expect(() => p.connect('127.0.0.1', 'x' as never)).toThrow(/port must be an integer, not 'x'/);
      p.connect('127.0.0.1', 9);
      expect(() => p.connect('127.0.0.1', 10)).toThrow(/already connected/);
    } finally {
      p.connectionLost(null as never);
    }
  });

  it('the framing protocols', () => {
    const lr = new (class extends LineReceiver {
      override lineReceived(): void {}
    })();
    lr.makeConnection(new StringTransport());
    lr.delimiter = 5 as never;
    expect(() => lr.dataReceived(Buffer.from('x'))).toThrow(/delimiter must be bytes \(or a string\), not 5/);
    lr.delimiter = '\n';
    expect(() => lr.setLineMode('x' as never)).toThrow(/setLineMode\(\): takes bytes/);
    const lo = new (class extends LineOnlyReceiver {
      override lineReceived(): void {}
    })();
    lo.makeConnection(new StringTransport());
    lo.delimiter = '';
    expect(() => lo.dataReceived(Buffer.from('x'))).toThrow(/delimiter cannot be empty/);
    const ns = new NetstringReceiver();
    ns.makeConnection(new StringTransport());
    expect(() => ns.sendString('s' as never)).toThrow(/sendString\(\): takes bytes/);
    const i16 = new Int16StringReceiver();
    i16.makeConnection(new StringTransport());
    expect(() => i16.sendString(7 as never)).toThrow(/sendString\(\): takes bytes/);
  });

  it('a transport’s writeSequence() takes an array of bytes', () => {
    const port = reactor.listenTCP(0, Factory.forProtocol(Protocol), 50, '127.0.0.1');
    try {
      expect(() => port.doWrite()).not.toThrow();
    } finally {
      port.connectionLost(null as never);
    }
    const writeSequence = Connection.prototype.writeSequence;
    expect(() => writeSequence.call({} as never, 'ab' as never)).toThrow(/writeSequence\(\): takes an array of bytes, not 'ab'/);
    expect(() => writeSequence.call({} as never, [Buffer.from('a'), 'b'] as never)).toThrow(/writeSequence\(\): takes bytes/);
  });

  it('the basic protocols: dataReceived() takes bytes; a call that needs the transport before makeConnection() says so', () => {
    for (const P of [LineReceiver, LineOnlyReceiver, NetstringReceiver, Int16StringReceiver]) {
      const p = new P();
      p.makeConnection(new StringTransport());
      expect(() => p.dataReceived(undefined as never)).toThrow(/^dataReceived\(\): takes bytes \(a Buffer or Uint8Array\), not undefined$/);
      expect(() => p.dataReceived({} as never)).toThrow(/^dataReceived\(\): takes bytes \(a Buffer or Uint8Array\), not \{\}$/);
    }
    const lr = new LineReceiver();
    expect(() => lr.pauseProducing()).toThrow(/^pauseProducing\(\): LineReceiver has no transport \(makeConnection\(\) has not run\)$/);
    expect(() => lr.lineLengthExceeded(Buffer.from('x'))).toThrow(/^lineLengthExceeded\(\): LineReceiver has no transport/);
    expect(() => new Int16StringReceiver().lengthLimitExceeded(5)).toThrow(/^lengthLimitExceeded\(\): Int16StringReceiver has no transport/);
    expect(() => new NetstringReceiver().sendString(Buffer.from('x'))).toThrow(/^sendString\(\): NetstringReceiver has no transport/);
  });

  it('factories: buildProtocol() with a protocol that is not a class; ReconnectingClientFactory with a non-connector', () => {
    const f = new Factory();
    f.protocol = 5 as never;
    expect(() => f.buildProtocol(null as never)).toThrow(/^buildProtocol\(\): Factory\.protocol must be a Protocol class, not 5$/);
    const r = new ReconnectingClientFactory();
    expect(() => r.clientConnectionFailed(undefined as never, null as never)).toThrow(
      /^clientConnectionFailed\(\): needs an IConnector \(an object with connect\(\)\), not undefined$/,
    );
    expect(() => r.clientConnectionLost('c' as never, null as never)).toThrow(/^clientConnectionLost\(\): needs an IConnector .*, not 'c'$/);
    expect(() => r.retry({} as never)).toThrow(/^retry\(\): needs an IConnector .*, not \{\}$/);
  });

  it('transports, ports and connectors made directly name themselves and the bad argument', () => {
    expect(() => new Connection(undefined as never, null as never, null as never, null as never)).toThrow(/^Connection\(\): needs the reactor, not undefined$/);
    expect(() => new Connection(reactor, 'sock' as never, null as never, null as never)).toThrow(/^Connection\(\): needs a connected socket, not 'sock'$/);
    expect(() => new TCPPort(7 as never, 0, Factory.forProtocol(Protocol), 50, '')).toThrow(/^TCPPort\(\): needs the reactor, not 7$/);
    expect(() => new UDPPort(null as never, 0, new DatagramProtocol(), '', 8192)).toThrow(/^UDPPort\(\): needs the reactor, not null$/);
    expect(() => new Connector(null as never, '127.0.0.1', 1, new ClientFactory(), 30, null)).toThrow(/^connectTCP\(\): needs the reactor, not null$/);
    expect(() => new Client(reactor, null as never, null as never, null as never)).toThrow(/^Client\(\): needs a connector, not null$/);
    expect(() => new Server(reactor, null as never, null as never, ['h', 1], 'port' as never, 0)).toThrow(
      /^Server\(\): needs the TCPPort that accepted the connection, not 'port'$/,
    );
  });

  it('UDP writeSequence() takes an array of bytes', () => {
    const p = reactor.listenUDP(0, new DatagramProtocol(), '127.0.0.1');
    try {
      expect(() => p.writeSequence('ab' as never, ['127.0.0.1', 9])).toThrow(/^writeSequence\(\): takes an array of bytes, not 'ab'$/);
      expect(() => p.writeSequence([Buffer.from('a'), 5] as never, ['127.0.0.1', 9])).toThrow(/^writeSequence\(\): takes an array of bytes/);
    } finally {
      p.connectionLost(null as never);
    }
  });

  it('no error report throws itself: a value whose toString() throws is described, not stringified', async () => {
    const evil = {
      toString(): string {
        throw new Error('evil toString');
      },
      [util.inspect.custom](): string {
        throw new Error('evil inspect');
      },
    };
    expect(() => reactor.listenTCP(0, evil as never)).toThrow(/^listenTCP\(\): needs a Factory, not <unprintable object>$/);
    expect(() => new LineReceiver().dataReceived(evil as never)).toThrow(/^dataReceived\(\): takes bytes \(a Buffer or Uint8Array\), not <unprintable object>$/);
    const messages: string[] = [];
    const observer = (e: log.LogEvent): void => void messages.push(e.message);
    log.addObserver(observer);
    try {
      const r = new ReconnectingClientFactory();
      r.clock = new Clock();
      r.retry({ connect() {}, toString: evil.toString } as never);
      expect(messages.some((m) => /will retry in/.test(m))).toBe(true);
    } finally {
      log.removeObserver(observer);
    }
  });

  it('a port of the wrong type is a TypeError, out of range a RangeError; setLineMode() and makeConnection() check their argument', () => {
    const f = Factory.forProtocol(Protocol);
    expect(() => reactor.listenTCP('x' as never, f)).toThrow(TypeError);
    expect(() => reactor.listenTCP('x' as never, f)).toThrow(/^listenTCP\(\): port must be an integer from 0 to 65535, not 'x'$/);
    expect(() => reactor.listenTCP(1.5, f)).toThrow(TypeError);
    expect(() => reactor.listenTCP(70000, f)).toThrow(RangeError);
    expect(() => reactor.connectTCP('127.0.0.1', null as never, new ClientFactory())).toThrow(TypeError);
    expect(() => reactor.listenUDP('53' as never, new DatagramProtocol())).toThrow(TypeError);
    const lr = new LineReceiver();
    lr.makeConnection(new StringTransport());
    expect(() => lr.setLineMode(123 as never)).toThrow(/^setLineMode\(\): takes bytes \(a Buffer or Uint8Array\), not 123$/);
    expect(() => lr.setLineMode(null as never)).toThrow(/^setLineMode\(\): takes bytes/);
    expect(() => new Protocol().makeConnection(5 as never)).toThrow(/^makeConnection\(\): needs a transport, not 5$/);
    expect(() => new DatagramProtocol().makeConnection(undefined as never)).toThrow(/^makeConnection\(\): needs a transport, not undefined$/);
  });
});
