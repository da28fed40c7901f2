// twisted.internet.interfaces: what a protocol may call on its transport,
// and what producers and consumers give each other. A protocol's
// `transport` is typed by these, so that a misspelt transport call, or a
// call of an asyncore dispatcher's method (recv, handle_read_event...),
// is a compile error.
import type { socket } from '../socket';
import type { IAddress, IPv4Address, IPv6Address, UNIXAddress } from './address';

/**
 * A source of data that a consumer (a transport) can pause and resume.
 * @see https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.interfaces.IProducer.html
 */
export interface IProducer {
  /** Stops producing for good. */
  stopProducing(): void;
  /** Produces (more) data: for a pull producer, one chunk per call. */
  resumeProducing(): void;
  /** Stops producing until resumeProducing() (streaming producers). */
  pauseProducing?(): void;
}

/**
 * A producer the consumer pauses and resumes (a streaming, push producer).
 * @see https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.interfaces.IPushProducer.html
 */
export interface IPushProducer extends IProducer {
  /** Stops producing until resumeProducing(). */
  pauseProducing(): void;
}

/**
 * What data is written to, with the producer that writes it.
 * @see https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.interfaces.IConsumer.html
 */
export interface IConsumer {
  /** Registers the producer of what is written here; `streaming`: a push producer. */
  registerProducer(producer: IProducer, streaming: boolean): void;
  /** Forgets the producer. */
  unregisterProducer(): void;
  /** Takes bytes. */
  write(data: Uint8Array): void;
}

/**
 * What a connected protocol writes to and closes its connection through.
 * The optional members are the ones a stream transport also gives; a
 * protocol that types its transport as ITransport checks for them.
 * @see https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.interfaces.ITransport.html
 */
export interface ITransport {
  /** Sends bytes, in order, after anything written before. */
  write(data: Uint8Array): void;
  /** write() of each chunk in turn. */
  writeSequence(data: Uint8Array[]): void;
  /** Closes once everything written has been sent. */
  loseConnection(): void;
  /** Closes now, dropping what is not sent yet. */
  abortConnection?(): void;
  /** The other end's address. */
  getPeer(): IAddress;
  /** This end's address. */
  getHost(): IAddress;
  /** True once loseConnection() was called. */
  readonly disconnecting?: boolean;
  /** Stops reading (flow control; the transport as a producer). */
  pauseProducing?(): void;
  /** Starts reading again. */
  resumeProducing?(): void;
  /** Closes the connection. */
  stopProducing?(): void;
  /** Registers a producer of the data written to this transport. */
  registerProducer?(producer: IProducer, streaming: boolean): void;
  /** Unregisters it. */
  unregisterProducer?(): void;
}

/**
 * What every stream transport of the reactor gives (Twisted's
 * FileDescriptor and Connection): an ITransport that is a consumer, a push
 * producer of what it reads, and closes each half on its own.
 */
export interface IStreamTransport extends ITransport, IConsumer, IPushProducer {
  /** Registers the producer of what is written here; `streaming`: a push producer. */
  registerProducer(producer: IProducer, streaming: boolean): void;
  /** Forgets the producer; a pending loseConnection() can then finish. */
  unregisterProducer(): void;
  /** Stops reading (flow control). */
  pauseProducing(): void;
  /** Starts reading again. */
  resumeProducing(): void;
  /** Closes the connection. */
  stopProducing(): void;
  /** Closes now, dropping what is not sent yet; the peer gets a reset. */
  abortConnection(): void;
  /** Closes the sending half once everything written is sent; reading goes on. */
  loseWriteConnection(): void;
  /** True once loseConnection() was called. */
  readonly disconnecting: boolean;
  /** How many bytes may wait to be sent before a streaming producer is paused. */
  bufferSize: number;
  /** The socket underneath (Twisted's ISystemHandle). */
  getHandle(): socket;
}

/**
 * The transport of a TCP connection.
 * @see https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.interfaces.ITCPTransport.html
 */
export interface ITCPTransport extends IStreamTransport {
  /** The other end's address. */
  getPeer(): IPv4Address | IPv6Address;
  /** This end's address. */
  getHost(): IPv4Address | IPv6Address;
  /** Whether Nagle's algorithm is off. */
  getTcpNoDelay(): boolean;
  /** Turns Nagle's algorithm off (true) or on (false). */
  setTcpNoDelay(enabled: boolean): void;
  /** Whether TCP keep-alive probes are on. */
  getTcpKeepAlive(): boolean;
  /** Turns TCP keep-alive probes on or off. */
  setTcpKeepAlive(enabled: boolean): void;
  /** On a server's connection: the peer's [host, port], as accept() gave it (Twisted's tcp.Server.client). */
  readonly client?: readonly [host: string, port: number] | readonly [path: string | null, port: null];
}

/**
 * The transport of a UNIX stream connection (passing file descriptors,
 * Twisted's sendFileDescriptor(), is not supported).
 * @see https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.interfaces.IUNIXTransport.html
 */
export interface IUNIXTransport extends IStreamTransport {
  /** The other end's address. */
  getPeer(): UNIXAddress;
  /** This end's address. */
  getHost(): UNIXAddress;
}

/**
 * The transport of a DatagramProtocol: a bound UDP port.
 * @see https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.interfaces.IUDPTransport.html
 */
export interface IUDPTransport {
  /** Sends one datagram to `addr`, or to the connected peer when `addr` is left out. */
  write(packet: Uint8Array, addr?: [host: string, port: number] | null): number | undefined;
  /** Connects the port to one peer. */
  connect(host: string, port: number): void;
  /** The bound address. */
  getHost(): IPv4Address | IPv6Address;
  /** Stops listening; the Deferred fires once the port is closed. */
  stopListening(): unknown;
}

/**
 * A call scheduled with callLater(), as far as the factories use it.
 * @see https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.interfaces.IDelayedCall.html
 */
export interface IDelayedCall {
  /** Cancels the call; it will not run. */
  cancel(): void;
  /** Whether the call has neither run nor been cancelled. */
  active(): boolean;
}
