// twisted.protocols.policies: limits put on connections from outside the
// protocol that serves them. A WrappingFactory puts a ProtocolWrapper
// between each transport and its protocol (the wrapper is the protocol's
// transport); the wrappers below time idle connections out, count them, or
// throttle their bandwidth. TimeoutMixin does the timing out from inside a
// protocol instead, as a class mixin.
import { describe } from '../errors';
import type { IAddress } from './address';
import { AlreadyCalled, AlreadyCancelled } from './error';
import type { Failure } from './failure';
import * as log from './log';
import { logPrefixOf } from './logcontext';
import { ClientFactory, Protocol, ServerFactory, type Factory, type IConnector, type IProducer } from './protocol';
import { reactor, type DelayedCall } from './reactor';

/** A protocol as a factory builds it, whatever its transport. */
type BuiltProtocol = NonNullable<ReturnType<Factory['buildProtocol']>>;

/** What a ProtocolWrapper tells its factory: it is connected, then gone. */
export interface IProtocolRegistry {
  /** A wrapper is connected. */
  registerProtocol(p: ProtocolWrapper): void;
  /** A wrapper's connection is lost. */
  unregisterProtocol(p: ProtocolWrapper): void;
}

function checkWrappedProtocol(where: string, wrapped: unknown): BuiltProtocol {
  if (wrapped === null || typeof wrapped !== 'object' || typeof (wrapped as BuiltProtocol).makeConnection !== 'function') {
    throw new TypeError(`${where}(): needs the protocol to wrap, not ${describe(wrapped)}`);
  }
  return wrapped as BuiltProtocol;
}

/**
 * A protocol that stands between a transport and another protocol: it is
 * the wrapped protocol's transport, and passes writes down and data up. Its
 * factory hears when it connects and when it is gone. Twisted forwards any
 * other attribute to the real transport; here the transport methods are
 * forwarded one by one (producing, aborting, TCP options).
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.protocols.policies.ProtocolWrapper.html | Twisted's ProtocolWrapper}
 */
export class ProtocolWrapper extends Protocol {
  /** True once loseConnection() was called. */
  disconnecting = false;
  /** The protocol this wrapper is the transport of (null once its connection is lost). */
  wrappedProtocol: BuiltProtocol | null;
  /** The factory that made this wrapper, told of its connection and loss. */
  declare factory: Factory & IProtocolRegistry;

  /** Wraps `wrappedProtocol` for `factory`. */
  constructor(factory: Factory & IProtocolRegistry, wrappedProtocol: BuiltProtocol) {
    super();
    this.wrappedProtocol = checkWrappedProtocol(`${new.target.name}`, wrappedProtocol);
    this.factory = factory;
  }

  /** "WRAPPED (WRAPPER)": the wrapped protocol's log prefix and this class's name. */
  override logPrefix(): string {
    return `${logPrefixOf(this.wrappedProtocol)} (${this.constructor.name})`;
  }

  /** Takes the real transport, registers with the factory, and connects the wrapped protocol to this wrapper. */
  override makeConnection(transport: Parameters<Protocol['makeConnection']>[0]): void {
    super.makeConnection(transport);
    this.factory.registerProtocol(this);
    this.wrappedProtocol!.makeConnection(this);
  }

  /** Calls `method` of the real transport. */
  private relay(method: string, ...args: unknown[]): unknown {
    const transport: object | null = this.transport;
    const fn: unknown = transport === null ? undefined : Reflect.get(transport, method);
    if (typeof fn !== 'function') {
      throw new TypeError(`${this.constructor.name}.${method}(): the transport has no ${method}(): ${describe(transport)}`);
    }
    return (fn as (...a: unknown[]) => unknown).apply(transport, args);
  }

  /** Writes to the real transport. */
  write(data: Uint8Array): void {
    this.relay('write', data);
  }

  /** Writes each chunk to the real transport. */
  writeSequence(data: Uint8Array[]): void {
    this.relay('writeSequence', data);
  }

  /** Closes the real transport (once what is written is sent). */
  loseConnection(): void {
    this.disconnecting = true;
    this.relay('loseConnection');
  }

  /** Drops the real transport's connection at once. */
  abortConnection(): void {
    this.relay('abortConnection');
  }

  /** Closes the sending half of the real transport. */
  loseWriteConnection(): void {
    this.relay('loseWriteConnection');
  }

  /** The real transport's peer. */
  getPeer(): IAddress {
    return this.relay('getPeer') as IAddress;
  }

  /** The real transport's own address. */
  getHost(): IAddress {
    return this.relay('getHost') as IAddress;
  }

  /** Registers a producer with the real transport. */
  registerProducer(producer: IProducer, streaming: boolean): void {
    this.relay('registerProducer', producer, streaming);
  }

  /** Unregisters the real transport's producer. */
  unregisterProducer(): void {
    this.relay('unregisterProducer');
  }

  /** The real transport's `client`: on a server connection, the peer as accept() gave it. */
  get client(): unknown {
    const transport: object | null = this.transport;
    return transport === null ? undefined : (Reflect.get(transport, 'client') as unknown);
  }

  /** The real transport's socket. */
  getHandle(): unknown {
    return this.relay('getHandle');
  }

  /** Tells the real transport to stop consuming. */
  stopConsuming(): void {
    this.relay('stopConsuming');
  }

  /** Stops reading from the real transport. */
  pauseProducing(): void {
    this.relay('pauseProducing');
  }

  /** Reads from the real transport again. */
  resumeProducing(): void {
    this.relay('resumeProducing');
  }

  /** Closes the real transport, as a producer. */
  stopProducing(): void {
    this.relay('stopProducing');
  }

  /** Sets TCP_NODELAY on the real transport. */
  setTcpNoDelay(enabled: boolean): void {
    this.relay('setTcpNoDelay', enabled);
  }

  /** Whether TCP_NODELAY is set on the real transport. */
  getTcpNoDelay(): boolean {
    return this.relay('getTcpNoDelay') as boolean;
  }

  /** Sets SO_KEEPALIVE on the real transport. */
  setTcpKeepAlive(enabled: boolean): void {
    this.relay('setTcpKeepAlive', enabled);
  }

  /** Whether SO_KEEPALIVE is set on the real transport. */
  getTcpKeepAlive(): boolean {
    return this.relay('getTcpKeepAlive') as boolean;
  }

  /** Passes data up to the wrapped protocol. */
  override dataReceived(data: Buffer): unknown {
    return this.wrappedProtocol!.dataReceived(data);
  }

  /** Unregisters from the factory, tells the wrapped protocol, and lets go of it. */
  override connectionLost(reason: Failure): void {
    this.factory.unregisterProtocol(this);
    this.wrappedProtocol!.connectionLost(reason);
    this.wrappedProtocol = null;
  }
}

/** A ProtocolWrapper class, as a WrappingFactory makes them: (factory, wrapped protocol, ...). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ProtocolWrapperClass = new (factory: any, wrappedProtocol: BuiltProtocol, ...rest: any[]) => ProtocolWrapper;

function checkWrappedFactory(where: string, factory: unknown): void {
  if (factory !== null && typeof factory !== 'object') {
    throw new TypeError(`${where}(): needs the factory to wrap, not ${describe(factory)}`);
  }
}

/** The part of a factory a WrappingFactory calls: those it lacks are not called. */
export interface IWrappedFactory {
  /** Builds the protocol for a connection. */
  buildProtocol?(addr: IAddress): BuiltProtocol | null;
  /** A port or connector starts using the factory. */
  doStart?(): void;
  /** It stops using it. */
  doStop?(): void;
  /** A client connection attempt started. */
  startedConnecting?(connector: IConnector): void;
  /** A client connection attempt failed. */
  clientConnectionFailed?(connector: IConnector, reason: Failure): void;
  /** A client connection was lost. */
  clientConnectionLost?(connector: IConnector, reason: Failure): void;
  /** What log lines call it. */
  logPrefix?(): string;
}

/**
 * Wraps a factory: each protocol it builds is wrapped in a
 * `protocol` (a static: the ProtocolWrapper subclass to make), and the
 * wrappers that are connected are kept in `protocols`. Starting, stopping
 * and the client events pass through to the wrapped factory.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.protocols.policies.WrappingFactory.html | Twisted's WrappingFactory}
 */
export class WrappingFactory extends ClientFactory implements IProtocolRegistry {
  /** The wrapper class buildProtocol() makes (Twisted's class attribute `protocol`). */
  static protocol: ProtocolWrapperClass = ProtocolWrapper;
  /** The factory whose protocols are wrapped. */
  wrappedFactory: IWrappedFactory;
  /** The wrappers now connected (Twisted's dict, keys only). */
  protocols = new Map<ProtocolWrapper, 1>();

  /** Wraps `wrappedFactory`. */
  constructor(wrappedFactory: IWrappedFactory) {
    super();
    checkWrappedFactory(new.target.name, wrappedFactory);
    this.wrappedFactory = wrappedFactory;
  }

  /** The wrapper class this factory makes: the static `protocol` of its class. */
  protected get wrapperClass(): ProtocolWrapperClass {
    return (this.constructor as typeof WrappingFactory).protocol;
  }

  /** "WRAPPED (WRAPPER)": the wrapped factory's log prefix and this class's name. */
  override logPrefix(): string {
    return `${logPrefixOf(this.wrappedFactory)} (${this.constructor.name})`;
  }

  /** Starts the wrapped factory, then this one. */
  override doStart(): void {
    this.wrappedFactory.doStart?.();
    super.doStart();
  }

  /** Stops the wrapped factory, then this one. */
  override doStop(): void {
    this.wrappedFactory.doStop?.();
    super.doStop();
  }

  /** Passed to the wrapped factory. */
  override startedConnecting(connector: IConnector): void {
    this.wrappedFactory.startedConnecting?.(connector);
  }

  /** Passed to the wrapped factory. */
  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    this.wrappedFactory.clientConnectionFailed?.(connector, reason);
  }

  /** Passed to the wrapped factory. */
  override clientConnectionLost(connector: IConnector, reason: Failure): void {
    this.wrappedFactory.clientConnectionLost?.(connector, reason);
  }

  /** The wrapped factory's protocol, in a wrapper. */
  override buildProtocol(addr: IAddress): ProtocolWrapper | null {
    return new this.wrapperClass(this, this.buildWrapped(addr));
  }

  /** The wrapped factory's protocol for `addr`. */
  protected buildWrapped(addr: IAddress): BuiltProtocol {
    const build = this.wrappedFactory.buildProtocol;
    if (typeof build !== 'function') {
      throw new TypeError(`${this.constructor.name}.buildProtocol(): the wrapped factory has no buildProtocol(): ${describe(this.wrappedFactory)}`);
    }
    return build.call(this.wrappedFactory, addr) as BuiltProtocol;
  }

  /** A wrapper is connected. */
  registerProtocol(p: ProtocolWrapper): void {
    if (!(p instanceof ProtocolWrapper)) throw new TypeError(`registerProtocol(): needs a ProtocolWrapper, not ${describe(p)}`);
    this.protocols.set(p, 1);
  }

  /** A wrapper's connection is lost. */
  unregisterProtocol(p: ProtocolWrapper): void {
    this.protocols.delete(p);
  }
}

/**
 * The wrapper of a ThrottlingFactory: it counts the bytes read and written
 * for its factory, and pauses reading (or its producer) when told to.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.protocols.policies.ThrottlingProtocol.html | Twisted's ThrottlingProtocol}
 */
export class ThrottlingProtocol extends ProtocolWrapper {
  /** The factory that counts this connection's bytes. */
  declare factory: ThrottlingFactory;
  /** The producer registered through this wrapper, paused when writes are throttled. */
  producer: IProducer | null = null;

  /** Counts the bytes, then writes them. */
  override write(data: Uint8Array): void {
    this.factory.registerWritten(data.length);
    super.write(data);
  }

  /** Counts the bytes, then writes them. */
  override writeSequence(seq: Uint8Array[]): void {
    this.factory.registerWritten(seq.reduce((n, chunk) => n + chunk.length, 0));
    super.writeSequence(seq);
  }

  /** Counts the bytes, then passes them up. */
  override dataReceived(data: Buffer): unknown {
    this.factory.registerRead(data.length);
    return super.dataReceived(data);
  }

  /** Remembers the producer (to pause it), then registers it. */
  override registerProducer(producer: IProducer, streaming: boolean): void {
    this.producer = producer;
    super.registerProducer(producer, streaming);
  }

  /** Forgets the producer, then unregisters it. */
  override unregisterProducer(): void {
    this.producer = null;
    super.unregisterProducer();
  }

  /** Stops reading from the transport. */
  throttleReads(): void {
    (this.transport as IProducer).pauseProducing?.();
  }

  /** Reads from the transport again. */
  unthrottleReads(): void {
    (this.transport as IProducer).resumeProducing();
  }

  /** Pauses the producer, if one is registered. */
  throttleWrites(): void {
    this.producer?.pauseProducing?.();
  }

  /** Resumes the producer, if one is registered. */
  unthrottleWrites(): void {
    this.producer?.resumeProducing();
  }
}

function checkLimit(where: string, name: string, value: unknown): void {
  if (value !== null && (typeof value !== 'number' || !(value > 0))) {
    throw new TypeError(`${where}(): ${name} must be a number > 0 or null, not ${describe(value)}`);
  }
}

/**
 * Limits the connections of the wrapped factory to `maxConnectionCount`
 * (one more is closed at once), and their bandwidth to `readLimit` and
 * `writeLimit` bytes per second: checked each second, reads (or the
 * registered producers) are paused for as long as the excess takes.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.protocols.policies.ThrottlingFactory.html | Twisted's ThrottlingFactory}
 */
export class ThrottlingFactory extends WrappingFactory {
  /** The wrapper class: ThrottlingProtocol. */
  static override protocol: ProtocolWrapperClass = ThrottlingProtocol;
  /** Connections now open. */
  connectionCount = 0;
  /** Connections allowed at once. */
  maxConnectionCount: number;
  /** Bytes per second that may be read, or null. */
  readLimit: number | null;
  /** Bytes per second that may be written, or null. */
  writeLimit: number | null;
  /** Bytes read since the last check. */
  readThisSecond = 0;
  /** Bytes written since the last check. */
  writtenThisSecond = 0;
  /** The call that resumes reading. */
  unthrottleReadsID: DelayedCall | null = null;
  /** The next check of the read bandwidth. */
  checkReadBandwidthID: DelayedCall | null = null;
  /** The call that resumes writing. */
  unthrottleWritesID: DelayedCall | null = null;
  /** The next check of the write bandwidth. */
  checkWriteBandwidthID: DelayedCall | null = null;

  /** Wraps `wrappedFactory` with these limits (Infinity and null: none). */
  constructor(wrappedFactory: IWrappedFactory, maxConnectionCount = Infinity, readLimit: number | null = null, writeLimit: number | null = null) {
    super(wrappedFactory);
    const where = new.target.name;
    if (typeof maxConnectionCount !== 'number' || Number.isNaN(maxConnectionCount)) {
      throw new TypeError(`${where}(): maxConnectionCount must be a number, not ${describe(maxConnectionCount)}`);
    }
    checkLimit(where, 'readLimit', readLimit);
    checkLimit(where, 'writeLimit', writeLimit);
    this.maxConnectionCount = maxConnectionCount;
    this.readLimit = readLimit;
    this.writeLimit = writeLimit;
  }

  /** Schedules `func` (reactor.callLater(); tests give a task.Clock's). */
  callLater(period: number, func: () => void): DelayedCall {
    return reactor.callLater(period, func);
  }

  /** A wrapper wrote `length` bytes. */
  registerWritten(length: number): void {
    if (typeof length !== 'number') throw new TypeError(`registerWritten(): length must be a number of bytes, not ${describe(length)}`);
    this.writtenThisSecond += length;
  }

  /** A wrapper read `length` bytes. */
  registerRead(length: number): void {
    if (typeof length !== 'number') throw new TypeError(`registerRead(): length must be a number of bytes, not ${describe(length)}`);
    this.readThisSecond += length;
  }

  /** The second's check: over the read limit, reads pause for as long as the excess takes. */
  checkReadBandwidth(): void {
    const limit = this.readLimit!;
    if (this.readThisSecond > limit) {
      this.throttleReads();
      const throttleTime = this.readThisSecond / limit - 1.0;
      this.unthrottleReadsID = this.callLater(throttleTime, () => this.unthrottleReads());
    }
    this.readThisSecond = 0;
    this.checkReadBandwidthID = this.callLater(1, () => this.checkReadBandwidth());
  }

  /** The second's check: over the write limit, producers pause for as long as the excess takes. */
  checkWriteBandwidth(): void {
    const limit = this.writeLimit!;
    if (this.writtenThisSecond > limit) {
      this.throttleWrites();
      const throttleTime = this.writtenThisSecond / limit - 1.0;
      this.unthrottleWritesID = this.callLater(throttleTime, () => this.unthrottleWrites());
    }
    this.writtenThisSecond = 0;
    this.checkWriteBandwidthID = this.callLater(1, () => this.checkWriteBandwidth());
  }

  /** Pauses reading on every connection. */
  throttleReads(): void {
    log.msg(`Throttling reads on ${this.toString()}`);
    for (const p of this.protocols.keys()) (p as ThrottlingProtocol).throttleReads();
  }

  /** Resumes reading on every connection. */
  unthrottleReads(): void {
    this.unthrottleReadsID = null;
    log.msg(`Stopped throttling reads on ${this.toString()}`);
    for (const p of this.protocols.keys()) (p as ThrottlingProtocol).unthrottleReads();
  }

  /** Pauses the producers of every connection. */
  throttleWrites(): void {
    log.msg(`Throttling writes on ${this.toString()}`);
    for (const p of this.protocols.keys()) (p as ThrottlingProtocol).throttleWrites();
  }

  /** Resumes the producers of every connection. */
  unthrottleWrites(): void {
    this.unthrottleWritesID = null;
    log.msg(`Stopped throttling writes on ${this.toString()}`);
    for (const p of this.protocols.keys()) (p as ThrottlingProtocol).unthrottleWrites();
  }

  /** A wrapped protocol, or null (the connection is closed) past maxConnectionCount; the first one starts the checks. */
  override buildProtocol(addr: IAddress): ProtocolWrapper | null {
    if (this.connectionCount === 0) {
      if (this.readLimit !== null) this.checkReadBandwidth();
      if (this.writeLimit !== null) this.checkWriteBandwidth();
    }
    if (this.connectionCount < this.maxConnectionCount) {
      this.connectionCount += 1;
      return super.buildProtocol(addr);
    }
    log.msg('Max connection count reached!');
    return null;
  }

  /** A connection is up: a ThrottlingProtocol, since throttling calls its throttle methods. */
  override registerProtocol(p: ProtocolWrapper): void {
    if (!(p instanceof ThrottlingProtocol)) throw new TypeError(`registerProtocol(): needs a ThrottlingProtocol, not ${describe(p)}`);
    super.registerProtocol(p);
  }

  /** A connection is gone; after the last one the checks stop. */
  override unregisterProtocol(p: ProtocolWrapper): void {
    super.unregisterProtocol(p);
    this.connectionCount -= 1;
    if (this.connectionCount === 0) {
      for (const call of [this.unthrottleReadsID, this.checkReadBandwidthID, this.unthrottleWritesID, this.checkWriteBandwidthID]) {
        if (call !== null && call.active()) call.cancel();
      }
    }
  }

  /** "<ThrottlingFactory>". */
  override toString(): string {
    return `<${this.constructor.name}>`;
  }
}

/**
 * A server factory that allows `connectionLimit` connections at once
 * (null: any number). Past it, a connection gets an `overflowProtocol`, or
 * is closed at once when there is none. Overflow connections count too.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.protocols.policies.LimitTotalConnectionsFactory.html | Twisted's LimitTotalConnectionsFactory}
 */
export class LimitTotalConnectionsFactory extends ServerFactory implements IProtocolRegistry {
  /** Connections now open. */
  connectionCount = 0;
  /** Connections allowed at once, or null for no limit. */
  connectionLimit: number | null = null;
  /** The protocol of connections past the limit, or null to close them. */
  overflowProtocol: Factory['protocol'] = null;

  /** A wrapped `protocol` (or `overflowProtocol` past the limit), or null to close the connection. */
  override buildProtocol(_addr: IAddress | null): ProtocolWrapper | null {
    let wrappedProtocol: BuiltProtocol;
    if (this.connectionLimit === null || this.connectionCount < this.connectionLimit) {
      if (this.protocol === null) throw new TypeError(`${this.constructor.name}.protocol is not set (assign a Protocol class)`);
      wrappedProtocol = new this.protocol();
    } else if (this.overflowProtocol === null) {
      return null;
    } else {
      wrappedProtocol = new this.overflowProtocol();
    }
    wrappedProtocol.factory = this;
    const protocol = new ProtocolWrapper(this, wrappedProtocol);
    this.connectionCount += 1;
    return protocol;
  }

  /** A wrapper is connected (nothing to do: buildProtocol() counted it). */
  registerProtocol(_p: ProtocolWrapper): void {}

  /** A connection is gone. */
  unregisterProtocol(_p: ProtocolWrapper): void {
    this.connectionCount -= 1;
  }
}

/**
 * The wrapper of a TimeoutFactory: it closes the connection when nothing
 * was read or written for `timeoutPeriod` seconds (timeoutFunc()).
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.protocols.policies.TimeoutProtocol.html | Twisted's TimeoutProtocol}
 */
export class TimeoutProtocol extends ProtocolWrapper {
  /** The factory, whose callLater() the timeout is scheduled with. */
  declare factory: TimeoutFactory;
  /** The pending timeout, if any. */
  timeoutCall: DelayedCall | null = null;
  /** Seconds of quiet allowed, or null for none. */
  timeoutPeriod: number | null = null;

  /** Wraps `wrappedProtocol`, with a timeout of `timeoutPeriod` seconds (null: none). */
  constructor(factory: TimeoutFactory, wrappedProtocol: BuiltProtocol, timeoutPeriod: number | null) {
    super(factory, wrappedProtocol);
    this.setTimeout(timeoutPeriod);
  }

  /** Replaces the timeout: cancels the one pending, and schedules one `timeoutPeriod` seconds from now (null: none). */
  setTimeout(timeoutPeriod: number | null = null): void {
    this.cancelTimeout();
    this.timeoutPeriod = timeoutPeriod;
    if (timeoutPeriod !== null) this.timeoutCall = this.factory.callLater(timeoutPeriod, () => this.timeoutFunc());
  }

  /** Cancels the timeout; nothing happens if there is none, or it has run or was cancelled. */
  cancelTimeout(): void {
    this.timeoutPeriod = null;
    if (this.timeoutCall !== null) {
      try {
        this.timeoutCall.cancel();
      } catch (err) {
        if (!(err instanceof AlreadyCalled || err instanceof AlreadyCancelled)) throw err;
      }
      this.timeoutCall = null;
    }
  }

  /** Starts the countdown again (there was activity). */
  resetTimeout(): void {
    if (this.timeoutCall !== null && this.timeoutPeriod !== null) this.timeoutCall.reset(this.timeoutPeriod);
  }

  /** Resets the timeout, then writes. */
  override write(data: Uint8Array): void {
    this.resetTimeout();
    super.write(data);
  }

  /** Resets the timeout, then writes. */
  override writeSequence(seq: Uint8Array[]): void {
    this.resetTimeout();
    super.writeSequence(seq);
  }

  /** Resets the timeout, then passes the data up. */
  override dataReceived(data: Buffer): unknown {
    this.resetTimeout();
    return super.dataReceived(data);
  }

  /** Cancels the timeout, then tells the wrapped protocol. */
  override connectionLost(reason: Failure): void {
    this.cancelTimeout();
    super.connectionLost(reason);
  }

  /** The timeout ran out: closes the connection. Override to do something else. */
  timeoutFunc(): void {
    this.loseConnection();
  }
}

/**
 * Wraps a factory so that each of its connections is closed after
 * `timeoutPeriod` seconds (30 minutes by default) without a read or a
 * write.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.protocols.policies.TimeoutFactory.html | Twisted's TimeoutFactory}
 */
export class TimeoutFactory extends WrappingFactory {
  /** The wrapper class: TimeoutProtocol. */
  static override protocol: ProtocolWrapperClass = TimeoutProtocol;
  /** Seconds of quiet allowed per connection (null: no timeout). */
  timeoutPeriod: number | null;

  /** Wraps `wrappedFactory` with a timeout of `timeoutPeriod` seconds. */
  constructor(wrappedFactory: IWrappedFactory, timeoutPeriod: number | null = 30 * 60) {
    super(wrappedFactory);
    checkLimit(new.target.name, 'timeoutPeriod', timeoutPeriod);
    this.timeoutPeriod = timeoutPeriod;
  }

  /** A wrapper with this factory's timeout. */
  override buildProtocol(addr: IAddress): ProtocolWrapper | null {
    return new this.wrapperClass(this, this.buildWrapped(addr), this.timeoutPeriod);
  }

  /** Schedules `func` (reactor.callLater(); tests give a task.Clock's). */
  callLater(period: number, func: () => void): DelayedCall {
    return reactor.callLater(period, func);
  }
}

/**
 * What TimeoutMixin adds to a class: one timeout per object, set with
 * setTimeout(), started again with resetTimeout(); when it runs out,
 * timeoutConnection() is called, which closes the transport unless
 * overridden.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.protocols.policies.TimeoutMixin.html | Twisted's TimeoutMixin}
 */
export interface TimeoutMixin {
  /** The timeout in seconds, or null for none (a subclass may give its own). */
  timeOut: number | null;
  /** Schedules `func` `period` seconds from now: reactor.callLater(), or a clock's in tests. */
  callLater(period: number, func: () => void): DelayedCall;
  /** Starts the countdown again (there was activity); nothing if there is no timeout pending. */
  resetTimeout(): void;
  /** Sets the timeout to `period` seconds (null: none) and returns the one before. */
  setTimeout(period: number | null): number | null;
  /** The timeout ran out: closes the transport. Override to do something else. */
  timeoutConnection(): void;
}

/** A class that TimeoutMixin can extend. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type MixinBase = abstract new (...args: any[]) => object;

/** The class TimeoutMixin(Base) returns: Base's, with the TimeoutMixin members. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TimeoutMixinClass = abstract new (...args: any[]) => TimeoutMixin;

/**
 * Whether `Base` can be the base of the mixed-in class: a class or function
 * with a prototype (an arrow function or a bound one has none), not a
 * built-in like Map, whose constructor takes other arguments than a protocol's.
 */
function isMixinBase(Base: unknown): boolean {
  if (typeof Base !== 'function' || Base.prototype === undefined) return false;
  try {
    return !Function.prototype.toString.call(Base).endsWith('{ [native code] }');
  } catch {
    return false;
  }
}

/**
 * Twisted's TimeoutMixin as a class mixin: `class P extends
 * TimeoutMixin(LineReceiver)` gives P the {@link TimeoutMixin} members.
 *
 * @example
 * ```ts
 * class Greeter extends TimeoutMixin(LineReceiver) {
 *   override connectionMade(): void { this.setTimeout(10); }
 *   override lineReceived(line: Buffer): void { this.resetTimeout(); this.sendLine(line); }
 * }
 * ```
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.protocols.policies.TimeoutMixin.html | Twisted's TimeoutMixin}
 */
export function TimeoutMixin<B extends MixinBase>(Base: B): B & TimeoutMixinClass {
  if (!isMixinBase(Base)) throw new TypeError(`TimeoutMixin(): needs a class to extend, not ${describe(Base)}`);
  abstract class Timeout extends Base implements TimeoutMixin {
    timeOut: number | null = null;
    #timeoutCall: DelayedCall | null = null;

    callLater(period: number, func: () => void): DelayedCall {
      return reactor.callLater(period, func);
    }

    resetTimeout(): void {
      if (this.#timeoutCall !== null && this.timeOut !== null) this.#timeoutCall.reset(this.timeOut);
    }

    setTimeout(period: number | null): number | null {
      if (period !== null && (typeof period !== 'number' || !(period >= 0))) {
        throw new TypeError(`setTimeout(): period must be a number of seconds >= 0 or null, not ${describe(period)}`);
      }
      const prev = this.timeOut;
      this.timeOut = period;
      if (this.#timeoutCall !== null) {
        if (period === null) {
          try {
            this.#timeoutCall.cancel();
          } catch (err) {
            // Already consumed (run, or cancelled from elsewhere): nothing to cancel.
            if (!(err instanceof AlreadyCalled || err instanceof AlreadyCancelled)) throw err;
          }
          this.#timeoutCall = null;
        } else {
          this.#timeoutCall.reset(period);
        }
      } else if (period !== null) {
        this.#timeoutCall = this.callLater(period, () => this.#timedOut());
      }
      return prev;
    }

    #timedOut(): void {
      this.#timeoutCall = null;
      this.timeoutConnection();
    }

    timeoutConnection(): void {
      const transport = (this as { transport?: { loseConnection?: unknown } | null }).transport;
      if (typeof transport?.loseConnection !== 'function') {
        throw new TypeError(`${this.constructor.name}.timeoutConnection(): no transport to close: ${describe(transport)}`);
      }
      (transport.loseConnection as () => void).call(transport);
    }
  }
  return Timeout;
}
