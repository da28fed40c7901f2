// A minimal HTTP/1.0 server on asynchat: `GET /name` answers "Hello name!".
//
// Each connection is an async_chat whose terminator is the blank line that
// ends the request head; found_terminator() parses it, pushes the whole
// response and asks for the channel to close once it is sent.
//
// Run: npx tsx examples/asynchat_http_server.ts [port]
import { pathToFileURL } from 'node:url';
import * as asyncore from 'asyncore';
import { async_chat } from 'asyncore/asynchat';
import { AF_INET, AF_INET6, SOCK_STREAM, type socket } from 'asyncore/socket';

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  405: 'Method Not Allowed',
  431: 'Request Header Fields Too Large',
};

/** Request heads longer than this are refused rather than buffered. */
const MAX_HEAD_BYTES = 16 * 1024;

export class HttpChannel extends async_chat {
  private headBytes = 0;
  // Set once the response is queued: one request per connection, and
  // whatever follows it is not looked at.
  private answered = false;

  constructor(sock: socket, map?: asyncore.SocketMap | null) {
    super(sock, map);
    this.set_terminator('\r\n\r\n');
  }

  override collect_incoming_data(data: Buffer): void {
    if (this.answered) return;
    this.headBytes += data.length;
    if (this.headBytes > MAX_HEAD_BYTES) {
      this.respond(431, 'Request head too large\n');
      return;
    }
    this._collect_incoming_data(data);
  }

  override found_terminator(): void {
    if (this.answered) return;
    const head = this._get_data().toString('latin1');
    const [method, target, version] = (head.split('\r\n', 1)[0] ?? '').split(' ');
    if (target === undefined || version === undefined || !version.startsWith('HTTP/') || !target.startsWith('/')) {
      this.respond(400, 'Bad request\n');
    } else if (method !== 'GET') {
      this.respond(405, `${method} is not supported\n`, { Allow: 'GET' });
    } else {
      let name: string;
      try {
        name = decodeURIComponent(target.slice(1).split('?', 1)[0] ?? '');
      } catch {
        this.respond(400, 'Bad percent-encoding in the path\n');
        return;
      }
      this.respond(200, `Hello ${name}!`);
    }
  }

  private respond(status: number, body: string, extraHeaders: Record<string, string> = {}): void {
    const payload = Buffer.from(body, 'utf8');
    const headers = {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': String(payload.length),
      Connection: 'close',
      ...extraHeaders,
    };
    const head = [`HTTP/1.0 ${status} ${REASONS[status]}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    this.push(Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1'));
    this.push(payload);
    this.close_when_done();
    this.answered = true;
    this.set_terminator(null);
  }
}

export class HttpServer extends asyncore.dispatcher {
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

  override handle_accepted(sock: socket): void {
    new HttpChannel(sock, this._map);
  }
}

// Run as a program; importing the module (as the tests do) runs nothing.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const server = new HttpServer('127.0.0.1', Number(process.argv[2] ?? 8080));
  process.stdout.write(`listening on 127.0.0.1:${server.port()}\n`);
  await asyncore.loop();
}
