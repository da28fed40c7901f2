// A line-based chat server on asynchat: every line a client sends goes to
// all the other clients, prefixed with the sender's address.
//
// Run: npx tsx examples/chat_server.ts [port]
// and talk to it with `nc 127.0.0.1 <port>` from several terminals.
import { pathToFileURL } from 'node:url';
import * as asyncore from 'asyncore';
import { async_chat } from 'asyncore/asynchat';
import { AF_INET, AF_INET6, SOCK_STREAM, type socket } from 'asyncore/socket';

/** Lines longer than this are cut: a client cannot make the server buffer without bound. */
const MAX_LINE_BYTES = 4096;

function nameOf(address: asyncore.Address): string {
  if (typeof address === 'string') return address || 'unix';
  const [host, port] = address;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export class ChatChannel extends async_chat {
  readonly name: string;
  private readonly server: ChatServer;
  private lineBytes = 0;

  constructor(server: ChatServer, sock: socket, address: asyncore.Address) {
    super(sock, server._map);
    this.server = server;
    this.name = nameOf(address);
    this.set_terminator('\n');
    server.clients.add(this);
  }

  override collect_incoming_data(data: Buffer): void {
    const room = MAX_LINE_BYTES - this.lineBytes;
    if (room <= 0) return;
    const kept = data.length > room ? data.subarray(0, room) : data;
    this.lineBytes += kept.length;
    this._collect_incoming_data(kept);
  }

  override found_terminator(): void {
    let line = this._get_data();
    this.lineBytes = 0;
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, -1); // telnet's \r\n
    this.server.broadcast(this, Buffer.concat([Buffer.from(`${this.name}: `), line, Buffer.from('\n')]));
  }

  override handle_close(): void {
    this.server.clients.delete(this);
    this.close();
  }
}

export class ChatServer extends asyncore.dispatcher {
  readonly clients = new Set<ChatChannel>();

  constructor(host: string, port: number, map?: asyncore.SocketMap | null) {
    super(null, map);
    this.create_socket(host.includes(':') ? AF_INET6 : AF_INET, SOCK_STREAM);
    this.set_reuse_addr();
    this.bind([host, port]);
    this.listen(128);
  }

  /** The port actually bound (useful with port 0). */
  port(): number {
    const address = this.socket!.getsockname();
    return (address as [string, number])[1];
  }

  override handle_accepted(sock: socket, address: asyncore.Address): void {
    new ChatChannel(this, sock, address);
  }

  /** Queues line for every client but the sender; each sends at its own pace. */
  broadcast(sender: ChatChannel, line: Buffer): void {
    for (const client of this.clients) {
      if (client !== sender) client.push(line);
    }
  }

  /** Stops accepting and closes every client: the loop then ends. */
  shutdown(): void {
    for (const client of [...this.clients]) client.handle_close();
    this.close();
  }
}

// Run as a program; importing the module (as the tests do) runs nothing.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const server = new ChatServer('127.0.0.1', Number(process.argv[2] ?? 8023));
  process.stdout.write(`listening on 127.0.0.1:${server.port()}\n`);
  await asyncore.loop();
}
