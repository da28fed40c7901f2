import { defineConfig } from 'vitest/config';

// Sanitizer and valgrind runs are slower: scale every timeout with
// ASYNCORE_TEST_TIMEOUT_MULTIPLIER, as libuv's UV_TEST_TIMEOUT_MULTIPLIER does.
const multiplier = Number(process.env.ASYNCORE_TEST_TIMEOUT_MULTIPLIER ?? '1');

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each file in its own child process: the addon, signals and fds are per process.
    pool: 'forks',
    testTimeout: 20_000 * multiplier,
    hookTimeout: 20_000 * multiplier,
  },
});
