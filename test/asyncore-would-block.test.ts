// "Would block" inside the package is an answer, not an exception:
// dispatcher.send() on a full socket and async_chat's read of an empty one
// go through the socket's non-throwing paths, and keep Python's results
// (send() returns 0, handle_read() returns quietly). A socket whose send()
// or recv() a subclass replaced is still called, and its BlockingIOError
// caught, as Python does.
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as asyncore from '../src/asyncore';
import * as asynchat from '../src/asynchat';
import type { SocketMap } from '../src/asyncore';
import { BlockingIOError } from '../src/errors';
import { socket, socketpair } from '../src/socket';
import { expectNoFdLeaks } from './support';

expectNoFdLeaks();

const open: socket[] = [];
let map: SocketMap = new Map();

afterEach(() => {
  vi.restoreAllMocks();
  asyncore.close_all(map, true);
  for (const s of open.splice(0)) s.close();
  map = new Map();
});

/** A connected pair, non-blocking; the first one's send buffer full when `full`. */
function pair(full = false): [socket, socket] {
  const [a, b] = socketpair();
  a.setblocking(false);
  b.setblocking(false);
  open.push(b);
  if (full) {
    const chunk = Buffer.alloc(65536);
    while (a._trySend(chunk) > 0);
  }
  return [a, b];
}

class Chat extends asynchat.async_chat {
  errors: unknown[] = [];
  collected: Buffer[] = [];
  override collect_incoming_data(data: Buffer): void {
    this.collected.push(data);
  }
  override found_terminator(): void {}
  override handle_error(err: unknown): void {
    this.errors.push(err);
  }
}

describe('dispatcher.send() on a socket that would block', () => {
  it('returns 0 without going through socket.send() and its BlockingIOError', () => {
    const [a] = pair(true);
    const d = new asyncore.dispatcher(a, map);
    const send = vi.spyOn(socket.prototype, 'send');
    expect(d.send(Buffer.from('x'))).toBe(0);
    expect(send).not.toHaveBeenCalled();
  });

  it("calls a subclass's send() and turns its BlockingIOError into 0, as Python does", () => {
    class Custom extends socket {
      calls = 0;
      override send(data: Uint8Array, flags = 0): number {
        this.calls += 1;
        return super.send(data, flags);
      }
    }
    const [a] = pair(true);
    const sock = new Custom(a.family, a.type, 0, a.detach());
    const d = new asyncore.dispatcher(sock, map);
    expect(d.send(Buffer.from('x'))).toBe(0);
    expect(sock.calls).toBe(1);
  });
});

describe("async_chat's read of an empty socket", () => {
  it('returns quietly without going through socket.recv() and its BlockingIOError', () => {
    const [a] = pair();
    const chat = new Chat(a, map);
    const recv = vi.spyOn(socket.prototype, 'recv');
    chat.handle_read();
    expect(recv).not.toHaveBeenCalled();
    expect(chat.errors).toEqual([]);
    expect(chat.collected).toEqual([]);
  });

  it('still reads what is there', () => {
    const [a, b] = pair();
    const chat = new Chat(a, map);
    chat.set_terminator(Buffer.from('\n'));
    b.send(Buffer.from('line\n'));
    chat.handle_read();
    expect(Buffer.concat(chat.collected).toString()).toBe('line');
  });

  it("calls a subclass's recv() and returns quietly on its BlockingIOError, as Python does", () => {
    class OwnRecv extends Chat {
      calls = 0;
      override recv(buffer_size: number): Buffer {
        this.calls += 1;
        return super.recv(buffer_size);
      }
    }
    const [a] = pair();
    const chat = new OwnRecv(a, map);
    expect(() => chat.recv(10)).toThrow(BlockingIOError);
    chat.handle_read();
    expect(chat.calls).toBe(2);
    expect(chat.errors).toEqual([]);
  });
});
