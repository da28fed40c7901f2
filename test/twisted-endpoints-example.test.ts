// examples/twisted_endpoints_timeout.ts (a server from serverFromString()
// with TimeoutMixin, a client through clientFromString() and
// connectProtocol() written with inlineCallbacks) run as a program: against Node's own sockets, then
// side by side with its twin written for Twisted
// (test/fixtures/twisted_endpoints_timeout.py, /usr/bin/python3 with
// Debian's python3-twisted). Each server is driven by each client, the
// other language's included; every pairing must print the same transcript.
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from './support';

const root = path.resolve(__dirname, '..');
const PYTHON = '/usr/bin/python3';
const programs = {
  twisted: [PYTHON, '-u', path.join('test', 'fixtures', 'twisted_endpoints_timeout.py')],
  ported: [process.execPath, '--import', 'tsx', path.join('examples', 'twisted_endpoints_timeout.ts')],
} as const;
type Side = keyof typeof programs;

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }
});

interface Running {
  child: ChildProcess;
  lines: () => string[];
  stderr: () => string;
  exited: Promise<number | null>;
}

function run(side: Side, args: string[]): Running {
  const [command, ...base] = programs[side];
  const child = spawn(command, [...base, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, lines: () => out.split('\n').filter((l) => l !== ''), stderr: () => err, exited };
}

/** Starts a server on a free port of 127.0.0.1; resolves once it says where it listens. */
async function server(side: Side): Promise<Running & { port: number }> {
  const s = run(side, ['server', 'tcp:0:interface=127.0.0.1']);
  let port = 0;
  await Promise.race([
    waitFor(() => {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(s.stderr());
      if (m) port = Number(m[1]);
      return m !== null;
    }, 20_000),
    s.exited.then((code) => {
      throw new Error(`${side} server exited (${code}): ${s.stderr()}`);
    }),
  ]);
  return { ...s, port };
}

/** The peer's port is the one thing that differs between runs. */
function normalize(lines: string[]): string[] {
  return lines.map((line) => line.replace(/port=\d+/g, 'port=PORT'));
}

const SERVER_TRANSCRIPT = [
  "connection from IPv4Address(type='TCP', host='127.0.0.1', port=PORT)",
  'got: hello',
  'got: how are you?',
  'idle for 1.5 s: closing',
  'connection lost: Connection was closed cleanly.',
];

const CLIENT_TRANSCRIPT = [
  'connected',
  'server said: HELLO',
  'server said: HOW ARE YOU?',
  'now quiet',
  'server said: bye: idle',
  'disconnected: Connection was closed cleanly.',
];

describe('examples/twisted_endpoints_timeout.ts', () => {
  it('serves a plain TCP client: upper-cased lines, then "bye: idle" and a clean close after 1.5 quiet seconds', async () => {
    const s = await server('ported');
    const sock = net.connect(s.port, '127.0.0.1');
    let received = '';
    let ended = false;
    sock.on('data', (c: Buffer) => (received += c.toString('latin1')));
    sock.on('end', () => (ended = true));
    await new Promise((resolve) => sock.once('connect', resolve));
    sock.write('hello\r\n');
    await waitFor(() => received === 'HELLO\r\n', 10_000);
    // Data resets the timeout: a line every 0.3 s keeps the connection open past it (1.8 s > 1.5 s).
    const ticks = 6;
    for (let i = 0; i < ticks; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      sock.write(`tick ${i}\r\n`);
    }
    await waitFor(() => ended, 10_000);
    const tickNumbers = [...Array(ticks).keys()];
    expect(received).toBe(`HELLO\r\n${tickNumbers.map((i) => `TICK ${i}\r\n`).join('')}bye: idle\r\n`);
    sock.destroy();
    await waitFor(() => s.lines().length >= 4 + ticks, 10_000);
    expect(normalize(s.lines())).toEqual([
      SERVER_TRANSCRIPT[0],
      'got: hello',
      ...tickNumbers.map((i) => `got: tick ${i}`),
      ...SERVER_TRANSCRIPT.slice(3),
    ]);
  }, 60_000);

  for (const [serverSide, clientSide] of [
    ['twisted', 'twisted'],
    ['ported', 'ported'],
    ['twisted', 'ported'],
    ['ported', 'twisted'],
  ] as const) {
    it(`${serverSide} server, ${clientSide} client: the transcripts Twisted prints`, async () => {
      const s = await server(serverSide);
      const c = run(clientSide, ['client', `tcp:127.0.0.1:${s.port}`]);
      expect(await c.exited, c.stderr()).toBe(0);
      await waitFor(() => s.lines().length >= SERVER_TRANSCRIPT.length, 10_000);
      expect(normalize(c.lines())).toEqual(CLIENT_TRANSCRIPT);
      expect(normalize(s.lines())).toEqual(SERVER_TRANSCRIPT);
    }, 60_000);
  }
});
