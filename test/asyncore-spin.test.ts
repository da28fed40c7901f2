// The spin before a wait (src/spin.ts), against a fake native
// poller that scripts what each zero-timeout poll finds: a map keeps
// spinning while spins find work, stops when they keep coming back empty,
// and probes again now and then.
import { describe, expect, it } from 'vitest';
import type { NativeBinding, NativePoller, WaitCallback } from '../src/binding';
import { kindOf, stateOf } from '../src/asyncore/passes';
import type { Channel } from '../src/asyncore/handlers';
import { POLLIN } from '../src/select';

const FD = 7;

/** What the n-th zero-timeout poll of a pass finds (0: nothing, 1: FD readable). */
type Script = (pollInPass: number) => 0 | 1;

function fakeBinding(script: Script) {
  const stats = { passes: 0, spunPasses: 0, waits: 0 };
  class FakePoller implements NativePoller {
    waiting = false;
    private pollsInPass = 0;

    constructor(
      readonly kind: number,
      private readonly onDone: WaitCallback,
    ) {}

    setInterest(): number {
      // register() runs once per pass, before its first poll.
      if (this.pollsInPass > 1) stats.spunPasses += 1;
      stats.passes += 1;
      this.pollsInPass = 0;
      return 0;
    }

    ctl(): number {
      return 0;
    }

    findClosed(): number {
      return 0;
    }

    pollNow(out: Int32Array): number {
      if (script(this.pollsInPass++) === 0) return 0;
      out[0] = FD;
      out[1] = POLLIN;
      return 1;
    }

    wait(_timeoutMs: number, out: Int32Array): number {
      stats.waits += 1;
      this.waiting = true;
      setImmediate(() => {
        this.waiting = false;
        out[0] = FD;
        out[1] = POLLIN;
        this.onDone(1, false);
      });
      return 0;
    }

    wake(): void {}
    setReferenced(): void {}
    forget(): number {
      return 0;
    }
    close(): void {}
    fileno(): number {
      return -1;
    }
  }
  const nativeBinding = { FD_SETSIZE: 1024, Poller: FakePoller } as unknown as NativeBinding;
  return { nativeBinding, stats };
}

const channel: Channel = {
  readable: () => true,
  writable: () => false,
  handle_read_event: () => undefined,
  handle_write_event: () => undefined,
  handle_expt_event: () => undefined,
  handle_close: () => undefined,
  handle_error: (err) => {
    throw err;
  },
};

async function runPasses(script: Script, passes: number) {
  const { nativeBinding, stats } = fakeBinding(script);
  const map = new Map([[FD, channel]]);
  const state = stateOf(map, nativeBinding);
  state.acquire('loop');
  try {
    for (let i = 0; i < passes; i++) {
      const pending = state.pass(kindOf.poll, 1000);
      if (pending !== undefined) await pending;
    }
  } finally {
    state.release();
    state.closePollers();
  }
  return stats;
}

describe('spinning before a wait', () => {
  it('keeps spinning while each spin finds the next request', async () => {
    // The first poll of a pass finds nothing; the first re-poll finds FD.
    const stats = await runPasses((n) => (n === 1 ? 1 : 0), 200);
    // The first pass has nothing to spin for and waits; a spin that a pause
    // of this process (JIT, GC) pushes past its 50 us may wait too.
    expect(stats.waits).toBeLessThanOrEqual(5);
    expect(stats.spunPasses).toBeGreaterThanOrEqual(190);
  });

  it('stops spinning when spins find nothing, and only probes now and then', async () => {
    // Nothing is ever ready without a wait: every spin is wasted.
    const stats = await runPasses(() => 0, 200);
    expect(stats.waits).toBe(200);
    // 6 wasted spins bring the hit rate under 50%; then one probe in 16.
    expect(stats.spunPasses).toBeGreaterThanOrEqual(6);
    expect(stats.spunPasses).toBeLessThanOrEqual(6 + Math.ceil(200 / 16) + 1);
  });

  it('starts spinning again when probes find work', async () => {
    let pass = 0;
    // 100 passes of sparse traffic, then dense: a re-poll finds FD at once.
    const stats = await runPasses((n) => {
      if (n === 0) pass += 1;
      return pass > 100 && n === 1 ? 1 : 0;
    }, 400);
    // Sparse: about 6 + 100/16 spins. Dense: the probes lift the hit rate
    // back over 50% within a few dozen passes, then every pass spins.
    expect(stats.spunPasses).toBeGreaterThan(250);
  });
});
