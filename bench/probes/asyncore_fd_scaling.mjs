// Scenario 3, this package: the cost of one loop pass with N idle channels
// and one active pair, per backend.
//
//   node asyncore_fd_scaling.mjs --backend select|poll|epoll --n N --seconds S [--interest every_pass|on_change]
//
// Same shape as py/fd_scaling.py: the idle channels are both ends of N/2
// socketpairs, the active pair is made last (highest fd), and every pass
// finds exactly one ready channel.  "call" times `await loop({count: 1})`
// call by call (median); "in_loop" is one loop({count: K}) divided by K.
// Prints one JSON line.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pkg = require(process.env.ASYNCORE_BENCH_PACKAGE || '../../dist/index.js');
const { dispatcher, loop } = pkg;
const { socketpair } = pkg.socket;

const argv = process.argv.slice(2);
const arg = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const backend = arg('--backend');
const interest = arg('--interest') ?? 'every_pass';
const n = Number(arg('--n'));
const seconds = Number(arg('--seconds'));
const byte = Buffer.from('x');

class Idle extends dispatcher {
  readable() {
    return true;
  }
  writable() {
    return false;
  }
  handle_read() {}
}

class Active extends dispatcher {
  writable() {
    return false;
  }
  handle_read() {
    this.recv(1);
    this.partner.send(byte);
  }
}

const map = new Map();
const keep = [];
for (let i = 0; i < n; i += 2) {
  const [a, b] = socketpair();
  keep.push(a, b);
  new Idle(a, map);
  if (i + 1 < n) new Idle(b, map);
}
const [x, y] = socketpair();
keep.push(x, y);
const active = new Active(x, map);
active.partner = y;
y.send(byte);
const maxFd = Math.max(...map.keys());
const opts = { timeout: 1, map, count: 1, backend, interest };

try {
  const now = () => process.hrtime.bigint();
  let end = now() + BigInt(Math.round(seconds * 0.1e9));
  while (now() < end) await loop(opts);
  const samples = [];
  end = now() + BigInt(Math.round((seconds / 2) * 1e9));
  while (now() < end) {
    const t0 = now();
    await loop(opts);
    samples.push(Number(now() - t0) / 1000);
  }
  samples.sort((p, q) => p - q);
  const k = Math.max(10, samples.length);
  const t0 = now();
  await loop({ ...opts, count: k });
  const inLoop = Number(now() - t0) / 1000 / k;
  process.stdout.write(
    `${JSON.stringify({ ok: true, pass_us_median: samples[samples.length >> 1], in_loop_us: inLoop, passes: samples.length, max_fd: maxFd })}\n`,
  );
} catch (e) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: `${e?.name}: ${e?.message}`, max_fd: maxFd })}\n`);
}
for (const ch of map.values()) ch.close();
for (const s of keep) {
  try {
    s.close();
  } catch {
    // already closed by its dispatcher
  }
}
