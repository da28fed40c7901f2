// rfile and wfile of the request handlers: Python's makefile('rb') reader
// and socketserver's _SocketWriter, with a Promise where Python blocks.
// Reads and writes use MSG_DONTWAIT, so they never block the event loop
// whatever mode the socket is in; when the kernel has nothing to give (or
// no room), they wait on the shared epoll pump (io.ts) for at most the
// socket's timeout.
import { Buffer } from 'node:buffer';
import { constants as osConstants } from 'node:os';
import { binding, NON_BLOCKING } from '../binding';
import { readResult, readTarget } from '../bytes';
import { constant } from '../constants';
import { describe, errorFromErrno, TimeoutError } from '../errors';
import type { socket } from '../socket';
import { io, toTimeoutMs } from './io';
import type { WaitDone } from './io';

const E = osConstants.errno;
const MSG_DONTWAIT = constant('MSG_DONTWAIT');
/** How much one recv() asks for when the reader is buffered (rbufsize < 0). */
const DEFAULT_CHUNK = 65536;
const EMPTY = Buffer.alloc(0);
const NEWLINE = 10;

function closedFile(): RangeError {
  return new RangeError('I/O operation on closed file.');
}

function timedOut(): TimeoutError {
  return new TimeoutError(null, 'timed out');
}

function checkSize(caller: string, value: unknown): number {
  if (value === undefined || value === null) return -1;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${caller}: size must be an integer or null, not ${describe(value)}`);
  }
  return value;
}

/** Reading side of a request: a buffered byte stream, as Python's rfile. */
export interface Reader {
  /** Up to size bytes (fewer only at end of stream); all that is left when size is omitted or negative. */
  read(size?: number | null): Promise<Buffer>;
  /** Bytes up to and including the next b'\n' (at most size of them when size >= 0); empty at end of stream. */
  readline(size?: number | null): Promise<Buffer>;
  /** The remaining lines; stops after the line that brings the total to hint bytes, when hint > 0. */
  readlines(hint?: number | null): Promise<Buffer[]>;
  /** The remaining lines, one by one. */
  [Symbol.asyncIterator](): AsyncIterator<Buffer>;
}

/** Writing side of a request, as Python's wfile. */
export interface Writer {
  /** Queues data after what was written before; resolves to its length once it is sent (or buffered, with wbufsize > 0). */
  write(data: Uint8Array): Promise<number>;
  /** write() of each line in turn. */
  writelines(lines: Iterable<Uint8Array>): Promise<void>;
  /** Resolves once everything written so far has been handed to the kernel. */
  flush(): Promise<void>;
}

/**
 * A buffered reader over a socket, or over fixed bytes when `sock` is null
 * (the datagram handler's rfile, Python's BytesIO).
 */
export class BufferedReader implements Reader {
  private buf: Buffer;
  private pos = 0;
  private eof: boolean;
  private error: Error | null = null;
  /** Who is told when the wait that fill() started ends (waitEnd(), onWaitEnd()). */
  private next: ((error: Error | null) => void) | null = null;
  /**
   * The last recv() took less than it asked for, so the kernel had no more:
   * the next read waits for data before it asks (a request-response peer
   * has sent nothing new yet), saving the recv() that would fail with EAGAIN.
   */
  private drained = false;
  /** Set by close(); reads then fail as on a closed Python file. */
  closed = false;

  /**
   * `bufsize` is Python's rbufsize: negative reads big chunks, 0 reads no
   * byte past what is asked for (readline() then reads one byte at a time,
   * as Python's unbuffered socket file does), n > 0 reads n at a time.
   * `timeout` (seconds, null for none) bounds each wait for data.
   */
  constructor(
    private readonly sock: socket | null,
    private readonly bufsize = -1,
    private readonly timeout: number | null = null,
    initial: Buffer = EMPTY,
  ) {
    this.buf = initial;
    this.eof = sock === null;
  }

  /** The socket's fd, as Python's rfile.fileno(). */
  fileno(): number {
    if (this.sock === null) throw new RangeError('fileno: this reader reads bytes in memory, not a file');
    return this.sock.fileno();
  }

  /** Stops reading; the socket itself stays open (the server closes it). */
  close(): void {
    this.closed = true;
  }

  /** Python's readable(): true while open. */
  readable(): boolean {
    if (this.closed) throw closedFile();
    return true;
  }

  async readline(size?: number | null): Promise<Buffer> {
    const limit = checkSize('readline()', size);
    if (this.closed) throw closedFile();
    for (;;) {
      const line = this.lineNow(limit);
      if (line !== null) return line;
      await this.waitEnd();
    }
  }

  /**
   * The next line if it can be had without waiting on the event loop;
   * null when the reader has started to wait, whose end onWaitEnd() or
   * waitEnd() must then take. @internal
   */
  nextLineNow(): Buffer | null {
    if (this.closed) throw closedFile();
    return this.lineNow(-1);
  }

  /** Calls next() when the wait started by a read that gave nothing ends: with null, or what the wait failed with. @internal */
  onWaitEnd(next: (error: Error | null) => void): void {
    this.next = next;
  }

  /** onWaitEnd() as a promise. @internal */
  waitEnd(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.next = (error) => (error === null ? resolve() : reject(error));
    });
  }

  /**
   * The next line (at most limit bytes when limit >= 0) if it can be had
   * without waiting on the event loop; else null, having started to wait.
   */
  private lineNow(limit: number): Buffer | null {
    for (;;) {
      const available = this.buf.length - this.pos;
      const newline = available > 0 ? this.buf.indexOf(NEWLINE, this.pos) : -1;
      if (newline >= 0 && (limit < 0 || newline - this.pos < limit)) return this.take(newline + 1 - this.pos);
      if (limit >= 0 && available >= limit) return this.take(limit);
      if (this.eof) return this.take(available);
      if (!this.fill(this.bufsize === 0 ? 1 : this.chunk())) return null;
    }
  }

  async read(size?: number | null): Promise<Buffer> {
    const want = checkSize('read()', size);
    if (this.closed) throw closedFile();
    if (want === 0) return EMPTY;
    for (;;) {
      const available = this.buf.length - this.pos;
      if (want > 0 && available >= want) return this.take(want);
      if (this.eof) return this.take(available);
      if (!this.fill(this.bufsize === 0 && want > 0 ? want - available : this.chunk())) await this.waitEnd();
    }
  }

  async readlines(hint?: number | null): Promise<Buffer[]> {
    const most = checkSize('readlines()', hint);
    const lines: Buffer[] = [];
    let total = 0;
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return lines;
      lines.push(line);
      total += line.length;
      if (most > 0 && total >= most) return lines;
    }
  }

  /** `for await (const line of rfile)`: the lines until end of file, as readline() returns them. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Buffer> {
    return new LineIterator(this);
  }

  private chunk(): number {
    return this.bufsize > 0 ? this.bufsize : DEFAULT_CHUNK;
  }

  private take(count: number): Buffer {
    if (this.pos === 0 && count === this.buf.length) {
      const whole = this.buf;
      this.buf = EMPTY;
      return whole;
    }
    const out = this.buf.subarray(this.pos, this.pos + count);
    this.pos += count;
    if (this.pos === this.buf.length) {
      this.buf = EMPTY;
      this.pos = 0;
    }
    return out;
  }

  /**
   * Reads once from the socket, at most max bytes: true when it has read
   * (data or the end); false when nothing was there, and the reader now
   * waits for data (see onWaitEnd()).
   */
  private fill(max: number): boolean {
    if (this.error !== null) throw this.error;
    const sock = this.sock!;
    const fd = sock._ownFileno();
    if (fd < 0) throw errorFromErrno(E.EBADF);
    const buf = readTarget(max);
    let count: number | null;
    if (this.drained) {
      count = this.readAfterWait(sock, fd, buf);
      if (count === null) return false;
    } else {
      count = binding.recv(fd, buf, MSG_DONTWAIT, NON_BLOCKING);
    }
    if (count > 0) {
      this.drained = count < max;
      const data = readResult(buf, count);
      this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), data]) : data;
      this.pos = 0;
      return true;
    }
    if (count === 0) {
      this.eof = true;
      return true;
    }
    if (count === -E.EAGAIN || count === -E.EWOULDBLOCK) {
      // Nothing yet: wait, then read.
      this.drained = true;
      return this.fill(max);
    }
    this.error = errorFromErrno(-count);
    throw this.error;
  }

  /**
   * The read after one that found the socket empty: waits for data, then
   * reads into buf; null when the wait goes on on the event loop instead
   * (onWaitEnd() is told when it ends). A socket served alone waits here
   * first: one blocking recv() that the kernel ends after the policy's
   * wait (io.kernelWaitMs()), or else poll() and recv() in one call,
   * unless the event loop is to have its turn (io.waitHereMs()); a slower
   * peer, or any other socket, is waited for on the event loop.
   */
  private readAfterWait(sock: socket, fd: number, buf: Buffer): number | null {
    const hereMs = io.waitHereMs(sock);
    this.drained = false;
    let timeoutMs = toTimeoutMs(this.timeout);
    const waitMs = timeoutMs === null ? hereMs : Math.min(hereMs, timeoutMs);
    if (waitMs > 0) {
      const kernelMs = timeoutMs === null ? io.kernelWaitMs(sock) : 0;
      if (kernelMs > 0) {
        const count = binding.recvWithin(fd, buf, 0, kernelMs);
        if (count !== -E.EAGAIN && count !== -E.EWOULDBLOCK) return count;
      } else {
        const count = binding.recv(fd, buf, MSG_DONTWAIT, waitMs);
        if (count !== -E.ETIMEDOUT) return count;
        if (timeoutMs !== null) timeoutMs -= waitMs;
      }
    }
    if (io.waitDry(sock, fd, true, timeoutMs, this.onWaitEnded)) return null;
    // Data came since the read that found none.
    return binding.recv(fd, buf, MSG_DONTWAIT, NON_BLOCKING);
  }

  /** The pump's end of a wait for data: given up means the socket was closed, or the timeout passed. */
  private readonly onWaitEnded: WaitDone = (error, ready) => {
    if (error !== null || ready) {
      this.endWait(error);
      return;
    }
    // Whoever gave the wait up (closing the socket) finishes first.
    queueMicrotask(() => this.endWait(this.sock!._ownFileno() < 0 ? errorFromErrno(E.EBADF) : timedOut()));
  };

  private endWait(error: Error | null): void {
    const next = this.next;
    this.next = null;
    next?.(error);
  }
}

const DONE: IteratorResult<Buffer> = Object.freeze({ value: undefined, done: true });

function noop(): void {}

/**
 * A reader's lines for `for await`, as an async generator over readline()
 * gives them (in order, one next() after another, done after the last),
 * but a line that is there at once is handed over without a readline()
 * promise, and one that has to be waited for is settled from the end of
 * the wait itself: an async generator awaits each value it yields, and a
 * promise resolved with a Buffer looks up `then` along Buffer's prototypes.
 */
class LineIterator implements AsyncIterableIterator<Buffer> {
  private finished = false;
  /** The result of a next() that waits, until it settles: a next() meanwhile comes after it. */
  private pending: Promise<IteratorResult<Buffer>> | null = null;
  private resolve: (result: IteratorResult<Buffer>) => void = noop;
  private reject: (error: Error) => void = noop;

  constructor(private readonly reader: BufferedReader) {}

  [Symbol.asyncIterator](): AsyncIterableIterator<Buffer> {
    return this;
  }

  next(): Promise<IteratorResult<Buffer>> {
    const previous = this.pending;
    if (previous === null) return this.step();
    return previous.then(
      () => this.next(),
      () => this.next(),
    );
  }

  /** Ends the iteration (`break` out of `for await`). */
  return(): Promise<IteratorResult<Buffer>> {
    this.finished = true;
    return Promise.resolve(DONE);
  }

  private step(): Promise<IteratorResult<Buffer>> {
    if (this.finished) return Promise.resolve(DONE);
    let line: Buffer | null;
    try {
      line = this.reader.nextLineNow();
    } catch (err) {
      this.finished = true;
      return Promise.reject(err);
    }
    if (line !== null) return Promise.resolve(this.result(line));
    const pending = new Promise<IteratorResult<Buffer>>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.pending = pending;
    this.reader.onWaitEnd(this.afterWait);
    return pending;
  }

  /** The reader's wait has ended: the pending next() gets the line, or waits on. */
  private readonly afterWait = (error: Error | null): void => {
    let line: Buffer | null = null;
    if (error === null) {
      try {
        line = this.reader.nextLineNow();
      } catch (err) {
        error = err as Error;
      }
      if (line === null && error === null) {
        this.reader.onWaitEnd(this.afterWait);
        return;
      }
    }
    const { resolve, reject } = this;
    this.pending = null;
    this.resolve = noop;
    this.reject = noop;
    if (error !== null) {
      this.finished = true;
      reject(error);
    } else {
      resolve(this.result(line!));
    }
  };

  private result(line: Buffer): IteratorResult<Buffer> {
    if (line.length > 0) return { value: line, done: false };
    this.finished = true;
    return DONE;
  }
}

interface Pending {
  data: Uint8Array;
  offset: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A promise whose rejection is also reported to whoever awaits it, never as unhandled. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(noop);
  return promise;
}

/**
 * The stream handler's wfile: writes go out in the order they were made.
 * With wbufsize 0 (Python's default _SocketWriter) each write is sent at
 * once; its promise resolves when the last byte is with the kernel, and a
 * write that is not awaited still goes out before finish() closes the
 * request. With wbufsize > 0 writes gather until that many bytes are
 * waiting (Python's BufferedWriter) or flush() is called.
 */
export class SocketWriter implements Writer {
  private readonly queue: Pending[] = [];
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;
  private sending = false;
  private error: Error | null = null;
  /** Set by close(); writes then fail as on a closed Python file. */
  closed = false;

  /**
   * A writer on sock: `bufsize` is Python's wbufsize; `timeout` (seconds,
   * null for none) bounds each wait for room in the kernel's buffer.
   */
  constructor(
    private readonly sock: socket,
    private readonly bufsize = 0,
    private readonly timeout: number | null = null,
  ) {}

  /** The socket's fd, as Python's wfile.fileno(). */
  fileno(): number {
    return this.sock.fileno();
  }

  /** Python's writable(): true while open. */
  writable(): boolean {
    if (this.closed) throw closedFile();
    return true;
  }

  write(data: Uint8Array): Promise<number> {
    if (!(data instanceof Uint8Array)) {
      return handled(Promise.reject(new TypeError(`write(): argument must be bytes (a Uint8Array), not ${describe(data)}`)));
    }
    if (this.closed) return handled(Promise.reject(closedFile()));
    if (this.error !== null) return handled(Promise.reject(this.error));
    const size = data.length;
    if (this.bufsize > 0) {
      this.gathered.push(Buffer.from(data));
      this.gatheredBytes += size;
      if (this.gatheredBytes < this.bufsize) return Promise.resolve(size);
      return handled(this.sendGathered().then(() => size));
    }
    // The common case, nothing queued and room in the kernel: sent now.
    if (this.queue.length === 0 && size > 0) {
      const fd = this.sock._ownFileno();
      const sent = fd < 0 ? -E.EBADF : binding.send(fd, data, MSG_DONTWAIT, NON_BLOCKING);
      if (sent === size) return Promise.resolve(size);
      if (sent < 0 && sent !== -E.EAGAIN && sent !== -E.EWOULDBLOCK) {
        this.error = errorFromErrno(-sent);
        return handled(Promise.reject(this.error));
      }
      return handled(this.send(data.subarray(Math.max(0, sent)), true).then(() => size));
    }
    return handled(this.send(data, true).then(() => size));
  }

  async writelines(lines: Iterable<Uint8Array>): Promise<void> {
    let last: Promise<number> | null = null;
    for (const line of lines) last = this.write(line);
    if (last !== null) await last;
  }

  flush(): Promise<void> {
    if (this.closed) return handled(Promise.reject(closedFile()));
    if (this.gatheredBytes > 0) return handled(this.sendGathered());
    if (this.error !== null) return handled(Promise.reject(this.error));
    if (this.queue.length === 0) return Promise.resolve();
    return handled(this.send(new Uint8Array(0), false));
  }

  /** Stops writing: later writes fail. What is queued still goes out. */
  close(): void {
    this.closed = true;
  }

  private sendGathered(): Promise<void> {
    const data = this.gathered.length === 1 ? this.gathered[0] : Buffer.concat(this.gathered);
    this.gathered = [];
    this.gatheredBytes = 0;
    return this.send(data, false);
  }

  /** Sends data after what is queued; `copy` when the caller may reuse its buffer. */
  private send(data: Uint8Array, copy: boolean): Promise<void> {
    if (this.queue.length === 0 && data.length > 0) {
      const fd = this.sock._ownFileno();
      const sent = fd < 0 ? -E.EBADF : binding.send(fd, data, MSG_DONTWAIT, NON_BLOCKING);
      if (sent === data.length) return Promise.resolve();
      if (sent < 0 && sent !== -E.EAGAIN && sent !== -E.EWOULDBLOCK) {
        this.error = errorFromErrno(-sent);
        return Promise.reject(this.error);
      }
      const rest = data.subarray(Math.max(0, sent));
      data = copy ? Buffer.from(rest) : rest;
    } else if (copy) {
      data = Buffer.from(data);
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ data, offset: 0, resolve, reject });
      if (!this.sending) void this.drain();
    });
  }

  /** Sends the queue in order, waiting for room when the kernel has none. */
  private async drain(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0];
        if (head.offset < head.data.length) {
          const fd = this.sock._ownFileno();
          const sent = fd < 0 ? -E.EBADF : binding.send(fd, head.data.subarray(head.offset), MSG_DONTWAIT, NON_BLOCKING);
          if (sent === -E.EAGAIN || sent === -E.EWOULDBLOCK) {
            if (!(await io.writable(fd, toTimeoutMs(this.timeout)))) {
              throw this.sock._ownFileno() < 0 ? errorFromErrno(E.EBADF) : timedOut();
            }
            continue;
          }
          if (sent < 0) throw errorFromErrno(-sent);
          head.offset += sent;
          if (head.offset < head.data.length) continue;
        }
        this.queue.shift();
        head.resolve();
      }
    } catch (err) {
      this.error = err as Error;
      for (const pending of this.queue.splice(0)) pending.reject(this.error);
    } finally {
      this.sending = false;
    }
  }
}

/** The datagram handler's wfile: bytes gathered in memory (Python's BytesIO). */
export class BytesWriter implements Writer {
  private readonly parts: Buffer[] = [];
  /** Set by close(). */
  closed = false;

  write(data: Uint8Array): Promise<number> {
    if (!(data instanceof Uint8Array)) {
      return handled(Promise.reject(new TypeError(`write(): argument must be bytes (a Uint8Array), not ${describe(data)}`)));
    }
    if (this.closed) return handled(Promise.reject(closedFile()));
    this.parts.push(Buffer.from(data));
    return Promise.resolve(data.length);
  }

  async writelines(lines: Iterable<Uint8Array>): Promise<void> {
    for (const line of lines) await this.write(line);
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Everything written so far. */
  getvalue(): Buffer {
    return Buffer.concat(this.parts);
  }

  /** Stops writing: later writes fail. */
  close(): void {
    this.closed = true;
  }
}
