// What log lines call an object that may or may not have a logPrefix()
// (Twisted's ILoggingContext): shared by the wrappers of endpoints and
// policies, which log under the name of what they wrap.

/** `obj.logPrefix()`, or the name of its class when it has none. */
export function logPrefixOf(obj: unknown): string {
  const withPrefix = obj as { logPrefix?: unknown } | null;
  if (withPrefix !== null && typeof withPrefix === 'object' && typeof withPrefix.logPrefix === 'function') {
    return String((withPrefix.logPrefix as () => unknown).call(obj));
  }
  return (obj as object | null)?.constructor?.name ?? String(obj);
}
