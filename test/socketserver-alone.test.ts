// Reads of a request served alone in its process (a forking server's
// child): they may wait a little on the JavaScript thread itself, but
// Node's timers still run, a slow peer is waited for on the event loop, and
// the socket's timeout still ends a wait. The peer is another process, since
// this thread may be the one waiting.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { AF_UNIX, BlockingIOError, MSG_DONTWAIT, SOCK_STREAM, SOL_SOCKET, SO_RCVTIMEO, TimeoutError, socket, socketpair } from '../src/socket';
import { childBlockingReadPolicy, io } from '../src/socketserver/io';
import { BufferedReader } from '../src/socketserver/streams';
import { expectNoFdLeaks } from './support';

expectNoFdLeaks();

const peers: ChildProcess[] = [];
const ends: socket[] = [];

afterEach(async () => {
  io.serveAlone(null);
  for (const end of ends.splice(0)) end.close();
  for (const peer of peers.splice(0)) {
    if (peer.exitCode === null && peer.signalCode === null) {
      peer.kill();
      await new Promise((resolve) => peer.once('exit', resolve));
    }
  }
});

/**
 * A socket whose peer is a Node process running `script`, which writes to
 * its end as fd 3; `sleep(ms)` there blocks that process.
 */
function socketToPeer(script: string): socket {
  const [mine, theirs] = socketpair(AF_UNIX, SOCK_STREAM);
  const prelude = "const fs = require('node:fs'); const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);";
  const peer = spawn(process.execPath, ['-e', `${prelude}\n${script}`], {
    stdio: ['ignore', 'inherit', 'inherit', theirs.fileno()],
  });
  theirs.close();
  peers.push(peer);
  ends.push(mine);
  return mine;
}

/** A socket to a peer running `script` (see socketToPeer()), served alone, and its rfile. */
function servedAlone(script: string): { sock: socket; rfile: BufferedReader } {
  const sock = socketToPeer(script);
  io.serveAlone(sock);
  return { sock, rfile: new BufferedReader(sock) };
}

describe('a request served alone', () => {
  it('reads lines that keep coming, and Node timers still run meanwhile', async () => {
    const count = 300;
    const { rfile } = servedAlone(`for (let i = 0; i < ${count}; i++) { fs.writeSync(3, 'line ' + i + '\\n'); sleep(1); }`);
    // Counted from the first line on, once the peer is up and writing.
    const lines = [String(await rfile.readline())];
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 2);
    const started = performance.now();
    try {
      for await (const line of rfile) lines.push(String(line));
    } finally {
      clearInterval(ticker);
    }
    const elapsed = performance.now() - started;
    expect(lines).toEqual(Array.from({ length: count }, (_, i) => `line ${i}\n`));
    // Each line comes within the wait here; the event loop still has a turn
    // every few milliseconds, so the 2 ms interval fires at least every 20 ms.
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(elapsed / 20));
  });

  it('runs callbacks of process.nextTick() while lines keep coming', async () => {
    const count = 300;
    const { rfile } = servedAlone(`for (let i = 0; i < ${count}; i++) { fs.writeSync(3, 'line ' + i + '\\n'); sleep(1); }`);
    await rfile.readline();
    const lags: number[] = [];
    let queued = -1;
    for await (const line of rfile) {
      if (queued < 0 && String(line) !== `line ${count - 1}\n`) {
        queued = performance.now();
        process.nextTick(() => {
          lags.push(performance.now() - queued);
          queued = -1;
        });
      }
    }
    // The thread waits on the event loop, where ticks run, at the latest
    // every childBlockingReadPolicy.runMs (plus one wait here).
    expect(lags.length).toBeGreaterThan(1);
    expect(Math.max(...lags)).toBeLessThan(childBlockingReadPolicy.runMs + childBlockingReadPolicy.waitMs + 100);
  });

  it('waits on the event loop for a peer slower than the wait here', async () => {
    const { rfile } = servedAlone("sleep(200); fs.writeSync(3, 'late\\n');");
    const order: string[] = [];
    const timer = setTimeout(() => order.push('timer'), 20);
    try {
      order.push(String(await rfile.readline()));
    } finally {
      clearTimeout(timer);
    }
    expect(order).toEqual(['timer', 'late\n']);
  });

  it("ends a wait at the socket's timeout", async () => {
    const sock = socketToPeer('sleep(5000);');
    io.serveAlone(sock);
    const rfile = new BufferedReader(sock, -1, 0.1);
    const started = performance.now();
    await expect(rfile.readline()).rejects.toBeInstanceOf(TimeoutError);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(elapsed).toBeLessThan(2000);
  });

  it('reads to the end of the stream, in pieces, as any request does', async () => {
    const { rfile } = servedAlone("fs.writeSync(3, 'ab'); sleep(2); fs.writeSync(3, 'c\\nde'); sleep(30); fs.writeSync(3, 'f');");
    expect(String(await rfile.readline())).toBe('abc\n');
    expect(String(await rfile.read(2))).toBe('de');
    expect(String(await rfile.read())).toBe('f');
    expect(String(await rfile.readline())).toBe('');
  });
});

/** The socket's SO_RCVTIMEO in microseconds (a 64-bit struct timeval). */
function receiveTimeoutUs(sock: socket): number {
  const value = sock.getsockopt(SOL_SOCKET, SO_RCVTIMEO, 16) as Buffer;
  return Number(value.readBigInt64LE(0)) * 1e6 + Number(value.readBigInt64LE(8));
}

/** Gives the socket an SO_RCVTIMEO of its own, as a handler would: `us` microseconds. */
function setReceiveTimeoutUs(sock: socket, us: number): void {
  const value = Buffer.alloc(16);
  value.writeBigInt64LE(BigInt(Math.floor(us / 1e6)), 0);
  value.writeBigInt64LE(BigInt(us % 1e6), 8);
  sock.setsockopt(SOL_SOCKET, SO_RCVTIMEO, value);
}

describe('the wait in the kernel of a request served alone', () => {
  it("bounds the blocking recv() with SO_RCVTIMEO while served alone, and gives the socket's none back after", async () => {
    const { sock, rfile } = servedAlone("fs.writeSync(3, 'a\\n'); sleep(50); fs.writeSync(3, 'b\\n');");
    expect(String(await rfile.readline())).toBe('a\n');
    expect(String(await rfile.readline())).toBe('b\n');
    expect(receiveTimeoutUs(sock)).toBe(childBlockingReadPolicy.waitMs * 1000);
    io.serveAlone(null);
    expect(receiveTimeoutUs(sock)).toBe(0);
  });

  it('leaves a socket with an SO_RCVTIMEO of its own as it is, and still reads', async () => {
    const sock = socketToPeer("sleep(30); fs.writeSync(3, 'a\\n'); sleep(30); fs.writeSync(3, 'b\\n');");
    setReceiveTimeoutUs(sock, 7e6);
    io.serveAlone(sock);
    const rfile = new BufferedReader(sock);
    expect(String(await rfile.readline())).toBe('a\n');
    expect(String(await rfile.readline())).toBe('b\n');
    io.serveAlone(null);
    expect(receiveTimeoutUs(sock)).toBe(7e6);
  });

  it("leaves the handler's own blocking reads of the socket waiting until data comes, as Python's do", () => {
    const { sock, rfile } = servedAlone("fs.writeSync(3, 'a\\n'); sleep(60); fs.writeSync(3, 'bc'); sleep(60); fs.writeSync(3, 'de');");
    return rfile.readline().then((line) => {
      expect(String(line)).toBe('a\n');
      expect(receiveTimeoutUs(sock)).toBe(childBlockingReadPolicy.waitMs * 1000);
      // Each waits far longer than the kernel's bound: neither raises BlockingIOError.
      expect(String(sock.recv(2))).toBe('bc');
      expect(String(sock.recvfrom(2)[0])).toBe('de');
    });
  });

  it('lets MSG_DONTWAIT and a receive timeout the handler sets itself end its reads, as they do in Python', async () => {
    const { sock, rfile } = servedAlone("fs.writeSync(3, 'a\\n'); sleep(500);");
    expect(String(await rfile.readline())).toBe('a\n');
    expect(() => sock.recv(1, MSG_DONTWAIT)).toThrow(BlockingIOError);
    setReceiveTimeoutUs(sock, 20_000);
    expect(() => sock.recv(1)).toThrow(BlockingIOError);
    // The handler's own timeout stays after the request.
    io.serveAlone(null);
    expect(receiveTimeoutUs(sock)).toBe(20_000);
  });

  it('waits on the event loop, not in the kernel, once the handler gives the socket a receive timeout of its own', async () => {
    const { sock, rfile } = servedAlone("fs.writeSync(3, 'a\\n'); sleep(200); fs.writeSync(3, 'late\\n');");
    expect(String(await rfile.readline())).toBe('a\n');
    setReceiveTimeoutUs(sock, 7e6);
    const order: string[] = [];
    const timer = setTimeout(() => order.push('timer'), 20);
    try {
      order.push(String(await rfile.readline()));
    } finally {
      clearTimeout(timer);
    }
    expect(order).toEqual(['timer', 'late\n']);
    io.serveAlone(null);
    expect(receiveTimeoutUs(sock)).toBe(7e6);
  });

  it('takes the bound away for good once the fd is handed out, and still reads', async () => {
    const { sock, rfile } = servedAlone("fs.writeSync(3, 'a\\n'); sleep(60); fs.writeSync(3, 'b\\n'); sleep(60); fs.writeSync(3, 'c\\n');");
    expect(String(await rfile.readline())).toBe('a\n');
    expect(receiveTimeoutUs(sock)).toBe(childBlockingReadPolicy.waitMs * 1000);
    expect(sock.fileno()).toBeGreaterThanOrEqual(0);
    expect(receiveTimeoutUs(sock)).toBe(0);
    expect(String(await rfile.readline())).toBe('b\n');
    expect(String(await rfile.readline())).toBe('c\n');
    expect(receiveTimeoutUs(sock)).toBe(0);
  });

  it("leaves another process's blocking reads of the handed-out fd waiting until data comes", async () => {
    const { sock, rfile } = servedAlone("fs.writeSync(3, 'a\\n'); sleep(400); fs.writeSync(3, 'bc');");
    expect(String(await rfile.readline())).toBe('a\n');
    // As a handler runs a program on its request (stdin = the socket).
    const reader = spawn(process.execPath, ['-e', "const b = Buffer.alloc(2); const n = require('node:fs').readSync(0, b); process.stdout.write(b.subarray(0, n));"], {
      stdio: [sock.fileno(), 'pipe', 'pipe'],
    });
    peers.push(reader);
    let out = '';
    let err = '';
    reader.stdout!.on('data', (chunk: Buffer) => (out += String(chunk)));
    reader.stderr!.on('data', (chunk: Buffer) => (err += String(chunk)));
    const code = await new Promise((resolve) => reader.once('exit', resolve));
    expect(err).toBe('');
    expect([code, out]).toEqual([0, 'bc']);
  });

  it("leaves a dup()'s blocking reads waiting until data comes, and detach() leaves the fd without the bound", async () => {
    const { sock, rfile } = servedAlone("fs.writeSync(3, 'a\\n'); sleep(60); fs.writeSync(3, 'bc');");
    expect(String(await rfile.readline())).toBe('a\n');
    expect(receiveTimeoutUs(sock)).toBe(childBlockingReadPolicy.waitMs * 1000);
    const copy = sock.dup();
    ends.push(copy);
    expect(String(copy.recv(2))).toBe('bc');

    const other = socketToPeer("fs.writeSync(3, 'a\\n'); sleep(500);");
    io.serveAlone(other);
    const otherFile = new BufferedReader(other);
    expect(String(await otherFile.readline())).toBe('a\n');
    expect(receiveTimeoutUs(other)).toBe(childBlockingReadPolicy.waitMs * 1000);
    const fd = other.detach();
    const adopted = new (other.constructor as typeof socket)(other.family, other.type, other.proto, fd);
    ends.push(adopted);
    expect(receiveTimeoutUs(adopted)).toBe(0);
  });

  it('reads the end of the stream when the peer closes during the wait', async () => {
    const { rfile } = servedAlone("fs.writeSync(3, 'a\\n'); sleep(2); process.exit(0);");
    expect(String(await rfile.readline())).toBe('a\n');
    expect(String(await rfile.readline())).toBe('');
  });
});

describe("rfile's line iterator", () => {
  it('answers next() calls made at once in order, and is itself async-iterable', async () => {
    const rfile = new BufferedReader(null, -1, null, Buffer.from('a\nb\nc'));
    const lines = rfile[Symbol.asyncIterator]();
    const results = await Promise.all([lines.next(), lines.next(), lines.next(), lines.next()]);
    expect(results.map((r) => (r.done ? 'done' : String(r.value)))).toEqual(['a\n', 'b\n', 'c', 'done']);
    const again = new BufferedReader(null, -1, null, Buffer.from('x\ny\n'))[Symbol.asyncIterator]();
    const seen: string[] = [];
    for await (const line of again as AsyncIterableIterator<Buffer>) seen.push(String(line));
    expect(seen).toEqual(['x\n', 'y\n']);
  });

  it('ends after break, and after an error', async () => {
    const rfile = new BufferedReader(null, -1, null, Buffer.from('a\nb\n'));
    const lines = rfile[Symbol.asyncIterator]() as AsyncIterableIterator<Buffer>;
    for await (const line of lines) {
      expect(String(line)).toBe('a\n');
      break;
    }
    expect(await lines.next()).toEqual({ value: undefined, done: true });
    const closed = new BufferedReader(null, -1, null, Buffer.from('a\n'));
    closed.close();
    const failing = closed[Symbol.asyncIterator]();
    await expect(failing.next()).rejects.toThrow('I/O operation on closed file.');
    expect(await failing.next()).toEqual({ value: undefined, done: true });
  });
});
