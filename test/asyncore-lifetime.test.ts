// Maps used with loop(), poll() or poll2() and then dropped are garbage
// collected, on every backend (test/fixtures/map-finalization.cjs, in a
// child process run with --expose-gc).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { TIMEOUT_MULTIPLIER } from './support';

it(
  'dropped maps are finalized after GC, on every backend',
  () => {
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', path.join(__dirname, 'fixtures', 'map-finalization.cjs'), '300'],
      { encoding: 'utf8', timeout: 60_000 * TIMEOUT_MULTIPLIER },
    );
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const figures = JSON.parse(child.stdout) as Record<string, { maps: number; finalized: number }>;
    expect(Object.keys(figures)).toEqual(['select', 'poll', 'epoll']);
    // Nearly all: the last map may still be referenced from a register.
    for (const { maps, finalized } of Object.values(figures)) expect(finalized).toBeGreaterThanOrEqual(maps - 5);
  },
  90_000 * TIMEOUT_MULTIPLIER,
);
