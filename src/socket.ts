/**
 * Python's socket module, the part asyncore uses: the {@link socket} class
 * over a raw fd, {@link socketpair}, the constants, and the errors. The
 * entry point `asyncore/socket`, also `socket` in the package root.
 *
 * Differs from Python: addresses are arrays (`['127.0.0.1', 80]`), bytes are
 * Buffer or Uint8Array, `ValueError` is `RangeError`, and `repr()` is
 * `toString()`. Blocking calls block the JavaScript thread, as in Python;
 * asyncore's dispatchers use non-blocking sockets, and `select()` waits
 * without blocking it.
 *
 * @see {@link https://docs.python.org/3.11/library/socket.html | Python 3.11's socket documentation}
 * @module
 */
// Python's socket module (the part asyncore uses): the socket class over a
// raw fd, socketpair, the constants and the errors. Behaviour follows
// CPython 3.11's Modules/socketmodule.c and Lib/socket.py.
// Imported, not the global: globalThis.Buffer is a getter on every use.
import { Buffer } from 'node:buffer';
import { constants as osConstants } from 'node:os';
import { performance } from 'node:perf_hooks';
import * as util from 'node:util';
import type { Address as AddressType } from './address';
import { binding as native, BLOCK_FOREVER, NON_BLOCKING, type SockaddrBuffer } from './binding';
import { constant } from './constants';
import { str } from './repr';
import { check, describe, errorFromErrno, gaierror, OSError, TimeoutError } from './errors';
import { readResult, readTarget } from './bytes';
import { checkPyTime } from './timer';
import { checkBytes, checkFd, checkFlag, checkInteger } from './validate';

export {
  OSError,
  BlockingIOError,
  ConnectionError,
  BrokenPipeError,
  ConnectionAbortedError,
  ConnectionRefusedError,
  ConnectionResetError,
  InterruptedError,
  TimeoutError,
  FileNotFoundError,
  PermissionError,
  gaierror,
} from './errors';

/** socket.error is OSError, socket.timeout is TimeoutError (Python 3.10+). */
export { OSError as error, TimeoutError as timeout } from './errors';

/**
 * An address as Python writes it: [host, port] for AF_INET, [host, port,
 * flowinfo?, scope_id?] for AF_INET6, a path for AF_UNIX ("\0name" is an
 * abstract name; a Uint8Array path is taken as raw bytes).
 */
export type Address = AddressType;

const E = osConstants.errno;


/** Address family: any (a getaddrinfo() hint). */
export const AF_UNSPEC = constant('AF_UNSPEC');
/** Address family: unix domain sockets; the address is a path (a leading "\0" makes an abstract name). */
export const AF_UNIX = constant('AF_UNIX');
/** Address family: IPv4; the address is [host, port]. */
export const AF_INET = constant('AF_INET');
/** Address family: IPv6; the address is [host, port, flowinfo?, scope_id?]. */
export const AF_INET6 = constant('AF_INET6');

/** Socket type: a stream (TCP for AF_INET/AF_INET6). */
export const SOCK_STREAM = constant('SOCK_STREAM');
/** Socket type: datagrams (UDP for AF_INET/AF_INET6). */
export const SOCK_DGRAM = constant('SOCK_DGRAM');
/** Socket type: raw network protocol access. */
export const SOCK_RAW = constant('SOCK_RAW');
/** Socket type: reliable, ordered datagrams with boundaries. */
export const SOCK_SEQPACKET = constant('SOCK_SEQPACKET');
/** Flag OR-ed into the type: create the socket non-blocking (its timeout is then 0). */
export const SOCK_NONBLOCK = constant('SOCK_NONBLOCK');
/** Flag OR-ed into the type: close-on-exec (every fd of this package is so anyway). */
export const SOCK_CLOEXEC = constant('SOCK_CLOEXEC');

/** Option level of the socket options (SO_*), for setsockopt()/getsockopt(). */
export const SOL_SOCKET = constant('SOL_SOCKET');
/** Option: allow bind() to a local address still in TIME_WAIT. */
export const SO_REUSEADDR = constant('SO_REUSEADDR');
/** Option (read only): the socket type. */
export const SO_TYPE = constant('SO_TYPE');
/** Option (read only): the pending error, cleared when read; how a non-blocking connect() reports its outcome. */
export const SO_ERROR = constant('SO_ERROR');
/** Option: allow sending to broadcast addresses. */
export const SO_BROADCAST = constant('SO_BROADCAST');
/** Option: the send buffer size in bytes. */
export const SO_SNDBUF = constant('SO_SNDBUF');
/** Option: the receive buffer size in bytes. */
export const SO_RCVBUF = constant('SO_RCVBUF');
/** Option: send TCP keep-alive probes. */
export const SO_KEEPALIVE = constant('SO_KEEPALIVE');
/** Option: receive out-of-band data inline. */
export const SO_OOBINLINE = constant('SO_OOBINLINE');
/** Option: how close() waits for unsent data (a struct linger, as bytes). */
export const SO_LINGER = constant('SO_LINGER');
/** Option: let several sockets bind the same address and port. */
export const SO_REUSEPORT = constant('SO_REUSEPORT');
/** Option: the minimum byte count for a read to be ready. */
export const SO_RCVLOWAT = constant('SO_RCVLOWAT');
/** Option: the minimum free space for a write to be ready. */
export const SO_SNDLOWAT = constant('SO_SNDLOWAT');
/**
 * Option: how long a blocking recv() waits before it fails with EAGAIN (a
 * struct timeval, as bytes; zero for ever). This socket's own timeout
 * (settimeout()) does not use it.
 */
export const SO_RCVTIMEO = constant('SO_RCVTIMEO');
/** Option: as SO_RCVTIMEO, for a blocking send(). */
export const SO_SNDTIMEO = constant('SO_SNDTIMEO');
/** Option (read only): whether the socket listens. */
export const SO_ACCEPTCONN = constant('SO_ACCEPTCONN');
/** Option (read only): the protocol. */
export const SO_PROTOCOL = constant('SO_PROTOCOL');
/** Option (read only): the address family. */
export const SO_DOMAIN = constant('SO_DOMAIN');
/** The largest listen() backlog the system takes by default. */
export const SOMAXCONN = constant('SOMAXCONN');

/** Protocol and option level: IP. */
export const IPPROTO_IP = constant('IPPROTO_IP');
/** Protocol and option level: TCP (TCP_NODELAY). */
export const IPPROTO_TCP = constant('IPPROTO_TCP');
/** Protocol: UDP. */
export const IPPROTO_UDP = constant('IPPROTO_UDP');
/** Protocol and option level: IPv6 (IPV6_V6ONLY). */
export const IPPROTO_IPV6 = constant('IPPROTO_IPV6');
/** Option at IPPROTO_TCP: send small segments at once (no Nagle delay). */
export const TCP_NODELAY = constant('TCP_NODELAY');
/** Option at IPPROTO_IPV6: an AF_INET6 socket takes IPv6 only, no IPv4-mapped addresses. */
export const IPV6_V6ONLY = constant('IPV6_V6ONLY');

/** send()/recv() flag: out-of-band (TCP urgent) data. */
export const MSG_OOB = constant('MSG_OOB');
/** recv() flag: look at the data without taking it. */
export const MSG_PEEK = constant('MSG_PEEK');
/** send() flag: do not route; the peer is on a local network. */
export const MSG_DONTROUTE = constant('MSG_DONTROUTE');
/** recv() flag: return the real length of a datagram that did not fit. */
export const MSG_TRUNC = constant('MSG_TRUNC');
/** send()/recv() flag: do not block, for this call only. */
export const MSG_DONTWAIT = constant('MSG_DONTWAIT');
/** send() flag: end of record (SOCK_SEQPACKET). */
export const MSG_EOR = constant('MSG_EOR');
/** recv() flag: wait for the full amount. */
export const MSG_WAITALL = constant('MSG_WAITALL');
/** send() flag: no SIGPIPE for a broken connection (this package sets it on every send). */
export const MSG_NOSIGNAL = constant('MSG_NOSIGNAL');
/** recvmsg() flag: control data (such as fds beyond maxfds) was cut short. */
export const MSG_CTRUNC = constant('MSG_CTRUNC');
/** Received fds are close-on-exec; recv_fds() always asks for it. */
export const MSG_CMSG_CLOEXEC = constant('MSG_CMSG_CLOEXEC');
/** The control message type that carries fds (send_fds(), recv_fds()). */
export const SCM_RIGHTS = constant('SCM_RIGHTS');
/** The most fds one message can carry on Linux (the kernel's SCM_MAX_FD). */
const MAX_FDS_PER_MESSAGE = 253;

/** shutdown(): no more receiving. */
export const SHUT_RD = constant('SHUT_RD');
/** shutdown(): no more sending (the peer reads end of file). */
export const SHUT_WR = constant('SHUT_WR');
/** shutdown(): neither. */
export const SHUT_RDWR = constant('SHUT_RDWR');

// getaddrinfo() error codes, the errno of a gaierror.
/** gaierror errno: bad flags. */
export const EAI_BADFLAGS = constant('EAI_BADFLAGS');
/** gaierror errno: the name is not known. */
export const EAI_NONAME = constant('EAI_NONAME');
/** gaierror errno: temporary failure in name resolution; try again. */
export const EAI_AGAIN = constant('EAI_AGAIN');
/** gaierror errno: non-recoverable failure in name resolution. */
export const EAI_FAIL = constant('EAI_FAIL');
/** gaierror errno: the name has no address. */
export const EAI_NODATA = constant('EAI_NODATA');
/** gaierror errno: address family not supported. */
export const EAI_FAMILY = constant('EAI_FAMILY');
/** gaierror errno: socket type not supported. */
export const EAI_SOCKTYPE = constant('EAI_SOCKTYPE');
/** gaierror errno: service not supported for the socket type. */
export const EAI_SERVICE = constant('EAI_SERVICE');
/** gaierror errno: the host has no address in the family. */
export const EAI_ADDRFAMILY = constant('EAI_ADDRFAMILY');
/** gaierror errno: out of memory. */
export const EAI_MEMORY = constant('EAI_MEMORY');
/** gaierror errno: a system error; the OSError itself is raised instead. */
export const EAI_SYSTEM = constant('EAI_SYSTEM');
/** gaierror errno: an argument buffer overflowed. */
export const EAI_OVERFLOW = constant('EAI_OVERFLOW');

const eaiNames = new Map<number, string>([
  [EAI_BADFLAGS, 'EAI_BADFLAGS'],
  [EAI_NONAME, 'EAI_NONAME'],
  [EAI_AGAIN, 'EAI_AGAIN'],
  [EAI_FAIL, 'EAI_FAIL'],
  [EAI_NODATA, 'EAI_NODATA'],
  [EAI_FAMILY, 'EAI_FAMILY'],
  [EAI_SOCKTYPE, 'EAI_SOCKTYPE'],
  [EAI_SERVICE, 'EAI_SERVICE'],
  [EAI_ADDRFAMILY, 'EAI_ADDRFAMILY'],
  [EAI_MEMORY, 'EAI_MEMORY'],
  [EAI_SYSTEM, 'EAI_SYSTEM'],
  [EAI_OVERFLOW, 'EAI_OVERFLOW'],
]);

/** Whether the kernel supports IPv6 sockets (CPython's is a build-time flag). */
export const has_ipv6: boolean = native.hasIpv6();

/** sizeof(sockaddr_un.sun_path) on Linux. */
const SUN_PATH_SIZE = 108;
/** Python's listen() default: min(SOMAXCONN, 128). */
const DEFAULT_BACKLOG = Math.min(SOMAXCONN, 128);

/** Timeout given to sockets when they are made (socket.setdefaulttimeout()). */
let defaultTimeout: number | null = null;

/**
 * A timeout in seconds as CPython's socket_parse_timeout() takes it: null
 * (blocking) or a finite number >= 0.
 */
function parseTimeout(caller: string, value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number') {
    throw new TypeError(`${caller}(): timeout must be a number of seconds or null, not ${describe(value)}`);
  }
  if (Number.isNaN(value)) throw new RangeError(`${caller}(): Invalid value NaN (not a number) for timeout`);
  if (value < 0) throw new RangeError(`${caller}(): Timeout value out of range: ${value}`);
  return checkPyTime(`${caller}(): timeout`, value);
}

/** The timeout new sockets get, in seconds; null (the default) makes them blocking. */
export function getdefaulttimeout(): number | null {
  return defaultTimeout;
}

/** The timeout new sockets get; null (the default) makes them blocking. */
export function setdefaulttimeout(timeout: number | null): void {
  defaultTimeout = parseTimeout('setdefaulttimeout', timeout);
}

/**
 * Milliseconds for the addon from a timeout in seconds (CPython rounds up);
 * the addon waits out one longer than poll() takes in several calls.
 */
function toMs(seconds: number): number {
  return Math.max(1, Math.ceil(seconds * 1000));
}

/** The addon's timeoutMs for a socket's timeout in seconds. */
function timeoutMsOf(timeout: number | null): number {
  if (timeout === null) return BLOCK_FOREVER;
  if (timeout === 0) return NON_BLOCKING;
  return toMs(timeout);
}

/** The size of a struct timeval, SO_RCVTIMEO's value: two longs on 64-bit Linux. */
const TIMEVAL_BYTES = 16;

/** A struct timeval of ms milliseconds (whole ones). */
function timeval(ms: number): Buffer {
  const value = Buffer.alloc(TIMEVAL_BYTES);
  value.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), 0);
  value.writeBigInt64LE(BigInt((ms % 1000) * 1000), 8);
  return value;
}

function timedOut(): TimeoutError {
  return new TimeoutError(null, 'timed out');
}

/**
 * What the socket constructor takes, after fileno, from acceptedSocket()
 * only: the fd is one this module has just accepted, so its family, type
 * and proto are known and the kernel is not asked. Not exported, so that a
 * user's fd is always checked.
 */
const ACCEPTED: unique symbol = Symbol('accepted');

/**
 * What the internal _try*() methods return where the public ones raise
 * BlockingIOError: EAGAIN (Linux's EWOULDBLOCK is the same number).
 */
const WOULD_BLOCK = -1;

/**
 * The error for a native result < 0. A wait that ran out of its timeout
 * comes back as -ETIMEDOUT and is Python's TimeoutError('timed out').
 */
function socketError(result: number, timeoutMs: number): OSError {
  if (result === -E.ETIMEDOUT && timeoutMs > 0) return timedOut();
  return errorFromErrno(-result);
}

function gaiError(code: number): gaierror {
  const err = new gaierror(code, native.gaiStrerror(code));
  // OSError looks code up as an errno; EAI codes have their own names.
  err.code = eaiNames.get(code);
  return err;
}

function checkPort(caller: string, port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port)) {
    throw new TypeError(`${caller}(): port must be an integer, not ${describe(port)}`);
  }
  if (port < 0 || port > 0xffff) {
    throw new RangeError(`${caller}(): port must be 0-65535. Got ${port}`);
  }
  return port;
}

function checkHost(caller: string, host: unknown): string {
  let name: string;
  if (typeof host === 'string') name = host;
  else if (host instanceof Uint8Array) name = Buffer.from(host).toString('latin1');
  else throw new TypeError(`${caller}(): host must be a string, not ${describe(host)}`);
  if (name.includes('\0')) {
    throw new TypeError(`${caller}(): host name must not contain null character: ${describe(host)}`);
  }
  return name;
}

/** CPython's setipaddr(): '' is the wildcard, '<broadcast>' INADDR_BROADCAST. */
function specialHost(family: number, host: string): string {
  if (host === '') return family === AF_INET6 ? '::' : '0.0.0.0';
  if (host === '<broadcast>') {
    if (family !== AF_INET) throw new OSError(null, 'address family mismatched');
    return '255.255.255.255';
  }
  return host;
}

function unixPath(caller: string, address: unknown): Buffer {
  let path: Buffer;
  if (typeof address === 'string') path = Buffer.from(address, 'utf8');
  else if (address instanceof Uint8Array) path = Buffer.from(address);
  else throw new TypeError(`${caller}(): AF_UNIX address must be a string path, not ${describe(address)}`);
  // An abstract name (leading NUL) or an empty path (autobind) may fill
  // sun_path; a file path needs room for its terminating NUL.
  const abstract = path.length === 0 || path[0] === 0;
  if (path.length > SUN_PATH_SIZE || (!abstract && path.length === SUN_PATH_SIZE)) {
    throw new OSError(null, `AF_UNIX path too long: ${describe(address)}`);
  }
  return path;
}

function resolved(result: SockaddrBuffer | number): SockaddrBuffer {
  if (typeof result !== 'number') return result;
  if (result < 0) throw errorFromErrno(-result);
  throw gaiError(native.GAI_ERROR_BASE - result);
}

/**
 * The kernel sockaddr for `address` in `family`, checked as CPython's
 * getsockaddrarg() checks it (TypeError for a wrong shape or type,
 * RangeError for a port or flowinfo out of range); names are resolved with
 * getaddrinfo (a failure is a gaierror). `type` is the socket type used as
 * a getaddrinfo hint; `caller` names the function in error messages. Other
 * modules use it to turn a Python-style address into what the addon takes.
 * @internal
 */
export function sockaddrFor(family: number, type: number, address: unknown, callerName: unknown = 'sockaddrFor'): SockaddrBuffer {
  const caller = typeof callerName === 'string' ? callerName : 'sockaddrFor';
  if (family === AF_UNIX) {
    return resolved(native.resolve(AF_UNIX, type, unixPath(caller, address), 0, 0, 0));
  }
  if (family === AF_INET) {
    if (!Array.isArray(address)) {
      throw new TypeError(`${caller}(): AF_INET address must be a [host, port] array, not ${describe(address)}`);
    }
    if (address.length !== 2) {
      throw new TypeError(`${caller}(): AF_INET address must be a pair [host, port], not ${describe(address)}`);
    }
    const host = specialHost(family, checkHost(caller, address[0]));
    const port = checkPort(caller, address[1]);
    return resolved(native.resolve(AF_INET, type, host, port, 0, 0));
  }
  if (family === AF_INET6) {
    if (!Array.isArray(address) || address.length < 2 || address.length > 4) {
      throw new TypeError(
        `${caller}(): AF_INET6 address must be an array [host, port, flowinfo?, scope_id?], not ${describe(address)}`,
      );
    }
    const host = specialHost(family, checkHost(caller, address[0]));
    const port = checkPort(caller, address[1]);
    const flowinfo = address[2] ?? 0;
    const scopeId = address[3] ?? 0;
    if (typeof flowinfo !== 'number' || !Number.isInteger(flowinfo)) {
      throw new TypeError(`${caller}(): flowinfo must be an integer, not ${describe(flowinfo)}`);
    }
    if (flowinfo < 0 || flowinfo > 0xfffff) {
      throw new RangeError(`${caller}(): flowinfo must be 0-1048575. Got ${flowinfo}`);
    }
    if (typeof scopeId !== 'number' || !Number.isInteger(scopeId)) {
      throw new TypeError(`${caller}(): scope_id must be an integer, not ${describe(scopeId)}`);
    }
    if (scopeId < 0 || scopeId > 0xffffffff) {
      throw new RangeError(`${caller}(): scope_id must be 0-4294967295. Got ${scopeId}`);
    }
    return resolved(native.resolve(AF_INET6, type, host, port, flowinfo, scopeId));
  }
  throw new OSError(null, `${caller}(): bad family ${describe(family)}`);
}

/** A family/type/proto argument: an int32, or -1 (the default) when absent. */
function optionalInt(name: string, value: unknown): number {
  if (value === undefined || value === null) return -1;
  return checkInteger(name, value);
}

function sockoptInt(fd: number, level: number, name: number): number {
  const out = new Int32Array(1);
  check(native.getsockoptInt(fd, level, name, out));
  return out[0];
}

function nativeAddress(result: Address | number): Address {
  if (typeof result === 'number') throw errorFromErrno(-result);
  return result as Address;
}

/** Python's str() of an address, for toString(). */

/**
 * Python's socket object over a raw fd: the same methods, arguments,
 * defaults and errors as CPython 3.11's. A socket is blocking unless given
 * a timeout (`settimeout()`, `setdefaulttimeout()`) or made non-blocking
 * (`setblocking(false)`, as asyncore's dispatchers do); a blocking call
 * blocks the JavaScript thread, as in Python. Every fd is close-on-exec
 * and sends never raise SIGPIPE.
 *
 * @example
 * ```ts
 * import { socket, AF_INET, SOCK_STREAM } from 'asyncore/socket';
 * const server = new socket(AF_INET, SOCK_STREAM);
 * server.bind(['127.0.0.1', 0]);
 * server.listen();
 * console.log(server.getsockname()); // [ '127.0.0.1', 40123 ]
 * server.close();
 * ```
 * @see {@link https://docs.python.org/3.11/library/socket.html#socket-objects | Python's socket objects}
 */
export class socket {
  private _fd: number;
  private _family: number;
  private _type: number;
  private _proto: number;
  /** Seconds; null blocks, 0 never waits (CPython's sock_timeout). */
  private _timeout: number | null;
  /** _timeout as the addon's timeoutMs, kept with it: every call passes it. */
  private _timeoutMs: number;
  /** Set by close() and detach(), for toString() as in Lib/socket.py. */
  private _closed = false;
  /**
   * Whether the package's SO_RCVTIMEO (_boundKernelReads()) is on this
   * socket: false again once the caller sets a receive timeout of its own.
   * @internal
   */
  _kernelReadBound = false;
  /**
   * _boundKernelReads() never sets the bound on this socket again: its fd
   * has been handed out (see fileno()), or the socket was found not
   * blocking or with a receive timeout of its own.
   */
  private _kernelBoundRefused = false;

  /**
   * acceptedSocket()'s: `fileno` was just accepted on a socket of this
   * family, type and proto, so the kernel is not asked.
   * @internal
   */
  constructor(family: number, type: number, proto: number, fileno: number, accepted: typeof ACCEPTED);
  /**
   * A new socket, or (with fileno) one that takes ownership of an open
   * socket fd, whose family, type and proto are read from the kernel when
   * not given.
   */
  // The public overload comes last: ConstructorParameters<typeof socket> reads the last one.
  constructor(family?: number | null, type?: number | null, proto?: number | null, fileno?: number | null);
  constructor(family?: number | null, type?: number | null, proto?: number | null, fileno?: number | null, accepted?: typeof ACCEPTED) {
    let familyArg = optionalInt('socket(): family', family);
    let typeArg = optionalInt('socket(): type', type);
    let protoArg = optionalInt('socket(): proto', proto);
    let fd: number;
    const created = fileno === undefined || fileno === null;
    if (created) {
      if (familyArg === -1) familyArg = AF_INET;
      if (typeArg === -1) typeArg = SOCK_STREAM;
      if (protoArg === -1) protoArg = 0;
      fd = check(native.socket(familyArg, typeArg, protoArg));
    } else if (accepted === ACCEPTED) {
      fd = fileno;
    } else {
      fd = checkFd('socket(): fileno', fileno);
      // Asking the type first checks that fd is an open socket (EBADF,
      // ENOTSOCK), as CPython's getsockname() check does.
      const kernelType = sockoptInt(fd, SOL_SOCKET, SO_TYPE);
      if (typeArg === -1) typeArg = kernelType;
      if (familyArg === -1) familyArg = sockoptInt(fd, SOL_SOCKET, SO_DOMAIN);
      if (protoArg === -1) protoArg = sockoptInt(fd, SOL_SOCKET, SO_PROTOCOL);
    }
    this._fd = fd;
    this._family = familyArg;
    // Python 3.11 hides these creation flags from socket.type.
    this._type = typeArg & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    this._proto = protoArg;
    this._timeout = typeArg & SOCK_NONBLOCK ? 0 : defaultTimeout;
    this._timeoutMs = timeoutMsOf(this._timeout);
    // The fd's O_NONBLOCK follows the timeout. An adopted fd is left as it
    // is when blocking, as CPython leaves it.
    if (created || this._timeout !== null) {
      const result = native.setBlocking(fd, this._timeout === null);
      if (result < 0) {
        if (created) native.close(fd);
        throw errorFromErrno(-result);
      }
    }
  }

  /** The address family (AF_INET, AF_INET6, AF_UNIX, ...). */
  get family(): number {
    return this._family;
  }

  /** The socket type (SOCK_STREAM, ...), without SOCK_NONBLOCK and SOCK_CLOEXEC, as Python 3.11 shows it. */
  get type(): number {
    return this._type;
  }

  /** The protocol (0 for the family's default). */
  get proto(): number {
    return this._proto;
  }

  /**
   * The fd, or -1 once closed or detached. Whoever gets the fd may read
   * with it, in this process or another, so from then on the kernel no
   * longer ends this socket's blocking reads early (_boundKernelReads()).
   */
  fileno(): number {
    if (!this._kernelBoundRefused) this._handOutFd();
    return this._fd;
  }

  /** fileno() for the package's own calls, which do not hand the fd out. @internal */
  _ownFileno(): number {
    return this._fd;
  }

  /** The fd leaves this object's sole use: the package's SO_RCVTIMEO goes, and is not set again. */
  private _handOutFd(): void {
    this._kernelBoundRefused = true;
    this._unboundKernelReads();
  }

  /** The fd for a system call; EBADF once closed, as the kernel says for -1. */
  private _openFd(): number {
    if (this._fd < 0) throw errorFromErrno(E.EBADF);
    return this._fd;
  }

  /**
   * setblocking(false) is settimeout(0) (non-blocking), setblocking(true)
   * is settimeout(null) (blocking). A number is taken for its truth value,
   * as Python's setblocking(0) is.
   */
  setblocking(flag: boolean): void {
    this.settimeout(checkFlag('setblocking(): flag', flag) ? null : 0);
  }

  /** False only in non-blocking mode (timeout 0), as in Python. */
  getblocking(): boolean {
    return this._timeout !== 0;
  }

  /** The timeout in seconds: null (blocking), 0 (non-blocking) or t > 0. */
  gettimeout(): number | null {
    return this._timeout;
  }

  /**
   * null: blocking; 0: non-blocking; t > 0: each call waits at most t
   * seconds, then raises TimeoutError('timed out'). The fd itself is
   * non-blocking unless the timeout is null.
   */
  settimeout(value: number | null): void {
    const timeout = parseTimeout('settimeout', value);
    check(native.setBlocking(this._openFd(), timeout === null));
    this._timeout = timeout;
    this._timeoutMs = timeoutMsOf(timeout);
  }

  /** Whether the fd is inherited by child processes (false: close-on-exec, the default). */
  get_inheritable(): boolean {
    return check(native.getInheritable(this._openFd())) !== 0;
  }

  /** Sets whether the fd is inherited by child processes. */
  set_inheritable(inheritable: boolean): void {
    const flag = checkFlag('set_inheritable(): inheritable', inheritable);
    check(native.setInheritable(this._openFd(), flag));
  }

  /**
   * Binds to a local address: `[host, port]` (AF_INET; host '' is every
   * interface, port 0 a free port), `[host, port, flowinfo?, scope_id?]`
   * (AF_INET6) or a path (AF_UNIX). Host names are resolved.
   */
  bind(address: Address): void {
    const sockaddr = sockaddrFor(this._family, this._type, address, 'bind');
    check(native.bind(this._openFd(), sockaddr));
  }

  /** Listens for connections; backlog defaults to min(SOMAXCONN, 128), as in Python. */
  listen(backlog: number = DEFAULT_BACKLOG): void {
    // CPython turns a negative backlog into 0.
    const value = Math.max(0, checkInteger('listen(): backlog', backlog));
    check(native.listen(this._openFd(), value));
  }

  /** [a new connected socket, the peer's address]; blocking by default. */
  accept(): [socket, Address] {
    const accepted = this._tryAccept();
    if (accepted === null) throw socketError(-E.EAGAIN, this._timeoutMs);
    return accepted;
  }

  /**
   * accept(), or null where it would raise BlockingIOError (EAGAIN): a
   * server that accepts until the backlog is empty ends every batch there,
   * and an exception (with its stack) costs more than the accept itself.
   * @internal
   */
  _tryAccept(): [socket, Address] | null {
    const fd = this._openFd();
    const timeoutMs = this._timeoutMs;
    const result = native.accept(fd, timeoutMs);
    if (typeof result === 'number') {
      if (result === -E.EAGAIN) return null;
      throw socketError(result, timeoutMs);
    }
    const [newFd, address] = result;
    let sock: socket;
    try {
      sock = acceptedSocket(this, newFd);
      // Lib/socket.py: a connection accepted on a socket with a timeout is
      // blocking when there is no default timeout.
      if (defaultTimeout === null && this._timeout) sock.setblocking(true);
    } catch (err) {
      native.close(newFd);
      throw err;
    }
    return [sock, address as Address];
  }

  /**
   * Connects to `address` (as bind() takes it). Blocking, it waits for the
   * connection (at most the timeout); non-blocking, it raises
   * BlockingIOError (EINPROGRESS) at once and the connection completes in
   * the background: wait for the socket to be writable, then read SO_ERROR.
   */
  connect(address: Address): void {
    const sockaddr = sockaddrFor(this._family, this._type, address, 'connect');
    const timeoutMs = this._timeoutMs;
    const result = native.connect(this._openFd(), sockaddr, timeoutMs);
    if (result < 0) throw socketError(result, timeoutMs);
  }

  /**
   * connect() that returns the errno instead of raising it (0 on success).
   * Errors in the address itself are still raised. A timeout gives
   * EWOULDBLOCK, as in CPython.
   */
  connect_ex(address: Address): number {
    return this._connect_ex(address, 'connect_ex');
  }

  /**
   * connect_ex() whose argument errors name `caller`, the function the user
   * called: asyncore's dispatcher.connect() uses it, so that a bad address
   * given to connect() is reported as connect()'s.
   * @internal
   */
  _connect_ex(address: Address, caller: string): number {
    const sockaddr = sockaddrFor(this._family, this._type, address, caller);
    if (this._fd < 0) return E.EBADF;
    const timeoutMs = this._timeoutMs;
    const result = native.connect(this._fd, sockaddr, timeoutMs);
    if (result >= 0) return 0;
    if (result === -E.ETIMEDOUT && timeoutMs > 0) return E.EWOULDBLOCK;
    return -result;
  }

  /** The number of bytes sent. Never raises SIGPIPE (EPIPE instead). */
  send(data: Uint8Array, flags = 0): number {
    const sent = this._trySend(data, flags);
    if (sent === WOULD_BLOCK) throw errorFromErrno(E.EAGAIN);
    return sent;
  }

  /**
   * send() that returns -1 where send() raises BlockingIOError (EAGAIN),
   * for the package's own layers: they send until the kernel's buffer is
   * full, and an exception (with its stack) costs several times the send
   * itself. Any other error raises as in send().
   * @internal
   */
  _trySend(data: Uint8Array, flags = 0): number {
    const bytes = checkBytes('send(): data', data);
    const flagBits = flags === 0 ? 0 : checkInteger('send(): flags', flags);
    const timeoutMs = this._timeoutMs;
    const result = native.send(this._openFd(), bytes, flagBits, timeoutMs);
    if (result >= 0) return result;
    if (result === -E.EAGAIN) return WOULD_BLOCK;
    throw socketError(result, timeoutMs);
  }

  /**
   * Sends all of data. With a timeout, the whole call, not each send,
   * gets that long (CPython's deadline); in non-blocking mode it raises
   * BlockingIOError when the buffer fills, having sent an unknown part.
   */
  sendall(data: Uint8Array, flags = 0): void {
    const bytes = checkBytes('sendall(): data', data);
    const flagBits = checkInteger('sendall(): flags', flags);
    const fd = this._openFd();
    const timeout = this._timeout;
    const deadline = timeout ? performance.now() + timeout * 1000 : 0;
    let offset = 0;
    // At least one send, even of nothing, so errors show as in CPython.
    do {
      let timeoutMs = this._timeoutMs;
      if (timeout) {
        const remaining = deadline - performance.now();
        if (remaining <= 0) throw timedOut();
        timeoutMs = Math.ceil(remaining);
      }
      const chunk = offset === 0 ? bytes : bytes.subarray(offset);
      const result = native.send(fd, chunk, flagBits, timeoutMs);
      if (result < 0) throw socketError(result, timeoutMs);
      offset += result;
    } while (offset < bytes.length);
  }

  /** Sends a datagram to address; returns the number of bytes sent. */
  sendto(data: Uint8Array, address: Address): number;
  /** Sends a datagram to address with `flags` (MSG_*); returns the number of bytes sent. */
  sendto(data: Uint8Array, flags: number, address: Address): number;
  sendto(data: Uint8Array, flagsOrAddress: number | Address, ...rest: Address[]): number {
    if (arguments.length < 2 || arguments.length > 3) {
      throw new TypeError(`sendto(): takes 2 or 3 arguments (${arguments.length} given)`);
    }
    let sent: number;
    if (arguments.length === 3) {
      // Checked here, in the order CPython checks them: an explicit
      // undefined is no flags, not _trySendto()'s default of 0.
      const bytes = checkBytes('sendto(): data', data);
      sent = this._trySendto(bytes, rest[0] as Address, checkInteger('sendto(): flags', flagsOrAddress));
    } else {
      sent = this._trySendto(data, flagsOrAddress as Address);
    }
    if (sent === WOULD_BLOCK) throw errorFromErrno(E.EAGAIN);
    return sent;
  }

  /**
   * sendto(data, flags, address) that returns -1 where sendto() raises
   * BlockingIOError (EAGAIN), as _trySend() does for send().
   * @internal
   */
  _trySendto(data: Uint8Array, address: Address, flags = 0): number {
    const bytes = checkBytes('sendto(): data', data);
    const flagBits = flags === 0 ? 0 : checkInteger('sendto(): flags', flags);
    const sockaddr = sockaddrFor(this._family, this._type, address, 'sendto');
    const timeoutMs = this._timeoutMs;
    const result = native.sendto(this._openFd(), bytes, flagBits, sockaddr, timeoutMs);
    if (result >= 0) return result;
    if (result === -E.EAGAIN) return WOULD_BLOCK;
    throw socketError(result, timeoutMs);
  }

  /** Up to bufsize bytes; an empty Buffer when the peer has shut down. */
  recv(bufsize: number, flags = 0): Buffer {
    const data = this._tryRecv(bufsize, flags);
    if (data === null) throw errorFromErrno(E.EAGAIN);
    return data;
  }

  /**
   * recv() that returns null where recv() raises BlockingIOError (EAGAIN),
   * for the package's own layers: a reader that drains its socket ends
   * every batch there, and an exception (with its stack) costs several
   * times the recv itself. Any other error raises as in recv().
   * @internal
   */
  _tryRecv(bufsize: number, flags = 0): Buffer | null {
    const size = checkInteger('recv(): bufsize', bufsize);
    if (size < 0) throw new RangeError(`recv(): negative buffersize in recv: ${size}`);
    const flagBits = flags === 0 ? 0 : checkInteger('recv(): flags', flags);
    // CPython's sock_recv() answers recv(0) without a system call.
    if (size === 0) return Buffer.alloc(0);
    const fd = this._openFd();
    const timeoutMs = this._timeoutMs;
    const buffer = readTarget(size);
    let count: number;
    do count = native.recv(fd, buffer, flagBits, timeoutMs);
    while (count === -E.EAGAIN && this._waitsOn(timeoutMs, flagBits));
    if (count >= 0) return readResult(buffer, count);
    if (count === -E.EAGAIN) return null;
    throw socketError(count, timeoutMs);
  }

  /**
   * Reads into `buffer` (up to its length) without allocating: the count
   * read, 0 when the peer has shut down, or -1 where recv() raises
   * BlockingIOError (EAGAIN). For a layer that keeps its own read buffer
   * and copies out only what it keeps. Any other error raises as in recv().
   * @internal
   */
  _tryRecvInto(buffer: Uint8Array): number {
    const target = checkBytes('_tryRecvInto(): buffer', buffer);
    const fd = this._openFd();
    const timeoutMs = this._timeoutMs;
    let count: number;
    do count = native.recv(fd, target, 0, timeoutMs);
    while (count === -E.EAGAIN && this._waitsOn(timeoutMs, 0));
    if (count >= 0) return count;
    if (count === -E.EAGAIN) return WOULD_BLOCK;
    throw socketError(count, timeoutMs);
  }

  /**
   * [data, sender's address]. The address is what the kernel reports; on a
   * connected stream socket it reports none, which the addon shows as ''
   * (Python: None).
   */
  recvfrom(bufsize: number, flags = 0): [Buffer, Address] {
    const received = this._tryRecvfrom(bufsize, flags);
    if (received === null) throw errorFromErrno(E.EAGAIN);
    return received;
  }

  /**
   * recvfrom() that returns null where recvfrom() raises BlockingIOError
   * (EAGAIN), as _tryRecv() does for recv().
   * @internal
   */
  _tryRecvfrom(bufsize: number, flags = 0): [Buffer, Address] | null {
    const size = checkInteger('recvfrom(): bufsize', bufsize);
    if (size < 0) throw new RangeError(`recvfrom(): negative buffersize in recvfrom: ${size}`);
    const flagBits = flags === 0 ? 0 : checkInteger('recvfrom(): flags', flags);
    const fd = this._openFd();
    const timeoutMs = this._timeoutMs;
    const buffer = readTarget(size);
    let received: ReturnType<typeof native.recvfrom>;
    do received = native.recvfrom(fd, buffer, flagBits, timeoutMs);
    while (received === -E.EAGAIN && this._waitsOn(timeoutMs, flagBits));
    if (typeof received !== 'number') return [readResult(buffer, received[0]), received[1] as Address];
    if (received === -E.EAGAIN) return null;
    throw socketError(received, timeoutMs);
  }

  /**
   * Has the kernel end this blocking socket's receive waits after `ms`
   * (SO_RCVTIMEO), for a layer of the package that waits for data in one
   * recv() rather than poll() then recv() (a forking server's child).
   * Reads made through this object still wait until data comes, as on any
   * blocking socket. False, and nothing set, when the socket is not
   * blocking, has a receive timeout of its own, or its fd has been handed
   * out (fileno()), since reads made with the fd elsewhere would not; the
   * socket then keeps that answer.
   * @internal
   */
  _boundKernelReads(ms: number): boolean {
    if (this._fd < 0 || this._timeout !== null || this._kernelBoundRefused) return false;
    const own = native.getsockoptBuf(this._fd, SOL_SOCKET, SO_RCVTIMEO, TIMEVAL_BYTES);
    // A timeval of another size (a 32-bit platform's) is left alone.
    const free = typeof own !== 'number' && own.length === TIMEVAL_BYTES && own.every((byte) => byte === 0);
    if (!free || native.getBlocking(this._fd) !== 1) {
      this._kernelBoundRefused = true;
      return false;
    }
    this._kernelReadBound = native.setsockoptBuf(this._fd, SOL_SOCKET, SO_RCVTIMEO, timeval(ms)) === 0;
    return this._kernelReadBound;
  }

  /** Takes away the bound _boundKernelReads() set, if it is still there. @internal */
  _unboundKernelReads(): void {
    if (this._kernelReadBound && this._fd >= 0) native.setsockoptBuf(this._fd, SOL_SOCKET, SO_RCVTIMEO, timeval(0));
    this._kernelReadBound = false;
  }

  /**
   * A blocking read that found nothing (EAGAIN) waits on: only the bound
   * _boundKernelReads() set can end such a read, and a blocking socket's
   * reads wait until data comes (MSG_DONTWAIT asks not to).
   * @internal
   */
  _waitsOn(timeoutMs: number, flags: number): boolean {
    return this._kernelReadBound && timeoutMs === BLOCK_FOREVER && (flags & MSG_DONTWAIT) === 0;
  }

  /** Shuts down one or both directions: SHUT_RD, SHUT_WR or SHUT_RDWR. The fd stays open. */
  shutdown(how: number): void {
    const value = checkInteger('shutdown(): how', how);
    check(native.shutdown(this._openFd(), value));
  }

  /** Closes the fd; later calls do nothing. fileno() is then -1. */
  close(): void {
    this._closed = true;
    const fd = this._fd;
    if (fd < 0) return;
    this._fd = -1;
    const result = native.close(fd);
    // CPython ignores ECONNRESET from close() (bpo-30319): the fd is closed.
    if (result < 0 && result !== -E.ECONNRESET) throw errorFromErrno(-result);
  }

  /** Gives up the fd without closing it and returns it. */
  detach(): number {
    this._handOutFd();
    this._closed = true;
    const fd = this._fd;
    this._fd = -1;
    return fd;
  }

  /** A new socket on a dup() of the fd (non-inheritable), same timeout. */
  dup(): socket {
    this._handOutFd();
    const fd = check(native.dup(this._openFd()));
    let copy: socket;
    try {
      const Class = this.constructor as typeof socket;
      copy = new Class(this._family, this._type, this._proto, fd);
      copy.settimeout(this._timeout);
    } catch (err) {
      native.close(fd);
      throw err;
    }
    return copy;
  }

  /** The local address, as bind() takes it (for a port-0 bind, the port chosen). */
  getsockname(): Address {
    return nativeAddress(native.getsockname(this._openFd()));
  }

  /** The peer's address; OSError ENOTCONN when not connected. */
  getpeername(): Address {
    return nativeAddress(native.getpeername(this._openFd()));
  }

  /** value: an int (C int), or the raw bytes of the option. */
  setsockopt(level: number, optname: number, value: number | Uint8Array): void {
    const levelValue = checkInteger('setsockopt(): level', level);
    const name = checkInteger('setsockopt(): optname', optname);
    if (typeof value === 'number') {
      const flag = checkInteger('setsockopt(): value', value);
      check(native.setsockoptInt(this._openFd(), levelValue, name, flag));
    } else if (value instanceof Uint8Array) {
      check(native.setsockoptBuf(this._openFd(), levelValue, name, value));
      // The caller's receive timeout now ends its blocking reads.
      if (levelValue === SOL_SOCKET && name === SO_RCVTIMEO) this._kernelReadBound = false;
    } else {
      throw new TypeError(`setsockopt(): value must be an integer or bytes, not ${describe(value)}`);
    }
  }

  /** The option's value as an int (`getsockopt(SOL_SOCKET, SO_ERROR)`). */
  getsockopt(level: number, optname: number): number;
  /** With buflen (1-1024), the option's raw bytes, as in Python; buflen 0 asks for the int. */
  getsockopt(level: number, optname: number, buflen: number): number | Buffer;
  getsockopt(level: number, optname: number, buflen?: number): number | Buffer {
    const levelValue = checkInteger('getsockopt(): level', level);
    const name = checkInteger('getsockopt(): optname', optname);
    const length = buflen === undefined ? 0 : checkInteger('getsockopt(): buflen', buflen);
    // CPython: buflen 0 (or none) asks for an int.
    if (length === 0) return sockoptInt(this._openFd(), levelValue, name);
    if (length < 0 || length > 1024) throw new RangeError(`getsockopt(): getsockopt buflen out of range: ${length}`);
    const result = native.getsockoptBuf(this._openFd(), levelValue, name, length);
    if (typeof result === 'number') throw errorFromErrno(-result);
    return result;
  }

  /** Python's repr(): "<socket.socket fd=3, family=2, type=1, proto=0, laddr=...>". */
  toString(): string {
    let text =
      `<socket.${this.constructor.name}${this._closed ? ' [closed]' : ''} fd=${this._fd}, ` +
      `family=${this._family}, type=${this._type}, proto=${this._proto}`;
    if (!this._closed && this._fd >= 0) {
      const local = native.getsockname(this._fd);
      if (typeof local !== 'number' && local) text += `, laddr=${str(local)}`;
      const remote = native.getpeername(this._fd);
      if (typeof remote !== 'number' && remote) text += `, raddr=${str(remote)}`;
    }
    return `${text}>`;
  }

  /** What console.log() and util.inspect() show: toString(). */
  [util.inspect.custom](): string {
    return this.toString();
  }
}

/**
 * The socket for `fd`, just accepted on `listener`: a socket of the
 * listener's family, type and proto, as CPython's accept() makes it, with
 * no system call to check what the kernel has just made.
 */
function acceptedSocket(listener: socket, fd: number): socket {
  return new socket(listener.family, listener.type, listener.proto, fd, ACCEPTED);
}

/** A connected pair of sockets, blocking and non-inheritable. */
export function socketpair(family: number = AF_UNIX, type: number = SOCK_STREAM, proto = 0): [socket, socket] {
  const familyValue = checkInteger('socketpair(): family', family);
  const typeValue = checkInteger('socketpair(): type', type);
  const protoValue = checkInteger('socketpair(): proto', proto);
  const fds = new Int32Array(2);
  check(native.socketpair(familyValue, typeValue, protoValue, fds));
  const pair: socket[] = [];
  try {
    for (const fd of fds) {
      const sock = new socket(familyValue, typeValue, protoValue, fd);
      pair.push(sock);
      // Sync O_NONBLOCK with the timeout, whatever state the addon left.
      sock.settimeout(sock.gettimeout());
    }
  } catch (err) {
    for (const sock of pair) sock.close();
    for (const fd of fds.subarray(pair.length)) native.close(fd);
    throw err;
  }
  return pair as [socket, socket];
}

function checkSocket(caller: string, sock: unknown): socket {
  if (!(sock instanceof socket)) {
    throw new TypeError(`${caller}(): sock must be a socket, not ${describe(sock)}`);
  }
  return sock;
}

/**
 * Sends the bytes of `buffers` (one message, in order) with the open file
 * descriptors `fds` attached as SCM_RIGHTS, over an AF_UNIX socket;
 * `address` is for an unconnected datagram socket. Returns the number of
 * bytes sent, as Python 3.9's socket.send_fds(). The receiver gets its own
 * copies of the fds; the sender's stay open.
 */
export function send_fds(sock: socket, buffers: Uint8Array[], fds: number[], flags = 0, address?: Address | null): number {
  const target = checkSocket('send_fds', sock);
  if (!Array.isArray(buffers)) {
    throw new TypeError(`send_fds(): buffers must be an array of bytes, not ${describe(buffers)}`);
  }
  const parts = buffers.map((part, i) => checkBytes(`send_fds(): buffers[${i}]`, part));
  if (!Array.isArray(fds)) {
    throw new TypeError(`send_fds(): fds must be an array of file descriptors, not ${describe(fds)}`);
  }
  if (fds.length > MAX_FDS_PER_MESSAGE) {
    throw new RangeError(`send_fds(): at most ${MAX_FDS_PER_MESSAGE} fds fit in one message, got ${fds.length}`);
  }
  const fdArray = new Int32Array(fds.length);
  fds.forEach((fd, i) => {
    const value = checkInteger(`send_fds(): fds[${i}]`, fd);
    if (value < 0) throw new RangeError(`send_fds(): fds[${i}] must be a file descriptor >= 0, got ${value}`);
    fdArray[i] = value;
  });
  const flagBits = checkInteger('send_fds(): flags', flags);
  const sockaddr =
    address === undefined || address === null ? null : sockaddrFor(target.family, target.type, address, 'send_fds');
  const data = parts.length === 1 ? parts[0] : Buffer.concat(parts);
  const timeoutMs = timeoutMsOf(target.gettimeout());
  const fd = target._ownFileno();
  if (fd < 0) throw errorFromErrno(E.EBADF);
  const result = native.sendFds(fd, data, fdArray, flagBits, sockaddr, timeoutMs);
  if (result < 0) throw socketError(result, timeoutMs);
  return result;
}

/**
 * Receives up to `bufsize` bytes and up to `maxfds` file descriptors sent
 * with SCM_RIGHTS, as Python 3.9's socket.recv_fds(): [data, fds, msg_flags,
 * address]. The fds are new, close-on-exec, and the caller's to close.
 * msg_flags has MSG_CTRUNC when more fds came than maxfds (the kernel closes
 * the rest). address is null on a connected socket.
 */
export function recv_fds(sock: socket, bufsize: number, maxfds: number, flags = 0): [Buffer, number[], number, Address | null] {
  const source = checkSocket('recv_fds', sock);
  const size = checkInteger('recv_fds(): bufsize', bufsize);
  if (size < 0) throw new RangeError(`recv_fds(): negative buffersize: ${size}`);
  const most = checkInteger('recv_fds(): maxfds', maxfds);
  if (most < 0 || most > MAX_FDS_PER_MESSAGE) {
    throw new RangeError(`recv_fds(): maxfds must be 0-${MAX_FDS_PER_MESSAGE}, got ${most}`);
  }
  const flagBits = checkInteger('recv_fds(): flags', flags);
  const timeoutMs = timeoutMsOf(source.gettimeout());
  const fd = source._ownFileno();
  if (fd < 0) throw errorFromErrno(E.EBADF);
  const buffer = readTarget(size);
  const out = new Int32Array(2 + most);
  let result: ReturnType<typeof native.recvFds>;
  do result = native.recvFds(fd, buffer, out, flagBits, timeoutMs);
  while (result === -E.EAGAIN && source._waitsOn(timeoutMs, flagBits));
  if (typeof result === 'number') throw socketError(result, timeoutMs);
  const received = Array.from(out.subarray(2, 2 + out[0]));
  const address = result[1] === null || result[1] === '' ? null : result[1];
  // The kernel echoes the MSG_CMSG_CLOEXEC this call always asks for;
  // CPython's msg_flags never show it.
  return [readResult(buffer, result[0]), received, out[1] & ~MSG_CMSG_CLOEXEC, address];
}
