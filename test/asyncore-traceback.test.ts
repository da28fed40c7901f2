// compact_traceback() and the default handle_error() hold what CPython's
// hold: the frames from the function that caught the error (read(),
// write(), readwrite()) down to the raise, as [file|function|line].
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as asyncore from '../src/asyncore';
import type { SocketMap } from '../src/asyncore';
import { socket, socketpair } from '../src/socket';
import { BACKENDS } from './asyncore-support';
import { expectNoFdLeaks } from './support';

expectNoFdLeaks();

const here = __filename;
let map: SocketMap = new Map();
const sockets: socket[] = [];

afterEach(() => {
  asyncore.close_all(map, true);
  for (const s of sockets.splice(0)) s.close();
  map = new Map();
});

/** [file basename, function] of each "[file|fn|line]" in info. */
function framesOf(info: string): Array<[string, string]> {
  return [...info.matchAll(/\[([^|\]]*)\|([^|\]]*)\|(\d+)\]/g)].map((m) => [path.basename(m[1]!), m[2]!]);
}

class Failing extends asyncore.dispatcher {
  logged: string[] = [];
  override handle_read(): void {
    this.boom();
  }
  boom(): void {
    throw new Error('boom');
  }
  override log_info(message: string): void {
    this.logged.push(message);
  }
}

describe('compact_traceback', () => {
  it('holds the one frame that raised and caught, as CPython test_compact_traceback', () => {
    let r: asyncore.CompactTraceback | undefined;
    function test_compact_traceback(): void {
      try {
        throw new Error("I don't like spam!");
      } catch (err) {
        r = asyncore.compact_traceback(err);
      }
    }
    test_compact_traceback();
    const [[f, fn, line], t, v, info] = r!;
    expect(f).toBe(here);
    expect(fn).toBe('test_compact_traceback');
    expect([t, v]).toEqual(['Error', "I don't like spam!"]);
    expect(info).toBe(`[${f}|${fn}|${line}]`);
  });

  it('runs from the catching function down to the raise, with bare method names', () => {
    let r: asyncore.CompactTraceback | undefined;
    class Catcher {
      catching(): void {
        try {
          this.inner();
        } catch (err) {
          r = asyncore.compact_traceback(err);
        }
      }
      inner(): void {
        JSON.parse('{');
      }
    }
    new Catcher().catching();
    const [[, fn], t, , info] = r!;
    expect(t).toBe('SyntaxError');
    // JSON.parse is V8's own frame ("<anonymous>"): left out, as Python's leaves out C functions.
    expect(fn).toBe('inner');
    expect(framesOf(info)).toEqual([
      ['asyncore-traceback.test.ts', 'catching'],
      ['asyncore-traceback.test.ts', 'inner'],
    ]);
  });

  it('keeps every frame of an error raised outside the caller', () => {
    function make(): Error {
      return new Error('made elsewhere');
    }
    const err = make();
    const [[, fn], , , info] = asyncore.compact_traceback(err);
    expect(fn).toBe('make');
    expect(framesOf(info).length).toBeGreaterThan(1);
  });
});

describe('handle_error', () => {
  for (const backend of BACKENDS) {
    it(`logs the frames from the pass's catch down to the raise (${backend})`, async () => {
      const [a, b] = socketpair();
      sockets.push(b);
      const d = new Failing(a, map);
      b.send(Buffer.from('x'));
      await asyncore.loop({ timeout: 1, backend, map, count: 1 });
      const message = d.logged.find((text) => text.startsWith('uncaptured python exception')) ?? '';
      const info = message.slice(message.indexOf('(Error:boom ') + '(Error:boom '.length, -1);
      const frames = framesOf(info);
      // CPython: [asyncore.py|read|88] [asyncore.py|handle_read_event|425] [t.py|handle_read|5] [t.py|boom|7]
      expect(frames.slice(1)).toEqual([
        ['asyncore.ts', 'handle_read_event'],
        ['asyncore-traceback.test.ts', 'handle_read'],
        ['asyncore-traceback.test.ts', 'boom'],
      ]);
      expect(frames[0]![0]).toBe('handlers.ts');
      expect(['read', 'readwrite', 'readwriteInPass']).toContain(frames[0]![1]);
      expect(frames).toHaveLength(4);
      expect(info).not.toMatch(/node:|\|loop\||\|pass/);
    });
  }

  it('from an ES module run by node: no node: frames, paths not file:// URLs', () => {
    const fixture = path.join(path.dirname(here), 'fixtures', 'traceback-handler.mjs');
    for (const backend of ['select', 'poll']) {
      const out = execFileSync(process.execPath, [fixture, backend], { encoding: 'utf8', timeout: 10_000 });
      const info = /\(Error:boom (.*)\)\n/.exec(out)?.[1] ?? out;
      expect(info).not.toMatch(/node:|file:\/\//);
      expect(framesOf(info).map(([file, fn]) => `${file}|${fn}`)).toEqual([
        expect.stringMatching(/^handlers\.js\|(read|readwriteInPass)$/),
        'asyncore.js|handle_read_event',
        'traceback-handler.mjs|handle_read',
        'traceback-handler.mjs|boom',
      ]);
    }
  });
});
