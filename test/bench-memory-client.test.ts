// The memory scenario's client (bench/probes/memory_client.mjs) against small
// servers made here: it must make every exchange and check each echo, keep
// its connections open with --hold, and fail, saying why, on a wrong echo,
// a server that closes first, or a bad option; a run that measured a broken
// exchange would report a figure for connections that were never made.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const client = path.join(__dirname, '..', 'bench', 'probes', 'memory_client.mjs');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const servers: net.Server[] = [];
const accepted = new Set<net.Socket>();
const clients: Array<ReturnType<typeof spawn>> = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.kill('SIGKILL');
  // A server socket that never reads never sees the client go away.
  for (const socket of accepted) socket.destroy();
  accepted.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A server on 127.0.0.1 whose connections `onConnection` handles; resolves with it and its port. */
async function serve(onConnection: (socket: net.Socket) => void): Promise<{ server: net.Server; port: number; open: () => number }> {
  let open = 0;
  const server = net.createServer((socket) => {
    open += 1;
    accepted.add(socket);
    socket.on('close', () => {
      open -= 1;
      accepted.delete(socket);
    });
    socket.on('error', () => socket.destroy());
    onConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port, open: () => open };
}

const echo = (socket: net.Socket) => socket.pipe(socket);

/** Runs the client to its exit (at most 20 s). */
function runClient(args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [client, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  clients.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('bench memory client', () => {
  it('makes every exchange, prints "ready <ms>" and closes its connections', async () => {
    let connections = 0;
    const { port, open } = await serve((socket) => {
      connections += 1;
      echo(socket);
    });
    const run = await runClient(['--port', String(port), '--conns', '50', '--concurrency', '8']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ready \d+\n$/);
    expect(connections).toBe(50);
    await expect.poll(open, { timeout: 5000 }).toBe(0);
  });

  it('keeps every connection open with --hold', async () => {
    const { port, open } = await serve(echo);
    const child = spawn(process.execPath, [client, '--port', String(port), '--conns', '40', '--hold', '30'], { stdio: ['ignore', 'pipe', 'pipe'] });
    clients.push(child);
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    await expect.poll(() => stdout, { timeout: 10_000 }).toMatch(/^ready \d+\n$/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(open()).toBe(40);
    expect(child.exitCode).toBe(null);
  });

  it('fails when an echo is not the line it sent', async () => {
    const { port } = await serve((socket) => {
      socket.on('data', (d) => socket.write(Buffer.from(d.toString('latin1').toUpperCase(), 'latin1')));
    });
    const run = await runClient(['--port', String(port), '--conns', '5']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^memory_client: connection \d+: the echo is not the line sent \(64 bytes\)\n$/);
    expect(run.stdout).toBe('');
  });

  it('fails when the server sends more than the line', async () => {
    const { port } = await serve((socket) => {
      socket.on('data', (d) => socket.write(Buffer.concat([d, d])));
    });
    const run = await runClient(['--port', String(port), '--conns', '5']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the echo is not the line sent \(128 bytes\)/);
  });

  it('fails when the server closes a connection first', async () => {
    const { port } = await serve((socket) => socket.end());
    const run = await runClient(['--port', String(port), '--conns', '5']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^memory_client: connection \d+ closed by the server\n$/);
  });

  it('fails when no echo comes back within --timeout', async () => {
    const { port } = await serve(() => {});
    const run = await runClient(['--port', String(port), '--conns', '3', '--timeout', '0.3']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('memory_client: 3 of 3 connections without their echo after 0.3 s\n');
  });

  it('refuses a missing or bad option', async () => {
    const missing = await runClient(['--conns', '5']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('memory_client: --port is required\n');
    const bad = await runClient(['--port', '1', '--conns', 'many']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('memory_client: --conns needs a positive number, got "many"\n');
  });
});
