// The unix socket between a forking server and one of its child processes
// (SOCK_SEQPACKET, so each message arrives whole, with its fds).
//
// Parent to child: first a hello {family, type, proto, address} with the
// server's socket attached, then one message per request: a JSON header
// line {address} and, for a datagram server, the datagram after it; a
// stream request carries the connection's fd.
// Child to parent: one byte per finished request (0 served, 1 failed).
import { Buffer } from 'node:buffer';
import { constants as osConstants } from 'node:os';
import { binding, NON_BLOCKING } from '../binding';
import { constant } from '../constants';
import { errorFromErrno } from '../errors';
import { io } from './io';

const E = osConstants.errno;
const MSG_DONTWAIT = constant('MSG_DONTWAIT');
/** Room for the header and the largest datagram a UDPServer may be set to take. */
const MAX_MESSAGE = 256 * 1024;
const NEWLINE = 10;

/** One message: its bytes and the fds that came with it. */
export interface Message {
  data: Buffer;
  fds: number[];
}

/** A header line with an optional body after it. */
export function encode(header: unknown, body?: Uint8Array): Buffer {
  const head = Buffer.from(`${JSON.stringify(header)}\n`);
  return body === undefined ? head : Buffer.concat([head, body]);
}

/** The header and the body of a message made by encode(). */
export function decode(data: Buffer): [unknown, Buffer] {
  const end = data.indexOf(NEWLINE);
  if (end < 0) throw new RangeError('socketserver: a message from the other process has no header line');
  return [JSON.parse(data.subarray(0, end).toString()), data.subarray(end + 1)];
}

let scratch: Buffer | null = null;

/**
 * Sends one message now, never waiting: the other side reads each one
 * before the next is sent, so the socket buffer always has room. Returns
 * 0 or -errno (EPIPE, ECONNRESET: the other process is gone).
 */
export function sendMessage(fd: number, data: Uint8Array, fds: number[]): number {
  const result = binding.sendFds(fd, data, Int32Array.from(fds), MSG_DONTWAIT, null, NON_BLOCKING);
  return result < 0 ? result : 0;
}

/**
 * Takes the next message if one is there: a Message, null at end of
 * stream (the other process closed its end or died), or undefined when
 * none has come yet.
 */
export function tryReceive(fd: number, maxFds = 2): Message | null | undefined {
  scratch ??= Buffer.allocUnsafeSlow(MAX_MESSAGE);
  const out = new Int32Array(2 + maxFds);
  const result = binding.recvFds(fd, scratch, out, MSG_DONTWAIT, NON_BLOCKING);
  if (typeof result === 'number') {
    if (result === -E.EAGAIN || result === -E.EWOULDBLOCK) return undefined;
    if (result === -E.ECONNRESET) return null;
    throw errorFromErrno(-result);
  }
  const fds = Array.from(out.subarray(2, 2 + out[0]));
  if (result[0] === 0 && fds.length === 0) return null;
  return { data: Buffer.from(scratch.subarray(0, result[0])), fds };
}

/** Waits for the next message; null at end of stream. */
export async function receive(fd: number, maxFds = 2): Promise<Message | null> {
  for (;;) {
    const message = tryReceive(fd, maxFds);
    if (message !== undefined) return message;
    await io.readable(fd, null);
  }
}
