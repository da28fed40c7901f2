// twisted.internet.defer.DeferredFilesystemLock: a FilesystemLock that can
// be waited for: deferUntilLocked() tries again every second until it has
// the lock, or the timeout.
import { describe } from './describe';
import { CancelledError, Deferred, TimeoutError, fail } from './defer';
import { Failure } from './failure';
import { FilesystemLock } from './lockfile';
import { reactor, type DelayedCall } from './reactor';
import type { IReactorTime } from './task';

/**
 * deferUntilLocked() was called while an earlier call still waits. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.defer.AlreadyTryingToLockError.html
 */
export class AlreadyTryingToLockError extends Error {
  /** The class name. */
  override get name(): string {
    return 'AlreadyTryingToLockError';
  }
}

/**
 * A FilesystemLock with deferUntilLocked(). See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.defer.DeferredFilesystemLock.html
 */
export class DeferredFilesystemLock extends FilesystemLock {
  /** Seconds between two tries. */
  static interval = 1;
  private readonly scheduler: IReactorTime;
  private tryLockCall: DelayedCall | null = null;
  private timeoutCall: DelayedCall | null = null;

  /** A lock on the path `name`; its tries are scheduled on `scheduler` (the reactor unless given). */
  constructor(name: string, scheduler: IReactorTime | null = null) {
    super(name);
    if (scheduler !== null && (typeof scheduler !== 'object' || typeof scheduler.callLater !== 'function')) {
      throw new TypeError(`DeferredFilesystemLock(): scheduler must have callLater(), not ${describe(scheduler)}`);
    }
    this.scheduler = scheduler ?? reactor;
  }

  /**
   * A Deferred that fires once this lock is held, trying every second; it
   * fails with defer.TimeoutError after `timeout` seconds (if given), or
   * AlreadyTryingToLockError when an earlier call still waits.
   */
  deferUntilLocked(timeout: number | null = null): Deferred<void> {
    if (timeout !== null && (typeof timeout !== 'number' || Number.isNaN(timeout))) {
      throw new TypeError(`deferUntilLocked(): timeout must be a number of seconds or null, not ${describe(timeout)}`);
    }
    if (this.tryLockCall !== null) {
      return fail(new AlreadyTryingToLockError("deferUntilLocked isn't safe for concurrent use."));
    }
    const cancelLock = (reason: Failure): void => {
      this.tryLockCall?.cancel();
      this.tryLockCall = null;
      if (this.timeoutCall !== null && this.timeoutCall.active()) {
        this.timeoutCall.cancel();
        this.timeoutCall = null;
      }
      if (this.lock()) d.callback(undefined);
      else d.errback(reason);
    };
    const d = new Deferred<void>(() => cancelLock(new Failure(new CancelledError())));
    const tryLock = (): void => {
      if (this.lock()) {
        if (this.timeoutCall !== null) {
          this.timeoutCall.cancel();
          this.timeoutCall = null;
        }
        this.tryLockCall = null;
        d.callback(undefined);
        return;
      }
      if (timeout !== null && this.timeoutCall === null) {
        const reason = new Failure(new TimeoutError(`Timed out acquiring lock: ${this.name} after ${timeout.toFixed(6)}s`));
        this.timeoutCall = this.scheduler.callLater(timeout, cancelLock, reason);
      }
      this.tryLockCall = this.scheduler.callLater(DeferredFilesystemLock.interval, tryLock);
    };
    tryLock();
    return d;
  }

  /** @internal For tests: the scheduled next try and timeout. */
  get pendingCalls(): { tryLockCall: DelayedCall | null; timeoutCall: DelayedCall | null } {
    return { tryLockCall: this.tryLockCall, timeoutCall: this.timeoutCall };
  }

  /** @internal For tests: what the tries are scheduled on. */
  get scheduledOn(): IReactorTime {
    return this.scheduler;
  }
}
