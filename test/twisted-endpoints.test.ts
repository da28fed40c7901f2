// twisted.internet.endpoints, ported from Twisted 22.4's
// twisted/internet/test/test_endpoints.py: the wrapping factory and
// protocol behind connect(), the TCP4, TCP6 and UNIX endpoints against a
// memory reactor (Twisted's MemoryReactor, below), and the description
// parsers (ParserTests, ServerStringTests, ClientStringTests). Test names
// are Twisted's. Then the same endpoints on the real reactor, and the
// parser compared with real Twisted's on the same descriptions.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPv4Address, IPv6Address, UNIXAddress, type IAddress } from '../src/twisted/address';
import { Deferred, succeed } from '../src/twisted/defer';
import {
  TCP4ClientEndpoint,
  TCP4ServerEndpoint,
  TCP6ClientEndpoint,
  TCP6ServerEndpoint,
  UNIXClientEndpoint,
  UNIXServerEndpoint,
  _WrappingFactory,
  _WrappingProtocol,
  _parse,
  clientFromString,
  connectProtocol,
  quoteStringArgument,
  serverFromString,
  type AddrInfo,
  type IListeningPort,
  type IReactorTCP,
  type IReactorUNIX,
  type IStreamClientEndpoint,
} from '../src/twisted/endpoints';
import {
  CannotListenError,
  ConnectError,
  ConnectingCancelledError,
  ConnectionDone,
  BadFileError,
  ConnectionRefusedError,
  NoProtocol,
  TimeoutError,
  UserError,
} from '../src/twisted/error';
import { Failure } from '../src/twisted/failure';
import { ClientFactory, Factory, Protocol, type IConnector } from '../src/twisted/protocol';
import { reactor } from '../src/twisted/reactor';
import { AF_INET, AF_UNIX, SOCK_STREAM, socket } from '../src/socket';
import { StringTransport, b, runReactorForTests } from './twisted-support';
import { expectNoFdLeaks, ipv6Available } from './support';

expectNoFdLeaks();

const PYTHON = '/usr/bin/python3';

// ---------------------------------------------------------------------------
// Twisted's test doubles (twisted.internet.testing).

/** A fake IConnector that records whether it was told to stop connecting. */
class FakeConnector implements IConnector {
  stoppedConnecting = false;
  disconnected = false;
  constructor(readonly address: IAddress) {}
  stopConnecting(): void {
    this.stoppedConnecting = true;
  }
  disconnect(): void {
    this.disconnected = true;
  }
  connect(): void {}
  getDestination(): IAddress {
    return this.address;
  }
}

/** A fake listening port. */
class FakePort implements IListeningPort {
  constructor(readonly address: IAddress) {}
  stopListening(): undefined {
    return undefined;
  }
  getHost(): IAddress {
    return this.address;
  }
}

type TCPServerCall = [port: number, factory: Factory, backlog: number, iface: string];
type TCPClientCall = [host: string, port: number, factory: ClientFactory, timeout: number | null, bindAddress: [string, number] | null];
type UNIXServerCall = [address: string, factory: Factory, backlog: number, mode: number, wantPID: boolean];
type UNIXClientCall = [address: string, factory: ClientFactory, timeout: number | null, checkPID: boolean];

/** A reactor that records listen and connect calls; connections never succeed. */
class MemoryReactor implements IReactorTCP, IReactorUNIX {
  tcpServers: TCPServerCall[] = [];
  tcpClients: TCPClientCall[] = [];
  unixServers: UNIXServerCall[] = [];
  unixClients: UNIXClientCall[] = [];
  connectors: FakeConnector[] = [];

  listenTCP(port: number, factory: Factory, backlog = 50, iface = ''): IListeningPort {
    this.tcpServers.push([port, factory, backlog, iface]);
    return new FakePort(iface.includes(':') ? new IPv6Address('TCP', iface, port) : new IPv4Address('TCP', '0.0.0.0', port));
  }

  connectTCP(host: string, port: number, factory: ClientFactory, timeout: number | null = 30, bindAddress: [string, number] | null = null): IConnector {
    this.tcpClients.push([host, port, factory, timeout, bindAddress]);
    const conn = new FakeConnector(host.includes(':') ? new IPv6Address('TCP', host, port) : new IPv4Address('TCP', host, port));
    factory.startedConnecting(conn);
    this.connectors.push(conn);
    return conn;
  }

  listenUNIX(address: string, factory: Factory, backlog = 50, mode = 0o666, wantPID = false): IListeningPort {
    this.unixServers.push([address, factory, backlog, mode, wantPID]);
    return new FakePort(new UNIXAddress(address));
  }

  connectUNIX(address: string, factory: ClientFactory, timeout: number | null = 30, checkPID = false): IConnector {
    this.unixClients.push([address, factory, timeout, checkPID]);
    const conn = new FakeConnector(new UNIXAddress(address));
    factory.startedConnecting(conn);
    this.connectors.push(conn);
    return conn;
  }
}

/** A reactor whose listen and connect calls throw the errors it was given. */
class RaisingMemoryReactor extends MemoryReactor {
  constructor(
    readonly listenException: Error | null = null,
    readonly connectException: Error | null = null,
  ) {
    super();
  }
  override listenTCP(): IListeningPort {
    throw this.listenException;
  }
  override connectTCP(): IConnector {
    throw this.connectException;
  }
  override listenUNIX(): IListeningPort {
    throw this.listenException;
  }
  override connectUNIX(): IConnector {
    throw this.connectException;
  }
}

// ---------------------------------------------------------------------------
// The protocols and factories of test_endpoints.py.

class TestProtocol extends Protocol {
  data: Buffer[] = [];
  connectionsLost: Failure[] = [];
  connectionMadeCalls = 0;

  override logPrefix(): string {
    return 'A Test Protocol';
  }

  override connectionMade(): void {
    this.connectionMadeCalls += 1;
  }

  override dataReceived(data: Buffer): void {
    this.data.push(data);
  }

  override connectionLost(reason: Failure): void {
    this.connectionsLost.push(reason);
  }
}

class TestHalfCloseableProtocol extends TestProtocol {
  readLost = false;
  writeLost = false;

  readConnectionLost(): void {
    this.readLost = true;
  }

  writeConnectionLost(): void {
    this.writeLost = true;
  }
}

class TestFileDescriptorReceiverProtocol extends TestProtocol {
  receivedDescriptors: number[] = [];

  override connectionMade(): void {
    super.connectionMade();
    this.receivedDescriptors = [];
  }

  fileDescriptorReceived(descriptor: number): void {
    this.receivedDescriptors.push(descriptor);
  }
}

class TestHandshakeListener extends TestProtocol {
  handshakeCompletedCalls = 0;

  handshakeCompleted(): void {
    this.handshakeCompletedCalls += 1;
  }
}

class TestFactory extends ClientFactory {
  override protocol = TestProtocol;
}

class NoneFactory extends ClientFactory {
  override buildProtocol(): null {
    return null;
  }
}

/** The errors a Deferred failed with, collected as errbacks see them. */
function failuresOf<T>(d: Deferred<T>): Failure[] {
  const failures: Failure[] = [];
  d.addErrback((f: Failure) => void failures.push(f));
  return failures;
}

const NO_ADDR = new IPv4Address('TCP', '127.0.0.1', 0);

describe('WrappingFactoryTests', () => {
  it('test_doStart', () => {
    const factory = new ClientFactory();
    factory.noisy = false;
    new _WrappingFactory(factory).doStart();
    expect(factory.numPorts).toBe(1);
  });

  it('test_doStop', () => {
    const factory = new ClientFactory();
    factory.noisy = false;
    factory.numPorts = 3;
    new _WrappingFactory(factory).doStop();
    expect(factory.numPorts).toBe(2);
  });

  it('test_failedBuildProtocol', () => {
    class BogusFactory extends ClientFactory {
      override buildProtocol(): Protocol {
        throw new RangeError('My protocol is poorly defined.');
      }
    }
    const wf = new _WrappingFactory(new BogusFactory());
    wf.buildProtocol(NO_ADDR);
    const failures = failuresOf(wf._onConnection);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.value).toBeInstanceOf(RangeError);
    expect(failures[0]!.value.message).toBe('My protocol is poorly defined.');
  });

  it('test_buildNoneProtocol', () => {
    const wf = new _WrappingFactory(new NoneFactory());
    wf.buildProtocol(NO_ADDR);
    const failures = failuresOf(wf._onConnection);
    expect(failures[0]!.check(NoProtocol)).toBe(NoProtocol);
  });

  it('test_buildProtocolReturnsNone', () => {
    const wf = new _WrappingFactory(new NoneFactory());
    wf._onConnection.addErrback(() => null);
    expect(wf.buildProtocol(NO_ADDR)).toBeNull();
  });

  it('test_logPrefixPassthrough', () => {
    const wp = new _WrappingFactory(new TestFactory()).buildProtocol(NO_ADDR)!;
    expect(wp.logPrefix()).toBe('A Test Protocol');
  });

  it('test_logPrefixDefault', () => {
    class NoProtocol {}
    const factory = new TestFactory();
    factory.protocol = NoProtocol as unknown as typeof TestProtocol;
    const wp = new _WrappingFactory(factory).buildProtocol(NO_ADDR)!;
    expect(wp.logPrefix()).toBe('NoProtocol');
  });

  it('test_wrappedProtocolDataReceived', () => {
    const p = new _WrappingFactory(new TestFactory()).buildProtocol(NO_ADDR)!;
    // Twisted passes None; a transport here, as makeConnection() checks what it is given.
    p.makeConnection(new StringTransport() as never);
    p.dataReceived(b('foo'));
    expect((p._wrappedProtocol as TestProtocol).data).toEqual([b('foo')]);
    p.dataReceived(b('bar'));
    expect((p._wrappedProtocol as TestProtocol).data).toEqual([b('foo'), b('bar')]);
  });

  it('test_wrappedProtocolTransport', () => {
    const p = new _WrappingFactory(new TestFactory()).buildProtocol(NO_ADDR)!;
    const dummyTransport = {};
    p.makeConnection(dummyTransport as never);
    expect(p.transport).toBe(dummyTransport);
    expect(p._wrappedProtocol.transport).toBe(dummyTransport);
  });

  it('test_wrappedProtocolConnectionLost', () => {
    const p = new _WrappingFactory(new TestFactory()).buildProtocol(NO_ADDR)!;
    const reason = new Failure(new Error('fail'));
    p.connectionLost(reason);
    expect((p._wrappedProtocol as TestProtocol).connectionsLost).toEqual([reason]);
  });

  it('test_clientConnectionFailed', () => {
    const wf = new _WrappingFactory(new TestFactory());
    const expectedFailure = new Failure(new ConnectError(null, 'fail'));
    wf.clientConnectionFailed(null as unknown as IConnector, expectedFailure);
    expect(failuresOf(wf._onConnection)).toEqual([expectedFailure]);
  });

  // Twisted's providedBy(): here, whether the wrapper has the method at all.
  it('test_wrappingProtocolFileDescriptorReceiver (providedBy as "has the method"; verifyObject has no counterpart)', () => {
    const wrapper = new _WrappingProtocol(new Deferred(), new TestFileDescriptorReceiverProtocol());
    expect(typeof wrapper.fileDescriptorReceived).toBe('function');
  });

  it('test_wrappingProtocolNotFileDescriptorReceiver', () => {
    const p = new _WrappingProtocol(new Deferred(), new TestProtocol());
    expect(p.fileDescriptorReceived).toBeUndefined();
  });

  it('test_wrappedProtocolFileDescriptorReceived', () => {
    const wrappedProtocol = new TestFileDescriptorReceiverProtocol();
    const wrapper = new _WrappingProtocol(new Deferred(), wrappedProtocol);
    wrapper.makeConnection(new StringTransport());
    wrapper.fileDescriptorReceived!(42);
    expect(wrappedProtocol.receivedDescriptors).toEqual([42]);
  });

  it('test_wrappingProtocolHalfCloseable', () => {
    const p = new _WrappingProtocol(new Deferred(), new TestHalfCloseableProtocol());
    expect(typeof p.readConnectionLost).toBe('function');
    expect(typeof p.writeConnectionLost).toBe('function');
  });

  it('test_wrappingProtocolNotHalfCloseable', () => {
    const p = new _WrappingProtocol(new Deferred(), new TestProtocol());
    expect(p.readConnectionLost).toBeUndefined();
    expect(p.writeConnectionLost).toBeUndefined();
  });

  it('test_wrappingProtocolHandshakeListener', () => {
    const p = new _WrappingProtocol(new Deferred(), new TestHandshakeListener());
    expect(typeof p.handshakeCompleted).toBe('function');
  });

  it('test_wrappingProtocolNotHandshakeListener', () => {
    const p = new _WrappingProtocol(new Deferred(), new TestProtocol());
    expect(p.handshakeCompleted).toBeUndefined();
  });

  it('test_wrappedProtocolReadConnectionLost', () => {
    const hcp = new TestHalfCloseableProtocol();
    new _WrappingProtocol(new Deferred(), hcp).readConnectionLost!();
    expect(hcp.readLost).toBe(true);
  });

  it('test_wrappedProtocolWriteConnectionLost', () => {
    const hcp = new TestHalfCloseableProtocol();
    new _WrappingProtocol(new Deferred(), hcp).writeConnectionLost!();
    expect(hcp.writeLost).toBe(true);
  });

  it('test_wrappedProtocolHandshakeCompleted', () => {
    const listener = new TestHandshakeListener();
    new _WrappingProtocol(new Deferred(), listener).handshakeCompleted!();
    expect(listener.handshakeCompletedCalls).toBe(1);
  });
});

// ---------------------------------------------------------------------------
// ClientEndpointTestCaseMixin and ServerEndpointTestCaseMixin, for each kind.

interface ClientCase {
  /** The endpoint, the arguments the reactor should get (factory ignored), and the destination. */
  create(reactor: MemoryReactor, connectArgs?: Record<string, unknown>): [IStreamClientEndpoint, unknown[], IAddress];
  connectArgs: Record<string, unknown>;
  expectedClients(reactor: MemoryReactor): unknown[][];
  /** Which argument of the connect call is the factory. */
  factoryIndex: number;
}

interface ServerCase {
  create(reactor: MemoryReactor, factory: Factory, listenArgs?: Record<string, unknown>): [{ listen(f: Factory): Deferred<IListeningPort> }, unknown[], IAddress];
  listenArgs: Record<string, unknown>;
  expectedServers(reactor: MemoryReactor): unknown[][];
}

/** The connect arguments without the factory, which the tests ignore. */
function withoutFactory(args: unknown[], factoryIndex: number): unknown[] {
  return args.filter((_, i) => i !== factoryIndex);
}

function clientEndpointTests(c: ClientCase): void {
  it.skip('test_interface (zope.interface verifyObject: TypeScript checks IStreamClientEndpoint at compile time)', () => {});

  it('test_endpointConnectSuccess', () => {
    const mreactor = new MemoryReactor();
    const [ep, expectedArgs] = c.create(mreactor);
    const d = ep.connect(new TestFactory());
    const receivedProtos: unknown[] = [];
    d.addCallback((p: unknown) => void receivedProtos.push(p));
    const factory = c.expectedClients(mreactor)[0]![c.factoryIndex] as _WrappingFactory;
    const proto = new TestProtocol();
    factory._onConnection.callback(proto);
    expect(receivedProtos).toEqual([proto]);
    const clients = c.expectedClients(mreactor);
    expect(clients).toHaveLength(1);
    expect(withoutFactory(clients[0]!, c.factoryIndex)).toEqual(expectedArgs);
  });

  it('test_endpointConnectFailure', () => {
    const expectedError = new ConnectError(null, 'Connection Failed');
    const mreactor = new RaisingMemoryReactor(null, expectedError);
    const [ep] = c.create(mreactor);
    const d = ep.connect(new TestFactory());
    expect(failuresOf(d).map((f) => f.value)).toEqual([expectedError]);
  });

  it('test_endpointConnectingCancelled', () => {
    const mreactor = new MemoryReactor();
    const [ep, , address] = c.create(mreactor);
    const d = ep.connect(new TestFactory());
    const receivedFailures = failuresOf(d);
    d.cancel();
    // The connector tells its factory at once that the attempt failed (UserError).
    const attemptFactory = c.expectedClients(mreactor)[0]![c.factoryIndex] as _WrappingFactory;
    attemptFactory.clientConnectionFailed(null as unknown as IConnector, new Failure(new UserError()));
    expect(receivedFailures).toHaveLength(1);
    const failure = receivedFailures[0]!;
    expect(failure.value).toBeInstanceOf(ConnectingCancelledError);
    expect((failure.value as ConnectingCancelledError).address).toStrictEqual(address);
    expect(mreactor.connectors[0]!.stoppedConnecting).toBe(true);
  });

  it('test_endpointConnectNonDefaultArgs', () => {
    const mreactor = new MemoryReactor();
    const [ep, expectedArgs] = c.create(mreactor, c.connectArgs);
    ep.connect(new TestFactory());
    const clients = c.expectedClients(mreactor);
    expect(clients).toHaveLength(1);
    expect(withoutFactory(clients[0]!, c.factoryIndex)).toEqual(expectedArgs);
  });
}

function serverEndpointTests(s: ServerCase): void {
  it.skip('test_interface (zope.interface verifyObject: TypeScript checks IStreamServerEndpoint at compile time)', () => {});

  it('test_endpointListenSuccess', () => {
    const mreactor = new MemoryReactor();
    const factory = new Factory();
    const [ep, expectedArgs, expectedHost] = s.create(mreactor, factory);
    const receivedHosts: IAddress[] = [];
    ep.listen(factory).addCallback((port: IListeningPort) => void receivedHosts.push(port.getHost()));
    expect(receivedHosts).toStrictEqual([expectedHost]);
    expect(s.expectedServers(mreactor)).toEqual([expectedArgs]);
  });

  it('test_endpointListenFailure', () => {
    const factory = new Factory();
    const exception = new CannotListenError('', 80, factory);
    const mreactor = new RaisingMemoryReactor(exception);
    const [ep] = s.create(mreactor, factory);
    expect(failuresOf(ep.listen(new Factory())).map((f) => f.value)).toEqual([exception]);
  });

  it('test_endpointListenNonDefaultArgs', () => {
    const mreactor = new MemoryReactor();
    const factory = new Factory();
    const [ep, expectedArgs] = s.create(mreactor, factory, s.listenArgs);
    ep.listen(factory);
    expect(s.expectedServers(mreactor)).toEqual([expectedArgs]);
  });
}

const tcpClientArgs = { timeout: 10, bindAddress: ['localhost', 49595] as [string, number] };

function tcpClientCase(make: typeof TCP4ClientEndpoint | typeof TCP6ClientEndpoint, address: IPv4Address): ClientCase {
  return {
    create: (r, args = {}) => {
      const timeout = (args.timeout as number | undefined) ?? 30;
      const bindAddress = (args.bindAddress as [string, number] | undefined) ?? null;
      return [new make(r, address.host, address.port, timeout, bindAddress), [address.host, address.port, timeout, bindAddress], address];
    },
    connectArgs: tcpClientArgs,
    expectedClients: (r) => r.tcpClients,
    factoryIndex: 2,
  };
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'asyncore-endpoints-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});
let tmpCount = 0;
/** A fresh path in the test's temporary directory (trial's mktemp()). */
function mktemp(): string {
  tmpCount += 1;
  return path.join(tmp, `s${tmpCount}`);
}

describe('TCP4EndpointsTests', () => {
  serverEndpointTests({
    create: (r, factory, args = {}) => {
      const backlog = (args.backlog as number | undefined) ?? 50;
      const iface = (args.interface as string | undefined) ?? '';
      return [new TCP4ServerEndpoint(r, 0, backlog, iface), [0, factory, backlog, iface], new IPv4Address('TCP', '0.0.0.0', 0)];
    },
    listenArgs: { backlog: 100, interface: '127.0.0.1' },
    expectedServers: (r) => r.tcpServers,
  });
  clientEndpointTests(tcpClientCase(TCP4ClientEndpoint, new IPv4Address('TCP', 'localhost', 80)));
});

describe('TCP6EndpointsTests', () => {
  serverEndpointTests({
    create: (r, factory, args = {}) => {
      const backlog = (args.backlog as number | undefined) ?? 50;
      const iface = (args.interface as string | undefined) ?? '::';
      const ep = args.interface === undefined ? new TCP6ServerEndpoint(r, 0, backlog) : new TCP6ServerEndpoint(r, 0, backlog, iface);
      return [ep, [0, factory, backlog, iface], new IPv6Address('TCP', iface, 0)];
    },
    listenArgs: { backlog: 100, interface: '::1' },
    expectedServers: (r) => r.tcpServers,
  });
  clientEndpointTests(tcpClientCase(TCP6ClientEndpoint, new IPv6Address('TCP', '::1', 80)));
});

describe('TCP6EndpointNameResolutionTests', () => {
  const address = new IPv6Address('TCP', '::2', 80);
  clientEndpointTests({
    create: (r, args = {}) => {
      const timeout = (args.timeout as number | undefined) ?? 30;
      const bindAddress = (args.bindAddress as [string, number] | undefined) ?? null;
      const ep = new TCP6ClientEndpoint(r, 'ipv6.example.com', address.port, timeout, bindAddress);
      ep._nameResolution = (host: string) => {
        expect(host).toBe('ipv6.example.com');
        const data: AddrInfo[] = ['::2', '::3', '::4'].map((h): AddrInfo => [10, 1, 6, '', [h, 0, 0, 0]]);
        return succeed(data);
      };
      return [ep, [address.host, address.port, timeout, bindAddress], address];
    },
    connectArgs: tcpClientArgs,
    expectedClients: (r) => r.tcpClients,
    factoryIndex: 2,
  });

  it.skip('test_freeFunctionDeferToThread (threads.deferToThread: the lookup is dns.lookup, on libuv threads)', () => {});
  it.skip('test_nameResolution (a hook on deferToThread and socket.getaddrinfo: see the dns.lookup test below)', () => {});

  it('_nameResolution() gives getaddrinfo() entries for an IPv6 address (dns.lookup, family 6)', async () => {
    const ep = new TCP6ClientEndpoint(new MemoryReactor(), '::1', 1234);
    const entries = await ep._nameResolution('::1');
    expect(entries[0]![4][0]).toBe('::1');
    expect(entries[0]![0]).toBe(10);
  });
});

describe('UNIXEndpointsTests', () => {
  serverEndpointTests({
    create: (r, factory, args = {}) => {
      const address = new UNIXAddress(mktemp());
      const backlog = (args.backlog as number | undefined) ?? 50;
      const mode = (args.mode as number | undefined) ?? 0o666;
      const wantPID = (args.wantPID as boolean | undefined) ?? false;
      return [new UNIXServerEndpoint(r, address.name!, backlog, mode, wantPID), [address.name, factory, backlog, mode, wantPID], address];
    },
    listenArgs: { backlog: 100, mode: 0o600, wantPID: true },
    expectedServers: (r) => r.unixServers,
  });
  clientEndpointTests({
    create: (r, args = {}) => {
      const address = new UNIXAddress(mktemp());
      const timeout = (args.timeout as number | undefined) ?? 30;
      const checkPID = (args.checkPID as boolean | undefined) ?? false;
      return [new UNIXClientEndpoint(r, address.name!, timeout, checkPID), [address.name, timeout, checkPID], address];
    },
    connectArgs: { timeout: 10, checkPID: true },
    expectedClients: (r) => r.unixClients,
    factoryIndex: 1,
  });
});

// ---------------------------------------------------------------------------
// Descriptions.

/** The endpoint's fields, as the string tests compare them. */
function fields(ep: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(ep).filter(([k]) => k !== '_reactor'));
}

describe('ParserTests (through serverFromString: there is no _parseServer tuple to compare)', () => {
  const r = new MemoryReactor();

  it('test_simpleTCP', () => {
    expect(serverFromString(r, 'tcp:80')).toBeInstanceOf(TCP4ServerEndpoint);
    expect(fields(serverFromString(r, 'tcp:80'))).toEqual({ _port: 80, _backlog: 50, _interface: '' });
  });

  it('test_interfaceTCP', () => {
    expect(fields(serverFromString(r, 'tcp:80:interface=127.0.0.1'))).toEqual({ _port: 80, _backlog: 50, _interface: '127.0.0.1' });
  });

  it('test_backlogTCP', () => {
    expect(fields(serverFromString(r, 'tcp:80:backlog=6'))).toEqual({ _port: 80, _backlog: 6, _interface: '' });
  });

  it('test_simpleUNIX', () => {
    const ep = serverFromString(r, 'unix:/var/run/finger');
    expect(ep).toBeInstanceOf(UNIXServerEndpoint);
    expect(fields(ep)).toEqual({ _address: '/var/run/finger', _mode: 0o666, _backlog: 50, _wantPID: true });
  });

  it('test_modeUNIX', () => {
    expect(fields(serverFromString(r, 'unix:/var/run/finger:mode=0660'))).toEqual({ _address: '/var/run/finger', _mode: 0o660, _backlog: 50, _wantPID: true });
  });

  it('test_wantPIDUNIX', () => {
    expect(fields(serverFromString(r, 'unix:/var/run/finger:lockfile=0'))).toEqual({ _address: '/var/run/finger', _mode: 0o666, _backlog: 50, _wantPID: false });
  });

  it('test_escape', () => {
    expect(fields(serverFromString(r, 'unix:foo\\:bar\\=baz\\:qux\\\\'))).toEqual({ _address: 'foo:bar=baz:qux\\', _mode: 0o666, _backlog: 50, _wantPID: true });
  });

  it('test_quoteStringArgument', () => {
    expect(quoteStringArgument('some : stuff \\')).toBe('some \\: stuff \\\\');
  });

  it('test_impliedEscape', () => {
    expect(fields(serverFromString(r, 'unix:address=foo=bar'))).toEqual({ _address: 'foo=bar', _mode: 0o666, _backlog: 50, _wantPID: true });
  });

  it('test_unknownType', () => {
    expect(() => serverFromString(r, 'bogus-type:nothing')).toThrow(RangeError);
  });

  it('_parse: positional and keyword arguments, escapes, "=" in values', () => {
    expect(_parse('a:b\\:c=d\\=e:f=:=g')).toEqual([['a'], new Map([['b:c', 'd=e'], ['f', ''], ['', 'g']])]);
    expect(_parse('tcp:a:b=c=d')).toEqual([['tcp', 'a'], new Map([['b', 'c=d']])]);
    expect(_parse('')).toEqual([[''], new Map()]);
    expect(() => _parse('a\\')).toThrow(/^_parse\(\): "a\\\\" ends with a lone backslash$/);
  });
});

describe('ServerStringTests', () => {
  it('test_tcp', () => {
    const r = new MemoryReactor();
    const server = serverFromString(r, 'tcp:1234:backlog=12:interface=10.0.0.1') as TCP4ServerEndpoint;
    expect(server).toBeInstanceOf(TCP4ServerEndpoint);
    expect(server._reactor).toBe(r);
    expect([server._port, server._backlog, server._interface]).toEqual([1234, 12, '10.0.0.1']);
  });

  for (const name of ['test_ssl', 'test_sslWithDefaults', 'test_sslChainLoads', 'test_sslChainFileMustContainCert', 'test_sslDHparameters', 'test_sslNoTrailingNewlinePem']) {
    it.skip(`${name} (no TLS in this package: no ssl endpoints)`, () => {});
  }

  it('test_unix', () => {
    const r = new MemoryReactor();
    const endpoint = serverFromString(r, 'unix:/var/foo/bar:backlog=7:mode=0123:lockfile=1') as UNIXServerEndpoint;
    expect(endpoint).toBeInstanceOf(UNIXServerEndpoint);
    expect(endpoint._reactor).toBe(r);
    expect([endpoint._address, endpoint._backlog, endpoint._mode, endpoint._wantPID]).toEqual(['/var/foo/bar', 7, 0o123, true]);
  });

  it('test_unknownType', () => {
    expect(() => serverFromString(new MemoryReactor(), 'ftl:andromeda/carcosa/hali/2387')).toThrow("serverFromString(): Unknown endpoint type: 'ftl'");
  });

  it.skip('test_typeFromPlugin (twisted.plugin discovery has no counterpart)', () => {});
});

describe('ClientStringTests', () => {
  it('test_tcp', () => {
    const r = new MemoryReactor();
    const client = clientFromString(r, 'tcp:host=example.com:port=1234:timeout=7:bindAddress=10.0.0.2') as TCP4ClientEndpoint;
    expect(client).toBeInstanceOf(TCP4ClientEndpoint);
    expect(client._reactor).toBe(r);
    expect(fields(client)).toEqual({ _host: 'example.com', _port: 1234, _timeout: 7, _bindAddress: ['10.0.0.2', 0] });
  });

  it('test_tcpPositionalArgs', () => {
    const r = new MemoryReactor();
    const client = clientFromString(r, 'tcp:example.com:1234:timeout=7:bindAddress=10.0.0.2') as TCP4ClientEndpoint;
    expect(client).toBeInstanceOf(TCP4ClientEndpoint);
    expect(client._reactor).toBe(r);
    expect(fields(client)).toEqual({ _host: 'example.com', _port: 1234, _timeout: 7, _bindAddress: ['10.0.0.2', 0] });
  });

  it('test_tcpHostPositionalArg', () => {
    const client = clientFromString(new MemoryReactor(), 'tcp:example.com:port=1234:timeout=7:bindAddress=10.0.0.2') as TCP4ClientEndpoint;
    expect([client._host, client._port]).toEqual(['example.com', 1234]);
  });

  it('test_tcpPortPositionalArg', () => {
    const client = clientFromString(new MemoryReactor(), 'tcp:host=example.com:1234:timeout=7:bindAddress=10.0.0.2') as TCP4ClientEndpoint;
    expect([client._host, client._port]).toEqual(['example.com', 1234]);
  });

  it('test_tcpDefaults', () => {
    const client = clientFromString(new MemoryReactor(), 'tcp:host=example.com:port=1234') as TCP4ClientEndpoint;
    expect(client._timeout).toBe(30);
    expect(client._bindAddress).toBeNull();
  });

  it('test_unix', () => {
    const r = new MemoryReactor();
    const client = clientFromString(r, 'unix:path=/var/foo/bar:lockfile=1:timeout=9') as UNIXClientEndpoint;
    expect(client).toBeInstanceOf(UNIXClientEndpoint);
    expect(client._reactor).toBe(r);
    expect([client._path, client._timeout, client._checkPID]).toEqual(['/var/foo/bar', 9, true]);
  });

  it('test_unixDefaults', () => {
    const client = clientFromString(new MemoryReactor(), 'unix:path=/var/foo/bar') as UNIXClientEndpoint;
    expect(client._timeout).toBe(30);
    expect(client._checkPID).toBe(false);
  });

  it('test_unixPathPositionalArg', () => {
    const r = new MemoryReactor();
    const client = clientFromString(r, 'unix:/var/foo/bar:lockfile=1:timeout=9') as UNIXClientEndpoint;
    expect(client).toBeInstanceOf(UNIXClientEndpoint);
    expect(client._reactor).toBe(r);
    expect([client._path, client._timeout, client._checkPID]).toEqual(['/var/foo/bar', 9, true]);
  });

  it.skip('test_typeFromPlugin (twisted.plugin discovery has no counterpart)', () => {});

  it('test_unknownType', () => {
    expect(() => clientFromString(new MemoryReactor(), 'ftl:andromeda/carcosa/hali/2387')).toThrow("clientFromString(): Unknown endpoint type: 'ftl'");
  });

  it.skip('test_stringParserWithReactor (twisted.plugin discovery has no counterpart)', () => {});
});

describe('TCP6ServerEndpointPluginTests', () => {
  it.skip('test_pluginDiscovery (twisted.plugin discovery has no counterpart: tcp6 is built in)', () => {});
  it.skip('test_interface (zope.interface verifyObject)', () => {});

  it('test_stringDescription', () => {
    const r = new MemoryReactor();
    const ep = serverFromString(r, 'tcp6:8080:backlog=12:interface=\\:\\:1') as TCP6ServerEndpoint;
    expect(ep).toBeInstanceOf(TCP6ServerEndpoint);
    expect(ep._reactor).toBe(r);
    expect([ep._port, ep._backlog, ep._interface]).toEqual([8080, 12, '::1']);
  });
});

describe('ConnectProtocolTests', () => {
  it('test_connectProtocolCreatesFactory', () => {
    const r = new MemoryReactor();
    const endpoint = new TCP4ClientEndpoint(r, '127.0.0.1', 0);
    const theProtocol = new Protocol();
    connectProtocol(endpoint, theProtocol);
    expect(r.tcpClients).toHaveLength(1);
    const factory = (r.tcpClients[0]![2] as _WrappingFactory)._wrappedFactory;
    expect(factory).toBeInstanceOf(Factory);
    expect(factory.buildProtocol(NO_ADDR)).toBe(theProtocol);
  });

  it('test_connectProtocolReturnsConnectResult', () => {
    const result = new Deferred<Protocol>();
    const endpoint = { connect: () => result };
    expect(connectProtocol(endpoint, new Protocol())).toBe(result);
  });
});

// ---------------------------------------------------------------------------
// Bad arguments: errors that name the function and the value.

describe('arguments', () => {
  it('constructors check their arguments; listen() and connect() fail their Deferred', () => {
    const r = new MemoryReactor();
    expect(() => new TCP4ServerEndpoint(r, '80' as unknown as number)).toThrow(/^TCP4ServerEndpoint\(\): port must be an integer, not "80"$/);
    expect(() => new TCP6ClientEndpoint(r, '::1', 80, -1)).toThrow(/^TCP6ClientEndpoint\(\): timeout must be a number of seconds >= 0 or null, not -1$/);
    expect(() => new TCP4ClientEndpoint(r, 'h', 80, 30, ['h'] as unknown as [string, number])).toThrow(/^TCP4ClientEndpoint\(\): bindAddress must be/);
    expect(() => new UNIXServerEndpoint(r, 42 as unknown as string)).toThrow(/^UNIXServerEndpoint\(\): address must be a path/);
    expect(() => connectProtocol(null as unknown as IStreamClientEndpoint, new Protocol())).toThrow(/^connectProtocol\(\): needs a client endpoint/);
    const listened = failuresOf(new TCP4ServerEndpoint(r, 0).listen(42 as unknown as Factory));
    expect(listened[0]!.value.message).toBe('TCP4ServerEndpoint.listen(): the protocol factory must be a Factory, not 42');
    const connected = failuresOf(new UNIXClientEndpoint({} as MemoryReactor, '/x').connect(new TestFactory()));
    expect(connected[0]!.value.message).toBe('UNIXClientEndpoint.connect(): the reactor has no connectUNIX(): {}');
  });

  it('descriptions: bad integers, unknown, missing and repeated arguments', () => {
    const r = new MemoryReactor();
    expect(() => serverFromString(r, 'tcp:abc')).toThrow(/^serverFromString\(\): port must be an integer, not "abc"$/);
    expect(() => serverFromString(r, 'unix:/x:mode=999')).toThrow(/^serverFromString\(\): mode must be an integer in octal, not "999"$/);
    expect(() => serverFromString(r, 'tcp')).toThrow(/^serverFromString\(\): tcp needs "port"$/);
    expect(() => serverFromString(r, 'tcp:80:foo=1')).toThrow(/^serverFromString\(\): tcp has no parameter "foo"$/);
    expect(() => serverFromString(r, 'tcp:80:port=81')).toThrow(TypeError);
    expect(() => serverFromString(r, 'tcp:80:1.2.3.4:7:9')).toThrow(/^serverFromString\(\): tcp takes at most 3 positional arguments, 4 given$/);
    expect(() => clientFromString(r, 'tcp:80')).toThrow(/^clientFromString\(\): tcp needs "port"$/);
    expect(() => clientFromString(r, 'tcp6:host=::1:port=80')).toThrow("clientFromString(): Unknown endpoint type: 'tcp6'");
    expect(() => serverFromString(r, 'TCP:80')).toThrow("serverFromString(): Unknown endpoint type: 'tcp'");
    expect(serverFromString(r, 'TCP6:80')).toBeInstanceOf(TCP6ServerEndpoint);
    expect(clientFromString(r, 'TCP:h:80')).toBeInstanceOf(TCP4ClientEndpoint);
    expect(() => serverFromString(r, 42 as unknown as string)).toThrow(/^serverFromString\(\): description must be a string, not 42$/);
  });
});

// ---------------------------------------------------------------------------
// The parser against real Twisted's, on the same descriptions.

describe('descriptions as Twisted 22.4 reads them', () => {
  const descriptions: Array<['server' | 'client', string]> = [
    ['server', 'tcp:80'],
    ['server', 'tcp: 80 :interface=\\:\\:1:backlog=+7'],
    ['server', 'tcp:80:127.0.0.1:9'],
    ['server', 'tcp6:8080:12'],
    ['server', 'TCP6:80:interface=fe80\\:\\:1'],
    ['server', 'unix:/tmp/a\\:b=c:mode=0600:lockfile=0'],
    ['server', 'unix:address=x=y:backlog=3'],
    ['server', 'tcp:-1'],
    ['server', 'TCP:80'],
    ['server', 'tcp'],
    ['server', 'tcp:80:foo=1'],
    ['server', 'unix:/x:mode=9'],
    ['server', ''],
    ['client', 'tcp:h:80'],
    ['client', 'TCP:host=h:81:timeout=5:bindAddress=1.2.3.4'],
    ['client', 'tcp:port=82:h2'],
    ['client', 'tcp:a:80:x'],
    ['client', 'unix:/a\\:b:lockfile=1:timeout=9'],
    ['client', 'Unix:path=/p'],
    ['client', 'unix:/a:/b'],
    ['client', 'tcp6:host=::1:port=80'],
    ['client', 'tcp:h:80:timeout=1.5'],
  ];

  /** What an endpoint (or the error) looks like: its class and fields, or the error's kind. */
  function ours(kind: 'server' | 'client', description: string): unknown {
    try {
      const ep = (kind === 'server' ? serverFromString : clientFromString)(new MemoryReactor(), description);
      return { type: ep.constructor.name, ...fields(ep) };
    } catch (err) {
      return { error: err instanceof TypeError ? 'TypeError' : 'ValueError' };
    }
  }

  it('every description gives the same endpoint, or the same kind of error', () => {
    const script = `
import json, sys
from twisted.internet.endpoints import serverFromString, clientFromString
out = []
for kind, d in json.load(sys.stdin):
    try:
        ep = (serverFromString if kind == 'server' else clientFromString)(object(), d)
        fields = {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(ep).items() if k != '_reactor'}
        fields['type'] = type(ep).__name__
        out.append(fields)
    except TypeError:
        out.append({'error': 'TypeError'})
    except ValueError:
        out.append({'error': 'ValueError'})
print(json.dumps(out))
`;
    const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(descriptions), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const theirs = (JSON.parse(r.stdout) as Array<Record<string, unknown>>).map((e) => {
      // Twisted keeps 0/1 where this port keeps booleans.
      for (const k of ['_wantPID', '_checkPID']) if (k in e) e[k] = Boolean(e[k]);
      return e;
    });
    expect(descriptions.map(([kind, d]) => ours(kind, d))).toEqual(theirs);
  });
});

// ---------------------------------------------------------------------------
// On the real reactor.

describe('endpoints on the reactor', () => {
  runReactorForTests(reactor);

  class Echo extends Protocol {
    override dataReceived(data: Buffer): void {
      this.transport.write(data);
    }
  }

  // Promises, not Deferreds: a Deferred given a Failure as its result fails.
  class Client extends Protocol {
    readonly received: Promise<Buffer>;
    readonly lost: Promise<Failure>;
    private onData!: (data: Buffer) => void;
    private onLost!: (reason: Failure) => void;
    constructor() {
      super();
      this.received = new Promise((resolve) => (this.onData = resolve));
      this.lost = new Promise((resolve) => (this.onLost = resolve));
    }
    override dataReceived(data: Buffer): void {
      this.onData(data);
    }
    override connectionLost(reason: Failure): void {
      this.onLost(reason);
    }
  }

  function quietFactory(protocol: new () => Protocol): Factory {
    const factory = Factory.forProtocol(protocol);
    factory.noisy = false;
    return factory;
  }

  async function roundTrip(server: string, client: (port: IListeningPort) => string): Promise<void> {
    const port = await serverFromString(reactor, server).listen(quietFactory(Echo));
    try {
      const proto = await connectProtocol(clientFromString(reactor, client(port)), new Client());
      expect(proto).toBeInstanceOf(Client);
      proto.transport.write(b('ping'));
      expect(await proto.received).toEqual(b('ping'));
      proto.transport.loseConnection();
      expect((await proto.lost).check(ConnectionDone)).toBe(ConnectionDone);
    } finally {
      await port.stopListening();
    }
  }

  it('tcp: listen on 127.0.0.1, connect, echo, close', async () => {
    await roundTrip('tcp:0:interface=127.0.0.1', (port) => `tcp:127.0.0.1:${(port.getHost() as IPv4Address).port}`);
  });

  it.runIf(ipv6Available())('tcp6: listen on ::1, connect with host=\\:\\:1 (IPv6), echo, close', async () => {
    await roundTrip('tcp6:0:interface=\\:\\:1', (port) => {
      const host = port.getHost();
      expect(host).toBeInstanceOf(IPv6Address);
      return `tcp:host=\\:\\:1:port=${(host as IPv6Address).port}`;
    });
  });

  it.runIf(ipv6Available())('TCP6ClientEndpoint connects to ::1', async () => {
    const port = await new TCP6ServerEndpoint(reactor, 0, 50, '::1').listen(quietFactory(Echo));
    try {
      const proto = await connectProtocol(new TCP6ClientEndpoint(reactor, '::1', (port.getHost() as IPv6Address).port), new Client());
      expect(proto.transport.getPeer()).toBeInstanceOf(IPv6Address);
      proto.transport.loseConnection();
      await proto.lost;
    } finally {
      await port.stopListening();
    }
  });

  it('unix: listen on a path, connect, echo, close', async () => {
    const file = mktemp();
    await roundTrip(`unix:${quoteStringArgument(file)}:mode=600`, () => `unix:path=${quoteStringArgument(file)}`);
  });

  it('connect() to a closed port fails with ConnectionRefusedError', async () => {
    const port = reactor.listenTCP(0, quietFactory(Echo), 50, '127.0.0.1');
    const number = port.getHost().port;
    await port.stopListening();
    const d = new TCP4ClientEndpoint(reactor, '127.0.0.1', number).connect(quietFactory(Client));
    await expect(d).rejects.toBeInstanceOf(ConnectionRefusedError);
  });

  it('connect() that does not complete within its timeout fails with error.TimeoutError', async () => {
    // A listening socket that never accepts, its queue full: the kernel drops further SYNs.
    const full = new socket(AF_INET, SOCK_STREAM);
    full.bind(['127.0.0.1', 0]);
    full.listen(0);
    const number = (full.getsockname() as [string, number])[1];
    const queued: net.Socket[] = [];
    try {
      // Fillers: the first is queued, the next ones wait on SYN retries, as ours will.
      for (let i = 0; i < 3; i++) queued.push(net.connect(number, '127.0.0.1').on('error', () => {}));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const d = new TCP4ClientEndpoint(reactor, '127.0.0.1', number, 0.3).connect(quietFactory(Client));
      const failure = await new Promise<Failure>((resolve) => d.addErrback(resolve));
      expect(failure.value).toBeInstanceOf(TimeoutError);
      expect(failure.getErrorMessage()).toBe('User timeout caused connection failure.');
    } finally {
      for (const s of queued) s.destroy();
      full.close();
    }
  });

  it('listen() on a port in use fails with CannotListenError', async () => {
    const port = await new TCP4ServerEndpoint(reactor, 0, 50, '127.0.0.1').listen(quietFactory(Echo));
    try {
      const again = new TCP4ServerEndpoint(reactor, (port.getHost() as IPv4Address).port, 50, '127.0.0.1').listen(quietFactory(Echo));
      await expect(again).rejects.toBeInstanceOf(CannotListenError);
    } finally {
      await port.stopListening();
    }
  });

  it('cancelling connect() stops the attempt: ConnectingCancelledError with the destination, no connection', async () => {
    let accepted = 0;
    class Counting extends Protocol {
      override connectionMade(): void {
        accepted += 1;
      }
    }
    const port = await new TCP4ServerEndpoint(reactor, 0, 50, '127.0.0.1').listen(quietFactory(Counting));
    try {
      const number = (port.getHost() as IPv4Address).port;
      const d = new TCP4ClientEndpoint(reactor, '127.0.0.1', number).connect(quietFactory(Client));
      d.cancel();
      const failure = await new Promise<Failure>((resolve) => d.addErrback(resolve));
      expect(failure.value).toBeInstanceOf(ConnectingCancelledError);
      expect((failure.value as ConnectingCancelledError).address).toStrictEqual(new IPv4Address('TCP', '127.0.0.1', number));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(accepted).toBe(0);
    } finally {
      await port.stopListening();
    }
  });

  it('a factory that builds no protocol: connect() fails with NoProtocol and the connection is closed', async () => {
    const server = new Client();
    const port = await new TCP4ServerEndpoint(reactor, 0, 50, '127.0.0.1').listen(
      Object.assign(new Factory(), { noisy: false, buildProtocol: () => server }),
    );
    try {
      const d = new TCP4ClientEndpoint(reactor, '127.0.0.1', (port.getHost() as IPv4Address).port).connect(new NoneFactory());
      await expect(d).rejects.toBeInstanceOf(NoProtocol);
      expect((await server.lost).check(ConnectionDone)).toBe(ConnectionDone);
    } finally {
      await port.stopListening();
    }
  });

  it('unix with lockfile (wantPID): PATH.lock names this process while listening, and is gone after', async () => {
    const file = mktemp();
    const port = await serverFromString(reactor, `unix:${quoteStringArgument(file)}`).listen(quietFactory(Echo));
    try {
      expect(lstatSync(`${file}.lock`).isSymbolicLink()).toBe(true);
      expect(readlinkSync(`${file}.lock`)).toBe(String(process.pid));
      // A second server on the same path cannot take the lock.
      const again = new UNIXServerEndpoint(reactor, file, 50, 0o666, true).listen(quietFactory(Echo));
      await expect(again).rejects.toThrow(/^Couldn't listen on any:.*: Cannot acquire lock\.$/);
    } finally {
      await port.stopListening();
    }
    expect(existsSync(`${file}.lock`)).toBe(false);
    expect(existsSync(file)).toBe(false);
  });

  it("unix with lockfile: a dead server's lock and socket file are taken over; without, the socket file is in use", async () => {
    const file = mktemp();
    // What a server killed while listening leaves: its socket file, and a lock naming a pid that is gone.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const stale = new socket(AF_UNIX, SOCK_STREAM);
    stale.bind(file);
    stale.close();
    symlinkSync(dead.stdout, `${file}.lock`);
    await expect(new UNIXServerEndpoint(reactor, file).listen(quietFactory(Echo))).rejects.toBeInstanceOf(CannotListenError);
    const port = await new UNIXServerEndpoint(reactor, file, 50, 0o666, true).listen(quietFactory(Echo));
    try {
      expect(readlinkSync(`${file}.lock`)).toBe(String(process.pid));
      const proto = await connectProtocol(new UNIXClientEndpoint(reactor, file, 30, true), new Client());
      proto.transport.loseConnection();
      await proto.lost;
    } finally {
      await port.stopListening();
    }
  });

  it('unix client with lockfile (checkPID): no server holding PATH.lock, BadFileError and no connection', async () => {
    const file = mktemp();
    let accepted = 0;
    class Counting extends Protocol {
      override connectionMade(): void {
        accepted += 1;
      }
    }
    const port = await new UNIXServerEndpoint(reactor, file).listen(quietFactory(Counting));
    try {
      const d = clientFromString(reactor, `unix:path=${quoteStringArgument(file)}:lockfile=1`).connect(quietFactory(Client));
      await expect(d).rejects.toBeInstanceOf(BadFileError);
      await expect(clientFromString(reactor, `unix:path=${quoteStringArgument(file)}:lockfile=1`).connect(quietFactory(Client))).rejects.toThrow(
        `File used for UNIX socket is no good: ${file}.`,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(accepted).toBe(0);
    } finally {
      await port.stopListening();
    }
  });
});
