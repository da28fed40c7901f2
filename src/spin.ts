// When a front end's passes over its watcher (asyncore's passes over a map,
// the Twisted reactor's turns) yield to the Node event loop, and when a pass
// spins (re-polls with a zero timeout) before it pays for a wait.
import { performance } from 'node:perf_hooks';

/**
 * How long passes that find work ready may run back to back before the
 * pass loop yields to the Node event loop with setImmediate(): 64 passes or
 * 2 ms, whichever comes first. Each yield costs a turn of libuv's loop (a
 * few microseconds, about one idle pass), so this keeps that overhead near
 * 1% on a busy server while timers, Node's own sockets and other front ends'
 * loops wait at most ~2 ms. A pass that finds nothing ready and may not sleep
 * (timeout 0) always yields: it has nothing better to do.
 */
const YIELD_EVERY_PASSES = 64;
const YIELD_AFTER_MS = 2;

/**
 * How long a busy front end re-polls with a zero timeout before it pays for a
 * wait. A wait costs a thread hop or a turn of Node's loop (tens of
 * microseconds) while a zero-timeout poll costs one system call, and a peer
 * that was just answered usually writes again within a few tens of
 * microseconds. Only a front end whose previous pass ran handlers spins, so an
 * idle server never does, and the spin stays inside the yield budget above.
 */
const SPIN_BEFORE_WAIT_MS = 0.05;

/**
 * The spin pays only while peers answer within it. Each spin's outcome
 * feeds a moving average (weight 1/8); below a 50% hit rate the front end stops
 * spinning, so that a server with sparse traffic (a request every few
 * hundred microseconds) does not burn 50 us per request, and it tries a
 * spin again every 16th pass that could spin, to notice when traffic
 * turns dense again.
 */
const SPIN_HIT_WEIGHT = 1 / 8;
const SPIN_MIN_HIT_RATE = 0.5;
const SPIN_PROBE_EVERY = 16;

export class SpinPolicy {
  private passesSinceYield = 0;
  private yieldDeadline = 0;
  /** Whether the last pass ran handlers: the front end is busy, worth a spin. */
  private lastPassDispatched = false;
  /** Moving average of the spins that found work (1: every one did). */
  private spinHitRate = 1;
  /** Passes that could have spun but did not, since the last probe. */
  private spinsSkipped = 0;

  /** Whether passes that found work have run long enough to yield now. */
  shouldYield(): boolean {
    return ++this.passesSinceYield >= YIELD_EVERY_PASSES || performance.now() >= this.yieldDeadline;
  }

  /** The front end yielded (or waited): a new budget starts. */
  resetYieldBudget(): void {
    this.passesSinceYield = 0;
    this.yieldDeadline = performance.now() + YIELD_AFTER_MS;
  }

  /** A pass ended, having run handlers or not. */
  passEnded(dispatched: boolean): void {
    this.lastPassDispatched = dispatched;
  }

  /**
   * A pass found nothing ready and would wait: re-polls (target.pollNow())
   * for up to 50 us when that pays, and not past `until` (performance.now()
   * ms), when the caller has something else due. The number of ready pairs
   * the re-polls found.
   */
  spin(target: { pollNow(): number }, until = Infinity): number {
    if (!this.lastPassDispatched || !this.spinPays()) return 0;
    const deadline = Math.min(performance.now() + SPIN_BEFORE_WAIT_MS, until);
    let ready = 0;
    while (ready === 0 && performance.now() < deadline) ready = target.pollNow();
    this.spinHitRate += SPIN_HIT_WEIGHT * ((ready > 0 ? 1 : 0) - this.spinHitRate);
    return ready;
  }

  /** Whether to spin now: while spins keep finding work, and every so often to probe. */
  private spinPays(): boolean {
    if (this.spinHitRate >= SPIN_MIN_HIT_RATE) return true;
    if (++this.spinsSkipped < SPIN_PROBE_EVERY) return false;
    this.spinsSkipped = 0;
    return true;
  }
}
