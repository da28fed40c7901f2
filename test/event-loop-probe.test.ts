// binding.eventLoopHasWork(): whether Node's event loop has anything to
// run now. Asked in a process of its own (test/fixtures/
// event-loop-probe.cjs), where nothing else runs: here, vitest's own
// messages would make the loop busy at random moments.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { binding } from '../src/binding';
import { TIMEOUT_MULTIPLIER } from './support';

interface Answers {
  idle: boolean;
  timerNotDue: boolean;
  timerDue: [boolean, boolean];
  unrefTimerDue: [boolean, boolean];
  immediate: boolean;
  connection: [boolean, boolean];
  workerMessage: [boolean, boolean];
  inWorker: boolean;
  workerExit: number;
}

describe('eventLoopHasWork()', () => {
  // One run for every case: [before, after] where a case sets something up.
  const run = spawnSync(process.execPath, [path.join(__dirname, 'fixtures', 'event-loop-probe.cjs')], {
    encoding: 'utf8',
    timeout: 30_000 * TIMEOUT_MULTIPLIER,
  });
  const answers = (): Answers => {
    expect(run.stderr).toBe('');
    // The process ends by itself: the probe keeps nothing alive.
    expect(run.status).toBe(0);
    return JSON.parse(run.stdout) as Answers;
  };

  it('is false when nothing is pending, and while the next timer is not due', () => {
    expect(answers().idle).toBe(false);
    expect(answers().timerNotDue).toBe(false);
  });

  it('is true once a timer is due, referenced or not', () => {
    expect(answers().timerDue).toEqual([false, true]);
    expect(answers().unrefTimerDue).toEqual([false, true]);
  });

  it('is true while an immediate is queued', () => {
    expect(answers().immediate).toBe(true);
  });

  it("is true when an fd of Node's loop is ready: a connection to a net.Server", () => {
    expect(answers().connection).toEqual([false, true]);
  });

  it("is true when another thread has woken the loop: a worker's message", () => {
    expect(answers().workerMessage).toEqual([false, true]);
  });

  it('answers in a worker thread, which then ends by itself', () => {
    expect(answers().inWorker).toBe(false);
    expect(answers().workerExit).toBe(0);
  });

  it('is a boolean in this process too', () => {
    expect(typeof binding.eventLoopHasWork()).toBe('boolean');
  });
});
