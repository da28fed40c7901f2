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
// Prints "ready <port|path>" once listening.
import { constants } from 'node:os';
import { acceptEach, asyncore, binding, listenFromArgv, out, pollReady, waitReady, watch } from './addon_loop.mjs';

const { POLLIN, POLLHUP, POLLERR } = asyncore.select;

const { listener, label } = listenFromArgv(process.argv.slice(2));
const listenFd = listener.fileno();
const connections = new Map();
const buffer = Buffer.allocUnsafe(8192);

function onAccepted(sock) {
  connections.set(sock.fileno(), sock);
  watch(sock.fileno(), POLLIN);
}

watch(listenFd, POLLIN);
process.stdout.write(`ready ${label}\n`);
for (;;) {
  let count = pollReady();
  if (count === 0) count = await waitReady();
  for (let i = 0; i < count; i++) {
    const fd = out[2 * i];
    if (fd === listenFd) {
      acceptEach(listener, onAccepted);
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
