// socket.send_fds() and socket.recv_fds() (Python 3.9+): fds travel with
// SCM_RIGHTS, arrive as new close-on-exec fds, and every bad argument or
// failing call is reported as Python reports it.
import { describe, expect, it } from 'vitest';
import {
  AF_UNIX,
  BlockingIOError,
  MSG_CMSG_CLOEXEC,
  MSG_CTRUNC,
  OSError,
  SOCK_DGRAM,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  TimeoutError,
  recv_fds,
  send_fds,
  socket,
  socketpair,
} from '../src/socket';
import * as posix from '../src/posix';
import { isCloexec, thrown, tracker } from './socket-helpers';
import { expectNoFdLeaks } from './support';

expectNoFdLeaks();
const track = tracker();

function pair(type = SOCK_STREAM): [socket, socket] {
  const [a, b] = socketpair(AF_UNIX, type);
  return [track.sock(a), track.sock(b)];
}

describe('send_fds / recv_fds', () => {
  it('passes fds whose copies refer to the same open files, close-on-exec', () => {
    const [a, b] = pair();
    const [r1, w1] = posix.pipe().map(track.fd);
    const [r2, w2] = posix.pipe().map(track.fd);
    expect(send_fds(a, [Buffer.from('ab'), Buffer.from('cd')], [w1, w2])).toBe(4);
    const [data, fds, flags, address] = recv_fds(b, 100, 4);
    fds.forEach(track.fd);
    expect(data).toEqual(Buffer.from('abcd'));
    expect(fds).toHaveLength(2);
    expect(fds).not.toContain(w1);
    expect(flags & MSG_CTRUNC).toBe(0);
    expect(address).toBeNull();
    for (const fd of fds) expect(isCloexec(fd)).toBe(true);
    posix.write(fds[0], Buffer.from('one'));
    posix.write(fds[1], Buffer.from('two'));
    expect(posix.read(r1, 10)).toEqual(Buffer.from('one'));
    expect(posix.read(r2, 10)).toEqual(Buffer.from('two'));
  });

  it('reports msg_flags as CPython does, without the MSG_CMSG_CLOEXEC it asks the kernel for', () => {
    const [a, b] = pair();
    const [r, w] = posix.pipe().map(track.fd);
    send_fds(a, [Buffer.from('x')], [r]);
    const [, fds, flags] = recv_fds(b, 10, 1);
    fds.forEach(track.fd);
    expect(flags).toBe(0);
    send_fds(a, [Buffer.from('y')], [w]);
    const [, more, flagsAsked] = recv_fds(b, 10, 1, MSG_CMSG_CLOEXEC);
    more.forEach(track.fd);
    expect(flagsAsked).toBe(0);
  });

  it('sends bytes without fds, and receives with maxfds 0', () => {
    const [a, b] = pair();
    expect(send_fds(a, [Buffer.from('x')], [])).toBe(1);
    const [data, fds] = recv_fds(b, 10, 0);
    expect(data).toEqual(Buffer.from('x'));
    expect(fds).toEqual([]);
  });

  it('reports MSG_CTRUNC and keeps only maxfds fds when more come', () => {
    const [a, b] = pair(SOCK_SEQPACKET);
    const [r, w] = posix.pipe().map(track.fd);
    send_fds(a, [Buffer.from('m')], [r, w, r]);
    const [data, fds, flags] = recv_fds(b, 10, 1);
    fds.forEach(track.fd);
    expect(data).toEqual(Buffer.from('m'));
    expect(fds).toHaveLength(1);
    expect(flags & MSG_CTRUNC).toBe(MSG_CTRUNC);
  });

  it('reports MSG_CTRUNC for one fd too many, which the rounding of the control buffer would fit', () => {
    const [a, b] = pair(SOCK_SEQPACKET);
    const [r, w] = posix.pipe().map(track.fd);
    send_fds(a, [Buffer.from('m')], [r, w]);
    const [, fds, flags] = recv_fds(b, 10, 1);
    fds.forEach(track.fd);
    expect(fds).toHaveLength(1);
    expect(flags & MSG_CTRUNC).toBe(MSG_CTRUNC);
  });

  it('sends to an address on an unconnected datagram socket, and reports the sender', () => {
    const receiver = track.sock(new socket(AF_UNIX, SOCK_DGRAM));
    const sender = track.sock(new socket(AF_UNIX, SOCK_DGRAM));
    receiver.bind(`\0asyncore-fds-${process.pid}-r`);
    sender.bind(`\0asyncore-fds-${process.pid}-s`);
    const [r] = posix.pipe().map(track.fd);
    send_fds(sender, [Buffer.from('d')], [r], 0, `\0asyncore-fds-${process.pid}-r`);
    const [data, fds, , address] = recv_fds(receiver, 10, 1);
    fds.forEach(track.fd);
    expect(data).toEqual(Buffer.from('d'));
    expect(fds).toHaveLength(1);
    expect(address).toBe(`\0asyncore-fds-${process.pid}-s`);
  });

  it('is BlockingIOError when nothing is there on a non-blocking socket, TimeoutError with a timeout', () => {
    const [, b] = pair();
    b.setblocking(false);
    expect(thrown(() => recv_fds(b, 10, 1))).toBeInstanceOf(BlockingIOError);
    b.settimeout(0.05);
    const err = thrown(() => recv_fds(b, 10, 1));
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.message).toBe('timed out');
  });

  it('is EPIPE, never SIGPIPE, when the peer is gone, and EBADF on a closed socket', () => {
    const [a, b] = pair();
    b.close();
    const err = thrown(() => send_fds(a, [Buffer.from('x')], []));
    expect(err).toBeInstanceOf(OSError);
    expect(err.code).toBe('EPIPE');
    a.close();
    expect(thrown(() => send_fds(a, [Buffer.from('x')], [])).code).toBe('EBADF');
    expect(thrown(() => recv_fds(a, 1, 1)).code).toBe('EBADF');
  });

  it('is EBADF for an fd that is not open, and the message is not sent', () => {
    const [a, b] = pair();
    expect(thrown(() => send_fds(a, [Buffer.from('x')], [99999])).code).toBe('EBADF');
    b.setblocking(false);
    expect(thrown(() => recv_fds(b, 10, 1))).toBeInstanceOf(BlockingIOError);
  });

  it('rejects bad arguments with TypeError or RangeError naming them', () => {
    const [a] = pair();
    expect(() => send_fds({} as socket, [], [])).toThrow(/send_fds\(\): sock must be a socket/);
    expect(() => send_fds(a, 'x' as never, [])).toThrow(TypeError);
    expect(() => send_fds(a, ['x' as never], [])).toThrow(/buffers\[0\] must be a Buffer/);
    expect(() => send_fds(a, [], 3 as never)).toThrow(/fds must be an array/);
    expect(() => send_fds(a, [], [1.5])).toThrow(/fds\[0\] must be an integer/);
    expect(() => send_fds(a, [], [-1])).toThrow(RangeError);
    expect(() => send_fds(a, [], new Array(254).fill(0))).toThrow(/at most 253 fds/);
    expect(() => send_fds(a, [], [], 'x' as never)).toThrow(/flags must be an integer/);
    expect(() => recv_fds(null as never, 1, 1)).toThrow(/recv_fds\(\): sock must be a socket/);
    expect(() => recv_fds(a, -1, 1)).toThrow(RangeError);
    expect(() => recv_fds(a, 1, -1)).toThrow(/maxfds must be 0-253/);
    expect(() => recv_fds(a, 1, 254)).toThrow(RangeError);
    expect(() => recv_fds(a, 'x' as never, 1)).toThrow(TypeError);
  });
});
