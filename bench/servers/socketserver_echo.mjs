// This package's side of bench/socketserver.mjs: asyncore/socketserver's
// ThreadingTCPServer or ForkingTCPServer with the same handler as
// bench/py/socketserver_echo.py, line for line: a StreamRequestHandler that
// writes back each line it reads, until the client closes.
//
//   node socketserver_echo.mjs --mixin threading|forking --tcp PORT
//
// PORT 0 binds an ephemeral port. Prints "ready <port>" once listening.
// Backlog 1024, as every server in bench/. A forking server's children run
// this file again; they print nothing.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const entry = process.env.ASYNCORE_BENCH_PACKAGE
  ? path.join(path.dirname(process.env.ASYNCORE_BENCH_PACKAGE), 'socketserver.js')
  : '../../dist/socketserver.js';
const { ForkingTCPServer, StreamRequestHandler, ThreadingTCPServer } = require(entry);

class Echo extends StreamRequestHandler {
  async handle() {
    for await (const line of this.rfile) await this.wfile.write(line);
  }
}

const argv = process.argv.slice(2);
const mixin = argv.includes('--mixin') ? argv[argv.indexOf('--mixin') + 1] : 'threading';
const port = Number(argv[argv.indexOf('--tcp') + 1]);
const Base = mixin === 'forking' ? ForkingTCPServer : ThreadingTCPServer;

class Server extends Base {}
Server.prototype.request_queue_size = 1024;
Server.prototype.allow_reuse_address = true;

const server = new Server(['127.0.0.1', port], Echo);
if (!(mixin === 'forking' && Server.is_child)) process.stdout.write(`ready ${server.server_address[1]}\n`);
void server.serve_forever();
