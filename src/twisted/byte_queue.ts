// The receive buffer of the framing protocols in basic.ts: plumbing of
// this package, not Twisted API, so it is kept out of the public exports
// and its per-byte methods check nothing.
import { Buffer } from 'node:buffer';

const EMPTY = Buffer.alloc(0);

/**
 * The bytes received and not yet consumed. Appending copies only the new
 * bytes (into spare room, or into a new block twice the size needed), and
 * never writes over bytes handed out by take(), so frames can be views.
 */
export class ByteQueue {
  private buf: Buffer = EMPTY;
  private start = 0;
  private end = 0;
  private owned = false;

  /** The number of bytes held. */
  get length(): number {
    return this.end - this.start;
  }

  /** Adds bytes at the end. */
  append(data: Uint8Array): void {
    if (data.length === 0) return;
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
    if (this.end === this.start) {
      this.buf = bytes;
      this.start = 0;
      this.end = bytes.length;
      this.owned = false;
      return;
    }
    if (this.owned && this.end + bytes.length <= this.buf.length) {
      bytes.copy(this.buf, this.end);
      this.end += bytes.length;
      return;
    }
    const held = this.end - this.start;
    const need = held + bytes.length;
    const next = Buffer.allocUnsafe(Math.max(2 * need, 4096));
    this.buf.copy(next, 0, this.start, this.end);
    bytes.copy(next, held);
    this.buf = next;
    this.start = 0;
    this.end = need;
    this.owned = true;
  }

  /** The position of `needle` at or after `from` (relative to the first byte held), or -1. */
  indexOf(needle: Uint8Array, from: number): number {
    if (this.end - this.start - from < needle.length) return -1;
    // A one-byte needle is searched for as a number: a plain byte scan,
    // several times cheaper per call than a search for a sequence.
    const i = needle.length === 1 ? this.buf.indexOf(needle[0]!, this.start + from) : this.buf.indexOf(needle, this.start + from);
    if (i < 0 || i + needle.length > this.end) return -1;
    return i - this.start;
  }

  /** The byte at `offset`. */
  at(offset: number): number {
    return this.buf[this.start + offset]!;
  }

  /** A view of `n` bytes from `offset`, without consuming them. */
  peek(offset: number, n: number): Buffer {
    return this.buf.subarray(this.start + offset, this.start + offset + n);
  }

  /** Removes and returns the first `n` bytes (a view). */
  take(n: number): Buffer {
    const view = this.buf.subarray(this.start, this.start + n);
    this.skip(n);
    return view;
  }

  /** Drops the first `n` bytes. */
  skip(n: number): void {
    this.start += n;
    if (this.start >= this.end) this.clear();
  }

  /** Removes and returns everything held. */
  takeAll(): Buffer {
    return this.take(this.length);
  }

  /** Drops everything. */
  clear(): void {
    this.buf = EMPTY;
    this.start = 0;
    this.end = 0;
    this.owned = false;
  }
}
