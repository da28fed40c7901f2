// The request handlers of Lib/socketserver.py. Python's
// BaseRequestHandler.__init__ runs setup(), handle() and finish(); here
// the server's finish_request() does, awaiting each, since a constructor
// cannot await.
import { Buffer } from 'node:buffer';
import { describe, OSError } from '../errors';
import { IPPROTO_TCP, socket, TCP_NODELAY } from '../socket';
import type { Address } from '../socket';
import { classAttribute, setClassAttribute } from './attributes';
import { isDatagramRequest } from './servers';
import type { BaseServer, Request } from './servers';
import { BufferedReader, BytesWriter, SocketWriter } from './streams';

/** finish() called on a handler whose setup() has not run. */
function notSetUp(handler: object, missing: string): TypeError {
  return new TypeError(`${handler.constructor.name}.finish(): setup() has not run (there is no ${missing})`);
}

/**
 * The base of request handlers: one is made per request, holding the
 * request, the client's address and the server. Subclasses define handle()
 * (and maybe setup() and finish()), sync or async.
 *
 * S is the server's class, so that a handler reads its server's own fields
 * (`class H extends StreamRequestHandler<MyServer>`); R is the request: a
 * socket for stream servers, [data, socket] for datagram servers.
 */
export class BaseRequestHandler<S extends BaseServer = BaseServer, R extends Request = Request> {
  /** The request: the connected socket, or [data, the server's socket] for a datagram server. */
  request: R;
  /** The client's address. */
  client_address: Address;
  /** The server that took the request. */
  server: S;

  /** Keeps the request, the address and the server; the server then runs setup(), handle() and finish(). */
  constructor(request: R, client_address: Address, server: S) {
    this.request = request;
    this.client_address = client_address;
    this.server = server;
  }

  /** Runs before handle(); nothing here. */
  setup(): void | Promise<void> {}

  /** Serves the request; nothing here. */
  handle(): void | Promise<void> {}

  /** Runs after handle(), even when it threw; nothing here. */
  finish(): void | Promise<void> {}
}

/**
 * A handler for stream servers: rfile reads the connection (buffered),
 * wfile writes to it, in order. Its settings are Python's class
 * attributes, as statics (`static timeout = 5`), read by setup(); an
 * assignment on the handler before setup() overrides them for it.
 *
 * @example
 * ```ts
 * class Echo extends StreamRequestHandler<MyServer> {
 *   static timeout = 30; // each read or write may wait 30 s
 *   override async handle(): Promise<void> {
 *     for await (const line of this.rfile) await this.wfile.write(line);
 *     this.server.served += 1; // MyServer's own field
 *   }
 * }
 * ```
 */
export class StreamRequestHandler<S extends BaseServer = BaseServer> extends BaseRequestHandler<S, socket> {
  /** rfile's buffering: -1 (the default) buffered, 0 unbuffered, n > 0 reads n bytes at a time. */
  static rbufsize = -1;
  /** wfile's buffering: 0 (the default) sends each write at once, n > 0 gathers n bytes first. */
  static wbufsize = 0;
  /** Seconds each read or write may wait before it fails with TimeoutError; null (the default): no limit. */
  static timeout: number | null = null;
  /** Sets TCP_NODELAY on the connection; false. */
  static disable_nagle_algorithm = false;

  /** The connected socket (the request). */
  declare connection: socket;
  /** Reads the connection: read(), readline(), readlines(), `for await`. */
  declare rfile: BufferedReader;
  /** Writes to the connection, in order; finish() flushes it. */
  declare wfile: SocketWriter;

  /** rfile's buffering (the class's static `rbufsize` unless assigned on this handler). */
  get rbufsize(): number {
    return classAttribute(this, 'rbufsize');
  }
  /** Gives this handler its own rbufsize, as an assignment does in Python. */
  set rbufsize(value: number) {
    setClassAttribute(this, 'rbufsize', value);
  }

  /** wfile's buffering (the class's static `wbufsize` unless assigned on this handler). */
  get wbufsize(): number {
    return classAttribute(this, 'wbufsize');
  }
  /** Gives this handler its own wbufsize, as an assignment does in Python. */
  set wbufsize(value: number) {
    setClassAttribute(this, 'wbufsize', value);
  }

  /** Seconds each read or write may wait (the class's static `timeout` unless assigned on this handler). */
  get timeout(): number | null {
    return classAttribute(this, 'timeout');
  }
  /** Gives this handler its own timeout, as an assignment does in Python. */
  set timeout(value: number | null) {
    setClassAttribute(this, 'timeout', value);
  }

  /** Whether setup() sets TCP_NODELAY (the class's static `disable_nagle_algorithm` unless assigned on this handler). */
  get disable_nagle_algorithm(): boolean {
    return classAttribute(this, 'disable_nagle_algorithm');
  }
  /** Gives this handler its own disable_nagle_algorithm, as an assignment does in Python. */
  set disable_nagle_algorithm(value: boolean) {
    setClassAttribute(this, 'disable_nagle_algorithm', value);
  }

  /** Applies timeout and disable_nagle_algorithm, and makes rfile and wfile. */
  override setup(): void {
    if (!(this.request instanceof socket)) {
      throw new TypeError(`${this.constructor.name}.setup(): request must be a socket, not ${describe(this.request)}`);
    }
    this.connection = this.request;
    const timeout = this.timeout;
    if (timeout !== null) this.connection.settimeout(timeout);
    if (this.disable_nagle_algorithm) this.connection.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
    this.rfile = new BufferedReader(this.connection, this.rbufsize, timeout);
    this.wfile = new SocketWriter(this.connection, this.wbufsize, timeout);
  }

  /** Flushes wfile (an OSError, such as a peer gone, is ignored as in Python), then closes both files. */
  override async finish(): Promise<void> {
    if (this.wfile === undefined) throw notSetUp(this, 'wfile');
    if (!this.wfile.closed) {
      try {
        await this.wfile.flush();
      } catch (err) {
        if (!(err instanceof OSError)) throw err;
      }
    }
    this.wfile.close();
    this.rfile.close();
  }
}

/**
 * A handler for datagram servers: rfile reads the datagram, and what is
 * written to wfile is sent back to the client as one datagram by finish().
 */
export class DatagramRequestHandler<S extends BaseServer = BaseServer> extends BaseRequestHandler<
  S,
  [Buffer, socket]
> {
  /** The datagram. */
  declare packet: Buffer;
  /** The server's socket, which the reply is sent from. */
  declare socket: socket;
  /** Reads the datagram. */
  declare rfile: BufferedReader;
  /** Gathers the reply. */
  declare wfile: BytesWriter;

  /** Unpacks the request into packet and socket, and makes rfile and wfile. */
  override setup(): void {
    const request: unknown = this.request;
    if (!isDatagramRequest(request)) {
      throw new TypeError(
        `${this.constructor.name}.setup(): request must be [data, socket] (a datagram server's), not ${describe(request)}`,
      );
    }
    this.packet = Buffer.isBuffer(request[0]) ? request[0] : Buffer.from(request[0]);
    this.socket = request[1];
    this.rfile = new BufferedReader(null, -1, null, this.packet);
    this.wfile = new BytesWriter();
  }

  /** Sends what was written to wfile to the client. */
  override finish(): void {
    if (this.wfile === undefined) throw notSetUp(this, 'wfile');
    this.socket.sendto(this.wfile.getvalue(), this.client_address);
  }
}
