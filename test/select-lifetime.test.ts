// Process lifetime, in child processes (test/fixtures/select-child.cjs):
// idle pollers never keep a process alive, a pending wait does, and epoll
// objects dropped without close() give their fds back.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { expectNoFdLeaks, TIMEOUT_MULTIPLIER } from './support';

expectNoFdLeaks();

const CHILD = path.join(__dirname, 'fixtures', 'select-child.cjs');

interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the child's 'done' line (or its start) to its exit. */
  afterDoneMs: number;
}

function runChild(scenario: string, nodeArgs: string[] = []): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', CHILD, scenario], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let doneAt = performance.now();
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (/^done$/m.test(stdout)) doneAt = Math.min(doneAt, performance.now());
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    // A child that does not exit would hang the test: kill it after a bound.
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000 * TIMEOUT_MULTIPLIER);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, afterDoneMs: performance.now() - doneAt });
    });
  });
}

describe('process lifetime', () => {
  it('a process that used select, poll and epoll (pollers left open) exits by itself', async () => {
    const run = await runChild('idle');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('done\n');
    expect(run.afterDoneMs).toBeLessThan(3000 * TIMEOUT_MULTIPLIER);
  });

  it("CPython's test_errno as the first select() of a fresh process, unwarmed: EBADF", async () => {
    const run = await runChild('errno-first');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('select 0: EBADF\nselect 0.2: EBADF\npoll: [[true,true]]\n');
  });

  it('the addon alone: pollers that finished a wait, never closed, do not keep the process', async () => {
    const run = await runChild('raw-idle');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('kind 0 [0,false]\nkind 1 [0,false]\nkind 2 [0,false]\ndone\n');
    expect(run.afterDoneMs).toBeLessThan(3000 * TIMEOUT_MULTIPLIER);
  });

  it('epoll: an fd ready while no wait runs is reported by the next wait, and keeps no process alive', async () => {
    const run = await runChild('raw-ready-unwaited');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('first [1,false,true,1]\nsecond [1,false,true,1]\ndone\n');
    expect(run.afterDoneMs).toBeLessThan(3000 * TIMEOUT_MULTIPLIER);
  });

  it.each([
    ['pending-select', '[[],[],[]]'],
    ['pending-poll', '[]'],
    ['pending-epoll', '[]'],
  ])('%s: a pending 1 s wait keeps the process alive until it ends', async (scenario, empty) => {
    const run = await runChild(scenario);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const match = /^resolved (\d+) (.*)$/m.exec(run.stdout);
    expect(match).not.toBeNull();
    const [, elapsed, result] = match as RegExpExecArray;
    expect(Number(elapsed)).toBeGreaterThanOrEqual(990);
    expect(result).toBe(empty);
  });

  it('epoll objects dropped without close() have their fds closed once collected', async () => {
    const run = await runChild('gc-epoll', ['--expose-gc']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [before, held, after] = (/^fds (\d+) (\d+) (\d+)$/m.exec(run.stdout) ?? []).slice(1).map(Number);
    expect(held).toBeGreaterThanOrEqual(before + 20);
    expect(after).toBe(before);
  });
});
