// twisted.internet.task's Cooperator: runs many iterators a step at a time,
// in turns, giving the reactor back between time slices, so that long jobs
// (writing a big file, walking a big list) share the process with I/O. An
// iterator that yields a Deferred is paused until it fires.
import { describe } from './describe';
import { Deferred } from './defer';
import { Failure } from './failure';
import { reactor } from './reactor';

/**
 * A Cooperator or CooperativeTask was used in a state that does not allow
 * it. See https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.task.SchedulerError.html
 */
export class SchedulerError extends Error {
  /** The class name. */
  override get name(): string {
    return this.constructor.name;
  }
}

/** The Cooperator was stopped: its tasks end with this. */
export class SchedulerStopped extends SchedulerError {}
/** The task has finished: it can no longer be paused or stopped. */
export class TaskFinished extends SchedulerError {}
/** The task's iterator ran to its end. */
export class TaskDone extends TaskFinished {}
/** The task was stopped. */
export class TaskStopped extends TaskFinished {}
/** The task's iterator threw, or a Deferred it yielded failed. */
export class TaskFailed extends TaskFinished {}
/** resume() on a task that was not paused. */
export class NotPaused extends SchedulerError {}

/** What a Cooperator schedules its next turn with; returns something with cancel(). */
export type Scheduler = (callable: () => void) => {
  /** Drops the call before it runs. */
  cancel(): void;
};

/** A slice ends after 10 ms of work: Twisted's _Timer. */
const MAX_SLICE_MS = 10;

function defaultTerminationPredicateFactory(): () => boolean {
  const end = performance.now() + MAX_SLICE_MS;
  return () => performance.now() >= end;
}

const defaultScheduler: Scheduler = (callable) => reactor.callLater(0.00000001, callable);

/** Walks a list by index, as Python's list iterator does: items removed while walking shift it. */
class ListWalker<T> {
  private index = 0;

  constructor(private readonly list: T[]) {}

  next(): T | undefined {
    return this.index < this.list.length ? this.list[this.index++] : undefined;
  }
}

/**
 * One iterator run by a Cooperator: it can be paused, resumed and
 * stopped, and whenDone() tells when it ends. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.task.CooperativeTask.html
 */
export class CooperativeTask<T = unknown> {
  private readonly iterator: Iterator<T>;
  private readonly cooperator: Cooperator;
  private readonly deferreds: Array<Deferred<Iterator<T>>> = [];
  private pauseCount = 0;
  private completionState: SchedulerError | null = null;
  private completionResult: Iterator<T> | Failure | null = null;

  /** A task running `iterator` on `cooperator`; made by Cooperator.cooperate(). */
  constructor(iterator: Iterator<T>, cooperator: Cooperator) {
    if (iterator === null || typeof iterator !== 'object' || typeof iterator.next !== 'function') {
      throw new TypeError(`CooperativeTask(): needs an iterator, not ${describe(iterator)}`);
    }
    if (!(cooperator instanceof Cooperator)) {
      throw new TypeError(`CooperativeTask(): needs a Cooperator, not ${describe(cooperator)}`);
    }
    this.iterator = iterator;
    this.cooperator = cooperator;
    cooperator.addTask(this);
  }

  /**
   * A Deferred that fires with the iterator when it ends, or fails
   * (TaskStopped, SchedulerStopped, or the iterator's error).
   */
  whenDone(): Deferred<Iterator<T>> {
    const d = new Deferred<Iterator<T>>();
    if (this.completionState === null) this.deferreds.push(d);
    else if (this.completionResult instanceof Failure) d.errback(this.completionResult);
    else d.callback(this.completionResult!);
    return d;
  }

  /** Stops running it until resume(); pauses nest. */
  pause(): void {
    this.checkFinish();
    this.pauseCount += 1;
    if (this.pauseCount === 1) this.cooperator.removeTask(this);
  }

  /** Undoes one pause(); NotPaused if it is not paused. */
  resume(): void {
    if (this.pauseCount === 0) throw new NotPaused();
    this.pauseCount -= 1;
    if (this.pauseCount === 0 && this.completionState === null) this.cooperator.addTask(this);
  }

  /** Ends it: whenDone() fails with TaskStopped. */
  stop(): void {
    this.checkFinish();
    this.completeWith(new TaskStopped(), new Failure(new TaskStopped()));
  }

  /** @internal */
  completeWith(state: SchedulerError, result: Iterator<T> | Failure): void {
    this.completionState = state;
    this.completionResult = result;
    if (this.pauseCount === 0) this.cooperator.removeTask(this);
    for (const d of this.deferreds) {
      if (result instanceof Failure) d.errback(result);
      else d.callback(result);
    }
  }

  private checkFinish(): void {
    if (this.completionState !== null) throw this.completionState;
  }

  /** @internal One step of the iterator. */
  oneWorkUnit(): void {
    let step: IteratorResult<T>;
    try {
      step = this.iterator.next();
    } catch (err) {
      this.completeWith(new TaskFailed(), new Failure(err));
      return;
    }
    if (step.done === true) {
      this.completeWith(new TaskDone(), this.iterator);
    } else if (step.value instanceof Deferred) {
      this.pause();
      step.value.addCallbacks(
        () => this.resume(),
        (failure: Failure) => this.completeWith(new TaskFailed(), failure),
      );
    }
  }
}

/**
 * Runs iterators cooperatively: each turn (a slice of about 10 ms, or
 * what `terminationPredicateFactory` decides) takes one step of each task
 * in turn, then schedules the next turn with `scheduler`. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.task.Cooperator.html
 */
export class Cooperator {
  private tasks: CooperativeTask[] = [];
  private metarator: ListWalker<CooperativeTask> = new ListWalker<CooperativeTask>([]);
  private readonly terminationPredicateFactory: () => () => boolean;
  private readonly scheduler: Scheduler;
  private delayedCall: { cancel(): void } | null = null;
  private stopped = false;
  private started: boolean;
  private mustScheduleOnStart = false;

  /** A Cooperator; unless `started` is false it runs its tasks as they come. */
  constructor(
    terminationPredicateFactory: () => () => boolean = defaultTerminationPredicateFactory,
    scheduler: Scheduler = defaultScheduler,
    started = true,
  ) {
    if (typeof terminationPredicateFactory !== 'function') {
      throw new TypeError(`Cooperator(): terminationPredicateFactory must be a function, not ${describe(terminationPredicateFactory)}`);
    }
    if (typeof scheduler !== 'function') throw new TypeError(`Cooperator(): scheduler must be a function, not ${describe(scheduler)}`);
    this.terminationPredicateFactory = terminationPredicateFactory;
    this.scheduler = scheduler;
    this.started = Boolean(started);
  }

  /** Runs `iterator` to its end; the Deferred (`doneDeferred` if given) fires with it then. */
  coiterate<T>(iterator: Iterator<T>, doneDeferred: Deferred<Iterator<T>> | null = null): Deferred<Iterator<T>> {
    if (doneDeferred !== null && !(doneDeferred instanceof Deferred)) {
      throw new TypeError(`coiterate(): doneDeferred must be a Deferred or null, not ${describe(doneDeferred)}`);
    }
    const done = doneDeferred ?? new Deferred<Iterator<T>>();
    new CooperativeTask(iterator, this).whenDone().chainDeferred(done);
    return done;
  }

  /** Runs `iterator` as a task that can be paused, resumed and stopped. */
  cooperate<T>(iterator: Iterator<T>): CooperativeTask<T> {
    return new CooperativeTask(iterator, this);
  }

  /** @internal */
  addTask(task: CooperativeTask): void {
    this.tasks.push(task);
    if (this.stopped) task.completeWith(new SchedulerStopped(), new Failure(new SchedulerStopped()));
    else this.reschedule();
  }

  /** @internal */
  removeTask(task: CooperativeTask): void {
    this.tasks.splice(this.tasks.indexOf(task), 1);
    if (this.tasks.length === 0 && this.delayedCall !== null) {
      this.delayedCall.cancel();
      this.delayedCall = null;
    }
  }

  // A true private: it runs only from the scheduler, never on a caller's
  // whim (a stray call with a predicate that never ends would not return).
  #tick(): void {
    this.delayedCall = null;
    const terminator = this.terminationPredicateFactory();
    if (typeof terminator !== 'function') {
      throw new TypeError(`Cooperator: terminationPredicateFactory() must return a function, not ${describe(terminator)}`);
    }
    outer: while (this.tasks.length > 0) {
      for (let task = this.metarator.next(); task !== undefined; task = this.metarator.next()) {
        task.oneWorkUnit();
        if (terminator()) break outer;
      }
      this.metarator = new ListWalker(this.tasks);
    }
    this.reschedule();
  }

  private reschedule(): void {
    if (!this.started) {
      this.mustScheduleOnStart = true;
      return;
    }
    if (this.delayedCall === null && this.tasks.length > 0) this.delayedCall = this.scheduler(() => this.#tick());
  }

  /** Starts running tasks (for a Cooperator made with started = false, or stopped). */
  start(): void {
    this.stopped = false;
    this.started = true;
    if (this.mustScheduleOnStart) {
      this.mustScheduleOnStart = false;
      this.reschedule();
    }
  }

  /** Stops: every task ends with SchedulerStopped, and tasks added later too. */
  stop(): void {
    this.stopped = true;
    for (const task of this.tasks) task.completeWith(new SchedulerStopped(), new Failure(new SchedulerStopped()));
    this.tasks = [];
    if (this.delayedCall !== null) {
      this.delayedCall.cancel();
      this.delayedCall = null;
    }
  }

  /** Whether it is started and not stopped. */
  get running(): boolean {
    return this.started && !this.stopped;
  }
}

const theCooperator = new Cooperator();

/**
 * Runs `iterator` to its end on the global Cooperator. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.task.html#coiterate
 */
export function coiterate<T>(iterator: Iterator<T>): Deferred<Iterator<T>> {
  return theCooperator.coiterate(iterator);
}

/**
 * Runs `iterator` as a task on the global Cooperator. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.internet.task.html#cooperate
 */
export function cooperate<T>(iterator: Iterator<T>): CooperativeTask<T> {
  return theCooperator.cooperate(iterator);
}
