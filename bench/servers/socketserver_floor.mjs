// The floor for any forking server whose children are Node processes:
// asyncore/socketserver's ForkingTCPServer, whose handler echoes with the
// two system calls Python's child makes per line (a blocking recv() and a
// send()), called straight on the addon with one buffer: no rfile, wfile,
// promise or line splitting. What ss-forking spends above this row is the
// handler's JavaScript; what this row spends above Python's forking server
// is the price of a V8 process, against a forked CPython one, as ten of
// them take turns on one core.
//
// The blocking recv() is bounded by SO_RCVTIMEO: one that finds no data
// within it waits for data on the event loop, as the package's reader
// does. The event loop so still gets its turns, and an idle child (while
// the load generator drives another server of the cell) sleeps as
// Python's does, instead of waking every few milliseconds on the CPU where
// the other servers are measured.
//
//   node socketserver_floor.mjs --tcp PORT
//
// Prints "ready <port>" once listening. Backlog 1024, as every server in
// bench/. The children run this file again; they print nothing.
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const packagePath = process.env.ASYNCORE_BENCH_PACKAGE || '../../dist/index.js';
const dist = path.dirname(require.resolve(packagePath));
const { BaseRequestHandler, ForkingTCPServer } = require(path.join(dist, 'socketserver.js'));
const { SOL_SOCKET, SO_RCVTIMEO } = require(path.join(dist, 'socket.js'));
const { binding, NON_BLOCKING } = require(path.join(dist, 'binding.js'));
const { io } = require(path.join(dist, 'socketserver', 'io.js'));

/** The longest a recv() blocks this child's JavaScript thread, in µs. */
const WAIT_US = 4000n;
const { EAGAIN } = constants.errno;

class Echo extends BaseRequestHandler {
  async handle() {
    const sock = this.request;
    sock.setblocking(true);
    const timeval = Buffer.alloc(16);
    timeval.writeBigInt64LE(WAIT_US, 8);
    sock.setsockopt(SOL_SOCKET, SO_RCVTIMEO, timeval);
    const fd = sock.fileno();
    const buf = Buffer.allocUnsafe(65536);
    for (;;) {
      // NON_BLOCKING: no wait of the addon's own; the kernel's, on this
      // blocking fd, is bounded by SO_RCVTIMEO (and EINTR is retried).
      const count = binding.recv(fd, buf, 0, NON_BLOCKING);
      if (count === -EAGAIN) {
        await io.readable(fd, null);
        continue;
      }
      if (count <= 0) return;
      for (let sent = 0; sent < count; ) {
        const result = binding.send(fd, buf.subarray(sent, count), 0, NON_BLOCKING);
        if (result < 0) return;
        sent += result;
      }
    }
  }
}

const argv = process.argv.slice(2);
const port = Number(argv[argv.indexOf('--tcp') + 1]);

class Server extends ForkingTCPServer {}
Server.prototype.request_queue_size = 1024;
Server.prototype.allow_reuse_address = true;

const server = new Server(['127.0.0.1', port], Echo);
if (!Server.is_child) process.stdout.write(`ready ${server.server_address[1]}\n`);
void server.serve_forever();
