// Delays past Node's timer limit (2^31-1 ms, about 24.8 days): Node runs a
// longer setTimeout() after 1 ms with a TimeoutOverflowWarning, so a long
// callLater() spun and a long socketserver timeout fired at once. Every
// finite delay is honoured (timers chained up to it), an infinite one arms
// no timer, and what CPython refuses is refused.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as asyncore from '../src/asyncore';
import { select } from '../src/select';
import { binding } from '../src/binding';
import { socket, socketpair, AF_INET, SOCK_STREAM, setdefaulttimeout } from '../src/socket';
import { StreamRequestHandler, TCPServer } from '../src/socketserver';
import { LongTimeout, MAX_TIMER_MS } from '../src/timer';
import { HOST, receiveLine } from './socketserver-support';
import { expectNoFdLeaks, TIMEOUT_MULTIPLIER } from './support';

const DAY_MS = 24 * 3600 * 1000;
const root = path.resolve(__dirname, '..');

/** Node's warnings emitted while a test runs, by name. */
function watchWarnings(): { names: string[]; stop(): void } {
  const names: string[] = [];
  const onWarning = (warning: Error): void => {
    names.push(warning.name);
  };
  process.on('warning', onWarning);
  return { names, stop: () => process.off('warning', onWarning) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('LongTimeout', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs a 30-day delay at its deadline, not a millisecond before, with one Node timer at a time', () => {
    const fired = vi.fn();
    const timer = new LongTimeout(fired, 30 * DAY_MS);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fired).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(30 * DAY_MS - MAX_TIMER_MS - 1);
    expect(fired).not.toHaveBeenCalled();
    expect(timer.pending).toBe(true);
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
    expect(timer.pending).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('arms no timer for Infinity, and clear() stops a chained one', () => {
    const fired = vi.fn();
    const forever = new LongTimeout(fired, Infinity);
    expect(forever.pending).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    const long = new LongTimeout(fired, 100 * DAY_MS);
    vi.advanceTimersByTime(MAX_TIMER_MS + 1);
    long.clear();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(100 * DAY_MS);
    expect(fired).not.toHaveBeenCalled();
  });
});

/** Runs `body` in a child with the twisted module as `tw`; its stdout, parsed as JSON. */
function runTwistedChild(body: string): Promise<unknown> {
  const entry = path.join(root, 'src', 'twisted.ts');
  const script = `const tw = require(${JSON.stringify(entry)});\nconst { reactor } = tw;\n${body}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000 * TIMEOUT_MULTIPLIER);
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      clearTimeout(killer);
      if (code !== 0) reject(new Error(`child exited ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

describe('twisted: callLater() past the timer limit', () => {
  it('callLater(30 days) and callLater(Infinity) neither fire nor spin, with no TimeoutOverflowWarning', async () => {
    // Every Node timer armed while the reactor runs for 300 ms is counted.
    const result = await runTwistedChild(`
      const warnings = [];
      process.on('warning', (w) => warnings.push(w.name));
      let timers = 0;
      const realSetTimeout = globalThis.setTimeout;
      globalThis.setTimeout = (...args) => { timers += 1; return realSetTimeout(...args); };
      const fired = [];
      const month = reactor.callLater(30 * 24 * 3600, () => fired.push('30 days'));
      reactor.callLater(Infinity, () => fired.push('Infinity'));
      realSetTimeout(() => reactor.stop(), 300);
      reactor.run().then(() => {
        globalThis.setTimeout = realSetTimeout;
        const left = month.getTime() - reactor.seconds();
        console.log(JSON.stringify({ fired, timers, warnings, active: month.active(), leftOver29Days: left > 29 * 24 * 3600 }));
      });
    `);
    // One timer, for the 30-day call (or a second if it ended early); it
    // spun through hundreds.
    expect(result).toMatchObject({ fired: [], warnings: [], active: true, leftOver29Days: true });
    expect((result as { timers: number }).timers).toBeLessThanOrEqual(2);
  });
});

describe('socketserver: timeouts past the timer limit', () => {
  expectNoFdLeaks();
  let warnings: ReturnType<typeof watchWarnings>;
  beforeEach(() => {
    warnings = watchWarnings();
  });
  afterEach(() => {
    warnings.stop();
  });

  it('a 30-day StreamRequestHandler.timeout does not fire while the client is silent', async () => {
    const outcome: string[] = [];
    class Handler extends StreamRequestHandler {
      override setup(): void {
        this.timeout = 30 * 24 * 3600;
        super.setup();
      }
      override async handle(): Promise<void> {
        try {
          const line = await this.rfile.readline();
          outcome.push(`line ${line.toString().trim()}`);
          await this.wfile.write(line);
        } catch (err) {
          outcome.push(`error ${(err as Error).name}`);
        }
      }
    }
    const server = new TCPServer([HOST, 0], Handler);
    const client = new socket(AF_INET, SOCK_STREAM);
    try {
      client.connect(server.server_address);
      const handled = server.handle_request();
      await sleep(200);
      expect(outcome).toEqual([]);
      client.sendall(Buffer.from('late\n'));
      expect((await receiveLine(client)).toString()).toBe('late\n');
      await handled;
      expect(outcome).toEqual(['line late']);
      expect(warnings.names).toEqual([]);
    } finally {
      client.close();
      await server.server_close();
    }
  });

  // CPython's servers wait in a PollSelector (whole milliseconds in a C
  // int), so these are its OverflowError, not a wait: refused, never a spin.
  it('serve_forever(2**31) is refused as CPython refuses it, and the longest wait CPython takes is waited without a turn', async () => {
    let turns = 0;
    class Server extends TCPServer {
      override service_actions(): void {
        turns += 1;
      }
    }
    const server = new Server([HOST, 0], StreamRequestHandler);
    try {
      await expect(server.serve_forever(2 ** 31)).rejects.toThrow(new RangeError('serve_forever(): timeout is too large, got 2147483648 s'));
      await expect(server.serve_forever(Infinity)).rejects.toThrow(/^serve_forever\(\): cannot convert float infinity to integer$/);
      const serving = server.serve_forever(2147483.647);
      await sleep(200);
      expect(turns).toBe(0);
      await server.shutdown();
      await serving;
      expect(warnings.names).toEqual([]);
    } finally {
      await server.server_close();
    }
  });

  it('handle_request() with timeout = Infinity or past a C int of milliseconds is refused as CPython refuses it; null waits without a timer', async () => {
    let timeouts = 0;
    class Server extends TCPServer {
      override handle_timeout(): void {
        timeouts += 1;
      }
    }
    const server = new Server([HOST, 0], StreamRequestHandler);
    server.timeout = Infinity;
    await expect(server.handle_request()).rejects.toThrow(/^handle_request\(\): cannot convert float infinity to integer$/);
    server.timeout = 2 ** 31;
    await expect(server.handle_request()).rejects.toThrow(/^handle_request\(\): timeout is too large/);
    server.timeout = null;
    const client = new socket(AF_INET, SOCK_STREAM);
    const armed = vi.spyOn(globalThis, 'setTimeout');
    try {
      const handled = server.handle_request();
      await sleep(200);
      const timersWhileWaiting = armed.mock.calls.length;
      client.connect(server.server_address);
      await handled;
      // The sleep above is the one timer.
      expect(timersWhileWaiting).toBe(1);
      expect(timeouts).toBe(0);
      expect(warnings.names).toEqual([]);
    } finally {
      armed.mockRestore();
      client.close();
      await server.server_close();
    }
  });

  it('select() refuses what CPython\'s clock cannot hold (OverflowError), and takes 2**31 s', async () => {
    const [a, b] = socketpair();
    try {
      // b is writable at once: a timeout that is taken is not waited out.
      for (const bad of [2 ** 63, 1e300, Infinity]) {
        await expect(select([], [b], [], bad)).rejects.toThrow(/^select\(\): timeout is too large/);
      }
      const [, w] = await select([], [b], [], 2 ** 31);
      expect(w).toEqual([b]);
    } finally {
      a.close();
      b.close();
    }
  });

  it('settimeout() and setdefaulttimeout() refuse what CPython refuses, and keep 2**31 s', () => {
    const s = new socket(AF_INET, SOCK_STREAM);
    try {
      for (const bad of [1e300, 2 ** 63, Infinity]) {
        expect(() => s.settimeout(bad)).toThrow(RangeError);
        expect(() => setdefaulttimeout(bad)).toThrow(RangeError);
      }
      s.settimeout(2 ** 31);
      expect(s.gettimeout()).toBe(2 ** 31);
    } finally {
      s.close();
    }
  });

  it('a socket timeout longer than poll() takes reaches the addon whole, which waits it out in pieces', () => {
    const [a, b] = socketpair();
    const recv = vi.spyOn(binding, 'recv');
    try {
      b.settimeout(3e6);
      a.send(Buffer.from('x'));
      expect(b.recv(1)).toEqual(Buffer.from('x'));
      expect(recv.mock.calls.map((call) => call[3])).toEqual([3e9]);
    } finally {
      recv.mockRestore();
      a.close();
      b.close();
    }
  });

  it('asyncore.loop() and poll() refuse what CPython\'s select() refuses', async () => {
    const map: asyncore.SocketMap = new Map();
    for (const bad of [2 ** 63, 1e300, Infinity]) {
      await expect(asyncore.poll(bad, map)).rejects.toThrow(/^poll\(\): timeout is too large/);
      await expect(asyncore.loop(bad, false, map, 1)).rejects.toThrow(RangeError);
    }
  });
});
