// The value an error message names, for the twisted modules' checks. A
// message about a bad value must never itself throw: a value whose
// inspection throws (a Proxy, a throwing custom inspector) is described by
// its type alone.
import * as util from 'node:util';
import { describe as describeValue } from '../errors';

/** A short description of `value` for an error message; never throws. */
export function describe(value: unknown): string {
  try {
    if (typeof value === 'function') return util.inspect(value);
    return describeValue(value);
  } catch {
    return `<unprintable ${typeof value}>`;
  }
}
