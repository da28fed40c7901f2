// twisted.python.failure: an error wrapped with its type, handed down
// errbacks and to connectionLost(). JavaScript has no "current exception",
// so a Failure is always made from the error itself.
import * as util from 'node:util';
import { describe } from './describe';

/** A class an error may be checked against (an Error subclass). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ErrorClass = abstract new (...args: any[]) => unknown;

/** Failure() was given nothing to wrap. */
export class NoCurrentExceptionError extends Error {
  /** The class name. */
  override get name(): string {
    return 'NoCurrentExceptionError';
  }
}

/**
 * Turns anything thrown into an Error, keeping Errors as they are: a
 * string is the message, anything else (undefined, a number, an object)
 * is described.
 */
function asError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : describe(value));
}

/**
 * An error with its class: what errbacks receive, and what connectionLost()
 * is given as its reason.
 */
export class Failure {
  /** The error itself. */
  readonly value: Error;
  /** The error's class. */
  readonly type: ErrorClass;

  /**
   * Wraps `excValue`. A Failure given a Failure copies it; a value that is
   * not an Error is wrapped in one, `undefined` included (JavaScript can
   * throw it). Given nothing at all, there is no current exception to wrap.
   */
  constructor(excValue?: unknown) {
    if (arguments.length === 0) {
      throw new NoCurrentExceptionError('Failure() needs the error to wrap (JavaScript has no current exception)');
    }
    if (excValue instanceof Failure) {
      this.value = excValue.value;
      this.type = excValue.type;
      return;
    }
    this.value = asError(excValue);
    this.type = this.value.constructor as ErrorClass;
  }

  /** The error's message, as text. */
  getErrorMessage(): string {
    return this.value.message;
  }

  /**
   * The first of `errorTypes` the error is an instance of (a class, or a
   * class name as a string), or null when it is none of them.
   */
  check(...errorTypes: Array<ErrorClass | string>): ErrorClass | string | null {
    return this.findType('check', errorTypes);
  }

  /**
   * check() that throws the error when it is none of `errorTypes`: the
   * errback idiom for letting other failures pass down the chain.
   */
  trap(...errorTypes: Array<ErrorClass | string>): ErrorClass | string {
    const found = this.findType('trap', errorTypes);
    if (found === null) this.raiseException();
    return found as ErrorClass | string;
  }

  /** Throws the wrapped error. */
  raiseException(): never {
    throw this.value;
  }

  /**
   * Throws the error into `gen` where it is suspended, and returns what it
   * yields next (inlineCallbacks' way of failing a `yield`).
   */
  throwExceptionIntoGenerator<T, R, N>(gen: Generator<T, R, N>): IteratorResult<T, R> {
    return gen.throw(this.value);
  }

  /** The error's stack (its message and frames), as text. */
  getTraceback(): string {
    return this.value.stack ?? `${this.value.name}: ${this.value.message}`;
  }

  /** Writes getTraceback() to `stream` (default: stderr). */
  printTraceback(stream: { write(text: string): unknown } = process.stderr): void {
    if (stream === null || typeof stream !== 'object' || typeof stream.write !== 'function') {
      throw new TypeError(`printTraceback(): stream must have write(), not ${describe(stream)}`);
    }
    stream.write(`${this.getTraceback()}\n`);
  }

  /**
   * Drops the frames the error holds: V8 keeps the receivers and functions
   * of an error's frames until its stack is first read, and those may be
   * the very objects (a Deferred) that hold this Failure. Reading the stack
   * turns it into text.
   */
  cleanFailure(): void {
    try {
      void this.value.stack;
    } catch {
      // A stack getter that throws leaves nothing to format.
    }
  }

  /** "[Failure instance: ...]" with the class and the message, as Twisted prints one. */
  toString(): string {
    return `[Failure instance: ${this.value.name}: ${this.getErrorMessage()}]`;
  }

  /** The same text as toString(), for console.log() and util.inspect(). */
  [util.inspect.custom](): string {
    return `<Failure ${this.value.name}: ${this.getErrorMessage()}>`;
  }

  private findType(where: string, errorTypes: Array<ErrorClass | string>): ErrorClass | string | null {
    for (const t of errorTypes) {
      if (typeof t === 'string') {
        if (this.classNames().includes(t)) return t;
        continue;
      }
      if (typeof t !== 'function' || t.prototype === null || typeof t.prototype !== 'object') {
        throw new TypeError(`${where}(): needs error classes or class names, not ${describe(t)}`);
      }
      if (this.value instanceof t) return t;
    }
    return null;
  }

  private classNames(): string[] {
    const names: string[] = [];
    for (let proto = Object.getPrototypeOf(this.value); proto !== null; proto = Object.getPrototypeOf(proto)) {
      if (Object.prototype.hasOwnProperty.call(proto, 'constructor')) names.push((proto.constructor as { name: string }).name);
    }
    return names;
  }
}
