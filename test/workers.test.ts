// The package in worker threads, in child processes (test/fixtures/):
// terminating a worker at any moment never aborts the process, and the fds
// a worker made are closed when it ends.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TIMEOUT_MULTIPLIER } from './support';

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runFixture(name: string, args: string[], limitMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', name), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    const killer = setTimeout(() => child.kill('SIGKILL'), limitMs * TIMEOUT_MULTIPLIER);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('worker threads', () => {
  it(
    'worker.terminate() at random moments, 500 times (busy, idle and loading workers, every backend), never aborts',
    async () => {
      const run = await runFixture('worker-storm.cjs', ['500'], 150_000);
      // Before the fix: SIGABRT after "FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw".
      expect(run.stderr).not.toMatch(/FATAL ERROR/);
      expect(run.signal).toBe(null);
      expect(run.code).toBe(0);
      const figures = JSON.parse(run.stdout) as { terminates: number; phases: Record<string, number>; errors: string[] };
      expect(figures.errors).toEqual([]);
      expect(figures.terminates).toBe(500);
      expect(figures.phases.loading).toBeGreaterThan(0);
      expect(figures.phases.running).toBeGreaterThan(0);
    },
    180_000 * TIMEOUT_MULTIPLIER,
  );

  it(
    'the sockets, pipes and pollers of 50 workers (terminated, or ended by themselves) are closed with them',
    async () => {
      const run = await runFixture('worker-fds.cjs', ['50'], 60_000);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const figures = JSON.parse(run.stdout) as { ended: Record<string, number>; fdsBefore: number; fdsAfter: number };
      expect(figures.ended).toEqual({ terminated: 25, byThemselves: 25 });
      expect(figures.fdsAfter).toBe(figures.fdsBefore);
    },
    90_000 * TIMEOUT_MULTIPLIER,
  );
});
