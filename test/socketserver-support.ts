// Helpers of the socketserver tests: clients that wait on this package's
// select() (so the server, in the same process, keeps running), the child
// module of forking servers, and counts of fds, threads and children.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { select } from '../src/select';
import { AF_INET, AF_UNIX, socket } from '../src/socket';
import type { Address } from '../src/socket';
import type { BaseServer } from '../src/socketserver';
import { TIMEOUT_MULTIPLIER } from './support';

export const HOST = '127.0.0.1';
export const TEST_STR = Buffer.from('hello world\n');
/** test.support.SHORT_TIMEOUT, in seconds. */
export const SHORT_TIMEOUT = 30 * TIMEOUT_MULTIPLIER;
export const root = path.resolve(__dirname, '..');
/** The Node options that run a TypeScript file, as `npx tsx` does. */
export const TSX = ['--import', 'tsx'];
export const childModule = path.join(root, 'test', 'fixtures', 'socketserver-child.ts');

let unixNames = 0;
const made: string[] = [];

/** CPython's pickaddr(): the loopback with port 0, or a fresh unix path. */
export function pickaddr(family: number): Address {
  if (family === AF_INET) return [HOST, 0];
  const name = path.join(tmpdir(), `asyncore-socketserver-${process.pid}-${unixNames++}.sock`);
  made.push(name);
  return name;
}

/** Removes the unix socket files pickaddr() named. */
export function removeUnixFiles(): void {
  for (const name of made.splice(0)) rmSync(name, { force: true });
}

/** CPython's receive(): recv() once readable, or fail after the timeout. */
export async function receive(sock: socket, n: number, timeout = SHORT_TIMEOUT): Promise<Buffer> {
  const [r] = await select([sock], [], [], timeout);
  if (r.includes(sock)) return sock.recv(n);
  throw new Error(`timed out on ${sock}`);
}

/** Reads until a newline or end of stream. */
export async function receiveLine(sock: socket): Promise<Buffer> {
  let buf = await receive(sock, 100);
  let data = buf;
  while (data.length > 0 && !buf.includes(10)) {
    data = await receive(sock, 100);
    buf = Buffer.concat([buf, data]);
  }
  return buf;
}

/** Reads until end of stream. */
export async function receiveAll(sock: socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (;;) {
    const data = await receive(sock, 65536);
    if (data.length === 0) return Buffer.concat(parts);
    parts.push(data);
  }
}

/** A connected stream client; blocking connect, which the kernel's backlog completes. */
export function connect(family: number, address: Address): socket {
  const sock = new socket(family);
  try {
    sock.connect(address);
  } catch (err) {
    sock.close();
    throw err;
  }
  return sock;
}

/** The number of threads of this process. */
export function threadCount(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(/^Threads:\s+(\d+)/m.exec(status)?.[1]);
}

/** The pids of the live (not zombie) children of pid. */
export function childPids(pid = process.pid): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid && fields[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** Whether pid names a process that runs (a zombie does not). */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** CPython's simple_subprocess(): a child of our own that the server must not reap; resolves its exit code. */
export function simpleSubprocess(): Promise<number | null> {
  const child = spawn(process.execPath, ['-e', 'process.exit(72)'], { stdio: 'ignore' });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** The child options every forking server class of the tests uses. */
export function useChildFixture(
  Class: { child_module: string | null; child_args: string[] | null; child_exec_argv: string[] | null },
  ...args: string[]
): void {
  Class.child_module = childModule;
  Class.child_args = args;
  Class.child_exec_argv = TSX;
}

/** Runs body while server serves (a 10 ms poll interval); then shuts it down and closes it, whatever body did. */
export async function whileServing(server: BaseServer, body: () => Promise<void>): Promise<void> {
  const serving = server.serve_forever(0.01);
  try {
    await body();
  } finally {
    await server.shutdown();
    await serving;
    await server.server_close();
  }
}

export { AF_INET, AF_UNIX };
