// What the fuzz run over the exports (fuzz-exports.test.ts) found in
// asyncore, asynchat, select and socket: calls that answered garbage with
// V8's own message ("Cannot read properties of null (reading 'recv')",
// "Cannot convert a Symbol value to a string") now name the function and
// what was wrong, and making an error or a repr never throws.
import { describe, expect, it } from 'vitest';
import * as asyncore from '../src/asyncore';
import { KeyError, SelectModule } from '../src/select';
import { AF_INET, SOCK_STREAM, sockaddrFor } from '../src/socket';
import { OSError } from '../src/errors';

/** An object whose conversion to a string throws. */
const hostile = {
  toString(): string {
    throw new Error('toString');
  },
  [Symbol.toPrimitive](): never {
    throw new Error('toPrimitive');
  },
};

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('did not throw');
}

describe('a dispatcher without a socket, or with one that lacks the method', () => {
  const calls: Array<[string, (d: asyncore.dispatcher) => unknown]> = [
    ['recv', (d) => d.recv(10)],
    ['send', (d) => d.send(Buffer.from('x'))],
    ['listen', (d) => d.listen(5)],
    ['bind', (d) => d.bind(['127.0.0.1', 0])],
    ['connect', (d) => d.connect(['127.0.0.1', 1])],
    ['accept', (d) => d.accept()],
    ['set_reuse_addr', (d) => d.set_reuse_addr()],
    ['handle_connect_event', (d) => d.handle_connect_event()],
    ['handle_expt_event', (d) => d.handle_expt_event()],
  ];

  it.each(calls)('%s() names itself: the dispatcher has no socket yet', (name, call) => {
    const err = thrown(() => call(new asyncore.dispatcher(null, new Map())));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe(`${name}(): the dispatcher has no socket yet (create_socket() or set_socket() first)`);
  });

  it('set_socket() refuses what has no fileno(); recv() and close() name the method the socket lacks', () => {
    const map: asyncore.SocketMap = new Map();
    const d = new asyncore.dispatcher(null, map);
    expect(thrown(() => d.set_socket({} as never)).message).toBe('set_socket(): sock must be a socket, not {}');
    d.set_socket({ fileno: () => 12345 } as never);
    expect(thrown(() => d.recv(1)).message).toMatch(/^recv\(\): the dispatcher's socket has no recv\(\): /);
    expect(thrown(() => d.close()).message).toMatch(/^close\(\): the dispatcher's socket has no close\(\): /);
    map.clear();
  });

  it('handle_accepted() refuses what is not a socket', () => {
    const d = new asyncore.dispatcher(null, new Map());
    expect(thrown(() => d.handle_accepted(1 as never, ['127.0.0.1', 0])).message).toBe(
      'handle_accepted(): sock must be a socket, not 1',
    );
  });

  it('toString(), log() and log_info() show an address or message whose toString() throws', () => {
    const d = new asyncore.dispatcher(null, new Map());
    d.addr = hostile as never;
    expect(String(d)).toMatch(/^<asyncore\.dispatcher /);
    d.ignore_log_types = new Set(['info']);
    expect(() => d.log_info(Symbol('s'), 'warning' as never)).not.toThrow();
  });
});

describe('module functions given what is not a channel', () => {
  it.each([
    ['read', () => asyncore.read({} as never), 'read(): obj must be a channel with handle_read_event(), not {}'],
    ['write', () => asyncore.write({ handle_write_event() {} } as never), 'write(): obj must be a channel with handle_error(), not'],
    ['_exception', () => asyncore._exception(null as never), '_exception(): obj must be a channel (a dispatcher), not null'],
    ['readwrite', () => asyncore.readwrite({} as never, 1), 'readwrite(): obj must be a channel with handle_read_event(), not {}'],
    ['close_all', () => asyncore.close_all(new Map([[3, {} as never]])), 'close_all(): a channel without close() in the map: {}'],
    ['_strerror', () => asyncore._strerror('x' as never), '_strerror(): err must be an errno (a number), not "x"'],
  ])('%s()', (_name, call, message) => {
    const err = thrown(call);
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message.startsWith(message)).toBe(true);
  });
});

describe('errors and reprs of any value, as Python str() makes them', () => {
  it('OSError, NotImplementedError, ExitNow and KeyError take a Symbol or a hostile object as their text', () => {
    expect(new OSError(1, Symbol('s') as never).message).toBe('[Errno 1] Symbol(s)');
    expect(new OSError(null, hostile as never).message).toMatch(/toString/);
    expect(new asyncore.NotImplementedError(Symbol('n')).message).toBe('Symbol(n)');
    expect(() => new asyncore.ExitNow(hostile)).not.toThrow();
    expect(new KeyError(Symbol('k')).message).toBe('Symbol(k)');
  });

  it('compact_traceback() of a thrown value whose toString() throws', () => {
    const [, type, value] = asyncore.compact_traceback(hostile);
    expect(type).toBe('Object');
    expect(value).toMatch(/toString/);
  });

  it('SelectModule() refuses what is not the addon; sockaddrFor() with a caller that is not a name', () => {
    expect(thrown(() => new SelectModule({} as never)).message).toBe("SelectModule(): nativeBinding must be the addon's binding, not {}");
    expect(thrown(() => sockaddrFor(AF_INET, SOCK_STREAM, [1, 0], hostile)).message).toMatch(/^sockaddrFor\(\): /);
  });
});
