// Buffer helpers shared by the modules: views without copies, and the scratch
// buffer reads go to.
import { Buffer } from 'node:buffer';

/** The empty Buffer, shared: nothing can be written into it. */
export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);

/** data as a Buffer over the same bytes (no copy). */
export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Largest read done into the shared scratch buffer; bigger ones allocate. */
const SCRATCH_LIMIT = 64 * 1024;
let scratch: Buffer | null = null;
/** scratch.subarray(0, n) for the n asked last: a server asks the same n every time. */
let scratchView: Buffer | null = null;
/**
 * scratch's first n bytes for the n copied out last: a stream of messages
 * of one size makes no view per read (a view costs as much as the copy).
 */
let resultView: Uint8Array | null = null;

/**
 * Reads smaller than this may go straight into the Buffer returned: Node
 * serves them from its shared pool, so a short one wastes pool, not a
 * buffer of its own.
 */
const DIRECT_LIMIT = 4 * 1024;
/**
 * The size of the last read when it filled what it asked (-1: it did not):
 * a stream of messages that fill each read goes straight into its results,
 * with no copy. A read that comes back short or fails (EAGAIN) puts the
 * next one back on the scratch buffer.
 */
let filledSize = -1;

/**
 * Where a read of up to bufsize bytes goes. Small reads go to one scratch
 * buffer reused by every call (calls are synchronous, on the JavaScript
 * thread), so that a 64 KiB read that brings 10 bytes does not leave 64 KiB
 * allocated behind the result; readResult() copies out what arrived. A
 * small read of the size that the last one filled goes to a new Buffer,
 * which readResult() returns as it is when filled again.
 */
export function readTarget(bufsize: number): Buffer {
  if (bufsize === filledSize && bufsize < DIRECT_LIMIT) {
    filledSize = -1;
    return Buffer.allocUnsafe(bufsize);
  }
  if (bufsize > SCRATCH_LIMIT) return Buffer.allocUnsafe(bufsize);
  if (scratchView === null || scratchView.length !== bufsize) {
    scratch ??= Buffer.allocUnsafeSlow(SCRATCH_LIMIT);
    scratchView = scratch.subarray(0, bufsize);
  }
  return scratchView;
}

/**
 * A Buffer of exactly the count bytes read into target (from readTarget),
 * as CPython shrinks its bytes object after a read.
 */
export function readResult(target: Buffer, count: number): Buffer {
  const filled = count === target.length;
  filledSize = filled ? count : -1;
  let source: Uint8Array = target;
  if (target !== scratchView) {
    if (filled) return target;
    source = new Uint8Array(target.buffer, target.byteOffset, count);
  } else if (!filled) {
    source = scratchPrefix(count);
  }
  // allocUnsafe() + set() rather than Buffer.from(subarray), which probes
  // its argument (valueOf, length, buffer), or copy(), which checks its
  // arguments and then makes a new view for a part.
  const bytes = Buffer.allocUnsafe(count);
  bytes.set(source);
  return bytes;
}

/** The scratch buffer's first count bytes, as a view kept for the next read of that size. */
function scratchPrefix(count: number): Uint8Array {
  if (resultView === null || resultView.length !== count) {
    // scratchView starts at the scratch buffer's first byte, whatever its length.
    resultView = new Uint8Array(scratch!.buffer, scratch!.byteOffset, count);
  }
  return resultView;
}
