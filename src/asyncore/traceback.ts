// compact_traceback(): Python's one-line summary of where an error was
// raised, read from a V8 err.stack instead of sys.exc_info().
import { fileURLToPath } from 'node:url';
import { textOf } from '../errors';

/** One stack frame: [file, function, line], as Python's traceback entries. */
export type Frame = [file: string, fn: string, line: string];
/** What {@link compact_traceback} returns: [innermost frame, error name, message, every frame as text]. */
export type CompactTraceback = [innermost: Frame, type: string, value: string, info: string];

/** A parsed V8 stack line; `text` (function and full location) tells two calls apart. */
interface StackFrame {
  file: string;
  fn: string;
  line: string;
  text: string;
}

/** "    at fn (file:12:5)", "    at file:12:5", "    at async fn (...)", "    at new C (...)". */
const FRAME_LINE = /^\s*at (?:(.*?) \((.*)\)|(.*))$/;
const LOCATION = /^(.*):(\d+):\d+$/;

/** Python's co_name: "C.method [as alias]" is "method", "async f" is "f". */
function functionName(v8Name: string): string {
  let fn = v8Name.replace(/ \[as [^\]]*\]$/, '');
  if (fn.startsWith('async ')) fn = fn.slice('async '.length);
  if (fn.startsWith('new ')) return fn;
  const dot = fn.lastIndexOf('.');
  return dot >= 0 && dot < fn.length - 1 ? fn.slice(dot + 1) : fn;
}

/** Python's co_filename is a path: an ES module's file:// URL becomes one. */
function fileName(location: string): string {
  if (!location.startsWith('file://')) return location;
  try {
    return fileURLToPath(location);
  } catch {
    return location;
  }
}

function parseFrame(text: string): StackFrame | null {
  const match = FRAME_LINE.exec(text);
  if (match === null) return null;
  const fn = functionName(match[1] ?? '<anonymous>');
  const location = match[2] ?? match[3] ?? '';
  const place = LOCATION.exec(location);
  const file = fileName(place === null ? location : place[1]!);
  return { file, fn, line: place === null ? '?' : place[2]!, text: text.trim() };
}

/** The frames of a V8 stack text, innermost first, as V8 lists them. */
function parseStack(stack: string): StackFrame[] {
  const frames: StackFrame[] = [];
  for (const text of stack.split('\n')) {
    if (!/^\s+at /.test(text)) continue;
    const frame = parseFrame(text);
    if (frame !== null) frames.push(frame);
  }
  return frames;
}

/** Whether `outer` and `current` are the same chain of calls, as far as both reach. */
function sameCallers(outer: StackFrame[], current: StackFrame[]): boolean {
  const n = Math.min(outer.length, current.length);
  if (n === 0) return outer.length === current.length;
  for (let k = 0; k < n; k++) if (outer[k]!.text !== current[k]!.text) return false;
  return true;
}

/**
 * How many of err's frames (innermost first) a Python traceback would hold:
 * those from the raise up to the function that caught the error. That
 * function is still running here, at another line, and its callers are
 * ours; so it is err's innermost frame whose function is on our stack with
 * the same callers. Without one (the error came from elsewhere), all of them.
 */
function framesBelowCatch(errFrames: StackFrame[], here: StackFrame[]): number {
  for (let i = 0; i < errFrames.length; i++) {
    const frame = errFrames[i]!;
    for (let j = 0; j < here.length; j++) {
      const ours = here[j]!;
      if (ours.fn !== frame.fn || ours.file !== frame.file) continue;
      if (sameCallers(errFrames.slice(i + 1), here.slice(j + 1))) return i + 1;
    }
  }
  return errFrames.length;
}

/** Our own stack, deep enough to reach the catching function under any caller's stackTraceLimit. */
function currentStack(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 200;
  try {
    return new Error().stack ?? '';
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Frames Python's traceback would not hold: Node's internals (`node:`) and
 * V8's built-ins ("at JSON.parse (<anonymous>)"), as C functions are not in
 * Python's.
 */
function isRuntimeFrame(frame: StackFrame): boolean {
  return frame.file.startsWith('node:') || frame.file === '<anonymous>' || frame.file === 'native';
}

/** err's traceback as Python's, outermost first, without Node's own frames. */
function frameList(err: unknown): Frame[] {
  const stack = err instanceof Error ? err.stack : undefined;
  if (typeof stack !== 'string') return [];
  const errFrames = parseStack(stack);
  const here = parseStack(currentStack());
  return errFrames
    .slice(0, framesBelowCatch(errFrames, here))
    .filter((frame) => !isRuntimeFrame(frame))
    .map(({ file, fn, line }): Frame => [file, fn, line])
    .reverse();
}

function typeName(err: unknown): string {
  if (err instanceof Error) return err.name;
  if (err === null) return 'null';
  if (typeof err === 'object') return (err as object).constructor?.name ?? 'Object';
  return typeof err;
}

/**
 * [(file, fn, line) of the innermost frame, err.name, err.message, the
 * frames as "[file|fn|line]" outermost first]. Call it where the error was
 * caught (in a catch block, or in handle_error()): as in CPython, the
 * frames run from the function that caught it down to the raise, so a
 * handler's error shows read() (or write(), readwrite()) and what it
 * called, not the loop above. Node's internal (`node:`) frames and V8's
 * built-ins are left out.
 *
 * Python asserts when there is no traceback; a thrown value without a
 * stack (`throw 'x'`) is common in JavaScript, so it gets empty frame
 * fields instead, and handle_error() still closes the channel.
 */
export function compact_traceback(err: unknown): CompactTraceback {
  const frames = frameList(err);
  const innermost: Frame = frames.length > 0 ? frames[frames.length - 1]! : ['', '', ''];
  const info = frames.map(([file, fn, line]) => `[${file}|${fn}|${line}]`).join(' ');
  const value = err instanceof Error ? textOf(err.message) : textOf(err);
  return [innermost, typeName(err), value, info];
}
