// Interest on change against every pass, by random programs: the same
// program of channel operations (connect, send, push, close, close_when_done,
// a timer that pushes while a pass waits, peer writes, a handler that closes
// or pushes on another channel) must give the same sequence of handler calls
// whichever way the loop reads readable() and writable(), on every backend.
//
// Every pass runs one step: a clock channel, always writable while the
// program runs, takes the next step in its handler, so passes never wait or
// time out (a timed-out pass asks every channel, which would hide a missed
// change). A timer step stops the clock and acts only once the loop is
// waiting, then restarts the clock with wake(map, clock).
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import * as asyncore from '../src/asyncore';
import * as asynchat from '../src/asynchat';
import type { SocketMap } from '../src/asyncore';
import { stateOf } from '../src/asyncore/passes';
import { AF_UNIX, SOCK_STREAM, socketpair, type socket } from '../src/socket';
import { BACKENDS, removeUnixDir, unixPath } from './asyncore-support';
import { expectNoFdLeaks } from './support';

expectNoFdLeaks();
afterAll(removeUnixDir);

type Step =
  | { op: 'connect' }
  | { op: 'send' | 'push' | 'timer'; ch: number; text: string }
  | { op: 'close' | 'closeWhenDone'; ch: number }
  | { op: 'peer'; ch: number; cmd: 'hello' | 'close' | 'push'; target: number };

const channelIndex = fc.nat({ max: 7 });
const text = fc.constantFrom('a', 'bb', 'hello world');
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant({ op: 'connect' as const }),
  fc.record({ op: fc.constantFrom('send' as const, 'push' as const, 'timer' as const), ch: channelIndex, text }),
  fc.record({ op: fc.constantFrom('close' as const, 'closeWhenDone' as const), ch: channelIndex }),
  fc.record({
    op: fc.constant('peer' as const),
    ch: channelIndex,
    cmd: fc.constantFrom('hello' as const, 'close' as const, 'push' as const),
    target: channelIndex,
  }),
);

/** Runs one program; returns every handler call, in order. */
async function run(program: Step[], backend: asyncore.Backend, interest: 'every_pass' | 'on_change'): Promise<string[]> {
  const map: SocketMap = new Map();
  const log: string[] = [];
  const chans: Line[] = [];
  const raw: socket[] = [];
  /** Raw peers of the first channels, by channel name. */
  const peers = new Map<string, socket>();

  class Line extends asynchat.async_chat {
    readonly name = `p${chans.length}`;
    #input: Buffer[] = [];
    constructor(sock?: socket | null) {
      super(sock, map);
      chans.push(this);
      this.set_terminator('\n');
    }
    override collect_incoming_data(data: Buffer): void {
      this.#input.push(Buffer.from(data));
    }
    override found_terminator(): void {
      const line = Buffer.concat(this.#input).toString();
      this.#input = [];
      log.push(`${this.name}.line(${line})`);
      const [cmd, target] = line.split(' ');
      const other = chans[Number(target) % chans.length];
      if (cmd === 'close' && other !== undefined) other.close();
      if (cmd === 'push' && other !== undefined) other.push(Buffer.from(`from ${this.name}\n`));
    }
    override handle_read(): void {
      log.push(`${this.name}.read`);
      super.handle_read();
    }
    override handle_write(): void {
      log.push(`${this.name}.write`);
      super.handle_write();
    }
    override handle_connect(): void {
      log.push(`${this.name}.connect`);
    }
    override handle_close(): void {
      log.push(`${this.name}.close`);
      this.close();
    }
    override handle_error(err: unknown): void {
      log.push(`${this.name}.error(${(err as Error).name})`);
      this.close();
    }
  }

  class Server extends asyncore.dispatcher {
    override handle_accepted(sock: socket): void {
      const ch = new Line(sock);
      log.push(`server.accepted(${ch.name})`);
    }
    override handle_error(err: unknown): void {
      throw err;
    }
  }

  const path = unixPath();
  const server = new Server(null, map);
  server.create_socket(AF_UNIX, SOCK_STREAM);
  server.bind(path);
  server.listen(16);

  for (let i = 0; i < 2; i++) {
    const [a, b] = socketpair();
    b.setblocking(false);
    raw.push(b);
    peers.set(new Line(a).name, b);
  }

  const pick = (n: number): Line => chans[n % chans.length]!;

  class Clock extends asyncore.dispatcher {
    running = true;
    next = 0;
    override readable(): boolean {
      return false;
    }
    override writable(): boolean {
      return this.running;
    }
    override handle_write(): void {
      const s = program[this.next++];
      if (s === undefined) {
        // Let what is in flight settle for a few passes, then end.
        if (this.next > program.length + 4) asyncore.close_all(map);
        return;
      }
      this.act(s);
    }
    act(s: Step): void {
      switch (s.op) {
        case 'connect': {
          const client = new Line(null);
          client.create_socket(AF_UNIX, SOCK_STREAM);
          client.connect(path);
          break;
        }
        case 'send':
          pick(s.ch).send(Buffer.from(`${s.text}\n`));
          break;
        case 'push':
          pick(s.ch).push(Buffer.from(`${s.text}\n`));
          break;
        case 'close':
          pick(s.ch).close();
          break;
        case 'closeWhenDone':
          pick(s.ch).close_when_done();
          break;
        case 'peer': {
          const names = [...peers.keys()];
          const peer = peers.get(names[s.ch % names.length]!)!;
          try {
            peer.send(Buffer.from(s.cmd === 'hello' ? 'hello\n' : `${s.cmd} ${s.target}\n`));
          } catch (err) {
            log.push(`peer.error(${(err as Error).name})`);
          }
          break;
        }
        case 'timer': {
          // Stop the clock (its own handler changed writable()), and push
          // from outside any handler once the loop waits for something.
          this.running = false;
          const target = pick(s.ch);
          const state = stateOf(map);
          const check = (): void => {
            if (state.waiting === null) {
              setImmediate(check);
              return;
            }
            log.push(`timer.push(${target.name})`);
            target.push(Buffer.from(`${s.text}\n`));
            this.running = true;
            asyncore.wake(map, this);
          };
          setImmediate(check);
          break;
        }
      }
    }
    override handle_error(err: unknown): void {
      throw err;
    }
  }
  const [c, cPeer] = socketpair();
  raw.push(cPeer);
  new Clock(c, map);

  try {
    await asyncore.loop({ map, timeout: 10, backend, interest });
  } finally {
    asyncore.close_all(map, true);
    for (const s of raw) s.close();
    // The loop's reactors close a turn later: the next run gets the same fds.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return log;
}

describe.each(BACKENDS)('interest on change against every pass (%s)', (backend) => {
  it('random programs give the same handler calls', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 14 }), async (program) => {
        const everyPass = await run(program, backend, 'every_pass');
        const onChange = await run(program, backend, 'on_change');
        expect(onChange).toEqual(everyPass);
      }),
      { numRuns: 40 },
    );
  });

  it('a program that uses every operation gives the same handler calls', async () => {
    const program: Step[] = [
      { op: 'connect' },
      { op: 'push', ch: 0, text: 'a' },
      { op: 'peer', ch: 0, cmd: 'push', target: 2 },
      { op: 'timer', ch: 3, text: 'bb' },
      { op: 'peer', ch: 1, cmd: 'hello', target: 0 },
      { op: 'send', ch: 2, text: 'hello world' },
      { op: 'peer', ch: 1, cmd: 'close', target: 3 },
      { op: 'closeWhenDone', ch: 2 },
      { op: 'close', ch: 0 },
      { op: 'peer', ch: 0, cmd: 'hello', target: 0 },
    ];
    const everyPass = await run(program, backend, 'every_pass');
    const onChange = await run(program, backend, 'on_change');
    expect(onChange).toEqual(everyPass);
    // The program did what it says: lines crossed, the timer pushed, a
    // handler closed another channel.
    expect(everyPass).toContain('server.accepted(p3)');
    expect(everyPass).toContain('timer.push(p3)');
    expect(everyPass).toContain('p1.line(close 3)');
    expect(everyPass).toContain('p2.close');
    expect(everyPass.filter((entry) => entry.includes('.line('))).not.toHaveLength(0);
  });
});
