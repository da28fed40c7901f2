// How the twisted modules show a value in an error message or a log line.
// An error report must never throw itself, so a value that cannot be
// inspected (a Proxy whose traps throw, a custom inspector that throws) is
// shown by its type alone.
import * as util from 'node:util';
import { repr } from '../repr';

export { textOf } from '../errors';

/** A short description of `value` for messages; never throws. */
export function describe(value: unknown): string {
  try {
    return util.inspect(value, { depth: 1, breakLength: Infinity });
  } catch {
    return `<unprintable ${typeof value}>`;
  }
}

/** Python's repr() of `value` where Python has one (strings, numbers, None, tuples), else describe(); never throws. */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined || ['string', 'number', 'boolean'].includes(typeof value)) return repr(value);
  if (Array.isArray(value)) return `(${value.map(pythonRepr).join(', ')}${value.length === 1 ? ',' : ''})`;
  return describe(value);
}
