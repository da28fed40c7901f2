// The reactor's spin: after a turn that ran handlers it re-polls for a
// while before it pays for a wait. What it must not change: Node's loop
// still gets its turns while the reactor is busy, a timed call runs before
// the I/O handled after it is due, and stop() from a handler the spin ran
// stops before anything else is handled. Each case runs in a child process
// (one reactor per process), with a client and a server in the same
// reactor, so that every poll finds the other side's last write: the
// busiest a reactor can be.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TIMEOUT_MULTIPLIER } from './support';

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'src', 'twisted.ts');

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `body` in a child with `tw` (the twisted module), `reactor`, and a
 * ping-pong: `pingPong(onEcho)` connects a client to an echo server in the
 * same reactor; the client writes one byte, and onEcho(exchanges,
 * transport) runs on each echo; it writes the byte again unless onEcho
 * returns false.
 */
function runChild(body: string, killAfterMs = 20_000): Promise<Outcome> {
  const script = `
    const tw = require(${JSON.stringify(entry)});
    const { reactor } = tw;
    class Echo extends tw.Protocol { dataReceived(d) { this.transport.write(d); } }
    function pingPong(onEcho) {
      let exchanges = 0;
      class Ping extends tw.Protocol {
        connectionMade() { this.transport.write(Buffer.from('x')); }
        dataReceived(d) {
          exchanges += 1;
          if (onEcho(exchanges, this.transport) !== false) this.transport.write(d);
        }
      }
      const port = reactor.listenTCP(0, tw.Factory.forProtocol(Echo), 50, '127.0.0.1');
      reactor.connectTCP('127.0.0.1', port.getHost().port, tw.ClientFactory.forProtocol(Ping));
    }
    ${body}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs * TIMEOUT_MULTIPLIER);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the reactor spins before it waits', () => {
  it("a busy reactor handles what comes next without a wait: many echoes per turn of Node's loop", async () => {
    const out = await runChild(`
      // Node's turns, counted by an immediate that sets itself again.
      let turns = 0;
      let counting = true;
      const tick = () => { turns += 1; if (counting) setImmediate(tick); };
      let turnsAtStart = 0;
      pingPong((n) => {
        if (n === 100) { turnsAtStart = turns; setImmediate(tick); }
        if (n < 2100) return true;
        counting = false;
        console.log(JSON.stringify({ echoesPerTurn: 2000 / Math.max(1, turns - turnsAtStart) >= 4 }));
        reactor.stop();
        return false;
      });
      reactor.run();
    `);
    expect(out.stderr).toBe('');
    // Without the spin, each echo is a wait, and a wait a turn of Node's loop.
    expect(JSON.parse(out.stdout)).toEqual({ echoesPerTurn: true });
  });

  it("a reactor busy with its own traffic still lets Node's loop run: timers, immediates and promise jobs", async () => {
    const out = await runChild(`
      // Far more exchanges than a yield budget lets through; without yields
      // the timer would only fire once traffic stopped by itself.
      const CAP = 200000;
      const seen = {};
      let exchanges = 0;
      pingPong((n) => {
        exchanges = n;
        if (n === 100) {
          queueMicrotask(() => { seen.microtask = exchanges; });
          setImmediate(() => { seen.immediate = exchanges; });
          setTimeout(() => {
            seen.timer = exchanges;
            reactor.stop();
          }, 20);
        }
        return n < CAP;
      });
      reactor.run().then(() => {
        console.log(JSON.stringify({
          microtaskSoon: seen.microtask < 100 + 1000,
          immediateSoon: seen.immediate < 100 + 1000,
          timerWhileBusy: seen.timer < CAP,
        }));
      });
    `);
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual({ microtaskSoon: true, immediateSoon: true, timerWhileBusy: true });
  });

  it('a timed call due while traffic keeps coming runs in the next turn, before the next echo, as in Twisted', async () => {
    const out = await runChild(`
      const log = [];
      pingPong((n) => {
        if (n === 500) reactor.callLater(0, () => log.push('call after echo ' + n));
        if (n >= 500 && n <= 502) log.push('echo ' + n);
        if (n === 1000) { reactor.stop(); return false; }
      });
      reactor.run().then(() => console.log(JSON.stringify(log)));
    `);
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual(['echo 500', 'call after echo 500', 'echo 501', 'echo 502']);
  });

  it('a spin ends when the next timed call is due: I/O that arrives after that time waits for the call', async () => {
    // The clock is frozen while the case runs and moves 3 us per reading,
    // so that where the spin is when the call falls due does not depend on
    // the machine: the spin reads the clock once per poll. A socket pair's
    // far end is written once the clock passes the call's time by 6 us,
    // within the 50 us the spin would last if it ignored the call.
    const out = await runChild(`
      const { performance } = require('node:perf_hooks');
      const sock = require(${JSON.stringify(path.join(root, 'src', 'socket.ts'))});
      const realNow = performance.now.bind(performance);
      let frozenAt = null;
      let offset = 0;
      let onReading = null;
      performance.now = () => {
        if (frozenAt === null) return realNow() + offset;
        frozenAt += 0.003;
        if (onReading !== null) onReading(frozenAt);
        return frozenAt;
      };
      const unfreeze = () => { offset = frozenAt - realNow(); frozenAt = null; onReading = null; };

      const [near, far] = sock.socketpair();
      near.setblocking(false);
      const log = [];
      reactor.addReader({
        fileno: () => near.fileno(),
        doRead: () => { log.push('io ' + near.recv(10).toString()); reactor.stop(); },
      });
      pingPong((n) => {
        if (n < 300) return true;
        // A busy reactor, whose last turn ran this handler: it will spin.
        frozenAt = realNow() + offset;
        const due = frozenAt + 0.030;
        reactor.callLater(0.00003, () => { log.push('call'); unfreeze(); });
        onReading = (now) => {
          if (now < due + 0.006) return;
          onReading = null;
          far.send(Buffer.from('late'));
        };
        return false;
      });
      reactor.run().then(() => { console.log(JSON.stringify(log)); near.close(); far.close(); });
    `);
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual(['call', 'io late']);
  });

  it('stop() from a handler that a spin ran: the shutdown comes next, no other handler runs before it', async () => {
    const out = await runChild(`
      let stoppedAt = null;
      let after = 0;
      reactor.addSystemEventTrigger('before', 'shutdown', () => console.log('shutdown, echoes after stop: ' + after));
      pingPong((n) => {
        if (stoppedAt !== null) { after += 1; return true; }
        if (n === 300) { stoppedAt = n; reactor.stop(); }
        // Traffic goes on: the echo of this write is ready at the next poll.
        return true;
      });
      reactor.run().then(() => console.log('run resolved'));
    `);
    expect(out.stderr).toBe('');
    expect(out.stdout).toBe('shutdown, echoes after stop: 0\nrun resolved\n');
  });
});
