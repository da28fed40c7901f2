// A failure left at the end of a Deferred's chain is logged ("Unhandled
// error in Deferred:") when the Deferred is collected, and at the latest
// when the process exits; tracking it never keeps the Deferred alive.
// Each case runs in a child process with --expose-gc, so that collection
// and exit are real.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const src = path.join(__dirname, '..', 'src', 'twisted');

/** Runs `body` in a child with the defer module as `defer`; returns its stderr and stdout. */
function child(body: string): { status: number | null; stderr: string; stdout: string } {
  const script = `
    const defer = require(${JSON.stringify(path.join(src, 'defer.ts'))});
    const log = require(${JSON.stringify(path.join(src, 'log.ts'))});
    const collect = (then) => setTimeout(() => { global.gc(); setTimeout(() => { global.gc(); setTimeout(then, 20); }, 20); }, 10);
    ${body}
  `;
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** The stderr logged before the child wrote "collected", i.e. at collection, not at exit. */
function beforeExit(stderr: string): string {
  const i = stderr.indexOf('collected\n');
  expect(i).toBeGreaterThanOrEqual(0);
  return stderr.slice(0, i);
}

describe('unhandled failures in Deferreds (issue 19.3)', () => {
  it('a callback that throws: logged once the Deferred is collected', () => {
    const r = child(`
      (function () {
        const d = new defer.Deferred();
        d.addCallback(() => { throw new Error('thrown by a callback'); });
        d.callback(1);
      })();
      collect(() => process.stderr.write('collected\\n'));
    `);
    expect(r.status).toBe(0);
    expect(beforeExit(r.stderr)).toMatch(/Unhandled error in Deferred:\n[^]*Error: thrown by a callback/);
  });

  it('errback(new Error()): logged once the Deferred is collected', () => {
    const r = child(`
      (function () { new defer.Deferred().errback(new Error('given to errback')); })();
      collect(() => process.stderr.write('collected\\n'));
    `);
    expect(r.status).toBe(0);
    expect(beforeExit(r.stderr)).toMatch(/Unhandled error in Deferred:\n[^]*Error: given to errback/);
  });

  it('a non-Error thrown value (a string, undefined, an object): logged once collected', () => {
    const r = child(`
      (function () {
        for (const value of ['a thrown string', undefined, { code: 42 }]) {
          const d = new defer.Deferred();
          d.addCallback(() => { throw value; });
          d.callback(1);
        }
      })();
      collect(() => process.stderr.write('collected\\n'));
    `);
    expect(r.status).toBe(0);
    const logged = beforeExit(r.stderr);
    expect(logged.match(/Unhandled error in Deferred:/g)).toHaveLength(3);
    expect(logged).toMatch(/Error: a thrown string/);
    expect(logged).toMatch(/Error: undefined/);
    expect(logged).toMatch(/Error: \{ code: 42 \}/);
  });

  it('a failure made by the library (cancel()): logged once collected', () => {
    const r = child(`
      (function () { new defer.Deferred().cancel(); })();
      collect(() => process.stderr.write('collected\\n'));
    `);
    expect(r.status).toBe(0);
    expect(beforeExit(r.stderr)).toMatch(/Unhandled error in Deferred:\n[^]*CancelledError/);
  });

  it('a Deferred still alive at exit: its failure is logged at exit', () => {
    const r = child(`
      globalThis.kept = [];
      for (const how of ['callback', 'errback', 'string']) {
        const d = new defer.Deferred();
        if (how === 'errback') d.errback(new Error('kept: errback'));
        else {
          d.addCallback(() => { throw how === 'string' ? 'kept: string' : new Error('kept: callback'); });
          d.callback(1);
        }
        globalThis.kept.push(d);
      }
      collect(() => process.stderr.write('collected\\n'));
    `);
    expect(r.status).toBe(0);
    expect(beforeExit(r.stderr)).not.toMatch(/Unhandled error/);
    const atExit = r.stderr.slice(r.stderr.indexOf('collected\n'));
    expect(atExit.match(/Unhandled error in Deferred:/g)).toHaveLength(3);
    expect(atExit).toMatch(/kept: callback/);
    expect(atExit).toMatch(/kept: errback/);
    expect(atExit).toMatch(/kept: string/);
  });

  it('a failure handled later, or passed on to a chained Deferred, is not logged for the first', () => {
    const r = child(`
      globalThis.kept = [];
      const d = defer.fail(new Error('handled later'));
      d.addErrback(() => null);
      globalThis.kept.push(d);
      collect(() => process.stderr.write('collected\\n'));
    `);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('collected\n');
  });

  it('debug mode: the report shows where the Deferred was made and fired', () => {
    const r = child(`
      defer.setDebugging(true);
      (function makeIt() {
        const d = new defer.Deferred();
        (function fireIt() { d.errback(new Error('debugged')); })();
      })();
      collect(() => process.stderr.write('collected\\n'));
    `);
    expect(r.status).toBe(0);
    const logged = beforeExit(r.stderr);
    expect(logged).toMatch(/Unhandled error in Deferred:\n\(debug: {2}C: Deferred was created:\n C:.*makeIt/);
    expect(logged).toMatch(/ I: First Invoker was:\n I:.*fireIt/);
  });

  // 10,000: each failure's stack is formatted through tsx's source maps here,
  // which costs; the soak part "deferreds" runs the same on the built package.
  it('10,000 Deferreds whose callback threw are collected: heap comes back, each is logged', { timeout: 60_000 }, () => {
    const r = child(`
      let logged = 0;
      log.addObserver((e) => { if (e.why === 'Unhandled error in Deferred:') logged += 1; });
      global.gc();
      const before = process.memoryUsage().heapUsed;
      (function () {
        for (let i = 0; i < 10000; i++) {
          const d = new defer.Deferred();
          d.addCallback(() => { throw new Error('lost ' + i); });
          d.callback(i);
        }
      })();
      const filled = process.memoryUsage().heapUsed;
      collect(() => collect(() => {
        const after = process.memoryUsage().heapUsed;
        console.log(JSON.stringify({ logged, filledMiB: (filled - before) / 2 ** 20, grownMiB: (after - before) / 2 ** 20 }));
      }));
    `);
    expect(r.status).toBe(0);
    const figures = JSON.parse(r.stdout.trim().split('\n').pop()!) as { logged: number; grownMiB: number };
    expect(figures.logged).toBe(10_000);
    // Held, they take about 12 MiB.
    expect(figures.grownMiB).toBeLessThan(2);
  });
});

// Twisted's LogTests (twisted/test/test_defer.py), in a child with a log
// observer. Twisted logs two events per unhandled failure ("Unhandled error
// in Deferred:" at critical level, then the failure); here it is one event
// with that text as its `why`.
describe('LogTests', () => {
  /** Runs `body` in a child; returns the error events the observer saw after a collection. */
  function loggedErrors(body: string): Array<{ why: string | null; type: string | null; text: string }> {
    const r = child(`
      const events = [];
      log.addObserver((e) => { if (e.isError) events.push({ why: e.why, type: e.failure && e.failure.value.constructor.name, text: log.formatEvent(e) }); });
      class ZeroDivisionError extends Error {}
      ${body}
      collect(() => console.log(JSON.stringify(events)));
    `);
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Array<{ why: string | null; type: string | null; text: string }>;
  }

  const check = (events: Array<{ why: string | null; type: string | null }>): void => {
    expect(events).toHaveLength(1);
    expect(events[0]!.why).toMatch(/^Unhandled error in Deferred:/);
    expect(events[0]!.type).toBe('ZeroDivisionError');
  };

  it('test_errorLog', () => {
    check(loggedErrors(`new defer.Deferred().addCallback(() => { throw new ZeroDivisionError(); }).callback(1);`));
  });

  it('test_errorLogWithInnerFrameRef', () => {
    check(
      loggedErrors(`
        (function _subErrorLogWithInnerFrameRef() {
          const d = new defer.Deferred();
          d.addCallback(() => { throw new ZeroDivisionError(); });
          d.callback(1);
        })();
      `),
    );
  });

  it('test_errorLogWithInnerFrameCycle', () => {
    check(
      loggedErrors(`
        (function _subErrorLogWithInnerFrameCycle() {
          const d = new defer.Deferred();
          d.addCallback(() => { d; throw new ZeroDivisionError(); });
          d._d = d;
          d.callback(1);
        })();
      `),
    );
  });

  it('test_errorLogNoRepr', () => {
    const events = loggedErrors(`new defer.Deferred().addCallback(() => { throw new ZeroDivisionError(); }).callback(1);`);
    check(events);
    expect(events[0]!.text.startsWith('Unhandled error in Deferred:\nError\n    at ')).toBe(true);
    expect(events[0]!.text).not.toMatch(/Failure instance/);
  });

  it('test_errorLogDebugInfo', () => {
    const events = loggedErrors(`
      (function doit() {
        const d = new defer.Deferred();
        d.debug = true;
        d.addCallback(() => { throw new ZeroDivisionError(); });
        d.callback(1);
      })();
    `);
    check(events);
    expect(events[0]!.text.startsWith('Unhandled error in Deferred:\n(debug:  I')).toBe(true);
  });

  it('test_chainedErrorCleanup', () => {
    const events = loggedErrors(`
      (function () {
        const d = new defer.Deferred();
        d.addCallback(() => defer.fail(new RangeError('zoop')));
        d.callback(null);
        const results = [];
        const errors = [];
        d.addCallbacks((r) => results.push(r), (f) => { errors.push(f); });
        if (results.length !== 0 || errors.length !== 1) throw new Error('the outer Deferred did not get the failure');
      })();
    `);
    expect(events).toEqual([]);
  });

  it('test_errorClearedByChaining', () => {
    const events = loggedErrors(`
      (function () {
        const bad = defer.fail(new Error('oh no'));
        const good = new defer.Deferred();
        bad.addErrback(() => good);
      })();
    `);
    expect(events).toEqual([]);
  });
});
