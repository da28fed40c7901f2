// The socket's internal non-throwing paths (_trySend, _tryRecv,
// _tryRecvInto, _trySendto, _tryRecvfrom), which the package's own layers
// call where the public methods raise BlockingIOError, and accepted
// sockets, which accept() makes without asking the kernel what they are.
import { openSync, closeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { describe, expect, it } from 'vitest';
import * as errors from '../src/errors';
import * as S from '../src/socket';
import { socket, socketpair } from '../src/socket';
import { expectNoFdLeaks, ipv6Available } from './support';
import { thrown, tracker } from './socket-helpers';

expectNoFdLeaks();

const E = osConstants.errno;
const track = tracker();
const ipv6 = S.has_ipv6 && ipv6Available();

function pair(): [socket, socket] {
  const [a, b] = socketpair();
  a.setblocking(false);
  b.setblocking(false);
  return [track.sock(a), track.sock(b)];
}

/** Sends with _trySend() until the kernel's buffers are full; the bytes sent. */
function fill(a: socket): number {
  const chunk = Buffer.alloc(65536, 0x78);
  let total = 0;
  for (;;) {
    const sent = a._trySend(chunk);
    if (sent === -1) return total;
    total += sent;
  }
}

/** A connected TCP pair on the family's loopback: [client, the socket accept() made]. */
function tcpPair(family: number): [socket, socket] {
  const host = family === S.AF_INET6 ? '::1' : '127.0.0.1';
  const listener = track.sock(new socket(family, S.SOCK_STREAM));
  listener.bind([host, 0]);
  listener.listen();
  const client = track.sock(new socket(family, S.SOCK_STREAM));
  client.connect(listener.getsockname());
  const [accepted] = listener.accept();
  return [client, track.sock(accepted)];
}

describe('_tryRecv()', () => {
  it('is null where recv() raises BlockingIOError, and recv() still raises', () => {
    const [, b] = pair();
    expect(b._tryRecv(64)).toBeNull();
    const err = thrown(() => b.recv(64));
    expect(err).toBeInstanceOf(errors.BlockingIOError);
    expect(err.errno).toBe(E.EAGAIN);
  });

  it('returns the bytes sent, exactly, then an empty Buffer at end of stream', () => {
    const [a, b] = pair();
    const message = Buffer.from(Array.from({ length: 200 }, (_, i) => i));
    expect(a._trySend(message)).toBe(200);
    const first = b._tryRecv(64);
    expect(Buffer.isBuffer(first)).toBe(true);
    expect(first).toEqual(message.subarray(0, 64));
    const rest = b._tryRecv(1000);
    expect(rest).toEqual(message.subarray(64));
    // Each result is its own copy: a later read does not change it.
    a._trySend(Buffer.alloc(64, 0xff));
    expect(b._tryRecv(64)).toEqual(Buffer.alloc(64, 0xff));
    expect(first).toEqual(message.subarray(0, 64));
    a.close();
    const end = b._tryRecv(64);
    expect(end).not.toBeNull();
    expect(end!.length).toBe(0);
  });

  it('copies out exactly what each short read brought, as the sizes read and asked change', () => {
    const [a, b] = pair();
    // Reads shorter than asked, of one size then of others, with the
    // buffer size asked changing between them, and one larger than the
    // scratch buffer reads go to.
    const reads: Array<[number, number]> = [
      [10, 8192],
      [10, 8192],
      [30, 8192],
      [10, 8192],
      [10, 100],
      [64, 64],
      [5, 70000],
      [10, 8192],
    ];
    const results: Buffer[] = [];
    const expected: Buffer[] = [];
    reads.forEach(([length, bufsize], n) => {
      const message = Buffer.alloc(length, n + 1);
      expect(a._trySend(message)).toBe(length);
      const data = n % 2 === 0 ? b._tryRecv(bufsize) : b.recv(bufsize);
      expect(data).toEqual(message);
      expect(data!.buffer.byteLength === 65536 && data!.byteOffset === 0).toBe(false);
      results.push(data!);
      expected.push(message);
    });
    // No result shares memory with a later read.
    expect(results).toEqual(expected);
  });

  it('keeps each result its own when reads fill what they ask, come back short, or find nothing', () => {
    const [a, b] = pair();
    const results: Buffer[] = [];
    const expected: Buffer[] = [];
    const exchange = (length: number, bufsize: number, n: number): void => {
      const message = Buffer.alloc(length, n);
      expect(a._trySend(message)).toBe(length);
      const data = n % 2 === 0 ? b._tryRecv(bufsize)! : b.recv(bufsize);
      expect(data).toEqual(message);
      results.push(data);
      expected.push(message);
    };
    // Full reads in a row, then a short one, then none, then full again.
    for (let n = 1; n <= 4; n++) exchange(64, 64, n);
    exchange(10, 64, 5);
    for (let n = 6; n <= 7; n++) exchange(64, 64, n);
    expect(b._tryRecv(64)).toBeNull();
    expect(thrown(() => b.recv(64))).toBeInstanceOf(errors.BlockingIOError);
    for (let n = 8; n <= 9; n++) exchange(64, 64, n);
    exchange(3000, 3000, 10);
    exchange(3000, 3000, 11);
    expect(results).toEqual(expected);
    // The results are distinct memory: writing one leaves the others.
    results[1]!.fill(0xee);
    expect(results[2]).toEqual(expected[2]);
    expect(results[0]).toEqual(expected[0]);
  });

  it('passes flags (MSG_PEEK leaves the bytes there)', () => {
    const [a, b] = pair();
    a._trySend(Buffer.from('peek'));
    expect(b._tryRecv(16, S.MSG_PEEK)?.toString()).toBe('peek');
    expect(b._tryRecv(16)?.toString()).toBe('peek');
  });

  it('raises OSError EBADF after close(), as recv() does', () => {
    const [, b] = pair();
    b.close();
    const err = thrown(() => b._tryRecv(64));
    expect(err).toBeInstanceOf(errors.OSError);
    expect(err.errno).toBe(E.EBADF);
  });

  it('raises ConnectionResetError for a peer that reset the connection', () => {
    const [client, server] = tcpPair(S.AF_INET);
    server.setblocking(false);
    // SO_LINGER {on, 0 s}: close() sends RST.
    client.setsockopt(S.SOL_SOCKET, S.SO_LINGER, Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]));
    client.close();
    const err = thrown(() => server._tryRecv(64));
    expect(err).toBeInstanceOf(errors.ConnectionResetError);
    expect(err.errno).toBe(E.ECONNRESET);
  });

  it("keeps recv()'s argument errors and its timeout", () => {
    const [, b] = pair();
    expect(() => b._tryRecv('64' as unknown as number)).toThrow(/^recv\(\): bufsize must be an integer, not "64"$/);
    expect(() => b._tryRecv(-1)).toThrow(/^recv\(\): negative buffersize in recv: -1$/);
    expect(() => b._tryRecv(64, 1.5)).toThrow(/^recv\(\): flags must be an integer, not 1.5$/);
    expect(b._tryRecv(0)).toEqual(Buffer.alloc(0));
    // A socket with a timeout waits, and gives TimeoutError, not null.
    b.settimeout(0.02);
    const err = thrown(() => b._tryRecv(64));
    expect(err).toBeInstanceOf(errors.TimeoutError);
    expect(err.message).toBe('timed out');
  });
});

describe('_trySend()', () => {
  it('is -1 where send() raises BlockingIOError, and every byte sent arrives', () => {
    const [a, b] = pair();
    const sent = fill(a);
    expect(sent).toBeGreaterThan(0);
    expect(a._trySend(Buffer.from('x'))).toBe(-1);
    const err = thrown(() => a.send(Buffer.from('x')));
    expect(err).toBeInstanceOf(errors.BlockingIOError);
    expect(err.errno).toBe(E.EAGAIN);
    let received = 0;
    for (let data = b._tryRecv(65536); data !== null; data = b._tryRecv(65536)) {
      expect(data.every((byte) => byte === 0x78)).toBe(true);
      received += data.length;
    }
    expect(received).toBe(sent);
  });

  it('raises BrokenPipeError (EPIPE) once the peer is gone, and EBADF after close()', () => {
    const [a, b] = pair();
    b.close();
    const broken = thrown(() => a._trySend(Buffer.from('x')));
    expect(broken).toBeInstanceOf(errors.BrokenPipeError);
    expect(broken.errno).toBe(E.EPIPE);
    a.close();
    const closed = thrown(() => a._trySend(Buffer.from('x')));
    expect(closed).toBeInstanceOf(errors.OSError);
    expect(closed.errno).toBe(E.EBADF);
  });

  it("keeps send()'s argument errors", () => {
    const [a] = pair();
    expect(() => a._trySend('x' as unknown as Uint8Array)).toThrow(/^send\(\): data must be a Buffer or Uint8Array, not "x"$/);
    expect(() => a._trySend(Buffer.from('x'), '0' as unknown as number)).toThrow(/^send\(\): flags must be an integer/);
  });
});

describe('_tryRecvInto()', () => {
  it('reads into the buffer given: the count, -1 when there is nothing, 0 at end of stream', () => {
    const [a, b] = pair();
    const into = Buffer.alloc(8, 0);
    expect(b._tryRecvInto(into)).toBe(-1);
    a._trySend(Buffer.from('0123456789'));
    expect(b._tryRecvInto(into)).toBe(8);
    expect(into.toString()).toBe('01234567');
    // A view reads into its own bytes only.
    const view = new Uint8Array(into.buffer, into.byteOffset + 4, 4);
    expect(b._tryRecvInto(view)).toBe(2);
    expect(into.toString()).toBe('012389' + '67');
    a.close();
    expect(b._tryRecvInto(into)).toBe(0);
    b.close();
    expect(thrown(() => b._tryRecvInto(into)).errno).toBe(E.EBADF);
    expect(() => b._tryRecvInto([] as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('_trySendto() and _tryRecvfrom()', () => {
  it('carry datagrams with their address, null when none waits', () => {
    const receiver = track.sock(new socket(S.AF_INET, S.SOCK_DGRAM));
    receiver.bind(['127.0.0.1', 0]);
    receiver.setblocking(false);
    const sender = track.sock(new socket(S.AF_INET, S.SOCK_DGRAM));
    sender.bind(['127.0.0.1', 0]);
    expect(receiver._tryRecvfrom(100)).toBeNull();
    expect(thrown(() => receiver.recvfrom(100))).toBeInstanceOf(errors.BlockingIOError);
    expect(sender._trySendto(Buffer.from('datagram'), receiver.getsockname())).toBe(8);
    expect(sender._trySendto(Buffer.from('peek'), receiver.getsockname(), 0)).toBe(4);
    const got = receiver._tryRecvfrom(100);
    expect(got).toEqual([Buffer.from('datagram'), sender.getsockname()]);
    expect(receiver._tryRecvfrom(100, S.MSG_PEEK)?.[0].toString()).toBe('peek');
    expect(receiver._tryRecvfrom(100)?.[0].toString()).toBe('peek');
    expect(receiver._tryRecvfrom(100)).toBeNull();
  });

  it('_trySendto() is -1 where a full unix datagram queue makes sendto() raise', () => {
    const name = `\0asyncore-fastpath-${process.pid}`;
    const receiver = track.sock(new socket(S.AF_UNIX, S.SOCK_DGRAM));
    receiver.bind(name);
    const sender = track.sock(new socket(S.AF_UNIX, S.SOCK_DGRAM));
    sender.setblocking(false);
    const datagram = Buffer.alloc(1024, 0x61);
    let sent = 0;
    while (sender._trySendto(datagram, name) !== -1) {
      sent++;
      expect(sent).toBeLessThan(100_000);
    }
    expect(sent).toBeGreaterThan(0);
    expect(thrown(() => sender.sendto(datagram, name))).toBeInstanceOf(errors.BlockingIOError);
    receiver.setblocking(false);
    let received = 0;
    while (receiver._tryRecvfrom(2048) !== null) received++;
    expect(received).toBe(sent);
  });

  it("keep sendto()'s and recvfrom()'s errors", () => {
    const s = track.sock(new socket(S.AF_INET, S.SOCK_DGRAM));
    expect(() => s._trySendto('x' as unknown as Uint8Array, ['127.0.0.1', 1])).toThrow(/^sendto\(\): data must be/);
    expect(() => s._trySendto(Buffer.from('x'), ['127.0.0.1', 70000])).toThrow(/^sendto\(\): port must be 0-65535/);
    // sendto() through _trySendto(): flags given as undefined are still refused, data checked first.
    expect(() => s.sendto(Buffer.from('x'), undefined as unknown as number, ['127.0.0.1', 1])).toThrow(
      /^sendto\(\): flags must be an integer, not undefined$/,
    );
    expect(() => s.sendto('x' as unknown as Uint8Array, undefined as unknown as number, ['127.0.0.1', 1])).toThrow(
      /^sendto\(\): data must be/,
    );
    expect(() => s._tryRecvfrom(-1)).toThrow(/^recvfrom\(\): negative buffersize/);
    s.close();
    expect(thrown(() => s._tryRecvfrom(10)).errno).toBe(E.EBADF);
    expect(thrown(() => s._trySendto(Buffer.from('x'), ['127.0.0.1', 1])).errno).toBe(E.EBADF);
  });
});

describe('accepted sockets', () => {
  // [name, family, the listener's proto, whether the machine has the family]
  const cases: Array<[string, number, number, boolean]> = [
    ['AF_INET', S.AF_INET, 0, true],
    ['AF_INET', S.AF_INET, S.IPPROTO_TCP, true],
    ['AF_INET6', S.AF_INET6, 0, ipv6],
    ['AF_INET6', S.AF_INET6, S.IPPROTO_TCP, ipv6],
    ['AF_UNIX', S.AF_UNIX, 0, true],
  ];

  it.each(cases)("%s (%i), listener's proto %i: the kernel's family and type, the listener's proto (as CPython)", (_name, family, proto, available) => {
    if (!available) return;
    const listener = track.sock(new socket(family, S.SOCK_STREAM, proto));
    const address: S.Address =
      family === S.AF_UNIX ? `\0asyncore-accepted-${process.pid}` : [family === S.AF_INET6 ? '::1' : '127.0.0.1', 0];
    listener.bind(address);
    listener.listen();
    const client = track.sock(new socket(family, S.SOCK_STREAM));
    client.connect(listener.getsockname());
    const accepted = track.sock(listener.accept()[0]);
    const kernel = (option: number): number => accepted.getsockopt(S.SOL_SOCKET, option);
    expect([accepted.family, accepted.type, accepted.proto]).toEqual([family, S.SOCK_STREAM, proto]);
    expect([kernel(S.SO_DOMAIN), kernel(S.SO_TYPE)]).toEqual([family, S.SOCK_STREAM]);
    client.sendall(Buffer.from('hello'));
    expect(accepted.recv(5).toString()).toBe('hello');
  });

  it('leave nothing that lets a user fd skip its checks', () => {
    const [client, accepted] = tcpPair(S.AF_INET);
    const file = openSync(__filename, 'r');
    try {
      // Right after an accept, and with the accepted socket's own numbers.
      expect(thrown(() => new socket(undefined, undefined, undefined, file)).errno).toBe(E.ENOTSOCK);
      expect(thrown(() => new socket(accepted.family, accepted.type, accepted.proto, file)).errno).toBe(E.ENOTSOCK);
    } finally {
      closeSync(file);
    }
    // -1 is the fd no accept() is making: it is refused as any negative fd.
    expect(() => new socket(undefined, undefined, undefined, -1)).toThrow(
      /^socket\(\): fileno must be a file descriptor in \[0, 2\*\*31\), got -1$/,
    );
    // A fifth argument from user code is no way around the checks either.
    const extra = socket as unknown as new (...args: unknown[]) => socket;
    expect(thrown(() => new extra(S.AF_INET, S.SOCK_STREAM, 0, 99999, Symbol('accepted'))).errno).toBe(E.EBADF);
    client.close();
  });
});
