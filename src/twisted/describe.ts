// The value an error message names, for the twisted modules' checks. A
// message about a bad value must never itself throw: a value whose
// inspection throws (a Proxy, a throwing custom inspector) is described by
// its type alone.
import * as util from 'node:util';
import { repr } from '../repr';

/** A short description of `value` for an error message; never throws. */
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
