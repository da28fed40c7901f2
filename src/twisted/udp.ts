// UDP: listenUDP() binds a datagram socket for a DatagramProtocol. Each
// read event drains what arrived (up to 256 datagrams); write() sends one
// datagram to an address, or to the peer of a connected port.
import { isIP } from 'node:net';
import { constants as osConstants } from 'node:os';
import { OSError } from '../errors';
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_NONBLOCK, socket } from '../socket';
import type { Address } from '../socket';
import { IPv4Address, IPv6Address } from './address';
import { Deferred } from './defer';
import { describe } from './describe';
import { CannotListenError, ConnectionDone, MessageLengthError } from './error';
import { Failure } from './failure';
import type { DatagramProtocol } from './protocol';
import { FileDescriptor, doReadOrWrite, hangUp, logThrown, type SelectableReactor } from './selectable';

const E = osConstants.errno;

/** Datagrams read per read event at most, as Twisted's maxThroughput bounds it. */
const MAX_READS = 256;

/** A bound UDP socket, the transport of a DatagramProtocol. */
export class UDPPort extends FileDescriptor {
  /** The protocol datagrams go to. */
  readonly protocol: DatagramProtocol;
  /** The port asked for (0: any). */
  readonly port: number;
  /** The interface asked for. */
  readonly interface: string;
  /** The largest datagram read. */
  readonly maxPacketSize: number;
  /** The bound socket (null until startListening()). */
  socket: socket | null = null;
  private connectedAddr: [string, number] | null = null;
  private readonly family: number;

  /** A port for `protocol`; startListening() binds it. */
  constructor(reactor: SelectableReactor, port: number, protocol: DatagramProtocol, iface: string, maxPacketSize: number) {
    super(reactor);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new (Number.isInteger(port) ? RangeError : TypeError)(`listenUDP(): port must be an integer from 0 to 65535, not ${describe(port)}`);
    }
    if (protocol === null || typeof protocol !== 'object' || typeof protocol.datagramReceived !== 'function') {
      throw new TypeError(`listenUDP(): needs a DatagramProtocol, not ${describe(protocol)}`);
    }
    if (!Number.isInteger(maxPacketSize) || maxPacketSize <= 0) {
      throw new RangeError(`listenUDP(): maxPacketSize must be a positive integer, not ${describe(maxPacketSize)}`);
    }
    this.protocol = protocol;
    this.port = port;
    this.interface = iface;
    this.maxPacketSize = maxPacketSize;
    this.family = isIP(iface) === 6 ? AF_INET6 : AF_INET;
  }

  /** Binds and starts reading; CannotListenError when bind() fails. */
  startListening(): void {
    let sock: socket | null = null;
    try {
      sock = new socket(this.family, SOCK_DGRAM | SOCK_NONBLOCK);
      sock.bind([this.interface, this.port]);
    } catch (err) {
      sock?.close();
      if (err instanceof OSError) throw new CannotListenError(this.interface, this.port, err);
      throw err;
    }
    this.socket = sock;
    this.register(sock.fileno());
    this.connected = true;
    this.protocol.makeConnection(this);
    this.startReading();
  }

  /** The socket's file descriptor (-1 before listening and once closed). */
  fileno(): number {
    return this.socket === null ? -1 : this.socket.fileno();
  }

  /** Reads the datagrams waiting and hands each to the protocol. */
  doRead(): unknown {
    const sock = this.socket!;
    for (let i = 0; i < MAX_READS && this.reading; i++) {
      let data: Buffer;
      let addr: Address;
      try {
        // null: nothing left to read (EAGAIN), without an exception.
        const received = sock._tryRecvfrom(this.maxPacketSize);
        if (received === null) return undefined;
        [data, addr] = received;
      } catch (err) {
        if (err instanceof OSError && this.connectedAddr !== null && err.errno === E.ECONNREFUSED) {
          this.protocol.connectionRefused();
          continue;
        }
        if (err instanceof OSError && (err.errno === E.ECONNREFUSED || err.errno === E.EMSGSIZE || err.errno === E.ENOBUFS)) continue;
        throw err;
      }
      const [host, port] = addr as [string, number];
      try {
        this.protocol.datagramReceived(data, [host, port]);
      } catch (err) {
        // As Twisted: logged, and the port goes on reading.
        logThrown(err);
      }
    }
    return undefined;
  }

  /**
   * An error on the socket (POLLERR): for a connected port it is the ICMP
   * "port unreachable" of a datagram sent, which the next read reports as
   * ECONNREFUSED, so read: doRead() calls connectionRefused() and the port
   * stays open, as Twisted documents. (Twisted's own epoll reactor drops
   * the port here instead, since it sees POLLERR without POLLIN.)
   * @internal
   */
  override [hangUp](): void {
    doReadOrWrite(this, true);
  }

  /** Nothing is queued: sends go out at once. */
  doWrite(): unknown {
    return undefined;
  }

  /**
   * Sends one datagram to `addr` ([host, port]), or to the connected peer
   * when the port is connected (then `addr` must be left out).
   */
  write(datagram: Uint8Array, addr: [string, number] | null = null): number | undefined {
    if (!(datagram instanceof Uint8Array)) throw new TypeError(`write(): takes bytes, not ${describe(datagram)}`);
    const sock = this.listening('write');
    if (this.connectedAddr !== null) {
      if (addr !== null) throw new RangeError('write(): this port is connected; give no address');
      try {
        return sock.send(datagram);
      } catch (err) {
        if (err instanceof OSError && err.errno === E.ECONNREFUSED) {
          this.protocol.connectionRefused();
          return undefined;
        }
        if (err instanceof OSError && err.errno === E.EMSGSIZE) throw new MessageLengthError('message too long');
        throw err;
      }
    }
    if (!Array.isArray(addr) || typeof addr[0] !== 'string' || !Number.isInteger(addr[1])) {
      throw new TypeError(`write(): needs the address as [host, port], not ${describe(addr)}`);
    }
    try {
      const sent = sock._trySendto(datagram, [addr[0], addr[1]]);
      // The send buffer is full (EAGAIN): the datagram is dropped, as UDP may.
      return sent < 0 ? undefined : sent;
    } catch (err) {
      if (err instanceof OSError && err.errno === E.EMSGSIZE) throw new MessageLengthError('message too long');
      if (err instanceof OSError && err.errno === E.ECONNREFUSED) return undefined;
      throw err;
    }
  }

  /** write() of the chunks joined into one datagram. */
  writeSequence(seq: Uint8Array[], addr: [string, number] | null = null): void {
    if (!Array.isArray(seq) || !seq.every((chunk) => chunk instanceof Uint8Array)) {
      throw new TypeError(`writeSequence(): takes an array of bytes, not ${describe(seq)}`);
    }
    this.write(Buffer.concat(seq), addr);
  }

  /** Connects the port to one peer (an IP address, not a name): only its datagrams arrive, write() needs no address. */
  connect(host: string | Address, port?: number): void {
    if (typeof host !== 'string' || isIP(host) === 0) {
      throw new TypeError(`connect(): needs an IP address (not a host name), not ${describe(host)}`);
    }
    if (this.connectedAddr !== null) throw new Error('already connected, reconnecting is not currently supported');
    if (!Number.isInteger(port)) throw new TypeError(`connect(): port must be an integer, not ${describe(port)}`);
    const sock = this.listening('connect');
    this.connectedAddr = [host, port as number];
    sock.connect([host, port as number]);
  }

  /** Stops listening; the Deferred fires once closed. */
  stopListening(): Deferred<unknown> | undefined {
    return this.loseConnection();
  }

  /** Same as stopListening(). */
  loseConnection(): Deferred<unknown> | undefined {
    this.stopReading();
    if (!this.connected) return undefined;
    this.disconnecting = true;
    const d = new Deferred<unknown>();
    this.reactor.callLater(0, () => {
      this.connectionLost(new Failure(new ConnectionDone()));
      d.callback(undefined);
    });
    return d;
  }

  /** Closes the socket and stops the protocol. */
  connectionLost(_reason: Failure): void {
    if (this.disconnected) return;
    this.disconnected = true;
    this.connected = false;
    this.disconnecting = false;
    this.unregister();
    try {
      this.socket!.close();
    } catch (err) {
      if (!(err instanceof OSError)) throw err;
    }
    this.protocol.doStop();
  }

  /** The bound address. */
  getHost(): IPv4Address {
    const [host, port] = this.listening('getHost').getsockname() as [string, number];
    return this.family === AF_INET6 ? new IPv6Address('UDP', host, port) : new IPv4Address('UDP', host, port);
  }

  /** The protocol's log prefix. */
  override logPrefix(): string {
    return this.protocol.logPrefix();
  }

  /** The socket, or an Error naming `where` before startListening(). */
  private listening(where: string): socket {
    if (this.socket === null) throw new Error(`${where}(): the port is not listening yet (startListening())`);
    return this.socket;
  }
}
