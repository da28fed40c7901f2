// `npm ci` in this repository prints no warning: npm 11 blocks the install
// scripts of dependencies that package.json "allowScripts" does not cover,
// and warns about each. esbuild's (a tsx dependency) only checks its binary,
// which the @esbuild/<platform> package already holds, so it stays denied.
// The repository's own "postprepare" (the addon and dist/) is not a
// dependency's script and runs either way.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');

describe('npm ci', () => {
  it('has no dependency install script left unreviewed (npm install-scripts ls)', () => {
    const out = execFileSync('npm', ['install-scripts', 'ls'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(out.trim()).toBe('No packages with unreviewed install scripts.');
  });
});
