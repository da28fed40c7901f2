// twisted.internet.endpoints: where a server listens and where a client
// connects, as objects (TCP over IPv4 or IPv6, UNIX sockets) or as strings
// ("tcp:8080:interface=127.0.0.1", "unix:path=/run/app.sock"). An endpoint
// only calls the reactor's listenTCP()/connectTCP()/listenUNIX()/
// connectUNIX(); what it adds is a Deferred: listen() fires with the port,
// connect() with the protocol once it is connected, or fails with the
// ConnectError the connector reported.
import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import { describe } from '../errors';
import { AF_INET6, IPPROTO_TCP, SOCK_STREAM } from '../socket';
import type { IAddress } from './address';
import { Deferred, fail, succeed } from './defer';
import { ConnectingCancelledError, NoProtocol } from './error';
import { Failure } from './failure';
import { logPrefixOf } from './logcontext';
import { ClientFactory, Factory, Protocol, type IConnector } from './protocol';

/**
 * A listening port, as listen() hands it back: Twisted's IListeningPort.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.interfaces.IListeningPort.html | Twisted's IListeningPort}
 */
export interface IListeningPort {
  /** Stops listening; the Deferred (if any) fires once the port is closed. */
  stopListening(): Deferred<unknown> | undefined;
  /** The address the port is bound to. */
  getHost(): IAddress;
}

/**
 * Something a server can listen on: Twisted's IStreamServerEndpoint.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.interfaces.IStreamServerEndpoint.html | Twisted's IStreamServerEndpoint}
 */
export interface IStreamServerEndpoint {
  /** Listens with `protocolFactory`; fires with the port, or fails (CannotListenError, ...). */
  listen(protocolFactory: Factory): Deferred<IListeningPort>;
}

/**
 * Something a client can connect to: Twisted's IStreamClientEndpoint.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.interfaces.IStreamClientEndpoint.html | Twisted's IStreamClientEndpoint}
 */
export interface IStreamClientEndpoint {
  /** Connects with `protocolFactory`; fires with its protocol once connected, or fails with a ConnectError. */
  connect(protocolFactory: Factory): Deferred<Protocol>;
}

/**
 * The TCP half of a reactor, as endpoints use it: Twisted's IReactorTCP.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.interfaces.IReactorTCP.html | Twisted's IReactorTCP}
 */
export interface IReactorTCP {
  /** Listens on TCP `port` of `iface`. */
  listenTCP(port: number, factory: Factory, backlog: number, iface: string): IListeningPort;
  /** Connects to `host`:`port`. */
  connectTCP(host: string, port: number, factory: ClientFactory, timeout: number | null, bindAddress: [string, number] | null): IConnector;
}

/**
 * The UNIX-socket half of a reactor, as endpoints use it: Twisted's IReactorUNIX.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.interfaces.IReactorUNIX.html | Twisted's IReactorUNIX}
 */
export interface IReactorUNIX {
  /** Listens on the socket file `address`. */
  listenUNIX(address: string, factory: Factory, backlog: number, mode: number, wantPID: boolean): IListeningPort;
  /** Connects to the socket file `address`. */
  connectUNIX(address: string, factory: ClientFactory, timeout: number | null, checkPID: boolean): IConnector;
}

// ---------------------------------------------------------------------------
// What connect() puts between the reactor and the caller's factory.

/** A protocol as a factory builds it, whatever its transport. */
type BuiltProtocol = NonNullable<ReturnType<Factory['buildProtocol']>>;

/**
 * The protocol connect() hands the reactor: it connects the protocol the
 * caller's factory built to the transport, then fires the Deferred with
 * it, and passes everything else through. Twisted's _WrappingProtocol; it
 * has readConnectionLost(), writeConnectionLost(), fileDescriptorReceived()
 * and handshakeCompleted() only when the wrapped protocol has them, as
 * Twisted's provides those interfaces only then.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.endpoints._WrappingProtocol.html | Twisted's _WrappingProtocol}
 * @internal
 */
export class _WrappingProtocol extends Protocol {
  /** Fires with the wrapped protocol once it is connected. @internal */
  readonly _connectedDeferred: Deferred<Protocol>;
  /** The protocol the caller's factory built. @internal */
  readonly _wrappedProtocol: BuiltProtocol;
  /** The read side of a half-closeable connection was closed (only if the wrapped protocol has it). */
  readConnectionLost?: () => void;
  /** The write side of a half-closeable connection was closed (only if the wrapped protocol has it). */
  writeConnectionLost?: () => void;
  /** A file descriptor arrived over a UNIX socket (only if the wrapped protocol has it). */
  fileDescriptorReceived?: (descriptor: number) => void;
  /** A TLS handshake completed (only if the wrapped protocol has it). */
  handshakeCompleted?: () => void;

  /** Wraps `wrappedProtocol`; `connectedDeferred` fires with it once connected. */
  constructor(connectedDeferred: Deferred<Protocol>, wrappedProtocol: BuiltProtocol) {
    super();
    this._connectedDeferred = connectedDeferred;
    this._wrappedProtocol = wrappedProtocol;
    const optional = wrappedProtocol as Partial<Record<OptionalCallback, (...args: unknown[]) => void>>;
    for (const name of OPTIONAL_CALLBACKS) {
      if (typeof optional[name] === 'function') this[name] = (...args: unknown[]) => optional[name]!(...args);
    }
  }

  /** The wrapped protocol's log prefix (its class name if it has no logPrefix()). */
  override logPrefix(): string {
    return logPrefixOf(this._wrappedProtocol);
  }

  /** Connects the wrapped protocol to this transport, then fires the Deferred with it. */
  override connectionMade(): void {
    this._wrappedProtocol.makeConnection(this.transport);
    this._connectedDeferred.callback(this._wrappedProtocol as Protocol);
  }

  /** Passed to the wrapped protocol. */
  override dataReceived(data: Buffer): unknown {
    return this._wrappedProtocol.dataReceived(data);
  }

  /** Passed to the wrapped protocol. */
  override connectionLost(reason: Failure): void {
    this._wrappedProtocol.connectionLost(reason);
  }
}

const OPTIONAL_CALLBACKS = ['readConnectionLost', 'writeConnectionLost', 'fileDescriptorReceived', 'handshakeCompleted'] as const;
type OptionalCallback = (typeof OPTIONAL_CALLBACKS)[number];

/**
 * The client factory connect() hands the reactor: it wraps each protocol
 * the caller's factory builds, and turns the connector's news into the
 * Deferred connect() returned (a failure, a NoProtocol, or the caller's
 * buildProtocol() throwing). Cancelling that Deferred stops the attempt
 * with ConnectingCancelledError. Twisted's _WrappingFactory.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.endpoints._WrappingFactory.html | Twisted's _WrappingFactory}
 * @internal
 */
export class _WrappingFactory extends ClientFactory {
  /** The caller's factory. @internal */
  readonly _wrappedFactory: Factory;
  /** Fires with the caller's protocol once connected; connect() returns it. @internal */
  readonly _onConnection: Deferred<Protocol>;
  /** The connector of the current (or last) attempt. @internal */
  _connector: IConnector | null = null;

  /** Wraps `wrappedFactory`. */
  constructor(wrappedFactory: Factory) {
    super();
    this._wrappedFactory = wrappedFactory;
    this._onConnection = new Deferred<Protocol>((d) => this._canceller(d));
  }

  /** Remembers the connector, so that cancelling can stop it. */
  override startedConnecting(connector: IConnector): void {
    this._connector = connector;
  }

  /** connect()'s Deferred was cancelled: it fails with ConnectingCancelledError and the attempt stops. */
  private _canceller(deferred: Deferred<Protocol>): void {
    const connector = this._connector;
    deferred.errback(new Failure(new ConnectingCancelledError(connector?.getDestination() ?? null)));
    connector?.stopConnecting();
  }

  /** Passed to the caller's factory (which logs and starts as it would). */
  override doStart(): void {
    this._wrappedFactory.doStart();
  }

  /** Passed to the caller's factory. */
  override doStop(): void {
    this._wrappedFactory.doStop();
  }

  /**
   * The caller's protocol, wrapped; if the caller's factory throws or
   * builds none (NoProtocol), connect()'s Deferred fails and the
   * connection is closed.
   */
  override buildProtocol(addr: IAddress): _WrappingProtocol | null {
    let proto: BuiltProtocol | null;
    try {
      proto = this._wrappedFactory.buildProtocol(addr);
      if (proto === null || proto === undefined) throw new NoProtocol();
    } catch (err) {
      this._onConnection.errback(new Failure(err));
      return null;
    }
    return new _WrappingProtocol(this._onConnection, proto);
  }

  /** The attempt failed: connect()'s Deferred fails with the reason (unless it has fired already). */
  override clientConnectionFailed(_connector: IConnector, reason: Failure): void {
    if (!this._onConnection.called) this._onConnection.errback(reason);
  }
}

// ---------------------------------------------------------------------------
// Endpoints.

function checkType(where: string, what: string, value: unknown, ok: boolean, expected: string): void {
  if (!ok) throw new TypeError(`${where}(): ${what} must be ${expected}, not ${describe(value)}`);
}

function checkPort(where: string, port: unknown): number {
  checkType(where, 'port', port, Number.isInteger(port), 'an integer');
  return port as number;
}

function checkTimeout(where: string, timeout: unknown): number | null {
  checkType(where, 'timeout', timeout, timeout === null || (typeof timeout === 'number' && timeout >= 0), 'a number of seconds >= 0 or null');
  return timeout as number | null;
}

function checkBindAddress(where: string, bindAddress: unknown): [string, number] | null {
  const ok =
    bindAddress === null ||
    (Array.isArray(bindAddress) && bindAddress.length === 2 && typeof bindAddress[0] === 'string' && Number.isInteger(bindAddress[1]));
  checkType(where, 'bindAddress', bindAddress, ok, 'a [host, port] pair or null');
  return bindAddress as [string, number] | null;
}

/** The reactor's method `name`, or a TypeError naming the endpoint method that needed it. */
function reactorMethod<K extends keyof IReactorTCP | keyof IReactorUNIX>(
  where: string,
  reactor: unknown,
  name: K,
): (IReactorTCP & IReactorUNIX)[K] {
  const method = (reactor as Partial<IReactorTCP & IReactorUNIX> | null)?.[name];
  if (typeof method !== 'function') throw new TypeError(`${where}(): the reactor has no ${name}(): ${describe(reactor)}`);
  return method.bind(reactor) as (IReactorTCP & IReactorUNIX)[K];
}

function checkFactory(where: string, factory: unknown): Factory {
  const ok = factory !== null && typeof factory === 'object' && typeof (factory as Factory).buildProtocol === 'function';
  checkType(where, 'the protocol factory', factory, ok, 'a Factory');
  return factory as Factory;
}

/** Runs a reactor call: a Deferred of its result, or of what it threw (Twisted's defer.execute). */
function execute<R>(call: () => R): Deferred<R> {
  try {
    return succeed(call());
  } catch (err) {
    return fail(err);
  }
}

/**
 * Connects through `reactorConnect` with a _WrappingFactory around
 * `protocolFactory`; the Deferred fires with the caller's protocol.
 */
function connectWrapped(where: string, protocolFactory: unknown, reactorConnect: (wf: _WrappingFactory) => void): Deferred<Protocol> {
  try {
    const wf = new _WrappingFactory(checkFactory(where, protocolFactory));
    reactorConnect(wf);
    return wf._onConnection;
  } catch (err) {
    return fail(err);
  }
}

/** Listening on TCP, over IPv4 or IPv6 (the interface decides). */
abstract class TCPServerEndpoint implements IStreamServerEndpoint {
  /** The reactor listenTCP() is called on. @internal */
  readonly _reactor: IReactorTCP;
  /** The port to listen on (0: any free one). @internal */
  readonly _port: number;
  /** The listen() backlog. @internal */
  readonly _backlog: number;
  /** The interface to bind. @internal */
  readonly _interface: string;

  /** An endpoint for `port` of `interface_` on `reactor`. */
  constructor(reactor: IReactorTCP, port: number, backlog: number, interface_: string) {
    const where = this.constructor.name;
    checkPort(where, port);
    checkType(where, 'backlog', backlog, Number.isInteger(backlog), 'an integer');
    checkType(where, 'interface', interface_, typeof interface_ === 'string', 'a string');
    this._reactor = reactor;
    this._port = port;
    this._backlog = backlog;
    this._interface = interface_;
  }

  /** Listens with `protocolFactory` (reactor.listenTCP()); fires with the port, or fails with CannotListenError. */
  listen(protocolFactory: Factory): Deferred<IListeningPort> {
    const where = `${this.constructor.name}.listen`;
    return execute(() => reactorMethod(where, this._reactor, 'listenTCP')(this._port, checkFactory(where, protocolFactory), this._backlog, this._interface));
  }
}

/**
 * A TCP server endpoint on IPv4: `listen(factory)` is
 * reactor.listenTCP(port, factory, backlog, interface) as a Deferred.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.endpoints.TCP4ServerEndpoint.html | Twisted's TCP4ServerEndpoint}
 */
export class TCP4ServerEndpoint extends TCPServerEndpoint {
  /** Listens on `port` (0: any free one) of `interface_` ('': every IPv4 interface). */
  constructor(reactor: IReactorTCP, port: number, backlog = 50, interface_ = '') {
    super(reactor, port, backlog, interface_);
  }
}

/**
 * A TCP server endpoint on IPv6: as TCP4ServerEndpoint, bound to an IPv6
 * interface ('::' by default: every one).
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.endpoints.TCP6ServerEndpoint.html | Twisted's TCP6ServerEndpoint}
 */
export class TCP6ServerEndpoint extends TCPServerEndpoint {
  /** Listens on `port` (0: any free one) of the IPv6 `interface_`. */
  constructor(reactor: IReactorTCP, port: number, backlog = 50, interface_ = '::') {
    super(reactor, port, backlog, interface_);
  }
}

/**
 * A TCP client endpoint on IPv4: `connect(factory)` is
 * reactor.connectTCP(host, port, ...) with a Deferred that fires with the
 * factory's protocol once connected, or fails with the ConnectError the
 * attempt ended with (ConnectionRefusedError, TimeoutError, DNSLookupError,
 * ...). Cancelling it stops the attempt with ConnectingCancelledError.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.endpoints.TCP4ClientEndpoint.html | Twisted's TCP4ClientEndpoint}
 */
export class TCP4ClientEndpoint implements IStreamClientEndpoint {
  /** The reactor connectTCP() is called on. @internal */
  readonly _reactor: IReactorTCP;
  /** The host to connect to: a name (looked up over IPv4) or an address. @internal */
  readonly _host: string;
  /** The port to connect to. @internal */
  readonly _port: number;
  /** Seconds an attempt may take (null: no limit). @internal */
  readonly _timeout: number | null;
  /** The local [host, port] to bind first, or null. @internal */
  readonly _bindAddress: [string, number] | null;

  /** An endpoint for `host`:`port`. */
  constructor(reactor: IReactorTCP, host: string, port: number, timeout: number | null = 30, bindAddress: [string, number] | null = null) {
    const where = this.constructor.name;
    checkType(where, 'host', host, typeof host === 'string', 'a string');
    this._reactor = reactor;
    this._host = host;
    this._port = checkPort(where, port);
    this._timeout = checkTimeout(where, timeout);
    this._bindAddress = checkBindAddress(where, bindAddress);
  }

  /** Connects with `protocolFactory`: fires with its protocol once connected. */
  connect(protocolFactory: Factory): Deferred<Protocol> {
    const where = `${this.constructor.name}.connect`;
    return connectWrapped(where, protocolFactory, (wf) =>
      reactorMethod(where, this._reactor, 'connectTCP')(this._host, this._port, wf, this._timeout, this._bindAddress),
    );
  }
}

/** One getaddrinfo() entry: [family, type, proto, canonname, sockaddr], as Python's socket.getaddrinfo() gives it. */
export type AddrInfo = [family: number, type: number, proto: number, canonname: string, sockaddr: [host: string, port: number, flowinfo: number, scopeid: number]];

/**
 * A TCP client endpoint on IPv6: as TCP4ClientEndpoint, but a host name is
 * looked up for its IPv6 addresses first (getaddrinfo with AF_INET6), and
 * the first one is connected to.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.endpoints.TCP6ClientEndpoint.html | Twisted's TCP6ClientEndpoint}
 */
export class TCP6ClientEndpoint implements IStreamClientEndpoint {
  /** Which entry of a getaddrinfo() result holds the address. @internal */
  static readonly _GAI_ADDRESS = 4;
  /** Which part of that address is the host. @internal */
  static readonly _GAI_ADDRESS_HOST = 0;
  /** The reactor connectTCP() is called on. @internal */
  readonly _reactor: IReactorTCP;
  /** The host to connect to: an IPv6 address, or a name with one. @internal */
  readonly _host: string;
  /** The port to connect to. @internal */
  readonly _port: number;
  /** Seconds an attempt may take (null: no limit). @internal */
  readonly _timeout: number | null;
  /** The local [host, port] to bind first, or null. @internal */
  readonly _bindAddress: [string, number] | null;

  /** An endpoint for `host`:`port`. */
  constructor(reactor: IReactorTCP, host: string, port: number, timeout: number | null = 30, bindAddress: [string, number] | null = null) {
    const where = this.constructor.name;
    checkType(where, 'host', host, typeof host === 'string', 'a string');
    this._reactor = reactor;
    this._host = host;
    this._port = checkPort(where, port);
    this._timeout = checkTimeout(where, timeout);
    this._bindAddress = checkBindAddress(where, bindAddress);
  }

  /** Connects with `protocolFactory`, once the host name (if it is one) is looked up. */
  connect(protocolFactory: Factory): Deferred<Protocol> {
    if (isIP(this._host) === 6) return this._resolvedHostConnect(this._host, protocolFactory);
    const self = this.constructor as typeof TCP6ClientEndpoint;
    return this._nameResolution(this._host)
      .addCallback((result: AddrInfo[]) => {
        const first = result[0];
        if (first === undefined) throw new RangeError(`${self.name}.connect(): no IPv6 address for ${describe(this._host)}`);
        return first[self._GAI_ADDRESS][self._GAI_ADDRESS_HOST];
      })
      .addCallback((host: string) => this._resolvedHostConnect(host, protocolFactory)) as unknown as Deferred<Protocol>;
  }

  /** Looks `host` up for IPv6 addresses, as getaddrinfo(host, 0, AF_INET6). @internal */
  _nameResolution(host: string): Deferred<AddrInfo[]> {
    const d = new Deferred<AddrInfo[]>();
    lookup(host, { family: 6, all: true }, (err, addresses) => {
      if (err) d.errback(err);
      else d.callback(addresses.map((a): AddrInfo => [AF_INET6, SOCK_STREAM, IPPROTO_TCP, '', [a.address, 0, 0, 0]]));
    });
    return d;
  }

  /** Connects to the address `resolvedHost`. @internal */
  _resolvedHostConnect(resolvedHost: string, protocolFactory: Factory): Deferred<Protocol> {
    const where = `${this.constructor.name}.connect`;
    return connectWrapped(where, protocolFactory, (wf) =>
      reactorMethod(where, this._reactor, 'connectTCP')(resolvedHost, this._port, wf, this._timeout, this._bindAddress),
    );
  }
}

/**
 * A UNIX socket server endpoint: `listen(factory)` is
 * reactor.listenUNIX(address, factory, backlog, mode, wantPID) as a Deferred.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.endpoints.UNIXServerEndpoint.html | Twisted's UNIXServerEndpoint}
 */
export class UNIXServerEndpoint implements IStreamServerEndpoint {
  /** The reactor listenUNIX() is called on. @internal */
  readonly _reactor: IReactorUNIX;
  /** The path of the socket file. @internal */
  readonly _address: string;
  /** The listen() backlog. @internal */
  readonly _backlog: number;
  /** The permissions of the socket file. @internal */
  readonly _mode: number;
  /** Whether a lock file with the server's pid is asked for (passed to listenUNIX()). @internal */
  readonly _wantPID: boolean;

  /** An endpoint for the socket file `address`. */
  constructor(reactor: IReactorUNIX, address: string, backlog = 50, mode = 0o666, wantPID = false) {
    const where = this.constructor.name;
    checkType(where, 'address', address, typeof address === 'string', 'a path (a string)');
    checkType(where, 'backlog', backlog, Number.isInteger(backlog), 'an integer');
    checkType(where, 'mode', mode, Number.isInteger(mode), 'an integer');
    checkType(where, 'wantPID', wantPID, typeof wantPID === 'boolean', 'a boolean');
    this._reactor = reactor;
    this._address = address;
    this._backlog = backlog;
    this._mode = mode;
    this._wantPID = wantPID;
  }

  /** Listens with `protocolFactory` (reactor.listenUNIX()); fires with the port, or fails with CannotListenError. */
  listen(protocolFactory: Factory): Deferred<IListeningPort> {
    const where = `${this.constructor.name}.listen`;
    return execute(() =>
      reactorMethod(where, this._reactor, 'listenUNIX')(this._address, checkFactory(where, protocolFactory), this._backlog, this._mode, this._wantPID),
    );
  }
}

/**
 * A UNIX socket client endpoint: `connect(factory)` is
 * reactor.connectUNIX(path, ...) with a Deferred, as TCP4ClientEndpoint's.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.endpoints.UNIXClientEndpoint.html | Twisted's UNIXClientEndpoint}
 */
export class UNIXClientEndpoint implements IStreamClientEndpoint {
  /** The reactor connectUNIX() is called on. @internal */
  readonly _reactor: IReactorUNIX;
  /** The path of the socket file. @internal */
  readonly _path: string;
  /** Seconds an attempt may take (null: no limit). @internal */
  readonly _timeout: number | null;
  /** Whether the server's lock file is checked first (passed to connectUNIX()). @internal */
  readonly _checkPID: boolean;

  /** An endpoint for the socket file `path`. */
  constructor(reactor: IReactorUNIX, path: string, timeout: number | null = 30, checkPID = false) {
    const where = this.constructor.name;
    checkType(where, 'path', path, typeof path === 'string', 'a path (a string)');
    checkType(where, 'checkPID', checkPID, typeof checkPID === 'boolean', 'a boolean');
    this._reactor = reactor;
    this._path = path;
    this._timeout = checkTimeout(where, timeout);
    this._checkPID = checkPID;
  }

  /** Connects with `protocolFactory`: fires with its protocol once connected. */
  connect(protocolFactory: Factory): Deferred<Protocol> {
    const where = `${this.constructor.name}.connect`;
    return connectWrapped(where, protocolFactory, (wf) =>
      reactorMethod(where, this._reactor, 'connectUNIX')(this._path, wf, this._timeout, this._checkPID),
    );
  }
}

/**
 * Connects `protocol` itself (not a factory's) through `endpoint`: fires
 * with it once connected.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.endpoints.html#connectProtocol | Twisted's connectProtocol}
 */
export function connectProtocol<P extends Protocol>(endpoint: IStreamClientEndpoint, protocol: P): Deferred<P> {
  if (endpoint === null || typeof endpoint !== 'object' || typeof endpoint.connect !== 'function') {
    throw new TypeError(`connectProtocol(): needs a client endpoint (with connect()), not ${describe(endpoint)}`);
  }
  class OneShotFactory extends Factory {
    override buildProtocol(_addr: IAddress): Protocol {
      return protocol;
    }
  }
  // The endpoint fires with what the factory built: `protocol` itself.
  return endpoint.connect(new OneShotFactory()) as unknown as Deferred<P>;
}

// ---------------------------------------------------------------------------
// Descriptions: "type:arg:key=value:...", with backslash escapes.

/**
 * Splits a description into its positional arguments and its key=value
 * ones, as Twisted's _parse(): ":" separates arguments; the first "=" of
 * an argument separates key and value (later ones belong to the value);
 * a backslash makes the next character literal.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.endpoints.html#_parse | Twisted's _parse}
 * @internal
 */
export function _parse(description: string, where = '_parse'): [args: string[], kwargs: Map<string, string>] {
  checkType(where, 'description', description, typeof description === 'string', 'a string');
  const args: string[] = [];
  const kwargs = new Map<string, string>();
  let sofar: string[] = [];
  let current = '';
  // After a key's "=", another "=" is part of the value.
  let equalsIsOp = true;
  const add = (): void => {
    if (sofar.length === 1) args.push(sofar[0]!);
    else kwargs.set(sofar[0]!, sofar[1]!);
    sofar = [];
  };
  for (let i = 0; i < description.length; i++) {
    const ch = description[i]!;
    if (ch === ':' || (ch === '=' && equalsIsOp)) {
      sofar.push(current);
      current = '';
      if (ch === ':') add();
      equalsIsOp = ch === ':';
    } else if (ch === '\\') {
      i += 1;
      if (i >= description.length) throw new RangeError(`${where}(): ${describe(description)} ends with a lone backslash`);
      current += description[i];
    } else {
      current += ch;
    }
  }
  sofar.push(current);
  add();
  return [args, kwargs];
}

/**
 * Escapes backslashes and colons in `argument`, so that it can be put into
 * a description for serverFromString() or clientFromString().
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.endpoints.html#quoteStringArgument | Twisted's quoteStringArgument}
 */
export function quoteStringArgument(argument: string): string {
  checkType('quoteStringArgument', 'argument', argument, typeof argument === 'string', 'a string');
  return argument.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
}

/** The parameters of one kind of description, in positional order, with their defaults (undefined: required). */
type Parameters_ = Array<[name: string, fallback: string | undefined]>;

/**
 * Binds positional and keyword arguments to `params` as a Python call
 * would, with Python's TypeErrors for a missing, repeated, unknown or
 * extra argument.
 */
function bind(where: string, kind: string, params: Parameters_, args: string[], kwargs: Map<string, string>): Map<string, string> {
  if (args.length > params.length) {
    throw new TypeError(`${where}(): ${kind} takes at most ${params.length} positional arguments, ${args.length} given`);
  }
  const bound = new Map<string, string>();
  args.forEach((value, i) => bound.set(params[i]![0], value));
  for (const [key, value] of kwargs) {
    if (!params.some(([name]) => name === key)) throw new TypeError(`${where}(): ${kind} has no parameter ${describe(key)}`);
    if (bound.has(key)) throw new TypeError(`${where}(): ${kind} got more than one value for ${describe(key)}`);
    bound.set(key, value);
  }
  for (const [name, fallback] of params) {
    if (bound.has(name)) continue;
    if (fallback === undefined) throw new TypeError(`${where}(): ${kind} needs ${describe(name)}`);
    bound.set(name, fallback);
  }
  return bound;
}

/** Python's int(text, base): optional blanks and sign, digits. */
function parseInteger(where: string, what: string, text: string, base = 10): number {
  const digits = base === 8 ? '[0-7]' : '[0-9]';
  if (!new RegExp(`^\\s*[+-]?${digits}+\\s*$`).test(text)) {
    throw new RangeError(`${where}(): ${what} must be an integer${base === 8 ? ' in octal' : ''}, not ${describe(text)}`);
  }
  return parseInt(text.trim(), base);
}

function unknownType(where: string, type: string): RangeError {
  return new RangeError(`${where}(): Unknown endpoint type: '${type.toLowerCase()}'`);
}

/**
 * A server endpoint from a description: "tcp:PORT" (with interface= and
 * backlog=), "tcp6:PORT" (backlog=, interface=, '::' by default) or
 * "unix:PATH" (with mode= in octal, backlog= and lockfile=). Arguments are
 * separated by colons; a backslash escapes a colon (or a backslash) in a
 * value. RangeError "Unknown endpoint type" for any other prefix; TypeError
 * for a missing or unknown argument, as Twisted raises them.
 *
 * @example
 * ```ts
 * const endpoint = serverFromString(reactor, 'tcp:8080:interface=127.0.0.1');
 * const port = await endpoint.listen(factory);
 * ```
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.endpoints.html#serverFromString | Twisted's serverFromString}
 */
export function serverFromString(reactor: IReactorTCP & IReactorUNIX, description: string): IStreamServerEndpoint {
  const where = 'serverFromString';
  const [args, kwargs] = _parse(description, where);
  const type = args.shift()!;
  // tcp and unix are matched as written, tcp6 in any case (it is a plugin in Twisted).
  if (type === 'tcp') {
    const p = bind(where, 'tcp', [['port', undefined], ['interface', ''], ['backlog', '50']], args, kwargs);
    return new TCP4ServerEndpoint(
      reactor,
      parseInteger(where, 'port', p.get('port')!),
      parseInteger(where, 'backlog', p.get('backlog')!),
      p.get('interface')!,
    );
  }
  if (type === 'unix') {
    const p = bind(where, 'unix', [['address', undefined], ['mode', '666'], ['backlog', '50'], ['lockfile', '1']], args, kwargs);
    return new UNIXServerEndpoint(
      reactor,
      p.get('address')!,
      parseInteger(where, 'backlog', p.get('backlog')!),
      parseInteger(where, 'mode', p.get('mode')!, 8),
      parseInteger(where, 'lockfile', p.get('lockfile')!) !== 0,
    );
  }
  if (type.toLowerCase() === 'tcp6') {
    const p = bind(where, 'tcp6', [['port', undefined], ['backlog', '50'], ['interface', '::']], args, kwargs);
    return new TCP6ServerEndpoint(
      reactor,
      parseInteger(where, 'port', p.get('port')!),
      parseInteger(where, 'backlog', p.get('backlog')!),
      p.get('interface')!,
    );
  }
  throw unknownType(where, type);
}

/**
 * A client endpoint from a description: "tcp:HOST:PORT" (or host=, port=;
 * with timeout= and bindAddress=) or "unix:PATH" (or path=; with timeout=
 * and lockfile=). The type is matched in any case. As in Twisted 22.4
 * there is no "tcp6" client description: "tcp:host=::1:port=80" connects
 * over IPv6, and a name is looked up over IPv4 (use TCP6ClientEndpoint
 * for IPv6 names).
 *
 * @example
 * ```ts
 * const endpoint = clientFromString(reactor, 'tcp:host=127.0.0.1:port=8080');
 * const proto = await connectProtocol(endpoint, new Greeter());
 * ```
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.endpoints.html#clientFromString | Twisted's clientFromString}
 */
export function clientFromString(reactor: IReactorTCP & IReactorUNIX, description: string): IStreamClientEndpoint {
  const where = 'clientFromString';
  const [args, kwargs] = _parse(description, where);
  const type = args.shift()!;
  const name = type.toUpperCase();
  if (name === 'TCP') {
    // Twisted's _parseClientTCP: one or two positional arguments fill host
    // and port (one fills port when host= is given); more are ignored.
    const named = new Map(kwargs);
    if (args.length === 2) {
      named.set('port', args[1]!);
      named.set('host', args[0]!);
    } else if (args.length === 1) {
      named.set(named.has('host') ? 'port' : 'host', args[0]!);
    }
    const p = bind(where, 'tcp', [['host', undefined], ['port', undefined], ['timeout', '30'], ['bindAddress', '']], [], named);
    const bindHost = p.get('bindAddress')!;
    return new TCP4ClientEndpoint(
      reactor,
      p.get('host')!,
      parseInteger(where, 'port', p.get('port')!),
      parseInteger(where, 'timeout', p.get('timeout')!),
      named.has('bindAddress') ? [bindHost, 0] : null,
    );
  }
  if (name === 'UNIX') {
    const named = new Map(kwargs);
    if (args.length === 1) named.set('path', args[0]!);
    const p = bind(where, 'unix', [['path', undefined], ['timeout', '30'], ['lockfile', '0']], [], named);
    return new UNIXClientEndpoint(
      reactor,
      p.get('path')!,
      parseInteger(where, 'timeout', p.get('timeout')!),
      parseInteger(where, 'lockfile', p.get('lockfile')!) !== 0,
    );
  }
  throw unknownType(where, type);
}
