// twisted.internet.protocol: the Protocol a connection talks through, and
// the factories that make one per connection (servers) or per connection
// attempt (clients), with ReconnectingClientFactory's back-off.
import type { IAddress } from './address';
import { describe, textOf } from './describe';
import type { Failure } from './failure';
import type { IDelayedCall, ITCPTransport, ITransport, IUDPTransport } from './interfaces';
import * as log from './log';

export type { IConsumer, IDelayedCall, IProducer, IPushProducer, IStreamTransport, ITCPTransport, ITransport, IUDPTransport, IUNIXTransport } from './interfaces';

/** A protocol class: what a factory instantiates for each connection. */
export type ProtocolClass<P extends BaseProtocol<ITransport> = Protocol<Factory, ITransport>> = new () => P;

/**
 * The part of a protocol that is common to streams and datagrams.
 * @see https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.protocol.BaseProtocol.html
 */
export class BaseProtocol<T extends ITransport = ITCPTransport> {
  /** 1 while connected, 0 before and after. */
  connected: 0 | 1 = 0;
  /**
   * The transport, once makeConnection() has run (null before): typed as
   * the transport a connected protocol reads and writes through.
   */
  transport: T = null as unknown as T;

  /** Attaches the transport, then calls connectionMade(). */
  makeConnection(transport: ITransport): void {
    // Bytes have a write() of their own, which is no transport's.
    if (transport === null || typeof transport !== 'object' || ArrayBuffer.isView(transport)) {
      throw new TypeError(`makeConnection(): needs a transport, not ${describe(transport)}`);
    }
    this.connected = 1;
    this.transport = transport as T;
    this.connectionMade();
  }

  /** The connection is up: override to greet, start timers, and so on. */
  connectionMade(): void {}
}

/**
 * A stream protocol: the transport calls makeConnection(), then
 * dataReceived() for each chunk that arrives (chunk boundaries mean
 * nothing), then connectionLost() once, with a Failure of ConnectionDone
 * for a clean close and ConnectionLost (or the error) otherwise.
 *
 * `F` is the factory class that builds it, so that `this.factory` reads
 * that factory's fields (`class Chat extends Protocol<ChatFactory>`); `T`
 * the transport's interface (ITCPTransport unless named: IUNIXTransport,
 * or ITransport for any).
 * @see https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.protocol.Protocol.html
 */
export class Protocol<F extends Factory = Factory, T extends ITransport = ITCPTransport> extends BaseProtocol<T> {
  /** The factory that made this protocol (null until a factory has set it). */
  factory: F = null as unknown as F;

  /** The prefix of log lines about this protocol: its class name. */
  logPrefix(): string {
    return this.constructor.name;
  }

  /** Bytes arrived; override to handle them. */
  dataReceived(_data: Buffer): unknown {
    return undefined;
  }

  /** The connection is closed; `reason` says how. */
  connectionLost(_reason: Failure): void {}
}

/**
 * Makes a protocol for each connection (buildProtocol()), and counts the
 * ports it serves: startFactory() runs before the first, stopFactory()
 * after the last.
 */
export class Factory {
  /** The protocol class buildProtocol() instantiates. */
  protocol: ProtocolClass | null = null;
  /** How many ports (or connectors) use this factory now. */
  numPorts = 0;
  /** Whether starting and stopping are logged. */
  noisy = true;

  /** A factory of this class with `protocol` set: `Factory.forProtocol(Echo)`. */
  static forProtocol<F extends Factory>(this: new (...args: never[]) => F, protocol: ProtocolClass, ...args: unknown[]): F {
    const factory = new (this as unknown as new (...a: unknown[]) => F)(...args);
    factory.protocol = protocol;
    return factory;
  }

  /** The prefix of log lines about this factory: its class name. */
  logPrefix(): string {
    return this.constructor.name;
  }

  /** A port starts using this factory; the first one calls startFactory(). */
  doStart(): void {
    if (this.numPorts === 0) {
      if (this.noisy) log.msg(`Starting factory ${describe(this)}`);
      this.startFactory();
    }
    this.numPorts += 1;
  }

  /** A port stops using this factory; the last one calls stopFactory(). */
  doStop(): void {
    if (this.numPorts === 0) return;
    this.numPorts -= 1;
    if (this.numPorts === 0) {
      if (this.noisy) log.msg(`Stopping factory ${describe(this)}`);
      this.stopFactory();
    }
  }

  /** Called before the first port uses the factory; override to set up. */
  startFactory(): void {}

  /** Called after the last port has stopped using it; override to clean up. */
  stopFactory(): void {}

  /**
   * A protocol for a new connection from `addr`, with its `factory` set;
   * null refuses the connection.
   */
  buildProtocol(_addr: IAddress): Protocol<Factory, ITransport> | null {
    if (this.protocol === null || this.protocol === undefined) {
      throw new TypeError(`buildProtocol(): ${this.constructor.name}.protocol is not set (assign a Protocol class)`);
    }
    if (typeof this.protocol !== 'function') {
      throw new TypeError(`buildProtocol(): ${this.constructor.name}.protocol must be a Protocol class, not ${describe(this.protocol)}`);
    }
    const p = new this.protocol();
    p.factory = this;
    return p;
  }
}

/** A factory for servers (listenTCP(), listenUNIX()). */
export class ServerFactory extends Factory {}

/** What a client factory is told about: the connector of connectTCP()/connectUNIX(). */
export interface IConnector {
  /** Tries to connect (again). */
  connect(): void;
  /** Stops a connection attempt. */
  stopConnecting(): void;
  /** Stops connecting, or drops the connection. */
  disconnect(): void;
  /** Where it connects to. */
  getDestination(): IAddress;
}

/** A factory for clients: it also hears how connection attempts went. */
export class ClientFactory extends Factory {
  /** A connection attempt has started. */
  startedConnecting(_connector: IConnector): void {}

  /** The attempt failed (refused, timed out, ...); `reason` says why. */
  clientConnectionFailed(_connector: IConnector, _reason: Failure): void {}

  /** An established connection was closed; `reason` says how. */
  clientConnectionLost(_connector: IConnector, _reason: Failure): void {}
}

/** Checks that `connector` can be connected again and stopped: what ReconnectingClientFactory calls on it. */
function checkConnector(where: string, connector: unknown): void {
  const c = connector as IConnector | null;
  if (c === null || typeof c !== 'object' || typeof c.connect !== 'function' || typeof c.stopConnecting !== 'function') {
    throw new TypeError(`${where}(): needs an IConnector (an object with connect() and stopConnecting()), not ${describe(connector)}`);
  }
}

/** A normally distributed random number (Box-Muller), as random.normalvariate(). */
function normalVariate(mu: number, sigma: number): number {
  const u = 1 - Math.random();
  const v = Math.random();
  return mu + sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** What ReconnectingClientFactory schedules retries on (a reactor or a task.Clock). */
export interface IReactorTime {
  /** Schedules a call. */
  callLater(delay: number, fn: (...args: never[]) => unknown, ...args: unknown[]): IDelayedCall;
  /** The current time in seconds. */
  seconds(): number;
}

/**
 * A client factory that connects again after a failure or a lost
 * connection, waiting longer each time (by `factor`, with some jitter, up
 * to `maxDelay`). resetDelay() once connected; stopTrying() to give up.
 */
export class ReconnectingClientFactory extends ClientFactory {
  /** The longest wait between attempts, in seconds. */
  maxDelay = 3600;
  /** The first wait, in seconds. */
  initialDelay = 1.0;
  /** How much longer each wait is than the one before (e). */
  factor = 2.718281828459045;
  /** The spread of the waits, as a fraction of the wait. */
  jitter = 0.11962656472;
  /** The current wait. */
  delay = this.initialDelay;
  /** Attempts since the last resetDelay(). */
  retries = 0;
  /** Attempts allowed before giving up; null: no limit. */
  maxRetries: number | null = null;
  /** Whether it still tries. */
  continueTrying = true;
  /** The connector to retry with. */
  connector: IConnector | null = null;
  /** The clock retries are scheduled on; the reactor unless set. */
  clock: IReactorTime | null = null;
  #callID: IDelayedCall | null = null;

  /** Retries, unless stopTrying() was called. */
  override clientConnectionFailed(connector: IConnector, _reason: Failure): void {
    checkConnector('clientConnectionFailed', connector);
    if (this.continueTrying) {
      this.connector = connector;
      this.retry();
    }
  }

  /** Retries, unless stopTrying() was called. */
  override clientConnectionLost(connector: IConnector, _reason: Failure): void {
    checkConnector('clientConnectionLost', connector);
    if (this.continueTrying) {
      this.connector = connector;
      this.retry();
    }
  }

  /** Schedules the next attempt, after a longer wait than the last. */
  retry(connector: IConnector | null = null): void {
    if (!this.continueTrying) {
      if (this.noisy) log.msg(`Abandoning ${textOf(connector)} on explicit request`);
      return;
    }
    const target = connector ?? this.connector;
    if (target === null) throw new RangeError('retry(): no connector to retry');
    checkConnector('retry', target);
    this.retries += 1;
    if (this.maxRetries !== null && this.retries > this.maxRetries) {
      if (this.noisy) log.msg(`Abandoning ${textOf(target)} after ${this.retries} retries.`);
      return;
    }
    this.delay = Math.min(this.delay * this.factor, this.maxDelay);
    if (this.jitter) this.delay = normalVariate(this.delay, this.delay * this.jitter);
    if (this.noisy) log.msg(`${textOf(target)} will retry in ${Math.trunc(this.delay)} seconds`);
    if (this.clock === null) this.clock = defaultClock();
    this.#callID = this.clock.callLater(Math.max(0, this.delay), () => {
      this.#callID = null;
      target.connect();
    });
  }

  /** Gives up: no more retries, and a connection attempt under way is stopped. */
  stopTrying(): void {
    if (this.#callID !== null) {
      this.#callID.cancel();
      this.#callID = null;
    }
    this.continueTrying = false;
    if (this.connector !== null) {
      try {
        this.connector.stopConnecting();
      } catch (err) {
        if (!(err instanceof Error && err.name === 'NotConnectingError')) throw err;
      }
    }
  }

  /** Back to the first wait and no retries counted: call it once connected. */
  resetDelay(): void {
    this.delay = this.initialDelay;
    this.retries = 0;
    this.#callID = null;
    this.continueTrying = true;
  }
}

let clockProvider: (() => IReactorTime) | null = null;

/** Tells this module where the reactor is (set by the reactor module, which imports this one). */
export function setDefaultClock(provider: () => IReactorTime): void {
  clockProvider = provider;
}

function defaultClock(): IReactorTime {
  if (clockProvider === null) throw new Error('no reactor to schedule on');
  return clockProvider();
}

/**
 * A datagram protocol: datagramReceived() for each datagram, with the
 * sender's [host, port]; startProtocol() when it starts listening,
 * stopProtocol() when it stops.
 */
export class DatagramProtocol {
  /** The UDP port, while listening (null before and after). */
  transport: IUDPTransport = null as unknown as IUDPTransport;
  /** How many ports use this protocol. */
  numPorts = 0;
  /** Whether starting and stopping are logged. */
  noisy = true;

  /** The prefix of log lines about this protocol: its class name. */
  logPrefix(): string {
    return this.constructor.name;
  }

  /** The first port starts: calls startProtocol(). */
  doStart(): void {
    if (this.numPorts === 0) this.startProtocol();
    this.numPorts += 1;
  }

  /** The last port stops: calls stopProtocol() and forgets the transport. */
  doStop(): void {
    if (this.numPorts === 0) return;
    this.numPorts -= 1;
    this.transport = null as unknown as IUDPTransport;
    if (this.numPorts === 0) this.stopProtocol();
  }

  /** Listening has started; override to set up. */
  startProtocol(): void {}

  /** Listening has stopped; override to clean up. */
  stopProtocol(): void {}

  /** Attaches the port and starts the protocol. */
  makeConnection(transport: IUDPTransport): void {
    // Bytes have a write() of their own, which is no transport's.
    if (transport === null || typeof transport !== 'object' || ArrayBuffer.isView(transport)) {
      throw new TypeError(`makeConnection(): needs a transport, not ${describe(transport)}`);
    }
    this.transport = transport;
    this.doStart();
  }

  /** A datagram arrived from `addr`. */
  datagramReceived(_datagram: Buffer, _addr: [host: string, port: number]): void {}

  /** A datagram sent on a connected port was refused (ICMP port unreachable). */
  connectionRefused(): void {}
}
