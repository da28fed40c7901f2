// Scenario 4, the floor for JavaScript on this package's addon: wake-up
// latency of the bare epoll wait on Node's loop, with no loop(), map or
// dispatcher. A stamp's latency is taken right after read(), where
// asyncore's handle_read takes it after recv(). Reads 8-byte
// CLOCK_MONOTONIC stamps from stdin (a pipe); stamps written before the
// probe started are dropped. Prints the samples as JSON at end of file.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const packagePath = process.env.ASYNCORE_BENCH_PACKAGE || '../../dist/index.js';
const { select } = require(packagePath);
const { binding, PollerKind } = require(path.join(path.dirname(require.resolve(packagePath)), 'binding.js'));

const ready = process.hrtime.bigint();
const samples = [];
let pending = Buffer.alloc(0);
const buffer = Buffer.allocUnsafe(4096);

let wakeUp = null;
const poller = new binding.Poller(PollerKind.epoll, (count) => wakeUp(count));
poller.setInterest(Int32Array.of(0), Int32Array.of(select.POLLIN), 1, null, false);
const out = new Int32Array(4);

for (;;) {
  let count = poller.pollNow(out);
  if (count === 0) {
    count = await new Promise((resolve) => {
      wakeUp = resolve;
      poller.wait(-1, out);
    });
  }
  if (count <= 0) continue;
  const got = binding.read(0, buffer);
  const now = process.hrtime.bigint();
  if (got <= 0) break;
  pending = Buffer.concat([pending, buffer.subarray(0, got)]);
  const whole = pending.length - (pending.length % 8);
  for (let off = 0; off < whole; off += 8) {
    const stamp = pending.readBigUInt64LE(off);
    if (stamp >= ready) samples.push(Number(now - stamp) / 1000);
  }
  pending = pending.subarray(whole);
}
poller.close();
process.stdout.write(`${JSON.stringify({ samples_us: samples })}\n`);
