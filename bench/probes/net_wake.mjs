// Scenario 4, Node side: wake-up latency of a net.Socket 'data' event on a
// pipe (stdin), the way Node reads a pipe.  Reads 8-byte CLOCK_MONOTONIC
// stamps (process.hrtime reads the same clock) written by another process;
// stamps written before the socket existed are dropped.  Prints the samples
// as JSON at end of file.
import net from 'node:net';

const ready = process.hrtime.bigint();
const samples = [];
let pending = Buffer.alloc(0);
const sock = new net.Socket({ fd: 0, readable: true, writable: false });
sock.on('data', (chunk) => {
  const now = process.hrtime.bigint();
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  const whole = pending.length - (pending.length % 8);
  for (let off = 0; off < whole; off += 8) {
    const stamp = pending.readBigUInt64LE(off);
    if (stamp >= ready) samples.push(Number(now - stamp) / 1000);
  }
  pending = pending.subarray(whole);
});
sock.on('end', () => {
  process.stdout.write(`${JSON.stringify({ samples_us: samples })}\n`);
});
