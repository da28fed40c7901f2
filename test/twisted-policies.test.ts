// twisted.protocols.policies, ported from Twisted 22.4's
// twisted/test/test_policies.py: the wrappers (WrapperTests), throttling
// (ThrottlingTests), TimeoutProtocol and TimeoutFactory, TimeoutMixin and
// LimitTotalConnectionsFactory. Test names are Twisted's; the timed cases
// run on a task.Clock, test_limit on the reactor with real connections.
import { Buffer } from 'node:buffer';
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { IPv4Address } from '../src/twisted/address';
import { LineReceiver } from '../src/twisted/basic';
import { Deferred, DeferredList, maybeDeferred } from '../src/twisted/defer';
import { ConnectionDone } from '../src/twisted/error';
import { Failure } from '../src/twisted/failure';
import * as log from '../src/twisted/log';
import {
  LimitTotalConnectionsFactory,
  ProtocolWrapper,
  ThrottlingFactory,
  TimeoutFactory,
  TimeoutMixin,
  TimeoutProtocol,
  WrappingFactory,
  type IWrappedFactory,
} from '../src/twisted/policies';
import { ClientFactory, Protocol, ServerFactory, type IConnector } from '../src/twisted/protocol';
import { reactor, type DelayedCall } from '../src/twisted/reactor';
import { Clock } from '../src/twisted/task';
import { StringTransport, StringTransportWithDisconnection, b, runReactorForTests } from './twisted-support';
import { expectNoFdLeaks, waitFor } from './support';

expectNoFdLeaks();

runReactorForTests(reactor);

const ADDR = new IPv4Address('TCP', '127.0.0.1', 35);

class SimpleProtocol extends Protocol {
  connectedFlag = 0;
  disconnected = 0;
  buffer = Buffer.alloc(0);
  readonly dConnected = new Deferred<unknown>();
  readonly dDisconnected = new Deferred<unknown>();

  override connectionMade(): void {
    this.connectedFlag = 1;
    this.dConnected.callback('');
  }

  override connectionLost(_reason: Failure): void {
    this.disconnected = 1;
    this.dDisconnected.callback('');
  }

  override dataReceived(data: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, data]);
  }
}

class SillyFactory extends ClientFactory {
  constructor(readonly p: Protocol) {
    super();
  }

  override buildProtocol(): Protocol {
    return this.p;
  }
}

class EchoProtocol extends Protocol {
  paused = false;

  pauseProducing(): void {
    this.paused = true;
  }

  resumeProducing(): void {
    this.paused = false;
  }

  stopProducing(): void {}

  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

/** A simple server factory using EchoProtocol. */
class Server extends ServerFactory {
  override protocol = EchoProtocol;
}

/** ThrottlingFactory on a task.Clock. */
class TestableThrottlingFactory extends ThrottlingFactory {
  constructor(
    readonly clock: Clock,
    wrapped: IWrappedFactory,
    maxConnectionCount?: number,
    readLimit: number | null = null,
    writeLimit: number | null = null,
  ) {
    super(wrapped, maxConnectionCount, readLimit, writeLimit);
  }

  override callLater(period: number, func: () => void): DelayedCall {
    return this.clock.callLater(period, func);
  }
}

/** TimeoutFactory on a task.Clock. */
class TestableTimeoutFactory extends TimeoutFactory {
  constructor(
    readonly clock: Clock,
    wrapped: IWrappedFactory,
    timeoutPeriod?: number | null,
  ) {
    super(wrapped, timeoutPeriod);
  }

  override callLater(period: number, func: () => void): DelayedCall {
    return this.clock.callLater(period, func);
  }
}

describe('WrapperTests', () => {
  it('test_protocolFactoryAttribute', () => {
    const f = new Server();
    const wf = new WrappingFactory(f);
    const p = wf.buildProtocol(ADDR)!;
    expect(p.wrappedProtocol!.factory).toBe(f);
  });

  it.skip('test_transportInterfaces (zope.interface: providedBy has no JavaScript counterpart)', () => {});

  it('test_factoryLogPrefix', () => {
    const factory = new WrappingFactory(new Server());
    expect(factory.logPrefix()).toBe('Server (WrappingFactory)');
  });

  it('test_factoryLogPrefixFallback', () => {
    class NoFactory {}
    const factory = new WrappingFactory(new NoFactory());
    expect(factory.logPrefix()).toBe('NoFactory (WrappingFactory)');
  });

  it('test_protocolLogPrefix', () => {
    const factory = new WrappingFactory(new Server());
    const protocol = factory.buildProtocol(ADDR)!;
    expect(protocol.logPrefix()).toBe('EchoProtocol (ProtocolWrapper)');
  });

  it('test_protocolLogPrefixFallback', () => {
    // A protocol class with no logPrefix(): only makeConnection(), which a wrapper needs.
    class NoProtocol {
      makeConnection(): void {}
    }
    const server = new Server();
    server.protocol = NoProtocol as unknown as typeof EchoProtocol;
    const factory = new WrappingFactory(server);
    const protocol = factory.buildProtocol(ADDR)!;
    expect(protocol.logPrefix()).toBe('NoProtocol (ProtocolWrapper)');
  });

  function getWrapper(): ProtocolWrapper & { transport: StringTransport } {
    const wrapper = new ProtocolWrapper(new WrappingFactory(new Server()), new Protocol());
    wrapper.makeConnection(new StringTransport());
    return wrapper as ProtocolWrapper & { transport: StringTransport };
  }

  it('test_getHost', () => {
    const wrapper = getWrapper();
    expect(wrapper.getHost()).toBe(wrapper.transport.getHost());
  });

  it('test_getPeer', () => {
    const wrapper = getWrapper();
    expect(wrapper.getPeer()).toBe(wrapper.transport.getPeer());
  });

  it('test_registerProducer', () => {
    const wrapper = getWrapper();
    const producer = { resumeProducing() {}, stopProducing() {} };
    wrapper.registerProducer(producer, true);
    expect(wrapper.transport.producer).toBe(producer);
    expect(wrapper.transport.streaming).toBe(true);
  });

  it('test_unregisterProducer', () => {
    const wrapper = getWrapper();
    const producer = { resumeProducing() {}, stopProducing() {} };
    wrapper.registerProducer(producer, true);
    wrapper.unregisterProducer();
    expect(wrapper.transport.producer).toBeNull();
    expect(wrapper.transport.streaming).toBeNull();
  });

  it('test_stopConsuming', () => {
    const wrapper = getWrapper();
    const result: boolean[] = [];
    (wrapper.transport as unknown as StringTransport & { stopConsuming(): void }).stopConsuming = () => void result.push(true);
    wrapper.stopConsuming();
    expect(result).toEqual([true]);
  });

  it('test_startedConnecting', () => {
    const result: unknown[] = [];
    const wrapper = new WrappingFactory({ startedConnecting: (connector: IConnector) => void result.push(connector) });
    const connector = {} as IConnector;
    wrapper.startedConnecting(connector);
    expect(result).toEqual([connector]);
    expect(result[0]).toBe(connector);
  });

  it('test_clientConnectionLost', () => {
    const result: unknown[][] = [];
    const wrapper = new WrappingFactory({ clientConnectionLost: (c: IConnector, r: Failure) => void result.push([c, r]) });
    const connector = {} as IConnector;
    const reason = new Failure(new ConnectionDone());
    wrapper.clientConnectionLost(connector, reason);
    expect(result).toEqual([[connector, reason]]);
  });

  it('test_clientConnectionFailed', () => {
    const result: unknown[][] = [];
    const wrapper = new WrappingFactory({ clientConnectionFailed: (c: IConnector, r: Failure) => void result.push([c, r]) });
    const connector = {} as IConnector;
    const reason = new Failure(new ConnectionDone());
    wrapper.clientConnectionFailed(connector, reason);
    expect(result).toEqual([[connector, reason]]);
  });

  it('test_breakReferenceCycle', () => {
    const wrapper = new ProtocolWrapper(new WrappingFactory(new Server()), new Protocol());
    const transport = new StringTransportWithDisconnection();
    transport.protocol = wrapper;
    wrapper.makeConnection(transport);
    expect(wrapper.wrappedProtocol).not.toBeNull();
    transport.loseConnection();
    expect(wrapper.wrappedProtocol).toBeNull();
  });

  it('the wrapped protocol writes through the wrapper to the real transport (ProtocolWrapper as transport)', () => {
    const factory = new WrappingFactory(new Server());
    const p = factory.buildProtocol(ADDR)!;
    const transport = new StringTransport();
    p.makeConnection(transport);
    expect(p.wrappedProtocol!.transport).toBe(p);
    expect(factory.protocols.has(p)).toBe(true);
    p.dataReceived(b('echo me'));
    expect(transport.value()).toEqual(b('echo me'));
    p.loseConnection();
    expect(p.disconnecting).toBe(true);
    expect(transport.disconnecting).toBe(true);
  });

  it('a transport without the method asked for: a TypeError naming the method', () => {
    const wrapper = new ProtocolWrapper(new WrappingFactory(new Server()), new Protocol());
    wrapper.makeConnection(new StringTransport());
    expect(() => wrapper.setTcpNoDelay(true)).toThrow(/^ProtocolWrapper\.setTcpNoDelay\(\): the transport has no setTcpNoDelay\(\)/);
    expect(() => new ProtocolWrapper(new WrappingFactory(new Server()), 42 as unknown as Protocol)).toThrow(TypeError);
  });
});

/** A WrappingFactory whose "wrapper" is the protocol itself, and whose startFactory() fires `deferred`. */
class WrappingFactoryForTest extends WrappingFactory {
  deferred = new Deferred<unknown>();

  override buildProtocol(addr: IPv4Address): ProtocolWrapper | null {
    return this.buildWrapped(addr) as ProtocolWrapper | null;
  }

  override startFactory(): void {
    super.startFactory();
    this.deferred.callback(null);
  }
}

describe('ThrottlingTests', () => {
  it('test_limit', async () => {
    const server = new Server();
    const [c1, c2, c3, c4] = [0, 1, 2, 3].map(() => new SimpleProtocol()) as [SimpleProtocol, SimpleProtocol, SimpleProtocol, SimpleProtocol];
    const tServer = new ThrottlingFactory(server, 2);
    const wrapTServer = new WrappingFactoryForTest(tServer);
    wrapTServer.noisy = false;
    const p = reactor.listenTCP(0, wrapTServer, 50, '127.0.0.1');
    const n = (p.getHost() as IPv4Address).port;
    const d = wrapTServer.deferred;
    d.addCallback(() => {
      reactor.connectTCP('127.0.0.1', n, new SillyFactory(c1));
      c1.dConnected.addCallback(() => reactor.connectTCP('127.0.0.1', n, new SillyFactory(c2)));
      c2.dConnected.addCallback(() => reactor.connectTCP('127.0.0.1', n, new SillyFactory(c3)));
      return c3.dDisconnected;
    });
    d.addCallback((results: unknown) => {
      expect([c1, c2, c3].map((c) => c.connectedFlag)).toEqual([1, 1, 1]);
      expect([c1, c2, c3].map((c) => c.disconnected)).toEqual([0, 0, 1]);
      expect(tServer.protocols.size).toBe(2);
      return results;
    });
    d.addCallback(() => {
      c1.transport.loseConnection();
      return c1.dDisconnected;
    });
    d.addCallback(() => {
      reactor.connectTCP('127.0.0.1', n, new SillyFactory(c4));
      return c4.dConnected;
    });
    d.addCallback((results: unknown) => {
      expect(c4.connectedFlag).toBe(1);
      expect(c4.disconnected).toBe(0);
      return results;
    });
    d.addCallback(() => {
      for (const c of [c2, c4]) c.transport.loseConnection();
      return new DeferredList([maybeDeferred(() => p.stopListening()), c2.dDisconnected, c4.dDisconnected]);
    });
    await d;
  });

  it('test_writeSequence', () => {
    const tServer = new TestableThrottlingFactory(new Clock(), new Server());
    const protocol = tServer.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 0))!;
    const transport = new StringTransportWithDisconnection();
    transport.protocol = protocol;
    protocol.makeConnection(transport);
    protocol.writeSequence([b('bytes'), b('bytes'), b('bytes'), b('bytes')]);
    expect(transport.value()).toEqual(b('bytesbytesbytesbytes'));
    expect(tServer.writtenThisSecond).toBe(20);
  });

  it('test_writeLimit', () => {
    const tServer = new TestableThrottlingFactory(new Clock(), new Server(), undefined, null, 10);
    const port = tServer.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 0)) as ProtocolWrapper & { producer: unknown };
    const tr = new StringTransportWithDisconnection();
    tr.protocol = port;
    port.makeConnection(tr);
    port.producer = port.wrappedProtocol;
    const wrapped = port.wrappedProtocol as EchoProtocol;

    port.dataReceived(b('0123456789'));
    port.dataReceived(b('abcdefghij'));
    expect(tr.value()).toEqual(b('0123456789abcdefghij'));
    expect(tServer.writtenThisSecond).toBe(20);
    expect(wrapped.paused).toBe(false);

    // 10 bytes over the limit: writing pauses a second from now, and resumes a second after.
    tServer.clock.advance(1.05);
    expect(tServer.writtenThisSecond).toBe(0);
    expect(wrapped.paused).toBe(true);

    tServer.clock.advance(1.05);
    expect(tServer.writtenThisSecond).toBe(0);
    expect(wrapped.paused).toBe(false);
  });

  it('test_readLimit', () => {
    const tServer = new TestableThrottlingFactory(new Clock(), new Server(), undefined, 10);
    const port = tServer.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 0))!;
    const tr = new StringTransportWithDisconnection();
    tr.protocol = port;
    port.makeConnection(tr);

    for (let round = 0; round < 2; round++) {
      tr.clear();
      port.dataReceived(b('0123456789'));
      port.dataReceived(b('abcdefghij'));
      expect(tr.value()).toEqual(b('0123456789abcdefghij'));
      expect(tServer.readThisSecond).toBe(20);

      tServer.clock.advance(1.05);
      expect(tServer.readThisSecond).toBe(0);
      expect(tr.producerState).toBe('paused');

      tServer.clock.advance(1.05);
      expect(tServer.readThisSecond).toBe(0);
      expect(tr.producerState).toBe('producing');
    }
  });

  it('past maxConnectionCount buildProtocol() gives null and logs it; the last connection lost stops the checks', () => {
    const events: log.LogEvent[] = [];
    const observer = (e: log.LogEvent) => void events.push(e);
    log.addObserver(observer);
    try {
      const clock = new Clock();
      const tServer = new TestableThrottlingFactory(clock, new Server(), 1, 10, 10);
      const p = tServer.buildProtocol(ADDR)!;
      expect(clock.getDelayedCalls()).toHaveLength(2);
      expect(tServer.buildProtocol(ADDR)).toBeNull();
      expect(events.map((e) => e.message)).toContain('Max connection count reached!');
      const tr = new StringTransportWithDisconnection();
      tr.protocol = p;
      p.makeConnection(tr);
      tr.loseConnection();
      expect(tServer.connectionCount).toBe(0);
      expect(clock.getDelayedCalls()).toHaveLength(0);
    } finally {
      log.removeObserver(observer);
    }
  });
});

describe('TimeoutProtocolTests', () => {
  function getProtocolAndClock(): [TimeoutProtocol, Clock, SimpleProtocol] {
    const clock = new Clock();
    const wrappedFactory = new ServerFactory();
    wrappedFactory.protocol = SimpleProtocol;
    const factory = new TestableTimeoutFactory(clock, wrappedFactory, null);
    const proto = factory.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 12345)) as TimeoutProtocol;
    const transport = new StringTransportWithDisconnection();
    transport.protocol = proto;
    proto.makeConnection(transport);
    return [proto, clock, proto.wrappedProtocol as SimpleProtocol];
  }

  it('test_cancelTimeout', () => {
    const [sut, clock, wrapped] = getProtocolAndClock();
    sut.setTimeout(3);
    expect(sut.timeoutCall).not.toBeNull();
    expect(wrapped.disconnected).toBe(0);
    clock.advance(1);
    sut.cancelTimeout();
    expect(sut.timeoutCall).toBeNull();
    clock.advance(3);
    expect(wrapped.disconnected).toBe(0);
  });

  it('test_cancelTimeoutNoTimeout', () => {
    const [sut, , wrapped] = getProtocolAndClock();
    expect(sut.timeoutCall).toBeNull();
    sut.cancelTimeout();
    expect(wrapped.disconnected).toBe(0);
  });

  it('test_cancelTimeoutAlreadyCalled', () => {
    const [sut, clock, wrapped] = getProtocolAndClock();
    sut.setTimeout(3);
    clock.advance(3);
    expect(wrapped.disconnected).toBe(1);
    sut.cancelTimeout();
  });

  it('test_cancelTimeoutAlreadyCancelled', () => {
    const [sut, , wrapped] = getProtocolAndClock();
    sut.setTimeout(3);
    sut.timeoutCall!.cancel();
    sut.cancelTimeout();
    expect(wrapped.disconnected).toBe(0);
  });
});

describe('TimeoutFactoryTests', () => {
  function setUp(): { clock: Clock; proto: TimeoutProtocol; wrappedProto: SimpleProtocol } {
    const clock = new Clock();
    const wrappedFactory = new ServerFactory();
    wrappedFactory.protocol = SimpleProtocol;
    const factory = new TestableTimeoutFactory(clock, wrappedFactory, 3);
    const proto = factory.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 12345)) as TimeoutProtocol;
    const transport = new StringTransportWithDisconnection();
    transport.protocol = proto;
    proto.makeConnection(transport);
    return { clock, proto, wrappedProto: proto.wrappedProtocol as SimpleProtocol };
  }

  it('test_timeout', () => {
    const { clock, wrappedProto } = setUp();
    clock.pump([0.0, 0.5, 1.0, 1.0, 0.4]);
    expect(wrappedProto.disconnected).toBe(0);
    clock.pump([0.0, 0.2]);
    expect(wrappedProto.disconnected).toBe(1);
  });

  it('test_sendAvoidsTimeout', () => {
    const { clock, proto, wrappedProto } = setUp();
    clock.pump([0.0, 0.5, 1.0]);
    expect(wrappedProto.disconnected).toBe(0);
    proto.write(b('bytes bytes bytes'));
    clock.pump([0.0, 1.0, 1.0]);
    expect(wrappedProto.disconnected).toBe(0);
    proto.writeSequence([b('bytes'), b('bytes'), b('bytes')]);
    clock.pump([0.0, 1.0, 1.0]);
    expect(wrappedProto.disconnected).toBe(0);
    clock.pump([0.0, 2.0]);
    expect(wrappedProto.disconnected).toBe(1);
  });

  it('test_receiveAvoidsTimeout', () => {
    const { clock, proto, wrappedProto } = setUp();
    clock.pump([0.0, 1.0, 0.5]);
    expect(wrappedProto.disconnected).toBe(0);
    proto.dataReceived(b('bytes bytes bytes'));
    clock.pump([0.0, 1.0, 1.0]);
    expect(wrappedProto.disconnected).toBe(0);
    clock.pump([0.0, 1.0, 1.0]);
    expect(wrappedProto.disconnected).toBe(1);
  });

  it('a timeoutPeriod that is not a number is a TypeError naming the class', () => {
    expect(() => new TimeoutFactory(new ServerFactory(), '3' as unknown as number)).toThrow(/^TimeoutFactory\(\): timeoutPeriod must be a number/);
  });
});

/** A protocol with TimeoutMixin on a task.Clock; timeoutConnection() only records. */
class TimeoutTester extends TimeoutMixin(Protocol) {
  override timeOut: number | null = 3;
  timedOut = false;

  constructor(readonly clock: Clock) {
    super();
  }

  override connectionMade(): void {
    this.setTimeout(this.timeOut);
  }

  override dataReceived(data: Buffer): unknown {
    this.resetTimeout();
    return super.dataReceived(data);
  }

  override connectionLost(_reason: Failure): void {
    this.setTimeout(null);
  }

  override timeoutConnection(): void {
    this.timedOut = true;
  }

  override callLater(timeout: number, func: () => void): DelayedCall {
    return this.clock.callLater(timeout, func);
  }
}

describe('TimeoutMixinTests', () => {
  function setUp(): { clock: Clock; proto: TimeoutTester } {
    const clock = new Clock();
    return { clock, proto: new TimeoutTester(clock) };
  }

  it('test_overriddenCallLater', () => {
    const { clock, proto } = setUp();
    proto.setTimeout(10);
    expect(clock.calls).toHaveLength(1);
  });

  it('test_timeout', () => {
    const { clock, proto } = setUp();
    proto.makeConnection(new StringTransport());
    clock.pump([0, 0.5, 1.0, 1.0]);
    expect(proto.timedOut).toBe(false);
    clock.pump([0, 1.0]);
    expect(proto.timedOut).toBe(true);
  });

  it('test_noTimeout', () => {
    const { clock, proto } = setUp();
    proto.makeConnection(new StringTransport());
    clock.pump([0, 0.5, 1.0, 1.0]);
    expect(proto.timedOut).toBe(false);
    proto.dataReceived(b('hello there'));
    clock.pump([0, 1.0, 1.0, 0.5]);
    expect(proto.timedOut).toBe(false);
    clock.pump([0, 1.0]);
    expect(proto.timedOut).toBe(true);
  });

  it('test_resetTimeout', () => {
    const { clock, proto } = setUp();
    proto.timeOut = null;
    proto.makeConnection(new StringTransport());
    proto.setTimeout(1);
    expect(proto.timeOut).toBe(1);
    clock.pump([0, 0.9]);
    expect(proto.timedOut).toBe(false);
    clock.pump([0, 0.2]);
    expect(proto.timedOut).toBe(true);
  });

  it('test_cancelTimeout', () => {
    const { clock, proto } = setUp();
    proto.timeOut = 5;
    proto.makeConnection(new StringTransport());
    proto.setTimeout(null);
    expect(proto.timeOut).toBeNull();
    clock.pump([0, 5, 5, 5]);
    expect(proto.timedOut).toBe(false);
  });

  it('test_setTimeoutReturn', () => {
    const { proto } = setUp();
    proto.timeOut = 5;
    expect(proto.setTimeout(10)).toBe(5);
    expect(proto.setTimeout(null)).toBe(10);
    expect(proto.setTimeout(1)).toBeNull();
    expect(proto.timeOut).toBe(1);
    proto.setTimeout(null);
  });

  it('test_setTimeoutCancleAlreadyCancelled', () => {
    const { clock, proto } = setUp();
    proto.setTimeout(3);
    clock.getDelayedCalls()[0]!.cancel();
    expect(proto.timeOut).not.toBeNull();
    proto.setTimeout(null);
    expect(proto.timeOut).toBeNull();
  });

  it('the default timeoutConnection() closes the transport; the default callLater() is the reactor', async () => {
    class Quiet extends TimeoutMixin(LineReceiver) {}
    const proto = new Quiet();
    const transport = new StringTransport();
    proto.makeConnection(transport);
    const before = reactor.getDelayedCalls().length;
    proto.setTimeout(0.01);
    expect(reactor.getDelayedCalls()).toHaveLength(before + 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(transport.disconnecting).toBe(true);
    // It has run: setTimeout(null) finds nothing to cancel.
    expect(proto.setTimeout(null)).toBe(0.01);
  });

  it('setTimeout() with a period that is not a number or null is a TypeError', () => {
    const { proto } = setUp();
    expect(() => proto.setTimeout('5' as unknown as number)).toThrow(/^setTimeout\(\): period must be a number of seconds/);
    expect(() => TimeoutMixin(42 as unknown as typeof Protocol)).toThrow(/^TimeoutMixin\(\): needs a class to extend, not 42/);
  });
});

describe('LimitTotalConnectionsFactoryTests', () => {
  it('testConnectionCounting', () => {
    const factory = new LimitTotalConnectionsFactory();
    factory.protocol = Protocol;
    expect(factory.connectionCount).toBe(0);
    const p1 = factory.buildProtocol(null)!;
    expect(factory.connectionCount).toBe(1);
    const p2 = factory.buildProtocol(null)!;
    expect(factory.connectionCount).toBe(2);
    const reason = new Failure(new ConnectionDone());
    p1.connectionLost(reason);
    expect(factory.connectionCount).toBe(1);
    p2.connectionLost(reason);
    expect(factory.connectionCount).toBe(0);
  });

  it('testConnectionLimiting', () => {
    const factory = new LimitTotalConnectionsFactory() as LimitTotalConnectionsFactory & { overflowed: boolean };
    factory.protocol = Protocol;
    factory.connectionLimit = 1;
    const p = factory.buildProtocol(null)!;
    expect(p).not.toBeNull();
    expect(factory.connectionCount).toBe(1);
    // A second connection exceeds the limit: null, as overflowProtocol is null.
    expect(factory.buildProtocol(null)).toBeNull();
    expect(factory.connectionCount).toBe(1);

    class OverflowProtocol extends Protocol {
      override connectionMade(): void {
        factory.overflowed = true;
      }
    }
    factory.overflowProtocol = OverflowProtocol;
    factory.overflowed = false;
    // Overflow connections count towards the connection count.
    const op = factory.buildProtocol(null)!;
    op.makeConnection(new StringTransport());
    expect(factory.overflowed).toBe(true);
    expect(factory.connectionCount).toBe(2);
    const reason = new Failure(new ConnectionDone());
    p.connectionLost(reason);
    expect(factory.connectionCount).toBe(1);
    op.connectionLost(reason);
    expect(factory.connectionCount).toBe(0);
  });
});

describe('LoggingFactoryTests', () => {
  it.skip('test_thingsGetLogged (TrafficLoggingFactory is not ported: it writes Python reprs to log files)', () => {});
  it.skip('test_counter (TrafficLoggingFactory is not ported)', () => {});
  it.skip('test_loggingFactoryOpensLogfileAutomatically (TrafficLoggingFactory is not ported; patches builtins.open)', () => {});
});

describe('policies on the reactor', () => {
  function connect(port: number): Promise<{ sock: net.Socket; data: () => string; closed: Promise<void> }> {
    return new Promise((resolve, reject) => {
      let data = '';
      let onClose!: () => void;
      const closed = new Promise<void>((r) => (onClose = r));
      const sock = net.connect(port, '127.0.0.1', () => resolve({ sock, data: () => data, closed }));
      sock.on('data', (c: Buffer) => (data += c.toString('latin1')));
      sock.on('close', () => onClose());
      sock.on('error', reject);
    });
  }

  it('TimeoutFactory closes a quiet connection; the wrapped protocol wrote and read through the wrapper', async () => {
    const seen: string[] = [];
    class Greeter extends Protocol {
      override connectionMade(): void {
        seen.push(`client ${String((this.transport as unknown as { client: [string, number] }).client[0])}`);
        this.transport.write(b('hi\r\n'));
      }
      override connectionLost(reason: Failure): void {
        seen.push(reason.getErrorMessage());
      }
    }
    const wrapped = new ServerFactory();
    wrapped.protocol = Greeter;
    wrapped.noisy = false;
    const factory = new TimeoutFactory(wrapped, 0.2);
    factory.noisy = false;
    const port = reactor.listenTCP(0, factory, 50, '127.0.0.1');
    try {
      const client = await connect(port.getHost().port);
      await client.closed;
      expect(client.data()).toBe('hi\r\n');
      expect(seen).toEqual(['client 127.0.0.1', 'Connection was closed cleanly.']);
      expect(factory.protocols.size).toBe(0);
    } finally {
      await port.stopListening();
    }
  });

  it('LimitTotalConnectionsFactory: past the limit a connection is closed at once, and counted back when lost', async () => {
    const factory = new LimitTotalConnectionsFactory();
    factory.protocol = EchoProtocol;
    factory.connectionLimit = 1;
    factory.noisy = false;
    const port = reactor.listenTCP(0, factory, 50, '127.0.0.1');
    try {
      const first = await connect(port.getHost().port);
      const second = await connect(port.getHost().port);
      await second.closed;
      expect(second.data()).toBe('');
      expect(factory.connectionCount).toBe(1);
      first.sock.write('still served\r\n');
      await waitFor(() => first.data() === 'still served\r\n');
      first.sock.end();
      await first.closed;
      await waitFor(() => factory.connectionCount === 0);
    } finally {
      await port.stopListening();
    }
  });
});
