// The floor for any echo server written in JavaScript on this package's
// addon: the same system calls as asyncore's epoll pass (a zero-timeout
// epoll_wait on the JavaScript thread, recv and send per ready fd, a short
// spin, then a wait on Node's loop), called straight from one loop with no
// dispatcher, map, handler or buffer object in between. What asyncore
// spends above this row is its own; what this row spends above the C
// server is the price of a JavaScript call per system call.
//
//   node addon_floor_echo.mjs (--tcp PORT | --unix PATH)
//
// Prints "ready <port|path>" once listening.  Backlog 1024, as every server
// in bench/.
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const packagePath = process.env.ASYNCORE_BENCH_PACKAGE || '../../dist/index.js';
const asyncore = require(packagePath);
const { binding, PollerKind } = require(path.join(path.dirname(require.resolve(packagePath)), 'binding.js'));
const { AF_INET, AF_UNIX, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, socket } = asyncore.socket;
const { POLLIN, POLLHUP, POLLERR } = asyncore.select;

const SPIN_US = 50;

const argv = process.argv.slice(2);
let listener;
let label;
if (argv.includes('--unix')) {
  const where = argv[argv.indexOf('--unix') + 1];
  rmSync(where, { force: true });
  listener = new socket(AF_UNIX, SOCK_STREAM);
  listener.bind(where);
  label = where;
} else {
  listener = new socket(AF_INET, SOCK_STREAM);
  listener.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  listener.bind(['127.0.0.1', Number(argv[argv.indexOf('--tcp') + 1])]);
  label = String(listener.getsockname()[1]);
}
listener.listen(1024);
listener.setblocking(false);
const listenFd = listener.fileno();

let wakeUp = null;
const poller = new binding.Poller(PollerKind.epoll, (count) => wakeUp(count));
// Room for 1,024 [fd, revents] pairs per poll, as many as a full pass needs here.
const out = new Int32Array(2 * 1024);
const one = new Int32Array(1);
const oneEvents = new Int32Array(1);
const connections = new Map();
const buffer = Buffer.allocUnsafe(8192);

function watch(fd, events) {
  one[0] = fd;
  oneEvents[0] = events;
  poller.setInterest(one, oneEvents, 1, null, true);
}

function ready() {
  let count = poller.pollNow(out);
  if (count === 0) {
    const until = performance.now() + SPIN_US / 1000;
    while (count === 0 && performance.now() < until) count = poller.pollNow(out);
  }
  return count;
}

watch(listenFd, POLLIN);
process.stdout.write(`ready ${label}\n`);
for (;;) {
  let count = ready();
  if (count === 0) {
    count = await new Promise((resolve) => {
      wakeUp = resolve;
      poller.wait(-1, out);
    });
  }
  for (let i = 0; i < count; i++) {
    const fd = out[2 * i];
    if (fd === listenFd) {
      for (;;) {
        let accepted;
        try {
          [accepted] = listener.accept();
        } catch {
          break;
        }
        accepted.setblocking(false);
        connections.set(accepted.fileno(), accepted);
        watch(accepted.fileno(), POLLIN);
      }
      continue;
    }
    const got = out[2 * i + 1] & (POLLHUP | POLLERR) ? 0 : binding.recv(fd, buffer, 0, 0);
    if (got > 0) {
      binding.send(fd, buffer.subarray(0, got), 0, 0);
    } else if (got !== -constants.errno.EAGAIN) {
      // The peer closed, or the connection failed.
      watch(fd, 0);
      connections.get(fd)?.close();
      connections.delete(fd);
    }
  }
}
