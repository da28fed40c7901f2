// This package's asynchat line echo: each connection is an async_chat with
// terminator '\n' that pushes every line back with its newline.  Same shape
// as bench/py/asynchat_echo.py.
//
//   node asynchat_echo.mjs [--backend select|poll|epoll] (--tcp PORT | --unix PATH)
//
// Prints "ready <port|path>" once listening.  Backlog 1024.
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';

const require = createRequire(import.meta.url);
const asyncore = require(process.env.ASYNCORE_BENCH_PACKAGE || '../../dist/index.js');
const { dispatcher, loop } = asyncore;
const { async_chat } = asyncore.asynchat;
const { AF_INET, AF_UNIX, SOCK_STREAM } = asyncore.socket;
const NL = Buffer.from('\n');

class LineEcho extends async_chat {
  constructor(sock) {
    super(sock);
    this.set_terminator(NL);
    this.buf = [];
  }

  collect_incoming_data(data) {
    this.buf.push(data);
  }

  found_terminator() {
    const line = this.buf.length === 1 ? this.buf[0] : Buffer.concat(this.buf);
    this.buf = [];
    this.push(Buffer.concat([line, NL]));
  }
}

class Server extends dispatcher {
  constructor(family, addr) {
    super();
    this.create_socket(family, SOCK_STREAM);
    if (family === AF_INET) this.set_reuse_addr();
    this.bind(addr);
    this.listen(1024);
  }

  handle_accepted(sock) {
    new LineEcho(sock);
  }
}

const argv = process.argv.slice(2);
const backend = argv.includes('--backend') ? argv[argv.indexOf('--backend') + 1] : 'select';
let label;
if (argv.includes('--unix')) {
  const path = argv[argv.indexOf('--unix') + 1];
  rmSync(path, { force: true });
  new Server(AF_UNIX, path);
  label = path;
} else {
  const port = Number(argv[argv.indexOf('--tcp') + 1]);
  const server = new Server(AF_INET, ['127.0.0.1', port]);
  label = String(server.socket.getsockname()[1]);
}
process.stdout.write(`ready ${label}\n`);
await loop({ timeout: 30, backend });
