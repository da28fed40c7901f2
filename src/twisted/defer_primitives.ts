// twisted.internet.defer's concurrency primitives: DeferredLock,
// DeferredSemaphore and DeferredQueue. Each hands out Deferreds that fire
// when the lock, a token or an item is there; waiters are served first in,
// first out, and cancelling a waiter's Deferred takes it off the list.
import * as assert from 'node:assert';
import { describe } from './describe';
import { Deferred, maybeDeferred } from './defer';

/**
 * What DeferredLock and DeferredSemaphore share: run() and the waiting
 * list. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.defer._ConcurrencyPrimitive.html
 */
abstract class ConcurrencyPrimitive {
  /** The acquire() Deferreds waiting, first in first out. */
  waiting: Array<Deferred<this>> = [];

  /** Fires with this primitive once it is held by the caller. */
  abstract acquire(): Deferred<this>;

  /** Gives back what acquire() gave. */
  abstract release(): void;

  /**
   * Acquires, calls `f(...args)`, and releases once its result (a Deferred
   * or a Promise is waited for) is there; fires with that result.
   */
  run<R>(f: (...args: unknown[]) => R | Deferred<R> | PromiseLike<R>, ...args: unknown[]): Deferred<R> {
    if (typeof f !== 'function') throw new TypeError(`${this.constructor.name}.run(): needs a function, not ${describe(f)}`);
    const d = this.acquire().addCallback(() =>
      maybeDeferred(f, ...args).addBoth((r: unknown) => {
        this.release();
        return r;
      }),
    );
    return d as unknown as Deferred<R>;
  }

  /** The canceller of an acquire() Deferred: takes it off the waiting list. */
  protected cancelAcquire(d: Deferred<this>): void {
    // The canceller only runs for a Deferred with no result, still waiting.
    this.waiting.splice(this.waiting.indexOf(d), 1);
  }
}

/**
 * A lock for event-driven code: acquire() fires at once when it is free,
 * else when the holders before have released it. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.defer.DeferredLock.html
 */
export class DeferredLock extends ConcurrencyPrimitive {
  /** Whether the lock is held; read it, do not set it. */
  locked = false;

  /** Fires with this lock once the caller holds it. */
  acquire(): Deferred<this> {
    const d = new Deferred<this>((waiter) => this.cancelAcquire(waiter));
    if (this.locked) {
      this.waiting.push(d);
    } else {
      this.locked = true;
      d.callback(this);
    }
    return d;
  }

  /** Releases the lock: the first waiter gets it. */
  release(): void {
    assert.ok(this.locked, 'Tried to release an unlocked lock');
    this.locked = false;
    const next = this.waiting.shift();
    if (next !== undefined) {
      this.locked = true;
      next.callback(this);
    }
  }
}

/**
 * A semaphore for event-driven code: `tokens` holders at a time. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.defer.DeferredSemaphore.html
 */
export class DeferredSemaphore extends ConcurrencyPrimitive {
  /** The tokens free now. */
  tokens: number;
  /** The tokens there are in all. */
  readonly limit: number;

  /** A semaphore of `tokens` tokens (at least 1). */
  constructor(tokens: number) {
    super();
    if (typeof tokens !== 'number' || !Number.isInteger(tokens)) {
      throw new TypeError(`DeferredSemaphore(): tokens must be an integer, not ${describe(tokens)}`);
    }
    if (tokens < 1) throw new RangeError(`DeferredSemaphore(): requires tokens >= 1, got ${tokens}`);
    this.tokens = tokens;
    this.limit = tokens;
  }

  /** Fires with this semaphore once the caller holds a token. */
  acquire(): Deferred<this> {
    const d = new Deferred<this>((waiter) => this.cancelAcquire(waiter));
    if (this.tokens === 0) {
      this.waiting.push(d);
    } else {
      this.tokens -= 1;
      d.callback(this);
    }
    return d;
  }

  /** Gives a token back: the first waiter gets it. */
  release(): void {
    assert.ok(this.tokens < this.limit, 'Someone released me too many times: too many tokens!');
    const next = this.waiting.shift();
    if (next !== undefined) next.callback(this);
    else this.tokens += 1;
  }
}

/**
 * put() on a full DeferredQueue. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.defer.QueueOverflow.html
 */
export class QueueOverflow extends Error {
  /** The class name. */
  override get name(): string {
    return 'QueueOverflow';
  }
}

/**
 * get() on a DeferredQueue whose backlog of waiters is full. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.defer.QueueUnderflow.html
 */
export class QueueUnderflow extends Error {
  /** The class name. */
  override get name(): string {
    return 'QueueUnderflow';
  }
}

function checkLimit(what: string, value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new TypeError(`DeferredQueue(): ${what} must be a non-negative integer or null, not ${describe(value)}`);
  }
  return value;
}

/**
 * A queue for event-driven code: get() fires with the next item, at once
 * or when one is put(). `size` bounds the items held (QueueOverflow past
 * it), `backlog` the get()s waiting (QueueUnderflow past it); null is no
 * bound. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.defer.DeferredQueue.html
 */
export class DeferredQueue<T = unknown> {
  /** The get() Deferreds waiting for an item. */
  waiting: Array<Deferred<T>> = [];
  /** The items no get() has taken yet. */
  pending: T[] = [];
  /** The most items held, or null. */
  readonly size: number | null;
  /** The most get()s waiting, or null. */
  readonly backlog: number | null;

  /** A queue holding at most `size` items, with at most `backlog` get()s waiting. */
  constructor(size: number | null = null, backlog: number | null = null) {
    this.size = checkLimit('size', size);
    this.backlog = checkLimit('backlog', backlog);
  }

  /** Adds an item: the first waiting get() gets it, else it is held. */
  put(obj: T): void {
    const next = this.waiting.shift();
    if (next !== undefined) next.callback(obj);
    else if (this.size === null || this.pending.length < this.size) this.pending.push(obj);
    else throw new QueueOverflow();
  }

  /** Takes the next item: a Deferred that fires with it, at once if one is held. */
  get(): Deferred<T> {
    if (this.pending.length > 0) {
      const d = new Deferred<T>();
      d.callback(this.pending.shift());
      return d;
    }
    if (this.backlog !== null && this.waiting.length >= this.backlog) throw new QueueUnderflow();
    const d = new Deferred<T>((waiter) => {
      this.waiting.splice(this.waiting.indexOf(waiter), 1);
    });
    this.waiting.push(d);
    return d;
  }
}
