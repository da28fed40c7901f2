// A small twisted.python.log: what the reactor and the transports report
// (errors in protocol code, unhandled errors in Deferreds). Observers see
// every event; with none added, errors go to stderr and messages nowhere,
// so that a program without logging set up still shows what went wrong.
import { describe, pythonRepr } from './describe';
import { Failure } from './failure';

/** One logged event: a message, or an error with its Failure. */
export interface LogEvent {
  /** The text of a message, empty for an error. */
  message: string;
  /** True for errors. */
  isError: boolean;
  /** The failure, for errors. */
  failure: Failure | null;
  /** Why the error was logged ("Unhandled Error" by default). */
  why: string | null;
}

/** Something that receives every logged event. */
export type LogObserver = (event: LogEvent) => void;

const observers: LogObserver[] = [];

/** Adds an observer: from now on it sees every event. */
export function addObserver(observer: LogObserver): void {
  if (typeof observer !== 'function') throw new TypeError(`addObserver(): needs a function, not ${describe(observer)}`);
  observers.push(observer);
}

/** Removes an observer added before; one that was not added is ignored. */
export function removeObserver(observer: LogObserver): void {
  const i = observers.indexOf(observer);
  if (i >= 0) observers.splice(i, 1);
}

function publish(event: LogEvent): void {
  if (observers.length === 0) {
    if (event.isError) process.stderr.write(formatEvent(event));
    return;
  }
  for (const observer of [...observers]) {
    try {
      observer(event);
    } catch (err) {
      // An observer that fails must not silence the others.
      process.stderr.write(`log observer failed: ${describe(err)}\n`);
    }
  }
}

/** The text of an event as stderr shows it. */
export function formatEvent(event: LogEvent): string {
  if (!event.isError || event.failure === null) return `${event.message}\n`;
  const why = event.why ?? 'Unhandled Error';
  return `${why}\n${event.failure?.getTraceback() ?? ''}\n`;
}

/** Logs a message (its parts joined by spaces). */
export function msg(...message: unknown[]): void {
  publish({
    message: message.map((m) => (typeof m === 'string' ? m : describe(m))).join(' '),
    isError: false,
    failure: null,
    why: null,
  });
}

/**
 * Logs an error, with why it happened. A Failure or an Error is logged
 * with its traceback; anything else (a string: `log.err('some text')`) is
 * logged as its repr, with no failure, as Twisted does. Nothing (or
 * undefined) stands for Twisted's "the current exception": it is logged as
 * a thrown undefined. A string caught from a `throw` is an exception: wrap
 * it in a Failure first. See
 * https://docs.twisted.org/en/twisted-22.4.0/api/twisted.python.log.html#err
 */
export function err(error?: unknown, why: string | null = null): void {
  if (why !== null && typeof why !== 'string') throw new TypeError(`err(): why must be a string or null, not ${describe(why)}`);
  if (error instanceof Failure || error instanceof Error || error === undefined) {
    const failure = error instanceof Failure ? error : new Failure(error);
    publish({ message: '', isError: true, failure, why });
  } else {
    publish({ message: pythonRepr(error), isError: true, failure: null, why });
  }
}
