// Regressions of the select backend, each named after what broke.
// Regression: closing channels from a timer while a select() pass waited
// on the worker thread made loop() reject with OSError EBADF about 7 times
// in 100. dispatcher.close() takes the channel off the map, wakes the wait
// and closes the fd at once; a worker not yet inside select(2) then passed
// it a closed fd, and select(2) fails as a whole for one. The select backend
// now reports such an fd as POLLNVAL, and a pass ignores it once its channel
// has left the map.
import { describe, expect, it } from 'vitest';
import * as asyncore from '../src/asyncore';
import type { SocketMap } from '../src/asyncore';
import * as select from '../src/select';
import { socketpair } from '../src/socket';
import { BACKENDS } from './asyncore-support';
import { expectNoFdLeaks, sleep } from './support';

expectNoFdLeaks();

class Listener extends asyncore.dispatcher {
  override handle_accept(): void {}
}

describe.each(BACKENDS)('close_all() from a timer during a %s wait', (backend) => {
  it('never rejects loop()', async () => {
    for (let round = 0; round < 100; round++) {
      const map: SocketMap = new Map();
      const server = new Listener(null, map);
      server.create_socket();
      server.set_reuse_addr();
      server.bind(['127.0.0.1', 0]);
      server.listen(5);
      const running = asyncore.loop({ timeout: 0.05, map, backend });
      setTimeout(() => asyncore.close_all(map), 1 + (round % 5));
      await expect(running).resolves.toBeUndefined();
    }
  });
});

describe('a channel whose fd was closed behind its back', () => {
  it('still fails a select pass with EBADF, as in CPython', async () => {
    const [a, b] = socketpair();
    const map: SocketMap = new Map();
    const channel = new asyncore.dispatcher(a, map);
    // A first pass makes the poller now, so that its wake-up fd cannot take
    // the number the close below frees.
    await asyncore.poll(0, map);
    // The fd is closed, but the channel stays in the map under it.
    a.close();
    await expect(asyncore.poll(0.1, map)).rejects.toMatchObject({ errno: 9 });
    map.clear();
    channel.socket = null;
    b.close();
  });

  it('fails select.select() with EBADF while other fds are ready', async () => {
    const [a, b] = socketpair();
    const fd = a.fileno();
    await select.select([], [b], [], 0); // Makes the pooled poller first.
    a.close();
    await expect(select.select<select.Waitable>([fd], [b], [], 0)).rejects.toMatchObject({ errno: 9 });
    b.close();
    await sleep(0);
  });
});

// Regression (found by bench/fd_scaling.mjs): with channels on every fd
// below FD_SETSIZE, a select pass failed with EMFILE while making its
// poller, whose wake-up fd got a number select() cannot watch, instead of
// CPython's "filedescriptor out of range in select()".
describe('a select pass over channels that fill FD_SETSIZE', () => {
  it('is a RangeError that names poll, and poll2() serves the same map', async () => {
    const map: SocketMap = new Map();
    let highest = 0;
    while (highest < 1024 + 8) {
      const [a, b] = socketpair();
      new asyncore.dispatcher(a, map);
      new asyncore.dispatcher(b, map);
      highest = b.fileno();
    }
    await expect(asyncore.poll(0, map)).rejects.toThrow(/out of range in select\(\).*poll/);
    await expect(asyncore.poll2(0, map)).resolves.toBeUndefined();
    asyncore.close_all(map);
  });
});
