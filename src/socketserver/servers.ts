// BaseServer, TCPServer and UDPServer: Lib/socketserver.py (CPython 3.11)
// with a Promise where Python blocks. The serve loop waits for the listening
// socket on the epoll pump (io.ts), so the Node event loop runs meanwhile.
import type { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { inspect } from 'node:util';
import { ExitNow } from '../asyncore';
import { describe, OSError } from '../errors';
import { AF_INET, AF_UNIX, SHUT_WR, SO_REUSEADDR, SO_REUSEPORT, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, socket } from '../socket';
import type { Address } from '../socket';
import { classAttribute, lateFieldError, setClassAttribute, useClassAttribute } from './attributes';
import { io, toTimeoutMs } from './io';

/**
 * What a handler is given as its request: the connected socket for a stream
 * server, [the datagram, the server's socket] for a datagram server.
 */
export type Request = socket | [Buffer, socket];

/** Anything a request handler class must provide (BaseRequestHandler does). */
export interface RequestHandler {
  /** Runs first. */
  setup(): void | Promise<void>;
  /** Serves the request. */
  handle(): void | Promise<void>;
  /** Runs last, even when handle() threw. */
  finish(): void | Promise<void>;
}

/**
 * A request handler class: made once per request by finish_request(), with
 * (request, client_address, server). The handler class states the request
 * and server it takes (a socket or [data, socket], and its server's class),
 * so they are left open here.
 */
export type HandlerClass = new (request: never, client_address: Address, server: never) => RequestHandler;

/** What finish_request() calls a handler class with. */
type HandlerConstructor = new (request: Request, client_address: Address, server: BaseServer) => RequestHandler;

/**
 * Whether err ends a request without being reported by handle_error():
 * asyncore's ExitNow, which plays Python's SystemExit here (a
 * BaseException that `except Exception` lets through).
 */
export function isExit(err: unknown): boolean {
  return err instanceof ExitNow;
}

/** String(value) for a report, which must not throw: a value whose toString() throws is described instead. */
function printable(value: unknown): string {
  try {
    return String(value);
  } catch {
    try {
      return describe(value);
    } catch {
      return `<${typeof value} that cannot be printed>`;
    }
  }
}

/** Python's str() of an address, for messages; never throws. */
export function formatAddress(address: unknown): string {
  if (Array.isArray(address)) {
    return `(${address.map((part) => (typeof part === 'string' ? `'${part}'` : printable(part))).join(', ')})`;
  }
  if (address === null || address === undefined) return 'None';
  return printable(address);
}

/** What a report shows of a thrown value: an Error's stack, else the value; never throws. */
export function formatError(err: unknown): string {
  try {
    if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  } catch {
    // A stack or message getter that throws: the value is printed as any other.
  }
  return printable(err);
}

/** Whether value can be called with `new` (a class; not an arrow function or a method), without calling it. */
function isConstructor(value: unknown): boolean {
  if (typeof value !== 'function') return false;
  try {
    // Checks value as a new.target, and constructs a String, not value.
    Reflect.construct(String, [], value);
    return true;
  } catch {
    return false;
  }
}

/** describe(), with a function shown by its name ([class X]), not its source. */
export function describeValue(value: unknown): string {
  return typeof value === 'function' ? inspect(value) : describe(value);
}

/** A TypeError or RangeError a constructor's step threw (socket(), bind()), named after the class made. */
function namedFor(className: string, err: unknown): unknown {
  if (err instanceof TypeError) return new TypeError(`${className}(): ${err.message}`, { cause: err });
  if (err instanceof RangeError) return new RangeError(`${className}(): ${err.message}`, { cause: err });
  return err;
}

/** The request as a socket, for a stream server's method. */
function streamRequest(server: object, method: string, request: unknown): socket {
  if (request instanceof socket) return request;
  throw new TypeError(`${server.constructor.name}.${method}(): request must be a socket, not ${describe(request)}`);
}

/** Whether request is a datagram server's: [data, socket]. @internal */
export function isDatagramRequest(request: unknown): request is [Uint8Array, socket] {
  return Array.isArray(request) && request.length === 2 && request[0] instanceof Uint8Array && request[1] instanceof socket;
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * The server's socket (`server.socket`), or null for a server that has
 * none: BaseServer's methods read it where a subclass has one, as Python's do.
 * @internal
 */
export function socketOf(server: object): socket | null {
  const sock: unknown = Reflect.get(server, 'socket');
  return sock instanceof socket ? sock : null;
}

/** Awaits value when it is a promise: hooks may be sync or async. */
export async function settle(value: unknown): Promise<void> {
  if (isPromise(value)) await value;
}

function checkPollInterval(value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`serve_forever(): poll_interval must be a number of seconds, not ${describe(value)}`);
  }
  if (value < 0) throw new RangeError(`serve_forever(): poll_interval must be >= 0, got ${value}`);
  return checkSelectorTimeout('serve_forever', value);
}

/**
 * CPython's servers wait in a PollSelector, which hands poll() whole
 * milliseconds in a C int: a longer wait is its OverflowError "timeout is
 * too large", an infinite one "cannot convert float infinity to integer".
 */
function checkSelectorTimeout(where: string, seconds: number): number {
  if (seconds === Infinity) throw new RangeError(`${where}(): cannot convert float infinity to integer`);
  if (Math.ceil(seconds * 1000) > 2 ** 31 - 1) throw new RangeError(`${where}(): timeout is too large, got ${seconds} s`);
  return seconds;
}

/**
 * The base of every server: the request loop, without a socket of its own.
 * Subclasses provide fileno() and get_request(), and usually
 * server_bind()/server_activate().
 *
 * Python's class attributes (`timeout` here, `allow_reuse_address` and the
 * others in the subclasses) are statics: `class S extends TCPServer {
 * static allow_reuse_address = true }`. An instance reads its class's
 * value, and an assignment on the instance (`server.timeout = 2`)
 * overrides it for that instance, as in Python. A subclass field
 * (`allow_reuse_address = true`) would be set only after the constructor
 * has bound the socket: TypeScript rejects it, and in JavaScript the first
 * serve_forever() or handle_request() throws a TypeError naming the
 * static form.
 */
export class BaseServer {
  /** handle_request()'s timeout in seconds; null (the default): wait as long as it takes. */
  static timeout: number | null = null;

  /** The address given, and once bound, the address the socket got. */
  server_address: Address;
  /** The class made for each request. */
  RequestHandlerClass: HandlerClass;

  /** Set by shutdown() until serve_forever() has seen it. @internal */
  _shutdown_request = false;
  /** Resolved when the running serve_forever() has returned; null when none runs. @internal */
  _serving: Promise<void> | null = null;

  /** Takes the address and handler class; binds nothing (subclasses do). */
  constructor(server_address: Address, RequestHandlerClass: HandlerClass) {
    // Any function, as Python takes any callable (its test passes a lambda that is never called);
    // finish_request() refuses one that cannot be constructed.
    if (typeof RequestHandlerClass !== 'function') {
      throw new TypeError(
        `${new.target.name}(): RequestHandlerClass must be a class, not ${describeValue(RequestHandlerClass)}`,
      );
    }
    this.server_address = server_address;
    this.RequestHandlerClass = RequestHandlerClass;
  }

  /** handle_request()'s timeout in seconds (the class's static `timeout` unless assigned on this server). */
  get timeout(): number | null {
    return classAttribute(this, 'timeout');
  }
  /** Gives this server its own timeout, as an assignment does in Python. */
  set timeout(value: number | null) {
    setClassAttribute(this, 'timeout', value);
  }

  /** Called by the constructor to activate the server (synchronously); nothing here. */
  server_activate(): void {}

  /** Refuses to serve when a subclass field came too late to be used by the constructor. @internal */
  _check_fields(method: string): void {
    const late = lateFieldError(this, method);
    if (late !== null) throw late;
  }

  /**
   * Handles requests one after the other until shutdown(): each time the
   * socket is readable, or every poll_interval seconds, then calls
   * service_actions(). Ignores this.timeout. Resolves once it has stopped;
   * rejects with what a hook (or handle_error()) threw.
   */
  async serve_forever(poll_interval = 0.5): Promise<void> {
    const interval = checkPollInterval(poll_interval);
    this._check_fields('serve_forever');
    let done!: () => void;
    this._serving = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      const fd = this.fileno();
      while (!this._shutdown_request) {
        const ready = await io.readable(fd, toTimeoutMs(interval));
        if (this._shutdown_request) break;
        if (ready) await this._handle_request_noblock();
        await settle(this.service_actions());
      }
    } finally {
      this._shutdown_request = false;
      this._serving = null;
      done();
    }
  }

  /**
   * Stops serve_forever() and resolves once it has returned. Unlike
   * Python's, it does not wait for the poll interval to run out. Called
   * when no serve_forever() runs, it resolves at once and the next
   * serve_forever() returns straight away, as in Python.
   */
  async shutdown(): Promise<void> {
    this._shutdown_request = true;
    const serving = this._serving;
    if (serving === null) return;
    this._cancel_wait();
    await serving;
  }

  /** Ends the serve loop's wait now (the listening socket's wait, for servers that have one). @internal */
  _cancel_wait(): void {
    let fd = -1;
    try {
      fd = this.fileno();
    } catch {
      return;
    }
    if (fd >= 0) io.cancel(fd, true);
  }

  /** Called once per turn of serve_forever(); nothing here (ForkingMixIn reaps children). */
  service_actions(): void | Promise<void> {}

  /**
   * Handles one request, waiting at most this.timeout seconds (or the
   * socket's own timeout, if shorter) for it; handle_timeout() when none came.
   */
  async handle_request(): Promise<void> {
    this._check_fields('handle_request');
    const sockTimeout = socketOf(this)?.gettimeout() ?? null;
    let timeout: number | null = sockTimeout;
    if (timeout === null) timeout = this.timeout;
    else if (this.timeout !== null) timeout = Math.min(timeout, this.timeout);
    if (timeout !== null) checkSelectorTimeout('handle_request', timeout);
    const deadline = timeout === null ? 0 : performance.now() / 1000 + timeout;
    const fd = this.fileno();
    for (;;) {
      const ready = await io.readable(fd, toTimeoutMs(timeout));
      if (ready) return this._handle_request_noblock();
      if (timeout !== null) {
        timeout = deadline - performance.now() / 1000;
        if (timeout < 0) {
          await settle(this.handle_timeout());
          return;
        }
      }
    }
  }

  /**
   * Takes one request now (the socket was readable) and processes it:
   * verify_request(), process_request(); handle_error() for what that
   * throws, and shutdown_request() when it is not handed on.
   */
  async _handle_request_noblock(): Promise<void> {
    let request: Request;
    let client_address: Address;
    try {
      [request, client_address] = this.get_request();
    } catch (err) {
      if (err instanceof OSError) return;
      throw err;
    }
    if (await this.verify_request(request, client_address)) {
      try {
        await this.process_request(request, client_address);
      } catch (err) {
        if (isExit(err)) {
          this.shutdown_request(request);
          throw err;
        }
        try {
          await settle(this.handle_error(request, client_address, err));
        } finally {
          this.shutdown_request(request);
        }
      }
    } else {
      this.shutdown_request(request);
    }
  }

  /** Called when handle_request() waited this.timeout for nothing; nothing here. */
  handle_timeout(): void | Promise<void> {}

  /** Whether to serve this request; always true here. */
  verify_request(request: Request, client_address: Address): boolean | Promise<boolean> {
    void request;
    void client_address;
    return true;
  }

  /** Serves the request: finish_request(), then shutdown_request(). The mix-ins change this. */
  async process_request(request: Request, client_address: Address): Promise<void> {
    await this.finish_request(request, client_address);
    this.shutdown_request(request);
  }

  /** Closes the server; subclasses close their socket, mix-ins wait for requests. */
  server_close(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Makes the handler for the request and runs it: setup(), handle(),
   * then finish() even when handle() threw (Python's
   * BaseRequestHandler.__init__ runs them; a constructor cannot await).
   */
  async finish_request(request: Request, client_address: Address): Promise<void> {
    if (!isConstructor(this.RequestHandlerClass)) {
      throw new TypeError(
        `${this.constructor.name}.finish_request(): RequestHandlerClass must be a class, not ${describeValue(this.RequestHandlerClass)}`,
      );
    }
    const handler = new (this.RequestHandlerClass as HandlerConstructor)(request, client_address, this);
    for (const hook of ['setup', 'handle', 'finish'] as const) {
      if (typeof (handler as Partial<RequestHandler> | null)?.[hook] !== 'function') {
        throw new TypeError(
          `${this.constructor.name}.finish_request(): RequestHandlerClass ${describeValue(this.RequestHandlerClass)} ` +
            `made ${describeValue(handler)}, which has no ${hook}() method`,
        );
      }
    }
    await settle(handler.setup());
    try {
      await settle(handler.handle());
    } finally {
      await settle(handler.finish());
    }
  }

  /** Ends one request: close_request() here; stream servers shut the socket down first. */
  shutdown_request(request: Request): void {
    this.close_request(request);
  }

  /** Releases one request; nothing here. */
  close_request(request: Request): void {
    void request;
  }

  /**
   * Reports an error of one request and goes on: Python's text and the
   * error's stack, between two lines of dashes, on stderr.
   */
  handle_error(request: Request, client_address: Address, err: unknown): void | Promise<void> {
    void request;
    process.stderr.write(
      `${'-'.repeat(40)}\nException occurred during processing of request from ${formatAddress(client_address)}\n` +
        `${formatError(err)}\n${'-'.repeat(40)}\n`,
    );
  }

  /** The fd the serve loop waits on; servers with a socket return the socket's. */
  fileno(): number {
    throw new TypeError(`${this.constructor.name}.fileno(): a BaseServer has no socket; subclasses provide fileno()`);
  }

  /** Takes the next request: [request, client_address]. Subclasses provide it. */
  get_request(): [Request, Address] {
    throw new TypeError(`${this.constructor.name}.get_request(): subclasses of BaseServer provide get_request()`);
  }

  /** `await using server = new TCPServer(...)` closes it at the end of the block, as Python's `with`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.server_close();
  }
}

/**
 * A stream server on a socket of address_family (AF_INET here), bound and
 * listening once the constructor returns, unless bind_and_activate is
 * false (then call server_bind() and server_activate() yourself).
 *
 * @example
 * ```ts
 * class Server extends TCPServer {
 *   static allow_reuse_address = true; // Python's `allow_reuse_address = True`
 *   static address_family = AF_INET6;
 * }
 * const server = new Server(['::1', 8000], Handler);
 * server.timeout = 2; // this server only, as in Python
 * ```
 */
export class TCPServer extends BaseServer {
  /** The socket's family; AF_INET. */
  static address_family: number = AF_INET;
  /** The socket's type; SOCK_STREAM. */
  static socket_type: number = SOCK_STREAM;
  /** listen()'s backlog; 5. */
  static request_queue_size = 5;
  /** Sets SO_REUSEADDR before bind(); false. */
  static allow_reuse_address = false;
  /** Sets SO_REUSEPORT before bind(); false. */
  static allow_reuse_port = false;

  /** The listening (or datagram) socket. */
  socket: socket;

  /** Makes the socket and, with bind_and_activate (the default), binds and activates it; closes it again if that fails. */
  constructor(server_address: Address, RequestHandlerClass: HandlerClass, bind_and_activate = true) {
    super(server_address, RequestHandlerClass);
    if (typeof bind_and_activate !== 'boolean') {
      throw new TypeError(`${new.target.name}(): bind_and_activate must be a boolean, not ${describe(bind_and_activate)}`);
    }
    try {
      this.socket = new socket(useClassAttribute(this, 'address_family'), useClassAttribute(this, 'socket_type'));
    } catch (err) {
      throw namedFor(new.target.name, err);
    }
    if (bind_and_activate && this._binds_on_construction()) {
      try {
        this.server_bind();
        this.server_activate();
      } catch (err) {
        this.server_close().catch(() => {});
        throw namedFor(new.target.name, err);
      }
    }
  }

  /** The socket's family (the class's static `address_family` unless assigned on this server). */
  get address_family(): number {
    return classAttribute(this, 'address_family');
  }
  /** Gives this server its own address_family, as an assignment does in Python. */
  set address_family(value: number) {
    setClassAttribute(this, 'address_family', value);
  }

  /** The socket's type (the class's static `socket_type` unless assigned on this server). */
  get socket_type(): number {
    return classAttribute(this, 'socket_type');
  }
  /** Gives this server its own socket_type, as an assignment does in Python. */
  set socket_type(value: number) {
    setClassAttribute(this, 'socket_type', value);
  }

  /** listen()'s backlog (the class's static `request_queue_size` unless assigned on this server). */
  get request_queue_size(): number {
    return classAttribute(this, 'request_queue_size');
  }
  /** Gives this server its own request_queue_size, as an assignment does in Python. */
  set request_queue_size(value: number) {
    setClassAttribute(this, 'request_queue_size', value);
  }

  /** Whether server_bind() sets SO_REUSEADDR (the class's static `allow_reuse_address` unless assigned on this server). */
  get allow_reuse_address(): boolean {
    return classAttribute(this, 'allow_reuse_address');
  }
  /** Gives this server its own allow_reuse_address, as an assignment does in Python. */
  set allow_reuse_address(value: boolean) {
    setClassAttribute(this, 'allow_reuse_address', value);
  }

  /** Whether server_bind() sets SO_REUSEPORT (the class's static `allow_reuse_port` unless assigned on this server). */
  get allow_reuse_port(): boolean {
    return classAttribute(this, 'allow_reuse_port');
  }
  /** Gives this server its own allow_reuse_port, as an assignment does in Python. */
  set allow_reuse_port(value: boolean) {
    setClassAttribute(this, 'allow_reuse_port', value);
  }

  /**
   * Whether the constructor binds; false only for a ForkingMixIn server in
   * one of its child processes, which serves connections handed to it.
   * @internal
   */
  _binds_on_construction(): boolean {
    return true;
  }

  /** Sets the reuse options, binds, and reads back the address (the port, when 0 was asked). */
  server_bind(): void {
    if (useClassAttribute(this, 'allow_reuse_address')) this.socket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    if (useClassAttribute(this, 'allow_reuse_port')) this.socket.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
    this.socket.bind(this.server_address);
    this.server_address = this.socket.getsockname();
  }

  /** listen(request_queue_size). */
  override server_activate(): void {
    this.socket.listen(useClassAttribute(this, 'request_queue_size'));
  }

  /** Closes the socket. */
  override server_close(): Promise<void> {
    const fd = this.socket.fileno();
    if (fd >= 0) io.forget(fd);
    this.socket.close();
    return Promise.resolve();
  }

  /** The socket's fd. */
  override fileno(): number {
    return this.socket.fileno();
  }

  /** accept(): [the connection, the peer's address]. */
  override get_request(): [Request, Address] {
    return this.socket.accept();
  }

  /** shutdown(SHUT_WR) (errors ignored, as some peers are gone already), then close_request(). */
  override shutdown_request(request: Request): void {
    const sock = streamRequest(this, 'shutdown_request', request);
    try {
      sock.shutdown(SHUT_WR);
    } catch (err) {
      if (!(err instanceof OSError)) throw err;
    }
    this.close_request(request);
  }

  /** Closes the connection. */
  override close_request(request: Request): void {
    const sock = streamRequest(this, 'close_request', request);
    const fd = sock._ownFileno();
    if (fd >= 0) io.forget(fd);
    sock.close();
  }
}

/** A datagram server: each datagram is a request, [data, the server's socket]. */
export class UDPServer extends TCPServer {
  /** The socket's type; SOCK_DGRAM. */
  static override socket_type: number = SOCK_DGRAM;
  /** The most bytes taken of one datagram; 8192. */
  static max_packet_size = 8192;

  /** The most bytes taken of one datagram (the class's static `max_packet_size` unless assigned on this server). */
  get max_packet_size(): number {
    return classAttribute(this, 'max_packet_size');
  }
  /** Gives this server its own max_packet_size, as an assignment does in Python. */
  set max_packet_size(value: number) {
    setClassAttribute(this, 'max_packet_size', value);
  }

  /** recvfrom(max_packet_size): [[data, socket], the sender's address]. */
  override get_request(): [Request, Address] {
    const [data, client_addr] = this.socket.recvfrom(this.max_packet_size);
    return [[data, this.socket], client_addr];
  }

  /** Nothing: a datagram socket does not listen. */
  override server_activate(): void {}

  /** close_request() only: the socket is the server's. */
  override shutdown_request(request: Request): void {
    this.close_request(request);
  }

  /** Nothing: the socket is the server's. */
  override close_request(request: Request): void {
    void request;
  }
}

/** TCPServer on an AF_UNIX path. */
export class UnixStreamServer extends TCPServer {
  /** The socket's family; AF_UNIX. */
  static override address_family: number = AF_UNIX;
}

/** UDPServer on an AF_UNIX path. */
export class UnixDatagramServer extends UDPServer {
  /** The socket's family; AF_UNIX. */
  static override address_family: number = AF_UNIX;
}
