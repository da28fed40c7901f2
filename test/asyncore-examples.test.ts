// The programs in examples/, each run as a program (a child process) against
// a real peer: Node net clients for the servers, a Node http server for the
// HTTP/1.0 client.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expectNoFdLeaks, TIMEOUT_MULTIPLIER } from './support';

expectNoFdLeaks();

const root = path.resolve(__dirname, '..');
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

function run(example: string, args: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string } {
  // `node --import tsx` is what `npx tsx` runs, in one process; the examples
  // import 'asyncore' by its name, which resolves to this checkout's dist/.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'examples', example), ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return { child, stdout: () => out, stderr: () => err };
}

/** Waits for the "listening on host:port" line a server example prints first. */
function listeningPort(child: ChildProcess, stderr: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on [^\s]+:(\d+)/.exec(out);
      if (match) {
        child.stdout!.off('data', onData);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening: ${stderr()}`)));
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Connects, writes `data`, reads until `expected` bytes came back, closes. */
function exchange(port: number, data: Buffer, expected: number, end = true): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const conn = net.connect(port, '127.0.0.1', () => {
      conn.write(data);
      if (end) conn.end();
    });
    conn.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= expected) conn.destroy();
    });
    conn.on('close', () => resolve(Buffer.concat(chunks)));
    conn.on('error', reject);
  });
}

describe('examples as a project copies them', () => {
  const files = readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.ts'));

  it('are ES modules (examples/package.json)', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'examples', 'package.json'), 'utf8'));
    expect(pkg.type).toBe('module');
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)('%s imports only the package by its name and node: modules', (file) => {
    const source = readFileSync(path.join(root, 'examples', file), 'utf8');
    const specifiers = [...source.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
    expect(specifiers.length).toBeGreaterThan(0);
    for (const specifier of specifiers) expect(specifier).toMatch(/^(asyncore(\/[a-z_]+)?|node:[a-z_/]+)$/);
    expect(source).not.toMatch(/\brequire\s*\(|require\.main|__dirname/);
  });
});

describe('examples', { timeout: 20_000 * TIMEOUT_MULTIPLIER }, () => {
  it('echo_server.ts echoes to Node net clients', async () => {
    const { child, stderr, stdout } = run('echo_server.ts', ['0']);
    const port = await listeningPort(child, stderr);
    const payloads = [0, 1, 2, 3, 4].map((i) => Buffer.alloc(100_000 + i * 1000, String(i)));
    const echoed = await Promise.all(payloads.map((p) => exchange(port, p, p.length, false)));
    echoed.forEach((data, i) => expect(data.equals(payloads[i]!)).toBe(true));
    expect(stdout()).toMatch(/Incoming connection from \["127\.0\.0\.1",\d+\]/);
    expect(stderr()).toBe('');
  });

  it('http_client.ts fetches from a local Node http server, and exits when done', async () => {
    const requests: http.IncomingMessage[] = [];
    const body = 'hello, asyncore\n'.repeat(2000);
    const server = http.createServer((req, res) => {
      requests.push(req);
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      const { child, stdout, stderr } = run('http_client.ts', [`http://127.0.0.1:${port}/some/path?q=1`]);
      expect(await exitOf(child)).toBe(0);
      expect(stderr()).toBe('');
      const response = stdout();
      expect(response).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(response.endsWith(body)).toBe(true);
      expect(requests).toHaveLength(1);
      expect(requests[0]!.method).toBe('GET');
      expect(requests[0]!.url).toBe('/some/path?q=1');
      expect(requests[0]!.httpVersion).toBe('1.0');
      expect(requests[0]!.headers.host).toBe('127.0.0.1');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('select_server.ts serves lines to several Node net clients', async () => {
    const { child, stderr } = run('select_server.ts', ['0']);
    const port = await listeningPort(child, stderr);
    const replies = await Promise.all(
      [0, 1, 2].map((i) => {
        const lines = Array.from({ length: 50 }, (_, j) => `client ${i} line ${j}`);
        const text = `${lines.join('\n')}\nquit\n`;
        const expected = lines.map((line) => `${line.toUpperCase()}\n`).join('');
        return exchange(port, Buffer.from(text), expected.length).then((reply) => [reply.toString(), expected]);
      }),
    );
    for (const [reply, expected] of replies) expect(reply).toBe(expected);
    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
    expect(stderr()).toBe('');
  });
});
