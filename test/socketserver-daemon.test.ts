// daemon_threads decides whether a request still running keeps the process
// alive, as Python's daemon threads do: the same program, in CPython
// (test/fixtures/socketserver-daemon.py) and here
// (test/fixtures/socketserver-daemon.ts), takes a connection whose client
// never sends, shuts the server down, closes it, and ends. For each of the
// four daemon_threads x block_on_close cases (and a daemon whose read has a
// timeout) both must exit within the same bound, or both still run at its
// end, and print the same lines.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TIMEOUT_MULTIPLIER } from './support';
import { TSX, root } from './socketserver-support';

const PYENV_PYTHON = '/root/.pyenv/versions/3.11.7/bin/python3';
const PYTHON = existsSync(PYENV_PYTHON) ? PYENV_PYTHON : 'python3';
const pythonRuns = spawnSync(PYTHON, ['-c', 'import socketserver'], { stdio: 'ignore' }).status === 0;
/** How long after the handler started a program that exits must have exited. */
const BOUND_MS = 3000 * TIMEOUT_MULTIPLIER;

interface Outcome {
  exited: boolean;
  lines: string[];
}

/**
 * Runs one side's program: connects a silent client once it listens, and
 * waits BOUND_MS from its 'handling' line for it to exit (killed if not).
 */
function run(command: string, args: string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    let client: net.Socket | null = null;
    let timer: NodeJS.Timeout | null = null;
    let out = '';
    const end = (exited: boolean): void => {
      if (timer !== null) clearTimeout(timer);
      client?.destroy();
      resolve({ exited, lines });
    };
    child.once('error', reject);
    child.once('exit', () => end(true));
    child.stdout.on('data', (data: Buffer) => {
      out += data.toString();
      let newline: number;
      while ((newline = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, newline).trim();
        out = out.slice(newline + 1);
        if (line.startsWith('port ')) {
          client = net.connect(Number(line.slice(5)), '127.0.0.1');
          client.on('error', () => {});
          lines.push('port');
          continue;
        }
        lines.push(line);
        if (line === 'handling') {
          timer = setTimeout(() => {
            child.removeAllListeners('exit');
            child.kill('SIGKILL');
            end(false);
          }, BOUND_MS);
        }
      }
    });
  });
}

describe('daemon_threads and the end of the process, against CPython', () => {
  it.skipIf(!pythonRuns)(
    'each daemon_threads x block_on_close case exits (or keeps running) as CPython does',
    async () => {
      // The last: a daemon whose read may wait 30 s (the handler's timeout).
      const cases: Array<[boolean, boolean, string?]> = [
        [true, true],
        [true, false],
        [false, true],
        [false, false],
        [true, true, '30'],
      ];
      const runs = cases.map(async ([daemon, block, timeout]) => {
        const flags = [daemon ? '1' : '0', block ? '1' : '0', ...(timeout === undefined ? [] : [timeout])];
        const [python, ours] = await Promise.all([
          run(PYTHON, [path.join(root, 'test', 'fixtures', 'socketserver-daemon.py'), ...flags]),
          run(process.execPath, [...TSX, path.join(root, 'test', 'fixtures', 'socketserver-daemon.ts'), ...flags]),
        ]);
        return { daemon_threads: daemon, block_on_close: block, timeout, python, ours };
      });
      const results = await Promise.all(runs);
      for (const { python, ours, ...which } of results) {
        expect({ ...which, ...ours }).toEqual({ ...which, ...python });
        // CPython's behaviour, as the test expects it: daemon threads never keep it running.
        expect({ ...which, exited: python.exited }).toEqual({ ...which, exited: which.daemon_threads });
      }
    },
    60_000,
  );
});
