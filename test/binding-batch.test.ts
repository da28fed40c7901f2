// recvMany() and sendMany(): a reactor pass's reads and sends in one native
// call each. Each fd's result is its own (a count or -errno), one failing
// fd does not stop the others, and nothing outside the arena is touched.
import { constants } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { binding } from '../src/binding';
import { AF_UNIX, SOCK_STREAM } from '../src/socket';

const E = constants.errno;
type Loose = (...args: unknown[]) => unknown;
const call = (name: 'recvMany' | 'sendMany', ...args: unknown[]): unknown => (binding[name] as unknown as Loose)(...args);

const opened: number[] = [];
afterEach(() => {
  for (const fd of opened.splice(0)) binding.close(fd);
});

/** A non-blocking stream socketpair: [ours, peer]. */
function pair(): [number, number] {
  const out = new Int32Array(2);
  expect(binding.socketpair(AF_UNIX, SOCK_STREAM, 0, out)).toBe(0);
  opened.push(out[0]!, out[1]!);
  binding.setBlocking(out[0]!, false);
  binding.setBlocking(out[1]!, false);
  return [out[0]!, out[1]!];
}

describe('recvMany()', () => {
  it('reads each fd into its own share of the arena: a count, 0 at the end of the stream, -errno', () => {
    const [a, peerA] = pair();
    const [b, peerB] = pair();
    const [c] = pair();
    const [d, peerD] = pair();
    binding.write(peerA, Buffer.from('alpha'));
    binding.write(peerB, Buffer.from('bravo-bravo'));
    binding.close(opened.splice(opened.indexOf(peerD), 1)[0]!);
    const fds = new Int32Array([a, b, c, d, 1_000_000]);
    const arena = Buffer.alloc(5 * 8, 0x2e);
    const results = new Int32Array(5);
    expect(binding.recvMany(fds, 5, arena, 8, results)).toBe(5);
    expect(Array.from(results)).toEqual([5, 8, -E.EAGAIN, 0, -E.EBADF]);
    expect(arena.toString('latin1')).toBe('alpha...bravo-br' + '.'.repeat(24));
    // The rest stays in the kernel for the next read.
    expect(binding.recvMany(new Int32Array([b]), 1, arena, 8, results)).toBe(1);
    expect(results[0]).toBe(3);
    expect(arena.subarray(0, 3).toString()).toBe('avo');
  });

  it('reads into a view at its own offset, and only the first count fds', () => {
    const [a, peerA] = pair();
    const [b, peerB] = pair();
    binding.write(peerA, Buffer.from('one'));
    binding.write(peerB, Buffer.from('two'));
    const backing = Buffer.alloc(12, 0x2d);
    const results = new Int32Array([7, 7]);
    expect(binding.recvMany(new Int32Array([a, b]), 1, backing.subarray(2, 6), 4, results)).toBe(1);
    expect(backing.toString('latin1')).toBe('--one-------');
    expect(Array.from(results)).toEqual([3, 7]);
  });

  it('refuses a count or share that does not fit its arrays or arena, naming the function', () => {
    const fds = new Int32Array(2);
    const results = new Int32Array(2);
    const arena = Buffer.alloc(16);
    for (const [count, each] of [[3, 4], [-1, 4], [2, 9], [1, 0], [1, -4]]) {
      expect(() => call('recvMany', fds, count, arena, each, results)).toThrow(new RangeError('recvMany(): count out of range'));
    }
    expect(() => call('recvMany', fds, 2, arena, 4, new Int32Array(1))).toThrow(RangeError);
    expect(() => call('recvMany', [0, 1], 1, arena, 4, results)).toThrow(new TypeError('argument 0 must be an Int32Array'));
    expect(() => call('recvMany', fds, 1, new Int32Array(4), 4, results)).toThrow(new TypeError('argument 2 must be a Uint8Array'));
    expect(() => call('recvMany', fds, 1, arena, 4, new Uint32Array(2))).toThrow(new TypeError('argument 4 must be an Int32Array'));
    expect(() => call('recvMany', fds, '1', arena, 4, results)).toThrow(new TypeError('argument 1 must be a number'));
  });
});

describe('sendMany()', () => {
  it('sends each span to its fd: a count, -errno (a closed peer is EPIPE, with no SIGPIPE), -EBADF for fd -1', () => {
    const [a, peerA] = pair();
    const [b, peerB] = pair();
    binding.close(opened.splice(opened.indexOf(peerB), 1)[0]!);
    const arena = Buffer.from('hello world!');
    const fds = new Int32Array([a, b, -1, a]);
    const spans = new Int32Array([0, 5, 6, 5, 0, 12, 5, 7]);
    const results = new Int32Array(4);
    expect(binding.sendMany(fds, 4, arena, spans, results)).toBe(4);
    expect(Array.from(results)).toEqual([5, -E.EPIPE, -E.EBADF, 7]);
    const got = Buffer.alloc(32);
    expect(binding.read(peerA, got)).toBe(12);
    expect(got.subarray(0, 12).toString()).toBe('hello world!');
  });

  it('reports a full kernel buffer as -EAGAIN and a span outside the arena as -EINVAL, sending nothing for either', () => {
    const [a] = pair();
    const big = Buffer.alloc(64 * 1024);
    while (binding.send(a, big, 0, 0) > 0);
    const arena = Buffer.from('xyz');
    const results = new Int32Array(3);
    const [b, peerB] = pair();
    expect(binding.sendMany(new Int32Array([a, b, b]), 3, arena, new Int32Array([0, 3, 2, 2, 4, 0]), results)).toBe(3);
    expect(Array.from(results)).toEqual([-E.EAGAIN, -E.EINVAL, -E.EINVAL]);
    expect(binding.read(peerB, Buffer.alloc(4))).toBe(-E.EAGAIN);
  });

  it('refuses a count that does not fit its arrays, naming the function', () => {
    const fds = new Int32Array(2);
    const results = new Int32Array(2);
    const arena = Buffer.alloc(8);
    expect(() => call('sendMany', fds, 3, arena, new Int32Array(6), results)).toThrow(new RangeError('sendMany(): count out of range'));
    expect(() => call('sendMany', fds, 2, arena, new Int32Array(3), results)).toThrow(new RangeError('sendMany(): count out of range'));
    expect(() => call('sendMany', fds, -1, arena, new Int32Array(4), results)).toThrow(RangeError);
    expect(() => call('sendMany', fds, 1, 'arena', new Int32Array(4), results)).toThrow(new TypeError('argument 2 must be a Uint8Array'));
    expect(() => call('sendMany', fds, 1, arena, [0, 1], results)).toThrow(new TypeError('argument 3 must be an Int32Array'));
  });
});
