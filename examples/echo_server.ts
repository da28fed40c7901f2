// The echo server of Python's asyncore documentation, ported line by line:
// a dispatcher listens, and each connection gets a dispatcher_with_send
// that sends back whatever it reads.
//
// Run: npx tsx examples/echo_server.ts [port]
// (port 0, the default, picks a free one; the line printed first says which).
import { pathToFileURL } from 'node:url';
import * as asyncore from 'asyncore';
import { AF_INET, type socket } from 'asyncore/socket';

export class EchoHandler extends asyncore.dispatcher_with_send {
  override handle_read(): void {
    const data = this.recv(8192);
    if (data.length > 0) this.send(data);
  }

  override handle_close(): void {
    this.close();
  }
}

export class EchoServer extends asyncore.dispatcher {
  constructor(host: string, port: number, map?: asyncore.SocketMap) {
    super(null, map);
    this.create_socket(AF_INET);
    this.set_reuse_addr();
    this.bind([host, port]);
    this.listen(5);
  }

  get address(): asyncore.Address {
    return this.socket!.getsockname();
  }

  override handle_accepted(sock: socket, addr: asyncore.Address): void {
    console.log(`Incoming connection from ${JSON.stringify(addr)}`);
    new EchoHandler(sock, this._map);
  }
}

async function main(): Promise<void> {
  const server = new EchoServer('127.0.0.1', Number(process.argv[2] ?? 0));
  const [host, port] = server.address as [string, number];
  console.log(`listening on ${host}:${port}`);
  await asyncore.loop();
}

// Run as a program; importing the module (as the tests do) runs nothing.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
