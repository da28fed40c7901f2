// The socketserver examples (the seed's forking server and its threading
// twin), each run as a program under tsx against real Node net clients.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep, TIMEOUT_MULTIPLIER } from './support';
import { childPids, root, running, TSX } from './socketserver-support';

const programs: ChildProcess[] = [];

afterEach(async () => {
  for (const program of programs.splice(0)) {
    if (program.exitCode === null && program.signalCode === null) {
      const exited = new Promise((resolve) => program.once('exit', resolve));
      program.kill('SIGKILL');
      await exited;
    }
  }
});

function start(example: string): { program: ChildProcess; port: Promise<number>; stdout: () => string } {
  const program = spawn(process.execPath, [...TSX, path.join(root, 'examples', example), '0'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  programs.push(program);
  let out = '';
  const port = new Promise<number>((resolve, reject) => {
    program.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on [^\s]+:(\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    program.once('exit', (code) => reject(new Error(`${example} exited with ${code} before listening`)));
  });
  return { program, port, stdout: () => out };
}

/** Connects and reads until the server closes. */
function fetchGreeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const conn = net.connect(port, '127.0.0.1');
    conn.on('data', (chunk: Buffer) => (text += chunk.toString()));
    conn.on('end', () => {
      conn.destroy();
      resolve(text);
    });
    conn.on('error', reject);
  });
}

describe('socketserver examples', { timeout: 90_000 * TIMEOUT_MULTIPLIER }, () => {
  it.each(['socketserver_forking.ts', 'socketserver_threading.ts'])(
    '%s thanks each client and logs its address',
    async (example) => {
      const { program, port, stdout } = start(example);
      const p = await port;
      const greetings = await Promise.all([fetchGreeting(p), fetchGreeting(p), fetchGreeting(p)]);
      expect(greetings).toEqual(Array(3).fill('Thank you for connecting'));
      // The handler's line is printed (by the child, for the forking one) before the connection closes.
      const logged = stdout().match(/Got connection from \[ '127\.0\.0\.1', \d+ \]/g) ?? [];
      expect(logged).toHaveLength(3);
      expect(stdout().match(/listening on/g)).toHaveLength(1);
      // Children running the example; tsx's own helper process (esbuild) is not one.
      const children = childPids(program.pid).filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(example);
        } catch {
          return false;
        }
      });
      if (example.includes('forking')) {
        // Served in child processes, which are reused: at most the three
        // served at once and the one spare the pool keeps started
        // (spare_children 1).
        expect(children.length).toBeGreaterThan(0);
        expect(children.length).toBeLessThanOrEqual(3 + 1);
        program.kill('SIGKILL');
        await new Promise((resolve) => program.once('exit', resolve));
        await sleep(2000 * TIMEOUT_MULTIPLIER);
        expect(children.filter(running)).toEqual([]);
      } else {
        expect(children).toEqual([]);
      }
    },
  );
});
