// Every example compiles under the strictest settings a project copying it
// may have, as that project's tsc sees it (the package through "exports").
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const examples = path.join(root, 'examples');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/** The settings a strict project may add to `"strict": true`. */
const STRICT_FLAGS = [
  '--strict',
  '--noUncheckedIndexedAccess',
  '--exactOptionalPropertyTypes',
  '--noImplicitOverride',
];

/** tsc's report on files, with the flags; '' when they compile. */
function compile(files: string[], flags: string[]): string {
  const args = [tsc, '--noEmit', '--pretty', 'false', ...flags];
  args.push('--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node');
  try {
    execFileSync(process.execPath, [...args, ...files], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}` || String(err);
  }
}

describe('examples under strict settings', () => {
  const files = readdirSync(examples)
    .filter((name) => /\.[mc]?ts$/.test(name) && !name.endsWith('.d.ts'))
    .map((name) => path.join('examples', name));

  it('finds every example', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it(`compile with ${STRICT_FLAGS.join(' ')}`, { timeout: 120_000 }, () => {
    // With a probe outside examples/ that only the stricter flags reject,
    // to show they are in force: its error is the only one allowed.
    const probe = path.join('test', 'fixtures', 'unchecked-index.ts');
    const report = compile([...files, probe], STRICT_FLAGS).trim().split('\n');
    expect(report).toEqual([expect.stringMatching(/^test\/fixtures\/unchecked-index\.ts\(\d+,\d+\): error TS2532: /)]);
  });
});
