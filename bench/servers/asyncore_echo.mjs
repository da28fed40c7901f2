// This package's echo server: the asyncore docs' example, line for line.
// An asyncore.dispatcher accepts; each connection gets a
// dispatcher_with_send whose handle_read sends back what it reads.
//
//   node asyncore_echo.mjs --backend select|poll|epoll [--interest every_pass|on_change] (--tcp PORT | --unix PATH)
//
// PORT 0 binds an ephemeral port.  Prints "ready <port|path>" once
// listening.  Backlog 1024, as every server in bench/.
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';

const require = createRequire(import.meta.url);
const asyncore = require(process.env.ASYNCORE_BENCH_PACKAGE || '../../dist/index.js');
const { dispatcher, dispatcher_with_send, loop } = asyncore;
const { AF_INET, AF_UNIX, SOCK_STREAM } = asyncore.socket;

class EchoHandler extends dispatcher_with_send {
  handle_read() {
    const data = this.recv(8192);
    if (data.length) this.send(data);
  }
}

class EchoServer extends dispatcher {
  constructor(family, addr) {
    super();
    this.create_socket(family, SOCK_STREAM);
    if (family === AF_INET) this.set_reuse_addr();
    this.bind(addr);
    this.listen(1024);
  }

  handle_accepted(sock) {
    new EchoHandler(sock);
  }
}

const argv = process.argv.slice(2);
const backend = argv.includes('--backend') ? argv[argv.indexOf('--backend') + 1] : 'select';
const interest = argv.includes('--interest') ? argv[argv.indexOf('--interest') + 1] : 'every_pass';
let label;
if (argv.includes('--unix')) {
  const path = argv[argv.indexOf('--unix') + 1];
  rmSync(path, { force: true });
  new EchoServer(AF_UNIX, path);
  label = path;
} else {
  const port = Number(argv[argv.indexOf('--tcp') + 1]);
  const server = new EchoServer(AF_INET, ['127.0.0.1', port]);
  label = String(server.socket.getsockname()[1]);
}
process.stdout.write(`ready ${label}\n`);
await loop({ timeout: 30, backend, interest });
