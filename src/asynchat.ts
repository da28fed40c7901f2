/**
 * Python's asynchat: {@link async_chat}, a channel that splits its input at a
 * terminator (bytes, a byte count, or none) and queues its output as bytes
 * and producers, and {@link simple_producer}. The entry point
 * `asyncore/asynchat`, also `asynchat` in the package root.
 *
 * The behaviour is CPython 3.11's, call for call; input is split without
 * copying the buffer once per message, and a pushed buffer is sent from as
 * it is (do not modify it until it has gone).
 *
 * @see {@link https://docs.python.org/3.11/library/asynchat.html | Python 3.11's asynchat documentation}
 * @module
 */
// Python's asynchat (CPython 3.11 Lib/asynchat.py) on the dispatcher of
// asyncore.ts: a channel that splits its input at a terminator (bytes, a
// byte count, or none) and queues its output as bytes and producers.
//
// The behaviour is CPython's, call for call. Two things are done differently
// because CPython's way is slow:
// - Input. CPython appends every read to ac_in_buffer and slices it once per
//   terminator found, which copies the rest of the buffer each time:
//   quadratic in a read that holds many small messages. Here the unconsumed
//   input is a buffer plus an offset; a message is handed on as a view
//   (subarray) and the offset moves past it, so a read is split in time
//   linear in its size. The only copy is of a terminator prefix left over
//   at the end of a read (shorter than the terminator), joined to the next.
// - Output. push() and simple_producer hand out views instead of copies, and
//   a partial send keeps a view of what is left, so no byte is copied on its
//   way to send(). As with Node's socket.write(), a pushed buffer must not be
//   modified until it has been sent.
// Imported, not the global: globalThis.Buffer is a getter on every use.
import { Buffer } from 'node:buffer';
import { dispatcher, type SocketMap } from './asyncore';
import { channelChanged } from './notify';
import { asBuffer, EMPTY_BUFFER } from './bytes';
import { BlockingIOError, OSError, describe } from './errors';
import type { socket } from './socket';

/**
 * Anything with more(), for {@link async_chat.push_with_producer}: a
 * source of output that is asked for more only when the channel can send.
 */
export interface Producer {
  /**
   * The next bytes to send; an empty Buffer (or '') when there are no
   * more, which drops the producer. A string is encoded with the channel's
   * encoding when `use_encoding` is set, else as UTF-8.
   */
  more(): Uint8Array | string;
}

function checkEncoding(encoding: string): BufferEncoding {
  if (!Buffer.isEncoding(encoding)) {
    throw new RangeError(`unknown encoding: ${describe(encoding)}`);
  }
  return encoding;
}

/**
 * The length of the longest proper prefix of `needle` that `haystack` ends
 * with, looking only at haystack[start:]. CPython's find_prefix_at_end
 * (which assumes needle itself is not in the haystack).
 */
function prefixAtEnd(haystack: Uint8Array, start: number, needle: Uint8Array): number {
  const end = haystack.length;
  for (let length = Math.min(needle.length - 1, end - start); length > 0; length--) {
    const from = end - length;
    let i = 0;
    while (i < length && haystack[from + i] === needle[i]) i++;
    if (i === length) return length;
  }
  return 0;
}

/**
 * Given `haystack`, the number of bytes of a prefix of `needle` that it ends
 * with (0 if none). Strings are compared as their UTF-8 bytes.
 * find_prefix_at_end("qwerty\r", "\r\n") === 1.
 */
export function find_prefix_at_end(haystack: Uint8Array | string, needle: Uint8Array | string): number {
  const hay = typeof haystack === 'string' ? Buffer.from(haystack, 'utf8') : haystack;
  const pin = typeof needle === 'string' ? Buffer.from(needle, 'utf8') : needle;
  if (!(hay instanceof Uint8Array)) {
    throw new TypeError(`find_prefix_at_end(): haystack must be a Buffer, Uint8Array or string, not ${describe(haystack)}`);
  }
  if (!(pin instanceof Uint8Array)) {
    throw new TypeError(`find_prefix_at_end(): needle must be a Buffer, Uint8Array or string, not ${describe(needle)}`);
  }
  // CPython returns len(needle) - 1 = -1 for an empty needle (every
  // haystack ends with b''); keep that.
  if (pin.length === 0) return -1;
  return prefixAtEnd(hay, 0, pin);
}

/**
 * A dispatcher for protocols made of delimited messages: set a terminator
 * (bytes such as `'\r\n'`, a byte count, or null), and each message's
 * bytes arrive through {@link async_chat.collect_incoming_data}, followed
 * by a call to {@link async_chat.found_terminator} at its end. Output is
 * queued with {@link async_chat.push} and sent as the socket takes it.
 * Subclasses define those two methods, as in Python.
 *
 * Differs from Python: a string terminator is encoded as UTF-8 (or with
 * `encoding` when `use_encoding` is set); push() takes bytes only, as
 * Python 3's does.
 *
 * @example A line echo server's channel
 * ```ts
 * import { async_chat } from 'asyncore/asynchat';
 *
 * class LineEcho extends async_chat {
 *   constructor(sock: socket) {
 *     super(sock);
 *     this.set_terminator('\n');
 *   }
 *   override collect_incoming_data(data: Buffer): void {
 *     this._collect_incoming_data(data);
 *   }
 *   override found_terminator(): void {
 *     this.push(Buffer.concat([this._get_data(), Buffer.from('\n')]));
 *   }
 * }
 * ```
 * @see {@link https://docs.python.org/3.11/library/asynchat.html#asynchat.async_chat | Python's async_chat}
 */
export class async_chat extends dispatcher {
  static override __module__: string | undefined = 'asynchat';

  // Overridable defaults (Python class attributes).
  /** How much one handle_read() asks recv() for (default 65536). */
  ac_in_buffer_size = 65536;
  /** The most one send() is given (default 65536); a larger push() is queued in pieces of this size. */
  ac_out_buffer_size = 65536;
  /**
   * Whether strings (a terminator, a producer's output) are encoded with
   * `encoding` (default false: UTF-8). Off by default: a str where bytes
   * are expected is a sign of an application bug that should not pass
   * silently (asynchat.py).
   */
  use_encoding = false;
  /** The encoding used when `use_encoding` is set (default 'latin1'). */
  encoding = 'latin1';

  /** The pieces of the current message that _collect_incoming_data() kept; _get_data() joins them. */
  incoming: Buffer[] = [];
  /** What is queued to send, in order: bytes, producers, and null for "close here" (close_when_done()). */
  producer_fifo: Array<Uint8Array | Producer | null> = [];
  /**
   * The current terminator, as set_terminator() stored it: bytes, a count
   * of bytes still to read (counted down as they arrive), or null (read
   * everything). Python leaves it unset until set_terminator().
   */
  terminator: Uint8Array | number | null = null;

  // The unconsumed input is #inBuffer[#inOffset:]. Buffers stored here are
  // never written to: views of them are handed to collect_incoming_data().
  #inBuffer: Buffer = EMPTY_BUFFER;
  #inOffset = 0;

  /**
   * A channel on `sock` (a connected socket, say from handle_accepted()),
   * or on none yet: create_socket() and connect() then. Registered in
   * `map` (default `socket_map`).
   */
  constructor(sock?: socket | null, map?: SocketMap | null) {
    super(sock, map);
  }

  /** The input received but not yet handed to collect_incoming_data(). */
  get ac_in_buffer(): Buffer {
    if (this.#inOffset === 0) return this.#inBuffer;
    return this.#inBuffer.subarray(this.#inOffset);
  }

  /** Replaces the unconsumed input (Python code may assign it); a Buffer or Uint8Array. */
  set ac_in_buffer(value: Uint8Array) {
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(`ac_in_buffer must be a Buffer or Uint8Array, not ${describe(value)}`);
    }
    this.#inBuffer = asBuffer(value);
    this.#inOffset = 0;
  }

  /**
   * Receives the bytes of the current message, in one call or several (as
   * they arrive). Subclasses must define it; the usual body is
   * `this._collect_incoming_data(data)`. `data` is a view of the input
   * buffer, valid during the call: copy it to keep it past found_terminator().
   */
  collect_incoming_data(data: Buffer): void {
    void data;
    throw new Error('collect_incoming_data must be implemented in subclass');
  }

  /** Keeps `data` in `incoming`, for _get_data(): what collect_incoming_data() usually does. */
  _collect_incoming_data(data: Buffer): void {
    this.incoming.push(data);
  }

  /** The bytes kept by _collect_incoming_data() since the last call, joined; empties `incoming`. */
  _get_data(): Buffer {
    // Like b''.join(), a single piece is returned as it is, without a copy.
    const data = this.incoming.length === 1 ? this.incoming[0] : Buffer.concat(this.incoming);
    this.incoming.length = 0;
    return data;
  }

  /**
   * Called when the terminator is found in the input (or the byte count
   * is reached): the message is complete. Subclasses must define it; it
   * may change the terminator, which applies to the rest of the input.
   */
  found_terminator(): void {
    throw new Error('found_terminator must be implemented in subclass');
  }

  /**
   * Sets the input delimiter: bytes (a string is encoded as UTF-8, or with
   * `encoding` where `use_encoding` is set), a byte count, or null.
   */
  set_terminator(term: Uint8Array | string | number | null): void {
    if (typeof term === 'string') {
      term = Buffer.from(term, this.#textEncoding());
    } else if (typeof term === 'number') {
      if (!Number.isSafeInteger(term)) {
        throw new TypeError(`set_terminator(): terminator must be bytes, a string, an integer or null, not ${describe(term)}`);
      }
      if (term < 0) {
        throw new RangeError(`set_terminator(): the number of received bytes must be positive, got ${term}`);
      }
    } else if (term !== null && !(term instanceof Uint8Array)) {
      throw new TypeError(`set_terminator(): terminator must be bytes, a string, an integer or null, not ${describe(term)}`);
    }
    this.terminator = term;
    channelChanged(this._map, this);
  }

  /** The current terminator (see `terminator`). */
  get_terminator(): Uint8Array | number | null {
    return this.terminator;
  }

  /**
   * Reads up to ac_in_buffer_size bytes, hands them to
   * collect_incoming_data() and calls found_terminator() at each
   * terminator. A terminator changed by found_terminator() applies to the
   * rest of the buffer. A terminator split across reads is found.
   */
  override handle_read(): void {
    let data: Buffer | string | null;
    try {
      // dispatcher's own recv() is read through its twin that answers
      // null where recv() raises BlockingIOError; a recv() of a subclass
      // is called, and its BlockingIOError caught, as in Python.
      data =
        this.recv === dispatcher.prototype.recv ? this._tryRecv(this.ac_in_buffer_size) : this.recv(this.ac_in_buffer_size);
    } catch (err) {
      if (err instanceof BlockingIOError) return;
      if (err instanceof OSError) {
        this.handle_error(err);
        return;
      }
      throw err;
    }
    if (data === null) return;
    if (typeof data === 'string') {
      if (!this.use_encoding) {
        throw new TypeError(`recv() returned a string where bytes were expected: ${describe(data)}`);
      }
      data = Buffer.from(data, checkEncoding(this.encoding));
    }
    this.#append(asBuffer(data));
    this.#splitInput();
  }

  #append(data: Buffer): void {
    if (data.length === 0) return;
    if (this.#inOffset >= this.#inBuffer.length) {
      this.#inBuffer = data;
    } else {
      // A terminator prefix held back from the last read: the one copy.
      this.#inBuffer = Buffer.concat([this.#inBuffer.subarray(this.#inOffset), data]);
    }
    this.#inOffset = 0;
  }

  // After a callback, the input is re-read from the fields: the callback may
  // have replaced ac_in_buffer, as Python code may. Each step below applies
  // CPython's slice to whatever the buffer is then, as CPython does.
  #dropInput(): void {
    this.#inBuffer = EMPTY_BUFFER;
    this.#inOffset = 0;
  }

  /** ac_in_buffer = ac_in_buffer[count:] */
  #skip(count: number): void {
    this.#inOffset = Math.min(this.#inOffset + count, this.#inBuffer.length);
    if (this.#inOffset === this.#inBuffer.length) this.#dropInput();
  }

  /** ac_in_buffer = ac_in_buffer[-count:] */
  #keepLast(count: number): void {
    this.#inOffset = Math.max(this.#inBuffer.length - count, this.#inOffset);
  }

  /** The encoding for str terminators and producers' str output (Python: self.encoding). */
  #textEncoding(): BufferEncoding {
    return this.use_encoding ? checkEncoding(this.encoding) : 'utf8';
  }

  #terminatorBytes(terminator: string): Buffer {
    return Buffer.from(terminator, this.#textEncoding());
  }

  #splitInput(): void {
    while (this.#inOffset < this.#inBuffer.length) {
      const buffer = this.#inBuffer;
      const start = this.#inOffset;
      const available = buffer.length - start;
      let terminator: Uint8Array | number | string | null | undefined = this.get_terminator();
      // A string assigned to .terminator directly, bypassing set_terminator().
      if (typeof terminator === 'string') terminator = this.#terminatorBytes(terminator);

      if (terminator === null || terminator === undefined || terminator === 0 ||
          (typeof terminator !== 'number' && terminator.length === 0)) {
        // No terminator: collect it all.
        this.collect_incoming_data(buffer.subarray(start));
        this.#dropInput();
      } else if (typeof terminator === 'number') {
        // A byte count, counted down across reads.
        if (available < terminator) {
          this.collect_incoming_data(buffer.subarray(start));
          this.#dropInput();
          if (typeof this.terminator === 'number') this.terminator -= available;
        } else {
          this.collect_incoming_data(buffer.subarray(start, start + terminator));
          this.#skip(terminator);
          this.terminator = 0;
          this.found_terminator();
        }
      } else {
        const index = terminator.length === 1
          ? buffer.indexOf(terminator[0], start)
          : buffer.indexOf(terminator, start);
        if (index !== -1) {
          // Empty data is not reported (asynchat.py: "source of subtle bugs").
          if (index > start) this.collect_incoming_data(buffer.subarray(start, index));
          this.#skip(index - start + terminator.length);
          this.found_terminator();
        } else {
          // The end may hold the start of a terminator split across reads:
          // keep it back for the next read.
          const prefix = prefixAtEnd(buffer, start, terminator);
          if (prefix > 0) {
            if (prefix !== available) {
              this.collect_incoming_data(buffer.subarray(start, buffer.length - prefix));
              this.#keepLast(prefix);
            }
            break;
          }
          this.collect_incoming_data(buffer.subarray(start));
          this.#dropInput();
        }
      }
    }
  }

  /** Sends the next piece of producer_fifo (initiate_send()). */
  override handle_write(): void {
    this.initiate_send();
  }

  /** Closes the channel (without dispatcher's "unhandled close event" warning). */
  override handle_close(): void {
    this.close();
  }

  /**
   * Queues bytes to send and sends what the socket takes now; the rest
   * goes as the channel becomes writable. Anything but a Buffer or
   * Uint8Array is a TypeError (as Python 3, which takes bytes only). The
   * bytes are sent from as they are: do not modify them until sent.
   *
   * @example
   * ```ts
   * this.push(Buffer.from('HTTP/1.0 200 OK\r\n\r\n'));
   * this.close_when_done();
   * ```
   */
  push(data: Uint8Array): void {
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(`push(): data must be a Buffer or Uint8Array, not ${describe(data)}`);
    }
    const size = this.ac_out_buffer_size;
    if (data.length > size) {
      for (let i = 0; i < data.length; i += size) this.producer_fifo.push(data.subarray(i, i + size));
    } else {
      this.producer_fifo.push(data);
    }
    this.initiate_send();
    this.#changed();
  }

  // A push from outside a handler (a timer, another map's handler) must
  // reach a pass that is already waiting without this channel in its write
  // set; inside a pass this costs nothing (nothing is waiting). A loop with
  // interest on change asks the channel again.
  #changed(): void {
    channelChanged(this._map, this);
  }

  /**
   * Queues a producer: its more() is called for data whenever the channel
   * can send and everything queued before it has gone, until it returns
   * empty. Bytes are taken too, as by push().
   */
  push_with_producer(producer: Producer | Uint8Array): void {
    if (!(producer instanceof Uint8Array) &&
        (typeof producer !== 'object' || producer === null || typeof producer.more !== 'function')) {
      throw new TypeError(`push_with_producer(): producer must have a more() method or be a Buffer or Uint8Array, not ${describe(producer)}`);
    }
    this.producer_fifo.push(producer);
    this.initiate_send();
    this.#changed();
  }

  /**
   * Always true: a predicate on the input buffer's size would break the
   * promise of set_terminator() (asynchat.py).
   */
  override readable(): boolean {
    return true;
  }

  /** True while output is queued, or while not yet connected (to see the connect complete). */
  override writable(): boolean {
    return this.producer_fifo.length > 0 || !this.connected;
  }

  /** Closes the channel once everything queued before this call is sent. */
  close_when_done(): void {
    this.producer_fifo.push(null);
    this.#changed();
  }

  /** Sends from the head of producer_fifo: one send() at most per call. */
  initiate_send(): void {
    this.#changed();
    while (this.producer_fifo.length > 0 && this.connected) {
      const fifo = this.producer_fifo;
      const first = fifo[0];
      if (first === null || first === undefined) {
        fifo.shift();
        this.handle_close();
        return;
      }
      if (!(first instanceof Uint8Array)) {
        // A producer: put what it makes in front of it, drop it when empty.
        const produced: unknown = first.more();
        if (produced === undefined || produced === null || produced === '' ||
            (produced instanceof Uint8Array && produced.length === 0)) {
          fifo.shift();
        } else if (typeof produced === 'string') {
          fifo.unshift(Buffer.from(produced, this.#textEncoding()));
        } else if (produced instanceof Uint8Array) {
          fifo.unshift(produced);
        } else {
          throw new TypeError(`a producer's more() must return bytes or a string, not ${describe(produced)}`);
        }
        continue;
      }
      if (first.length === 0) {
        fifo.shift();
        continue;
      }

      const size = this.ac_out_buffer_size;
      const data = first.length > size ? first.subarray(0, size) : first;
      let sent: number;
      try {
        sent = this.send(data);
      } catch (err) {
        if (err instanceof OSError) {
          this.handle_error(err);
          return;
        }
        throw err;
      }
      if (sent > 0 && this.producer_fifo[0] === first) {
        if (sent < first.length) this.producer_fifo[0] = first.subarray(sent);
        else this.producer_fifo.shift();
      }
      // One send() per call: the loop comes back through handle_write(), so
      // a large push does not starve the other channels.
      return;
    }
  }

  /** Drops all buffered input and output (emergencies only). */
  discard_buffers(): void {
    this.#changed();
    this.#dropInput();
    this.incoming.length = 0;
    this.producer_fifo.length = 0;
  }
}

/**
 * A producer that hands out `data` in slices of at most buffer_size bytes,
 * for {@link async_chat.push_with_producer}. The slices are views of data,
 * not copies.
 *
 * @example
 * ```ts
 * channel.push_with_producer(new simple_producer(bigBuffer, 8192));
 * ```
 */
export class simple_producer implements Producer {
  /** What is left to hand out. */
  data: Uint8Array;
  /** The largest slice more() returns. */
  buffer_size: number;

  /** A producer over `data`; buffer_size (default 512) must be an integer >= 1. */
  constructor(data: Uint8Array, buffer_size = 512) {
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(`simple_producer(): data must be a Buffer or Uint8Array, not ${describe(data)}`);
    }
    if (!Number.isSafeInteger(buffer_size)) {
      throw new TypeError(`simple_producer(): buffer_size must be an integer, not ${describe(buffer_size)}`);
    }
    if (buffer_size < 1) {
      throw new RangeError(`simple_producer(): buffer_size must be at least 1, got ${buffer_size}`);
    }
    this.data = data;
    this.buffer_size = buffer_size;
  }

  /** The next slice of data, at most buffer_size bytes; empty once all is handed out. */
  more(): Uint8Array {
    if (this.data.length > this.buffer_size) {
      const result = this.data.subarray(0, this.buffer_size);
      this.data = this.data.subarray(this.buffer_size);
      return result;
    }
    const result = this.data;
    this.data = EMPTY_BUFFER;
    return result;
  }
}
