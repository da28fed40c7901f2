// twisted.internet.defer.inlineCallbacks: a generator function that yields
// Deferreds, written as sequential code. Each yielded Deferred's result is
// sent back into the generator (a failure is thrown into it), and the
// generator's return value is the result of the Deferred the call returns.
// A Deferred that already has its result is resumed at once, in a loop, so
// that a long run of them uses no stack.
import { describe } from './describe';
import { Deferred } from './defer';
import { Failure } from './failure';

/**
 * What returnValue() throws: caught by inlineCallbacks, which returns its
 * value. Not an Error, so that `catch (e) { if (e instanceof Error) ... }`
 * lets it pass, as Twisted's derives from BaseException.
 */
class DefGenReturn {
  constructor(readonly value: unknown) {}
}

/**
 * Returns `value` from an inlineCallbacks generator: Twisted's spelling of
 * `return value`, kept for ports. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.defer.html#returnValue
 */
export function returnValue(value?: unknown): never {
  throw new DefGenReturn(value);
}

/** The error a cancelled inlineCallbacks Deferred is failed with first, to reach the Deferred it waits on. */
class InlineCallbacksCancelledError extends Error {}

/** Where an inlineCallbacks call is: the Deferred it fires, and the one it waits on. */
interface Status {
  deferred: Deferred<unknown>;
  waitingOn: Deferred<unknown> | null;
}

type AnyGenerator = Generator<unknown, unknown, unknown>;

function isGenerator(value: unknown): value is AnyGenerator {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as AnyGenerator).next === 'function' &&
    typeof (value as AnyGenerator).throw === 'function' &&
    typeof (value as AnyGenerator)[Symbol.iterator] === 'function'
  );
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Wraps a generator function: calling the wrapper runs the generator and
 * returns a Deferred of its return value (or of what it throws). Inside,
 * `yield d` waits for a Deferred or a Promise and gives its result (or
 * throws its error); any other value is given back at once. Cancelling
 * the returned Deferred cancels the Deferred the generator waits on. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.defer.html#inlineCallbacks
 */
export function inlineCallbacks<A extends unknown[], R, This = unknown>(
  f: (this: This, ...args: A) => Generator<unknown, R, any>, // eslint-disable-line @typescript-eslint/no-explicit-any
): (this: This, ...args: A) => Deferred<R> {
  if (typeof f !== 'function') throw new TypeError(`inlineCallbacks(): needs a generator function, not ${describe(f)}`);
  const unwindGenerator = function (this: This, ...args: A): Deferred<R> {
    let gen: unknown;
    try {
      gen = f.apply(this, args);
    } catch (err) {
      if (err instanceof DefGenReturn) {
        throw new TypeError(
          `inlineCallbacks(): requires ${describe(f)} to produce a generator; instead caught returnValue being used in a non-generator`,
        );
      }
      throw err;
    }
    if (!isGenerator(gen)) {
      throw new TypeError(`inlineCallbacks(): requires ${describe(f)} to produce a generator; instead got ${describe(gen)}`);
    }
    return cancellableInlineCallbacks(gen) as Deferred<R>;
  };
  Object.defineProperty(unwindGenerator, 'name', { value: f.name });
  return unwindGenerator;
}

function cancellableInlineCallbacks(gen: AnyGenerator): Deferred<unknown> {
  // Cancelling fails the Deferred with an internal error first, caught by
  // an errback put in front of the chain, which cancels what the
  // generator waits on and hands the chain a new Deferred to wait for:
  // the generator then sees CancelledError (or whatever that one gives)
  // and may still recover.
  const cancel = (it: Deferred<unknown>): void => {
    const rest = it.callbacks;
    it.callbacks = [];
    it.addErrback(handleCancel);
    it.callbacks.push(...rest);
    it.errback(new Failure(new InlineCallbacksCancelledError()));
  };
  const deferred = new Deferred<unknown>(cancel);
  const status: Status = { deferred, waitingOn: null };
  const handleCancel = (result: Failure): Deferred<unknown> => {
    result.trap(InlineCallbacksCancelledError);
    status.deferred = new Deferred<unknown>(cancel);
    status.waitingOn?.cancel();
    return status.deferred;
  };
  runGenerator(undefined, gen, status);
  return deferred;
}

/** Sends `result` into the generator, and goes on until it waits on a Deferred with no result yet, or ends. */
function runGenerator(result: unknown, gen: AnyGenerator, status: Status): void {
  // waiting: whether the Deferred just yielded has not fired during addBoth().
  let waiting = true;
  let immediate: unknown;
  for (;;) {
    let step: IteratorResult<unknown, unknown>;
    try {
      step = result instanceof Failure ? result.throwExceptionIntoGenerator(gen) : gen.next(result);
    } catch (err) {
      if (err instanceof DefGenReturn) status.deferred.callback(err.value);
      else status.deferred.errback(new Failure(err));
      return;
    }
    if (step.done === true) {
      status.deferred.callback(step.value);
      return;
    }
    let yielded = step.value;
    if (!(yielded instanceof Deferred) && isThenable(yielded)) yielded = Deferred.fromPromise(yielded);
    if (!(yielded instanceof Deferred)) {
      result = yielded;
      continue;
    }
    yielded.addBoth((r: unknown) => {
      if (waiting) {
        waiting = false;
        immediate = r;
      } else {
        runGenerator(r, gen, status);
      }
      return undefined;
    });
    if (waiting) {
      waiting = false;
      status.waitingOn = yielded;
      return;
    }
    result = immediate;
    immediate = undefined;
    waiting = true;
  }
}

