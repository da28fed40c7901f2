// Timers and timeouts longer than Node's: setTimeout() holds at most
// 2^31-1 ms (about 24.8 days) and runs a longer delay after 1 ms, with a
// TimeoutOverflowWarning. A LongTimeout chains Node timers up to its
// deadline instead, and an infinite one arms none at all. Also the bound
// CPython puts on a timeout in seconds, shared by the modules that take one.
import { describe } from './errors';

/** The longest delay one Node timer takes, in ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `callback` once, `ms` milliseconds from now (Infinity: never),
 * however long that is: never before the deadline, never with a warning.
 */
export class LongTimeout {
  private handle: NodeJS.Timeout | null = null;
  /** False once unref(): the timers it arms do not keep the process alive. */
  private referenced = true;
  private readonly deadline: number;

  constructor(
    private readonly callback: () => void,
    ms: number,
  ) {
    this.deadline = performance.now() + ms;
    if (ms !== Infinity) this.arm(ms);
  }

  /** Whether the callback is still to run (false once run or cleared, and for an infinite delay). */
  get pending(): boolean {
    return this.handle !== null;
  }

  /** Lets the process exit while this waits (Node's timeout.unref()), for every timer it chains. */
  unref(): this {
    this.referenced = false;
    this.handle?.unref();
    return this;
  }

  /** Stops the callback from running; harmless once it has run. */
  clear(): void {
    if (this.handle === null) return;
    clearTimeout(this.handle);
    this.handle = null;
  }

  private arm(ms: number): void {
    this.handle = setTimeout(this.fire, Math.min(Math.max(0, Math.ceil(ms)), MAX_TIMER_MS));
    if (!this.referenced) this.handle.unref();
  }

  // Node's timers count from a clock cached at the start of the loop's
  // turn, so one may end a little before performance.now() reaches the
  // deadline: the rest is waited out, as is what one timer could not hold.
  private readonly fire = (): void => {
    const left = this.deadline - performance.now();
    if (left > 0) {
      this.arm(left);
      return;
    }
    this.handle = null;
    this.callback();
  };
}

/** CPython's clock counts nanoseconds in a signed 64-bit integer (_PyTime_t). */
const MAX_PY_TIME_NS = 2 ** 63;

/**
 * Refuses a timeout in seconds that CPython's clock cannot hold, Infinity
 * included, as CPython's OverflowError does (a RangeError here).
 */
export function checkPyTime(name: string, seconds: number): number {
  if (!(Math.ceil(seconds * 1e9) < MAX_PY_TIME_NS)) {
    throw new RangeError(`${name} is too large to convert to a timestamp (at most 2**63 ns), got ${describe(seconds)}`);
  }
  return seconds;
}
