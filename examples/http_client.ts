// The HTTP client of Python's asyncore documentation, ported line by line:
// one dispatcher that sends an HTTP/1.0 GET and prints what comes back
// until the server closes the connection.
//
// Run: npx tsx examples/http_client.ts http://127.0.0.1:8080/
import { pathToFileURL } from 'node:url';
import * as asyncore from 'asyncore';
import { AF_INET } from 'asyncore/socket';

export class HTTPClient extends asyncore.dispatcher {
  buffer: Buffer;
  readonly received: Buffer[] = [];

  constructor(host: string, port: number, path: string, map?: asyncore.SocketMap) {
    super(null, map);
    this.create_socket(AF_INET);
    this.connect([host, port]);
    this.buffer = Buffer.from(`GET ${path} HTTP/1.0\r\nHost: ${host}\r\n\r\n`, 'ascii');
  }

  override handle_connect(): void {}

  override handle_close(): void {
    this.close();
  }

  override handle_read(): void {
    const data = this.recv(8192);
    this.received.push(data);
    process.stdout.write(data);
  }

  override writable(): boolean {
    return this.buffer.length > 0;
  }

  override handle_write(): void {
    const sent = this.send(this.buffer);
    this.buffer = this.buffer.subarray(sent);
  }
}

async function main(): Promise<void> {
  const url = new URL(process.argv[2] ?? 'http://127.0.0.1:8080/');
  new HTTPClient(url.hostname, Number(url.port || 80), url.pathname + url.search);
  // Ends when the server has closed the connection: the map is empty.
  await asyncore.loop();
}

// Run as a program; importing the module (as the tests do) runs nothing.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
