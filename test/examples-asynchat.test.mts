// The asynchat examples, served by asyncore's loop in this process and
// driven by Node's own http and net clients. An ES module, as the examples
// are: in this process they import 'asyncore' as the sources (vitest.config.mts
// maps the name to src/), as programs they load the built package.
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import * as asyncore from '../src/asyncore.js';
import { HttpServer } from '../examples/asynchat_http_server.js';
import { ChatServer } from '../examples/chat_server.js';
import { expectNoFdLeaks, ipv6Available, sleep, waitFor } from './support.js';

expectNoFdLeaks();

/** The loop serving a private map, and what ends it. */
let running: Promise<void> | null = null;
let map: asyncore.SocketMap = new Map();

function serve(): void {
  running = asyncore.loop({ timeout: 0.05, map });
}

afterEach(async () => {
  asyncore.close_all(map);
  await running;
  running = null;
  map = new Map();
});

function get(port: number, path: string, host = '127.0.0.1'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host, port, path, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

/** Sends raw bytes and reads the whole reply, until the server closes. */
function rawExchange(port: number, ...pieces: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const client = net.connect(port, '127.0.0.1', async () => {
      client.setNoDelay(true);
      // Piece by piece, so that the request head is split across reads.
      for (const piece of pieces) {
        client.write(piece);
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    client.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    client.on('error', reject);
  });
}

describe('examples/asynchat_http_server', () => {
  it('answers GET /name with "Hello name!"', async () => {
    const server = new HttpServer('127.0.0.1', 0, map);
    serve();
    const response = await get(server.port(), '/world');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.body).toBe('Hello world!');
  });

  it('decodes the name and ignores the query', async () => {
    const server = new HttpServer('127.0.0.1', 0, map);
    serve();
    expect((await get(server.port(), '/J%C3%BCrgen?x=1')).body).toBe('Hello Jürgen!');
    expect((await get(server.port(), '/')).body).toBe('Hello !');
  });

  it('serves many clients at once', async () => {
    const server = new HttpServer('127.0.0.1', 0, map);
    serve();
    const names = Array.from({ length: 40 }, (_, i) => `client${i}`);
    const bodies = await Promise.all(names.map((name) => get(server.port(), `/${name}`).then((r) => r.body)));
    expect(bodies).toEqual(names.map((name) => `Hello ${name}!`));
  });

  it('reads a request head split across reads', async () => {
    const server = new HttpServer('127.0.0.1', 0, map);
    serve();
    const reply = await rawExchange(server.port(), 'GET /sp', 'lit HTTP/1.0\r', '\n\r', '\n');
    expect(reply).toMatch(/^HTTP\/1\.0 200 OK\r\n/);
    expect(reply.endsWith('\r\n\r\nHello split!')).toBe(true);
  });

  it('refuses other methods and malformed requests', async () => {
    const server = new HttpServer('127.0.0.1', 0, map);
    serve();
    const port = server.port();
    expect(await rawExchange(port, 'POST /x HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.0 405 Method Not Allowed\r\n/);
    expect(await rawExchange(port, 'nonsense\r\n\r\n')).toMatch(/^HTTP\/1\.0 400 Bad Request\r\n/);
    expect(await rawExchange(port, 'GET /%E0%A4%A HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.0 400 /);
  });
});

interface ChatClient {
  socket: net.Socket;
  name: string;
  lines: string[];
}

function connectChatClient(port: number, host: string): Promise<ChatClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host, () => {
      socket.setNoDelay(true);
      const local = socket.localAddress ?? host;
      const name = local.includes(':') ? `[${local}]:${socket.localPort}` : `${local}:${socket.localPort}`;
      client.name = name;
      resolve(client);
    });
    const client: ChatClient = { socket, name: '', lines: [] };
    let partial = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      const parts = (partial + text).split('\n');
      partial = parts.pop() ?? '';
      client.lines.push(...parts);
    });
    socket.on('error', reject);
  });
}

function closeClient(client: ChatClient): Promise<void> {
  return new Promise((resolve) => {
    // The server may have closed the connection already.
    if (client.socket.closed) return resolve();
    client.socket.once('close', () => resolve());
    client.socket.end();
  });
}

const hosts = ['127.0.0.1', ...(ipv6Available() ? ['::1'] : [])];

describe.each(hosts)('examples/chat_server on %s', (host) => {
  it('broadcasts each line to every other client', async () => {
    const server = new ChatServer(host, 0, map);
    serve();
    const clients = await Promise.all(Array.from({ length: 6 }, () => connectChatClient(server.port(), host)));
    await waitFor(() => server.clients.size === clients.length);

    for (const [i, client] of clients.entries()) {
      // A line in two writes, a line ended by \r\n, and a plain one.
      client.socket.write(`hel`);
      await new Promise((r) => setTimeout(r, 2));
      client.socket.write(`lo from ${i}\nsecond from ${i}\r\nthird from ${i}\n`);
    }
    const perClient = 3 * (clients.length - 1);
    await waitFor(() => clients.every((client) => client.lines.length >= perClient));

    for (const [i, client] of clients.entries()) {
      expect(client.lines.length).toBe(perClient);
      for (const [j, other] of clients.entries()) {
        const fromOther = client.lines.filter((line) => line.startsWith(`${other.name}: `));
        // Nothing comes back to its sender; the others' lines come in order.
        expect(fromOther).toEqual(
          i === j ? [] : [`hello from ${j}`, `second from ${j}`, `third from ${j}`].map((text) => `${other.name}: ${text}`),
        );
      }
    }

    await Promise.all(clients.map(closeClient));
    await waitFor(() => server.clients.size === 0);
    server.close();
    await running;
  });

  it('keeps serving the others when a client leaves', async () => {
    const server = new ChatServer(host, 0, map);
    serve();
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => connectChatClient(server.port(), host)));
    await waitFor(() => server.clients.size === 3);
    c.socket.destroy();
    await waitFor(() => server.clients.size === 2);
    a.socket.write('still here\n');
    await waitFor(() => b.lines.length === 1);
    expect(b.lines).toEqual([`${a.name}: still here`]);
    server.shutdown();
    await running;
    await Promise.all([a, b].map(closeClient));
  });
});

describe('the examples as programs', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  let child: ChildProcess | null = null;

  afterEach(async () => {
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      const closed = new Promise((resolve) => child!.once('close', resolve));
      child.kill('SIGTERM');
      await closed;
    }
    child = null;
  });

  async function repeatUntil(action: () => void, done: () => boolean): Promise<void> {
    for (let i = 0; i < 250 && !done(); i++) {
      action();
      await sleep(20);
    }
    expect(done()).toBe(true);
  }

  /** Starts examples/<file> on port 0 and waits for its "listening on host:port" line. */
  function start(file: string): Promise<number> {
    // `node --import tsx` is what `npx tsx` runs, in one process.
    const program = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'examples', file), '0'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = program;
    let out = '';
    let err = '';
    program.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    return new Promise((resolve, reject) => {
      program.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening on [^\s]+:(\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      program.once('exit', (code) => reject(new Error(`${file} exited with ${code}: ${err}`)));
    });
  }

  it('asynchat_http_server.ts answers Node\'s http client', async () => {
    const port = await start('asynchat_http_server.ts');
    const [a, b] = await Promise.all([get(port, '/Ada'), get(port, '/Grace')]);
    expect([a.status, a.body, b.body]).toEqual([200, 'Hello Ada!', 'Hello Grace!']);
  });

  it('chat_server.ts relays a line between two net clients', async () => {
    const port = await start('chat_server.ts');
    const [a, b] = await Promise.all([connectChatClient(port, '127.0.0.1'), connectChatClient(port, '127.0.0.1')]);
    // A line sent before the server has accepted the other client reaches
    // no one: say it again until it is heard.
    await repeatUntil(() => a.socket.write('ping\n'), () => b.lines.length > 0);
    await repeatUntil(() => b.socket.write('pong\n'), () => a.lines.length > 0);
    expect(new Set(b.lines)).toEqual(new Set([`${a.name}: ping`]));
    expect(new Set(a.lines)).toEqual(new Set([`${b.name}: pong`]));
    await Promise.all([a, b].map(closeClient));
  });
});
