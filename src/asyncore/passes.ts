// The passes of asyncore.poll(), poll2() and loop() over one map, one after
// another: which of the map's watches runs them, who may run them (one loop or pass per
// map at a time), and how a pass goes. A pass first polls with a zero
// timeout on the JavaScript thread: when something is ready, as on a busy
// server, it never waits. A pass that must sleep waits (on the worker thread
// or, for epoll, on Node's loop) and returns to the Node event loop
// meanwhile; wake() ends such a wait when something changed outside a
// handler, and the pass looks at the map again.
import { performance } from 'node:perf_hooks';
import { binding as defaultBinding, PollerKind } from '../binding';
import type { NativeBinding, PollerKindName } from '../binding';
import { listen, mapRunning, type MapListener } from '../notify';
import type { Channel, SocketMap } from './handlers';
import { MapChanges } from './map_changes';
import { MapWatch, selectRangeError } from './map_watch';
import { SpinPolicy } from '../spin';

export type Backend = PollerKindName;

export const kindOf: Readonly<Record<Backend, number>> = PollerKind;

/**
 * epoll passes that find nothing look for registered fds closed behind the
 * package's back (MapWatch.reportClosed()): every wait that timed out does,
 * and zero-timeout passes at most this often, as each look costs a system
 * call per registered fd.
 */
const CLOSED_CHECK_EVERY_MS = 1000;

/** The result of the synchronous part of a pass. */
const Step = {
  /** Handlers ran: work was ready. */
  Dispatched: 0,
  /** Nothing ready and the pass may not sleep, or the map is empty. */
  Idle: 1,
  /** Nothing ready: the pass must wait. */
  MustWait: 2,
} as const;
type Step = (typeof Step)[keyof typeof Step];

/** What each map needs between passes: its watches and who is running. */
export class MapState implements MapListener {
  readonly map: SocketMap;
  private readonly nativeBinding: NativeBinding;
  private readonly watches: Array<MapWatch | undefined> = [];
  /** What is running a pass over this map now, for the error message. */
  busy: 'loop' | 'pass' | null = null;
  /** The watch whose wait is pending, so that wake() can reach it. */
  waiting: MapWatch | null = null;
  private closeScheduled = false;
  private readonly spin = new SpinPolicy();
  /** Interest on change: what changed since the last pass (null: every pass asks all). */
  changes: MapChanges | null = null;
  /** The watch whose answers `changes` keeps up to date (the last to run a pass on change). */
  private keeper: MapWatch | null = null;
  private nextClosedCheck = 0;

  constructor(map: SocketMap, nativeBinding: NativeBinding) {
    this.map = map;
    this.nativeBinding = nativeBinding;
  }

  /** The map's watch of this kind, made on first use. */
  watch(kind: number): MapWatch {
    let watch = this.watches[kind];
    if (watch === undefined || watch.isClosed) {
      // Checked before the watcher is made: with every fd below FD_SETSIZE
      // taken by channels, its wake-up fd could not be watched by select()
      // and making it would fail with a less helpful EMFILE.
      if (kind === PollerKind.select) {
        for (const fd of this.map.keys()) {
          if (fd >= this.nativeBinding.FD_SETSIZE) throw selectRangeError(fd);
        }
      }
      watch = new MapWatch(kind, this.map, this.nativeBinding);
      this.watches[kind] = watch;
    }
    return watch;
  }

  acquire(what: 'loop' | 'pass'): void {
    if (this.busy !== null) {
      const running = this.busy === 'loop' ? 'an asyncore loop()' : 'an asyncore pass (poll()/poll2())';
      throw new Error(
        `${running} is already running on this map; ${what === 'loop' ? 'loop()' : 'a pass'} cannot run ` +
          'on the same map at the same time (use another map)',
      );
    }
    this.busy = what;
    mapRunning(this.map, true);
    this.spin.resetYieldBudget();
  }

  /**
   * Ends a loop() or a single pass. The watches are closed at the end of
   * this turn of the event loop unless another pass starts first, so that
   * `while (...) await poll()` reuses one watcher while nothing is left
   * open once the program stops calling.
   */
  release(): void {
    this.busy = null;
    mapRunning(this.map, false);
    this.waiting = null;
    if (this.closeScheduled) return;
    this.closeScheduled = true;
    setImmediate(() => {
      this.closeScheduled = false;
      if (this.busy === null) this.closePollers();
    });
  }

  /** Closes the map's watches, and with them their native pollers. */
  closePollers(): void {
    this.changes = null;
    this.keeper = null;
    for (const watch of this.watches) watch?.close();
    this.watches.length = 0;
  }

  /**
   * Chooses how the passes to come read readable() and writable(): on
   * change, or every pass (which forgets what on change kept).
   */
  setInterest(onChange: boolean): void {
    if (onChange) this.changes ??= new MapChanges();
    else this.changes = null;
  }

  /** wake(map): every channel is asked again, and a waiting pass wakes. */
  wake(): void {
    if (this.changes !== null) this.changes.all = true;
    this.waiting?.wake();
  }

  /**
   * A method of this package changed channel's state, or wake(map,
   * channel) named it: it is asked again, and a waiting pass wakes.
   */
  channelChanged(channel: Channel): void {
    this.changes?.markChannel(channel);
    this.waiting?.wake();
  }

  /** channel joined the map under fd (in place of `before`): a waiting pass wakes to see it. */
  joined(fd: number, channel: Channel, before: Channel | undefined): void {
    this.changes?.joined(fd, channel, before);
    if (before !== undefined && before !== channel) this.left(fd);
    this.waiting?.wake();
  }

  /** channel, under fd, was deleted from the map (dispatcher.del_channel()). */
  channelRemoved(fd: number, channel: Channel): void {
    this.changes?.left(fd, channel);
    this.left(fd);
    this.waiting?.wake();
  }

  /** Whatever held fd left it: no watch keeps it. */
  private left(fd: number): void {
    for (const watch of this.watches) watch?.channelRemoved(fd);
  }

  /**
   * One pass of the given kind with a timeout in ms (-1: none). Returns
   * undefined when it completed synchronously and need not yield; a promise
   * otherwise.
   */
  pass(kind: number, timeoutMs: number): Promise<void> | undefined {
    const watch = this.watch(kind);
    const step = this.passSync(watch, timeoutMs);
    if (step === Step.MustWait) return this.passWait(watch, timeoutMs);
    if (step === Step.Idle || this.spin.shouldYield()) return this.yieldToEventLoop();
    return undefined;
  }

  /**
   * Hands the interest set to the watcher and polls, running the handlers
   * of what is ready: -1 when the map is empty, else the number of ready fds.
   */
  private scan(watch: MapWatch): number {
    const changes = this.changes;
    if (changes === null) return watch.scan();
    if (this.keeper !== watch) {
      // The answers another kind kept went stale while this one ran.
      this.keeper?.forgetAnswers();
      this.keeper = watch;
    }
    return watch.scanChanges(changes);
  }

  private passSync(watch: MapWatch, timeoutMs: number): Step {
    let step: Step = Step.Idle;
    try {
      let ready = this.scan(watch);
      if (ready < 0) return step;
      if (ready === 0 && watch.interested > 0 && timeoutMs !== 0) ready = this.spin.spin(watch);
      this.spin.passEnded(ready > 0);
      if (ready > 0) {
        step = Step.Dispatched;
      } else if (timeoutMs !== 0) {
        step = Step.MustWait;
      } else {
        // The pass ended because its timeout (0) ran out.
        this.timedOut();
        if (performance.now() >= this.nextClosedCheck) {
          this.nextClosedCheck = performance.now() + CLOSED_CHECK_EVERY_MS;
          if (watch.reportClosed() > 0) step = Step.Dispatched;
        }
      }
      return step;
    } finally {
      // A pass that goes on to wait keeps its snapshot; passWait() ends it.
      if (step !== Step.MustWait) watch.endPass();
    }
  }

  /**
   * The pass waits; its handlers run from the callback that ends the wait,
   * in the turn of Node's loop that saw the fds ready. A wait that wake()
   * ended (something changed outside a handler) looks at the map again,
   * and goes on waiting for what is left of the timeout unless something
   * is ready now (or the map is empty).
   */
  private passWait(watch: MapWatch, timeoutMs: number): Promise<void> {
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const waitOnce = (): void => {
        this.waiting = watch;
        watch.wait(deadline, (error, count) => {
          this.waiting = null;
          let waitsOn = false;
          try {
            if (error !== null) throw error;
            if (count < 0) {
              watch.endPass();
              const ready = this.scan(watch);
              waitsOn = ready === 0;
              if (!waitsOn) this.spin.passEnded(ready > 0);
            } else if (count > 0) {
              this.spin.passEnded(true);
            } else {
              this.spin.passEnded(false);
              this.timedOut();
              // epoll: fds closed behind the package's back get POLLNVAL, as poll gives.
              watch.reportClosed();
            }
            if (!waitsOn) resolve();
          } catch (err) {
            reject(err);
          } finally {
            if (waitsOn) {
              waitOnce();
            } else {
              watch.endPass();
              this.spin.resetYieldBudget();
            }
          }
        });
      };
      waitOnce();
    });
  }

  /** A pass ended because its timeout ran out: on change, every channel is asked next. */
  private timedOut(): void {
    if (this.changes !== null) this.changes.all = true;
  }

  private yieldToEventLoop(): Promise<void> {
    this.spin.resetYieldBudget();
    return new Promise((resolve) => setImmediate(resolve));
  }
}

const states = new WeakMap<SocketMap, MapState>();

/** The pass state of map, made (and listening to its channels) on first use. */
export function stateOf(map: SocketMap, nativeBinding: NativeBinding = defaultBinding): MapState {
  let state = states.get(map);
  if (state === undefined) {
    state = new MapState(map, nativeBinding);
    states.set(map, state);
    listen(map, state);
  }
  return state;
}

/** Timeout in seconds (null: forever) -> ms for the native wait (-1: forever). */
export function timeoutToMs(timeout: number | null): number {
  if (timeout === null) return -1;
  // Rounded to microseconds first, so that 0.3 s is 300 ms and not 301.
  return Math.ceil(Math.round(timeout * 1e6) / 1000);
}
