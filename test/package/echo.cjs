// The echo exchange that the packed package must carry out once installed
// (scripts/test-package.sh). It takes the modules as arguments, so that
// esm.mjs (import) and cjs.cjs (require) run the same exchange on the objects
// they imported.
//
// A server dispatcher accepts; each connection echoes what it reads through
// dispatcher_with_send; the client is an async_chat that pushes a few lines
// and collects them back by terminator. It is Python's asyncore echo example.
'use strict';

const LINES = ['hello', 'from the packed asyncore', 'x'.repeat(70000)];

async function echoExchange(asyncore, asynchat, loopOptions) {
  const { dispatcher, dispatcher_with_send, loop, socket_map } = asyncore;
  const { AF_INET, SOCK_STREAM } = asyncore.socket;

  class EchoHandler extends dispatcher_with_send {
    handle_read() {
      const data = this.recv(8192);
      if (data.length > 0) this.send(data);
    }
  }

  class EchoServer extends dispatcher {
    constructor() {
      super();
      this.create_socket(AF_INET, SOCK_STREAM);
      this.set_reuse_addr();
      this.bind(['127.0.0.1', 0]);
      this.listen(5);
    }
    handle_accepted(sock) {
      new EchoHandler(sock);
    }
  }

  const server = new EchoServer();
  const port = server.socket.getsockname()[1];
  const received = [];

  class LineClient extends asynchat.async_chat {
    constructor() {
      super();
      this.chunks = [];
      this.set_terminator(Buffer.from('\n'));
      this.create_socket(AF_INET, SOCK_STREAM);
      this.connect(['127.0.0.1', port]);
      this.push(Buffer.from(LINES.map((line) => `${line}\n`).join('')));
    }
    handle_connect() {}
    collect_incoming_data(data) {
      this.chunks.push(Buffer.from(data));
    }
    found_terminator() {
      received.push(Buffer.concat(this.chunks).toString());
      this.chunks = [];
      if (received.length === LINES.length) {
        // The echo handler then reads end of file and closes itself.
        this.close();
        server.close();
      }
    }
  }

  new LineClient();
  // Bounded: a broken package must fail, not hang.
  await loop({ timeout: 0.05, count: 2000, ...loopOptions });

  if (JSON.stringify(received) !== JSON.stringify(LINES)) {
    throw new Error(`echo mismatch: got ${received.length} lines: ${received.map((l) => l.slice(0, 30))}`);
  }
  if (socket_map.size !== 0) throw new Error(`${socket_map.size} channels left in socket_map`);
  return `${LINES.length} lines, ${LINES.join('').length} bytes echoed`;
}

// Which file node-gyp-build loaded, as seen from the installed package.
function loadedBinary() {
  const { createRequire } = require('node:module');
  const path = require('node:path');
  const packageJson = require.resolve('asyncore/package.json');
  const fromPackage = createRequire(packageJson);
  return fromPackage('node-gyp-build').resolve(path.dirname(packageJson));
}

module.exports = { echoExchange, loadedBinary };
