// Loads the native addon once and declares its typed interface.
//
// Conventions of every native function (see native/binding/):
// - a result >= 0 is success (a count, an fd, a flag); a negative result is
//   -errno, turned into an OSError subclass by errors.ts;
// - arguments are validated in TypeScript before the call; the addon keeps
//   only backstop checks that throw a TypeError.
import * as path from 'node:path';
import nodeGypBuild = require('node-gyp-build');
import type { Address } from './address';
import { errorFromErrno } from './errors';

/** A sockaddr, as the kernel takes it, in a Buffer made by `resolve()`. */
export type SockaddrBuffer = Buffer;


/** Timeouts passed to blocking socket calls, in milliseconds. */
export const BLOCK_FOREVER = -1;
export const NON_BLOCKING = 0;

/**
 * Errors of getaddrinfo() are returned as GAI_ERROR_BASE - EAI_code, a
 * positive number, so they cannot be confused with -errno (EAI codes are
 * negative on glibc). EAI_SYSTEM is returned as -errno instead.
 */
export interface NativeConstants {
  readonly [name: string]: number;
}

export const PollerKind = { select: 0, poll: 1, epoll: 2 } as const;
export type PollerKindName = keyof typeof PollerKind;

/**
 * The native poller: a backend (select, poll or epoll), its interest set, a
 * wake-up fd, and the way its waits run (a worker thread for select and
 * poll; for epoll, Node's own loop watching the epoll fd).
 *
 * Results of pollNow() and of a wait are written to the Int32Array given,
 * as pairs [fd, revents] (revents in POLL* / EPOLL* bits; the select backend
 * reports POLLIN, POLLOUT and POLLPRI for its three sets, and POLLNVAL for
 * an fd that is not open, where select(2) itself fails with EBADF).
 */
export interface NativePoller {
  /**
   * One batch of interest changes, the same for every kind: fds[i] wants
   * events[i] (POLL* bits; 0: nothing), flags[i] 1 when fds[i] may be
   * another file than the one watched before (epoll registers it afresh).
   * The whole set, in the order waits report in, unless `partial`: then
   * changes to it. epoll tells the kernel only what changed (EEXIST, ENOENT
   * and EPERM handled, readiness made up for regular files). 0 or -errno;
   * -EBUSY while a wait runs on the worker thread.
   */
  setInterest(fds: Int32Array, events: Int32Array, count: number, flags?: Int32Array | null, partial?: boolean): number;
  /** Stops watching fd at once (its channel left it). 0 or -errno. */
  forget(fd: number): number;
  /** epoll, for Python's select.epoll objects: epoll_ctl() with EPOLL_CTL_ADD (1), DEL (2) or MOD (3). 0 or -errno. */
  ctl(op: number, fd: number, events: number): number;
  /** A zero-timeout wait on the calling (JavaScript) thread: count of pairs, or -errno. */
  pollNow(out: Int32Array): number;
  /**
   * [fd, POLLNVAL] pairs for the watched fds that are no longer open: epoll
   * never reports those (the kernel drops the registration on close), so a
   * wait that timed out asks here. Count of pairs, or -errno.
   */
  findClosed(out: Int32Array): number;
  /**
   * Starts a wait of timeoutMs (-1: forever): 0, or -errno (EBUSY when a
   * wait is already running). When it ends, on Node's loop, the pairs are
   * in `out` and the poller's callback gets (count or -errno, woken). While
   * a wait runs the process is kept alive, unless setReferenced(false).
   */
  wait(timeoutMs: number, out: Int32Array): number;
  /** Interrupts a running wait (its callback gets woken = true); safe at any time. */
  wake(): void;
  /**
   * Whether a wait keeps the process alive (true, the default): applies to
   * the wait running now and to those after it.
   */
  setReferenced(referenced: boolean): void;
  /**
   * Stops and joins the worker, closes the backend's fds. Idempotent. A
   * wait still running gets its callback, (0, woken = true), before close()
   * returns.
   */
  close(): void;
  /** epoll: the epoll fd; -1 for the other kinds. */
  fileno(): number;
  readonly waiting: boolean;
}

export type WaitCallback = (result: number, woken: boolean) => void;

export interface NativeBinding {
  readonly constants: NativeConstants;
  readonly GAI_ERROR_BASE: number;
  readonly FD_SETSIZE: number;
  /** The most events one epoll_wait(2) takes (Linux). */
  readonly EPOLL_MAX_EVENTS: number;

  Poller: new (kind: number, onWaitDone: WaitCallback) => NativePoller;
  /** Whether Node's event loop would run anything in a turn now: a due timer, an immediate, a ready fd. */
  eventLoopHasWork(): boolean;

  // Plain file descriptors (posix).
  pipe(out: Int32Array): number;
  dup(fd: number): number;
  close(fd: number): number;
  read(fd: number, buf: Uint8Array): number;
  write(fd: number, data: Uint8Array): number;
  setBlocking(fd: number, blocking: boolean): number;
  getBlocking(fd: number): number;
  setInheritable(fd: number, inheritable: boolean): number;
  getInheritable(fd: number): number;
  gaiStrerror(code: number): string;

  // Sockets. timeoutMs: -1 blocks (a blocking fd), 0 does not wait (a
  // non-blocking fd), > 0 polls the fd for at most that long first and
  // fails with -ETIMEDOUT.
  socket(family: number, type: number, proto: number): number;
  socketpair(family: number, type: number, proto: number, out: Int32Array): number;
  /** A sockaddr for (family, address); a number (see GAI_ERROR_BASE) on failure. */
  resolve(family: number, type: number, host: string | Uint8Array, port: number,
          flowinfo: number, scopeId: number): SockaddrBuffer | number;
  bind(fd: number, addr: SockaddrBuffer): number;
  listen(fd: number, backlog: number): number;
  /** [fd, address] of the new connection (close-on-exec, blocking), or -errno. */
  accept(fd: number, timeoutMs: number): [number, Address] | number;
  connect(fd: number, addr: SockaddrBuffer, timeoutMs: number): number;
  send(fd: number, data: Uint8Array, flags: number, timeoutMs: number): number;
  sendto(fd: number, data: Uint8Array, flags: number, addr: SockaddrBuffer, timeoutMs: number): number;
  recv(fd: number, buf: Uint8Array, flags: number, timeoutMs: number): number;
  /** One blocking recv() that the socket's SO_RCVTIMEO (set to at most timeoutMs) bounds: count or -errno, -EAGAIN once the wait has passed. */
  recvWithin(fd: number, buf: Uint8Array, flags: number, timeoutMs: number): number;
  /**
   * A pass's reads in one call: a non-blocking recv() of up to `each` bytes
   * from each of fds[0 .. count), fd i into arena at i * each; results[i]
   * is the count read or -errno. Returns count.
   */
  recvMany(fds: Int32Array, count: number, arena: Uint8Array, each: number, results: Int32Array): number;
  /**
   * A pass's sends in one call: a non-blocking send() to each of
   * fds[0 .. count) of arena[spans[2i] .. spans[2i] + spans[2i + 1]);
   * results[i] is the count sent or -errno. Returns count.
   */
  sendMany(fds: Int32Array, count: number, arena: Uint8Array, spans: Int32Array, results: Int32Array): number;
  /** [count, address] or -errno. */
  recvfrom(fd: number, buf: Uint8Array, flags: number, timeoutMs: number): [number, Address] | number;
  shutdown(fd: number, how: number): number;
  getsockname(fd: number): Address | number;
  getpeername(fd: number): Address | number;
  setsockoptInt(fd: number, level: number, name: number, value: number): number;
  setsockoptBuf(fd: number, level: number, name: number, value: Uint8Array): number;
  /** The int value (>= 0 or negative), reported through out[0]; 0 or -errno. */
  getsockoptInt(fd: number, level: number, name: number, out: Int32Array): number;
  getsockoptBuf(fd: number, level: number, name: number, buflen: number): Buffer | number;
  hasIpv6(): boolean;
  /**
   * sendmsg() of data with the fds as SCM_RIGHTS (to addr unless null):
   * bytes sent, or -errno.
   */
  sendFds(fd: number, data: Uint8Array, fds: Int32Array, flags: number, addr: SockaddrBuffer | null,
          timeoutMs: number): number;
  /**
   * recvmsg() into buf: [count, sender's address or null], or -errno. out[0]
   * is set to the number of fds received, out[1] to the recvmsg flags and
   * out[2...] to the fds (close-on-exec); out.length - 2 fds at most.
   */
  recvFds(fd: number, buf: Uint8Array, out: Int32Array, flags: number,
          timeoutMs: number): [number, Address | null] | number;
}

const packageRoot = path.resolve(__dirname, '..');

/**
 * The one command that builds the addon from source (README, "Installing"):
 * run in the project that installed the package, it compiles into
 * node_modules/asyncore/build/, where the loader looks after prebuilds/.
 * npm run puts npm's own node-gyp on PATH, so nothing else is installed.
 */
const BUILD_FROM_SOURCE_COMMAND = 'npm explore asyncore -- npm run build:native';

// ASYNCORE_NATIVE_PATH loads another build of the addon (the sanitizer and
// cmake-js test runs use it); users never need it.
function loadAddon(): NativeBinding {
  const override = process.env.ASYNCORE_NATIVE_PATH;
  try {
    return (override ? require(override) : nodeGypBuild(packageRoot)) as NativeBinding;
  } catch (error) {
    // No prebuilt binary fits (another CPU, an older glibc) and none was
    // compiled: the package has no install script, so nothing compiles
    // unless asked to.
    throw new Error(
      `asyncore: cannot load the native addon${override ? ` from ASYNCORE_NATIVE_PATH=${override}` : ` in ${packageRoot}`} ` +
        `(${(error as Error).message}). No prebuilt binary fits this platform; build one from source ` +
        `(Python 3, make and a C++17 compiler) with: ${BUILD_FROM_SOURCE_COMMAND}`,
      { cause: error },
    );
  }
}

const addon = loadAddon();

/**
 * The Poller constructor throws an Error carrying `errno` when the kernel
 * refuses its fds (EMFILE, ...); this turns that into the OSError subclass.
 */
function makePollerClass(RawPoller: NativeBinding['Poller']): NativeBinding['Poller'] {
  return function Poller(kind: number, onWaitDone: WaitCallback): NativePoller {
    try {
      return new RawPoller(kind, onWaitDone);
    } catch (error) {
      const errno = (error as { errno?: unknown }).errno;
      if (typeof errno === 'number') throw errorFromErrno(errno);
      throw error;
    }
  } as unknown as NativeBinding['Poller'];
}

/** The addon, loaded from prebuilds/ when one matches, else from build/. */
export const binding: NativeBinding = { ...addon, Poller: makePollerClass(addon.Poller) };
