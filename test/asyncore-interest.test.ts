// loop({ interest: 'on_change' }): a pass asks a channel's readable() and
// writable() again only when it joined the map, after a handler ran for it,
// after a method of this package changed its state, when wake() names it, or
// after a pass that timed out. One test per condition: each shows the
// channel asked in the pass after the condition (and not in the pass
// before), and that the handlers called are those of a loop that asks every
// pass.
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as asyncore from '../src/asyncore';
import * as asynchat from '../src/asynchat';
import type { Channel, SocketMap } from '../src/asyncore';
import { stateOf, kindOf } from '../src/asyncore/passes';
import { AF_UNIX, SOCK_STREAM, socket, socketpair } from '../src/socket';
import { BACKENDS, removeUnixDir, unixPath } from './asyncore-support';
import { expectNoFdLeaks, sleep } from './support';

expectNoFdLeaks();

const open: socket[] = [];
let map: SocketMap = new Map();

afterEach(() => {
  asyncore.close_all(map, true);
  for (const s of open.splice(0)) s.close();
  map = new Map();
});
afterAll(removeUnixDir);

function pair(): [socket, socket] {
  const [a, b] = socketpair();
  a.setblocking(false);
  b.setblocking(false);
  open.push(a, b);
  return [a, b];
}

/** Fills sock's send buffer, so that the kernel never reports it writable. */
function fill(sock: socket): void {
  const chunk = Buffer.alloc(65536);
  for (;;) {
    try {
      sock.send(chunk);
    } catch {
      return;
    }
  }
}

type Interest = 'every_pass' | 'on_change';

/** What one run saw: the passes (clock ticks) the subject was asked in, and every handler call. */
interface Run {
  asks: number[];
  calls: string[];
}

/**
 * The pass clock: always writable, so that every pass dispatches and none
 * waits or times out. Its handler runs the action of pass k, then counts.
 */
class Clock extends asyncore.dispatcher {
  ticks = 0;
  constructor(
    sock: socket,
    m: SocketMap,
    private readonly actions: Map<number, () => void>,
  ) {
    super(sock, m);
  }
  override readable(): boolean {
    return false;
  }
  override writable(): boolean {
    return true;
  }
  override handle_write(): void {
    const action = this.actions.get(this.ticks);
    this.ticks += 1;
    action?.();
  }
  override handle_error(err: unknown): void {
    throw err;
  }
}

/** Records the asks of a channel's readable()/writable() and its handler calls. */
interface Probe {
  clock: Clock | null;
  run: Run;
}

function probed<T extends Channel>(obj: T, probe: Probe, name = 'subject'): T {
  const readable = obj.readable.bind(obj);
  const writable = obj.writable.bind(obj);
  obj.readable = () => {
    probe.run.asks.push(probe.clock?.ticks ?? -1);
    return readable();
  };
  obj.writable = () => writable();
  for (const handler of ['handle_read', 'handle_write', 'handle_expt', 'handle_close', 'handle_connect', 'handle_accepted'] as const) {
    const own = (obj as unknown as Record<string, ((...args: unknown[]) => unknown) | undefined>)[handler];
    if (typeof own !== 'function') continue;
    (obj as unknown as Record<string, unknown>)[handler] = (...args: unknown[]) => {
      probe.run.calls.push(`${name}.${handler}@${probe.clock?.ticks ?? -1}`);
      return own.apply(obj, args);
    };
  }
  obj.handle_error = (err: unknown) => {
    throw err;
  };
  return obj;
}

interface Scenario {
  name: string;
  /** Makes the subject (or not yet, for a join); returns the actions by pass. */
  setup(probe: Probe): Map<number, () => void>;
  /** Passes asked on change (ticks); by default 0 (joined) and 2 (after the action in pass 1). */
  asks?: number[];
  passes?: number;
}

async function runScenario(scenario: Scenario, backend: asyncore.Backend, interest: Interest): Promise<Run> {
  const probe: Probe = { clock: null, run: { asks: [], calls: [] } };
  const actions = scenario.setup(probe);
  const [c] = pair();
  probe.clock = new Clock(c, map, actions);
  await asyncore.loop({ map, count: scenario.passes ?? 5, timeout: 10, backend, interest });
  const run = probe.run;
  asyncore.close_all(map, true);
  for (const s of open.splice(0)) s.close();
  map = new Map();
  return run;
}

/** A dispatcher subclass that reads nothing and writes nothing by default. */
class Quiet extends asyncore.dispatcher {
  wantRead = false;
  wantWrite = false;
  override readable(): boolean {
    return this.wantRead;
  }
  override writable(): boolean {
    return this.wantWrite;
  }
  override handle_read(): void {
    this.recv(100);
  }
  override handle_write(): void {
    this.wantWrite = false;
  }
  override handle_connect(): void {}
}

/** An async_chat whose readable() follows its terminator, so set_terminator() changes it. */
class Chat extends asynchat.async_chat {
  lines: Buffer[] = [];
  override readable(): boolean {
    return this.get_terminator() !== null;
  }
  override collect_incoming_data(data: Buffer): void {
    this.lines.push(data);
  }
  override found_terminator(): void {}
  override handle_connect(): void {}
}

/** A Chat that does not send on push(): only push() itself can tell the pass. */
class LazyChat extends Chat {
  override initiate_send(): void {}
}

/** A dispatcher_with_send that does not send on send(): only send() itself can tell the pass. */
class LazySender extends asyncore.dispatcher_with_send {
  override initiate_send(): void {}
  override readable(): boolean {
    return false;
  }
}

function listener(): string {
  const path = unixPath();
  const server = new socket(AF_UNIX, SOCK_STREAM);
  open.push(server);
  server.bind(path);
  server.listen(5);
  return path;
}

const scenarios: Scenario[] = [
  {
    name: 'when it joins the map (add_channel)',
    setup(probe) {
      const [a, peer] = pair();
      peer.send(Buffer.from('x'));
      return new Map([[1, () => {
        const d = new Quiet(null, map);
        d.wantRead = true;
        probed(d, probe);
        d.set_socket(a);
      }]]);
    },
    asks: [2, 3],
  },
  {
    name: 'when it joins the map (map.set of a duck-typed channel)',
    setup(probe) {
      const [a, peer] = pair();
      peer.send(Buffer.from('x'));
      const duck: Channel = {
        readable: () => true,
        writable: () => false,
        handle_read_event: () => {
          probe.run.calls.push(`duck.read@${probe.clock?.ticks}`);
          a.recv(100);
        },
        handle_write_event: () => undefined,
        handle_expt_event: () => undefined,
        handle_close: () => undefined,
        handle_error: (err) => {
          throw err;
        },
      };
      return new Map([[1, () => map.set(a.fileno(), probed(duck, probe, 'duck'))]]);
    },
    asks: [2, 3],
  },
  {
    name: 'after a handler ran for it',
    setup(probe) {
      const [a, peer] = pair();
      const d = probed(new Quiet(a, map), probe);
      d.wantRead = true;
      // Its own handler changes what writable() says.
      d.handle_read = function (this: Quiet) {
        probe.run.calls.push(`subject.handle_read@${probe.clock?.ticks}`);
        this.recv(100);
        this.wantWrite = true;
      };
      return new Map([[1, () => peer.send(Buffer.from('x'))]]);
    },
    asks: [0, 3, 4],
  },
  {
    name: 'after send()',
    setup(probe) {
      const [a] = pair();
      const d = probed(new Quiet(a, map), probe);
      d.send = function (this: Quiet, data: Uint8Array) {
        this.wantRead = true;
        return asyncore.dispatcher.prototype.send.call(this, data);
      };
      return new Map([[1, () => d.send(Buffer.from('x'))]]);
    },
  },
  {
    name: 'after dispatcher_with_send.send() (initiate_send() overridden)',
    setup(probe) {
      const [a, peer] = pair();
      void peer;
      fill(a);
      const d = probed(new LazySender(a, map), probe);
      return new Map([[1, () => d.send(Buffer.from('x'))]]);
    },
  },
  {
    name: 'after dispatcher_with_send.initiate_send()',
    setup(probe) {
      const [a] = pair();
      const d = probed(new asyncore.dispatcher_with_send(a, map), probe);
      d.readable = () => {
        probe.run.asks.push(probe.clock?.ticks ?? -1);
        return false;
      };
      fill(a);
      return new Map([[1, () => {
        d.out_buffer = Buffer.from('x');
        d.initiate_send();
      }]]);
    },
  },
  {
    name: 'after push() (initiate_send() overridden)',
    setup(probe) {
      const [a] = pair();
      fill(a);
      const d = probed(new LazyChat(a, map), probe);
      return new Map([[1, () => d.push(Buffer.from('x'))]]);
    },
  },
  {
    name: 'after push_with_producer() (initiate_send() overridden)',
    setup(probe) {
      const [a] = pair();
      fill(a);
      const d = probed(new LazyChat(a, map), probe);
      return new Map([[1, () => d.push_with_producer(new asynchat.simple_producer(Buffer.from('x')))]]);
    },
  },
  {
    name: 'after async_chat.initiate_send()',
    setup(probe) {
      const [a] = pair();
      fill(a);
      const d = probed(new Chat(a, map), probe);
      // A producer that has nothing more: initiate_send() drops it and
      // sends nothing, and the channel is no longer writable.
      d.producer_fifo.push({ more: () => '' });
      return new Map([[1, () => d.initiate_send()]]);
    },
  },
  {
    name: 'after close_when_done()',
    setup(probe) {
      const [a] = pair();
      fill(a);
      const d = probed(new Chat(a, map), probe);
      return new Map([[1, () => d.close_when_done()]]);
    },
  },
  {
    name: 'after set_terminator()',
    setup(probe) {
      const [a, peer] = pair();
      peer.send(Buffer.from('line\n'));
      const d = probed(new Chat(a, map), probe);
      return new Map([[1, () => d.set_terminator('\n')]]);
    },
    asks: [0, 2, 3],
  },
  {
    name: 'after discard_buffers()',
    setup(probe) {
      const [a] = pair();
      fill(a);
      const d = probed(new LazyChat(a, map), probe);
      d.producer_fifo.push(Buffer.from('x'));
      return new Map([[1, () => d.discard_buffers()]]);
    },
  },
  {
    name: 'after connect()',
    setup(probe) {
      const path = listener();
      const d = probed(new Quiet(null, map), probe);
      d.create_socket(AF_UNIX, SOCK_STREAM);
      // Readable once connected; asked before that, it says no.
      d.readable = function (this: Quiet) {
        probe.run.asks.push(probe.clock?.ticks ?? -1);
        return this.connected;
      };
      return new Map([[1, () => d.connect(path)]]);
    },
  },
  {
    name: 'after listen()',
    setup(probe) {
      const d = probed(new Quiet(null, map), probe);
      d.create_socket(AF_UNIX, SOCK_STREAM);
      d.bind(unixPath());
      d.readable = function (this: Quiet) {
        probe.run.asks.push(probe.clock?.ticks ?? -1);
        return this.accepting;
      };
      return new Map([[1, () => d.listen(5)]]);
    },
  },
  {
    name: 'after accept()',
    setup(probe) {
      const d = probed(new Quiet(null, map), probe);
      d.create_socket(AF_UNIX, SOCK_STREAM);
      d.bind(unixPath());
      d.listen(5);
      let accepted = 0;
      // Readable while nothing was accepted yet: accept() changes the answer.
      d.readable = () => {
        probe.run.asks.push(probe.clock?.ticks ?? -1);
        return accepted === 0;
      };
      d.accept = function (this: Quiet) {
        accepted += 1;
        return asyncore.dispatcher.prototype.accept.call(this);
      };
      return new Map([[1, () => d.accept()]]);
    },
  },
];

describe.each(BACKENDS)('interest on change (%s)', (backend) => {
  it.each(scenarios)('asks a channel again $name', async (scenario) => {
    const onChange = await runScenario(scenario, backend, 'on_change');
    const everyPass = await runScenario(scenario, backend, 'every_pass');
    const expected = scenario.asks ?? [0, 2];
    // Asked exactly then: in the pass after the change, and not before it.
    expect(onChange.asks).toEqual(expected);
    expect(everyPass.asks.length).toBeGreaterThanOrEqual(expected.length);
    expect(onChange.calls).toEqual(everyPass.calls);
  });

  it('asks a channel again when wake(map, channel) names it', async () => {
    const calls: string[][] = [];
    for (const interest of ['on_change', 'every_pass'] as const) {
      const probe: Probe = { clock: null, run: { asks: [], calls: [] } };
      const [a, peer] = pair();
      peer.send(Buffer.from('x'));
      const d = probed(new Quiet(a, map), probe);
      probed(new Quiet(pair()[0], map), probe, 'other');
      const [c] = pair();
      probe.clock = new Clock(c, map, new Map([[1, () => {
        // Changed by other means than the package's methods.
        d.wantRead = true;
        asyncore.wake(map, d);
      }]]));
      await asyncore.loop({ map, count: 4, timeout: 10, backend, interest });
      if (interest === 'on_change') {
        // d and the other at 0, d at 2 (named), and at 3 (it read in pass 2).
        expect(probe.run.asks).toEqual([0, 0, 2, 3]);
      }
      calls.push(probe.run.calls);
      asyncore.close_all(map, true);
    }
    expect(calls[0]).toEqual(calls[1]);
    expect(calls[0]).toHaveLength(1);
  });

  it('asks every channel again on wake(map)', async () => {
    const probe: Probe = { clock: null, run: { asks: [], calls: [] } };
    const d = probed(new Quiet(pair()[0], map), probe);
    const e = probed(new Quiet(pair()[0], map), probe, 'other');
    const [c] = pair();
    probe.clock = new Clock(c, map, new Map([[1, () => asyncore.wake(map)]]));
    await asyncore.loop({ map, count: 4, timeout: 10, backend, interest: 'on_change' });
    expect(probe.run.asks).toEqual([0, 0, 2, 2]);
    void d;
    void e;
  });

  it('forgets a channel that leaves the map (close, del_channel, map.delete)', async () => {
    for (const leave of ['close', 'del_channel', 'map.delete'] as const) {
      const probe: Probe = { clock: null, run: { asks: [], calls: [] } };
      const [a, peer] = pair();
      const d = probed(new Quiet(a, map), probe);
      d.wantRead = true;
      const [c] = pair();
      const interested: number[] = [];
      const watch = () => stateOf(map).watch(kindOf[backend]);
      probe.clock = new Clock(c, map, new Map([
        [1, () => {
          interested.push(watch().interested);
          // Ready now, for a channel that is about to leave the map.
          peer.send(Buffer.from('x'));
          if (leave === 'map.delete') map.delete(a.fileno());
          else d[leave]();
        }],
        [3, () => interested.push(watch().interested)],
      ]));
      await asyncore.loop({ map, count: 5, timeout: 10, backend, interest: 'on_change' });
      // The clock and d, then the clock alone.
      expect(interested).toEqual([2, 1]);
      expect(probe.run.asks).toEqual([0]);
      expect(probe.run.calls).toEqual([]);
      asyncore.close_all(map, true);
    }
  });

  it('asks every channel again after a pass that timed out', async () => {
    for (const timeout of [0, 0.02]) {
      const probe: Probe = { clock: null, run: { asks: [], calls: [] } };
      const [a, peer] = pair();
      peer.send(Buffer.from('x'));
      const d = probed(new Quiet(a, map), probe);
      // Asked on a pass that ran no handler and timed out: no clock here.
      await asyncore.loop({ map, count: 1, timeout, backend, interest: 'on_change' });
      expect(probe.run.asks).toEqual([-1]);
      // A readable() that depends on something no method of the package
      // changes (a clock, say): the next pass asks it all the same.
      d.wantRead = true;
      await asyncore.loop({ map, count: 1, timeout, backend, interest: 'on_change' });
      expect(probe.run.asks).toEqual([-1, -1]);
      expect(probe.run.calls).toEqual(['subject.handle_read@-1']);
      asyncore.close_all(map, true);
    }
  });

  it('asks every channel again after a woken pass runs out its timeout', async () => {
    const probe: Probe = { clock: null, run: { asks: [], calls: [] } };
    const [a, peer] = pair();
    peer.send(Buffer.from('x'));
    const d = probed(new Quiet(a, map), probe);
    const other = new Quiet(pair()[0], map);
    let stall = 0;
    // Asked again when woken, it takes until past the pass's deadline, so
    // that the pass ends by its timeout right after the wake-up.
    other.readable = () => {
      const until = stall;
      while (performance.now() < until);
      return false;
    };
    const timer = setTimeout(() => {
      stall = performance.now() + 80;
      asyncore.wake(map, other);
    }, 5);
    await asyncore.loop({ map, count: 1, timeout: 0.05, backend, interest: 'on_change' });
    clearTimeout(timer);
    stall = 0;
    d.wantRead = true;
    await asyncore.loop({ map, count: 1, timeout: 0.05, backend, interest: 'on_change' });
    expect(probe.run.asks).toEqual([-1, -1]);
    expect(probe.run.calls).toEqual(['subject.handle_read@-1']);
  });

  it('wakes a waiting pass for a change made outside a handler', async () => {
    const probe: Probe = { clock: null, run: { asks: [], calls: [] } };
    const [a, peer] = pair();
    peer.send(Buffer.from('x'));
    const d = probed(new Quiet(a, map), probe);
    d.handle_read = function (this: Quiet) {
      probe.run.calls.push('read');
      this.close();
    };
    setTimeout(() => {
      d.wantRead = true;
      asyncore.wake(map, d);
    }, 20);
    // Without the wake-up this pass would sleep for its whole timeout (10 s).
    await asyncore.loop({ map, count: 1, timeout: 10, backend, interest: 'on_change' });
    expect(probe.run.calls).toEqual(['read']);
    await sleep(0);
  });
});

describe('loop() interest option', () => {
  it('accepts every_pass and on_change, and rejects anything else', async () => {
    await expect(asyncore.loop({ map, interest: 5 as never })).rejects.toThrow(
      new TypeError('loop(): interest must be a string, not 5'),
    );
    await expect(asyncore.loop({ map, interest: 'sometimes' as never })).rejects.toThrow(
      new RangeError('loop(): interest must be \'every_pass\' or \'on_change\', got "sometimes"'),
    );
    await asyncore.loop({ map, interest: 'on_change' });
    await asyncore.loop({ map, interest: 'every_pass' });
  });

  it('wake() takes a channel, or nothing', () => {
    expect(() => asyncore.wake(map, 5 as never)).toThrow(
      new TypeError('wake(): channel must be a channel (with readable() and writable()), not 5'),
    );
    expect(() => asyncore.wake(map, {} as never)).toThrow(TypeError);
    expect(() => asyncore.wake(7 as never)).toThrow(TypeError);
    asyncore.wake(map);
    asyncore.wake(null, new Quiet());
  });

  it('gives the map back its own set(), delete() and clear() once the loop is done', async () => {
    const [a] = pair();
    const d = new Quiet(a, map);
    d.wantRead = true;
    const setBefore = map.set;
    await asyncore.loop({ map, count: 1, timeout: 0, interest: 'on_change' });
    expect(Object.keys(map)).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(map.set).toBe(setBefore);
    expect(Object.getOwnPropertyNames(map)).toEqual([]);
  });
});
