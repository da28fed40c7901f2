/**
 * Python's asyncore, name for name: {@link dispatcher},
 * {@link dispatcher_with_send}, {@link file_dispatcher}, the socket map and
 * {@link loop}. The package root `asyncore` exports all of it, with the
 * error classes and the other modules as namespaces.
 *
 * Subclass as in Python. Differs from Python: {@link loop}, {@link poll}
 * and {@link poll2} return Promises (await them) and wait off the
 * JavaScript thread; handle_error() receives the error; toString()
 * replaces repr(); tuples are arrays and bytes are Buffers.
 *
 * @example The echo server of Python's documentation
 * ```ts
 * import * as asyncore from 'asyncore';
 *
 * class EchoHandler extends asyncore.dispatcher_with_send {
 *   override handle_read(): void {
 *     const data = this.recv(8192);
 *     if (data.length > 0) this.send(data);
 *   }
 * }
 *
 * class EchoServer extends asyncore.dispatcher {
 *   constructor(host: string, port: number) {
 *     super();
 *     this.create_socket();
 *     this.set_reuse_addr();
 *     this.bind([host, port]);
 *     this.listen(5);
 *   }
 *   override handle_accepted(sock: asyncore.socket.socket): void {
 *     new EchoHandler(sock);
 *   }
 * }
 *
 * new EchoServer('127.0.0.1', 8080);
 * await asyncore.loop();
 * ```
 * @see {@link https://docs.python.org/3.11/library/asyncore.html | Python 3.11's asyncore documentation} (asyncore was removed in Python 3.12)
 * @module
 */
// Python's asyncore (Lib/asyncore.py, CPython 3.11), name for name: the
// dispatcher classes, the socket map and the loop. The passes themselves
// (interest set, snapshot, dispatch order) live in asyncore/map_watch.ts,
// their sequence (waits, spin, yields) in asyncore/passes.ts.
//
// Where JavaScript forces a difference (README.md, "Porting from Python"):
// loop(), poll() and poll2() return Promises and wait off the JavaScript
// thread; handle_error() receives the error; toString() replaces repr().
// Imported, not the global: globalThis.Buffer is a getter on every use.
import { Buffer } from 'node:buffer';
import { constants as osConstants } from 'node:os';
import * as util from 'node:util';
import { describe, describeErrno, errorFromErrno, OSError, textOf } from './errors';
import type { Address as AddressType } from './address';
import { asBuffer, EMPTY_BUFFER } from './bytes';
import { repr } from './repr';
import * as posix from './posix';
import { AF_INET, SO_ERROR, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET, socket } from './socket';
import { checkBoolean, checkBytes, checkTimeout } from './validate';
import { ExitNow, isDisconnected } from './asyncore/handlers';
import type { Channel, SocketMap } from './asyncore/handlers';
import { kindOf, stateOf, timeoutToMs } from './asyncore/passes';
import { channelChanged, channelJoined, channelRemoved, wakeMap } from './notify';
import { compact_traceback } from './asyncore/traceback';

export { _exception, ExitNow, read, readwrite, write } from './asyncore/handlers';
export type { Channel, SocketMap } from './asyncore/handlers';
export { compact_traceback } from './asyncore/traceback';
export type { CompactTraceback, Frame } from './asyncore/traceback';

const E = osConstants.errno;

/**
 * How a pass waits: 'select' (select(2), fds below 1024), 'poll' (poll(2))
 * or 'epoll' (Linux; registrations stay in the kernel between passes, so
 * idle channels cost the kernel nothing). `loop({ backend })` takes it.
 */
export type Backend = 'select' | 'poll' | 'epoll';

/** dispatcher_with_send sends at most this much per call, as Python does. */
const SEND_CHUNK = 65536;

/**
 * A socket address as Python writes it: [host, port] (IPv4),
 * [host, port, flowinfo?, scope_id?] (IPv6) or a path (unix sockets).
 */
export type Address = AddressType;

/** The map every dispatcher and loop uses unless given another. */
export const socket_map: SocketMap = new Map();

/** The system's text for errno `err` (Python's os.strerror), or "Unknown error N". */
export function _strerror(err: number): string {
  if (typeof err !== 'number') throw new TypeError(`_strerror(): err must be an errno (a number), not ${describe(err)}`);
  return describeErrno(err);
}

/** Python's errno.errorcode[err]: the symbolic name ('ECONNREFUSED'). */
function errorcode(err: number): string {
  return util.getSystemErrorName(-err);
}

// ---------------------------------------------------------------------------
// The loop and its passes.
// ---------------------------------------------------------------------------

function checkMap(name: string, map: unknown): SocketMap {
  if (map === null || map === undefined) return socket_map;
  if (!(map instanceof Map)) throw new TypeError(`${name} must be a Map of fd -> channel or null, not ${describe(map)}`);
  return map as SocketMap;
}

/** add_channel()'s and del_channel()'s map: the one given, else the dispatcher's own. */
function channelMap(caller: string, map: unknown, own: SocketMap): SocketMap {
  return map === undefined || map === null ? own : checkMap(`${caller}(): map`, map);
}

/** A timeout in seconds: a number >= 0, or null for "wait forever". */
function checkSeconds(name: string, value: unknown, fallback: number): number | null {
  return value === undefined ? fallback : checkTimeout(name, value);
}

function checkCount(caller: string, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${caller}(): count must be a number or null, not ${describe(value)}`);
  }
  return value;
}

/** How a loop reads readable() and writable(): every pass (CPython), or on change. */
export type Interest = 'every_pass' | 'on_change';

function checkInterest(value: unknown): Interest {
  if (value === undefined || value === null) return 'every_pass';
  if (value === 'every_pass' || value === 'on_change') return value;
  if (typeof value !== 'string') throw new TypeError(`loop(): interest must be a string, not ${describe(value)}`);
  throw new RangeError(`loop(): interest must be 'every_pass' or 'on_change', got ${describe(value)}`);
}

function checkBackend(caller: string, value: unknown, usePoll: boolean): Backend {
  if (value === undefined || value === null) return usePoll ? 'poll' : 'select';
  if (value === 'select' || value === 'poll' || value === 'epoll') return value;
  if (typeof value !== 'string') throw new TypeError(`${caller}(): backend must be a string, not ${describe(value)}`);
  throw new RangeError(`${caller}(): backend must be 'select', 'poll' or 'epoll', got ${describe(value)}`);
}

/** The options of {@link loop}, by name (Python's keyword arguments). */
export interface LoopOptions {
  /** Seconds each pass may wait; default 30; null waits until something is ready. */
  timeout?: number | null;
  /** Use poll() rather than select(); default false. */
  use_poll?: boolean;
  /** The channels to serve; default (or null) {@link socket_map}. */
  map?: SocketMap | null;
  /** Passes to run; null (the default) runs until the map is empty. */
  count?: number | null;
  /** Overrides use_poll; 'epoll' keeps registrations in the kernel between passes. */
  backend?: Backend;
  /**
   * 'every_pass' (the default, CPython's way) asks every channel's
   * readable() and writable() on every pass; 'on_change' asks a channel
   * again only when it joined the map, a handler ran for it, a method of
   * this package changed its state, wake() named it, or a pass timed out.
   */
  interest?: Interest;
}

interface LoopArguments {
  timeout: number | null;
  map: SocketMap;
  count: number | null;
  backend: Backend;
  interest: Interest;
}

const LOOP_OPTIONS: ReadonlySet<string> = new Set(['timeout', 'use_poll', 'map', 'count', 'backend', 'interest']);

function loopArguments(args: unknown[]): LoopArguments {
  const [first] = args;
  if (args.length === 1 && typeof first === 'object' && first !== null) {
    const options = first as Record<string, unknown>;
    // for...in rather than Object.keys(): loop({ count: 1 }) may run once per
    // pass, and this allocates nothing.
    for (const key in options) {
      if (Object.hasOwn(options, key) && !LOOP_OPTIONS.has(key)) {
        throw new TypeError(`loop(): got an unexpected option ${describe(key)}`);
      }
    }
    const usePoll = options.use_poll === undefined ? false : checkBoolean('loop(): use_poll', options.use_poll);
    return {
      timeout: checkSeconds('loop(): timeout', options.timeout, 30),
      map: checkMap('loop(): map', options.map),
      count: checkCount('loop', options.count),
      backend: checkBackend('loop', options.backend, usePoll),
      interest: checkInterest(options.interest),
    };
  }
  const [timeout, usePoll, map, count] = args;
  return {
    timeout: checkSeconds('loop(): timeout', timeout, 30),
    map: checkMap('loop(): map', map),
    count: checkCount('loop', count),
    backend: checkBackend('loop', undefined, usePoll === undefined ? false : checkBoolean('loop(): use_poll', usePoll)),
    interest: 'every_pass',
  };
}

/**
 * Runs passes over the map until it is empty, or `count` passes are done:
 * each pass waits until some channel is ready (at most `timeout` seconds),
 * then calls its handlers. Resolves then; rejects with ExitNow (or any
 * error a handle_error() let through). A second loop() over a map that has
 * one running rejects.
 *
 * Differs from Python: returns a Promise, which you must await (a loop not
 * awaited hides its errors: see the README's "Linting"); the wait runs off
 * the JavaScript thread, so timers and Node's own I/O keep running, and a
 * change made outside a handler (a timer closing a channel, pushing data)
 * wakes a waiting pass. The options may also be given by name, with
 * `backend` ('select', 'poll' or 'epoll') beyond Python's.
 *
 * @example
 * ```ts
 * await asyncore.loop();                                  // until every channel is closed
 * await asyncore.loop({ timeout: 1, backend: 'epoll' });   // by name, on epoll
 * await asyncore.loop(0.1, false, myMap, 10);             // Python's order: 10 passes over myMap
 * ```
 */
export function loop(options: LoopOptions): Promise<void>;
/**
 * loop() with Python's positional arguments: timeout (seconds, default
 * 30), use_poll (default false), map (default {@link socket_map}), count
 * (default null: until the map is empty). Returns a Promise: await it.
 */
export function loop(timeout?: number | null, use_poll?: boolean, map?: SocketMap | null, count?: number | null): Promise<void>;
export async function loop(...args: unknown[]): Promise<void> {
  const { timeout, map, count, backend, interest } = loopArguments(args);
  const state = stateOf(map);
  state.acquire('loop');
  try {
    state.setInterest(interest === 'on_change');
    const kind = kindOf[backend];
    const timeoutMs = timeoutToMs(timeout);
    let left = count;
    while (map.size > 0 && (left === null || left > 0)) {
      const pending = state.pass(kind, timeoutMs);
      if (pending !== undefined) await pending;
      if (left !== null) left -= 1;
    }
  } finally {
    state.release();
  }
}

async function singlePass(caller: string, backend: Backend, timeout: unknown, mapArg: unknown): Promise<void> {
  const seconds = checkSeconds(`${caller}(): timeout`, timeout, 0);
  const map = checkMap(`${caller}(): map`, mapArg);
  const state = stateOf(map);
  state.acquire('pass');
  try {
    state.setInterest(false);
    const pending = state.pass(kindOf[backend], timeoutToMs(seconds));
    if (pending !== undefined) await pending;
  } finally {
    state.release();
  }
}

/** One select() pass over map (default socket_map), waiting at most timeout seconds (default 0). */
export function poll(timeout?: number | null, map?: SocketMap | null): Promise<void> {
  return singlePass('poll', 'select', timeout, map);
}

/** One poll() pass over map (default socket_map), waiting at most timeout seconds (default 0). */
export function poll2(timeout?: number | null, map?: SocketMap | null): Promise<void> {
  return singlePass('poll2', 'poll', timeout, map);
}

/** Alias for backward compatibility, as in Python. */
export const poll3 = poll2;

/**
 * Makes a pass waiting over map (default socket_map) read readable() and
 * writable() again: every channel's, or only channel's when it is given (a
 * loop with interest 'on_change' asks that channel again at its next pass).
 * The package's own methods that change a channel's state call it; code
 * that changes what readable() or writable() return by other means calls
 * it itself.
 */
export function wake(map?: SocketMap | null, channel?: Channel): void {
  const target = checkMap('wake(): map', map);
  if (channel === undefined) {
    wakeMap(target);
    return;
  }
  if (typeof channel !== 'object' || channel === null || typeof channel.readable !== 'function' ||
      typeof channel.writable !== 'function') {
    throw new TypeError(`wake(): channel must be a channel (with readable() and writable()), not ${describe(channel)}`);
  }
  channelChanged(target, channel);
}

/**
 * Closes every channel of the map (default {@link socket_map}) and empties
 * it. Errors from close() propagate unless ignore_all is set; EBADF is
 * always ignored and ExitNow always propagates, as in Python.
 */
export function close_all(map?: SocketMap | null, ignore_all = false): void {
  const target = checkMap('close_all(): map', map);
  for (const x of [...target.values()]) {
    try {
      const close = (x as { close?: unknown } | null)?.close;
      if (typeof close !== 'function') throw new TypeError(`close_all(): a channel without close() in the map: ${describe(x)}`);
      close.call(x);
    } catch (err) {
      if (err instanceof OSError && err.errno === E.EBADF) continue;
      if (err instanceof ExitNow) throw err;
      if (!ignore_all) throw err;
    }
  }
  target.clear();
  wakeMap(target);
}

// ---------------------------------------------------------------------------
// Dispatchers.
// ---------------------------------------------------------------------------

/** What a dispatcher's `socket` may be: a socket, or (for a file_dispatcher) a file_wrapper. */
export type DispatcherSocket = socket | file_wrapper;

/** Per-object numbers for toString()'s "at 0xN" (JavaScript has no id()). */
let lastObjectNumber = 0;

/** Python's `'%s:%d' % addr`, which only fits a (host, port) pair. */
function formatAddress(addr: unknown): string {
  if (Array.isArray(addr) && addr.length === 2 && typeof addr[1] === 'number') {
    return `${textOf(addr[0])}:${Math.trunc(addr[1])}`;
  }
  return repr(addr);
}

function setsIgnore(types: unknown, type: string): boolean {
  if (types instanceof Set) return types.has(type);
  if (Array.isArray(types)) return types.includes(type);
  return false;
}

/**
 * A thin wrapper around a non-blocking socket that a {@link loop} drives:
 * subclass it and override the `handle_*` methods, which the loop calls
 * when the socket is ready. A dispatcher is registered in its map (default
 * {@link socket_map}) from create_socket() or construction on a socket
 * until close().
 *
 * The loop asks {@link dispatcher.readable} and {@link dispatcher.writable}
 * before each pass; it calls handle_read() when data has arrived,
 * handle_write() when the socket can send, handle_connect() once an
 * outgoing connection is made, handle_accepted() for each incoming one,
 * and handle_close() when the peer has gone. An error thrown by a handler
 * goes to handle_error(), which by default logs it and closes the channel.
 *
 * Differs from Python: handle_error() receives the error; toString() is
 * repr(); the type parameter `S` is what `socket` holds (a socket, or a
 * file_wrapper for file_dispatcher), so that `this.socket!.getsockname()`
 * needs no cast.
 *
 * @example A client that sends a line and prints the answer
 * ```ts
 * class Client extends asyncore.dispatcher {
 *   private out = Buffer.from('hello\n');
 *   constructor(host: string, port: number) {
 *     super();
 *     this.create_socket();
 *     this.connect([host, port]);
 *   }
 *   override handle_connect(): void {}
 *   override writable(): boolean {
 *     return this.out.length > 0;
 *   }
 *   override handle_write(): void {
 *     this.out = this.out.subarray(this.send(this.out));
 *   }
 *   override handle_read(): void {
 *     console.log(this.recv(8192).toString());
 *   }
 *   override handle_close(): void {
 *     this.close();
 *   }
 * }
 * ```
 * @typeParam S - What `socket` holds: a socket (the default), or a file_wrapper.
 * @see {@link https://docs.python.org/3.11/library/asyncore.html#asyncore.dispatcher | Python's asyncore.dispatcher}
 */
export class dispatcher<S extends DispatcherSocket = socket> implements Channel {
  /**
   * The module shown by toString() before the class name. Subclasses
   * defined elsewhere show their bare class name (there is no __module__
   * in JavaScript); a package module sets its own (asynchat.async_chat).
   */
  static __module__: string | undefined = 'asyncore';

  /** When set, dispatcher_with_send logs what it sends (log_info()). */
  debug = false;
  /** Whether the socket is connected (set once a connect completes, or for an accepted socket). */
  connected = false;
  /** Whether the socket listens (set by listen()). */
  accepting = false;
  /** Whether a connect() is in progress. */
  connecting = false;
  /** Python's attribute, kept for code that sets it; the package does not read it. */
  closing = false;
  /** The address given to bind() or connect(), or the peer's for an accepted socket. */
  addr: Address | null = null;
  /** The socket, once create_socket() or set_socket() has run; null before. */
  socket: S | null = null;
  /** Message types log_info() does not print (default: 'warning'). */
  ignore_log_types: Set<string> = new Set(['warning']);
  /** The fd the dispatcher is registered under in its map; null when not registered. */
  _fileno: number | null = null;
  /** The map the dispatcher registers in; pass it on to the dispatchers it creates. */
  _map: SocketMap;
  /** [family, type] as given to create_socket(). */
  family_and_type?: [number, number];
  private readonly objectNumber = ++lastObjectNumber;

  /**
   * A dispatcher in `map` (default {@link socket_map}). With `sock` (say the
   * socket handle_accepted() received), the dispatcher takes it over: made
   * non-blocking, registered, and `connected` when it has a peer. Without,
   * call create_socket() next.
   */
  constructor(sock?: socket | null, map?: SocketMap | null) {
    this._map = checkMap('dispatcher(): map', map);
    if (sock !== null && sock !== undefined) {
      if (!(sock instanceof socket)) {
        throw new TypeError(`dispatcher(): sock must be a socket or null, not ${describe(sock)}`);
      }
      // Non-blocking, in case the socket came from a blocking source.
      sock.setblocking(false);
      this.set_socket(sock as S, map);
      this.connected = true;
      // The constructor does not require the socket to be connected.
      try {
        this.addr = sock.getpeername() as Address;
      } catch (err) {
        if (err instanceof OSError && (err.errno === E.ENOTCONN || err.errno === E.EINVAL)) {
          this.connected = false;
        } else {
          // Broken in some unknown way: keep it out of the map, so that
          // no pass polls it.
          this.del_channel(map);
          throw err;
        }
      }
    }
  }

  /** Python's repr(): "<asyncore.dispatcher connected 127.0.0.1:8080 at 0x1>". */
  toString(): string {
    const ctor = this.constructor as typeof dispatcher;
    const module = Object.prototype.hasOwnProperty.call(ctor, '__module__') ? ctor.__module__ : undefined;
    const status = [module ? `${module}.${ctor.name}` : ctor.name];
    if (this.accepting && this.addr) status.push('listening');
    else if (this.connected) status.push('connected');
    if (this.addr !== null && this.addr !== undefined) status.push(formatAddress(this.addr));
    return `<${status.join(' ')} at 0x${this.objectNumber.toString(16)}>`;
  }

  /** What console.log() and util.inspect() show: toString(). */
  [util.inspect.custom](): string {
    return this.toString();
  }

  /** Registers the dispatcher in `map` (default its own) under its fd; a waiting pass sees it at once. */
  add_channel(map?: SocketMap | null): void {
    const target = channelMap('add_channel', map, this._map);
    const fd = this._fileno as number;
    const before = target.get(fd);
    target.set(fd, this);
    // The map's passes learn of the new channel from here: a waiting pass
    // sees it at once, and one with interest on change asks it.
    channelJoined(target, fd, this, before);
  }

  /** Removes the dispatcher from `map` (default its own); close() calls it. */
  del_channel(map?: SocketMap | null): void {
    const fd = this._fileno;
    const target = channelMap('del_channel', map, this._map);
    if (fd !== null && target.has(fd)) {
      const before = target.get(fd)!;
      target.delete(fd);
      channelRemoved(target, fd, before);
    }
    this._fileno = null;
  }

  /**
   * Creates a non-blocking socket of `family` (default AF_INET) and `type`
   * (default SOCK_STREAM) and registers the dispatcher under its fd.
   */
  create_socket(family: number = AF_INET, type: number = SOCK_STREAM): void {
    this.family_and_type = [family, type];
    const sock = new socket(family, type);
    sock.setblocking(false);
    this.set_socket(sock as S);
  }

  /** Makes `sock` the dispatcher's socket and registers it in `map` (default its own). */
  set_socket(sock: S, map?: SocketMap | null): void {
    if (typeof (sock as { fileno?: unknown } | null)?.fileno !== 'function') {
      throw new TypeError(`set_socket(): sock must be a socket, not ${describe(sock)}`);
    }
    this.socket = sock;
    this._fileno = sock.fileno();
    this.add_channel(map);
  }

  /** Tries to re-use a server port if possible. */
  set_reuse_addr(): void {
    const sock = this._socketFor('set_reuse_addr', 'setsockopt') as socket;
    try {
      sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, (sock.getsockopt(SOL_SOCKET, SO_REUSEADDR) as number) | 1);
    } catch (err) {
      if (!(err instanceof OSError)) throw err;
    }
  }

  /**
   * The socket a method is about to call `method` on. Where Python fails
   * with an AttributeError (no socket yet: None has no recv), this names
   * the method and what is missing.
   */
  private _socketFor(caller: string, method: string = caller): S {
    const sock = this.socket;
    if (sock === null || sock === undefined) {
      throw new TypeError(`${caller}(): the dispatcher has no socket yet (create_socket() or set_socket() first)`);
    }
    if (typeof Reflect.get(sock, method) !== 'function') {
      throw new TypeError(`${caller}(): the dispatcher's socket has no ${method}(): ${describe(sock)}`);
    }
    return sock;
  }

  // Predicates for the interest set of a pass.

  /**
   * Whether the loop should watch for reading; asked before every pass.
   * Default true. Override it to stop reading (when your buffers are full,
   * say).
   */
  readable(): boolean {
    return true;
  }

  /**
   * Whether the loop should watch for writing; asked before every pass.
   * Default true; override it to return true only while there is something
   * to send, or the loop will call handle_write() on every pass. A change
   * made outside a handler by other means than the package's methods needs
   * {@link wake}.
   */
  writable(): boolean {
    return true;
  }

  // Socket methods.

  /** Listens for connections, with a backlog of `num`; then handle_accepted() gets each. */
  listen(num: number): void {
    // Each method that changes the channel's state tells the map's passes
    // (interest on change asks the channel again; a waiting pass wakes).
    const sock = this._socketFor('listen') as socket;
    channelChanged(this._map, this);
    this.accepting = true;
    sock.listen(num);
  }

  /** Binds the socket to `addr` (['127.0.0.1', 8080], or a path for AF_UNIX) and keeps it in `addr`. */
  bind(addr: Address): void {
    const sock = this._socketFor('bind') as socket;
    this.addr = addr;
    sock.bind(addr);
  }

  /**
   * Starts connecting to `address`; handle_connect() runs once the
   * connection is made (at once if it completes at once). A refused
   * connection shows as an error in the pass (handle_error()), or here
   * when the kernel says so at once. Errors in the address name connect().
   */
  connect(address: Address): void {
    const sock = this._socketFor('connect', '_connect_ex') as socket;
    channelChanged(this._map, this);
    this.connected = false;
    this.connecting = true;
    const err = sock._connect_ex(address, 'connect');
    if (err === E.EINPROGRESS || err === E.EALREADY || err === E.EWOULDBLOCK) {
      this.addr = address;
      return;
    }
    if (err === 0 || err === E.EISCONN) {
      this.addr = address;
      this.handle_connect_event();
    } else {
      throw errorFromErrno(err, errorcode(err));
    }
  }

  /** [socket, address] of a new connection, or null when there was none after all. */
  accept(): [socket, Address] | null {
    const sock = this._socketFor('accept') as socket;
    channelChanged(this._map, this);
    try {
      // The package's own socket says "would block" without an exception;
      // a subclass that overrides accept() is called as Python calls it.
      const accepted = sock.accept === socket.prototype.accept ? sock._tryAccept() : sock.accept();
      if (accepted === null) return null;
      const [conn, addr] = accepted;
      return [conn, addr as Address];
    } catch (err) {
      if (err instanceof OSError && (err.errno === E.EWOULDBLOCK || err.errno === E.ECONNABORTED || err.errno === E.EAGAIN)) {
        return null;
      }
      throw err;
    }
  }

  /** Bytes sent; 0 when the socket would block or the peer is gone (then handle_close() ran). */
  send(data: Uint8Array): number {
    // A named property, not _socketFor()'s lookup by name: this runs per event.
    const sock = typeof this.socket?.send === 'function' ? this.socket! : this._socketFor('send');
    channelChanged(this._map, this);
    try {
      // The package's own socket says "would block" with -1, not with an
      // exception; another send() (a subclass's, a file_wrapper's) is
      // called as Python calls it.
      if (sock.send === socket.prototype.send) {
        const sent = (sock as socket)._trySend(data);
        return sent < 0 ? 0 : sent;
      }
      return sock.send(data);
    } catch (err) {
      if (err instanceof OSError && (err.errno === E.EWOULDBLOCK || err.errno === E.EAGAIN)) return 0;
      if (isDisconnected(err)) {
        this.handle_close();
        return 0;
      }
      throw err;
    }
  }

  /** Up to buffer_size bytes; an empty Buffer when the peer closed (then handle_close() ran). */
  recv(buffer_size: number): Buffer {
    return this._read(buffer_size, false)!;
  }

  /**
   * recv() that answers null where recv() raises BlockingIOError (nothing
   * to read yet), for asynchat's handle_read(), which Python makes catch
   * that error: an empty socket ends many a read, and an exception costs
   * more than the read. A socket other than the package's (a subclass's
   * recv(), a file_wrapper) is read as recv() reads it.
   * @internal
   */
  _tryRecv(buffer_size: number): Buffer | null {
    return this._read(buffer_size, true);
  }

  /** recv() (orNull: _tryRecv()): a closed or reset connection calls handle_close() and reads as empty. */
  private _read(buffer_size: number, orNull: boolean): Buffer | null {
    const sock = typeof this.socket?.recv === 'function' ? this.socket! : this._socketFor('recv');
    try {
      const data = orNull && sock.recv === socket.prototype.recv ? (sock as socket)._tryRecv(buffer_size) : sock.recv(buffer_size);
      if (data === null) return null;
      if (data.length === 0) {
        // A closed connection shows as a read event with nothing to read.
        this.handle_close();
        return EMPTY_BUFFER;
      }
      return data;
    } catch (err) {
      if (isDisconnected(err)) {
        this.handle_close();
        return EMPTY_BUFFER;
      }
      throw err;
    }
  }

  /** Removes the dispatcher from its map and closes the socket; the loop ends when the map is empty. */
  close(): void {
    this.connected = false;
    this.accepting = false;
    this.connecting = false;
    this.del_channel();
    if (this.socket !== null) {
      const sock = this._socketFor('close');
      try {
        sock.close();
      } catch (err) {
        if (!(err instanceof OSError && (err.errno === E.ENOTCONN || err.errno === E.EBADF))) throw err;
      }
    }
  }

  // log is for 'hit' logging, log_info for informational, warning and
  // error logging; either may be overridden.

  /** Writes "log: message" to stderr; for hit logging. Override to send it elsewhere. */
  log(message: unknown): void {
    process.stderr.write(`log: ${textOf(message)}\n`);
  }

  /**
   * Writes "type: message" to stdout unless `type` is in ignore_log_types
   * (warnings are, by default). The package's own messages come through
   * here ('unhandled read event', handle_error()'s traceback): override it
   * to route them to your logger.
   */
  log_info(message: unknown, type = 'info'): void {
    if (!setsIgnore(this.ignore_log_types, type)) process.stdout.write(`${textOf(type)}: ${textOf(message)}\n`);
  }

  /**
   * Called by the loop when the socket is readable: handle_accept() when
   * listening, else (completing a connect first) handle_read(). Override
   * the handle_* methods below rather than this.
   */
  handle_read_event(): void {
    if (this.accepting) {
      // Accepting sockets are never connected; they spawn sockets that are.
      this.handle_accept();
    } else if (!this.connected) {
      if (this.connecting) this.handle_connect_event();
      this.handle_read();
    } else {
      this.handle_read();
    }
  }

  /** Completes a connect: raises its error if it failed (SO_ERROR), else calls handle_connect() and sets `connected`. */
  handle_connect_event(): void {
    const err = this._socketFor('handle_connect_event', 'getsockopt').getsockopt(SOL_SOCKET, SO_ERROR) as number;
    if (err !== 0) throw errorFromErrno(err, _strerror(err));
    this.handle_connect();
    this.connected = true;
    this.connecting = false;
  }

  /** Called by the loop when the socket is writable: completes a connect, then handle_write(). */
  handle_write_event(): void {
    // Accepting sockets get no write event; pretend it did not happen.
    if (this.accepting) return;
    if (!this.connected && this.connecting) this.handle_connect_event();
    this.handle_write();
  }

  /** Called by the loop on an exceptional condition: handle_close() for a socket error, else handle_expt(). */
  handle_expt_event(): void {
    // An exceptional condition is an error on the socket, or OOB data.
    const err = this._socketFor('handle_expt_event', 'getsockopt').getsockopt(SOL_SOCKET, SO_ERROR) as number;
    if (err !== 0) {
      // Close, as a handle_read() that received no data would.
      this.handle_close();
    } else {
      this.handle_expt();
    }
  }

  /**
   * Called with the error a handler threw (anything but ExitNow). By
   * default it logs a compact traceback through log_info() and closes the
   * channel; override it to keep the channel, or to rethrow (which rejects
   * loop()).
   *
   * Differs from Python: the error is passed in (JavaScript has no
   * sys.exc_info()).
   */
  handle_error(err: unknown): void {
    const [, t, v, tbinfo] = compact_traceback(err);
    let selfRepr: string;
    // A user's toString() may throw, too.
    try {
      selfRepr = String(this);
    } catch {
      selfRepr = `<__repr__(self) failed for object at 0x${this.objectNumber.toString(16)}>`;
    }
    this.log_info(`uncaptured python exception, closing channel ${selfRepr} (${t}:${v} ${tbinfo})`, 'error');
    this.handle_close();
  }

  /** Called for urgent (out-of-band) data. Default: logs 'unhandled incoming priority event'. */
  handle_expt(): void {
    this.log_info('unhandled incoming priority event', 'warning');
  }

  /**
   * Called when data has arrived: read it with recv(). An empty read means
   * the peer closed, and recv() has called handle_close() already.
   * Default: logs 'unhandled read event'.
   *
   * @example
   * ```ts
   * override handle_read(): void {
   *   const data = this.recv(8192);
   *   if (data.length > 0) this.send(data);
   * }
   * ```
   */
  handle_read(): void {
    this.log_info('unhandled read event', 'warning');
  }

  /**
   * Called when the socket can send and writable() returned true: send()
   * what is pending. Default: logs 'unhandled write event'.
   */
  handle_write(): void {
    this.log_info('unhandled write event', 'warning');
  }

  /** Called once an outgoing connection is made. Default: logs 'unhandled connect event'. */
  handle_connect(): void {
    this.log_info('unhandled connect event', 'warning');
  }

  /** Called on a listening socket with a connection waiting: accept()s it and calls handle_accepted(). */
  handle_accept(): void {
    const pair = this.accept();
    if (pair !== null) this.handle_accepted(pair[0], pair[1]);
  }

  /**
   * Called with each new connection of a listening dispatcher: `sock`, a
   * connected socket, and the peer's address. Wrap it in a dispatcher of
   * your own. Default: closes it and logs 'unhandled accepted event'.
   *
   * @example
   * ```ts
   * override handle_accepted(sock: socket, addr: asyncore.Address): void {
   *   new EchoHandler(sock, this._map);
   * }
   * ```
   */
  handle_accepted(sock: socket, _addr: Address): void {
    if (typeof (sock as { close?: unknown } | null)?.close !== 'function') {
      throw new TypeError(`handle_accepted(): sock must be a socket, not ${describe(sock)}`);
    }
    sock.close();
    this.log_info('unhandled accepted event', 'warning');
  }

  /**
   * Called when the peer has closed the connection (or it failed). Default:
   * logs 'unhandled close event' and close()s; override it to clean up, and
   * call close().
   */
  handle_close(): void {
    this.log_info('unhandled close event', 'warning');
    this.close();
  }
}

/**
 * A dispatcher whose send() buffers: what the socket does not take at once
 * is kept in out_buffer and sent as the socket becomes writable. For
 * simple clients and echo servers; asynchat's async_chat does more.
 *
 * @example
 * ```ts
 * class EchoHandler extends asyncore.dispatcher_with_send {
 *   override handle_read(): void {
 *     const data = this.recv(8192);
 *     if (data.length > 0) this.send(data);
 *   }
 * }
 * ```
 */
export class dispatcher_with_send extends dispatcher {
  static override __module__: string | undefined = 'asyncore';

  /** What send() has buffered and the socket has not taken yet. */
  out_buffer: Buffer = EMPTY_BUFFER;

  /** As {@link dispatcher}'s constructor. */
  constructor(sock?: socket | null, map?: SocketMap | null) {
    super(sock, map);
  }

  /** Sends from out_buffer what the socket takes now (at most 64 KiB per call). */
  initiate_send(): void {
    // super.send() tells the map's passes.
    const out = this.out_buffer;
    const sent = super.send(out.length > SEND_CHUNK ? out.subarray(0, SEND_CHUNK) : out);
    this.out_buffer = sent >= out.length ? EMPTY_BUFFER : out.subarray(sent);
  }

  /** Sends more of out_buffer (initiate_send()). */
  override handle_write(): void {
    this.initiate_send();
  }

  /** True while out_buffer holds data, or while not yet connected. */
  override writable(): boolean {
    return !this.connected || this.out_buffer.length > 0;
  }

  /** Buffers data and sends what the socket takes now; the rest goes as it becomes writable. */
  override send(data: Uint8Array): number {
    checkBytes('send(): data', data);
    channelChanged(this._map, this);
    if (this.debug) this.log_info(`sending ${util.inspect(Buffer.from(data))}`);
    if (this.out_buffer.length === 0) {
      // The common case, an echo: send the caller's bytes as they are and
      // copy only what the socket did not take, which the caller may reuse.
      const view = asBuffer(data);
      this.out_buffer = view;
      this.initiate_send();
      if (this.out_buffer.length > 0 && this.out_buffer.buffer === view.buffer) {
        this.out_buffer = Buffer.from(this.out_buffer);
      }
    } else {
      this.out_buffer = Buffer.concat([this.out_buffer, data]);
      this.initiate_send();
    }
    return data.length;
  }
}

// ---------------------------------------------------------------------------
// Asynchronous file I/O: pipes, ttys and the like, as sockets.
// ---------------------------------------------------------------------------

/** Python's NotImplementedError. */
export class NotImplementedError extends Error {
  /** An error with `message` (any value, as Python's str() of it). */
  constructor(message?: unknown) {
    super(message === undefined ? undefined : textOf(message));
  }

  /** 'NotImplementedError'. */
  override get name(): string {
    return 'NotImplementedError';
  }
}

/** Closes the fd of a file_wrapper that was dropped unclosed (Python's __del__). */
const unclosedFiles = new FinalizationRegistry<number>((fd) => {
  process.emitWarning(`unclosed file <asyncore.file_wrapper fd=${fd}>`, 'ResourceWarning');
  try {
    posix.close(fd);
  } catch {
    // Nothing to report to: the wrapper is gone.
  }
});

/** Just enough of a socket, over a plain fd, for a dispatcher. The fd given is dup()ed. */
export class file_wrapper {
  /** The wrapper's own fd (a dup of the one given); -1 once closed. */
  fd: number;

  /** Wraps a dup() of `fd`; the caller keeps (and closes) its own fd. */
  constructor(fd: number) {
    this.fd = posix.dup(fd);
    unclosedFiles.register(this, this.fd, this);
  }

  /** Up to n bytes read from the fd (os.read); empty at end of file. */
  recv(n: number): Buffer {
    return posix.read(this.fd, n);
  }

  /** As recv(). */
  read(n: number): Buffer {
    return this.recv(n);
  }

  /** Writes data to the fd (os.write); the number of bytes written. */
  send(data: Uint8Array): number {
    return posix.write(this.fd, data);
  }

  /** As send(). */
  write(data: Uint8Array): number {
    return this.send(data);
  }

  /** Only getsockopt(SOL_SOCKET, SO_ERROR), which is 0, as asyncore needs; else NotImplementedError. */
  getsockopt(level: number, optname: number, buflen?: number): number {
    if (level === SOL_SOCKET && optname === SO_ERROR && !buflen) return 0;
    throw new NotImplementedError('Only asyncore specific behaviour implemented.');
  }

  /** Closes the fd; later calls do nothing. */
  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    unclosedFiles.unregister(this);
    posix.close(fd);
  }

  /** The fd, or -1 once closed. */
  fileno(): number {
    return this.fd;
  }
}

/** A dispatcher over a plain fd (a pipe, a tty); the fd is dup()ed and made non-blocking. */
export class file_dispatcher extends dispatcher<file_wrapper> {
  static override __module__: string | undefined = 'asyncore';

  /** A dispatcher over a dup() of `fd` (a number, or an object with fileno()), in `map`. */
  constructor(fd: number | { fileno(): number }, map?: SocketMap | null) {
    super(null, map);
    this.connected = true;
    const number = typeof fd === 'object' && fd !== null && typeof fd.fileno === 'function' ? fd.fileno() : fd;
    this.set_file(number as number);
    posix.set_blocking(number as number, false);
  }

  /** Wraps a dup() of `fd` in a file_wrapper and registers the dispatcher under it. */
  set_file(fd: number): void {
    this.socket = new file_wrapper(fd);
    this._fileno = this.socket.fileno();
    this.add_channel();
  }
}
