// Python's asyncore (Lib/asyncore.py, CPython 3.11), name for name: the
// dispatcher classes, the socket map and the loop. The passes themselves
// (interest set, native poller, dispatch order) live in asyncore/reactor.ts.
//
// Where JavaScript forces a difference (README.md, "Porting from Python"):
// loop(), poll() and poll2() return Promises and wait on the native worker
// thread; handle_error() receives the error; toString() replaces repr().
// Imported, not the global: globalThis.Buffer is a getter on every use.
import { Buffer } from 'node:buffer';
import { constants as osConstants } from 'node:os';
import * as util from 'node:util';
import { describe, describeErrno, errorFromErrno, OSError } from './errors';
import { asBuffer, EMPTY_BUFFER } from './bytes';
import * as posix from './posix';
import { AF_INET, SO_ERROR, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET, socket } from './socket';
import { checkBoolean, checkBytes, checkTimeout } from './validate';
import { ExitNow, isDisconnected } from './asyncore/handlers';
import type { Channel, SocketMap } from './asyncore/handlers';
import { channelChanged, channelRemoved, kindOf, mapChanged, stateOf, timeoutToMs, wakeMap } from './asyncore/reactor';
import type { Backend } from './asyncore/reactor';
import { compact_traceback } from './asyncore/traceback';

export { _exception, ExitNow, read, readwrite, write } from './asyncore/handlers';
export type { Channel, SocketMap } from './asyncore/handlers';
export type { Backend } from './asyncore/reactor';
export { compact_traceback } from './asyncore/traceback';
export type { CompactTraceback } from './asyncore/traceback';

const E = osConstants.errno;

/** dispatcher_with_send sends at most this much per call, as Python does. */
const SEND_CHUNK = 65536;

export type Address =
  | [host: string, port: number]
  | [host: string, port: number, flowinfo?: number, scope_id?: number]
  | string;

/** The map every dispatcher and loop uses unless given another. */
export const socket_map: SocketMap = new Map();

/** os.strerror(err), or a fallback for numbers that are no errno. */
export function _strerror(err: number): string {
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
function channelMap(map: unknown, own: SocketMap): SocketMap {
  return map === undefined || map === null ? own : checkMap('map', map);
}

/** A timeout in seconds: a number >= 0, or null for "wait forever". */
function checkSeconds(name: string, value: unknown, fallback: number): number | null {
  return value === undefined ? fallback : checkTimeout(name, value);
}

function checkCount(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`count must be a number or null, not ${describe(value)}`);
  }
  return value;
}

/** How a loop reads readable() and writable(): every pass (CPython), or on change. */
export type Interest = 'every_pass' | 'on_change';

function checkInterest(value: unknown): Interest {
  if (value === undefined || value === null) return 'every_pass';
  if (value === 'every_pass' || value === 'on_change') return value;
  if (typeof value !== 'string') throw new TypeError(`loop() interest must be a string, not ${describe(value)}`);
  throw new RangeError(`loop() interest must be 'every_pass' or 'on_change', got ${describe(value)}`);
}

function checkBackend(value: unknown, usePoll: boolean): Backend {
  if (value === undefined || value === null) return usePoll ? 'poll' : 'select';
  if (value === 'select' || value === 'poll' || value === 'epoll') return value;
  if (typeof value !== 'string') throw new TypeError(`backend must be a string, not ${describe(value)}`);
  throw new RangeError(`backend must be 'select', 'poll' or 'epoll', got ${describe(value)}`);
}

export interface LoopOptions {
  /** Seconds each pass may wait; default 30; null waits until something is ready. */
  timeout?: number | null;
  /** Use poll() rather than select(); default false. */
  use_poll?: boolean;
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

function loopArguments(args: unknown[]): LoopArguments {
  const [first] = args;
  if (args.length === 1 && typeof first === 'object' && first !== null) {
    const options = first as Record<string, unknown>;
    for (const key of Object.keys(options)) {
      if (!['timeout', 'use_poll', 'map', 'count', 'backend', 'interest'].includes(key)) {
        throw new TypeError(`loop() got an unexpected option ${describe(key)}`);
      }
    }
    const usePoll = options.use_poll === undefined ? false : checkBoolean('use_poll', options.use_poll);
    return {
      timeout: checkSeconds('timeout', options.timeout, 30),
      map: checkMap('map', options.map),
      count: checkCount(options.count),
      backend: checkBackend(options.backend, usePoll),
      interest: checkInterest(options.interest),
    };
  }
  const [timeout, usePoll, map, count] = args;
  return {
    timeout: checkSeconds('timeout', timeout, 30),
    map: checkMap('map', map),
    count: checkCount(count),
    backend: checkBackend(undefined, usePoll === undefined ? false : checkBoolean('use_poll', usePoll)),
    interest: 'every_pass',
  };
}

/**
 * Runs passes over map until it is empty, or `count` passes are done.
 * Resolves then; rejects with ExitNow (or any error a handle_error() let
 * through). A second loop() over a map that has one running rejects.
 */
export function loop(options: LoopOptions): Promise<void>;
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

async function singlePass(backend: Backend, timeout: unknown, mapArg: unknown): Promise<void> {
  const seconds = checkSeconds('timeout', timeout, 0);
  const map = checkMap('map', mapArg);
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
  return singlePass('select', timeout, map);
}

/** One poll() pass over map (default socket_map), waiting at most timeout seconds (default 0). */
export function poll2(timeout?: number | null, map?: SocketMap | null): Promise<void> {
  return singlePass('poll', timeout, map);
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
  const target = checkMap('map', map);
  if (channel === undefined) {
    wakeMap(target);
    return;
  }
  if (typeof channel !== 'object' || channel === null || typeof channel.readable !== 'function' ||
      typeof channel.writable !== 'function') {
    throw new TypeError(`wake() channel must be a channel (with readable() and writable()), not ${describe(channel)}`);
  }
  channelChanged(target, channel);
}

export function close_all(map?: SocketMap | null, ignore_all = false): void {
  const target = checkMap('map', map);
  for (const x of [...target.values()]) {
    try {
      (x as unknown as { close(): void }).close();
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

/** What a dispatcher's `socket` may be: a socket, or a file_wrapper. */
export type DispatcherSocket = socket | file_wrapper;

/** Per-object numbers for toString()'s "at 0xN" (JavaScript has no id()). */
let lastObjectNumber = 0;

/** Python's repr() of an address, for toString(). */
function reprAddress(addr: unknown): string {
  if (typeof addr === 'string') return reprString(addr);
  if (Array.isArray(addr)) {
    const items = addr.map((item) => (typeof item === 'string' ? reprString(item) : String(item)));
    return `(${items.join(', ')}${items.length === 1 ? ',' : ''})`;
  }
  return String(addr);
}

const NAMED_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Python's repr() of a str: single quotes unless it holds one and no double quote. */
function reprString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let body = '';
  for (const c of text) {
    const code = c.charCodeAt(0);
    if (NAMED_ESCAPES[c] !== undefined) body += NAMED_ESCAPES[c];
    else if (code < 0x20 || code === 0x7f) body += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (c === quote) body += `\\${c}`;
    else body += c;
  }
  return quote + body + quote;
}

/** Python's `'%s:%d' % addr`, which only fits a (host, port) pair. */
function formatAddress(addr: unknown): string {
  if (Array.isArray(addr) && addr.length === 2 && typeof addr[1] === 'number') {
    return `${String(addr[0])}:${Math.trunc(addr[1])}`;
  }
  return reprAddress(addr);
}

function setsIgnore(types: unknown, type: string): boolean {
  if (types instanceof Set) return types.has(type);
  if (Array.isArray(types)) return types.includes(type);
  return false;
}

export class dispatcher<S extends DispatcherSocket = socket> implements Channel {
  /**
   * The module shown by toString() before the class name. Subclasses
   * defined elsewhere show their bare class name (there is no __module__
   * in JavaScript); a package module sets its own (asynchat.async_chat).
   */
  static __module__: string | undefined = 'asyncore';

  debug = false;
  connected = false;
  accepting = false;
  connecting = false;
  closing = false;
  addr: Address | null = null;
  socket: S | null = null;
  ignore_log_types: Set<string> = new Set(['warning']);
  _fileno: number | null = null;
  _map: SocketMap;
  family_and_type?: [number, number];
  private readonly objectNumber = ++lastObjectNumber;

  constructor(sock?: socket | null, map?: SocketMap | null) {
    this._map = checkMap('map', map);
    if (sock !== null && sock !== undefined) {
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

  toString(): string {
    const ctor = this.constructor as typeof dispatcher;
    const module = Object.prototype.hasOwnProperty.call(ctor, '__module__') ? ctor.__module__ : undefined;
    const status = [module ? `${module}.${ctor.name}` : ctor.name];
    if (this.accepting && this.addr) status.push('listening');
    else if (this.connected) status.push('connected');
    if (this.addr !== null && this.addr !== undefined) status.push(formatAddress(this.addr));
    return `<${status.join(' ')} at 0x${this.objectNumber.toString(16)}>`;
  }

  [util.inspect.custom](): string {
    return this.toString();
  }

  add_channel(map?: SocketMap | null): void {
    const target = channelMap(map, this._map);
    target.set(this._fileno as number, this);
    // A pass waiting over the map must see the new channel (a loop with
    // interest on change learns of it from the map itself).
    mapChanged(target);
  }

  del_channel(map?: SocketMap | null): void {
    const fd = this._fileno;
    const target = channelMap(map, this._map);
    if (fd !== null && target.has(fd)) {
      target.delete(fd);
      channelRemoved(target, fd);
    }
    this._fileno = null;
  }

  create_socket(family: number = AF_INET, type: number = SOCK_STREAM): void {
    this.family_and_type = [family, type];
    const sock = new socket(family, type);
    sock.setblocking(false);
    this.set_socket(sock as S);
  }

  set_socket(sock: S, map?: SocketMap | null): void {
    this.socket = sock;
    this._fileno = sock.fileno();
    this.add_channel(map);
  }

  /** Tries to re-use a server port if possible. */
  set_reuse_addr(): void {
    const sock = this.socket as socket;
    try {
      sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, (sock.getsockopt(SOL_SOCKET, SO_REUSEADDR) as number) | 1);
    } catch (err) {
      if (!(err instanceof OSError)) throw err;
    }
  }

  // Predicates for the interest set of a pass.

  readable(): boolean {
    return true;
  }

  writable(): boolean {
    return true;
  }

  // Socket methods.

  listen(num: number): void {
    // Each method that changes the channel's state tells the map's passes
    // (interest on change asks the channel again; a waiting pass wakes).
    channelChanged(this._map, this);
    this.accepting = true;
    (this.socket as socket).listen(num);
  }

  bind(addr: Address): void {
    this.addr = addr;
    (this.socket as socket).bind(addr);
  }

  connect(address: Address): void {
    channelChanged(this._map, this);
    this.connected = false;
    this.connecting = true;
    const err = (this.socket as socket)._connect_ex(address, 'connect');
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
    channelChanged(this._map, this);
    try {
      const [conn, addr] = (this.socket as socket).accept();
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
    channelChanged(this._map, this);
    try {
      return (this.socket as DispatcherSocket).send(data);
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
    try {
      const data = (this.socket as DispatcherSocket).recv(buffer_size);
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

  close(): void {
    this.connected = false;
    this.accepting = false;
    this.connecting = false;
    this.del_channel();
    if (this.socket !== null) {
      try {
        this.socket.close();
      } catch (err) {
        if (!(err instanceof OSError && (err.errno === E.ENOTCONN || err.errno === E.EBADF))) throw err;
      }
    }
  }

  // log is for 'hit' logging, log_info for informational, warning and
  // error logging; either may be overridden.

  log(message: unknown): void {
    process.stderr.write(`log: ${String(message)}\n`);
  }

  log_info(message: unknown, type = 'info'): void {
    if (!setsIgnore(this.ignore_log_types, type)) process.stdout.write(`${type}: ${String(message)}\n`);
  }

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

  handle_connect_event(): void {
    const err = (this.socket as DispatcherSocket).getsockopt(SOL_SOCKET, SO_ERROR) as number;
    if (err !== 0) throw errorFromErrno(err, _strerror(err));
    this.handle_connect();
    this.connected = true;
    this.connecting = false;
  }

  handle_write_event(): void {
    // Accepting sockets get no write event; pretend it did not happen.
    if (this.accepting) return;
    if (!this.connected && this.connecting) this.handle_connect_event();
    this.handle_write();
  }

  handle_expt_event(): void {
    // An exceptional condition is an error on the socket, or OOB data.
    const err = (this.socket as DispatcherSocket).getsockopt(SOL_SOCKET, SO_ERROR) as number;
    if (err !== 0) {
      // Close, as a handle_read() that received no data would.
      this.handle_close();
    } else {
      this.handle_expt();
    }
  }

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

  handle_expt(): void {
    this.log_info('unhandled incoming priority event', 'warning');
  }

  handle_read(): void {
    this.log_info('unhandled read event', 'warning');
  }

  handle_write(): void {
    this.log_info('unhandled write event', 'warning');
  }

  handle_connect(): void {
    this.log_info('unhandled connect event', 'warning');
  }

  handle_accept(): void {
    const pair = this.accept();
    if (pair !== null) this.handle_accepted(pair[0], pair[1]);
  }

  handle_accepted(sock: socket, _addr: Address): void {
    sock.close();
    this.log_info('unhandled accepted event', 'warning');
  }

  handle_close(): void {
    this.log_info('unhandled close event', 'warning');
    this.close();
  }
}

/** A dispatcher with buffered output, for simple clients (see asynchat for more). */
export class dispatcher_with_send extends dispatcher {
  static override __module__: string | undefined = 'asyncore';

  out_buffer: Buffer = EMPTY_BUFFER;

  constructor(sock?: socket | null, map?: SocketMap | null) {
    super(sock, map);
  }

  initiate_send(): void {
    // super.send() tells the map's passes.
    const out = this.out_buffer;
    const sent = super.send(out.length > SEND_CHUNK ? out.subarray(0, SEND_CHUNK) : out);
    this.out_buffer = sent >= out.length ? EMPTY_BUFFER : out.subarray(sent);
  }

  override handle_write(): void {
    this.initiate_send();
  }

  override writable(): boolean {
    return !this.connected || this.out_buffer.length > 0;
  }

  /** Buffers data and sends what the socket takes now; the rest goes as it becomes writable. */
  override send(data: Uint8Array): number {
    checkBytes('data', data);
    channelChanged(this._map, this);
    if (this.debug) this.log_info(`sending ${util.inspect(Buffer.from(data))}`);
    if (this.out_buffer.length === 0) {
      // The common case, an echo: send the caller's bytes as they are and
      // copy only what the socket did not take, which the caller may reuse.
      const view = asBuffer(data);
      this.out_buffer = view;
      this.initiate_send();
      if (this.out_buffer.buffer === view.buffer && this.out_buffer.length > 0) {
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
  fd: number;

  constructor(fd: number) {
    this.fd = posix.dup(fd);
    unclosedFiles.register(this, this.fd, this);
  }

  recv(n: number): Buffer {
    return posix.read(this.fd, n);
  }

  read(n: number): Buffer {
    return this.recv(n);
  }

  send(data: Uint8Array): number {
    return posix.write(this.fd, data);
  }

  write(data: Uint8Array): number {
    return this.send(data);
  }

  getsockopt(level: number, optname: number, buflen?: number): number {
    if (level === SOL_SOCKET && optname === SO_ERROR && !buflen) return 0;
    throw new NotImplementedError('Only asyncore specific behaviour implemented.');
  }

  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    unclosedFiles.unregister(this);
    posix.close(fd);
  }

  fileno(): number {
    return this.fd;
  }
}

/** A dispatcher over a plain fd (a pipe, a tty); the fd is dup()ed and made non-blocking. */
export class file_dispatcher extends dispatcher<file_wrapper> {
  static override __module__: string | undefined = 'asyncore';

  constructor(fd: number | { fileno(): number }, map?: SocketMap | null) {
    super(null, map);
    this.connected = true;
    const number = typeof fd === 'object' && fd !== null && typeof fd.fileno === 'function' ? fd.fileno() : fd;
    this.set_file(number as number);
    posix.set_blocking(number as number, false);
  }

  set_file(fd: number): void {
    this.socket = new file_wrapper(fd);
    this._fileno = this.socket.fileno();
    this.add_channel();
  }
}
