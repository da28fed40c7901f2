// Scenario 4, this package: wake-up latency from a byte written to a pipe by
// another process to handle_read running.
//
//   wake_tools writer ... | node asyncore_wake.mjs --backend select|poll|epoll
//
// A file_dispatcher on stdin reads 8-byte CLOCK_MONOTONIC stamps
// (process.hrtime reads the same clock); stamps written before the loop
// started are dropped.  Prints the samples as JSON at end of file.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { file_dispatcher, loop } = require(process.env.ASYNCORE_BENCH_PACKAGE || '../../dist/index.js');

const argv = process.argv.slice(2);
const backend = argv.includes('--backend') ? argv[argv.indexOf('--backend') + 1] : 'select';

class Reader extends file_dispatcher {
  constructor(fd, readyNs, map) {
    super(fd, map);
    this.readyNs = readyNs;
    this.pending = Buffer.alloc(0);
    this.samples = [];
  }

  writable() {
    return false;
  }

  handle_read() {
    const data = this.recv(4096);
    const now = process.hrtime.bigint();
    this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    const whole = this.pending.length - (this.pending.length % 8);
    for (let off = 0; off < whole; off += 8) {
      const stamp = this.pending.readBigUInt64LE(off);
      if (stamp >= this.readyNs) this.samples.push(Number(now - stamp) / 1000);
    }
    this.pending = this.pending.subarray(whole);
  }

  handle_close() {
    this.close();
  }
}

const map = new Map();
const reader = new Reader(0, process.hrtime.bigint(), map);
await loop({ timeout: 30, map, backend });
process.stdout.write(`${JSON.stringify({ samples_us: reader.samples })}\n`);
