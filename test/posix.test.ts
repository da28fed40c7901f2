import { constants as osConstants } from 'node:os';
import { describe, expect, it } from 'vitest';
import * as posix from '../src/posix';
import { BlockingIOError, BrokenPipeError, OSError } from '../src/errors';
import { expectNoFdLeaks } from './support';
import { isCloexec, thrown, tracker } from './socket-helpers';

expectNoFdLeaks();

const E = osConstants.errno;
const track = tracker();

function newPipe(): [number, number] {
  const [r, w] = posix.pipe();
  track.fd(r);
  track.fd(w);
  return [r, w];
}

describe('pipe', () => {
  it('returns two distinct close-on-exec fds', () => {
    const [r, w] = newPipe();
    expect(r).toBeGreaterThanOrEqual(0);
    expect(w).toBeGreaterThanOrEqual(0);
    expect(r).not.toBe(w);
    expect(isCloexec(r)).toBe(true);
    expect(isCloexec(w)).toBe(true);
  });

  it('carries bytes from the write end to the read end', () => {
    const [r, w] = newPipe();
    expect(posix.write(w, Buffer.from('hello'))).toBe(5);
    expect(posix.write(w, new Uint8Array([1, 2, 3]))).toBe(3);
    expect(posix.read(r, 100)).toEqual(Buffer.from([...Buffer.from('hello'), 1, 2, 3]));
  });

  it('reads at most n bytes', () => {
    const [r, w] = newPipe();
    posix.write(w, Buffer.from('abcdef'));
    expect(posix.read(r, 2).toString()).toBe('ab');
    expect(posix.read(r, 10).toString()).toBe('cdef');
  });

  it('reads an empty Buffer at end of file', () => {
    const [r, w] = newPipe();
    posix.write(w, Buffer.from('x'));
    posix.close(w);
    expect(posix.read(r, 10).toString()).toBe('x');
    expect(posix.read(r, 10).length).toBe(0);
  });

  it('read(fd, 0) is empty', () => {
    const [r] = newPipe();
    expect(posix.read(r, 0).length).toBe(0);
  });

  it('a small read into a large buffer does not keep the large allocation', () => {
    const [r, w] = newPipe();
    posix.write(w, Buffer.from('tiny'));
    const data = posix.read(r, 4 * 1024 * 1024);
    expect(data.toString()).toBe('tiny');
    expect(data.buffer.byteLength).toBeLessThan(64 * 1024);
  });

  it('results of successive small reads are independent copies', () => {
    const [r, w] = newPipe();
    posix.write(w, Buffer.from('first'));
    const first = posix.read(r, 100);
    posix.write(w, Buffer.from('second'));
    const second = posix.read(r, 100);
    expect(first.toString()).toBe('first');
    expect(second.toString()).toBe('second');
  });
});

describe('dup', () => {
  it('gives a new close-on-exec fd on the same pipe', () => {
    const [r, w] = newPipe();
    const w2 = track.fd(posix.dup(w));
    expect(w2).not.toBe(w);
    expect(isCloexec(w2)).toBe(true);
    posix.write(w2, Buffer.from('via dup'));
    expect(posix.read(r, 100).toString()).toBe('via dup');
  });

  it('fails with EBADF for a closed or negative fd', () => {
    const [r] = newPipe();
    posix.close(r);
    expect(thrown(() => posix.dup(r))).toMatchObject({ errno: E.EBADF, code: 'EBADF' });
    expect(thrown(() => posix.dup(-1))).toBeInstanceOf(OSError);
    expect(thrown(() => posix.dup(-1)).errno).toBe(E.EBADF);
  });
});

describe('close', () => {
  it('closes the fd; a second close is EBADF', () => {
    const [r] = newPipe();
    posix.close(r);
    const err = thrown(() => posix.close(r));
    expect(err).toBeInstanceOf(OSError);
    expect(err.errno).toBe(E.EBADF);
    expect(err.message).toBe(`[Errno ${E.EBADF}] Bad file descriptor`);
  });

  it('operations on a closed fd are EBADF', () => {
    const [r, w] = newPipe();
    posix.close(r);
    posix.close(w);
    for (const op of [
      () => posix.read(r, 1),
      () => posix.write(w, Buffer.from('x')),
      () => posix.set_blocking(r, false),
      () => posix.get_blocking(r),
    ]) {
      expect(thrown(op).errno).toBe(E.EBADF);
    }
  });
});

describe('set_blocking / get_blocking', () => {
  it('a new pipe is blocking; the flag follows set_blocking', () => {
    const [r, w] = newPipe();
    expect(posix.get_blocking(r)).toBe(true);
    expect(posix.get_blocking(w)).toBe(true);
    posix.set_blocking(r, false);
    expect(posix.get_blocking(r)).toBe(false);
    expect(posix.get_blocking(w)).toBe(true);
    posix.set_blocking(r, true);
    expect(posix.get_blocking(r)).toBe(true);
  });

  it('takes 0 and 1 as Python code writes them', () => {
    const [r] = newPipe();
    posix.set_blocking(r, 0 as unknown as boolean);
    expect(posix.get_blocking(r)).toBe(false);
    posix.set_blocking(r, 1 as unknown as boolean);
    expect(posix.get_blocking(r)).toBe(true);
  });

  it('a non-blocking read of an empty pipe is BlockingIOError EAGAIN', () => {
    const [r] = newPipe();
    posix.set_blocking(r, false);
    const err = thrown(() => posix.read(r, 10));
    expect(err).toBeInstanceOf(BlockingIOError);
    expect(err.errno).toBe(E.EAGAIN);
  });

  it('a non-blocking write to a full pipe writes part, then EAGAIN', () => {
    const [, w] = newPipe();
    posix.set_blocking(w, false);
    const big = Buffer.alloc(4 * 1024 * 1024, 0x61);
    const written = posix.write(w, big);
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(big.length);
    expect(thrown(() => posix.write(w, big))).toBeInstanceOf(BlockingIOError);
  });
});

describe('write to a pipe without a reader', () => {
  it('is BrokenPipeError EPIPE and the process lives (no SIGPIPE)', () => {
    const [r, w] = newPipe();
    posix.close(r);
    const err = thrown(() => posix.write(w, Buffer.from('x')));
    expect(err).toBeInstanceOf(BrokenPipeError);
    expect(err.errno).toBe(E.EPIPE);
  });
});

describe('argument checks', () => {
  it('wrong types are TypeErrors that show the value', () => {
    const [r, w] = newPipe();
    expect(() => posix.read('3' as unknown as number, 1)).toThrow(TypeError);
    expect(() => posix.read('3' as unknown as number, 1)).toThrow(/"3"/);
    expect(() => posix.read(r, 1.5)).toThrow(/n must be an integer, not 1.5/);
    expect(() => posix.write(w, 'text' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => posix.write(w, 'text' as unknown as Uint8Array)).toThrow(/"text"/);
    expect(() => posix.dup(null as unknown as number)).toThrow(/fd must be an integer, not null/);
    expect(() => posix.close(1.5)).toThrow(TypeError);
    expect(() => posix.set_blocking(r, 'yes' as unknown as boolean)).toThrow(/flag must be a boolean, not "yes"/);
    expect(() => posix.get_blocking({} as unknown as number)).toThrow(TypeError);
  });

  it('values out of range are RangeErrors that show the value', () => {
    const [r] = newPipe();
    expect(() => posix.read(r, -1)).toThrow(RangeError);
    expect(() => posix.read(r, -1)).toThrow(/-1/);
    expect(() => posix.close(2 ** 40)).toThrow(RangeError);
    expect(() => posix.close(2 ** 40)).toThrow(/1099511627776/);
  });

  it('a negative fd is EBADF, as in Python', () => {
    expect(thrown(() => posix.read(-1, 1)).errno).toBe(E.EBADF);
    expect(thrown(() => posix.close(-1)).errno).toBe(E.EBADF);
    expect(thrown(() => posix.set_blocking(-1, true)).errno).toBe(E.EBADF);
  });
});
