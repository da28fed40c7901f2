// A seeded fuzz run over every exported function, constructor and method of
// every entry point (test/fixtures/fuzz-exports.ts finds them by walking the
// exports), with garbage arguments and loopback or unix addresses only, in a
// child process: nothing may crash or hang it, no promise may reject
// unhandled, and no entry point may answer with V8's or Node's own message
// ("x is not a function") instead of the package's 'name(): ...' error.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TIMEOUT_MULTIPLIER } from './support';

const root = path.resolve(__dirname, '..');
const fixture = path.join(root, 'test', 'fixtures', 'fuzz-exports.ts');
const SEED = 1;
const CALLS = 40_000;
/** The run stops early past this, so that a slow machine still ends in time. */
const BUDGET_MS = 15_000;
const KILL_AFTER_MS = 40_000 * TIMEOUT_MULTIPLIER;

interface Report {
  targets: number;
  calls: number;
  offenders: Array<{ target: string; messages: string[] }>;
  unhandled: string[];
  uncaught: string[];
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  report: Report | null;
}

function runFuzz(workdir: string): Promise<Outcome> {
  const args = ['--import', 'tsx', fixture, String(SEED), String(CALLS), String(BUDGET_MS), workdir];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      let report: Report | null = null;
      try {
        report = JSON.parse(readFileSync(path.join(workdir, 'report.json'), 'utf8')) as Report;
      } catch {
        // No report: the run crashed or hung; the first test says which.
      }
      resolve({ code, signal, stderr, report });
    });
  });
}

/** One line per target: "target: message | message". */
function listed(offenders: Report['offenders']): string {
  return offenders.map(({ target, messages }) => `${target}: ${messages.join(' | ')}`).join('\n');
}

describe('fuzz run over every export', { timeout: KILL_AFTER_MS + 10_000 }, () => {
  const workdir = mkdtempSync(path.join(tmpdir(), 'asyncore-fuzz-'));
  let outcome: Outcome;

  beforeAll(async () => {
    outcome = await runFuzz(workdir);
  }, KILL_AFTER_MS + 10_000);

  afterAll(() => {
    rmSync(workdir, { recursive: true, force: true });
  });

  it(`${CALLS} seeded calls end without a crash, a hang, an unhandled rejection or an uncaught exception`, () => {
    expect(outcome.signal, `the run was killed (a hang?); stderr:\n${outcome.stderr}`).toBeNull();
    expect(outcome.code, `the run crashed; stderr:\n${outcome.stderr}`).toBe(0);
    const report = outcome.report!;
    expect(report.targets).toBeGreaterThan(500);
    expect(report.calls).toBeGreaterThan(CALLS / 4);
    expect(report.unhandled, 'unhandled rejections (entry point: reason (last call))').toEqual([]);
    expect(report.uncaught, 'uncaught exceptions (entry point: error (last call))').toEqual([]);
  });

  it("every entry point (asyncore, asynchat, select, socket, posix, socketserver, twisted) answers garbage with the package's errors, never V8's", () => {
    const offenders = outcome.report!.offenders;
    expect(offenders, `entry points that threw V8's or Node's own message:\n${listed(offenders)}`).toEqual([]);
  });
});
