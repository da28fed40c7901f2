// The reactor's life, in child processes (one reactor per process, and it
// cannot be restarted): after Twisted 22.4's
// twisted/internet/test/test_core.py, the startup and shutdown triggers in
// their phases, run() keeping the process alive until stop(), stop() from
// a delayed call and from a protocol callback, and the errors for running
// twice, restarting and stopping a stopped reactor.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TIMEOUT_MULTIPLIER } from './support';

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'src', 'twisted.ts');

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `body` (CommonJS, with `tw` the twisted module) in a child; kills it after killAfterMs. */
function runChild(body: string, killAfterMs = 15_000): Promise<Outcome> {
  const script = `const tw = require(${JSON.stringify(entry)});\nconst { reactor } = tw;\n${body}`;
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs * TIMEOUT_MULTIPLIER);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('reactor lifecycle (test_core.py)', () => {
  it('startup and shutdown triggers run in their phases; a "before" Deferred holds the shutdown; run() resolves after', async () => {
    const out = await runChild(`
      const log = [];
      reactor.addSystemEventTrigger('before', 'startup', () => log.push('before startup running=' + reactor.running));
      reactor.addSystemEventTrigger('during', 'startup', () => log.push('during startup running=' + reactor.running));
      reactor.addSystemEventTrigger('after', 'startup', () => log.push('after startup running=' + reactor.running));
      reactor.callWhenRunning((x) => log.push('callWhenRunning ' + x), 'arg');
      reactor.addSystemEventTrigger('before', 'shutdown', () => {
        log.push('before shutdown');
        const d = new tw.Deferred();
        setTimeout(() => { log.push('shutdown Deferred fired'); d.callback(); }, 50);
        return d;
      });
      reactor.addSystemEventTrigger('during', 'shutdown', () => log.push('during shutdown running=' + reactor.running));
      const removed = reactor.addSystemEventTrigger('after', 'shutdown', () => log.push('removed trigger ran'));
      reactor.removeSystemEventTrigger(removed);
      reactor.addSystemEventTrigger('after', 'shutdown', () => log.push('after shutdown'));
      reactor.callLater(0.02, () => { log.push('stop'); reactor.stop(); log.push('stop returned'); });
      reactor.run().then(() => {
        log.push('run resolved running=' + reactor.running);
        try { reactor.stop(); } catch (e) { log.push(e.name + ': ' + e.message); }
        reactor.run().catch((e) => { log.push(e.name); console.log(JSON.stringify(log)); });
      });
    `);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual([
      'before startup running=false',
      'during startup running=true',
      'after startup running=true',
      'callWhenRunning arg',
      'stop',
      'stop returned',
      'before shutdown',
      'shutdown Deferred fired',
      'during shutdown running=false',
      'after shutdown',
      'run resolved running=false',
      "ReactorNotRunning: Can't stop reactor that isn't running.",
      'ReactorNotRestartable',
    ]);
  });

  it('run() keeps the process alive until stop(); Node timers keep running meanwhile; then it exits by itself', async () => {
    const out = await runChild(`
      let ticks = 0;
      const timer = setInterval(() => { ticks += 1; }, 10);
      reactor.callLater(0.4, () => { clearInterval(timer); console.log('ticks>10', ticks > 10); reactor.stop(); });
      reactor.run();
    `);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe('ticks>10 true\n');
    expect(out.ms).toBeGreaterThanOrEqual(350);
  });

  it('without stop() the process does not exit (killed after 1.5 s)', async () => {
    const out = await runChild(`reactor.run();`, 1500);
    expect(out.signal).toBe('SIGKILL');
  });

  it('delayed calls scheduled before run() wait for it; running twice is ReactorAlreadyRunning', async () => {
    const out = await runChild(`
      let called = false;
      reactor.callLater(0, () => { called = true; });
      setTimeout(() => {
        console.log('before run', called);
        const first = reactor.run();
        reactor.run().catch((e) => console.log(e.name));
        reactor.callLater(0.05, () => { console.log('after run', called); reactor.stop(); });
        first.then(() => console.log('done'));
      }, 50);
    `);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe('before run false\nReactorAlreadyRunning\nafter run true\ndone\n');
  });

  it('callWhenRunning(stop) stops at once; crash() ends run() without the shutdown, and the reactor can run again', async () => {
    const out = await runChild(`
      let shutdowns = 0;
      reactor.addSystemEventTrigger('during', 'shutdown', () => { shutdowns += 1; });
      reactor.callLater(0.02, () => reactor.crash());
      reactor.run().then(() => {
        console.log('crashed', reactor.running, shutdowns);
        reactor.callWhenRunning(() => reactor.stop());
        return reactor.run();
      }).then(() => console.log('stopped', reactor.running, shutdowns));
    `);
    expect(out.stderr).toBe('');
    expect(out.stdout).toBe('crashed false 0\nstopped false 1\n');
  });

  it('stop() from a protocol callback: connections and ports get connectionLost at shutdown, the factory stops', async () => {
    const out = await runChild(`
      const net = require('node:net');
      class StopOnData extends tw.Protocol {
        dataReceived(data) { console.log('data', data.toString()); reactor.stop(); }
        connectionLost(reason) { console.log('protocol lost', reason.type.name); }
      }
      class F extends tw.Factory {
        stopFactory() { console.log('stopFactory'); }
      }
      const port = reactor.listenTCP(0, F.forProtocol(StopOnData), 50, '127.0.0.1');
      reactor.callWhenRunning(() => {
        const c = net.connect(port.getHost().port, '127.0.0.1', () => c.write('halt'));
        c.on('error', () => {});
        c.on('close', () => console.log('peer closed'));
      });
      reactor.run().then(() => console.log('run resolved'));
    `);
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n');
    // Twisted disconnects in no set order (its reader set); only the set and the end are fixed.
    expect(lines[0]).toBe('data halt');
    expect(lines.slice(1, 3).sort()).toEqual(['protocol lost ConnectionLost', 'stopFactory']);
    expect(lines[3]).toBe('run resolved');
    expect(lines).toContain('peer closed');
  });

  it('stop() from within a delayed call while connections are busy: the shutdown still completes', async () => {
    const out = await runChild(`
      const net = require('node:net');
      class Echo extends tw.Protocol { dataReceived(d) { this.transport.write(d); } }
      const port = reactor.listenTCP(0, tw.Factory.forProtocol(Echo), 50, '127.0.0.1');
      let echoes = 0;
      reactor.callWhenRunning(() => {
        for (let i = 0; i < 5; i++) {
          const c = net.connect(port.getHost().port, '127.0.0.1', () => c.write('x'));
          c.on('data', (d) => {
            echoes += 1;
            c.write(d);
            // The stop is a delayed call made once traffic flows, however slow the machine.
            if (echoes === 10) reactor.callLater(0.05, () => reactor.stop());
          });
          c.on('error', () => {});
        }
      });
      reactor.run().then(() => { console.log('stopped', echoes > 10); process.exit(0); });
    `);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe('stopped true\n');
  });
});
