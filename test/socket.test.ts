// The socket class without data transfer: state, options, addresses,
// errors. Data transfer is in socket-io.test.ts.
import { constants as osConstants } from 'node:os';
import * as util from 'node:util';
import { describe, expect, it } from 'vitest';
import { binding } from '../src/binding';
import * as errors from '../src/errors';
import * as posix from '../src/posix';
import * as S from '../src/socket';
import { socket, socketpair } from '../src/socket';
import { expectNoFdLeaks, ipv6Available } from './support';
import { isCloexec, thrown, tracker } from './socket-helpers';

expectNoFdLeaks();

const E = osConstants.errno;
const track = tracker();
const ipv6 = S.has_ipv6 && ipv6Available();

function sock(...args: ConstructorParameters<typeof socket>): socket {
  return track.sock(new socket(...args));
}

describe('module', () => {
  it('exports the documented constants with the kernel values', () => {
    const names = [
      'AF_INET', 'AF_INET6', 'AF_UNIX', 'SOCK_STREAM', 'SOCK_DGRAM', 'SOL_SOCKET', 'SO_REUSEADDR',
      'SO_REUSEPORT', 'SO_ERROR', 'SO_RCVBUF', 'SO_SNDBUF', 'SO_KEEPALIVE', 'SO_LINGER', 'SO_RCVTIMEO', 'SO_SNDTIMEO',
      'IPPROTO_TCP',
      'TCP_NODELAY', 'MSG_OOB', 'MSG_PEEK', 'MSG_DONTWAIT', 'SHUT_RD', 'SHUT_WR', 'SHUT_RDWR',
    ];
    const linux: Record<string, number> = {
      AF_INET: 2, AF_INET6: 10, AF_UNIX: 1, SOCK_STREAM: 1, SOCK_DGRAM: 2, SOL_SOCKET: 1, SO_REUSEADDR: 2,
      SO_REUSEPORT: 15, SO_ERROR: 4, SO_RCVBUF: 8, SO_SNDBUF: 7, SO_KEEPALIVE: 9, SO_LINGER: 13,
      SO_RCVTIMEO: 20, SO_SNDTIMEO: 21,
      IPPROTO_TCP: 6, TCP_NODELAY: 1, MSG_OOB: 1, MSG_PEEK: 2, MSG_DONTWAIT: 64, SHUT_RD: 0, SHUT_WR: 1,
      SHUT_RDWR: 2,
    };
    const exported = S as unknown as Record<string, number>;
    for (const name of names) {
      expect(exported[name], name).toBe(binding.constants[name] ?? linux[name]);
      expect(exported[name], name).toBe(linux[name]);
    }
  });

  it('error is OSError, timeout is TimeoutError, gaierror an OSError', () => {
    expect(S.error).toBe(errors.OSError);
    expect(S.timeout).toBe(errors.TimeoutError);
    expect(S.gaierror).toBe(errors.gaierror);
    expect(new S.gaierror(-2, 'x')).toBeInstanceOf(S.error);
    expect(S.ConnectionRefusedError).toBe(errors.ConnectionRefusedError);
    expect(S.BrokenPipeError).toBe(errors.BrokenPipeError);
  });

  it('has_ipv6 is a boolean', () => {
    expect(typeof S.has_ipv6).toBe('boolean');
  });

  it('setdefaulttimeout applies to new sockets', () => {
    expect(S.getdefaulttimeout()).toBe(null);
    S.setdefaulttimeout(2.5);
    try {
      const s = sock();
      expect(s.gettimeout()).toBe(2.5);
      expect(posix.get_blocking(s.fileno())).toBe(false);
    } finally {
      S.setdefaulttimeout(null);
    }
    expect(sock().gettimeout()).toBe(null);
    expect(() => S.setdefaulttimeout(-1)).toThrow(RangeError);
  });
});

describe('new socket', () => {
  it('defaults to a blocking, non-inheritable AF_INET stream socket', () => {
    const s = sock();
    expect([s.family, s.type, s.proto]).toEqual([S.AF_INET, S.SOCK_STREAM, 0]);
    expect(s.fileno()).toBeGreaterThanOrEqual(0);
    expect(s.gettimeout()).toBe(null);
    expect(s.getblocking()).toBe(true);
    expect(posix.get_blocking(s.fileno())).toBe(true);
    expect(s.get_inheritable()).toBe(false);
    expect(isCloexec(s.fileno())).toBe(true);
  });

  it.each([
    ['AF_INET', S.AF_INET, S.SOCK_DGRAM],
    ['AF_UNIX', S.AF_UNIX, S.SOCK_STREAM],
    ['AF_UNIX', S.AF_UNIX, S.SOCK_DGRAM],
  ])('%s type %i', (_name, family, type) => {
    const s = sock(family, type);
    expect([s.family, s.type]).toEqual([family, type]);
    expect(isCloexec(s.fileno())).toBe(true);
  });

  it.skipIf(!ipv6)('AF_INET6 (needs an IPv6 loopback)', () => {
    const s = sock(S.AF_INET6, S.SOCK_STREAM);
    expect(s.family).toBe(S.AF_INET6);
  });

  it('SOCK_NONBLOCK makes it non-blocking; type hides the flags', () => {
    const s = sock(S.AF_INET, S.SOCK_STREAM | S.SOCK_NONBLOCK | S.SOCK_CLOEXEC);
    expect(s.type).toBe(S.SOCK_STREAM);
    expect(s.gettimeout()).toBe(0);
    expect(s.getblocking()).toBe(false);
    expect(posix.get_blocking(s.fileno())).toBe(false);
  });

  it('rejects bad arguments like Python', () => {
    expect(() => new socket('x' as unknown as number)).toThrow(/family must be an integer, not "x"/);
    expect(() => new socket(S.AF_INET, 1.5)).toThrow(TypeError);
    expect(thrown(() => new socket(12345)).errno).toBe(E.EAFNOSUPPORT);
    expect(thrown(() => new socket(S.AF_INET, 12345)).errno).toBe(E.EINVAL);
    expect(() => new socket(undefined, undefined, undefined, -5)).toThrow(RangeError);
    expect(() => new socket(undefined, undefined, undefined, -5)).toThrow(/fileno must be a file descriptor in \[0, 2\*\*31\), got -5/);
    expect(() => new socket(undefined, undefined, undefined, 'x' as unknown as number)).toThrow(TypeError);
  });
});

describe('socket(fileno=...)', () => {
  it('takes the fd and reads family, type and proto from the kernel', () => {
    const original = sock(S.AF_INET, S.SOCK_DGRAM);
    const adopted = sock(undefined, undefined, undefined, original.detach());
    expect([adopted.family, adopted.type, adopted.proto]).toEqual([S.AF_INET, S.SOCK_DGRAM, S.IPPROTO_UDP]);
    const stream = sock(S.AF_INET, S.SOCK_STREAM);
    const adoptedStream = sock(null, null, null, stream.detach());
    expect([adoptedStream.family, adoptedStream.type, adoptedStream.proto]).toEqual([
      S.AF_INET, S.SOCK_STREAM, S.IPPROTO_TCP,
    ]);
  });

  it('keeps what is given explicitly', () => {
    const [a, b] = socketpair();
    track.sock(a);
    track.sock(b);
    const adopted = sock(S.AF_UNIX, S.SOCK_STREAM, 0, a.detach());
    expect([adopted.family, adopted.type, adopted.proto]).toEqual([S.AF_UNIX, S.SOCK_STREAM, 0]);
    adopted.sendall(Buffer.from('x'));
    expect(b.recv(1).toString()).toBe('x');
  });

  it('refuses a pipe (ENOTSOCK) and a closed fd (EBADF)', () => {
    const [r, w] = posix.pipe();
    track.fd(r);
    track.fd(w);
    expect(thrown(() => new socket(undefined, undefined, undefined, r)).errno).toBe(E.ENOTSOCK);
    posix.close(w);
    expect(thrown(() => new socket(undefined, undefined, undefined, w)).errno).toBe(E.EBADF);
  });
});

describe('blocking and timeouts', () => {
  it('setblocking and settimeout set the mode and the fd flag', () => {
    const s = sock();
    const fd = s.fileno();
    s.setblocking(false);
    expect([s.gettimeout(), s.getblocking(), posix.get_blocking(fd)]).toEqual([0, false, false]);
    s.setblocking(true);
    expect([s.gettimeout(), s.getblocking(), posix.get_blocking(fd)]).toEqual([null, true, true]);
    s.settimeout(1.5);
    expect([s.gettimeout(), s.getblocking(), posix.get_blocking(fd)]).toEqual([1.5, true, false]);
    s.settimeout(0);
    expect([s.gettimeout(), s.getblocking(), posix.get_blocking(fd)]).toEqual([0, false, false]);
    s.settimeout(null);
    expect([s.gettimeout(), s.getblocking(), posix.get_blocking(fd)]).toEqual([null, true, true]);
  });

  it('setblocking takes 0 and 1, as Python code passes them', () => {
    const s = sock();
    s.setblocking(0 as unknown as boolean);
    expect(s.gettimeout()).toBe(0);
    s.setblocking(1 as unknown as boolean);
    expect(s.gettimeout()).toBe(null);
  });

  it('rejects bad timeouts', () => {
    const s = sock();
    expect(() => s.settimeout(-1)).toThrow(RangeError);
    expect(() => s.settimeout(-1)).toThrow(/Timeout value out of range: -1/);
    expect(() => s.settimeout(NaN)).toThrow(/NaN/);
    expect(() => s.settimeout(Infinity)).toThrow(RangeError);
    expect(() => s.settimeout('1' as unknown as number)).toThrow(TypeError);
    expect(() => s.setblocking('x' as unknown as boolean)).toThrow(/flag must be a boolean, not "x"/);
    expect(s.gettimeout()).toBe(null);
  });

  it('SO_RCVTIMEO bounds a blocking recv(), which then fails with EAGAIN as in CPython', () => {
    const [a, b] = socketpair();
    track.sock(a);
    track.sock(b);
    const timeval = Buffer.alloc(16);
    timeval.writeBigInt64LE(20_000n, 8);
    a.setsockopt(S.SOL_SOCKET, S.SO_RCVTIMEO, timeval);
    expect(a.getsockopt(S.SOL_SOCKET, S.SO_RCVTIMEO, 16)).toEqual(timeval);
    const err = thrown(() => a.recv(1));
    expect(err).toBeInstanceOf(errors.BlockingIOError);
    expect((err as errors.OSError).errno).toBe(E.EAGAIN);
    b.send(Buffer.from('x'));
    expect(a.recv(1)).toEqual(Buffer.from('x'));
  });
});

describe('inheritable', () => {
  it('set_inheritable toggles FD_CLOEXEC', () => {
    const s = sock();
    s.set_inheritable(true);
    expect(s.get_inheritable()).toBe(true);
    expect(isCloexec(s.fileno())).toBe(false);
    s.set_inheritable(false);
    expect(s.get_inheritable()).toBe(false);
    expect(isCloexec(s.fileno())).toBe(true);
    expect(() => s.set_inheritable('x' as unknown as boolean)).toThrow(TypeError);
  });
});

describe('close, detach, dup', () => {
  it('close is idempotent and fileno() becomes -1', () => {
    const s = sock();
    s.close();
    expect(s.fileno()).toBe(-1);
    s.close();
    expect(s.fileno()).toBe(-1);
  });

  it('every operation on a closed socket is OSError EBADF', () => {
    const s = sock();
    s.close();
    const ops: Array<[string, () => unknown]> = [
      ['setblocking', () => s.setblocking(false)],
      ['settimeout', () => s.settimeout(1)],
      ['get_inheritable', () => s.get_inheritable()],
      ['set_inheritable', () => s.set_inheritable(true)],
      ['bind', () => s.bind(['127.0.0.1', 0])],
      ['listen', () => s.listen()],
      ['accept', () => s.accept()],
      ['connect', () => s.connect(['127.0.0.1', 9])],
      ['send', () => s.send(Buffer.from('x'))],
      ['sendall', () => s.sendall(Buffer.from('x'))],
      ['sendto', () => s.sendto(Buffer.from('x'), ['127.0.0.1', 9])],
      ['recv', () => s.recv(1)],
      ['recvfrom', () => s.recvfrom(1)],
      ['shutdown', () => s.shutdown(S.SHUT_RDWR)],
      ['dup', () => s.dup()],
      ['getsockname', () => s.getsockname()],
      ['getpeername', () => s.getpeername()],
      ['setsockopt', () => s.setsockopt(S.SOL_SOCKET, S.SO_REUSEADDR, 1)],
      ['getsockopt', () => s.getsockopt(S.SOL_SOCKET, S.SO_TYPE)],
      ['getsockopt buflen', () => s.getsockopt(S.SOL_SOCKET, S.SO_LINGER, 8)],
    ];
    for (const [name, op] of ops) {
      const err = thrown(op);
      expect(err, name).toBeInstanceOf(S.error);
      expect(err.errno, name).toBe(E.EBADF);
      expect(err.message, name).toBe(`[Errno ${E.EBADF}] Bad file descriptor`);
    }
    expect(s.connect_ex(['127.0.0.1', 9])).toBe(E.EBADF);
  });

  it('an fd closed behind the socket gives EBADF from the kernel (CPython test_socket_close)', () => {
    const s = sock();
    s.bind(['127.0.0.1', 0]);
    posix.close(s.fileno());
    expect(thrown(() => s.listen(1)).errno).toBe(E.EBADF);
    expect(thrown(() => s.close()).errno).toBe(E.EBADF);
  });

  it('detach gives up the fd without closing it', () => {
    const s = sock();
    const fd = s.detach();
    expect(s.fileno()).toBe(-1);
    expect(posix.get_blocking(fd)).toBe(true);
    posix.close(fd);
    s.close();
    expect(String(s)).toMatch(/\[closed\] fd=-1/);
  });

  it('dup makes a non-inheritable socket on the same connection, with the timeout', () => {
    const [a, b] = socketpair();
    track.sock(a);
    track.sock(b);
    a.settimeout(3);
    const c = track.sock(a.dup());
    expect(c.fileno()).not.toBe(a.fileno());
    expect([c.family, c.type, c.proto, c.gettimeout()]).toEqual([a.family, a.type, a.proto, 3]);
    expect(c.get_inheritable()).toBe(false);
    expect(isCloexec(c.fileno())).toBe(true);
    c.sendall(Buffer.from('from dup'));
    expect(b.recv(100).toString()).toBe('from dup');
  });

  it('dup keeps the subclass', () => {
    class Mine extends socket {}
    const m = track.sock(new Mine());
    expect(track.sock(m.dup())).toBeInstanceOf(Mine);
  });
});

describe('toString and inspect', () => {
  it('shows fd, family, type, proto and laddr as Python repr does', () => {
    const s = sock();
    expect(String(s)).toBe(`<socket.socket fd=${s.fileno()}, family=2, type=1, proto=0, laddr=('0.0.0.0', 0)>`);
    s.bind(['127.0.0.1', 0]);
    const port = (s.getsockname() as [string, number])[1];
    expect(s.toString()).toBe(
      `<socket.socket fd=${s.fileno()}, family=2, type=1, proto=0, laddr=('127.0.0.1', ${port})>`,
    );
    expect(util.inspect(s)).toBe(s.toString());
  });

  it('shows raddr when connected, and a unix path unquoted', () => {
    const [a, b] = socketpair();
    track.sock(a);
    track.sock(b);
    expect(a.toString()).toBe(`<socket.socket fd=${a.fileno()}, family=1, type=1, proto=0>`);
    const l = sock();
    l.bind(['127.0.0.1', 0]);
    l.listen();
    const c = sock();
    c.connect(l.getsockname());
    const [lhost, lport] = c.getsockname() as [string, number];
    const [, rport] = l.getsockname() as [string, number];
    expect(c.toString()).toBe(
      `<socket.socket fd=${c.fileno()}, family=2, type=1, proto=0, laddr=('${lhost}', ${lport}), ` +
        `raddr=('127.0.0.1', ${rport})>`,
    );
    const [accepted] = l.accept();
    track.sock(accepted);
  });

  it('shows [closed] after close, and the class name of a subclass', () => {
    class Custom extends socket {}
    const s = track.sock(new Custom(S.AF_INET, S.SOCK_DGRAM));
    expect(s.toString()).toMatch(/^<socket\.Custom fd=\d+, family=2, type=2, proto=0, laddr=\('0\.0\.0\.0', 0\)>$/);
    s.close();
    expect(s.toString()).toBe('<socket.Custom [closed] fd=-1, family=2, type=2, proto=0>');
  });
});

describe('address checks (CPython getsockaddrarg)', () => {
  it('AF_INET wants a [host, port] pair', () => {
    const s = sock();
    expect(() => s.bind('127.0.0.1' as unknown as S.Address)).toThrow(TypeError);
    expect(() => s.bind('127.0.0.1' as unknown as S.Address)).toThrow(/bind\(\): AF_INET address .*"127.0.0.1"/);
    expect(() => s.connect(['127.0.0.1'] as unknown as S.Address)).toThrow(/pair \[host, port\], not \["127.0.0.1"\]/);
    expect(() => s.connect(['127.0.0.1', 80, 1] as unknown as S.Address)).toThrow(TypeError);
    expect(() => s.connect([1, 80] as unknown as S.Address)).toThrow(/host must be a string, not 1/);
    expect(() => s.connect(['127.0.0.1', '80'] as unknown as S.Address)).toThrow(/port must be an integer, not "80"/);
    expect(() => s.connect(['127.0.0.1', 1.5])).toThrow(TypeError);
    expect(() => s.connect(['127.\0.0.1', 80])).toThrow(/null character/);
  });

  it('a port out of 0-65535 is a RangeError naming it', () => {
    const s = sock();
    expect(() => s.bind(['127.0.0.1', 70000])).toThrow(RangeError);
    expect(() => s.bind(['127.0.0.1', 70000])).toThrow(/bind\(\): port must be 0-65535\. Got 70000/);
    expect(() => s.connect(['127.0.0.1', -1])).toThrow(/connect\(\): port must be 0-65535\. Got -1/);
    expect(() => s.connect_ex(['127.0.0.1', 65536])).toThrow(RangeError);
  });

  it('AF_INET6 takes 2 to 4 items and checks flowinfo and scope_id', () => {
    const family = S.AF_INET6;
    const check = (address: unknown) => () => S.sockaddrFor(family, S.SOCK_STREAM, address, 'connect');
    expect(check(['::1'])).toThrow(TypeError);
    expect(check(['::1', 0, 0, 0, 0])).toThrow(TypeError);
    expect(check(['::1', 0, 0x100000])).toThrow(/flowinfo must be 0-1048575\. Got 1048576/);
    expect(check(['::1', 0, 'x'])).toThrow(TypeError);
    expect(check(['::1', 0, 0, -1])).toThrow(/scope_id must be 0-4294967295\. Got -1/);
    expect(check(['::1', 0, 0, 2 ** 32])).toThrow(RangeError);
    expect(check(['::1', 0, 0, 'x'])).toThrow(/scope_id must be an integer/);
    expect(check(['<broadcast>', 0])).toThrow(S.error);
    expect(check(['<broadcast>', 0])).toThrow('address family mismatched');
    expect(S.sockaddrFor(family, S.SOCK_STREAM, ['::1', 80, 5, 0]).length).toBe(28);
  });

  it('AF_UNIX takes a string path and checks its length', () => {
    const s = sock(S.AF_UNIX);
    expect(() => s.connect(['a', 1] as unknown as S.Address)).toThrow(/AF_UNIX address must be a string path/);
    const tooLong = thrown(() => s.connect('a'.repeat(108)));
    expect(tooLong).toBeInstanceOf(S.error);
    expect(tooLong.message).toMatch(/AF_UNIX path too long/);
    expect(() => s.connect('\0' + 'a'.repeat(108))).toThrow(/AF_UNIX path too long/);
    // 107 bytes and a NUL fill sun_path exactly; an abstract name may use all 108.
    expect(S.sockaddrFor(S.AF_UNIX, S.SOCK_STREAM, 'a'.repeat(107)).length).toBe(2 + 108);
    expect(S.sockaddrFor(S.AF_UNIX, S.SOCK_STREAM, '\0' + 'a'.repeat(107)).length).toBe(2 + 108);
  });

  it('a family it does not know is an OSError', () => {
    expect(() => S.sockaddrFor(S.AF_UNSPEC, S.SOCK_STREAM, ['127.0.0.1', 0])).toThrow(/bad family/);
  });

  it("'' is the wildcard and '<broadcast>' the broadcast address", () => {
    const any = S.sockaddrFor(S.AF_INET, S.SOCK_DGRAM, ['', 80]);
    expect([...any.subarray(2, 8)]).toEqual([0, 80, 0, 0, 0, 0]);
    const broadcast = S.sockaddrFor(S.AF_INET, S.SOCK_DGRAM, ['<broadcast>', 9]);
    expect([...broadcast.subarray(4, 8)]).toEqual([255, 255, 255, 255]);
    const s = sock();
    s.bind(['', 0]);
    expect((s.getsockname() as [string, number])[0]).toBe('0.0.0.0');
  });

  it.skipIf(!ipv6)("'' binds the IPv6 wildcard (needs IPv6)", () => {
    const s = sock(S.AF_INET6);
    s.bind(['', 0]);
    expect((s.getsockname() as unknown[])[0]).toBe('::');
  });

  it("'localhost' goes through getaddrinfo", () => {
    const s = sock();
    s.bind(['localhost', 0]);
    expect((s.getsockname() as [string, number])[0]).toBe('127.0.0.1');
  });

  it('an unresolvable name is a gaierror, quickly (.invalid never resolves)', () => {
    const s = sock();
    const started = Date.now();
    const err = thrown(() => s.connect(['no-such-host.invalid', 80]));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err).toBeInstanceOf(S.gaierror);
    expect(err).toBeInstanceOf(S.error);
    expect([S.EAI_NONAME, S.EAI_AGAIN, S.EAI_FAIL, S.EAI_NODATA]).toContain(err.errno);
    expect(err.code).toMatch(/^EAI_/);
    expect(err.message).toBe(`[Errno ${err.errno}] ${binding.gaiStrerror(err.errno as number)}`);
  });

  it('an IPv6 literal in an AF_INET address is a gaierror', () => {
    expect(thrown(() => sock().bind(['::1', 0]))).toBeInstanceOf(S.gaierror);
  });
});

describe('getsockname / getpeername', () => {
  it('an unconnected socket has no peer (ENOTCONN)', () => {
    const err = thrown(() => sock().getpeername());
    expect(err.errno).toBe(E.ENOTCONN);
  });

  it('reports each family as Python does', () => {
    const v4 = sock(S.AF_INET, S.SOCK_DGRAM);
    v4.bind(['127.0.0.1', 0]);
    const [host, port] = v4.getsockname() as [string, number];
    expect(host).toBe('127.0.0.1');
    expect(port).toBeGreaterThan(0);
    const unix = sock(S.AF_UNIX, S.SOCK_DGRAM);
    expect(unix.getsockname()).toBe('');
    const name = `\0asyncore-test-${process.pid}-name`;
    unix.bind(name);
    expect(unix.getsockname()).toBe(name);
  });

  it.skipIf(!ipv6)('AF_INET6 gives four items (needs IPv6)', () => {
    const s = sock(S.AF_INET6, S.SOCK_DGRAM);
    s.bind(['::1', 0]);
    const address = s.getsockname() as unknown[];
    expect(address).toHaveLength(4);
    expect(address[0]).toBe('::1');
    expect(address.slice(2)).toEqual([0, 0]);
  });
});

describe('socket options', () => {
  it('getsockopt reads an int, or bytes with buflen', () => {
    const s = sock();
    expect(s.getsockopt(S.SOL_SOCKET, S.SO_TYPE)).toBe(S.SOCK_STREAM);
    expect(s.getsockopt(S.SOL_SOCKET, S.SO_TYPE, 0)).toBe(S.SOCK_STREAM);
    const raw = s.getsockopt(S.SOL_SOCKET, S.SO_TYPE, 4);
    expect(Buffer.isBuffer(raw)).toBe(true);
    expect((raw as Buffer).readInt32LE(0)).toBe(S.SOCK_STREAM);
  });

  it('setsockopt takes an int or bytes', () => {
    const s = sock();
    expect(s.getsockopt(S.SOL_SOCKET, S.SO_REUSEADDR)).toBe(0);
    s.setsockopt(S.SOL_SOCKET, S.SO_REUSEADDR, 1);
    expect(s.getsockopt(S.SOL_SOCKET, S.SO_REUSEADDR)).toBe(1);
    s.setsockopt(S.IPPROTO_TCP, S.TCP_NODELAY, 1);
    expect(s.getsockopt(S.IPPROTO_TCP, S.TCP_NODELAY)).toBe(1);
    const linger = Buffer.alloc(8);
    linger.writeInt32LE(1, 0);
    linger.writeInt32LE(7, 4);
    s.setsockopt(S.SOL_SOCKET, S.SO_LINGER, linger);
    expect(s.getsockopt(S.SOL_SOCKET, S.SO_LINGER, 8)).toEqual(linger);
  });

  it('checks its arguments', () => {
    const s = sock();
    expect(() => s.setsockopt(S.SOL_SOCKET, S.SO_REUSEADDR, 'x' as unknown as number)).toThrow(
      /value must be an integer or bytes, not "x"/,
    );
    expect(() => s.setsockopt(S.SOL_SOCKET, S.SO_REUSEADDR, 2 ** 31)).toThrow(RangeError);
    expect(() => s.setsockopt('1' as unknown as number, S.SO_REUSEADDR, 1)).toThrow(TypeError);
    expect(() => s.getsockopt(S.SOL_SOCKET, S.SO_LINGER, 2000)).toThrow(/getsockopt buflen out of range: 2000/);
    expect(() => s.getsockopt(S.SOL_SOCKET, S.SO_LINGER, -1)).toThrow(RangeError);
    expect(() => s.getsockopt(S.SOL_SOCKET, 'x' as unknown as number)).toThrow(TypeError);
  });

  it('an unknown option is the kernel error', () => {
    const s = sock();
    expect(thrown(() => s.getsockopt(S.SOL_SOCKET, 9999)).errno).toBe(E.ENOPROTOOPT);
    expect(thrown(() => s.setsockopt(S.SOL_SOCKET, 9999, 1)).errno).toBe(E.ENOPROTOOPT);
  });
});

describe('other argument checks', () => {
  it('send, recv, sendto, listen, shutdown', () => {
    const s = sock(S.AF_INET, S.SOCK_DGRAM);
    s.bind(['127.0.0.1', 0]);
    const name = s.getsockname();
    expect(() => s.send('x' as unknown as Uint8Array)).toThrow(/data must be a Buffer or Uint8Array, not "x"/);
    expect(() => s.send(Buffer.from('x'), 'y' as unknown as number)).toThrow(TypeError);
    expect(() => s.recv(-1)).toThrow(/negative buffersize in recv: -1/);
    expect(() => s.recv('1' as unknown as number)).toThrow(TypeError);
    expect(() => s.recvfrom(-1)).toThrow(/negative buffersize in recvfrom: -1/);
    // CPython's testSendtoErrors.
    expect(() => s.sendto('x' as unknown as Uint8Array, name)).toThrow(TypeError);
    expect(() => s.sendto(Buffer.from('foo'), null as unknown as S.Address)).toThrow(/not null/);
    expect(() => s.sendto(Buffer.from('foo'), 0, null as unknown as S.Address)).toThrow(/not null/);
    expect(() => s.sendto(Buffer.from('foo'), 'bar' as unknown as number, name)).toThrow(TypeError);
    const sendto = s.sendto.bind(s) as (...args: unknown[]) => number;
    expect(() => sendto(Buffer.from('foo'))).toThrow(/\(1 given\)/);
    expect(() => sendto(Buffer.from('foo'), 0, name, 4)).toThrow(/\(4 given\)/);
    expect(() => sock().listen('x' as unknown as number)).toThrow(TypeError);
    expect(() => s.shutdown('x' as unknown as number)).toThrow(TypeError);
  });

  it('the kernel errors of shutdown', () => {
    const s = sock();
    expect(thrown(() => s.shutdown(S.SHUT_RDWR)).errno).toBe(E.ENOTCONN);
    const [a, b] = socketpair();
    track.sock(a);
    track.sock(b);
    expect(thrown(() => a.shutdown(5)).errno).toBe(E.EINVAL);
  });

  it('listen with a negative backlog listens (CPython makes it 0)', () => {
    const s = sock();
    s.bind(['127.0.0.1', 0]);
    s.listen(-5);
    expect(s.getsockopt(S.SOL_SOCKET, S.SO_ACCEPTCONN)).toBe(1);
  });
});

describe('socketpair', () => {
  it('defaults to a connected, blocking, non-inheritable AF_UNIX stream pair', () => {
    const [a, b] = socketpair();
    track.sock(a);
    track.sock(b);
    for (const s of [a, b]) {
      expect([s.family, s.type, s.proto]).toEqual([S.AF_UNIX, S.SOCK_STREAM, 0]);
      expect(s.gettimeout()).toBe(null);
      expect(posix.get_blocking(s.fileno())).toBe(true);
      expect(s.get_inheritable()).toBe(false);
      expect(isCloexec(s.fileno())).toBe(true);
      expect(s.getsockname()).toBe('');
    }
    a.sendall(Buffer.from('ping'));
    expect(b.recv(10).toString()).toBe('ping');
  });

  it('datagram pairs keep message boundaries', () => {
    const [a, b] = socketpair(S.AF_UNIX, S.SOCK_DGRAM);
    track.sock(a);
    track.sock(b);
    expect(a.type).toBe(S.SOCK_DGRAM);
    a.send(Buffer.from('one'));
    a.send(Buffer.from('two'));
    expect(b.recv(100).toString()).toBe('one');
    expect(b.recv(100).toString()).toBe('two');
  });

  it('SOCK_NONBLOCK gives non-blocking sockets', () => {
    const [a, b] = socketpair(S.AF_UNIX, S.SOCK_STREAM | S.SOCK_NONBLOCK);
    track.sock(a);
    track.sock(b);
    expect(a.type).toBe(S.SOCK_STREAM);
    expect(a.gettimeout()).toBe(0);
    expect(posix.get_blocking(b.fileno())).toBe(false);
  });

  it('AF_INET pairs are the kernel error (EOPNOTSUPP); bad types are TypeErrors', () => {
    expect(thrown(() => socketpair(S.AF_INET)).errno).toBe(E.EOPNOTSUPP);
    expect(() => socketpair('x' as unknown as number)).toThrow(/family must be an integer, not "x"/);
  });
});
