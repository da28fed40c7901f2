// Every public function's argument errors start with the name of the
// function the user called, as "name(): ", then say what was wrong with
// which argument and show the value. One table, a few calls per module.
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import * as asynchat from '../src/asynchat';
import * as asyncore from '../src/asyncore';
import * as posix from '../src/posix';
import * as select from '../src/select';
import * as socketModule from '../src/socket';
import * as socketserver from '../src/socketserver';
import { Deferred } from '../src/twisted/defer';
import { reactor } from '../src/twisted/reactor';
import { Clock } from '../src/twisted/task';
import { expectNoFdLeaks } from './support';

expectNoFdLeaks();

/** Runs fn on a fresh AF_INET socket, closed afterwards. */
function withInet(fn: (s: socketModule.socket) => unknown): unknown {
  const s = new socketModule.socket(socketModule.AF_INET, socketModule.SOCK_STREAM);
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

type Case = [name: string, call: (s: socketModule.socket) => unknown, error: typeof TypeError | typeof RangeError, rest: RegExp];

/** [the function's name, a call with one bad argument, the error class, what follows the prefix]. */
const CASES: Case[] = [
  // socket
  ['listen', (s) => s.listen('x' as never), TypeError, /^backlog must be an integer, not "x"$/],
  ['send', (s) => s.send('hi' as never), TypeError, /^data must be a Buffer or Uint8Array, not "hi"$/],
  ['sendall', (s) => s.sendall(Buffer.from('x'), 1.5), TypeError, /^flags must be an integer, not 1\.5$/],
  ['recv', (s) => s.recv(-1), RangeError, /^negative buffersize in recv: -1$/],
  ['recvfrom', (s) => s.recvfrom('1' as never), TypeError, /^bufsize must be an integer/],
  ['setblocking', (s) => s.setblocking('yes' as never), TypeError, /^flag must be a boolean/],
  ['settimeout', (s) => s.settimeout(-1), RangeError, /^Timeout value out of range: -1$/],
  ['setsockopt', (s) => s.setsockopt('x' as never, 1, 1), TypeError, /^level must be an integer/],
  ['setsockopt', (s) => s.setsockopt(socketModule.SOL_SOCKET, socketModule.SO_REUSEADDR, 'x' as never), TypeError, /^value must be an integer or bytes, not "x"$/],
  ['getsockopt', (s) => s.getsockopt(socketModule.SOL_SOCKET, socketModule.SO_TYPE, 2000), RangeError, /buflen out of range/],
  ['shutdown', (s) => s.shutdown(null as never), TypeError, /^how must be an integer/],
  ['connect', () => withInet((s) => s.connect(['127.0.0.1', 'http'] as never)), TypeError, /^port must be an integer, not "http"$/],
  ['socketpair', () => socketModule.socketpair('unix' as never), TypeError, /^family must be an integer/],
  ['setdefaulttimeout', () => socketModule.setdefaulttimeout('1' as never), TypeError, /^timeout must be a number/],
  // select
  ['select', () => select.select([{} as never], [], []), TypeError, /^argument must be an int, or have a fileno\(\) method/],
  ['select', () => select.select('r' as never, [], []), TypeError, /^arguments 1-3 must be arrays/],
  ['select', () => select.select([], [], [], 'soon' as never), TypeError, /^timeout must be a number of seconds or null/],
  ['register', () => select.poll().register(1.5), TypeError, /^argument must be an int, or have a fileno\(\) method, not 1\.5$/],
  ['modify', () => select.poll().modify(1, -1), RangeError, /^eventmask must be positive/],
  ['unregister', () => select.poll().unregister({ fileno: () => 2 ** 32 }), RangeError, /^file descriptor must be a file descriptor/],
  ['poll', () => select.poll().poll('x' as never), TypeError, /^timeout must be a number or null/],
  // posix
  ['close', () => posix.close(2 ** 40), RangeError, /^fd must be a file descriptor in \[0, 2\*\*31\)/],
  ['read', () => posix.read(0, -1), RangeError, /^n must be in/],
  ['write', () => posix.write(1, 'x' as never), TypeError, /^data must be a Buffer or Uint8Array, not "x"$/],
  ['set_blocking', () => posix.set_blocking(0, 'no' as never), TypeError, /^flag must be a boolean/],
  // asyncore
  ['loop', () => asyncore.loop({ use_poll: 1 } as never), TypeError, /^use_poll must be a boolean, not 1$/],
  ['loop', () => asyncore.loop({ backend: 'kqueue' } as never), RangeError, /^backend must be 'select', 'poll' or 'epoll'/],
  ['loop', () => asyncore.loop({ bogus: 1 } as never), TypeError, /^got an unexpected option "bogus"$/],
  ['poll', () => asyncore.poll(-1), RangeError, /^timeout must be non-negative/],
  ['poll2', () => asyncore.poll2(0, {} as never), TypeError, /^map must be a Map/],
  ['close_all', () => asyncore.close_all([] as never), TypeError, /^map must be a Map/],
  ['wake', () => asyncore.wake(null, 5 as never), TypeError, /^channel must be a channel/],
  ['dispatcher', () => new asyncore.dispatcher(5 as never), TypeError, /^sock must be a socket or null, not 5$/],
  ['add_channel', () => new asyncore.dispatcher().add_channel('m' as never), TypeError, /^map must be a Map/],
  // asynchat
  ['find_prefix_at_end', () => asynchat.find_prefix_at_end(1 as never, 'x'), TypeError, /^haystack must be/],
  ['simple_producer', () => new asynchat.simple_producer(Buffer.from('x'), 0), RangeError, /^buffer_size must be at least 1/],
  ['set_terminator', () => new asynchat.async_chat().set_terminator(-1), RangeError, /^the number of received bytes must be positive/],
  // socketserver
  ['TCPServer', () => new socketserver.TCPServer(['127.0.0.1', 0], 'handler' as never), TypeError, /^RequestHandlerClass must be a class/],
  // twisted
  ['listenTCP', () => reactor.listenTCP(0, 42 as never), TypeError, /^needs a Factory, not 42$/],
  ['callLater', () => new Clock().callLater(1, null as never), TypeError, /^needs a function, not null$/],
  ['addCallback', () => new Deferred().addCallback(42 as never), TypeError, /^needs a function, not 42$/],
];

describe('argument errors name the function called, as "name(): "', () => {
  it.each(CASES)('%s()', async (name, call, error, rest) => {
    const [a, b] = socketModule.socketpair();
    try {
      let thrown: unknown;
      try {
        // The async calls (select(), poll(), loop()) reject instead.
        await call(a);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(error);
      const message = (thrown as Error).message;
      const prefix = `${name}(): `;
      expect(message.startsWith(prefix), message).toBe(true);
      expect(message.slice(prefix.length)).toMatch(rest);
    } finally {
      a.close();
      b.close();
    }
  });
});
