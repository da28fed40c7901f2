// compact_traceback(): Python's one-line summary of where an error was
// raised, read from a V8 err.stack instead of sys.exc_info().
import { textOf } from '../errors';

/** One stack frame: [file, function, line], as Python's traceback entries. */
export type Frame = [file: string, fn: string, line: string];
/** What {@link compact_traceback} returns: [innermost frame, error name, message, every frame as text]. */
export type CompactTraceback = [innermost: Frame, type: string, value: string, info: string];

/** "    at fn (file:12:5)", "    at file:12:5", "    at async fn (...)", "    at new C (...)". */
const FRAME_LINE = /^\s*at (?:(.*?) \((.*)\)|(.*))$/;
const LOCATION = /^(.*):(\d+):\d+$/;

function parseFrame(text: string): Frame | null {
  const match = FRAME_LINE.exec(text);
  if (match === null) return null;
  let fn = match[1] ?? '<anonymous>';
  if (fn.startsWith('async ')) fn = fn.slice('async '.length);
  const location = match[2] ?? match[3] ?? '';
  const place = LOCATION.exec(location);
  return place === null ? [location, fn, '?'] : [place[1]!, fn, place[2]!];
}

function frameList(err: unknown): Frame[] {
  const stack = err instanceof Error ? err.stack : undefined;
  if (typeof stack !== 'string') return [];
  const frames: Frame[] = [];
  for (const text of stack.split('\n')) {
    if (!/^\s+at /.test(text)) continue;
    const frame = parseFrame(text);
    if (frame !== null) frames.push(frame);
  }
  // V8 lists the innermost frame first; Python's traceback starts outermost.
  return frames.reverse();
}

function typeName(err: unknown): string {
  if (err instanceof Error) return err.name;
  if (err === null) return 'null';
  if (typeof err === 'object') return (err as object).constructor?.name ?? 'Object';
  return typeof err;
}

/**
 * [(file, fn, line) of the innermost frame, err.name, err.message, every
 * frame as "[file|fn|line]" outermost first]. Python asserts when there is
 * no traceback; a thrown value without a stack (`throw 'x'`) is common in
 * JavaScript, so it gets empty frame fields instead, and handle_error()
 * still closes the channel.
 */
export function compact_traceback(err: unknown): CompactTraceback {
  const frames = frameList(err);
  const innermost: Frame = frames.length > 0 ? frames[frames.length - 1]! : ['', '', ''];
  const info = frames.map(([file, fn, line]) => `[${file}|${fn}|${line}]`).join(' ');
  const value = err instanceof Error ? textOf(err.message) : textOf(err);
  return [innermost, typeName(err), value, info];
}
