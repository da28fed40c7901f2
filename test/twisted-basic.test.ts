// twisted.protocols.basic, ported from Twisted 22.4's
// twisted/protocols/test/test_basic.py: LineReceiver, LineOnlyReceiver,
// NetstringReceiver, Int32/16/8StringReceiver and pausing, with the same
// inputs fed in the same chunkings. Plus: parsing stays linear whatever
// the chunking.
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import {
  ByteQueue,
  FileSender,
  Int16StringReceiver,
  Int32StringReceiver,
  Int8StringReceiver,
  IntNStringReceiver,
  LineOnlyReceiver,
  LineReceiver,
  NetstringParseError,
  NetstringReceiver,
  NotImplementedError,
  StringTooLongError,
} from '../src/twisted/basic';
import type { ITransport } from '../src/twisted/interfaces';
import { Clock } from '../src/twisted/task';
import { StringTransport, b, chunks } from './twisted-support';

const str = (list: Buffer[]): string[] => list.map((x) => x.toString('latin1'));

/** A line receiver that flips between line and raw mode after one byte. */
class FlippingLineTester extends LineReceiver {
  override delimiter = b('\n');
  lines: Buffer[] = [];
  override lineReceived(line: Buffer): void {
    this.lines.push(line);
    this.setRawMode();
  }
  override rawDataReceived(data: Buffer): void {
    this.setLineMode(data.subarray(1));
  }
}

/** test_basic.py's LineTester: acts on tokens (pause, rawpause, stop, len N, produce, unproduce). */
class LineTester extends LineReceiver {
  override delimiter = b('\n');
  override MAX_LENGTH = 64;
  received: Buffer[] = [];
  length = 0;
  constructor(readonly clock: Clock | null = null) {
    super();
  }
  override connectionMade(): void {
    this.received = [];
  }
  override lineReceived(line: Buffer): void {
    this.received.push(line);
    const text = line.toString('latin1');
    if (text === '') {
      this.setRawMode();
    } else if (text === 'pause') {
      this.pauseProducing();
      this.clock!.callLater(0, () => this.resumeProducing());
    } else if (text === 'rawpause') {
      this.pauseProducing();
      this.setRawMode();
      this.received.push(b(''));
      this.clock!.callLater(0, () => this.resumeProducing());
    } else if (text === 'stop') {
      this.stopProducing();
    } else if (text.startsWith('len ')) {
      this.length = Number(text.slice(4));
    } else if (text.startsWith('produce')) {
      this.transport.registerProducer(this, false);
    } else if (text.startsWith('unproduce')) {
      this.transport.unregisterProducer();
    }
  }
  override rawDataReceived(data: Buffer): void {
    const taken = data.subarray(0, this.length);
    const rest = data.subarray(this.length);
    this.length -= taken.length;
    this.received[this.received.length - 1] = Buffer.concat([this.received[this.received.length - 1]!, taken]);
    if (this.length === 0) this.setLineMode(rest);
  }
  override lineLengthExceeded(line: Buffer): void {
    if (line.length > this.MAX_LENGTH + 1) this.setLineMode(line.subarray(this.MAX_LENGTH + 1));
  }
}

class LineOnlyTester extends LineOnlyReceiver {
  override delimiter = b('\n');
  override MAX_LENGTH = 64;
  received: Buffer[] = [];
  override connectionMade(): void {
    this.received = [];
  }
  override lineReceived(line: Buffer): void {
    this.received.push(line);
  }
}

/** A transport that hands a pull producer its first resumeProducing(), as protocol.FileWrapper does. */
function fileWrapper(): StringTransport {
  const t = new StringTransport();
  t.pullOnRegister = true;
  return t;
}

describe('LineReceiver (LineReceiverTests)', () => {
  const buffer = b(
    'len 10\n\n0123456789len 5\n\n1234\nlen 20\nfoo 123\n\n0123456789\n012345678len 0\nfoo 5\n\n' +
      '1234567890123456789012345678901234567890123456789012345678901234567890\nlen 1\n\na',
  );
  const output = [
    'len 10',
    '0123456789',
    'len 5',
    '1234\n',
    'len 20',
    'foo 123',
    '0123456789\n012345678',
    'len 0',
    'foo 5',
    '',
    '67890',
    'len 1',
    'a',
  ];

  it('test_buffer: every packet size gives the same lines', () => {
    for (let size = 1; size < 10; size++) {
      const a = new LineTester();
      a.makeConnection(fileWrapper());
      for (const s of chunks(buffer, size)) a.dataReceived(s);
      expect(str(a.received)).toEqual(output);
    }
  });

  it('test_pausing: a paused receiver delivers nothing until resumed', () => {
    const pauseBuf = b('twiddle1\ntwiddle2\npause\ntwiddle3\n');
    for (let size = 1; size < 10; size++) {
      const clock = new Clock();
      const a = new LineTester(clock);
      a.makeConnection(fileWrapper());
      for (const s of chunks(pauseBuf, size)) a.dataReceived(s);
      expect(str(a.received)).toEqual(['twiddle1', 'twiddle2', 'pause']);
      clock.advance(0);
      expect(str(a.received)).toEqual(['twiddle1', 'twiddle2', 'pause', 'twiddle3']);
    }
  });

  it('test_rawPausing: pausing in raw mode', () => {
    const buf = b('twiddle1\ntwiddle2\nlen 5\nrawpause\n12345twiddle3\n');
    for (let size = 1; size < 10; size++) {
      const clock = new Clock();
      const a = new LineTester(clock);
      a.makeConnection(fileWrapper());
      for (const s of chunks(buf, size)) a.dataReceived(s);
      expect(str(a.received)).toEqual(['twiddle1', 'twiddle2', 'len 5', 'rawpause', '']);
      clock.advance(0);
      expect(str(a.received)).toEqual(['twiddle1', 'twiddle2', 'len 5', 'rawpause', '12345', 'twiddle3']);
    }
  });

  it('test_stopProducing: nothing is delivered after stopProducing()', () => {
    const buf = b('twiddle1\ntwiddle2\nstop\nmore\nstuff\n');
    for (let size = 1; size < 10; size++) {
      const a = new LineTester();
      const t = fileWrapper();
      a.makeConnection(t);
      for (const s of chunks(buf, size)) a.dataReceived(s);
      expect(str(a.received)).toEqual(['twiddle1', 'twiddle2', 'stop']);
      expect(t.disconnecting).toBe(true);
    }
  });

  it('test_lineReceiverAsProducer: registering itself as a pull producer does not lose lines', () => {
    const a = new LineTester();
    a.makeConnection(fileWrapper());
    a.dataReceived(b('produce\nhello world\nunproduce\ngoodbye\n'));
    expect(str(a.received)).toEqual(['produce', 'hello world', 'unproduce', 'goodbye']);
  });

  it('test_clearLineBuffer: clearLineBuffer() returns and drops what is buffered', () => {
    class ClearingReceiver extends LineReceiver {
      line: Buffer | null = null;
      rest: Buffer | null = null;
      override lineReceived(line: Buffer): void {
        this.line = line;
        this.rest = this.clearLineBuffer();
      }
    }
    const p = new ClearingReceiver();
    p.dataReceived(b('foo\r\nbar\r\nbaz'));
    expect(p.line!.toString()).toBe('foo');
    expect(p.rest!.toString()).toBe('bar\r\nbaz');
    p.dataReceived(b('quux\r\n'));
    expect(p.line!.toString()).toBe('quux');
    expect(p.rest!.toString()).toBe('');
  });

  it('test_stackRecursion: switching modes on every byte does not recurse', () => {
    const p = new FlippingLineTester();
    p.makeConnection(fileWrapper());
    const limit = 20000;
    p.dataReceived(b('x\nx'.repeat(limit)));
    expect(Buffer.concat(p.lines).toString()).toBe('x'.repeat(limit));
  });

  it('test_maximumLineLength: a line over MAX_LENGTH closes the connection', () => {
    const p = new (class extends LineReceiver {
      override lineReceived(): void {}
    })();
    const t = new StringTransport();
    p.makeConnection(t);
    p.dataReceived(b('x'.repeat(p.MAX_LENGTH + 1) + '\r\nr'));
    expect(t.disconnecting).toBe(true);
  });

  it('test_maximumLineLengthPartialDelimiter: a delimiter split across chunks is not counted as line', () => {
    const p = new LineTester();
    p.MAX_LENGTH = 4;
    const t = new StringTransport();
    p.makeConnection(t);
    const line = b('x'.repeat(p.MAX_LENGTH - 1));
    const d = p.delimiter as Buffer;
    p.dataReceived(line);
    p.dataReceived(d.subarray(0, d.length - 1));
    p.dataReceived(Buffer.concat([d.subarray(d.length - 1), line]));
    expect(t.disconnecting).toBe(false);
    expect(str(p.received)).toEqual([line.toString()]);
  });

  it('test_maximumLineLengthPartialDelimiter with a two-byte delimiter split across chunks', () => {
    const got: string[] = [];
    const p = new (class extends LineReceiver {
      override MAX_LENGTH = 4;
      override lineReceived(line: Buffer): void {
        got.push(line.toString());
      }
    })();
    const t = new StringTransport();
    p.makeConnection(t);
    p.dataReceived(b('xxx'));
    p.dataReceived(b('\r'));
    p.dataReceived(b('\nxxx\r'));
    p.dataReceived(b('\n'));
    expect(got).toEqual(['xxx', 'xxx']);
    expect(t.disconnecting).toBe(false);
  });

  it('test_notQuiteMaximumLineLengthUnfinished: MAX_LENGTH bytes and part of a delimiter are accepted', () => {
    const p = new (class extends LineReceiver {
      override lineReceived(): void {}
    })();
    p.delimiter = b('\r\n');
    const t = new StringTransport();
    p.makeConnection(t);
    p.dataReceived(b('x'.repeat(p.MAX_LENGTH) + '\r'));
    expect(t.disconnecting).toBe(false);
  });

  it('test_rawDataError: an Error returned by rawDataReceived() is returned by dataReceived()', () => {
    const p = new LineReceiver();
    p.rawDataReceived = () => new Error('oops');
    p.makeConnection(new StringTransport());
    p.setRawMode();
    const why = p.dataReceived(b('data'));
    expect(why).toBeInstanceOf(Error);
    expect((why as Error).message).toBe('oops');
  });

  it('test_rawDataReceivedNotImplemented and test_lineReceivedNotImplemented', () => {
    const p = new LineReceiver();
    expect(() => p.rawDataReceived(b('foo'))).toThrow(NotImplementedError);
    expect(() => p.lineReceived(b('foo'))).toThrow(NotImplementedError);
  });

  it('sendLine() writes the line and the delimiter; bytes only or a string', () => {
    const p = new LineTester();
    const t = new StringTransport();
    p.makeConnection(t);
    p.sendLine(b('hello'));
    p.sendLine('world');
    expect(t.value().toString()).toBe('hello\nworld\n');
    expect(() => p.sendLine(42 as unknown as Buffer)).toThrow(/sendLine\(\): takes bytes/);
  });

  it('an empty delimiter is a RangeError naming it', () => {
    const p = new (class extends LineReceiver {
      override lineReceived(): void {}
    })();
    p.delimiter = b('');
    expect(() => p.dataReceived(b('x'))).toThrow(/delimiter cannot be empty/);
  });
});

class ExcessivelyLargeLineCatcher extends LineReceiver {
  longLines: Buffer[] = [];
  override lineReceived(): void {}
  override lineLengthExceeded(data: Buffer): void {
    this.longLines.push(Buffer.from(data));
  }
}

describe('LineReceiverLineLengthExceededTests', () => {
  function setUp(): ExcessivelyLargeLineCatcher {
    const p = new ExcessivelyLargeLineCatcher();
    p.MAX_LENGTH = 6;
    p.makeConnection(new StringTransport());
    return p;
  }
  const excessive = 'x'.repeat(6 * 2 + 2);

  it('test_longUnendedLine', () => {
    const p = setUp();
    p.dataReceived(b(excessive));
    expect(str(p.longLines)).toEqual([excessive]);
  });

  it('test_longLineAfterShortLine', () => {
    const p = setUp();
    p.dataReceived(b(`x\r\n${excessive}`));
    expect(str(p.longLines)).toEqual([excessive]);
  });

  it('test_longLineWithDelimiter', () => {
    const p = setUp();
    const data = [excessive, excessive].join('\r\n');
    p.dataReceived(b(data));
    expect(str(p.longLines)).toEqual([data]);
  });

  it('test_multipleLongLines', () => {
    const p = setUp();
    const data = `${excessive}\r\n`.repeat(2);
    p.dataReceived(b(data));
    expect(str(p.longLines)).toEqual([data]);
  });

  it('test_maximumLineLengthRemaining: MAX_LENGTH + len(delimiter) bytes with no delimiter close it', () => {
    const p = new (class extends LineReceiver {
      override lineReceived(): void {}
    })();
    const t = new StringTransport();
    p.makeConnection(t);
    p.dataReceived(b('x'.repeat(p.MAX_LENGTH + 2)));
    expect(t.disconnecting).toBe(true);
  });
});

describe('LineOnlyReceiver (LineOnlyReceiverTests)', () => {
  it('test_buffer: byte by byte', () => {
    const buffer = 'foo\n    bleakness\n    desolation\n    plastic forks\n    ';
    const a = new LineOnlyTester();
    a.makeConnection(new StringTransport());
    for (const c of b(buffer)) a.dataReceived(Buffer.from([c]));
    expect(str(a.received)).toEqual(buffer.split('\n').slice(0, -1));
  });

  it('test_greaterThanMaximumLineLength', () => {
    const p = new LineOnlyTester();
    const t = new StringTransport();
    p.makeConnection(t);
    p.dataReceived(b('x'.repeat(p.MAX_LENGTH + 1 + 1) + '\r\nr'));
    expect(t.disconnecting).toBe(true);
  });

  it('test_lineReceivedNotImplemented', () => {
    expect(() => new LineOnlyReceiver().lineReceived(b('foo'))).toThrow(NotImplementedError);
  });

  it('stops delivering once the transport is disconnecting', () => {
    class Closer extends LineOnlyTester {
      override lineReceived(line: Buffer): void {
        super.lineReceived(line);
        this.transport.loseConnection();
      }
    }
    const p = new Closer();
    p.makeConnection(new StringTransport());
    p.dataReceived(b('a\nb\nc\n'));
    expect(str(p.received)).toEqual(['a']);
  });
});

/** test_basic.py's TestMixin with NetstringReceiver: MAX_LENGTH 50, echoes what it gets. */
class TestNetstring extends NetstringReceiver {
  override MAX_LENGTH = 50;
  received: Buffer[] = [];
  closed = 0;
  override connectionMade(): void {
    this.received = [];
  }
  override stringReceived(s: Buffer): void {
    this.received.push(Buffer.from(s));
    this.transport.write(s);
  }
  override connectionLost(): void {
    this.closed = 1;
  }
}

function connected<P extends { makeConnection(t: unknown): void }>(p: P): P & { transport: StringTransport } {
  p.makeConnection(new StringTransport());
  return p as P & { transport: StringTransport };
}

describe('NetstringReceiver (NetstringReceiverTests)', () => {
  const strings = ['hello', 'world', 'how', 'are', 'you123', ':today', 'a'.repeat(515)];
  const illegalStrings = ['9999999999999999999999', 'abc', '4:abcde', `51:${'a'.repeat(50)}b,`];

  it('test_illegal: fed byte by byte, each closes the connection', () => {
    for (const s of illegalStrings) {
      const r = connected(new TestNetstring());
      for (const c of b(s)) r.dataReceived(Buffer.from([c]));
      expect(r.transport.disconnecting).toBe(true);
      expect(r.brokenPeer).toBe(1);
    }
  });

  it('test_buffer: strings received in chunks of different lengths', () => {
    for (let size = 1; size < 10; size++) {
      const a = new TestNetstring();
      a.MAX_LENGTH = 699;
      const t = new StringTransport();
      a.makeConnection(t);
      for (const s of strings) a.sendString(b(s));
      const out = t.value();
      for (const s of chunks(out, size)) if (s.length) a.dataReceived(s);
      expect(str(a.received)).toEqual(strings);
    }
  });

  const cases: Array<[string, string, string[] | 'refused']> = [
    ['test_receiveEmptyNetstring', '0:,', ['']],
    ['test_receiveOneCharacter', '1:a,', ['a']],
    ['test_receiveTwoCharacters', '2:ab,', ['ab']],
    ['test_receiveNestedNetstring', '4:1:a,,', ['1:a,']],
    ['test_moreDataThanSpecified', '2:aaa,', 'refused'],
    ['test_moreDataThanSpecifiedBorderCase', '0:a,', 'refused'],
    ['test_missingNumber', ':aaa,', 'refused'],
    ['test_missingColon', '3aaa,', 'refused'],
    ['test_missingNumberAndColon', 'aaa,', 'refused'],
    ['test_onlyData', 'aaa', 'refused'],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => {
      const r = connected(new TestNetstring());
      r.dataReceived(b(input));
      if (expected === 'refused') expect(r.transport.disconnecting).toBe(true);
      else {
        expect(str(r.received)).toEqual(expected);
        expect(r.transport.disconnecting).toBe(false);
      }
    });
  }

  it('test_receiveNetstringPortions_1, _2 and _3', () => {
    const parts: string[][] = [
      ['4:aa', 'aa,'],
      ['1', '0:01234', '56789', ','],
      ['2', ':', 'a', 'b', ','],
    ];
    const expected = ['aaaa', '0123456789', 'ab'];
    parts.forEach((list, i) => {
      const r = connected(new TestNetstring());
      for (const part of list) r.dataReceived(b(part));
      expect(str(r.received)).toEqual([expected[i]]);
    });
  });

  it('test_receiveTwoNetstrings: the second length arrives with the first string', () => {
    const r = connected(new TestNetstring());
    r.dataReceived(b('1:a,1'));
    expect(str(r.received)).toEqual(['a']);
    r.dataReceived(b(':b,'));
    expect(str(r.received)).toEqual(['a', 'b']);
  });

  it('test_maxReceiveLimit and the length border cases', () => {
    const r = connected(new TestNetstring());
    const tooLong = r.MAX_LENGTH + 1;
    r.dataReceived(b(`${tooLong}:${'a'.repeat(tooLong)}`));
    expect(r.transport.disconnecting).toBe(true);
    // test_consumeLengthBorderCase1..3: a length equal to MAX_LENGTH is fine, one more or far more is not.
    for (const [max, input, ok] of [
      [12, '12:', true],
      [11, '12:', false],
      [11, '1000:', false],
    ] as const) {
      const p = connected(new TestNetstring());
      p.MAX_LENGTH = max;
      p.dataReceived(b(input));
      expect(p.transport.disconnecting).toBe(!ok);
    }
  });

  it('test_stringReceivedNotImplemented; the parse errors name what was wrong', () => {
    expect(() => new NetstringReceiver().stringReceived(b('foo'))).toThrow(NotImplementedError);
    expect(new NetstringParseError(NetstringReceiver.MISSING_COMMA).message).toMatch(/not terminated by a comma/);
  });
});

function intN(Base: typeof Int32StringReceiver) {
  return class extends Base {
    override MAX_LENGTH = 50;
    received: Buffer[] = [];
    override connectionMade(): void {
      this.received = [];
    }
    override stringReceived(s: Buffer): void {
      this.received.push(Buffer.from(s));
    }
  };
}

describe.each([
  ['Int32', intN(Int32StringReceiver), 4, ['\x10\x00\x00\x00aaaaaa'], ['\x00\x00\x00', 'hello there', '']],
  ['Int16', intN(Int16StringReceiver), 2, ['\x10\x00aaaaaa'], ['\x00', 'hello there', '']],
  ['Int8', intN(Int8StringReceiver), 1, ['\x00\x00aaaaaa'], ['\x08', 'dzadz', '']],
] as const)('%sStringReceiver (IntNTestCaseMixin)', (_name, Proto, prefix, illegal, partial) => {
  const header = (n: number): Buffer => {
    const h = Buffer.alloc(prefix);
    h.writeUIntBE(n, 0, prefix);
    return h;
  };

  it('test_receive: byte by byte', () => {
    const r = connected(new Proto());
    const strings = ['a', 'b'.repeat(16)];
    for (const s of strings) for (const c of Buffer.concat([header(s.length), b(s)])) r.dataReceived(Buffer.from([c]));
    expect(str(r.received)).toEqual(strings);
  });

  it('test_partial: nothing is delivered', () => {
    for (const s of partial) {
      const r = connected(new Proto());
      for (const c of b(s)) r.dataReceived(Buffer.from([c]));
      expect(r.received).toEqual([]);
    }
  });

  it('test_illegal: a length over MAX_LENGTH closes the connection', () => {
    for (const s of illegal) {
      const r = connected(new Proto());
      for (const c of b(s)) r.dataReceived(Buffer.from([c]));
      expect(r.transport.disconnecting).toBe(true);
    }
  });

  it('test_send and test_data', () => {
    const r = connected(new Proto());
    r.sendString(b('b'.repeat(16)));
    expect(r.transport.value()).toEqual(Buffer.concat([header(16), b('b'.repeat(16))]));
    r.transport.clear();
    r.sendString(b('foo'));
    expect(r.transport.value()).toEqual(Buffer.concat([header(3), b('foo')]));
    r.dataReceived(Buffer.concat([header(4), b('ubar')]));
    expect(str(r.received)).toEqual(['ubar']);
  });

  it('test_lengthLimitExceeded and test_longStringNotDelivered', () => {
    const lengths: number[] = [];
    const r = connected(new Proto());
    r.lengthLimitExceeded = (n: number) => void lengths.push(n);
    r.MAX_LENGTH = 10;
    r.dataReceived(header(11));
    expect(lengths).toEqual([11]);
    const s = connected(new Proto());
    s.MAX_LENGTH = 10;
    s.dataReceived(Buffer.concat([header(11), b('x'.repeat(11))]));
    expect(s.received).toEqual([]);
  });

  if (prefix < 4) {
    it('test_tooLongSend: StringTooLongError', () => {
      const r = connected(new Proto());
      expect(() => r.sendString(Buffer.alloc(2 ** (prefix * 8) + 1))).toThrow(StringTooLongError);
    });
  }

  it('test_stringReceivedNotImplemented', () => {
    expect(() => new IntNStringReceiver().stringReceived(b('foo'))).toThrow(NotImplementedError);
  });
});

describe('pausing (ProducerTests.test_pauseResume)', () => {
  class OnlyProducerTransport {
    paused = false;
    disconnecting = false;
    data: string[] = [];
    pauseProducing(): void {
      this.paused = true;
    }
    resumeProducing(): void {
      this.paused = false;
    }
    write(bytes: Buffer): void {
      this.data.push(bytes.toString());
    }
  }
  class ConsumingProtocol extends LineReceiver {
    override lineReceived(line: Buffer): void {
      this.transport.write(line);
      this.pauseProducing();
    }
  }

  it('delivers nothing while paused and the waiting line on resume', () => {
    const p = new ConsumingProtocol();
    const t = new OnlyProducerTransport();
    // Only what pausing needs, as Twisted's test transport: not an ITransport.
    p.makeConnection(t as unknown as ITransport);
    p.dataReceived(b('hello, '));
    expect([t.data, t.paused, p.paused]).toEqual([[], false, false]);
    p.dataReceived(b('world\r\n'));
    expect([t.data, t.paused, p.paused]).toEqual([['hello, world'], true, true]);
    p.resumeProducing();
    expect([t.data, t.paused, p.paused]).toEqual([['hello, world'], false, false]);
    p.dataReceived(b('hello\r\nworld\r\n'));
    expect([t.data, t.paused, p.paused]).toEqual([['hello, world', 'hello'], true, true]);
    p.resumeProducing();
    expect([t.data, t.paused, p.paused]).toEqual([['hello, world', 'hello', 'world'], true, true]);
    p.dataReceived(b('goodbye\r\n'));
    expect(t.data).toEqual(['hello, world', 'hello', 'world']);
    p.resumeProducing();
    expect([t.data, t.paused, p.paused]).toEqual([['hello, world', 'hello', 'world', 'goodbye'], true, true]);
    p.resumeProducing();
    expect([t.data, t.paused, p.paused]).toEqual([['hello, world', 'hello', 'world', 'goodbye'], false, false]);
  });
});

describe('parsing is linear in the input, whatever the chunking', () => {
  /** Counts the bytes ByteQueue copies while `feed` runs. */
  function copiedBytes(feed: () => void): number {
    const original = Buffer.prototype.copy;
    let copied = 0;
    Buffer.prototype.copy = function (this: Buffer, target: Uint8Array, targetStart?: number, sourceStart?: number, sourceEnd?: number) {
      const n = original.call(this, target, targetStart, sourceStart, sourceEnd);
      copied += n;
      return n;
    };
    try {
      feed();
    } finally {
      Buffer.prototype.copy = original;
    }
    return copied;
  }

  it('one long line in one-byte chunks copies each byte a bounded number of times', () => {
    const sizes = [10_000, 40_000];
    const copies = sizes.map((n) =>
      copiedBytes(() => {
        const p = new (class extends LineReceiver {
          override MAX_LENGTH = 1_000_000;
          override lineReceived(): void {}
        })();
        p.makeConnection(new StringTransport());
        const one = Buffer.alloc(1, 0x78);
        for (let i = 0; i < n; i++) p.dataReceived(one);
        p.dataReceived(b('\r\n'));
      }),
    );
    // Twisted's bytes concatenation copies ~n^2/2 bytes here (50M for 10k).
    expect(copies[0]!).toBeLessThan(10 * sizes[0]!);
    expect(copies[1]!).toBeLessThan(10 * sizes[1]!);
  });

  it('a large Int32 string in small chunks and many small netstrings in one chunk', () => {
    const n = 200_000;
    const copies = copiedBytes(() => {
      const p = new (class extends Int32StringReceiver {
        override MAX_LENGTH = 1_000_000;
        got = 0;
        override stringReceived(s: Buffer): void {
          this.got += s.length;
        }
      })();
      p.makeConnection(new StringTransport());
      const data = Buffer.alloc(4 + n);
      data.writeUInt32BE(n, 0);
      for (let i = 0; i < data.length; i += 7) p.dataReceived(data.subarray(i, i + 7));
      expect(p.got).toBe(n);
    });
    expect(copies).toBeLessThan(10 * n);
    const ns = connected(new TestNetstring());
    ns.MAX_LENGTH = 10;
    ns.dataReceived(b('3:abc,'.repeat(50_000)));
    expect(ns.received.length).toBe(50_000);
  });

  it('ByteQueue hands out views that later appends never overwrite', () => {
    const q = new ByteQueue();
    q.append(b('abc'));
    q.append(b('def'));
    const first = q.take(2);
    q.append(b('ghijkl'));
    q.append(b('mnop'));
    expect(first.toString()).toBe('ab');
    expect(q.takeAll().toString()).toBe('cdefghijklmnop');
    expect(q.length).toBe(0);
  });
});

describe.each([
  ['Int32', Int32StringReceiver, 4],
  ['Int16', Int16StringReceiver as typeof Int32StringReceiver, 2],
  ['Int8', Int8StringReceiver as typeof Int32StringReceiver, 1],
] as const)('%sTests (RecvdAttributeMixin): recvd, what is received and not yet delivered', (_name, Base, prefix) => {
  const makeMessage = (data: Buffer): Buffer => {
    const h = Buffer.alloc(prefix);
    h.writeUIntBE(data.length, 0, prefix);
    return Buffer.concat([h, data]);
  };
  const make = () => {
    const r = connected(
      new (class extends Base {
        onString: (s: Buffer) => void = () => {};
        override stringReceived(s: Buffer): void {
          this.onString(Buffer.from(s));
        }
      })(),
    );
    return r;
  };

  it('test_recvdContainsRemainingData', () => {
    const r = make();
    const result: Buffer[] = [];
    r.onString = () => result.push(r.recvd);
    const completeMessage = makeMessage(b('a'.repeat(5)));
    const incompleteMessage = Buffer.concat([makeMessage(b('b'.repeat(5))).subarray(0, prefix), b('b'.repeat(4))]);
    r.dataReceived(Buffer.concat([completeMessage, incompleteMessage]));
    expect(result).toEqual([incompleteMessage]);
  });

  it('test_recvdChanged', () => {
    const r = make();
    const result: Buffer[] = [];
    const payloadC = b('c'.repeat(5));
    const messageC = makeMessage(payloadC);
    r.onString = (s) => {
      if (result.length === 0) r.recvd = messageC;
      result.push(s);
    };
    const payloadA = b('a'.repeat(5));
    const payloadB = b('b'.repeat(5));
    r.dataReceived(Buffer.concat([makeMessage(payloadA), makeMessage(payloadB)]));
    expect(result).toEqual([payloadA, payloadC]);
  });

  it('test_switching', () => {
    const proto = make();
    const strings = [b('a'), b('b'.repeat(16))];
    const SWITCH = b('\x00\x00\x00\x00');
    const mix: Buffer[] = [];
    for (const s of strings) mix.push(makeMessage(s), SWITCH);
    const result: Buffer[] = [];
    proto.onString = (s) => {
      result.push(s);
      proto.recvd = proto.recvd.subarray(SWITCH.length);
    };
    proto.dataReceived(Buffer.concat(mix));
    // Just another byte, to trigger processing of anything left in the buffer (nothing).
    proto.dataReceived(b('\x01'));
    expect(result).toEqual(strings);
    expect(proto.recvd).toEqual(b('\x01'));
  });

  it('test_recvdInLengthLimitExceeded', () => {
    const proto = make();
    const DATA = b('too long');
    proto.MAX_LENGTH = DATA.length - 1;
    const message = makeMessage(DATA);
    const result: unknown[] = [];
    proto.lengthLimitExceeded = (length: number) => {
      result.push(length, proto.recvd);
    };
    proto.dataReceived(message);
    expect(result[0]).toBe(DATA.length);
    expect(result[1]).toEqual(message);
  });

  it('recvd takes bytes only, naming itself and the value', () => {
    const proto = make();
    expect(() => {
      proto.recvd = 'text' as never;
    }).toThrow(/^IntNStringReceiver\.recvd must be bytes \(a Buffer or Uint8Array\), not 'text'$/);
  });
});

/** A file of bytes read in chunks, as Python's BytesIO. */
class BytesIO {
  private offset = 0;
  constructor(private readonly data: Buffer) {}
  read(size: number): Buffer {
    const chunk = this.data.subarray(this.offset, this.offset + size);
    this.offset += chunk.length;
    return chunk;
  }
}

describe('FileSenderTests', () => {
  it('test_interface: a pull producer (resumeProducing, stopProducing, pauseProducing)', () => {
    const sender = new FileSender();
    expect(typeof sender.resumeProducing).toBe('function');
    expect(typeof sender.stopProducing).toBe('function');
    expect(typeof sender.pauseProducing).toBe('function');
  });

  it('test_producerRegistered', () => {
    const source = new BytesIO(b('Test content'));
    const consumer = new StringTransport();
    const sender = new FileSender();
    void sender.beginFileTransfer(source, consumer);
    expect(consumer.producer).toBe(sender);
    expect(consumer.streaming).toBe(false);
  });

  it('test_transfer', async () => {
    const source = new BytesIO(b('Test content'));
    const consumer = new StringTransport();
    const sender = new FileSender();
    const d = sender.beginFileTransfer(source, consumer);
    sender.resumeProducing();
    // resumeProducing only finishes after trying to read at eof
    sender.resumeProducing();
    expect(consumer.producer).toBeNull();
    expect(await d).toEqual(b('t'));
    expect(consumer.value()).toEqual(b('Test content'));
  });

  it('test_transferMultipleChunks', async () => {
    const source = new BytesIO(b('Test content'));
    const consumer = new StringTransport();
    const sender = new FileSender();
    sender.CHUNK_SIZE = 4;
    const d = sender.beginFileTransfer(source, consumer);
    sender.resumeProducing();
    expect(consumer.value()).toEqual(b('Test'));
    sender.resumeProducing();
    expect(consumer.value()).toEqual(b('Test con'));
    sender.resumeProducing();
    expect(consumer.value()).toEqual(b('Test content'));
    // resumeProducing only finishes after trying to read at eof
    sender.resumeProducing();
    expect(await d).toEqual(b('t'));
    expect(consumer.value()).toEqual(b('Test content'));
  });

  it('test_transferWithTransform', async () => {
    const swapcase = (chunk: Buffer): Buffer =>
      Buffer.from(chunk.toString('latin1').replace(/[a-zA-Z]/g, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())), 'latin1');
    const source = new BytesIO(b('Test content'));
    const consumer = new StringTransport();
    const sender = new FileSender();
    const d = sender.beginFileTransfer(source, consumer, swapcase);
    sender.resumeProducing();
    // resumeProducing only finishes after trying to read at eof
    sender.resumeProducing();
    expect(await d).toEqual(b('T'));
    expect(consumer.value()).toEqual(b('tEST CONTENT'));
  });

  it('test_abortedTransfer', async () => {
    const source = new BytesIO(b('Test content'));
    const consumer = new StringTransport();
    const sender = new FileSender();
    const d = sender.beginFileTransfer(source, consumer);
    // Abort the transfer right away
    sender.stopProducing();
    const failure = await d.then(
      () => null,
      (err: unknown) => err as Error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure!.message).toBe('Consumer asked us to stop producing');
  });

  it('beginFileTransfer() names itself and the bad argument', () => {
    const sender = new FileSender();
    expect(() => sender.beginFileTransfer(null as never, new StringTransport())).toThrow(
      /^beginFileTransfer\(\): file must have a read\(size\) method, not null$/,
    );
    expect(() => sender.beginFileTransfer(new BytesIO(b('x')), {} as never)).toThrow(/^beginFileTransfer\(\): consumer must be an IConsumer/);
    expect(() => sender.beginFileTransfer(new BytesIO(b('x')), new StringTransport(), 'up' as never)).toThrow(
      /^beginFileTransfer\(\): transform must be a function, not 'up'$/,
    );
  });
});
