// scripts/check-prebuilds.mjs (npm pack's "prepack"), run on a copy of it in
// a scratch directory that stands for a checkout: a contributor whose
// machine cannot build every default target is told how to pack the rest.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import nodeGypBuild = require('node-gyp-build');

const root = path.resolve(__dirname, '..');
const checkout = mkdtempSync(path.join(tmpdir(), 'asyncore-prepack-'));
mkdirSync(path.join(checkout, 'scripts'));
copyFileSync(path.join(root, 'scripts', 'check-prebuilds.mjs'), path.join(checkout, 'scripts', 'check-prebuilds.mjs'));
afterAll(() => rmSync(checkout, { recursive: true, force: true }));

const host = `linux-${arch()}-glibc`;

function check(targets?: string): { status: number | null; output: string } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.ASYNCORE_PREBUILD_TARGETS;
  delete env.ASYNCORE_PREBUILD_STRICT;
  if (targets !== undefined) env.ASYNCORE_PREBUILD_TARGETS = targets;
  const result = spawnSync(process.execPath, [path.join(checkout, 'scripts', 'check-prebuilds.mjs')], {
    env,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('check-prebuilds', () => {
  it('names ASYNCORE_PREBUILD_TARGETS, with what this machine builds, when a prebuild is missing', () => {
    const { status, output } = check();
    expect(status).toBe(1);
    expect(output).toContain('linux-arm64-glibc: prebuilds/linux-arm64/asyncore.glibc.node is missing');
    const hint = output.split('\n').filter((line) => line.includes('ASYNCORE_PREBUILD_TARGETS='));
    expect(hint).toHaveLength(1);
    expect(hint[0]).toMatch(
      new RegExp(`npm run build:prebuilds -- linux-${arch()}\\b.* && ASYNCORE_PREBUILD_TARGETS=${host}\\b.* npm pack$`),
    );
  });

  it("the line's setting packs the machine's own prebuild", () => {
    // The addon the tests load (build/Release, or a prebuild) stands for
    // what `npm run build:prebuilds -- linux-<arch>` makes.
    const dir = path.join(checkout, 'prebuilds', `linux-${arch()}`);
    mkdirSync(dir, { recursive: true });
    const { path: addonPath } = nodeGypBuild as unknown as { path(root: string): string };
    copyFileSync(addonPath(root), path.join(dir, 'asyncore.glibc.node'));
    const { status, output } = check(host);
    expect(output).toContain(`${host}: prebuilds/linux-${arch()}/asyncore.glibc.node loads`);
    expect(status).toBe(0);
  });
});
