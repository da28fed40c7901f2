// Which functions cannot be called as callbacks: a class, or a built-in
// constructor like Map, throws V8's own "cannot be invoked without 'new'"
// when called, so what takes a callback refuses one at once, by name.

/**
 * Constructors that throw when called without `new`, as a callback is
 * called: built-ins like Map, and any `class` (known by its source).
 */
const NEW_ONLY: ReadonlySet<unknown> = new Set([Map, Set, WeakMap, WeakSet, Promise, WeakRef, ArrayBuffer, DataView, Proxy]);

/** Whether calling `fn` without `new` throws: a class, or a built-in constructor of NEW_ONLY. */
export function isNewOnly(fn: unknown): boolean {
  if (NEW_ONLY.has(fn)) return true;
  try {
    return typeof fn === 'function' && Function.prototype.toString.call(fn).startsWith('class');
  } catch {
    return false;
  }
}
