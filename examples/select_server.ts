// A server loop written on select() itself, the way Python programs did
// before (and beside) asyncore: one listening socket and its clients, all
// non-blocking, served by `select(readers, writers, [], timeout)`. Every
// line a client sends comes back in upper case; "quit" ends its connection.
//
// Run: npx tsx examples/select_server.ts [port]
import { pathToFileURL } from 'node:url';
import { select } from 'asyncore/select';
import { AF_INET, OSError, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, socket } from 'asyncore/socket';

export class LineServer {
  readonly listener: socket;
  private readonly inbox = new Map<socket, Buffer>();
  private readonly outbox = new Map<socket, Buffer>();
  /** Clients done sending ("quit" or end of input): closed once their replies are out. */
  private readonly closing = new Set<socket>();
  private running = true;

  constructor(host: string, port: number) {
    this.listener = new socket(AF_INET, SOCK_STREAM);
    this.listener.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    this.listener.bind([host, port]);
    this.listener.listen(5);
    this.listener.setblocking(false);
  }

  /** Serves until stop(); each select() waits at most `timeout` seconds. */
  async serve(timeout = 1): Promise<void> {
    while (this.running) {
      const readers = [this.listener, ...[...this.inbox.keys()].filter((s) => !this.closing.has(s))];
      const writers = [...this.outbox.keys()].filter((s) => this.outbox.get(s)!.length > 0);
      const [readable, writable] = await select(readers, writers, [], timeout);
      for (const s of readable) {
        if (s === this.listener) this.accept();
        else this.read(s);
      }
      for (const s of writable) {
        if (this.outbox.has(s)) this.write(s);
      }
    }
    for (const s of this.inbox.keys()) s.close();
    this.listener.close();
  }

  stop(): void {
    this.running = false;
  }

  private accept(): void {
    const [conn] = this.listener.accept();
    conn.setblocking(false);
    this.inbox.set(conn, Buffer.alloc(0));
    this.outbox.set(conn, Buffer.alloc(0));
  }

  private read(s: socket): void {
    let data: Buffer;
    try {
      data = s.recv(4096);
    } catch (err) {
      // A reset connection is just a closed one, to this server.
      if (!(err instanceof OSError)) throw err;
      data = Buffer.alloc(0);
    }
    if (data.length === 0) {
      this.finish(s);
      return;
    }
    let pending = Buffer.concat([this.inbox.get(s)!, data]);
    let newline: number;
    while ((newline = pending.indexOf(10)) >= 0) {
      const line = pending.subarray(0, newline).toString('latin1').replace(/\r$/, '');
      pending = pending.subarray(newline + 1);
      if (line === 'quit') {
        this.finish(s);
        return;
      }
      this.outbox.set(s, Buffer.concat([this.outbox.get(s)!, Buffer.from(`${line.toUpperCase()}\n`, 'latin1')]));
    }
    this.inbox.set(s, pending);
  }

  private write(s: socket): void {
    const out = this.outbox.get(s)!;
    try {
      this.outbox.set(s, out.subarray(s.send(out)));
    } catch (err) {
      if (!(err instanceof OSError)) throw err;
      this.drop(s);
      return;
    }
    if (this.closing.has(s) && this.outbox.get(s)!.length === 0) this.drop(s);
  }

  private finish(s: socket): void {
    this.closing.add(s);
    if (this.outbox.get(s)!.length === 0) this.drop(s);
  }

  private drop(s: socket): void {
    this.closing.delete(s);
    this.inbox.delete(s);
    this.outbox.delete(s);
    s.close();
  }
}

async function main(): Promise<void> {
  const server = new LineServer('127.0.0.1', Number(process.argv[2] ?? 0));
  const [host, port] = server.listener.getsockname() as [string, number];
  console.log(`listening on ${host}:${port}`);
  process.on('SIGTERM', () => server.stop());
  await server.serve();
}

// Run as a program; importing the module (as the tests do) runs nothing.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
