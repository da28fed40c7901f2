// The threading twin of socketserver_forking.ts: the same handler, with
// each connection served as a task of its own in this one process
// (Python's ThreadingMixIn runs it in a thread).
//
// Run: npx tsx examples/socketserver_threading.ts [port]
// (port 1234 by default; 0 picks a free one, printed first).
import { pathToFileURL } from 'node:url';
import { StreamRequestHandler, TCPServer, ThreadingMixIn } from 'asyncore/socketserver';

export class Server extends ThreadingMixIn(TCPServer) {
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
  console.log(`listening on 0.0.0.0:${(server.server_address as [string, number])[1]}`);
  await server.serve_forever();
}

// Run as a program; importing the module runs nothing.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
