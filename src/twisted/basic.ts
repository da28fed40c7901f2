// twisted.protocols.basic: protocols that frame a byte stream into lines
// (LineReceiver, LineOnlyReceiver) or into length-prefixed strings
// (NetstringReceiver, Int32/Int16/Int8StringReceiver). Behaviour is
// Twisted's, call for call. The parsing differs in cost only: where
// Twisted joins and splits bytes objects (quadratic when a long frame
// arrives in small pieces), these keep the unread bytes in a ByteQueue,
// search each byte for a delimiter once, and hand frames out as views, so
// the work is linear in the input whatever the chunking.
import { Buffer } from 'node:buffer';
import { Deferred } from './defer';
import { describe, messageOf } from './describe';
import type { IConsumer, IProducer, ITCPTransport, ITransport } from './interfaces';
import { Protocol } from './protocol';
import type { Factory } from './protocol';
import { ByteQueue } from './byte_queue';

const EMPTY = Buffer.alloc(0);

/** Bytes from a Uint8Array, or a string encoded as UTF-8. */
function toBytes(value: Uint8Array | string, what: string): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length);
  throw new TypeError(`${what} must be bytes (or a string), not ${describe(value)}`);
}

function checkBytes(where: string, data: unknown): Buffer {
  if (!(data instanceof Uint8Array)) {
    throw new TypeError(`${where}(): takes bytes (a Buffer or Uint8Array), not ${describe(data)}`);
  }
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
}

/**
 * The protocol's transport, or a TypeError naming `where` when
 * makeConnection() has not run, or when the transport has no `method`
 * (the one the caller is about to call).
 */
function transportOf<T extends ITransport>(protocol: Protocol<Factory, T>, where: string, method?: keyof T & string): T {
  const transport = protocol.transport;
  if (transport === null || transport === undefined) {
    throw new TypeError(`${where}(): ${protocol.constructor.name} has no transport (makeConnection() has not run)`);
  }
  if (method !== undefined && typeof transport[method] !== 'function') {
    throw new TypeError(`${where}(): the transport has no ${method}(): ${describe(transport)}`);
  }
  return transport;
}

/** Python's NotImplementedError, thrown by the methods a subclass must supply. */
export class NotImplementedError extends Error {
  /** Makes the error; any message is shown as text, whatever it is. */
  constructor(message?: unknown) {
    super(messageOf(message));
  }

  /** The class name. */
  override get name(): string {
    return 'NotImplementedError';
  }
}

/**
 * A protocol that can pause the parsing of what it receives, as a
 * producer: pauseProducing() also pauses the transport's reading.
 */
class PauseableProtocol<F extends Factory = Factory, T extends ITransport = ITCPTransport> extends Protocol<F, T> {
  /** Whether parsing is paused. */
  paused = false;

  /** Stops parsing (and reading) until resumeProducing(). */
  pauseProducing(): void {
    this.paused = true;
    transportOf(this, 'pauseProducing').pauseProducing?.();
  }

  /** Parses what is buffered and reads again. */
  resumeProducing(): void {
    this.paused = false;
    transportOf(this, 'resumeProducing').resumeProducing?.();
    this.dataReceived(EMPTY);
  }

  /** Stops for good: the connection is closed. */
  stopProducing(): void {
    this.paused = true;
    transportOf(this, 'stopProducing').stopProducing?.();
  }
}

/**
 * A protocol that receives lines (ended by `delimiter`, CR LF by default)
 * and, after setRawMode(), raw data. A line longer than MAX_LENGTH goes to
 * lineLengthExceeded(), which closes the connection unless overridden.
 */
export class LineReceiver<F extends Factory = Factory, T extends ITransport = ITCPTransport> extends PauseableProtocol<F, T> {
  /** 1 in line mode, 0 in raw mode. */
  line_mode: 0 | 1 = 1;
  /** What ends a line. */
  delimiter: Buffer | string = Buffer.from('\r\n');
  /** The longest line accepted. */
  MAX_LENGTH = 16384;
  readonly #received = new ByteQueue();
  /** Bytes of the buffer known not to start a delimiter. */
  #searched = 0;
  #searchedFor: Buffer | string | null = null;
  /** `delimiter` as bytes, made by #currentDelimiter() when `delimiter` is seen first or changes. */
  #delimiterBytes: Buffer = EMPTY;
  #busyReceiving = false;

  /** Empties the buffer and returns what it held. */
  clearLineBuffer(): Buffer {
    this.#searched = 0;
    return Buffer.from(this.#received.takeAll());
  }

  #currentDelimiter(): Buffer {
    const d = this.delimiter;
    if (d !== this.#searchedFor) {
      this.#delimiterBytes = toBytes(d, 'delimiter');
      if (this.#delimiterBytes.length === 0) throw new RangeError('LineReceiver.delimiter cannot be empty');
      this.#searchedFor = d;
      this.#searched = 0;
    }
    return this.#delimiterBytes;
  }

  /** Splits what arrives into lines (or raw data, in raw mode). */
  override dataReceived(data: Buffer): unknown {
    checkBytes('dataReceived', data);
    const received = this.#received;
    if (this.#busyReceiving) {
      received.append(data);
      return undefined;
    }
    this.#busyReceiving = true;
    try {
      received.append(data);
      while (received.length > 0 && !this.paused) {
        if (this.line_mode) {
          const delimiter = this.#currentDelimiter();
          const index = received.indexOf(delimiter, this.#searched);
          if (index < 0) {
            this.#searched = Math.max(0, received.length - delimiter.length + 1);
            if (received.length >= this.MAX_LENGTH + delimiter.length) {
              this.#searched = 0;
              return this.lineLengthExceeded(received.takeAll());
            }
            return undefined;
          }
          const line = received.take(index);
          received.skip(delimiter.length);
          this.#searched = 0;
          if (line.length > this.MAX_LENGTH) {
            const exceeded = Buffer.concat([line, delimiter, received.takeAll()]);
            return this.lineLengthExceeded(exceeded);
          }
          const why = this.lineReceived(line);
          if (why || (this.transport && this.transport.disconnecting)) return why;
        } else {
          this.#searched = 0;
          const why = this.rawDataReceived(received.takeAll());
          if (why) return why;
        }
      }
      return undefined;
    } finally {
      this.#busyReceiving = false;
    }
  }

  /** Back to line mode; `extra` is parsed as if just received. */
  setLineMode(extra: Uint8Array = EMPTY): unknown {
    const bytes = checkBytes('setLineMode', extra);
    this.line_mode = 1;
    if (bytes.length > 0) return this.dataReceived(bytes);
    return undefined;
  }

  /** Raw mode: what arrives goes to rawDataReceived() as it comes. */
  setRawMode(): void {
    this.line_mode = 0;
  }

  /** Raw data arrived (raw mode); a subclass that uses raw mode overrides it. */
  rawDataReceived(_data: Buffer): unknown {
    throw new NotImplementedError('rawDataReceived() must be overridden to use raw mode');
  }

  /** A line arrived, without its delimiter; override to handle it. */
  lineReceived(_line: Buffer): unknown {
    throw new NotImplementedError('lineReceived() must be overridden');
  }

  /** Writes `line` followed by the delimiter. */
  sendLine(line: Uint8Array | string): void {
    const bytes = typeof line === 'string' ? Buffer.from(line, 'utf8') : checkBytes('sendLine', line);
    const transport = transportOf(this, 'sendLine', 'write');
    const delimiter = this.#currentDelimiter();
    // Twisted's line + delimiter, built by hand: Buffer.concat() checks
    // its list and copies each part through its own helper.
    const out = Buffer.allocUnsafe(bytes.length + delimiter.length);
    out.set(bytes);
    out.set(delimiter, bytes.length);
    transport.write(out);
  }

  /** A line was longer than MAX_LENGTH: by default the connection is closed. */
  lineLengthExceeded(_line: Buffer): unknown {
    return transportOf(this, 'lineLengthExceeded', 'loseConnection').loseConnection();
  }
}

/**
 * A line protocol without raw mode or pausing: every line goes to
 * lineReceived(), as long as the connection is not closing.
 */
export class LineOnlyReceiver<F extends Factory = Factory, T extends ITransport = ITCPTransport> extends Protocol<F, T> {
  /** What ends a line. */
  delimiter: Buffer | string = Buffer.from('\r\n');
  /** The longest line accepted. */
  MAX_LENGTH = 16384;
  readonly #received = new ByteQueue();
  #searched = 0;

  /** Splits what arrives into lines. */
  override dataReceived(data: Buffer): unknown {
    checkBytes('dataReceived', data);
    const delimiter = toBytes(this.delimiter, 'delimiter');
    if (delimiter.length === 0) throw new RangeError('LineOnlyReceiver.delimiter cannot be empty');
    const received = this.#received;
    received.append(data);
    for (;;) {
      const index = received.indexOf(delimiter, this.#searched);
      if (index < 0) {
        this.#searched = Math.max(0, received.length - delimiter.length + 1);
        break;
      }
      this.#searched = 0;
      const line = received.take(index);
      received.skip(delimiter.length);
      if (this.transport?.disconnecting) return undefined;
      if (line.length > this.MAX_LENGTH) return this.lineLengthExceeded(line);
      this.lineReceived(line);
    }
    if (received.length > this.MAX_LENGTH) return this.lineLengthExceeded(received.peek(0, received.length));
    return undefined;
  }

  /** A line arrived, without its delimiter; override to handle it. */
  lineReceived(_line: Buffer): unknown {
    throw new NotImplementedError('lineReceived() must be overridden');
  }

  /** Writes `line` followed by the delimiter. */
  sendLine(line: Uint8Array | string): void {
    const bytes = typeof line === 'string' ? Buffer.from(line, 'utf8') : checkBytes('sendLine', line);
    transportOf(this, 'sendLine', 'writeSequence').writeSequence([bytes, toBytes(this.delimiter, 'delimiter')]);
  }

  /** A line was too long: by default the connection is closed. */
  lineLengthExceeded(_line: Buffer): unknown {
    return transportOf(this, 'lineLengthExceeded', 'loseConnection').loseConnection();
  }
}

/** sendString() was given more than the length prefix can say. */
export class StringTooLongError extends Error {
  /** Makes the error; any message is shown as text, whatever it is. */
  constructor(message?: unknown) {
    super(messageOf(message));
  }

  /** The class name. */
  override get name(): string {
    return 'StringTooLongError';
  }
}

/** A netstring that does not parse (no length, too long, no comma). */
export class NetstringParseError extends Error {
  /** Makes the error; any message is shown as text, whatever it is. */
  constructor(message?: unknown) {
    super(messageOf(message));
  }

  /** The class name. */
  override get name(): string {
    return 'NetstringParseError';
  }
}

/** Part of a netstring is still to come. */
export class IncompleteNetstring extends Error {
  /** Makes the error; any message is shown as text, whatever it is. */
  constructor(message?: unknown) {
    super(messageOf(message));
  }

  /** The class name. */
  override get name(): string {
    return 'IncompleteNetstring';
  }
}

const COLON = 0x3a;
const COMMA = 0x2c;
const ZERO = 0x30;

/**
 * Netstrings (`<length>:<bytes>,`): stringReceived() gets each one. A
 * malformed netstring closes the connection and sets brokenPeer.
 */
export class NetstringReceiver<F extends Factory = Factory, T extends ITransport = ITCPTransport> extends Protocol<F, T> {
  /** The longest string accepted. */
  MAX_LENGTH = 99999;
  /** Set once the peer sent something that is not a netstring. */
  brokenPeer: 0 | 1 = 0;
  readonly #received = new ByteQueue();
  #parsingPayload = false;
  #expected = 0;

  /** The message for a netstring without a length. */
  static readonly MISSING_LENGTH = 'The received netstring does not start with a length specification.';
  /** The message for a netstring longer than MAX_LENGTH. */
  static readonly TOO_LONG = 'The received netstring is longer than the maximum %s specified by self.MAX_LENGTH';
  /** The message for a netstring that does not end with a comma. */
  static readonly MISSING_COMMA = 'The received netstring is not terminated by a comma.';

  /** Writes `string` as a netstring. */
  sendString(string: Uint8Array): void {
    const bytes = checkBytes('sendString', string);
    transportOf(this, 'sendString', 'writeSequence').writeSequence([Buffer.from(`${bytes.length}:`), bytes, Buffer.from(',')]);
  }

  /** Parses netstrings out of what arrives. */
  override dataReceived(data: Buffer): unknown {
    checkBytes('dataReceived', data);
    this.#received.append(data);
    try {
      while (this.#received.length > 0) {
        if (!this.#parsingPayload && !this.#consumeLength()) break;
        if (this.#parsingPayload && !this.#consumePayload()) break;
      }
    } catch (err) {
      if (!(err instanceof NetstringParseError)) throw err;
      this.#handleParseError();
    }
    return undefined;
  }

  /** The most digits a length within MAX_LENGTH can have. */
  #maxLengthSize(): number {
    return Math.ceil(Math.log10(this.MAX_LENGTH)) + 1;
  }

  #tooLong(): NetstringParseError {
    return new NetstringParseError(NetstringReceiver.TOO_LONG.replace('%s', String(this.MAX_LENGTH)));
  }

  /** Reads "<digits>:"; false when more bytes are needed. */
  #consumeLength(): boolean {
    const received = this.#received;
    const n = received.length;
    let i = 0;
    while (i < n && received.at(i) >= ZERO && received.at(i) <= ZERO + 9) i++;
    const digits = i;
    const maxDigits = this.#maxLengthSize();
    if (digits === 0 && n > 0) throw new NetstringParseError(NetstringReceiver.MISSING_LENGTH);
    if (digits > 1 && received.at(0) === ZERO) throw new NetstringParseError(NetstringReceiver.MISSING_LENGTH);
    if (digits > maxDigits) throw this.#tooLong();
    const length = Number(received.peek(0, digits).toString('latin1'));
    if (length > this.MAX_LENGTH) throw this.#tooLong();
    if (i === n) return false;
    if (received.at(i) !== COLON) throw new NetstringParseError(NetstringReceiver.MISSING_LENGTH);
    received.skip(digits + 1);
    this.#expected = length + 1;
    this.#parsingPayload = true;
    return true;
  }

  /** Reads the payload and its comma; false when more bytes are needed. */
  #consumePayload(): boolean {
    const received = this.#received;
    if (received.length < this.#expected) return false;
    const payload = received.take(this.#expected);
    this.#parsingPayload = false;
    if (payload[payload.length - 1] !== COMMA) throw new NetstringParseError(NetstringReceiver.MISSING_COMMA);
    this.stringReceived(payload.subarray(0, payload.length - 1));
    return true;
  }

  #handleParseError(): void {
    transportOf(this, 'dataReceived', 'loseConnection').loseConnection();
    this.brokenPeer = 1;
  }

  /** A netstring arrived; override to handle it. */
  stringReceived(_string: Buffer): void {
    throw new NotImplementedError('stringReceived() must be overridden');
  }
}

/**
 * Strings prefixed by their length as a big-endian unsigned integer of
 * `prefixLength` bytes (4, 2 or 1 in the subclasses). A length over
 * MAX_LENGTH goes to lengthLimitExceeded(), which closes the connection.
 */
export class IntNStringReceiver<F extends Factory = Factory, T extends ITransport = ITCPTransport> extends PauseableProtocol<F, T> {
  /** The size of the length prefix, in bytes. */
  prefixLength = 4;
  /** The longest string accepted. */
  MAX_LENGTH = 99999;
  readonly #received = new ByteQueue();

  /**
   * What has been received and not yet delivered: inside stringReceived(),
   * the bytes after the current string; inside lengthLimitExceeded(), the
   * string whose prefix is too long and what follows. Setting it replaces
   * that buffer, and parsing goes on from the new value, as in Twisted.
   * @see https://docs.twisted.org/en/twisted-22.4.0/api/twisted.protocols.basic.IntNStringReceiver.html
   */
  get recvd(): Buffer {
    return Buffer.from(this.#received.peek(0, this.#received.length));
  }

  /** Replaces what is received and not yet delivered; parsing goes on from `value`. */
  set recvd(value: Uint8Array) {
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(`IntNStringReceiver.recvd must be bytes (a Buffer or Uint8Array), not ${describe(value)}`);
    }
    this.#received.clear();
    this.#received.append(value);
  }

  /** Parses length-prefixed strings out of what arrives. */
  override dataReceived(data: Buffer): unknown {
    checkBytes('dataReceived', data);
    const received = this.#received;
    received.append(data);
    const prefix = this.prefixLength;
    while (received.length >= prefix && !this.paused) {
      const length = received.peek(0, prefix).readUIntBE(0, prefix);
      if (length > this.MAX_LENGTH) {
        this.lengthLimitExceeded(length);
        return undefined;
      }
      if (received.length < prefix + length) break;
      received.skip(prefix);
      this.stringReceived(received.take(length));
    }
    return undefined;
  }

  /** Writes `string` with its length prefix; StringTooLongError when the prefix cannot hold its length. */
  sendString(string: Uint8Array): void {
    const bytes = checkBytes('sendString', string);
    const prefix = this.prefixLength;
    if (bytes.length >= 2 ** (8 * prefix)) {
      throw new StringTooLongError(`Try to send ${bytes.length} bytes whereas maximum is ${2 ** (8 * prefix)}`);
    }
    const header = Buffer.allocUnsafe(prefix);
    header.writeUIntBE(bytes.length, 0, prefix);
    transportOf(this, 'sendString', 'write').write(Buffer.concat([header, bytes]));
  }

  /** A string arrived; override to handle it. */
  stringReceived(_string: Buffer): void {
    throw new NotImplementedError('stringReceived() must be overridden');
  }

  /** A length prefix said more than MAX_LENGTH: by default the connection is closed. */
  lengthLimitExceeded(_length: number): void {
    transportOf(this, 'lengthLimitExceeded', 'loseConnection').loseConnection();
  }
}

/** Strings with a 4-byte big-endian length prefix. */
export class Int32StringReceiver<F extends Factory = Factory, T extends ITransport = ITCPTransport> extends IntNStringReceiver<F, T> {
  /** 4 bytes. */
  override prefixLength = 4;
}

/** Strings with a 2-byte big-endian length prefix. */
export class Int16StringReceiver<F extends Factory = Factory, T extends ITransport = ITCPTransport> extends IntNStringReceiver<F, T> {
  /** 2 bytes. */
  override prefixLength = 2;
}

/** Strings with a 1-byte length prefix. */
export class Int8StringReceiver<F extends Factory = Factory, T extends ITransport = ITCPTransport> extends IntNStringReceiver<F, T> {
  /** 1 byte. */
  override prefixLength = 1;
}

/** A file FileSender reads: read(size) gives at most `size` bytes, and empty bytes at the end. */
export interface IReadableFile {
  /** At most `size` bytes; an empty Uint8Array (or null/undefined) at the end of the file. */
  read(size: number): Uint8Array | null | undefined;
}

/**
 * A pull producer that sends a file to a consumer (a transport), one
 * chunk of CHUNK_SIZE bytes each time the consumer asks, optionally
 * transformed on the way.
 * @see https://docs.twisted.org/en/twisted-22.4.0/api/twisted.protocols.basic.FileSender.html
 */
export class FileSender implements IProducer {
  /** The most bytes read per resumeProducing(). */
  CHUNK_SIZE = 2 ** 14;
  /** The last byte sent (empty before the first chunk). */
  lastSent: Buffer = EMPTY;
  /** Fires with lastSent once the file is sent; null before and after. */
  deferred: Deferred<Buffer> | null = null;
  /** The file being sent; null once it is all read. */
  file: IReadableFile | null = null;
  /** Where the file is written. */
  consumer: IConsumer | null = null;
  /** What each chunk goes through before it is written, if anything. */
  transform: ((chunk: Buffer) => Uint8Array) | null = null;

  /**
   * Starts sending `file` to `consumer`: registers as its pull producer.
   * The Deferred fires with the last byte written once the whole file is,
   * and fails if the consumer stops the transfer first.
   */
  beginFileTransfer(file: IReadableFile, consumer: IConsumer, transform: ((chunk: Buffer) => Uint8Array) | null = null): Deferred<Buffer> {
    if (file === null || typeof file !== 'object' || typeof file.read !== 'function') {
      throw new TypeError(`beginFileTransfer(): file must have a read(size) method, not ${describe(file)}`);
    }
    if (
      consumer === null ||
      typeof consumer !== 'object' ||
      typeof consumer.registerProducer !== 'function' ||
      typeof consumer.unregisterProducer !== 'function' ||
      typeof consumer.write !== 'function'
    ) {
      throw new TypeError(`beginFileTransfer(): consumer must be an IConsumer (registerProducer, unregisterProducer, write), not ${describe(consumer)}`);
    }
    if (transform !== null && transform !== undefined && typeof transform !== 'function') {
      throw new TypeError(`beginFileTransfer(): transform must be a function, not ${describe(transform)}`);
    }
    this.file = file;
    this.consumer = consumer;
    this.transform = transform ?? null;
    const deferred = new Deferred<Buffer>();
    this.deferred = deferred;
    consumer.registerProducer(this, false);
    return deferred;
  }

  /** Writes the next chunk; at the end of the file, unregisters and fires the Deferred. */
  resumeProducing(): void {
    let chunk: Uint8Array | null | undefined = null;
    if (this.file !== null) chunk = this.file.read(this.CHUNK_SIZE);
    if (chunk === null || chunk === undefined || chunk.length === 0) {
      this.file = null;
      this.consumer?.unregisterProducer();
      const deferred = this.deferred;
      this.deferred = null;
      deferred?.callback(this.lastSent);
      return;
    }
    let bytes = checkBytes('FileSender: file.read', chunk);
    if (this.transform !== null) bytes = checkBytes('FileSender: transform', this.transform(bytes));
    this.consumer!.write(bytes);
    this.lastSent = Buffer.from(bytes.subarray(bytes.length - 1));
  }

  /** A pull producer is never paused. */
  pauseProducing(): void {}

  /** The consumer stops the transfer: the Deferred fails. */
  stopProducing(): void {
    const deferred = this.deferred;
    this.deferred = null;
    deferred?.errback(new Error('Consumer asked us to stop producing'));
  }
}
