// The exceptions of twisted.internet.error that this package raises or
// hands to protocols and factories. Each message is built the way Twisted
// builds it (its class's one-line description, then the arguments, then a
// full stop), so that `reason.getErrorMessage()` reads the same in a port.
import { constants as osConstants } from 'node:os';

const E = osConstants.errno;

/** Joins the description and the arguments the way Twisted's __str__ does. */
function describeWith(text: string, args: unknown[]): string {
  const parts = args.filter((a) => a !== undefined && a !== null && a !== '').map(String);
  return parts.length > 0 ? `${text}: ${parts.join(' ')}.` : `${text}.`;
}

/** The common base of the errors below; `name` is the class name. */
export class TwistedError extends Error {
  /** The arguments the error was made with, as Python keeps them in `args`. */
  readonly args: unknown[];

  /** Makes the error; `message` is the text shown, `args` what it was made with. */
  constructor(message: string, args: unknown[] = []) {
    super(message);
    this.args = args;
  }

  /** The class name, so that stacks and logs show which error it is. */
  override get name(): string {
    return this.constructor.name;
  }
}

/** Binding to an interface failed. */
export class BindError extends TwistedError {
  /** Makes the error from any arguments, shown after the description. */
  constructor(...args: unknown[]) {
    super(describeWith('An error occurred binding to an interface', args), args);
  }
}

/** listenTCP(), listenUNIX() or listenUDP() could not bind or listen. */
export class CannotListenError extends BindError {
  /** The interface asked for ('' for every interface). */
  readonly interface: string;
  /** The port (or path) asked for. */
  readonly port: number | string;
  /** The system error that stopped it. */
  readonly socketError: unknown;

  /** Makes the error for the interface and port that could not be listened on. */
  constructor(iface: string, port: number | string, socketError: unknown) {
    super();
    this.interface = iface;
    this.port = port;
    this.socketError = socketError;
    const where = `${iface || 'any'}:${String(port)}`;
    const why = socketError instanceof Error ? socketError.message : String(socketError);
    this.message = `Couldn't listen on ${where}: ${why}.`;
  }
}

/** A datagram was too long to send. */
export class MessageLengthError extends TwistedError {
  /** Makes the error from any arguments, shown after the description. */
  constructor(...args: unknown[]) {
    super(describeWith('Message is too long to send', args), args);
  }
}

/** A host name could not be resolved to an address. */
export class DNSLookupError extends TwistedError {
  /** Makes the error from any arguments, shown after the description. */
  constructor(...args: unknown[]) {
    super(describeWith('DNS lookup failed', args), args);
  }
}

/** Connecting failed. Subclasses say why. */
export class ConnectError extends TwistedError {
  /** The system error behind the failure, if any. */
  readonly osError: unknown;

  /** Makes the error from the underlying system error and a text, both optional. */
  constructor(osError: unknown = null, text = '') {
    super('', [text]);
    this.osError = osError;
    this.message = this.compose();
  }

  /** The one-line description of this kind of failure. */
  protected describe(): string {
    return 'An error occurred while connecting';
  }

  private compose(): string {
    let s = this.describe();
    if (this.osError !== null && this.osError !== undefined && this.osError !== '') s = `${s}: ${String(this.osError)}`;
    if (this.args[0]) s = `${s}: ${String(this.args[0])}`;
    return `${s}.`;
  }
}

/** Binding the local end of a connection failed. */
export class ConnectBindError extends ConnectError {
  /** The description of this failure. */
  protected override describe(): string {
    return "Couldn't bind";
  }
}

/** The host to connect to could not be looked up. */
export class UnknownHostError extends ConnectError {
  /** The description of this failure. */
  protected override describe(): string {
    return "Hostname couldn't be looked up";
  }
}

/** There was no route to the host. */
export class NoRouteError extends ConnectError {
  /** The description of this failure. */
  protected override describe(): string {
    return 'No route to host';
  }
}

/** The other side refused the connection. */
export class ConnectionRefusedError extends ConnectError {
  /** The description of this failure. */
  protected override describe(): string {
    return 'Connection was refused by other side';
  }
}

/** TCP gave up connecting (ETIMEDOUT). */
export class TCPTimedOutError extends ConnectError {
  /** The description of this failure. */
  protected override describe(): string {
    return 'TCP connection timed out';
  }
}

/** The path given for a UNIX socket is no good. */
export class BadFileError extends ConnectError {
  /** The description of this failure. */
  protected override describe(): string {
    return 'File used for UNIX socket is no good';
  }
}

/** The service name given as a port is unknown. */
export class ServiceNameUnknownError extends ConnectError {
  /** The description of this failure. */
  protected override describe(): string {
    return 'Service name given as port is unknown';
  }
}

/** The user stopped the connection attempt (connector.stopConnecting()). */
export class UserError extends ConnectError {
  /** The description of this failure. */
  protected override describe(): string {
    return 'User aborted connection';
  }
}

/** The connection attempt took longer than the timeout given to connectTCP(). */
export class TimeoutError extends UserError {
  /** The description of this failure. */
  protected override describe(): string {
    return 'User timeout caused connection failure';
  }
}

/**
 * The ConnectError subclass for an errno from connect(), as Twisted's
 * getConnectError() picks it: refused, timed out, no route, or the generic
 * ConnectError, with the errno and its text as the message.
 */
export function getConnectError(errno: number, strerror: string): ConnectError {
  const text = `${errno}: ${strerror}`;
  switch (errno) {
    case E.ECONNREFUSED:
      return new ConnectionRefusedError(null, text);
    case E.ETIMEDOUT:
      return new TCPTimedOutError(null, text);
    case E.ENETUNREACH:
    case E.EHOSTUNREACH:
      return new NoRouteError(null, text);
    case E.ENOENT:
      return new BadFileError(null, text);
    default:
      return new ConnectError(null, text);
  }
}

/** A connection was closed, cleanly or not. */
export class ConnectionClosed extends TwistedError {
  /** Makes the error from any arguments, shown after the description. */
  constructor(...args: unknown[]) {
    super(args.length > 0 ? args.map(String).join(' ') : '', args);
  }
}

/** The connection was lost in a way that was not clean (a reset, an error). */
export class ConnectionLost extends ConnectionClosed {
  /** Makes the error from any arguments, shown after the description. */
  constructor(...args: unknown[]) {
    super(...args);
    this.message = describeWith(this.description(), args);
  }

  /** The one-line description of this kind of loss. */
  protected description(): string {
    return 'Connection to the other side was lost in a non-clean fashion';
  }
}

/** The connection was dropped on this side with abortConnection(). */
export class ConnectionAborted extends ConnectionLost {
  /** The description of this loss. */
  protected override description(): string {
    return 'Connection was aborted locally using ITCPTransport.abortConnection';
  }
}

/** The file descriptor of the connection went away under it. */
export class ConnectionFdescWentAway extends ConnectionLost {
  /** The description of this loss. */
  protected override description(): string {
    return 'Uh';
  }
}

/** The connection was closed cleanly, by either side. */
export class ConnectionDone extends ConnectionClosed {
  /** Makes the error from any arguments, shown after the description. */
  constructor(...args: unknown[]) {
    super(...args);
    this.message = describeWith('Connection was closed cleanly', args);
  }
}

/** cancel() on a delayed call that has already run. */
export class AlreadyCalled extends TwistedError {
  /** Makes the error from any arguments, shown after the description. */
  constructor(...args: unknown[]) {
    super(describeWith('Tried to cancel an already-called event', args), args);
  }
}

/** cancel() on a delayed call that was cancelled before. */
export class AlreadyCancelled extends TwistedError {
  /** Makes the error from any arguments, shown after the description. */
  constructor(...args: unknown[]) {
    super(describeWith('Tried to cancel an already-cancelled event', args), args);
  }
}

/** connector.stopConnecting() when it is not connecting. */
export class NotConnectingError extends TwistedError {
  /** Makes the error from any arguments, shown after the description. */
  constructor(...args: unknown[]) {
    super(describeWith('The Connector was not connecting when it was asked to stop connecting', args), args);
  }
}

/** port.stopListening() when it is not listening. */
export class NotListeningError extends TwistedError {
  /** Makes the error from any arguments, shown after the description. */
  constructor(...args: unknown[]) {
    super(describeWith('The Port was not listening when it was asked to stop listening', args), args);
  }
}

/** reactor.stop() when the reactor is not running. */
export class ReactorNotRunning extends TwistedError {
  /** Makes the error with a message saying what was tried. */
  constructor(message = '') {
    super(message, [message]);
  }
}

/** reactor.run() after the reactor has stopped: it cannot run again. */
export class ReactorNotRestartable extends TwistedError {
  /** Makes the error with a message saying what was tried. */
  constructor(message = '') {
    super(message, [message]);
  }
}

/** reactor.run() while it is running. */
export class ReactorAlreadyRunning extends TwistedError {
  /** Makes the error with a message saying what was tried. */
  constructor(message = '') {
    super(message, [message]);
  }
}

/**
 * The reasons a read or write hands back when a connection ends, shared as
 * Twisted shares its main.CONNECTION_DONE and main.CONNECTION_LOST: making
 * an Error (its stack) costs more than the rest of closing a connection.
 * connectionLost() still gets a Failure of its own each time.
 */
export const CONNECTION_DONE: ConnectionDone = new ConnectionDone();

/** The shared "lost in a non-clean fashion" reason (Twisted's main.CONNECTION_LOST). */
export const CONNECTION_LOST: ConnectionLost = new ConnectionLost();

/**
 * A client endpoint's connect() was cancelled before it connected; `address` is where it was going.
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.error.ConnectingCancelledError.html | Twisted's ConnectingCancelledError}
 */
export class ConnectingCancelledError extends TwistedError {
  /** The destination of the cancelled attempt. */
  readonly address: unknown;

  /** Makes the error for the attempt to `address`; the message is the address, as Twisted's str(). */
  constructor(address: unknown) {
    super(String(address), [address]);
    this.address = address;
  }
}

/**
 * The factory given to a client endpoint built no protocol (buildProtocol() returned null).
 *
 * @see {@link https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.error.NoProtocol.html | Twisted's NoProtocol}
 */
export class NoProtocol extends TwistedError {
  /** Makes the error; any arguments are its message, as Python's Exception shows them. */
  constructor(...args: unknown[]) {
    super(args.map(String).join(' '), args);
  }
}
