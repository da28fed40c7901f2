// Data through sockets: TCP over IPv4 and IPv6, unix (path and abstract),
// UDP, connect outcomes, flags, timeouts and large transfers.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as posix from '../src/posix';
import * as S from '../src/socket';
import { socket, socketpair } from '../src/socket';
import { expectNoFdLeaks, ipv6Available, sleep, TIMEOUT_MULTIPLIER, waitFor } from './support';
import { isCloexec, thrown, tracker } from './socket-helpers';

expectNoFdLeaks();

const E = osConstants.errno;
const track = tracker();
const ipv6 = S.has_ipv6 && ipv6Available();
const workDir = mkdtempSync(path.join(tmpdir(), 'asyncore-socket-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function sock(...args: ConstructorParameters<typeof socket>): socket {
  return track.sock(new socket(...args));
}

function pair(): [socket, socket] {
  const [a, b] = socketpair();
  return [track.sock(a), track.sock(b)];
}

/** A listening socket on the family's loopback (or a unix path/name). */
function listener(family: number, address: S.Address): socket {
  const l = sock(family, S.SOCK_STREAM);
  l.bind(address);
  l.listen();
  return l;
}

/** A port nothing listens on: bound (so nobody else takes it) but not listening. */
function closedPort(): [socket, number] {
  const holder = sock();
  holder.bind(['127.0.0.1', 0]);
  return [holder, (holder.getsockname() as [string, number])[1]];
}

const streamCases: Array<[string, number, () => S.Address, boolean]> = [
  ['IPv4', S.AF_INET, () => ['127.0.0.1', 0], true],
  ['IPv6', S.AF_INET6, () => ['::1', 0], ipv6],
  ['unix path', S.AF_UNIX, () => path.join(workDir, `tcp-${Math.random().toString(36).slice(2)}.sock`), true],
  ['unix abstract', S.AF_UNIX, () => `\0asyncore-${process.pid}-${Math.random().toString(36).slice(2)}`, true],
];

describe.each(streamCases)('stream over %s', (_name, family, address, available) => {
  it.skipIf(!available)('connects, accepts and carries data both ways (needs the family)', () => {
    const requested = address();
    const l = listener(family, requested);
    const serverAddress = l.getsockname();
    if (family === S.AF_UNIX) expect(serverAddress).toBe(requested);
    const c = sock(family, S.SOCK_STREAM);
    c.connect(serverAddress);
    const [server, peer] = l.accept();
    track.sock(server);
    expect([server.family, server.type, server.proto]).toEqual([l.family, l.type, l.proto]);
    expect(server.gettimeout()).toBe(null);
    expect(posix.get_blocking(server.fileno())).toBe(true);
    expect(server.get_inheritable()).toBe(false);
    expect(isCloexec(server.fileno())).toBe(true);
    expect(peer).toEqual(c.getsockname());
    expect(server.getpeername()).toEqual(c.getsockname());
    expect(c.getpeername()).toEqual(serverAddress);

    expect(c.send(Buffer.from('hello '))).toBe(6);
    c.sendall(Buffer.from('world'));
    let received = '';
    while (received.length < 11) received += server.recv(1024).toString();
    expect(received).toBe('hello world');
    server.sendall(Buffer.from('reply'));
    expect(c.recv(5).toString()).toBe('reply');

    c.shutdown(S.SHUT_WR);
    expect(server.recv(10).length).toBe(0);
    if (family === S.AF_UNIX && typeof requested === 'string' && !requested.startsWith('\0')) {
      rmSync(requested);
    }
  });
});

describe('unix sockets', () => {
  it("bind('') autobinds an abstract name (Linux)", () => {
    const s = sock(S.AF_UNIX, S.SOCK_DGRAM);
    s.bind('');
    const name = s.getsockname() as string;
    expect(name.startsWith('\0')).toBe(true);
    expect(name).toHaveLength(6);
  });

  it('a missing path is FileNotFoundError', () => {
    const err = thrown(() => sock(S.AF_UNIX).connect(path.join(workDir, 'missing.sock')));
    expect(err).toBeInstanceOf(S.FileNotFoundError);
    expect(err.errno).toBe(E.ENOENT);
  });

  it('datagrams carry the sender path', () => {
    const a = sock(S.AF_UNIX, S.SOCK_DGRAM);
    const b = sock(S.AF_UNIX, S.SOCK_DGRAM);
    const aName = `\0asyncore-dgram-a-${process.pid}`;
    const bName = `\0asyncore-dgram-b-${process.pid}`;
    a.bind(aName);
    b.bind(bName);
    expect(a.sendto(Buffer.from('hi'), bName)).toBe(2);
    expect(b.recvfrom(10)).toEqual([Buffer.from('hi'), aName]);
  });
});

const datagramCases: Array<[string, number, string, boolean]> = [
  ['IPv4', S.AF_INET, '127.0.0.1', true],
  ['IPv6', S.AF_INET6, '::1', ipv6],
];

describe.each(datagramCases)('UDP over %s', (_name, family, host, available) => {
  it.skipIf(!available)('sendto and recvfrom carry datagrams and addresses (needs the family)', () => {
    const a = sock(family, S.SOCK_DGRAM);
    const b = sock(family, S.SOCK_DGRAM);
    a.bind([host, 0]);
    b.bind([host, 0]);
    b.settimeout(5);
    expect(a.sendto(Buffer.from('first'), b.getsockname())).toBe(5);
    expect(a.sendto(Buffer.from('second'), 0, b.getsockname())).toBe(6);
    const [data, from] = b.recvfrom(100);
    expect(data.toString()).toBe('first');
    expect(from).toEqual(a.getsockname());
    expect(b.recv(100).toString()).toBe('second');
  });

  it.skipIf(!available)('a datagram larger than bufsize is cut to bufsize (needs the family)', () => {
    const a = sock(family, S.SOCK_DGRAM);
    const b = sock(family, S.SOCK_DGRAM);
    b.bind([host, 0]);
    b.settimeout(5);
    a.sendto(Buffer.from('0123456789'), b.getsockname());
    expect(b.recv(4).toString()).toBe('0123');
  });

  it.skipIf(!available)('connect() fixes the peer for send() (needs the family)', () => {
    const a = sock(family, S.SOCK_DGRAM);
    const b = sock(family, S.SOCK_DGRAM);
    b.bind([host, 0]);
    b.settimeout(5);
    a.connect(b.getsockname());
    a.send(Buffer.from('connected'));
    expect(b.recv(100).toString()).toBe('connected');
  });
});

describe('connect outcomes', () => {
  it('a blocking connect to a closed port is ConnectionRefusedError', () => {
    const [, port] = closedPort();
    const err = thrown(() => sock().connect(['127.0.0.1', port]));
    expect(err).toBeInstanceOf(S.ConnectionRefusedError);
    expect(err.errno).toBe(E.ECONNREFUSED);
    expect(err.code).toBe('ECONNREFUSED');
  });

  it('connect_ex returns ECONNREFUSED, and 0 on success', () => {
    const [, port] = closedPort();
    expect(sock().connect_ex(['127.0.0.1', port])).toBe(E.ECONNREFUSED);
    const l = listener(S.AF_INET, ['127.0.0.1', 0]);
    expect(sock().connect_ex(l.getsockname())).toBe(0);
  });

  it('connect_ex still raises for a bad address', () => {
    expect(() => sock().connect_ex(['127.0.0.1', 'x'] as unknown as S.Address)).toThrow(TypeError);
    expect(thrown(() => sock().connect_ex(['no-such-host.invalid', 1]))).toBeInstanceOf(S.gaierror);
  });

  it('a non-blocking connect completes later; SO_ERROR then reads 0', async () => {
    const l = listener(S.AF_INET, ['127.0.0.1', 0]);
    const c = sock();
    c.setblocking(false);
    try {
      c.connect(l.getsockname());
    } catch (err) {
      expect(err).toBeInstanceOf(S.BlockingIOError);
      expect((err as S.OSError).errno).toBe(E.EINPROGRESS);
    }
    await waitFor(() => {
      try {
        c.getpeername();
        return true;
      } catch {
        return false;
      }
    });
    expect(c.getsockopt(S.SOL_SOCKET, S.SO_ERROR)).toBe(0);
    l.setblocking(false);
    const [server] = l.accept();
    track.sock(server);
    expect(server.gettimeout()).toBe(null);
    expect(posix.get_blocking(server.fileno())).toBe(true);
  });

  it('a non-blocking connect to a closed port reports ECONNREFUSED through SO_ERROR', async () => {
    const [, port] = closedPort();
    const c = sock();
    c.setblocking(false);
    const first = c.connect_ex(['127.0.0.1', port]);
    expect([E.EINPROGRESS, E.ECONNREFUSED]).toContain(first);
    if (first === E.EINPROGRESS) {
      let soError = 0;
      await waitFor(() => (soError = c.getsockopt(S.SOL_SOCKET, S.SO_ERROR) as number) !== 0);
      expect(soError).toBe(E.ECONNREFUSED);
    }
  });

  it('connect with a timeout succeeds and keeps the timeout', () => {
    const l = listener(S.AF_INET, ['127.0.0.1', 0]);
    const c = sock();
    c.settimeout(5);
    c.connect(l.getsockname());
    expect(c.gettimeout()).toBe(5);
    expect(c.getpeername()).toEqual(l.getsockname());
  });

  it('connect with a timeout to a closed port is ConnectionRefusedError', () => {
    const [, port] = closedPort();
    const c = sock();
    c.settimeout(5);
    expect(thrown(() => c.connect(['127.0.0.1', port]))).toBeInstanceOf(S.ConnectionRefusedError);
  });
});

describe('errors on a broken connection', () => {
  it('send to a closed unix peer is BrokenPipeError and the process lives (no SIGPIPE)', () => {
    const [a, b] = pair();
    b.close();
    const err = thrown(() => a.send(Buffer.from('x')));
    expect(err).toBeInstanceOf(S.BrokenPipeError);
    expect(err.errno).toBe(E.EPIPE);
    expect(thrown(() => a.sendall(Buffer.from('x')))).toBeInstanceOf(S.BrokenPipeError);
  });

  it('send to a TCP peer that closed with unread data is EPIPE or ECONNRESET', async () => {
    const l = listener(S.AF_INET, ['127.0.0.1', 0]);
    const c = sock();
    c.connect(l.getsockname());
    const [server] = l.accept();
    c.sendall(Buffer.from('unread'));
    await sleep(20);
    server.close(); // unread data makes the kernel send a RST
    await sleep(20);
    let err: Error | undefined;
    for (let i = 0; i < 10 && !err; i++) {
      try {
        c.send(Buffer.from('more'));
        await sleep(10);
      } catch (caught) {
        err = caught as Error;
      }
    }
    expect(err).toBeInstanceOf(S.ConnectionError);
    expect([E.EPIPE, E.ECONNRESET]).toContain((err as S.OSError).errno);
  });

  it('recv on a reset connection is ConnectionResetError', async () => {
    const l = listener(S.AF_INET, ['127.0.0.1', 0]);
    const c = sock();
    c.connect(l.getsockname());
    const [server] = l.accept();
    track.sock(server);
    // SO_LINGER with a zero timeout makes close() send a RST.
    const linger = Buffer.alloc(8);
    linger.writeInt32LE(1, 0);
    server.setsockopt(S.SOL_SOCKET, S.SO_LINGER, linger);
    server.close();
    await sleep(20);
    c.settimeout(5);
    expect(thrown(() => c.recv(10))).toBeInstanceOf(S.ConnectionResetError);
  });
});

describe('recv flags', () => {
  it('MSG_PEEK leaves the data to be read again', () => {
    const [a, b] = pair();
    a.sendall(Buffer.from('peekaboo'));
    expect(b.recv(4, S.MSG_PEEK).toString()).toBe('peek');
    expect(b.recv(100).toString()).toBe('peekaboo');
  });

  it('MSG_PEEK with recvfrom', () => {
    const a = sock(S.AF_INET, S.SOCK_DGRAM);
    const b = sock(S.AF_INET, S.SOCK_DGRAM);
    a.bind(['127.0.0.1', 0]);
    b.bind(['127.0.0.1', 0]);
    b.settimeout(5);
    a.sendto(Buffer.from('dgram'), b.getsockname());
    const [peeked, from] = b.recvfrom(100, S.MSG_PEEK);
    expect(peeked.toString()).toBe('dgram');
    expect(from).toEqual(a.getsockname());
    expect(b.recvfrom(100)[0].toString()).toBe('dgram');
  });

  it('MSG_DONTWAIT on a blocking socket with nothing to read is BlockingIOError', () => {
    const [, b] = pair();
    const err = thrown(() => b.recv(10, S.MSG_DONTWAIT));
    expect(err).toBeInstanceOf(S.BlockingIOError);
    expect(err.errno).toBe(E.EAGAIN);
  });

  it('MSG_OOB carries a byte of urgent data over TCP', () => {
    const l = listener(S.AF_INET, ['127.0.0.1', 0]);
    const c = sock();
    c.connect(l.getsockname());
    const [server] = l.accept();
    track.sock(server);
    server.settimeout(5);
    c.send(Buffer.from('normal'));
    expect(c.send(Buffer.from('!'), S.MSG_OOB)).toBe(1);
    expect(server.recv(1, S.MSG_OOB).toString()).toBe('!');
    expect(server.recv(100).toString()).toBe('normal');
  });

  it('recv on a connected stream socket via recvfrom gives the data', () => {
    const [a, b] = pair();
    a.sendall(Buffer.from('abc'));
    expect(b.recvfrom(10)[0].toString()).toBe('abc');
  });

  it('recv(0) is empty at once, as in Python (no system call)', () => {
    expect(sock().recv(0).length).toBe(0);
    const [a] = pair();
    expect(a.recv(0).length).toBe(0);
  });

  it('a small result of a large recv does not keep the large buffer alive', () => {
    const [a, b] = pair();
    a.sendall(Buffer.from('small'));
    const data = b.recv(8 * 1024 * 1024);
    expect(data.toString()).toBe('small');
    expect(data.buffer.byteLength).toBeLessThan(64 * 1024);
    a.sendall(Buffer.from('next'));
    const next = b.recv(1000);
    expect(data.toString()).toBe('small');
    expect(next.toString()).toBe('next');
  });
});

describe('non-blocking mode and timeouts', () => {
  it('a non-blocking recv with nothing to read is BlockingIOError', () => {
    const [, b] = pair();
    b.setblocking(false);
    expect(thrown(() => b.recv(10)).errno).toBe(E.EAGAIN);
    expect(thrown(() => b.recvfrom(10))).toBeInstanceOf(S.BlockingIOError);
  });

  it('a non-blocking accept with no connection is BlockingIOError', () => {
    const l = listener(S.AF_INET, ['127.0.0.1', 0]);
    l.setblocking(false);
    expect(thrown(() => l.accept())).toBeInstanceOf(S.BlockingIOError);
  });

  it('settimeout(0.2): recv raises TimeoutError "timed out" after about 0.2 s', () => {
    const [, b] = pair();
    b.settimeout(0.2);
    const started = performance.now();
    const err = thrown(() => b.recv(10));
    const elapsed = performance.now() - started;
    expect(err).toBeInstanceOf(S.timeout);
    expect(err).toBeInstanceOf(S.error);
    expect(err.message).toBe('timed out');
    expect(err.errno).toBe(null);
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2000 * TIMEOUT_MULTIPLIER);
  });

  it('accept and recvfrom time out too', () => {
    const l = listener(S.AF_INET, ['127.0.0.1', 0]);
    l.settimeout(0.05);
    expect(thrown(() => l.accept())).toBeInstanceOf(S.TimeoutError);
    const u = sock(S.AF_INET, S.SOCK_DGRAM);
    u.bind(['127.0.0.1', 0]);
    u.settimeout(0.05);
    expect(thrown(() => u.recvfrom(10)).message).toBe('timed out');
  });

  it('a connection accepted with a timeout is blocking (Lib/socket.py)', () => {
    const l = listener(S.AF_INET, ['127.0.0.1', 0]);
    l.settimeout(5);
    const c = sock();
    c.connect(l.getsockname());
    const [server] = l.accept();
    track.sock(server);
    expect(server.gettimeout()).toBe(null);
    expect(posix.get_blocking(server.fileno())).toBe(true);
  });

  it('with a default timeout, accepted connections get it', () => {
    const l = listener(S.AF_INET, ['127.0.0.1', 0]);
    const c = sock();
    c.connect(l.getsockname());
    S.setdefaulttimeout(4);
    try {
      const [server] = l.accept();
      track.sock(server);
      expect(server.gettimeout()).toBe(4);
      expect(posix.get_blocking(server.fileno())).toBe(false);
    } finally {
      S.setdefaulttimeout(null);
    }
  });

  it('sendall with a timeout and no reader times out once for the whole call', () => {
    const [a] = pair();
    a.settimeout(0.3);
    const started = performance.now();
    const err = thrown(() => a.sendall(Buffer.alloc(16 * 1024 * 1024)));
    const elapsed = performance.now() - started;
    expect(err).toBeInstanceOf(S.TimeoutError);
    expect(err.message).toBe('timed out');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3000 * TIMEOUT_MULTIPLIER);
  });

  it('a non-blocking sendall that fills the buffer is BlockingIOError', () => {
    const [a] = pair();
    a.setblocking(false);
    expect(thrown(() => a.sendall(Buffer.alloc(16 * 1024 * 1024)))).toBeInstanceOf(S.BlockingIOError);
  });

  it('send with a timeout on a full buffer is TimeoutError', () => {
    const [a] = pair();
    a.setblocking(false);
    while (true) {
      try {
        a.send(Buffer.alloc(65536));
      } catch {
        break;
      }
    }
    a.settimeout(0.05);
    expect(thrown(() => a.send(Buffer.from('x')))).toBeInstanceOf(S.TimeoutError);
  });
});

describe('large transfers', () => {
  it('sendall of 8 MiB on a socket with a timeout reaches a reader in a child process intact', async () => {
    const size = 8 * 1024 * 1024;
    const payload = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4) payload.writeUInt32LE(i, i);
    const l = listener(S.AF_INET, ['127.0.0.1', 0]);
    l.settimeout(10 * TIMEOUT_MULTIPLIER);
    const port = (l.getsockname() as [string, number])[1];
    // The reader runs outside this process: a blocking sendall holds the
    // JavaScript thread until the last byte is taken.
    const reader = `
      const net = require('node:net');
      const crypto = require('node:crypto');
      const hash = crypto.createHash('sha256');
      let total = 0;
      net.connect(${port}, '127.0.0.1').on('data', (d) => { total += d.length; hash.update(d); })
        .on('end', () => { process.stdout.write(total + ' ' + hash.digest('hex')); });
    `;
    const child = spawn(process.execPath, ['-e', reader], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const [conn] = l.accept();
    track.sock(conn);
    conn.settimeout(20 * TIMEOUT_MULTIPLIER);
    conn.sendall(payload);
    conn.close();
    expect(await exited).toBe(0);
    const { createHash } = await import('node:crypto');
    expect(output).toBe(`${size} ${createHash('sha256').update(payload).digest('hex')}`);
  });

  it('sendall of several MiB through a socketpair, read on a non-blocking peer', () => {
    const [a, b] = pair();
    const size = 4 * 1024 * 1024;
    const payload = Buffer.alloc(size);
    for (let i = 0; i < size; i++) payload[i] = (i * 7) & 0xff;
    b.setblocking(false);
    a.setblocking(false);
    const chunks: Buffer[] = [];
    let received = 0;
    let sent = 0;
    // Alternate non-blocking sends and reads until all has crossed.
    while (received < size) {
      if (sent < size) {
        try {
          sent += a.send(payload.subarray(sent, sent + 256 * 1024));
        } catch (err) {
          if (!(err instanceof S.BlockingIOError)) throw err;
        }
      }
      try {
        const chunk = b.recv(1024 * 1024);
        chunks.push(chunk);
        received += chunk.length;
      } catch (err) {
        if (!(err instanceof S.BlockingIOError)) throw err;
      }
    }
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
  });
});
