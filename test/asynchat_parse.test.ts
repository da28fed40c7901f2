// async_chat's input splitting and output queue, driven without sockets:
// recv() and send() are replaced by fakes, as bench/asynchat_parse.mjs does.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { async_chat, find_prefix_at_end, simple_producer, type Producer } from '../src/asynchat';
import { BlockingIOError, ConnectionResetError, OSError } from '../src/errors';
import { expectNoFdLeaks } from './support';

expectNoFdLeaks();

const EAGAIN = 11;
const ECONNRESET = 104;

type Terminator = Uint8Array | number | null;
/** One call as the subclass saw it: collected bytes, or null for found_terminator(). */
type Event = Buffer | null;

/**
 * A channel whose recv() hands out the given reads, one per handle_read(),
 * and records every collect_incoming_data()/found_terminator() call. After
 * the n-th terminator it switches to terminators[n % length].
 */
class Recorder extends async_chat {
  events: Event[] = [];
  reads: Buffer[] = [];
  terminators: Terminator[];
  found = 0;
  onFound: (() => void) | null = null;

  constructor(terminators: Terminator[]) {
    super();
    this.terminators = terminators;
    this.set_terminator(terminators[0]);
  }

  override recv(buffer_size: number): Buffer {
    void buffer_size;
    return this.reads.shift() ?? Buffer.alloc(0);
  }

  override collect_incoming_data(data: Buffer): void {
    this.events.push(Buffer.from(data));
  }

  override found_terminator(): void {
    this.events.push(null);
    this.found++;
    this.onFound?.();
    this.set_terminator(this.terminators[this.found % this.terminators.length]);
  }

  feed(...reads: Array<string | Uint8Array>): this {
    for (const read of reads) {
      this.reads.push(Buffer.from(read));
      this.handle_read();
    }
    return this;
  }

  /** The messages ended by a terminator, and the data collected since. */
  messages(): { messages: string[]; pending: string } {
    const messages: string[] = [];
    let current: Buffer[] = [];
    for (const event of this.events) {
      if (event === null) {
        messages.push(Buffer.concat(current).toString('latin1'));
        current = [];
      } else {
        current.push(event);
      }
    }
    return { messages, pending: Buffer.concat(current).toString('latin1') };
  }
}

const text = (events: Event[]): Array<string | null> =>
  events.map((event) => (event === null ? null : event.toString('latin1')));

describe('find_prefix_at_end', () => {
  it('counts the bytes of a prefix of the needle at the end of the haystack', () => {
    expect(find_prefix_at_end(Buffer.from('qwerty\r'), Buffer.from('\r\n'))).toBe(1);
    expect(find_prefix_at_end(Buffer.from('qwertydkjf'), Buffer.from('\r\n'))).toBe(0);
    expect(find_prefix_at_end(Buffer.from('abcab'), Buffer.from('abcabd'))).toBe(5);
    expect(find_prefix_at_end(Buffer.from('xab'), Buffer.from('abc'))).toBe(2);
    expect(find_prefix_at_end(Buffer.from('ab'), Buffer.from('abcdef'))).toBe(2);
    expect(find_prefix_at_end(Buffer.alloc(0), Buffer.from('\r\n'))).toBe(0);
  });

  it('returns -1 for an empty needle, as CPython does', () => {
    expect(find_prefix_at_end(Buffer.from('abc'), Buffer.alloc(0))).toBe(-1);
  });

  it('rejects what is neither bytes nor a string', () => {
    expect(() => find_prefix_at_end(1 as never, Buffer.from('a'))).toThrow(TypeError);
    expect(() => find_prefix_at_end(Buffer.from('a'), null as never)).toThrow(TypeError);
  });
});

describe('set_terminator / get_terminator', () => {
  it('keeps bytes, integers and null as given', () => {
    const chat = new Recorder([null]);
    const term = Buffer.from('\r\n');
    chat.set_terminator(term);
    expect(chat.get_terminator()).toBe(term);
    chat.set_terminator(5);
    expect(chat.get_terminator()).toBe(5);
    chat.set_terminator(0);
    expect(chat.get_terminator()).toBe(0);
    chat.set_terminator(null);
    expect(chat.get_terminator()).toBeNull();
  });

  it('encodes a string as UTF-8, or with encoding when use_encoding is set', () => {
    const chat = new Recorder([null]);
    chat.set_terminator('é\n');
    expect(chat.get_terminator()).toEqual(Buffer.from([0xc3, 0xa9, 0x0a]));
    chat.use_encoding = true;
    chat.set_terminator('é\n');
    expect(chat.get_terminator()).toEqual(Buffer.from([0xe9, 0x0a]));
    chat.encoding = 'no-such-encoding';
    expect(() => chat.set_terminator('x')).toThrow(RangeError);
  });

  it('rejects a negative count with a RangeError that names it', () => {
    const chat = new Recorder([null]);
    expect(() => chat.set_terminator(-1)).toThrow(RangeError);
    expect(() => chat.set_terminator(-1)).toThrow(/-1/);
  });

  it('rejects other types with a TypeError', () => {
    const chat = new Recorder([null]);
    for (const bad of [1.5, Number.NaN, Infinity, true, {}, [10], undefined]) {
      expect(() => chat.set_terminator(bad as never)).toThrow(TypeError);
    }
  });
});

describe('handle_read', () => {
  it('splits several messages that arrive in one read', () => {
    const chat = new Recorder([Buffer.from('\n')]).feed('one\ntwo\n\nthree\nfour');
    expect(text(chat.events)).toEqual(['one', null, 'two', null, null, 'three', null, 'four']);
  });

  it('holds back a terminator split across two reads', () => {
    const chat = new Recorder([Buffer.from('\r\n')]).feed('hello\r');
    // CPython hands on the data before the possible terminator and keeps "\r".
    expect(text(chat.events)).toEqual(['hello']);
    expect(chat.ac_in_buffer.toString()).toBe('\r');
    chat.feed('\nworld\r\n');
    expect(text(chat.events)).toEqual(['hello', null, 'world', null]);
    expect(chat.ac_in_buffer.length).toBe(0);
  });

  it('finds a three-byte terminator split over three reads', () => {
    const chat = new Recorder([Buffer.from('qqq')]).feed('abq', 'q', 'qcd', 'qq');
    expect(text(chat.events)).toEqual(['ab', null, 'cd']);
    expect(chat.ac_in_buffer.toString()).toBe('qq');
  });

  it('hands on a held-back prefix that turns out not to be a terminator', () => {
    const chat = new Recorder([Buffer.from('\r\n')]).feed('a\r', 'b\n');
    expect(text(chat.events)).toEqual(['a', '\rb\n']);
  });

  it('counts an integer terminator down across reads', () => {
    const chat = new Recorder([10, null]).feed('abc', 'defg');
    expect(text(chat.events)).toEqual(['abc', 'defg']);
    expect(chat.get_terminator()).toBe(3);
    chat.feed('hijkl');
    expect(text(chat.events)).toEqual(['abc', 'defg', 'hij', null, 'kl']);
    expect(chat.get_terminator()).toBeNull();
  });

  it('sets the terminator to 0 before calling found_terminator', () => {
    const chat = new Recorder([4]);
    const seen: Array<Terminator> = [];
    chat.onFound = () => seen.push(chat.get_terminator());
    chat.feed('abcdefgh');
    expect(seen).toEqual([0, 0]);
  });

  it('collects everything when the terminator is null, 0 or empty', () => {
    for (const terminator of [null, 0, Buffer.alloc(0)]) {
      const chat = new Recorder([terminator]).feed('a\nb', 'c\n');
      expect(text(chat.events)).toEqual(['a\nb', 'c\n']);
    }
  });

  it('applies a terminator changed in found_terminator to the rest of the buffer', () => {
    // A length-prefixed body: the header line sets a byte count, the body
    // sets the line terminator back. All of it arrives in one read.
    const chat = new Recorder([Buffer.from('\n')]);
    chat.found_terminator = function (this: Recorder) {
      const message = this.messages().pending;
      this.events.push(null);
      const match = /^len (\d+)$/.exec(message);
      this.set_terminator(match ? Number(match[1]) : Buffer.from('\n'));
    };
    chat.feed('len 5\nhello\nlen 3\nab\nrest\n');
    expect(chat.messages().messages).toEqual(['len 5', 'hello', '', 'len 3', 'ab\n', 'rest']);
  });

  it('shows the rest of the input in ac_in_buffer inside found_terminator', () => {
    const chat = new Recorder([Buffer.from('\n')]);
    const rest: string[] = [];
    chat.onFound = () => rest.push(chat.ac_in_buffer.toString());
    chat.feed('a\nb\nc');
    expect(rest).toEqual(['b\nc', 'c']);
  });

  it('continues with an ac_in_buffer replaced inside found_terminator', () => {
    const chat = new Recorder([Buffer.from('\n')]);
    chat.onFound = () => {
      if (chat.found === 1) chat.ac_in_buffer = Buffer.from('x\ny');
    };
    chat.feed('a\nb\nc');
    expect(text(chat.events)).toEqual(['a', null, 'x', null, 'y']);
  });

  it('leaves nothing when discard_buffers is called from found_terminator', () => {
    const chat = new Recorder([Buffer.from('\n')]);
    chat.onFound = () => chat.discard_buffers();
    chat.feed('a\nb\nc');
    expect(text(chat.events)).toEqual(['a', null]);
    expect(chat.ac_in_buffer.length).toBe(0);
  });

  it('passes views of the read that later reads do not change', () => {
    const views: Buffer[] = [];
    const chat = new Recorder([Buffer.from('\r\n')]);
    chat.collect_incoming_data = (data) => void views.push(data);
    chat.feed('ab\r', 'c\r\nd\r', '\nef\r\n');
    expect(views.map(String)).toEqual(['ab', '\rc', 'd', 'ef']);
  });

  it('ignores BlockingIOError from recv (bpo-16133)', () => {
    const chat = new Recorder([Buffer.from('\n')]);
    chat.recv = () => {
      throw new BlockingIOError(EAGAIN);
    };
    const handle_error = vi.spyOn(chat, 'handle_error').mockImplementation(() => {});
    chat.handle_read();
    expect(handle_error).not.toHaveBeenCalled();
  });

  it('passes any other OSError from recv to handle_error', () => {
    const chat = new Recorder([Buffer.from('\n')]);
    const error = new ConnectionResetError(ECONNRESET);
    chat.recv = () => {
      throw error;
    };
    const handle_error = vi.spyOn(chat, 'handle_error').mockImplementation(() => {});
    chat.handle_read();
    expect(handle_error).toHaveBeenCalledWith(error);
  });

  it('lets an error that is not an OSError propagate', () => {
    const chat = new Recorder([Buffer.from('\n')]);
    chat.recv = () => {
      throw new TypeError('boom');
    };
    expect(() => chat.handle_read()).toThrow(TypeError);
  });

  it('splits a 1 MiB read of 10-byte lines', () => {
    const line = Buffer.from('123456789\n');
    const lines = 104_858;
    const input = Buffer.alloc(line.length * lines);
    for (let i = 0; i < lines; i++) line.copy(input, i * line.length);
    let count = 0;
    const chat = new Recorder([line.subarray(9)]);
    chat.collect_incoming_data = (data) => {
      if (data.length !== 9) throw new Error(`bad line length ${data.length}`);
    };
    chat.found_terminator = () => void count++;
    chat.ac_in_buffer_size = input.length;
    chat.feed(input);
    expect(count).toBe(lines);
  });
});

describe('property: any split of the stream gives the messages of the whole', () => {
  // A small alphabet so that terminators, and prefixes of them, occur often.
  const byte = fc.constantFrom(0x61, 0x62, 0x0a, 0x0d);
  const bytes = (min: number, max: number) =>
    fc.array(byte, { minLength: min, maxLength: max }).map((values) => Buffer.from(values));
  const terminator: fc.Arbitrary<Terminator> = fc.oneof(
    { weight: 3, arbitrary: bytes(1, 4) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 12 }) },
  );
  const scenario = fc
    .record({
      payload: bytes(0, 300),
      terminators: fc.array(terminator, { minLength: 1, maxLength: 4 }),
      cuts: fc.array(fc.nat(), { maxLength: 40 }),
    })
    .map(({ payload, terminators, cuts }) => {
      const points = [...new Set(cuts.map((cut) => cut % (payload.length + 1)))].sort((a, b) => a - b);
      const reads: Buffer[] = [];
      let start = 0;
      for (const point of [...points, payload.length]) {
        if (point > start) reads.push(payload.subarray(start, point));
        start = Math.max(start, point);
      }
      return { payload, terminators, reads };
    });

  /** The reference: split the whole stream at once, switching terminators as Recorder does. */
  function referenceSplit(payload: Buffer, terminators: Terminator[]): { messages: string[]; rest: string } {
    const messages: string[] = [];
    let position = 0;
    for (let found = 0; ; found++) {
      const term = terminators[found % terminators.length];
      let end: number;
      let next: number;
      if (typeof term === 'number') {
        if (payload.length - position < term) break;
        end = position + term;
        next = end;
      } else {
        const at = payload.indexOf(term as Buffer, position);
        if (at === -1) break;
        end = at;
        next = at + (term as Buffer).length;
      }
      messages.push(payload.toString('latin1', position, end));
      position = next;
    }
    return { messages, rest: payload.toString('latin1', position) };
  }

  it('matches the reference split', () => {
    fc.assert(
      fc.property(scenario, ({ payload, terminators, reads }) => {
        const chat = new Recorder(terminators).feed(...reads);
        const got = chat.messages();
        const want = referenceSplit(payload, terminators);
        expect(got.messages).toEqual(want.messages);
        // What is not part of a message was collected or is held back.
        expect(got.pending + chat.ac_in_buffer.toString('latin1')).toBe(want.rest);
      }),
      { numRuns: 2000 },
    );
  });

  function python3Available(): boolean {
    try {
      execFileSync('python3', ['-W', 'ignore', '-c', 'import asynchat'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }

  // Stronger than the reference split: the same calls, with the same
  // arguments, as CPython's asynchat makes for the same reads.
  it.skipIf(!python3Available())('makes the same calls as CPython 3.11 asynchat', () => {
    const cases = fc.sample(scenario, { numRuns: 400, seed: 20251121 });
    const program = `
import asynchat, json, sys
class Recorder(asynchat.async_chat):
    def __init__(self, reads, terminators):
        asynchat.async_chat.__init__(self)
        self.reads, self.terminators, self.found, self.events = reads, terminators, 0, []
        self.set_terminator(terminators[0])
    def recv(self, buffer_size):
        return self.reads.pop(0)
    def collect_incoming_data(self, data):
        self.events.append(data.hex())
    def found_terminator(self):
        self.events.append(None)
        self.found += 1
        self.set_terminator(self.terminators[self.found % len(self.terminators)])
results = []
for case in json.load(sys.stdin):
    terminators = [t if isinstance(t, int) else bytes.fromhex(t) for t in case['terminators']]
    chat = Recorder([bytes.fromhex(r) for r in case['reads']], terminators)
    for _ in case['reads']:
        chat.handle_read()
    results.append({'events': chat.events, 'rest': chat.ac_in_buffer.hex()})
json.dump(results, sys.stdout)
`;
    const input = JSON.stringify(
      cases.map(({ terminators, reads }) => ({
        terminators: terminators.map((t) => (typeof t === 'number' ? t : Buffer.from(t as Uint8Array).toString('hex'))),
        reads: reads.map((read) => read.toString('hex')),
      })),
    );
    const expected = JSON.parse(
      execFileSync('python3', ['-W', 'ignore', '-c', program], { input, maxBuffer: 64 << 20 }).toString(),
    ) as Array<{ events: Array<string | null>; rest: string }>;
    cases.forEach(({ terminators, reads }, i) => {
      const chat = new Recorder(terminators).feed(...reads);
      const events = chat.events.map((event) => (event === null ? null : event.toString('hex')));
      expect({ events, rest: chat.ac_in_buffer.toString('hex') }).toEqual(expected[i]);
    });
  });
});

/** A connected channel whose send() takes at most `sendLimit` bytes per call. */
class Sender extends async_chat {
  sent: Buffer[] = [];
  sendSizes: number[] = [];
  sendLimit = Infinity;
  closed = 0;

  constructor() {
    super();
    this.connected = true;
  }

  override send(data: Uint8Array): number {
    const count = Math.min(data.length, this.sendLimit);
    this.sendSizes.push(data.length);
    this.sent.push(Buffer.from(data.subarray(0, count)));
    return count;
  }

  override handle_close(): void {
    this.closed++;
    this.connected = false;
  }

  output(): string {
    return Buffer.concat(this.sent).toString('latin1');
  }
}

describe('push and initiate_send', () => {
  it('rejects anything but bytes with a TypeError (bpo-12523)', () => {
    const chat = new Sender();
    for (const bad of [10, 'unicode', null, undefined, [1, 2], new ArrayBuffer(2)]) {
      expect(() => chat.push(bad as never)).toThrow(TypeError);
    }
    expect(chat.producer_fifo).toEqual([]);
  });

  it('accepts Buffer and plain Uint8Array', () => {
    const chat = new Sender();
    chat.push(Buffer.from('ab'));
    chat.push(new Uint8Array([0x63, 0x64]));
    expect(chat.output()).toBe('abcd');
  });

  it('sends at most one chunk of ac_out_buffer_size per call', () => {
    const chat = new Sender();
    chat.ac_out_buffer_size = 4;
    chat.push(Buffer.from('0123456789'));
    // push() splits by ac_out_buffer_size, as CPython does, and sends once.
    expect(chat.sendSizes).toEqual([4]);
    expect(chat.producer_fifo.length).toBe(2);
    chat.handle_write();
    chat.handle_write();
    expect(chat.output()).toBe('0123456789');
    expect(chat.writable()).toBe(false);
  });

  it('keeps the unsent rest of a partial send, as a view', () => {
    const chat = new Sender();
    chat.sendLimit = 3;
    const data = Buffer.from('abcdefgh');
    chat.push(data);
    const head = chat.producer_fifo[0] as Buffer;
    expect(head.toString()).toBe('defgh');
    expect(head.buffer).toBe(data.buffer);
    while (chat.writable()) chat.handle_write();
    expect(chat.output()).toBe('abcdefgh');
  });

  it('does not send while not connected', () => {
    const chat = new Sender();
    chat.connected = false;
    chat.push(Buffer.from('x'));
    expect(chat.sent).toEqual([]);
    expect(chat.writable()).toBe(true);
  });

  it('does not remove anything after a send of 0 bytes', () => {
    const chat = new Sender();
    chat.sendLimit = 0;
    chat.push(Buffer.from('abc'));
    expect(chat.producer_fifo.length).toBe(1);
  });

  it('passes an OSError from send to handle_error and keeps the data', () => {
    const chat = new Sender();
    const error = new OSError(5);
    chat.send = () => {
      throw error;
    };
    const handle_error = vi.spyOn(chat, 'handle_error').mockImplementation(() => {});
    chat.push(Buffer.from('abc'));
    expect(handle_error).toHaveBeenCalledWith(error);
    expect(chat.producer_fifo.length).toBe(1);
  });

  it('skips empty buffers in the queue', () => {
    const chat = new Sender();
    chat.push(Buffer.alloc(0));
    chat.push(Buffer.from('a'));
    expect(chat.output()).toBe('a');
    expect(chat.producer_fifo).toEqual([]);
  });
});

describe('producers', () => {
  it('simple_producer hands out slices of buffer_size', () => {
    const producer = new simple_producer(Buffer.from('abcdefghij'), 4);
    const slices: string[] = [];
    for (let piece = producer.more(); piece.length > 0; piece = producer.more()) {
      slices.push(Buffer.from(piece).toString());
    }
    expect(slices).toEqual(['abcd', 'efgh', 'ij']);
    expect(new simple_producer(Buffer.alloc(600)).more().length).toBe(512);
  });

  it('simple_producer checks its arguments', () => {
    expect(() => new simple_producer('text' as never)).toThrow(TypeError);
    expect(() => new simple_producer(Buffer.from('a'), 0)).toThrow(RangeError);
    expect(() => new simple_producer(Buffer.from('a'), 1.5)).toThrow(TypeError);
  });

  it('sends what producers make, in order, one send per call', () => {
    const chat = new Sender();
    chat.connected = false; // queue everything first
    chat.push(Buffer.from('<'));
    chat.push_with_producer(new simple_producer(Buffer.from('hello world'), 4));
    chat.push_with_producer(Buffer.from('|bytes|'));
    let calls = 0;
    const strings: Producer = { more: () => (calls++ < 2 ? 'é' : '') };
    chat.push_with_producer(strings);
    chat.push(Buffer.from('>'));
    chat.connected = true;
    let writes = 0;
    while (chat.writable()) {
      chat.handle_write();
      writes++;
    }
    expect(chat.sent.map((piece) => piece.toString())).toEqual([
      '<', 'hell', 'o wo', 'rld', '|bytes|', 'é', 'é', '>',
    ]);
    expect(writes).toBe(chat.sent.length);
  });

  it('encodes strings from a producer with encoding when use_encoding is set', () => {
    const chat = new Sender();
    chat.use_encoding = true;
    let done = false;
    chat.push_with_producer({ more: () => (done ? '' : ((done = true), 'é')) });
    expect(chat.sent).toEqual([Buffer.from([0xe9])]);
  });

  it('rejects a producer without more()', () => {
    const chat = new Sender();
    for (const bad of [null, 'text', 5, {}]) {
      expect(() => chat.push_with_producer(bad as never)).toThrow(TypeError);
    }
  });

  it('rejects what more() returns when it is not bytes or a string', () => {
    const chat = new Sender();
    expect(() => chat.push_with_producer({ more: () => 42 as never })).toThrow(TypeError);
  });
});

describe('close_when_done and discard_buffers', () => {
  it('closes only after everything queued before it is sent', () => {
    const chat = new Sender();
    chat.sendLimit = 2;
    chat.push(Buffer.from('abcde'));
    chat.close_when_done();
    expect(chat.closed).toBe(0);
    while (chat.writable() && chat.connected) chat.handle_write();
    expect(chat.output()).toBe('abcde');
    expect(chat.closed).toBe(1);
    expect(chat.producer_fifo).toEqual([]);
  });

  it('closes on the next write when the queue is already empty', () => {
    const chat = new Sender();
    chat.close_when_done();
    expect(chat.writable()).toBe(true);
    chat.handle_write();
    expect(chat.closed).toBe(1);
  });

  it('discard_buffers empties input, incoming and output', () => {
    const chat = new Sender();
    chat.connected = false;
    chat.push(Buffer.from('x'));
    chat._collect_incoming_data(Buffer.from('y'));
    chat.ac_in_buffer = Buffer.from('z');
    chat.discard_buffers();
    expect(chat.producer_fifo).toEqual([]);
    expect(chat.incoming).toEqual([]);
    expect(chat.ac_in_buffer.length).toBe(0);
  });

  it('_get_data joins and clears incoming', () => {
    const chat = new Sender();
    chat._collect_incoming_data(Buffer.from('ab'));
    chat._collect_incoming_data(Buffer.from('cd'));
    expect(chat._get_data().toString()).toBe('abcd');
    expect(chat.incoming).toEqual([]);
    expect(chat._get_data().length).toBe(0);
  });

  it('has CPython defaults', () => {
    const chat = new Sender();
    expect(chat.ac_in_buffer_size).toBe(65536);
    expect(chat.ac_out_buffer_size).toBe(65536);
    expect(chat.use_encoding).toBe(false);
    expect(chat.encoding).toBe('latin1');
    expect(chat.readable()).toBe(true);
    // repr(): the module is asynchat, as in Python.
    expect(String(new async_chat())).toMatch(/^<asynchat\.async_chat at 0x[0-9a-f]+>$/);
    expect(() => new async_chat().found_terminator()).toThrow(/subclass/);
    expect(() => new async_chat().collect_incoming_data(Buffer.alloc(0))).toThrow(/subclass/);
  });
});
