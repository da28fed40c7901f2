// The forking server of the seed documents, from Python's SocketServer:
//
//   class Server(ForkingMixIn, TCPServer): pass
//   class Handler(StreamRequestHandler):
//       def handle(self):
//           addr = self.request.getpeername()
//           print('Got connection from', addr)
//           self.wfile.write('Thank you for connecting')
//   server = Server(('', 1234), Handler)
//   server.serve_forever()
//
// Each connection is served in a child process: this program started again
// (Node has no fork()), where the same lines serve the connections the
// parent hands over instead of listening. Children are reused.
//
// Run: npx tsx examples/socketserver_forking.ts [port]
// (port 1234 by default; 0 picks a free one, printed first).
import { pathToFileURL } from 'node:url';
import { ForkingMixIn, StreamRequestHandler, TCPServer } from 'asyncore/socketserver';

export class Server extends ForkingMixIn(TCPServer) {
  // Python's class attribute `allow_reuse_address = True`: a restart binds
  // the port again at once, even with connections left in TIME_WAIT.
  static override allow_reuse_address = true;
}

export class Handler extends StreamRequestHandler {
  override handle(): void {
    const addr = this.request.getpeername();
    console.log('Got connection from', addr);
    void this.wfile.write(Buffer.from('Thank you for connecting'));
  }
}

async function main(): Promise<void> {
  const server = new Server(['', Number(process.argv[2] ?? 1234)], Handler);
  // A child runs these lines too; only the parent listens, and says where.
  if (!Server.is_child) console.log(`listening on 0.0.0.0:${(server.server_address as [string, number])[1]}`);
  await server.serve_forever();
}

// Run as a program; importing the module runs nothing.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
