// How the twisted modules show a value in an error message or a log line.
// An error report must never throw itself, so a value that cannot be
// inspected (a Proxy whose traps throw, a custom inspector that throws)
// is shown by its type alone.
import * as util from 'node:util';

/** A short description of `value` for messages; never throws. */
export function describeValue(value: unknown): string {
  try {
    return util.inspect(value, { depth: 1, breakLength: Infinity });
  } catch {
    return `<unprintable ${typeof value}>`;
  }
}

/** String(value) as log lines show an object (its toString()); describeValue() when that throws. */
export function textOf(value: unknown): string {
  try {
    return String(value);
  } catch {
    return describeValue(value);
  }
}
