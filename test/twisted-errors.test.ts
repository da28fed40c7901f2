// Bad input to asyncore/twisted: each is a TypeError or RangeError (or
// Twisted's own error) that names the function and the value.
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { LineOnlyReceiver, LineReceiver, NetstringReceiver, Int16StringReceiver } from '../src/twisted/basic';
import * as log from '../src/twisted/log';
import { ClientFactory, DatagramProtocol, Factory, Protocol, ReconnectingClientFactory } from '../src/twisted/protocol';
import { reactor } from '../src/twisted/reactor';
import { Connection } from '../src/twisted/tcp';
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
});
