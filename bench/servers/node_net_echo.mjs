// Node's own answer to an echo server: net.createServer + socket.pipe(socket).
//
//   node node_net_echo.mjs (--tcp PORT | --unix PATH)
//
// Prints "ready <port|path>" once listening.  Backlog 1024, as every server
// in bench/.
import net from 'node:net';
import { rmSync } from 'node:fs';

const argv = process.argv.slice(2);
const unixAt = argv.indexOf('--unix');
const server = net.createServer((socket) => {
  socket.on('error', () => socket.destroy());
  socket.pipe(socket);
});
if (unixAt >= 0) {
  const path = argv[unixAt + 1];
  rmSync(path, { force: true });
  server.listen({ path, backlog: 1024 }, () => {
    process.stdout.write(`ready ${path}\n`);
  });
} else {
  const port = Number(argv[argv.indexOf('--tcp') + 1]);
  server.listen({ host: '127.0.0.1', port, backlog: 1024 }, () => {
    process.stdout.write(`ready ${server.address().port}\n`);
  });
}
