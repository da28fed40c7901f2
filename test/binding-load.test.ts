// Loading the addon: a binary that cannot be loaded is a clear error that
// says what to run, not node-gyp-build's bare "No native build was found".
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');

function loadInChild(env: Record<string, string>): { status: number | null; stderr: string } {
  const script = `try { require('./src/binding.ts'); } catch (e) { console.error(e.message); process.exit(3); }`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { status: child.status, stderr: child.stderr };
}

describe('loading the native addon', () => {
  it('names the binary that failed and how to build one', () => {
    const missing = path.join(root, 'no-such-dir', 'asyncore.node');
    const { status, stderr } = loadInChild({ ASYNCORE_NATIVE_PATH: missing });
    expect(status).toBe(3);
    expect(stderr).toContain(`cannot load the native addon from ASYNCORE_NATIVE_PATH=${missing}`);
    expect(stderr).toContain('build one from source (Python 3, make and a C++17 compiler) with: npm explore asyncore -- npm run build:native');
  });

  it('loads the build of this checkout when nothing overrides it', () => {
    const { status, stderr } = loadInChild({});
    expect(stderr).toBe('');
    expect(status).toBe(0);
  });
});
