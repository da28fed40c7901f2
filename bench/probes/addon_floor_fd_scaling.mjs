// Scenario 3, the floor for JavaScript on this package's addon: the system
// calls of one epoll pass (a zero-timeout epoll_wait, then recv and send for
// the active pair) made straight from JavaScript, with no loop(), map or
// dispatcher. asyncore's pass costs what it adds to this; this costs what a
// JavaScript call per system call adds to the C pass.
//
//   node addon_floor_fd_scaling.mjs --n N --seconds S
//
// Same shape and output as asyncore_fd_scaling.mjs (epoll only): N idle fds
// (both ends of N/2 socketpairs) registered, one active pair, one ready fd
// per pass; "call" is timed pass by pass (median), "in_loop" is the mean.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const packagePath = process.env.ASYNCORE_BENCH_PACKAGE || '../../dist/index.js';
const { socket: pysocket, select } = require(packagePath);
const { binding, PollerKind } = require(path.join(path.dirname(require.resolve(packagePath)), 'binding.js'));

const argv = process.argv.slice(2);
const arg = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const n = Number(arg('--n'));
const seconds = Number(arg('--seconds'));

const keep = [];
const fds = [];
for (let i = 0; i < n; i += 2) {
  const [a, b] = pysocket.socketpair();
  keep.push(a, b);
  fds.push(a.fileno());
  if (i + 1 < n) fds.push(b.fileno());
}
const [x, y] = pysocket.socketpair();
keep.push(x, y);
for (const s of keep) s.setblocking(false);
const active = x.fileno();
const partner = y.fileno();
fds.push(active);

const poller = new binding.Poller(PollerKind.epoll, () => {});
poller.setInterest(Int32Array.from(fds), new Int32Array(fds.length).fill(select.POLLIN), fds.length, null, false);
const out = new Int32Array(2 * fds.length + 2);
const buffer = Buffer.allocUnsafe(1);
binding.send(partner, Buffer.from('x'), 0, 0);

function pass() {
  const count = poller.pollNow(out);
  for (let i = 0; i < count; i++) {
    if (out[2 * i] === active && binding.recv(active, buffer, 0, 0) === 1) binding.send(partner, buffer, 0, 0);
  }
}

const now = () => process.hrtime.bigint();
let end = now() + BigInt(Math.round(seconds * 0.1e9));
while (now() < end) pass();
const samples = [];
end = now() + BigInt(Math.round((seconds / 2) * 1e9));
while (now() < end) {
  const t0 = now();
  pass();
  samples.push(Number(now() - t0) / 1000);
}
samples.sort((p, q) => p - q);
const k = Math.max(10, samples.length);
const t0 = now();
for (let i = 0; i < k; i++) pass();
const inLoop = Number(now() - t0) / 1000 / k;
process.stdout.write(
  `${JSON.stringify({ ok: true, pass_us_median: samples[samples.length >> 1], in_loop_us: inLoop, passes: samples.length, max_fd: Math.max(...fds) })}\n`,
);
poller.close();
for (const s of keep) s.close();
