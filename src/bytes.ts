// Buffer helpers shared by the asyncore and asynchat layers.
import { Buffer } from 'node:buffer';

/** The empty Buffer, shared: nothing can be written into it. */
export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);

/** data as a Buffer over the same bytes (no copy). */
export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
