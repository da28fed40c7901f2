// Stream connections (TCP, and UNIX sockets through unix.ts): the
// transport a Protocol writes to, the listening Port that accepts, and the
// Connector/Client pair behind connectTCP(). Twisted's tcp.py, on this
// package's sockets: reads and writes follow its FileDescriptor and
// Connection, except that a write with nothing queued before it is sent
// without waiting for the socket to turn writable: at the end of the
// reactor's pass, with the pass's other replies (pass_io.ts), or at once
// outside a pass. The bytes go out in the same order; a wait is saved per
// reply.
import { Buffer } from 'node:buffer';
import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import { constants as osConstants } from 'node:os';
import { BlockingIOError, OSError, describeErrno, errorFromErrno } from '../errors';
import {
  AF_INET,
  AF_INET6,
  IPPROTO_TCP,
  SHUT_RDWR,
  SHUT_WR,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_LINGER,
  SO_REUSEADDR,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
  TCP_NODELAY,
  socket,
} from '../socket';
import type { Address } from '../socket';
import { IPv4Address, IPv6Address, type IAddress } from './address';
import { Deferred } from './defer';
import { describe } from './describe';
import {
  CONNECTION_DONE,
  CONNECTION_LOST,
  CannotListenError,
  ConnectBindError,
  ConnectError,
  ConnectionAborted,
  ConnectionDone,
  DNSLookupError,
  NotConnectingError,
  UserError,
  TimeoutError as ConnectTimeoutError,
  getConnectError,
} from './error';
import { Failure } from './failure';
import * as log from './log';
import type { IProducer, ITransport } from './interfaces';
import { Protocol as ProtocolBase } from './protocol';
import type { ClientFactory, Factory, Protocol as TypedProtocol } from './protocol';
import { FileDescriptor, asFailure, hangUp, checkReactor, disconnectSelectable, logThrown, type SelectableReactor } from './selectable';
import { passIO, readAheadFd, readSlot, sendEnded, sendFd, sendSlot, type PassClient } from './pass_io';

const E = osConstants.errno;

/** A protocol of any factory and transport type: what a transport feeds. */
type Protocol = TypedProtocol<Factory, ITransport>;

/** Twisted's read size: at most this much is read per read event. */
const BUFFER_SIZE = 65536;
/** At most this much is handed to one send(), as Twisted's SEND_LIMIT. */
const SEND_LIMIT = 128 * 1024;
/** SO_LINGER on, 0 s: close() resets the connection (abortConnection()). */
const LINGER_RESET = new Uint8Array(new Int32Array([1, 0]).buffer);

/** What a server transport's `client` holds: the peer's [host, port] (UNIX: [path, null]). */
export type ClientAddress = [host: string, port: number] | [path: string | null, port: null];

/** How an address family's sockets are made and named: TCP over IPv4/IPv6, or UNIX. */
export interface StreamFamily {
  /** 'TCP' or 'UNIX', for log lines. */
  readonly label: string;
  /** Makes an IAddress of a socket address. */
  address(addr: Address): IAddress;
  /** What `client` holds for a peer address. */
  client(addr: Address): ClientAddress;
}

/** The IPv4 and IPv6 address rules of TCP. */
export const tcpFamily: StreamFamily = {
  label: 'TCP',
  address(addr: Address): IAddress {
    const [host, port, flowinfo, scope] = addr as [string, number, number?, number?];
    return isIP(host) === 6 ? new IPv6Address('TCP', host, port, flowinfo ?? 0, scope ?? 0) : new IPv4Address('TCP', host, port);
  },
  client(addr: Address): ClientAddress {
    const [host, port] = addr as [string, number];
    return [host, port];
  },
};

/** Whether errno means "try again later" (the kernel's buffer is full or empty): EAGAIN, ENOBUFS. */
function wouldBlock(errno: number | null | undefined): boolean {
  return errno === E.EAGAIN || errno === E.ENOBUFS;
}

function isWouldBlock(err: unknown): boolean {
  return err instanceof BlockingIOError || (err instanceof OSError && wouldBlock(err.errno));
}

function checkBytes(where: string, data: unknown): Uint8Array {
  if (!(data instanceof Uint8Array)) {
    throw new TypeError(`${where}(): takes bytes (a Buffer or Uint8Array), not ${describe(data)}`);
  }
  return data;
}

/**
 * A connected stream socket: the transport a Protocol is given. Writes are
 * sent in order; loseConnection() closes once they are all sent;
 * abortConnection() resets at once. A registered producer is paused while
 * more than `bufferSize` bytes wait to be sent, as Twisted does.
 */
export class Connection extends FileDescriptor implements PassClient {
  /** The protocol this transport feeds. */
  protocol: Protocol;
  /** The socket. */
  readonly socket: socket;
  /** How many bytes may wait to be sent before a streaming producer is paused. */
  bufferSize = BUFFER_SIZE;
  /** The producer registered with registerProducer(), if any. */
  producer: IProducer | null = null;
  /** Whether that producer is a streaming (push) one. */
  streamingProducer = false;
  /** Whether this transport paused its producer because the buffer is full. */
  producerPaused = false;
  /** The address family's rules. */
  readonly family: StreamFamily;
  /** What waits to be sent, oldest first (null while nothing ever waited: most connections never queue). */
  private queue: Buffer[] | null = null;
  private queued = 0;
  private writeError: Error | null = null;
  private aborting = false;
  private writeDisconnecting = false;
  private writeDisconnected = false;
  /** Where the reactor's pass read for this connection (-1: it did not). @internal */
  [readSlot] = -1;
  /** Where the bytes this pass wrote wait in the pass's send buffer (-1: none wait). @internal */
  [sendSlot] = -1;

  /** Wraps a connected socket for `protocol`; it is one of the reactor's descriptors until closed. */
  constructor(reactor: SelectableReactor, sock: socket, protocol: Protocol, family: StreamFamily) {
    super(reactor);
    const where = new.target.name;
    if (!(sock instanceof socket)) throw new TypeError(`${where}(): needs a connected socket, not ${describe(sock)}`);
    // A Client has no protocol until it is connected.
    if (protocol !== null && (typeof protocol !== 'object' || typeof protocol.dataReceived !== 'function')) {
      throw new TypeError(`${where}(): needs a Protocol, not ${describe(protocol)}`);
    }
    if (family === null || typeof family !== 'object' || typeof family.address !== 'function' || typeof family.client !== 'function') {
      throw new TypeError(`${where}(): needs an address family (tcpFamily or unixFamily), not ${describe(family)}`);
    }
    this.protocol = protocol;
    this.family = family;
    this.socket = sock;
    this.register(sock.fileno());
  }

  /** The socket's file descriptor (-1 once closed). */
  fileno(): number {
    return this.socket.fileno();
  }

  // ---------------------------------------------------------------- writing

  /** Sends `data` after what was written before; ignored once the connection is closing or closed. */
  write(data: Uint8Array): void {
    checkBytes('write', data);
    if (!this.connected || this.writeDisconnected || this.aborting) return;
    if (data.length === 0) return;
    if (this[sendSlot] >= 0) {
      // Bytes of this pass wait to be sent: these go after them.
      if (this.producer === null && this.reactor[passIO]!.extend(this, data)) return;
      this.enqueue(Buffer.from(data));
      this.maybePauseProducer();
      return;
    }
    // Sent when the reactor's pass ends, with the pass's other replies, or
    // at once outside a pass, when nothing waits; with a producer registered
    // the bytes go through the buffer, so that its drain asks the producer
    // for more.
    if (this.queued === 0 && this.writeError === null && !this.writing && this.producer === null) {
      if (this.reactor[passIO]?.defer(this, data)) return;
      let sent = 0;
      try {
        // -1: the kernel's buffer is full (EAGAIN), without an exception.
        sent = Math.max(0, this.socket._trySend(data));
      } catch (err) {
        if (!isWouldBlock(err)) {
          // Reported from the next write event, not from inside write().
          this.writeError = err as Error;
          this.startWriting();
          return;
        }
      }
      if (sent === data.length) return;
      this.enqueue(Buffer.from(data.subarray(sent)));
    } else {
      this.enqueue(Buffer.from(data));
    }
    this.maybePauseProducer();
    this.startWriting();
  }

  /** write() of each chunk, in order. */
  writeSequence(iovec: Uint8Array[]): void {
    if (!Array.isArray(iovec)) throw new TypeError(`writeSequence(): takes an array of bytes, not ${describe(iovec)}`);
    for (const chunk of iovec) checkBytes('writeSequence', chunk);
    if (iovec.length === 1) this.write(iovec[0]!);
    else if (iovec.length > 1) this.write(Buffer.concat(iovec));
  }

  private enqueue(data: Buffer): void {
    if (this.queue === null) this.queue = [data];
    else this.queue.push(data);
    this.queued += data.length;
  }

  /** How many bytes wait to be sent. */
  get bufferedAmount(): number {
    const slot = this[sendSlot];
    return slot < 0 ? this.queued : this.queued + this.reactor[passIO]!.deferredLength(slot);
  }

  private maybePauseProducer(): void {
    if (this.producer !== null && this.streamingProducer && this.queued > this.bufferSize) {
      this.producerPaused = true;
      this.producer.pauseProducing?.();
    }
  }

  /** The fd the pass sends this connection's bytes to; -1 drops them (aborted or closed). @internal */
  [sendFd](): number {
    return this.aborting || this.disconnected ? -1 : this.socket._ownFileno();
  }

  /** The pass sent `result` (or -errno) of its `length` deferred bytes at arena[start]; the rest is queued. @internal */
  [sendEnded](result: number, arena: Buffer, start: number, length: number): void {
    if (this.aborting || this.disconnected) return;
    if (result === length) {
      if (this.queued > 0) this.startWriting();
      return;
    }
    if (result < 0 && !wouldBlock(-result)) {
      this.writeError = errorFromErrno(-result);
    } else {
      const rest = Buffer.from(arena.subarray(start + Math.max(0, result), start + length));
      if (this.queue === null) this.queue = [rest];
      else this.queue.unshift(rest);
      this.queued += rest.length;
      this.maybePauseProducer();
    }
    this.startWriting();
  }

  /** Sends what is queued; when all is sent, resumes the producer or finishes closing. */
  doWrite(): unknown {
    // Bytes deferred by this pass go first, when it ends.
    if (this.aborting || this[sendSlot] >= 0) return undefined;
    if (this.writeError !== null) return CONNECTION_LOST;
    const queue = this.queue;
    while (queue !== null && this.queued > 0) {
      let chunk = queue[0]!;
      if (chunk.length < SEND_LIMIT && queue.length > 1) {
        const merged: Buffer[] = [];
        let size = 0;
        while (queue.length > 0 && size < SEND_LIMIT) {
          const next = queue.shift()!;
          merged.push(next);
          size += next.length;
        }
        chunk = Buffer.concat(merged, size);
        queue.unshift(chunk);
      }
      let sent: number;
      try {
        sent = this.socket._trySend(chunk.length > SEND_LIMIT ? chunk.subarray(0, SEND_LIMIT) : chunk);
      } catch (err) {
        if (isWouldBlock(err)) return undefined;
        return CONNECTION_LOST;
      }
      // The buffer is full (EAGAIN): the next write event goes on.
      if (sent < 0) return undefined;
      this.queued -= sent;
      if (sent === chunk.length) queue.shift();
      else {
        queue[0] = chunk.subarray(sent);
        return undefined;
      }
    }
    this.stopWriting();
    if (this.producer !== null && (!this.streamingProducer || this.producerPaused)) {
      this.producerPaused = false;
      this.producer.resumeProducing();
    } else if (this.disconnecting) {
      return CONNECTION_DONE;
    } else if (this.writeDisconnecting) {
      this.writeDisconnected = true;
      try {
        this.socket.shutdown(SHUT_WR);
      } catch {
        // The peer may be gone already; reading will tell.
      }
    }
    return undefined;
  }

  // ---------------------------------------------------------------- reading

  /** The fd a pass reads ahead of doRead(); -1 when it may not (aborting, or doRead() overridden). @internal */
  [readAheadFd](): number {
    if (this.aborting || this.doRead !== connectionDoRead) return -1;
    return this.socket._ownFileno();
  }

  /** Reads what arrived and hands it to the protocol; the end of the stream closes cleanly. */
  doRead(): unknown {
    if (this.aborting) return undefined;
    const slot = this[readSlot];
    if (slot >= 0) {
      // The pass read for this connection already.
      this[readSlot] = -1;
      const io = this.reactor[passIO]!;
      const count = io.readResult(slot);
      if (wouldBlock(-count)) return undefined;
      if (count < 0) return CONNECTION_LOST;
      if (count === 0) return CONNECTION_DONE;
      const why = this.received(io.takeRead(slot, count));
      // A full share may have left bytes that Twisted would have read in
      // the same event (up to bufferSize): they are read now.
      if (why !== undefined || count < io.readSize || io.readSize >= this.bufferSize) return why;
      if (this.aborting || this.disconnected || !this.reading) return undefined;
    }
    let data: Buffer | null;
    try {
      data = this.socket._tryRecv(this.bufferSize);
    } catch (err) {
      if (isWouldBlock(err)) return undefined;
      return CONNECTION_LOST;
    }
    // null: nothing to read after all (EAGAIN), without an exception.
    if (data === null) return undefined;
    if (data.length === 0) return CONNECTION_DONE;
    return this.received(data);
  }

  /** data goes to the protocol; what it returns disconnects when it is an Error or a Failure. */
  private received(data: Buffer): Error | Failure | undefined {
    const result = this.protocol.dataReceived(data);
    return result instanceof Error || result instanceof Failure ? result : undefined;
  }

  /** A hang-up: what can still be read is read (it ends the connection), else it is lost. @internal */
  override [hangUp](): void {
    if (this.reading) {
      for (let i = 0; i < 64 && !this.disconnected; i++) {
        let why: unknown;
        try {
          why = this.doRead();
        } catch (err) {
          why = asFailure(err);
          log.err(why);
        }
        if (why !== undefined) {
          disconnectSelectable(this, why);
          return;
        }
      }
    }
    if (!this.disconnected) disconnectSelectable(this, CONNECTION_LOST);
  }

  // ---------------------------------------------------------------- closing

  /** Closes once everything written is sent (and a registered producer is unregistered). */
  loseConnection(): void {
    if (!this.connected || this.disconnecting) return;
    if (this.writeDisconnected) {
      this.stopReading();
      this.stopWriting();
      this.connectionLost(new Failure(new ConnectionDone()));
      return;
    }
    this.stopReading();
    this.startWriting();
    this.disconnecting = true;
  }

  /** Closes the sending half once everything written is sent (shutdown(SHUT_WR)); reading goes on. */
  loseWriteConnection(): void {
    this.writeDisconnecting = true;
    this.startWriting();
  }

  /**
   * Drops the connection now: what is queued is discarded, the peer gets a
   * reset, and connectionLost() follows (on the next turn of the reactor)
   * with ConnectionAborted.
   */
  abortConnection(): void {
    if (this.disconnected || this.aborting) return;
    this.aborting = true;
    this.stopReading();
    this.stopWriting();
    this.reactor.callLater(0, () => this.connectionLost(new Failure(new ConnectionAborted())));
  }

  /** Closes the socket and tells the protocol; runs once. */
  connectionLost(reason: Failure): void {
    if (this.disconnected) return;
    // What this pass wrote goes out before the close, as a write outside a pass would have.
    if (this[sendSlot] >= 0) this.reactor[passIO]!.sendEarly(this);
    this.disconnected = true;
    this.connected = false;
    const producer = this.producer;
    this.producer = null;
    this.queue = null;
    this.queued = 0;
    this.closeSocket(reason.check(ConnectionAborted) === null);
    if (producer !== null) {
      try {
        producer.stopProducing();
      } catch (err) {
        logThrown(err);
      }
    }
    this.protocol.connectionLost(reason);
  }

  private closeSocket(orderly: boolean): void {
    this.unregister();
    const sock = this.socket;
    try {
      if (orderly) sock.shutdown(SHUT_RDWR);
      else sock.setsockopt(SOL_SOCKET, SO_LINGER, LINGER_RESET);
    } catch {
      // Not connected any more: nothing to shut down.
    }
    try {
      sock.close();
    } catch (err) {
      if (!(err instanceof OSError)) throw err;
    }
  }

  // ---------------------------------------------------------------- producers

  /**
   * Registers the producer of what is written here. A streaming producer
   * is paused while the buffer is full and resumed once it drains; a pull
   * producer is asked for more (resumeProducing()) each time it drains.
   */
  registerProducer(producer: IProducer, streaming: boolean): void {
    if (producer === null || typeof producer !== 'object' || typeof producer.resumeProducing !== 'function') {
      throw new TypeError(`registerProducer(): needs a producer with resumeProducing(), not ${describe(producer)}`);
    }
    if (this.producer !== null) {
      throw new Error(`Cannot register producer ${describe(producer)}, because producer ${describe(this.producer)} was never unregistered.`);
    }
    if (this.disconnected) {
      producer.stopProducing();
      return;
    }
    this.producer = producer;
    this.streamingProducer = Boolean(streaming);
    if (!streaming) producer.resumeProducing();
  }

  /** Forgets the producer; a pending loseConnection() can then finish. */
  unregisterProducer(): void {
    this.producer = null;
    if (this.connected && this.disconnecting) this.startWriting();
  }

  /** As a producer: stops reading from the socket. */
  pauseProducing(): void {
    this.stopReading();
  }

  /** As a producer: reads from the socket again. */
  resumeProducing(): void {
    if (this.connected && !this.disconnecting) this.startReading();
  }

  /** As a producer: closes the connection. */
  stopProducing(): void {
    this.loseConnection();
  }

  // ---------------------------------------------------------------- options

  /** Turns Nagle's algorithm off (true) or on (false). */
  setTcpNoDelay(enabled: boolean): void {
    this.socket.setsockopt(IPPROTO_TCP, TCP_NODELAY, enabled ? 1 : 0);
  }

  /** Whether Nagle's algorithm is off. */
  getTcpNoDelay(): boolean {
    return this.socket.getsockopt(IPPROTO_TCP, TCP_NODELAY) !== 0;
  }

  /** Turns TCP keep-alive probes on or off. */
  setTcpKeepAlive(enabled: boolean): void {
    this.socket.setsockopt(SOL_SOCKET, SO_KEEPALIVE, enabled ? 1 : 0);
  }

  /** Whether TCP keep-alive probes are on. */
  getTcpKeepAlive(): boolean {
    return this.socket.getsockopt(SOL_SOCKET, SO_KEEPALIVE) !== 0;
  }

  /** This end's address. */
  getHost(): IAddress {
    return this.family.address(this.socket.getsockname());
  }

  /** The socket underneath (Twisted's ISystemHandle.getHandle()). */
  getHandle(): socket {
    return this.socket;
  }

  /** The other end's address. */
  getPeer(): IAddress {
    return this.family.address(this.socket.getpeername());
  }

  /** The protocol's log prefix (the class name while a client is not connected yet). */
  override logPrefix(): string {
    return this.protocol === null ? this.constructor.name : this.protocol.logPrefix();
  }
}

/** Connection's own doRead(): a subclass that overrides it is not read ahead. */
const connectionDoRead = Connection.prototype.doRead;

/** The transport of a connection accepted by a Port. */
export class Server extends Connection {
  /** The peer's address as accept() gave it: [host, port] (UNIX: [path, null]). */
  readonly client: ClientAddress;
  /** The Port that accepted the connection. */
  readonly server: TCPPort<IAddress>;
  /** The number of this connection on its port, from 0. */
  readonly sessionno: number;
  /** The peer's host. */
  readonly hostname: string | null;
  private readonly peer: IAddress;

  /**
   * Wraps an accepted socket; reading starts at once. `peer` is `addr` as
   * an IAddress, when the port has made it already (for buildProtocol()).
   */
  constructor(
    reactor: SelectableReactor,
    sock: socket,
    protocol: Protocol,
    addr: Address,
    server: TCPPort<IAddress>,
    sessionno: number,
    peer?: IAddress,
  ) {
    if (!(server instanceof TCPPort)) throw new TypeError(`Server(): needs the TCPPort that accepted the connection, not ${describe(server)}`);
    if (addr === null || addr === undefined) throw new TypeError(`Server(): needs the peer's address as accept() gave it, not ${describe(addr)}`);
    super(reactor, sock, protocol, server.family);
    if (peer === undefined) peer = server.family.address(addr);
    this.client = server.family.client(addr);
    this.server = server;
    this.sessionno = sessionno;
    this.hostname = this.client[0];
    this.peer = peer;
    this.connected = true;
    this.startReading();
  }

  /** The peer's address, as it was when the connection was accepted. */
  override getPeer(): IAddress {
    return this.peer;
  }

  /** "<Protocol #N on PORT>", as Twisted names a server connection. */
  override toString(): string {
    return `<${this.protocol.constructor.name} #${this.sessionno} on ${String(this.server.portLabel())}>`;
  }
}

/** Makes the listening socket of a Port; subclasses for other families. */
export interface ListenSpec {
  /** The address family. */
  family: number;
  /** What to bind. */
  bindAddress: Address;
}

/**
 * A listening socket: accepts connections and gives each a protocol from
 * the factory (doStart() when listening starts, doStop() when it ends).
 */
export class TCPPort<A extends IAddress = IPv4Address> extends FileDescriptor {
  /** The reactor method that makes ports of this class, named in argument errors. */
  static readonly methodName: string = 'listenTCP';
  /** The factory that builds a protocol per connection. */
  readonly factory: Factory;
  /** The listen() backlog. */
  readonly backlog: number;
  /** The interface asked for. */
  readonly interface: string;
  /** The port asked for (0: any). */
  readonly port: number | string;
  /** The listening socket (null until startListening()). */
  socket: socket | null = null;
  /** How many connections were accepted so far. */
  sessionno = 0;
  /** How many connections one read event may accept (Twisted's adaptive numberAccepts). */
  numberAccepts = 100;
  /** The family's address rules. */
  readonly family: StreamFamily = tcpFamily;
  /** Fires once stopListening() has closed the port. */
  deferred: Deferred<unknown> | null = null;
  private realPortNumber: number | string | null = null;

  /** A port for `factory` on `port` of `iface`; call startListening() to open it. */
  constructor(reactor: SelectableReactor, port: number | string, factory: Factory, backlog: number, iface: string) {
    super(reactor);
    const caller = (new.target as unknown as { methodName: string }).methodName;
    checkFactory(caller, factory);
    if (!Number.isInteger(backlog)) throw new TypeError(`${caller}(): listen backlog must be an integer, not ${describe(backlog)}`);
    if (typeof iface !== 'string') throw new TypeError(`${caller}(): listen interface must be a string, not ${describe(iface)}`);
    this.factory = factory;
    this.backlog = backlog;
    this.interface = iface;
    this.port = port;
  }

  /** The family and address to bind. */
  protected listenSpec(): ListenSpec {
    const port = this.port as number;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new (Number.isInteger(port) ? RangeError : TypeError)(`listenTCP(): port must be an integer from 0 to 65535, not ${describe(port)}`);
    }
    return { family: isIP(this.interface) === 6 ? AF_INET6 : AF_INET, bindAddress: [this.interface, port] };
  }

  /** Called with the bound socket, before listen() (UNIX: chmod). */
  protected prepareSocket(sock: socket): void {
    sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  }

  /** Opens the socket and starts accepting; CannotListenError when bind() or listen() fails. */
  startListening(): void {
    const spec = this.listenSpec();
    let sock: socket | null = null;
    try {
      sock = new socket(spec.family, SOCK_STREAM | SOCK_NONBLOCK);
      this.prepareSocket(sock);
      sock.bind(spec.bindAddress);
      sock.listen(this.backlog);
    } catch (err) {
      sock?.close();
      if (err instanceof OSError) throw new CannotListenError(this.interface, this.port, err);
      throw err;
    }
    this.socket = sock;
    this.register(sock.fileno());
    this.realPortNumber = this.boundLabel();
    log.msg(`${this.factory.logPrefix()} starting on ${String(this.realPortNumber)}`);
    this.factory.doStart();
    this.connected = true;
    this.startReading();
  }

  /** What log lines show for the bound port. */
  protected boundLabel(): number | string {
    return (this.socket!.getsockname() as [string, number])[1];
  }

  /** The listening socket's file descriptor (-1 before listening and once closed). */
  fileno(): number {
    return this.socket === null ? -1 : this.socket.fileno();
  }

  /** The port as log lines and toString() show it. */
  portLabel(): number | string | null {
    return this.realPortNumber;
  }

  /** Accepts what is waiting (up to numberAccepts), a protocol and a transport for each. */
  doRead(): unknown {
    let accepted = 0;
    for (; accepted < this.numberAccepts; accepted++) {
      let pair: [socket, Address] | null;
      try {
        // null: nothing left to accept (EAGAIN), without an exception.
        pair = this.socket!._tryAccept();
      } catch (err) {
        if (isWouldBlock(err) || (err instanceof OSError && err.errno === E.ECONNABORTED)) break;
        if (err instanceof OSError && (err.errno === E.EMFILE || err.errno === E.ENFILE || err.errno === E.ENOMEM)) {
          log.msg(`Could not accept new connection (${err.code ?? err.errno})`);
          break;
        }
        throw err;
      }
      if (pair === null) break;
      const [sock, addr] = pair;
      let protocol: Protocol | null;
      let peer: IAddress;
      try {
        sock.setblocking(false);
        // Addresses are immutable: the factory and getPeer() share one.
        peer = this.family.address(addr);
        protocol = this.factory.buildProtocol(peer);
      } catch (err) {
        // As Twisted: the error is logged, the accepted socket closed, and
        // what else waits is accepted on the next read event.
        sock.close();
        logThrown(err);
        return undefined;
      }
      if (protocol === null || protocol === undefined) {
        sock.close();
        continue;
      }
      const s = this.sessionno;
      this.sessionno = s + 1;
      const transport = new Server(this.reactor, sock, protocol, addr, this, s, peer);
      try {
        protocol.makeConnection(transport);
      } catch (err) {
        // A protocol that could not start is dropped, not left half made.
        const reason = asFailure(err);
        log.err(reason);
        disconnectSelectable(transport, reason);
      }
    }
    if (accepted === this.numberAccepts) this.numberAccepts += 20;
    else this.numberAccepts = Math.max(1, accepted);
    return undefined;
  }

  /** A port is never written to. */
  doWrite(): unknown {
    return undefined;
  }

  /** Stops listening; the Deferred fires once the socket is closed and the factory stopped. */
  stopListening(): Deferred<unknown> | undefined {
    return this.loseConnection();
  }

  /** Same as stopListening(). */
  loseConnection(connDone: Failure = new Failure(new ConnectionDone())): Deferred<unknown> | undefined {
    this.disconnecting = true;
    this.stopReading();
    if (!this.connected) return undefined;
    const d = new Deferred<unknown>();
    this.deferred = d;
    this.reactor.callLater(0, () => {
      try {
        this.connectionLost(connDone);
        d.callback(undefined);
      } catch (err) {
        d.errback(asFailure(err));
      }
    });
    return d;
  }

  /** Closes the socket and stops the factory. */
  connectionLost(_reason: Failure): void {
    if (this.disconnected) return;
    this.disconnected = true;
    this.connected = false;
    const label = this.realPortNumber;
    this.realPortNumber = null;
    this.unregister();
    try {
      this.socket!.close();
    } catch (err) {
      if (!(err instanceof OSError)) throw err;
    }
    this.afterClose();
    try {
      this.factory.doStop();
    } finally {
      this.disconnecting = false;
    }
    log.msg(`(${this.family.label} Port ${String(label)} Closed)`);
  }

  /** Runs after the socket is closed (UNIX: unlinks the path). */
  protected afterClose(): void {}

  /** The address the port is bound to (IPv4Address or IPv6Address; UNIXAddress for UNIX ports). */
  getHost(): A {
    return this.family.address(this.socket!.getsockname()) as A;
  }

  /** The factory's log prefix. */
  override logPrefix(): string {
    return this.factory.logPrefix();
  }

  /** "<FactoryClass on PORT>". */
  override toString(): string {
    const where = this.realPortNumber === null ? 'not listening' : `on ${String(this.realPortNumber)}`;
    return `<${this.factory.constructor.name} ${where}>`;
  }
}

function checkFactory(where: string, factory: unknown): void {
  if (factory === null || typeof factory !== 'object' || typeof (factory as Factory).buildProtocol !== 'function') {
    throw new TypeError(`${where}(): needs a Factory, not ${describe(factory)}`);
  }
}

/** What a Client needs from its connector. */
export interface ConnectorLike {
  /** Builds the protocol once connected (null: none, the connection is closed). */
  buildProtocol(addr: IAddress): Protocol | null;
  /** The attempt failed. */
  connectionFailed(reason: Failure): void;
  /** The connection was lost. */
  connectionLost(reason: Failure): void;
}

/** Where a Client connects to, once resolved. */
export interface ClientTarget {
  /** The address family. */
  family: number;
  /** The address to connect to. */
  address: Address;
  /** The local address to bind first, if any. */
  bindAddress: Address | null;
}

/**
 * The transport of an outgoing connection: it connects (asynchronously),
 * then works as a Connection. Until connected, failures go to the
 * connector's connectionFailed().
 */
export class Client extends Connection {
  /** The connector this client reports to (null once it has reported a failure). */
  connector: ConnectorLike | null;
  private connectingNow = true;
  private readonly target: ClientTarget;
  private peerAddress: IAddress | null = null;

  /** Starts connecting to `target` on the next turn of the reactor. */
  constructor(reactor: SelectableReactor, connector: ConnectorLike, target: ClientTarget, family: StreamFamily) {
    checkReactor(new.target.name, reactor);
    if (connector === null || typeof connector !== 'object' || typeof connector.buildProtocol !== 'function' || typeof connector.connectionFailed !== 'function') {
      throw new TypeError(`${new.target.name}(): needs a connector, not ${describe(connector)}`);
    }
    if (target === null || typeof target !== 'object' || typeof target.family !== 'number' || target.address === null || target.address === undefined) {
      throw new TypeError(`${new.target.name}(): needs a target { family, address, bindAddress }, not ${describe(target)}`);
    }
    const sock = new socket(target.family, SOCK_STREAM | SOCK_NONBLOCK);
    super(reactor, sock, null as unknown as Protocol, family);
    this.connector = connector;
    this.target = target;
    if (target.bindAddress !== null) {
      try {
        sock.bind(target.bindAddress);
      } catch (err) {
        reactor.callLater(0, () => this.failIfNotConnected(new ConnectBindError(err instanceof OSError ? err.errno : null, err instanceof OSError ? err.strerror ?? '' : String(err))));
        return;
      }
    }
    reactor.callLater(0, () => this.doConnect());
  }

  /** Connected: a read event is data. Connecting: it ends the attempt. */
  override doRead(): unknown {
    if (this.connectingNow) return this.doConnect();
    return super.doRead();
  }

  /** Connected: sends what is queued. Connecting: it ends the attempt. */
  override doWrite(): unknown {
    if (this.connectingNow) return this.doConnect();
    return super.doWrite();
  }

  /** Connecting: a hang-up ends the attempt. @internal */
  override [hangUp](): void {
    if (this.connectingNow) this.doConnect();
    else super[hangUp]();
  }

  /** Tries to complete the connection; reports success or failure. */
  doConnect(): unknown {
    if (this.connector === null || this.disconnected) return undefined;
    const err = this.socket.getsockopt(SOL_SOCKET, SO_ERROR) as number;
    if (err !== 0) {
      this.failIfNotConnected(getConnectError(err, describeErrno(err)));
      return undefined;
    }
    let result: number;
    try {
      result = this.socket.connect_ex(this.target.address);
    } catch (e) {
      this.failIfNotConnected(new ConnectError(null, e instanceof Error ? e.message : String(e)));
      return undefined;
    }
    if (result !== 0 && result !== E.EISCONN) {
      if (result === E.EWOULDBLOCK || result === E.EINPROGRESS || result === E.EALREADY) {
        this.startReading();
        this.startWriting();
        return undefined;
      }
      this.failIfNotConnected(getConnectError(result, describeErrno(result)));
      return undefined;
    }
    this.connectingNow = false;
    this.stopReading();
    this.stopWriting();
    this.connectDone();
    return undefined;
  }

  /**
   * Connected: the connector builds the protocol. What buildProtocol() or
   * connectionMade() throws is logged and ends the connection (before the
   * protocol exists, as a failed attempt), whichever turn connected it.
   */
  private connectDone(): void {
    try {
      this.peerAddress = this.family.address(this.socket.getpeername());
      const protocol = this.connector!.buildProtocol(this.peerAddress);
      this.connected = true;
      if (protocol === null || protocol === undefined) {
        // As Twisted: a plain Protocol, that only closes.
        this.protocol = new ProtocolBase();
        this.loseConnection();
        return;
      }
      this.protocol = protocol;
      this.startReading();
      protocol.makeConnection(this);
    } catch (err) {
      const reason = asFailure(err);
      log.err(reason);
      disconnectSelectable(this, reason);
    }
  }

  /** Ends a connection attempt that has not succeeded: the connector hears `err`. */
  failIfNotConnected(err: Error): void {
    if (this.connected || this.disconnected || this.connector === null) return;
    const connector = this.connector;
    this.connector = null;
    this.connectingNow = false;
    this.disconnected = true;
    this.unregister();
    try {
      this.socket.close();
    } catch {
      // Already closed.
    }
    connector.connectionFailed(new Failure(err));
  }

  /** Stops a connection attempt (connector.stopConnecting()). */
  stopConnecting(): void {
    this.failIfNotConnected(new UserError());
  }

  /** Before connecting: the attempt fails. After: the protocol, then the connector, hear it. */
  override connectionLost(reason: Failure): void {
    if (!this.connected) {
      this.failIfNotConnected(new ConnectError(null, reason.getErrorMessage()));
      return;
    }
    if (this.disconnected) return;
    super.connectionLost(reason);
    this.connector?.connectionLost(reason);
  }

  /** The address connected to. */
  override getPeer(): IAddress {
    return this.peerAddress ?? this.family.address(this.target.address);
  }

  /** "<Protocol to HOST at PORT>". */
  override toString(): string {
    return `<${this.protocol?.constructor.name ?? 'Client'} to ${describe(this.target.address)}>`;
  }
}

/** The states of a connector. */
export type ConnectorState = 'disconnected' | 'connecting' | 'connected';

/**
 * What connectTCP() returns: it makes one connection attempt per
 * connect(), tells the factory how each went, and can be asked to connect
 * again (ReconnectingClientFactory does).
 */
export abstract class BaseConnector implements ConnectorLike {
  /** The reactor method that makes connectors of this class, named in argument errors. */
  static readonly methodName: string = 'connectTCP';
  /** 'disconnected', 'connecting' or 'connected'. */
  state: ConnectorState = 'disconnected';
  /** The factory told about every attempt. */
  readonly factory: ClientFactory;
  /** Seconds an attempt may take, or null for no limit. */
  readonly timeout: number | null;
  /** The current attempt's transport. */
  transport: Client | null = null;
  /** Whether the factory's doStart() has run for this connector. */
  factoryStarted = false;
  /** The reactor the connector's attempts run on. */
  protected readonly reactor: SelectableReactor;
  private timeoutID: { cancel(): void; active(): boolean } | null = null;

  /** A connector for `factory`; connect() starts the first attempt. */
  constructor(reactor: SelectableReactor, factory: ClientFactory, timeout: number | null) {
    const caller = (new.target as unknown as { methodName: string }).methodName;
    checkReactor(caller, reactor);
    checkFactory(caller, factory);
    if (timeout !== null && (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0)) {
      throw new TypeError(`${caller}(): connect timeout must be a number of seconds >= 0 or null, not ${describe(timeout)}`);
    }
    this.reactor = reactor;
    this.factory = factory;
    this.timeout = timeout;
  }

  /** Makes the transport of one attempt. */
  protected abstract makeTransport(): Client;

  /** Where this connector connects to. */
  abstract getDestination(): IAddress;

  /** Starts an attempt; an Error if one is under way or connected. */
  connect(): void {
    if (this.state !== 'disconnected') throw new Error(`can't connect in this state (${this.state})`);
    this.state = 'connecting';
    if (!this.factoryStarted) {
      this.factory.doStart();
      this.factoryStarted = true;
    }
    this.transport = this.makeTransport();
    const transport = this.transport;
    if (this.timeout !== null) {
      this.timeoutID = this.reactor.callLater(this.timeout, () => transport.failIfNotConnected(new ConnectTimeoutError()));
    }
    this.factory.startedConnecting(this);
  }

  /** Stops the attempt under way; NotConnectingError when there is none. */
  stopConnecting(): void {
    if (this.state !== 'connecting') throw new NotConnectingError("we're not trying to connect");
    this.state = 'disconnected';
    const transport = this.transport;
    this.transport = null;
    transport?.stopConnecting();
  }

  /** Stops connecting, or closes the connection. */
  disconnect(): void {
    if (this.state === 'connecting') this.stopConnecting();
    else if (this.state === 'connected') this.transport?.loseConnection();
  }

  /** Connected: the factory builds the protocol. */
  buildProtocol(addr: IAddress): Protocol | null {
    this.state = 'connected';
    this.cancelTimeout();
    return this.factory.buildProtocol(addr);
  }

  /** The attempt failed: the factory hears it, and stops unless it connects again. */
  connectionFailed(reason: Failure): void {
    this.cancelTimeout();
    this.transport = null;
    this.state = 'disconnected';
    this.factory.clientConnectionFailed(this, reason);
    if (this.state === 'disconnected') {
      this.factory.doStop();
      this.factoryStarted = false;
    }
  }

  /** The connection was lost: the factory hears it, and stops unless it connects again. */
  connectionLost(reason: Failure): void {
    this.state = 'disconnected';
    this.factory.clientConnectionLost(this, reason);
    if (this.state === 'disconnected') {
      this.factory.doStop();
      this.factoryStarted = false;
    }
  }

  private cancelTimeout(): void {
    if (this.timeoutID !== null) {
      if (this.timeoutID.active()) this.timeoutID.cancel();
      this.timeoutID = null;
    }
  }

  /** "<Connector instance to DESTINATION>". */
  toString(): string {
    return `<${this.constructor.name} instance to ${String(this.getDestination())}>`;
  }
}

/** The connector of connectTCP(): host names are looked up (IPv4) before each attempt. */
export class Connector extends BaseConnector {
  /** The host to connect to (a name or an address). */
  readonly host: string;
  /** The port. */
  readonly port: number;
  /** The local [host, port] to bind, if any. */
  readonly bindAddress: [string, number] | null;

  /** A connector to `host`:`port`. */
  constructor(
    reactor: SelectableReactor,
    host: string,
    port: number,
    factory: ClientFactory,
    timeout: number | null,
    bindAddress: [string, number] | null,
  ) {
    if (typeof host !== 'string') throw new TypeError(`connectTCP(): host must be a string, not ${describe(host)}`);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new (Number.isInteger(port) ? RangeError : TypeError)(`connectTCP(): port must be an integer from 0 to 65535, not ${describe(port)}`);
    }
    super(reactor, factory, timeout);
    this.host = host;
    this.port = port;
    this.bindAddress = bindAddress;
  }

  protected makeTransport(): Client {
    const kind = isIP(this.host);
    if (kind !== 0) {
      return new Client(
        this.reactor,
        this,
        { family: kind === 6 ? AF_INET6 : AF_INET, address: [this.host, this.port], bindAddress: this.bindAddress },
        tcpFamily,
      );
    }
    return new ResolvingClient(this.reactor, this, this.host, this.port, this.bindAddress);
  }

  /** The host and port, as an IPv4Address. */
  getDestination(): IAddress {
    return new IPv4Address('TCP', this.host, this.port);
  }
}

/**
 * A Client for a host name: it looks the name up first (IPv4, as
 * Twisted's connectTCP() does), then connects to the first address.
 */
class ResolvingClient extends Client {
  constructor(reactor: SelectableReactor, connector: ConnectorLike, host: string, port: number, bindAddress: [string, number] | null) {
    const target: ClientTarget = { family: AF_INET, address: ['0.0.0.0', port], bindAddress };
    super(reactor, connector, { ...target, bindAddress: null }, tcpFamily);
    const resolved = target.address as [string, number];
    this.pendingLookup = true;
    lookup(host, { family: 4 }, (err, address) => {
      this.pendingLookup = false;
      if (err) {
        this.failIfNotConnected(new DNSLookupError(host));
        return;
      }
      resolved[0] = address;
      this.resolvedTarget = { family: AF_INET, address: resolved, bindAddress };
      if (bindAddress !== null) {
        try {
          this.socket.bind(bindAddress);
        } catch (e) {
          this.failIfNotConnected(new ConnectBindError(null, e instanceof Error ? e.message : String(e)));
          return;
        }
      }
      this.doConnect();
    });
  }

  private pendingLookup: boolean;
  private resolvedTarget: ClientTarget | null = null;

  override doConnect(): unknown {
    if (this.pendingLookup || this.resolvedTarget === null) return undefined;
    (this as unknown as { target: ClientTarget }).target = this.resolvedTarget;
    return super.doConnect();
  }
}
