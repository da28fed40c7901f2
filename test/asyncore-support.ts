// Helpers of CPython's Lib/test/test_asyncore.py, ported for the asyncore
// test files: the handlers that fail on callbacks they did not expect, the
// server and client built on them, and loop_waiting_for_flag().
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as asyncore from '../src/asyncore';
import type { Address, Backend } from '../src/asyncore';
import { AF_INET, AF_INET6, AF_UNIX, socket } from '../src/socket';
import { ipv6Available, sleep, TIMEOUT_MULTIPLIER } from './support';

export const BACKENDS: Backend[] = ['select', 'poll', 'epoll'];

export interface Family {
  /** CPython's class name part: UseIPv4Sockets, ... */
  name: 'IPv4' | 'IPv6' | 'UnixSockets';
  family: number;
  /** A fresh address to bind to. */
  addr(): Address;
  available: boolean;
}

let unixDir: string | null = null;
let unixCount = 0;

/** A socket path of its own in a temporary directory (see removeUnixDir). */
export function unixPath(): string {
  unixDir ??= mkdtempSync(path.join(tmpdir(), 'asyncore-test-'));
  unixCount += 1;
  return path.join(unixDir, `s${unixCount}`);
}

/** Removes the directory of unixPath(); a test file calls it in afterAll. */
export function removeUnixDir(): void {
  if (unixDir !== null) rmSync(unixDir, { recursive: true, force: true });
  unixDir = null;
}

export const FAMILIES: Family[] = [
  { name: 'IPv4', family: AF_INET, addr: () => ['127.0.0.1', 0], available: true },
  { name: 'IPv6', family: AF_INET6, addr: () => ['::1', 0], available: ipv6Available() },
  { name: 'UnixSockets', family: AF_UNIX, addr: () => unixPath(), available: true },
];

/** Binds a socket according to its family (the unix path must not exist). */
export function bindAfAware(sock: socket, addr: Address): void {
  if (sock.family === AF_UNIX && typeof addr === 'string') {
    try {
      unlinkSync(addr);
    } catch {
      // Not there: what we want.
    }
  }
  sock.bind(addr);
}

/** A handler whose every callback but read/write fails the test. */
export class BaseTestHandler extends asyncore.dispatcher {
  flag = false;

  override handle_accept(): void {
    throw new Error('handle_accept not supposed to be called');
  }

  override handle_accepted(): void {
    throw new Error('handle_accepted not supposed to be called');
  }

  override handle_connect(): void {
    throw new Error('handle_connect not supposed to be called');
  }

  override handle_expt(): void {
    throw new Error('handle_expt not supposed to be called');
  }

  override handle_close(): void {
    throw new Error('handle_close not supposed to be called');
  }

  override handle_error(err: unknown): void {
    throw err;
  }
}

export type HandlerClass = new (sock: socket) => asyncore.dispatcher;

/** A server which listens on an address and dispatches the connection to a handler. */
export class BaseServer extends asyncore.dispatcher {
  handler: HandlerClass;

  constructor(family: number, addr: Address, handler: HandlerClass = BaseTestHandler) {
    super();
    this.create_socket(family);
    this.set_reuse_addr();
    bindAfAware(this.socket as socket, addr);
    this.listen(5);
    this.handler = handler;
  }

  get address(): Address {
    return (this.socket as socket).getsockname();
  }

  override handle_accepted(sock: socket): void {
    new this.handler(sock);
  }

  override handle_error(err: unknown): void {
    throw err;
  }
}

export class BaseClient extends BaseTestHandler {
  constructor(family: number, address: Address) {
    super();
    this.create_socket(family);
    this.connect(address);
  }

  override handle_connect(): void {}
}

/**
 * Runs one-pass loops until instance.flag is set, as CPython's
 * loop_waiting_for_flag(): at most 100 passes of 10 ms, 50 ms apart.
 */
export async function loopWaitingForFlag(
  instance: { flag: boolean },
  backend: Backend,
  timeout = 5,
): Promise<void> {
  const pause = ((timeout * 1000) / 100) * TIMEOUT_MULTIPLIER;
  let count = 100;
  while (asyncore.socket_map.size > 0 && count > 0) {
    await asyncore.loop({ timeout: 0.01, count: 1, backend });
    if (instance.flag) return;
    count -= 1;
    await sleep(pause);
  }
  throw new Error('flag not set');
}
