// Argument checks found missing by an adversarial pass: fd arguments past
// 2**31 (the addon took them mod 2**32), poll objects made by their
// constructor, dispatcher_with_send.send() of a non-buffer, readwrite() and
// add_channel()/del_channel() arguments, epoll maxevents past the kernel's
// limit, and internals that the public modules exported.
import { describe, expect, it } from 'vitest';
import * as asyncore from '../src/asyncore';
import { OSError } from '../src/errors';
import * as posix from '../src/posix';
import * as select from '../src/select';
import * as socketModule from '../src/socket';
import { binding } from '../src/binding';
import { expectNoFdLeaks } from './support';

expectNoFdLeaks();

/** Integers the kernel never has as an fd, and what each must throw. */
const OUT_OF_RANGE = [2 ** 31, 2 ** 32, 2 ** 53];
const NOT_INTEGERS: unknown[] = [1.5, '3', null, NaN, Infinity, 3n];

describe('fd arguments: an integer in [0, 2**31), one check in every module', () => {
  it('poll objects: register(), modify() and unregister() refuse fds past 2**31 instead of watching fd mod 2**32', async () => {
    const [a, b] = socketModule.socketpair();
    try {
      const p = select.poll();
      for (const fd of [2 ** 32 + a.fileno(), ...OUT_OF_RANGE]) {
        expect(() => p.register(fd, select.POLLOUT)).toThrow(RangeError);
        expect(() => p.modify(fd, select.POLLOUT)).toThrow(RangeError);
        expect(() => p.unregister(fd)).toThrow(RangeError);
        expect(() => p.register({ fileno: () => fd })).toThrow(/file descriptor must be a file descriptor in \[0, 2\*\*31\)/);
      }
      for (const fd of NOT_INTEGERS) expect(() => p.register(fd as number)).toThrow(TypeError);
      // Nothing was registered by the refused calls.
      expect(await p.poll(0)).toEqual([]);
      p.register(2 ** 31 - 1, select.POLLIN);
      expect(await p.poll(0)).toEqual([[2 ** 31 - 1, select.POLLNVAL]]);
    } finally {
      a.close();
      b.close();
    }
  });

  it('epoll objects: register(), modify() and unregister() refuse fds past 2**31', () => {
    const [a, b] = socketModule.socketpair();
    const ep = select.epoll();
    try {
      for (const fd of [2 ** 32 + a.fileno(), ...OUT_OF_RANGE]) {
        expect(() => ep.register(fd, select.EPOLLOUT)).toThrow(RangeError);
        expect(() => ep.modify(fd, select.EPOLLOUT)).toThrow(RangeError);
        expect(() => ep.unregister(fd)).toThrow(RangeError);
      }
      for (const fd of NOT_INTEGERS) expect(() => ep.register(fd as number)).toThrow(TypeError);
      // a was not registered under another number: unregistering it fails.
      expect(() => ep.unregister(a)).toThrow(OSError);
    } finally {
      ep.close();
      a.close();
      b.close();
    }
  });

  it('posix functions refuse fds past 2**31 (RangeError) and non-integers (TypeError); a negative fd is EBADF', () => {
    const calls: Array<(fd: number) => unknown> = [
      (fd) => posix.close(fd),
      (fd) => posix.dup(fd),
      (fd) => posix.read(fd, 1),
      (fd) => posix.write(fd, Buffer.from('x')),
      (fd) => posix.set_blocking(fd, true),
      (fd) => posix.get_blocking(fd),
    ];
    for (const call of calls) {
      for (const fd of OUT_OF_RANGE) expect(() => call(fd)).toThrow(/fd must be a file descriptor in \[0, 2\*\*31\)/);
      for (const fd of NOT_INTEGERS) expect(() => call(fd as number)).toThrow(TypeError);
      expect(() => call(-1)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    }
  });

  it('socket(fileno=), file_wrapper and file_dispatcher refuse fds past 2**31', () => {
    const [r, w] = posix.pipe();
    try {
      for (const fd of [2 ** 32 + r, ...OUT_OF_RANGE]) {
        expect(() => new socketModule.socket(null, null, null, fd)).toThrow(RangeError);
        expect(() => new asyncore.file_wrapper(fd)).toThrow(RangeError);
        expect(() => new asyncore.file_dispatcher(fd, new Map())).toThrow(RangeError);
      }
      expect(() => new socketModule.socket(null, null, null, -5)).toThrow(RangeError);
      expect(() => new socketModule.socket(null, null, null, 1.5)).toThrow(TypeError);
    } finally {
      posix.close(r);
      posix.close(w);
    }
  });

  it('select() refuses them too, as before', async () => {
    await expect(select.select([2 ** 32], [], [], 0)).rejects.toThrow(RangeError);
    await expect(select.select([1.5], [], [], 0)).rejects.toThrow(TypeError);
  });
});

describe('poll objects come from select.poll() only', () => {
  it("new (Object.getPrototypeOf(select.poll()).constructor)() is a TypeError (CPython's test_disallow_instantiation)", () => {
    const PollType = Object.getPrototypeOf(select.poll()).constructor as new (...args: unknown[]) => unknown;
    expect(() => new PollType()).toThrow(TypeError);
    expect(() => new PollType()).toThrow(/cannot create 'select.poll' instances/);
    expect(() => new PollType({}, Symbol('select.poll'))).toThrow(TypeError);
  });
});

describe('asyncore arguments', () => {
  it("dispatcher_with_send.send() of a non-buffer: the package's own TypeError", () => {
    const [a, b] = socketModule.socketpair();
    const map: asyncore.SocketMap = new Map();
    const d = new asyncore.dispatcher_with_send(a, map);
    try {
      for (const data of ['x', null, undefined, 3, [1, 2], {}]) {
        expect(() => d.send(data as unknown as Uint8Array)).toThrow(TypeError);
        expect(() => d.send(data as unknown as Uint8Array)).toThrow(/data must be a Buffer or Uint8Array/);
      }
      expect(d.out_buffer.length).toBe(0);
      expect(d.send(Buffer.from('ok'))).toBe(2);
      expect(b.recv(2).toString()).toBe('ok');
    } finally {
      d.close();
      b.close();
    }
  });

  it('readwrite() checks its channel and its flags', () => {
    const calls: string[] = [];
    const obj = {
      handle_read_event: () => calls.push('read'),
      handle_write_event: () => calls.push('write'),
      handle_expt_event: () => calls.push('expt'),
      handle_close: () => calls.push('close'),
      handle_error: () => calls.push('error'),
    } as unknown as asyncore.Channel;
    for (const flags of ['x', null, undefined, 1.5, NaN, {}]) {
      expect(() => asyncore.readwrite(obj, flags as number)).toThrow(TypeError);
    }
    expect(() => asyncore.readwrite(obj, 2 ** 32)).toThrow(RangeError);
    for (const bad of [null, undefined, 'x', 3]) {
      expect(() => asyncore.readwrite(bad as unknown as asyncore.Channel, select.POLLIN)).toThrow(TypeError);
    }
    expect(calls).toEqual([]);
    asyncore.readwrite(obj, select.POLLIN | select.POLLHUP);
    expect(calls).toEqual(['read', 'close']);
  });

  it('add_channel() and del_channel() check their map', () => {
    const [a, b] = socketModule.socketpair();
    const map: asyncore.SocketMap = new Map();
    const d = new asyncore.dispatcher(a, map);
    try {
      // A dispatcher with no socket yet deletes nothing, but still checks.
      const unset = new asyncore.dispatcher(null, map);
      for (const bad of [Symbol('map'), 'map', 3, {}, []]) {
        for (const channel of [d, unset]) {
          expect(() => channel.del_channel(bad as unknown as asyncore.SocketMap)).toThrow(/map must be a Map/);
          expect(() => channel.add_channel(bad as unknown as asyncore.SocketMap)).toThrow(/map must be a Map/);
        }
      }
      expect(map.get(a.fileno())).toBe(d);
      d.del_channel(null);
      expect(map.size).toBe(0);
    } finally {
      d.close();
      b.close();
    }
  });
});

describe('epoll.poll() maxevents', () => {
  it("past epoll_wait's limit is a RangeError up front, without allocating", async () => {
    const ep = select.epoll();
    try {
      expect(binding.EPOLL_MAX_EVENTS).toBeGreaterThan(1000);
      expect(binding.EPOLL_MAX_EVENTS).toBeLessThan(2 ** 31);
      await expect(ep.poll(0, 2 ** 28)).rejects.toThrow(/maxevents must be at most/);
      await expect(ep.poll(0, binding.EPOLL_MAX_EVENTS + 1)).rejects.toThrow(RangeError);
      expect(await ep.poll(0, 1)).toEqual([]);
    } finally {
      ep.close();
    }
  });
});

describe('public modules export no internals', () => {
  it('posix has no readResult, readTarget or checkFlag', () => {
    const exported = Object.keys(posix);
    for (const name of ['readResult', 'readTarget', 'checkFlag']) expect(exported).not.toContain(name);
    expect(exported.sort()).toEqual(['close', 'dup', 'get_blocking', 'pipe', 'read', 'set_blocking', 'write']);
  });
});
