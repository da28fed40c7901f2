// What the fuzz run over the exports (fuzz-exports.test.ts) found in the
// twisted modules: calls that answered garbage with V8's own message
// ("Cannot convert a Symbol value to a string", "x.stopReading is not a
// function") now name the function and what was wrong, making an error
// never throws, and the reactor's plumbing is out of the public surface.
import { describe, expect, it } from 'vitest';
import * as twisted from '../src/twisted';
import { IPv4Address, UNIXAddress } from '../src/twisted/address';
import { IncompleteNetstring, LineOnlyReceiver, LineReceiver, NetstringParseError, NotImplementedError, StringTooLongError } from '../src/twisted/basic';
import { Cooperator, SchedulerStopped, TaskFailed } from '../src/twisted/cooperator';
import { AlreadyCalledError, CancelledError, Deferred, DeferredList, FirstError } from '../src/twisted/defer';
import { AlreadyTryingToLockError } from '../src/twisted/defer_filesystem_lock';
import { DeferredLock, DeferredSemaphore, QueueOverflow } from '../src/twisted/defer_primitives';
import { _parse, _WrappingFactory, _WrappingProtocol } from '../src/twisted/endpoints';
import * as error from '../src/twisted/error';
import { Failure, NoCurrentExceptionError } from '../src/twisted/failure';
import { FilesystemLock } from '../src/twisted/lockfile';
import { formatEvent } from '../src/twisted/log';
import { ThrottlingFactory, TimeoutMixin, WrappingFactory } from '../src/twisted/policies';
import { Factory, Protocol, ReconnectingClientFactory } from '../src/twisted/protocol';
import { DelayedCall, reactor } from '../src/twisted/reactor';
import { Clock, LoopingCall } from '../src/twisted/task';

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

describe('making an error never throws, whatever it is made with', () => {
  const makers: Array<[string, (arg: unknown) => Error]> = [
    ['error.TwistedError', (a) => new error.TwistedError(a as string)],
    ['error.ReactorAlreadyRunning', (a) => new error.ReactorAlreadyRunning(a as string)],
    ['error.ConnectionDone', (a) => new error.ConnectionDone(a)],
    ['error.ConnectionLost', (a) => new error.ConnectionLost(a)],
    ['error.ConnectionFdescWentAway', (a) => new error.ConnectionFdescWentAway(a)],
    ['error.AlreadyCalled', (a) => new error.AlreadyCalled(a)],
    ['error.MessageLengthError', (a) => new error.MessageLengthError(a)],
    ['error.NotListeningError', (a) => new error.NotListeningError(a)],
    ['error.DNSLookupError', (a) => new error.DNSLookupError(a)],
    ['error.NoProtocol', (a) => new error.NoProtocol(a)],
    ['error.ConnectBindError', (a) => new error.ConnectBindError(a, a as string)],
    ['error.NoRouteError', (a) => new error.NoRouteError(a)],
    ['error.TimeoutError', (a) => new error.TimeoutError(a)],
    ['error.CannotListenError', (a) => new error.CannotListenError(a as string, a as number, a)],
    ['error.ConnectingCancelledError', (a) => new error.ConnectingCancelledError(a)],
    ['error.getConnectError', (a) => error.getConnectError(a as number, a as string)],
    ['FirstError', (a) => new FirstError(a as Failure, a as number)],
    ['AlreadyCalledError', (a) => new AlreadyCalledError(a)],
    ['CancelledError', (a) => new CancelledError(a)],
    ['StringTooLongError', (a) => new StringTooLongError(a)],
    ['NetstringParseError', (a) => new NetstringParseError(a)],
    ['IncompleteNetstring', (a) => new IncompleteNetstring(a)],
    ['NotImplementedError', (a) => new NotImplementedError(a)],
    ['task.SchedulerStopped', (a) => new SchedulerStopped(a)],
    ['task.TaskFailed', (a) => new TaskFailed(a)],
    ['AlreadyTryingToLockError', (a) => new AlreadyTryingToLockError(a)],
    ['QueueOverflow', (a) => new QueueOverflow(a)],
    ['NoCurrentExceptionError', (a) => new NoCurrentExceptionError(a)],
  ];

  it.each(makers)('%s with a Symbol or an object whose toString() throws', (_name, make) => {
    const fromSymbol = make(Symbol('why'));
    expect(fromSymbol).toBeInstanceOf(Error);
    expect(fromSymbol.message).toContain('Symbol(why)');
    expect(make(hostile)).toBeInstanceOf(Error);
  });

  it('keeps the messages it makes from ordinary values', () => {
    expect(new StringTooLongError('too long').message).toBe('too long');
    expect(new CancelledError().message).toBe('');
    expect(new error.ConnectionLost('x').message).toBe('Connection to the other side was lost in a non-clean fashion: x.');
    expect(new FirstError(new Failure(new Error('boom')), 2).message).toBe('FirstError[#2, [Failure instance: Error: boom]]');
  });
});

describe("the reactor's plumbing is not public", () => {
  it.each(['doReadOrWrite', 'disconnectSelectable', 'descriptorFor', 'dropIfIdle'])('reactor.%s is not reachable', (name) => {
    expect(name in reactor).toBe(false);
  });

  it('removeReader() of a descriptor still stops watching it (dropIfIdle as a true private)', () => {
    const reader = { fileno: () => 0, doRead: () => undefined, connectionLost: () => undefined, logPrefix: () => 'r' };
    reactor.addReader(reader);
    expect(reactor.getReaders()).toContain(reader);
    reactor.removeReader(reader);
    expect(reactor.getReaders()).not.toContain(reader);
  });
});

describe('what is built with garbage is refused where it comes in', () => {
  it('DelayedCall() needs a clock, a number of seconds and an argument array', () => {
    const err = thrown(() => new DelayedCall(1, () => {}, [], {} as never));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe('DelayedCall(): needs the clock that schedules it (seconds(), rescheduled(), cancelled()), not {}');
    const clock = { seconds: () => 0, rescheduled: () => {}, cancelled: () => {} };
    expect(thrown(() => new DelayedCall(Symbol() as never, () => {}, [], clock)).message).toBe('DelayedCall(): time must be a number of seconds, not Symbol()');
    expect(thrown(() => new DelayedCall(1, () => {}, null as never, clock)).message).toBe('DelayedCall(): args must be an array, not null');
    expect(new DelayedCall(1, () => {}, [], clock).toString()).toMatch(/^<DelayedCall/);
  });

  it('_WrappingProtocol() needs a Deferred and a protocol; _WrappingFactory() a factory', () => {
    expect(thrown(() => new _WrappingProtocol({} as never, new Protocol())).message).toBe('_WrappingProtocol(): connectedDeferred must be a Deferred, not {}');
    expect(thrown(() => new _WrappingProtocol(new Deferred(), null as never)).message).toBe('_WrappingProtocol(): the wrapped protocol must be a protocol, not null');
    // Any object may be wrapped (Twisted's test_logPrefixDefault); what it lacks is named when it is called.
    const bare = new _WrappingProtocol(new Deferred(), {} as never);
    expect(thrown(() => bare.makeConnection({} as never)).message).toBe('connectionMade(): the wrapped protocol has no makeConnection(): {}');
    expect(thrown(() => bare.dataReceived(Buffer.from('x'))).message).toBe('dataReceived(): the wrapped protocol has no dataReceived(): {}');
    expect(thrown(() => bare.connectionLost(new Failure(new Error('x')))).message).toBe('connectionLost(): the wrapped protocol has no connectionLost(): {}');
    expect(thrown(() => new _WrappingFactory({ buildProtocol: () => null } as never)).message).toMatch(
      /^_WrappingFactory\(\): the wrapped factory must be a Factory, not /,
    );
  });

  it('_parse() with a `where` that is not a string names itself', () => {
    expect(_parse('tcp:80', Symbol() as never)[0]).toEqual(['tcp', '80']);
    expect(thrown(() => _parse(hostile as never, hostile as never)).message).toMatch(/^_parse\(\): description must be a string/);
  });

  it('ReconnectingClientFactory needs a connector it can also stop', () => {
    const f = new ReconnectingClientFactory();
    const err = thrown(() => f.clientConnectionFailed({ connect() {} } as never, new Failure(new Error('x'))));
    expect(err.message).toBe('clientConnectionFailed(): needs an IConnector (an object with connect() and stopConnecting()), not { connect: [Function: connect] }');
    f.stopTrying();
  });

  it('WrappingFactory and ThrottlingFactory register only their wrappers', () => {
    const wrapped = new Factory();
    expect(thrown(() => new WrappingFactory(wrapped).registerProtocol({} as never)).message).toBe('registerProtocol(): needs a ProtocolWrapper, not {}');
    const throttling = new ThrottlingFactory(wrapped);
    expect(thrown(() => throttling.registerProtocol({} as never)).message).toBe('registerProtocol(): needs a ThrottlingProtocol, not {}');
    expect(() => throttling.throttleReads()).not.toThrow();
    expect(thrown(() => throttling.registerRead(Symbol() as never)).message).toBe('registerRead(): length must be a number of bytes, not Symbol()');
    expect(thrown(() => throttling.registerWritten({} as never)).message).toBe('registerWritten(): length must be a number of bytes, not {}');
  });

  it('FilesystemLock() refuses a name with a NUL byte (no file can have it)', () => {
    expect(thrown(() => new FilesystemLock('\0')).message).toBe("FilesystemLock(): name must be a path (without NUL bytes), not '\\x00'");
  });

  it('makeConnection() refuses bytes as a transport (a Buffer has a write() of its own)', () => {
    expect(thrown(() => new Protocol().makeConnection(Buffer.from('x') as never)).message).toBe('makeConnection(): needs a transport, not <Buffer 78>');
  });

  it('TimeoutMixin() needs a class of its own, not an arrow function or a built-in', () => {
    expect(thrown(() => TimeoutMixin((() => {}) as never)).message).toMatch(/^TimeoutMixin\(\): needs a class to extend, not /);
    expect(thrown(() => TimeoutMixin(Map as never)).message).toMatch(/^TimeoutMixin\(\): needs a class to extend, not function Map\(\)/);
    expect(typeof TimeoutMixin(Protocol)).toBe('function');
  });
});

describe('methods that call what they are given check it first', () => {
  it("line and string receivers name the transport's method they lack", () => {
    const p = new LineReceiver();
    p.makeConnection({} as never);
    expect(thrown(() => p.sendLine('x')).message).toBe('sendLine(): the transport has no write(): {}');
    expect(thrown(() => p.lineLengthExceeded(Buffer.from('x'))).message).toBe('lineLengthExceeded(): the transport has no loseConnection(): {}');
    const q = new LineOnlyReceiver();
    q.makeConnection({} as never);
    expect(thrown(() => q.sendLine('x')).message).toBe('sendLine(): the transport has no writeSequence(): {}');
  });

  it('sendLine() looks at the transport before the delimiter, as Twisted\'s self.transport.write(line + self.delimiter) does', () => {
    const p = new LineReceiver();
    p.makeConnection({} as never);
    p.delimiter = '';
    expect(thrown(() => p.sendLine('x')).message).toBe('sendLine(): the transport has no write(): {}');
  });

  it('ByteQueue is not exported (it is the receivers\' buffer)', () => {
    expect('ByteQueue' in twisted.basic).toBe(false);
  });

  it('Deferred callbacks and then() refuse a class, by name', () => {
    const d = new Deferred();
    expect(thrown(() => d.addCallback(CancelledError as never)).message).toBe(
      'addCallback(): needs a function to call, not the class [class CancelledError extends Error] (it needs new)',
    );
    expect(thrown(() => d.addCallbacks(null, Map as never)).message).toMatch(/^addCallbacks\(\): needs a function to call, not the class/);
    expect(thrown(() => d.then(Map as never)).message).toBe('then(): onfulfilled must be a function to call, not the class [Function: Map] (it needs new)');
    expect(() => d.then(String as never)).not.toThrow();
    expect(thrown(() => new Deferred(Map as never)).message).toBe('Deferred(): canceller must be a function or null, not [Function: Map]');
    expect(thrown(() => new Clock().callLater(1, LineReceiver as never)).message).toMatch(/^DelayedCall\(\): func must be a function to call, not \[class LineReceiver/);
  });

  it('formatEvent(), throwExceptionIntoGenerator() and Cooperator.addTask() check their argument', () => {
    expect(thrown(() => formatEvent(null as never)).message).toBe('formatEvent(): needs a log event, not null');
    const f = new Failure(new Error('x'));
    expect(thrown(() => f.throwExceptionIntoGenerator({} as never)).message).toBe('throwExceptionIntoGenerator(): needs a generator, not {}');
    const c = new Cooperator(undefined, undefined, false);
    expect(thrown(() => c.addTask({} as never)).message).toBe('addTask(): needs a CooperativeTask, not {}');
    expect(() => c.stop()).not.toThrow();
  });

  it("Failure's, DeferredList's and LoopingCall's helpers are true privates", () => {
    expect('findType' in new Failure(new Error('x'))).toBe(false);
    expect('cbDeferred' in new DeferredList([])).toBe(false);
    const call = new LoopingCall(() => {});
    expect('intervalOf' in call).toBe(false);
    expect('scheduleFrom' in call).toBe(false);
  });

  it('a release too many is an AssertionError with Twisted\'s message, not Node\'s ERR_ASSERTION', () => {
    const err = thrown(() => new DeferredLock().release());
    expect(err.name).toBe('AssertionError');
    expect(err.message).toBe('Tried to release an unlocked lock');
    expect((err as { code?: unknown }).code).toBeUndefined();
    const sem = thrown(() => new DeferredSemaphore(1).release());
    expect(sem.message).toBe('Someone released me too many times: too many tokens!');
    expect((sem as { code?: unknown }).code).toBeUndefined();
  });
});

describe('what shows a value never throws', () => {
  it('addresses show any host and port', () => {
    expect(new IPv4Address('TCP', Symbol('h') as never, hostile as never).toString()).toMatch(/^IPv4Address\(type='TCP', host='Symbol\(h\)', port=/);
    expect(new UNIXAddress(Symbol('p') as never).toString()).toBe("UNIXAddress('Symbol(p)')");
  });

  it('wrapping factories show any log prefix of what they wrap', () => {
    const wrapped = Object.assign(new Factory(), { logPrefix: () => hostile });
    expect(new WrappingFactory(wrapped as never).logPrefix()).toMatch(/^\{ toString: \[Function: toString\].* \(WrappingFactory\)$/);
  });
});
