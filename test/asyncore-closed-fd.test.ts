// A channel whose fd is closed behind the package's back (posix.close() on
// its fileno()) while it is in the map. CPython: select() fails the pass
// with OSError EBADF, poll() reports POLLNVAL and the channel gets
// handle_close(). epoll hears nothing from the kernel, which drops the
// registration of a closed fd; the package finds it by the end of the
// pass's timeout and does what poll does.
import { constants as osConstants } from 'node:os';
import { describe, expect, it } from 'vitest';
import * as asyncore from '../src/asyncore';
import type { Backend } from '../src/asyncore';
import * as posix from '../src/posix';
import { socketpair } from '../src/socket';
import { expectNoFdLeaks } from './support';

expectNoFdLeaks();

const E = osConstants.errno;

/** A channel on one end of a socketpair, registered by one pass that waited. */
async function channelInMap(backend: Backend, interest: 'every_pass' | 'on_change' = 'every_pass') {
  const map: asyncore.SocketMap = new Map();
  const [a, b] = socketpair();
  const channel = new asyncore.dispatcher(a, map);
  const calls: string[] = [];
  channel.writable = () => false;
  channel.handle_read = () => calls.push('read');
  channel.handle_close = () => {
    calls.push('close');
    channel.close();
  };
  // A pass that waits: the channel is registered, and the reactor has made
  // its own fds, so that none takes the number closed next.
  await asyncore.loop({ map, backend, interest, timeout: 0.01, count: 1 });
  posix.close(a.fileno());
  return { map, channel, peer: b, calls };
}

describe('a channel whose fd was closed behind its back', () => {
  for (const backend of ['poll', 'epoll'] as const) {
    for (const interest of ['every_pass', 'on_change'] as const) {
      it(`${backend}, interest ${interest}: handle_close() runs within the pass's timeout and loop() ends`, async () => {
        const { map, peer, calls } = await channelInMap(backend, interest);
        // Bounded: before the fix, epoll ran all 40 passes without a word.
        await asyncore.loop({ map, backend, interest, timeout: 0.05, count: 40 });
        expect(calls).toEqual(['close']);
        expect(map.size).toBe(0);
        peer.close();
      });
    }
  }

  for (const interest of ['every_pass', 'on_change'] as const) {
    it(`epoll, interest ${interest}, passes with a zero timeout: handle_close() runs and loop() ends`, async () => {
      const { map, peer, calls } = await channelInMap('epoll', interest);
      await asyncore.loop({ map, backend: 'epoll', interest, timeout: 0, count: 100 });
      expect(calls).toEqual(['close']);
      expect(map.size).toBe(0);
      peer.close();
    });
  }

  it('select: the pass fails with OSError EBADF, as in CPython', async () => {
    const { map, channel, peer, calls } = await channelInMap('select');
    await expect(asyncore.loop({ map, backend: 'select', timeout: 0.05, count: 5 })).rejects.toMatchObject({
      errno: E.EBADF,
    });
    expect(calls).toEqual([]);
    channel.close();
    peer.close();
  });
});
