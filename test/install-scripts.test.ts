// `npm ci` in this repository prints no warning: npm 11 blocks the install
// scripts of dependencies that package.json "allowScripts" does not cover,
// and warns about each. esbuild's (a tsx dependency) only checks its binary,
// which the @esbuild/<platform> package already holds, so it stays denied.
// The repository's own "postprepare" (the addon and dist/) is not a
// dependency's script and runs either way.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const readJson = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(root, file), 'utf8')) as Record<string, unknown>;

describe('npm ci', () => {
  it('package.json "allowScripts" decides on every dependency the lockfile says has an install script', () => {
    const lock = readJson('package-lock.json') as { packages: Record<string, { hasInstallScript?: boolean }> };
    const allow = (readJson('package.json').allowScripts ?? {}) as Record<string, boolean>;
    const decided = new Set(Object.keys(allow).map((entry) => entry.replace(/(.)@.*$/, '$1')));
    const withScripts = Object.entries(lock.packages)
      .filter(([where, entry]) => where !== '' && entry.hasInstallScript === true)
      .map(([where]) => where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(withScripts.length).toBeGreaterThan(0);
    expect(withScripts.filter((name) => !decided.has(name))).toEqual([]);
  });

  // npm 10 (Node 20's) has no install-scripts command, runs no check and prints no such warning.
  const ls = spawnSync('npm', ['install-scripts', 'ls'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  const lsOutput = `${ls.stdout}${ls.stderr}`;
  const npmChecks = !/Unknown command: "install-scripts"/.test(lsOutput);

  it.skipIf(!npmChecks)('npm install-scripts ls names nothing (skipped on an npm without that command)', () => {
    expect(lsOutput.trim()).toBe('No packages with unreviewed install scripts.');
  });
});
