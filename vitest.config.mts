import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Sanitizer and valgrind runs are slower: scale every timeout with
// ASYNCORE_TEST_TIMEOUT_MULTIPLIER, as libuv's UV_TEST_TIMEOUT_MULTIPLIER does.
const multiplier = Number(process.env.ASYNCORE_TEST_TIMEOUT_MULTIPLIER ?? '1');
const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * 'asyncore' and each subpath of package.json "exports", mapped to its
 * source: the entry point's CommonJS file, dist/NAME.js, comes from
 * src/NAME.ts.
 */
function sourceAliases(): Array<{ find: RegExp; replacement: string }> {
  const { name, exports } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const aliases = [];
  for (const [subpath, conditions] of Object.entries<{ require?: { default?: string } }>(exports)) {
    const built = conditions.require?.default;
    if (typeof built !== 'string' || !built.startsWith('./dist/')) continue;
    const specifier = subpath === '.' ? name : `${name}/${subpath.slice(2)}`;
    const escaped = specifier.replace(/[/.]/g, '\\$&');
    aliases.push({
      find: new RegExp(`^${escaped}$`),
      replacement: path.join(root, 'src', built.slice('./dist/'.length).replace(/\.js$/, '.ts')),
    });
  }
  return aliases;
}

export default defineConfig({
  resolve: {
    // The examples import the package by its name; a test that imports an
    // example gets the sources the test itself imports, so there is one
    // copy of every class. (Run as programs, the examples load dist/.)
    alias: sourceAliases(),
  },
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.mts'],
    // Each file in its own child process: the addon, signals and fds are per process.
    pool: 'forks',
    testTimeout: 20_000 * multiplier,
    hookTimeout: 20_000 * multiplier,
  },
});
