// Python's repr() and str() of the values this package shows the way Python
// would (addresses in toString() of sockets and dispatchers): strings,
// numbers, booleans, null (None) and arrays (tuples). Error messages use
// errors.ts describe() instead, which writes JavaScript's notation.
import { textOf } from './errors';

const NAMED_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Python's repr() of a str: single quotes unless it holds one and no double quote. */
function reprString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let body = '';
  for (const c of text) {
    const code = c.charCodeAt(0);
    if (NAMED_ESCAPES[c] !== undefined) body += NAMED_ESCAPES[c];
    else if (code < 0x20 || code === 0x7f) body += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (c === quote) body += `\\${c}`;
    else body += c;
  }
  return quote + body + quote;
}

/** Python's repr(): 'text', 42, True, None, (a, b) or (a,). */
export function repr(value: unknown): string {
  if (typeof value === 'string') return reprString(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null || value === undefined) return 'None';
  if (Array.isArray(value)) {
    const items = value.map(repr);
    return `(${items.join(', ')}${items.length === 1 ? ',' : ''})`;
  }
  return textOf(value);
}

/** Python's str(): a string as it is, anything else as repr() shows it. */
export function str(value: unknown): string {
  return typeof value === 'string' ? value : repr(value);
}
