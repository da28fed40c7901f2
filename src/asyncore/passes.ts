// The passes of asyncore.poll(), poll2() and loop() over one map, one after
// another: which map poller runs them, who may run them (one loop or pass per
// map at a time), and how a pass goes. A pass first polls with a zero
// timeout on the JavaScript thread: when something is ready, as on a busy
// server, it never waits. A pass that must sleep waits (on the worker thread
// or, for epoll, on Node's loop) and returns to the Node event loop
// meanwhile; wake() ends such a wait when something changed outside a
// handler, and the pass looks at the map again.
import { performance } from 'node:perf_hooks';
import { binding as defaultBinding, PollerKind } from '../binding';
import type { NativeBinding, PollerKindName } from '../binding';
import { listen, type MapListener } from '../notify';
import { ChangeLog } from './change_log';
import type { Channel, SocketMap } from './handlers';
import { MapPoller, selectRangeError } from './reactor';
import { SpinPolicy } from './spin';

export type Backend = PollerKindName;

export const kindOf: Readonly<Record<Backend, number>> = PollerKind;

/**
 * epoll passes that find nothing look for registered fds closed behind the
 * package's back (MapPoller.findClosed()): every wait that timed out does,
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

/** What each map needs between passes: its pollers and who is running. */
export class MapState implements MapListener {
  readonly map: SocketMap;
  private readonly nativeBinding: NativeBinding;
  private readonly pollers: Array<MapPoller | undefined> = [];
  /** What is running a pass over this map now, for the error message. */
  busy: 'loop' | 'pass' | null = null;
  /** The poller whose wait is pending, so that wake() can reach it. */
  waiting: MapPoller | null = null;
  /** The poller running a pass now (collected, maybe waiting, dispatching). */
  current: MapPoller | null = null;
  private closeScheduled = false;
  private readonly spin = new SpinPolicy();
  /** Interest on change: what changed since the last pass (null: every pass asks all). */
  changes: ChangeLog | null = null;
  private nextClosedCheck = 0;

  constructor(map: SocketMap, nativeBinding: NativeBinding) {
    this.map = map;
    this.nativeBinding = nativeBinding;
  }

  poller(kind: number): MapPoller {
    let poller = this.pollers[kind];
    if (poller === undefined || poller.isClosed) {
      // Checked before the poller is made: with every fd below FD_SETSIZE
      // taken by channels, its wake-up fd could not be watched by select()
      // and making it would fail with a less helpful EMFILE.
      if (kind === PollerKind.select) {
        for (const fd of this.map.keys()) {
          if (fd >= this.nativeBinding.FD_SETSIZE) throw selectRangeError(fd);
        }
      }
      poller = new MapPoller(kind, this.map, this.nativeBinding);
      this.pollers[kind] = poller;
    }
    return poller;
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
    this.spin.resetYieldBudget();
  }

  /**
   * Ends a loop() or a single pass. The pollers are closed at the end of
   * this turn of the event loop unless another pass starts first, so that
   * `while (...) await poll()` reuses one poller while nothing is left open
   * once the program stops calling.
   */
  release(): void {
    this.busy = null;
    this.current = null;
    this.waiting = null;
    if (this.closeScheduled) return;
    this.closeScheduled = true;
    setImmediate(() => {
      this.closeScheduled = false;
      if (this.busy === null) this.closePollers();
    });
  }

  closePollers(): void {
    this.changes?.stop();
    this.changes = null;
    for (const poller of this.pollers) poller?.close();
    this.pollers.length = 0;
  }

  /**
   * Chooses how the passes to come read readable() and writable(): on
   * change, or every pass (which forgets what on change kept).
   */
  setInterest(onChange: boolean): void {
    if (onChange) {
      this.changes ??= new ChangeLog(this.map, () => this.joined());
    } else if (this.changes !== null) {
      this.changes.stop();
      this.changes = null;
    }
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
    this.changes?.dirty.add(channel);
    this.waiting?.wake();
  }

  /** A channel joined the map: a waiting pass wakes to see it. */
  joined(): void {
    this.waiting?.wake();
  }

  /** A channel was deleted from the map under fd (dispatcher.del_channel()). */
  channelRemoved(fd: number): void {
    this.current?.channelRemoved(fd);
    const epoll = this.pollers[PollerKind.epoll];
    if (epoll !== undefined && epoll !== this.current) epoll.channelRemoved(fd);
    this.waiting?.wake();
  }

  /**
   * One pass of the given kind with a timeout in ms (-1: none). Returns
   * undefined when it completed synchronously and need not yield; a promise
   * otherwise.
   */
  pass(kind: number, timeoutMs: number): Promise<void> | undefined {
    const poller = this.poller(kind);
    const step = this.passSync(poller, timeoutMs);
    if (step === Step.MustWait) return this.passWait(poller, timeoutMs);
    if (step === Step.Idle || this.spin.shouldYield()) return this.yieldToEventLoop();
    return undefined;
  }

  /** Collects the interest set and polls: -1 when the map is empty, else the ready pairs. */
  private scan(poller: MapPoller): number {
    const changes = this.changes;
    return changes === null ? poller.scan() : poller.scanChanges(changes);
  }

  private passSync(poller: MapPoller, timeoutMs: number): Step {
    this.current = poller;
    let step: Step = Step.Idle;
    try {
      let ready = this.scan(poller);
      if (ready < 0) return step;
      if (ready === 0 && poller.interested > 0 && timeoutMs !== 0) ready = this.spin.spin(() => poller.pollNow());
      this.spin.passEnded(ready > 0);
      if (ready > 0) {
        step = Step.Dispatched;
        poller.dispatch(ready);
      } else if (timeoutMs !== 0) {
        step = Step.MustWait;
      } else {
        // The pass ended because its timeout (0) ran out.
        this.timedOut();
        if (performance.now() >= this.nextClosedCheck) {
          this.nextClosedCheck = performance.now() + CLOSED_CHECK_EVERY_MS;
          const closed = poller.findClosed();
          if (closed > 0) {
            step = Step.Dispatched;
            poller.dispatch(closed);
          }
        }
      }
      return step;
    } finally {
      // A pass that goes on to wait keeps its snapshot; passWait() ends it.
      if (step !== Step.MustWait) {
        poller.endPass();
        this.current = null;
      }
    }
  }

  /**
   * The pass waits; its handlers run from the callback that ends the wait,
   * in the turn of Node's loop that saw the fds ready.
   */
  private passWait(poller: MapPoller, timeoutMs: number): Promise<void> {
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    // Woken: something changed outside a handler. Read readable() and
    // writable() again, and go on waiting for what is left of timeout
    // unless something is ready now (or the map is empty: -1).
    const onWoken = (): number => {
      this.waiting = null;
      poller.endPass();
      const ready = this.scan(poller);
      this.waiting = poller;
      return ready;
    };
    return new Promise((resolve, reject) => {
      this.waiting = poller;
      poller.waitReady(deadline, onWoken, (error, ready) => {
        try {
          if (error !== null) throw error;
          this.waiting = null;
          this.spin.passEnded(ready > 0);
          if (ready > 0) {
            poller.dispatch(ready);
          } else if (ready === 0) {
            this.timedOut();
            // epoll: fds closed behind the package's back get POLLNVAL, as poll gives.
            const closed = poller.findClosed();
            if (closed > 0) poller.dispatch(closed);
          }
          resolve();
        } catch (err) {
          reject(err);
        } finally {
          this.waiting = null;
          poller.endPass();
          this.current = null;
          this.spin.resetYieldBudget();
        }
      });
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
