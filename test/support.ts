// Helpers shared by the test files.
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';
import { _closeIdlePollers } from '../src/select';

/** Timeouts scale for sanitizer and valgrind runs (vitest.config.ts). */
export const TIMEOUT_MULTIPLIER = Number(process.env.ASYNCORE_TEST_TIMEOUT_MULTIPLIER ?? '1');

/** The fds this process has open now. */
export function openFds(): number[] {
  return readdirSync('/proc/self/fd').map(Number).sort((a, b) => a - b);
}

/**
 * Checks that a test file leaves no fd open: the set in /proc/self/fd after
 * all its tests is the set before them (libuv's MAKE_VALGRIND_HAPPY). The
 * reading of /proc/self/fd itself opens one fd, the same both times.
 */
export function expectNoFdLeaks(): void {
  let before: number[] = [];
  beforeAll(() => {
    before = openFds();
  });
  afterAll(async () => {
    // select() keeps idle pollers (an eventfd and a thread each) for reuse;
    // they are the package's, not a leak of the test's.
    _closeIdlePollers();
    // Give closes made by finalizers of the last test a turn of the loop.
    await new Promise((resolve) => setImmediate(resolve));
    expect(openFds()).toEqual(before);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until predicate() holds, polling, for at most timeoutMs (scaled). */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs * TIMEOUT_MULTIPLIER;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}

/** Whether this machine has a usable IPv6 loopback. */
export function ipv6Available(): boolean {
  try {
    const { networkInterfaces } = require('node:os') as typeof import('node:os');
    return Object.values(networkInterfaces()).some((list) =>
      (list ?? []).some((entry) => entry.family === 'IPv6' && entry.address === '::1'),
    );
  } catch {
    return false;
  }
}
