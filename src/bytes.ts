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
 * Where a read of up to bufsize bytes goes. Small reads go to one scratch
 * buffer reused by every call (calls are synchronous, on the JavaScript
 * thread), so that a 64 KiB read that brings 10 bytes does not leave 64 KiB
 * allocated behind the result; readResult() copies out what arrived.
 */
export function readTarget(bufsize: number): Buffer {
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
  if (target !== scratchView && count === target.length) return target;
  // allocUnsafe() + set() rather than Buffer.from(subarray), which probes
  // its argument (valueOf, length, buffer), or copy(), which checks its
  // arguments and then makes the same plain view for a part.
  const bytes = Buffer.allocUnsafe(count);
  bytes.set(count === target.length ? target : new Uint8Array(target.buffer, target.byteOffset, count));
  return bytes;
}
