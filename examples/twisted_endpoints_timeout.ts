// Endpoints and TimeoutMixin: a server started from an endpoint
// description ("tcp:8007:interface=127.0.0.1"), whose protocol answers each
// line in upper case and closes a connection that stays quiet for 1.5 s
// (TimeoutMixin on LineReceiver); and a client that reaches it through
// clientFromString() and connectProtocol() (its steps written with
// inlineCallbacks), says two lines, then waits until the server gives up
// on it.
//
// Run: npx tsx examples/twisted_endpoints_timeout.ts server [DESCRIPTION]
//      npx tsx examples/twisted_endpoints_timeout.ts client DESCRIPTION
//      npx tsx examples/twisted_endpoints_timeout.ts           (both, on a free port)
// (a server prints "listening on HOST:PORT" on stderr, so that stdout
// carries the transcript alone).
import { pathToFileURL } from 'node:url';
import {
  Deferred,
  Factory,
  IPv4Address,
  LineReceiver,
  TimeoutMixin,
  clientFromString,
  connectProtocol,
  deferLater,
  inlineCallbacks,
  reactor,
  serverFromString,
  succeed,
  type Failure,
  type IListeningPort,
} from 'asyncore/twisted';

/** Seconds of quiet after which the server closes a connection. */
const IDLE = 1.5;
/** Seconds the client waits between its lines (well under IDLE). */
const PAUSE = 0.2;

/** Answers each line in upper case; closes the connection after IDLE quiet seconds. */
export class Shouter extends TimeoutMixin(LineReceiver) {
  override timeOut: number | null = IDLE;

  override connectionMade(): void {
    console.log('connection from', String(this.transport.getPeer()));
    this.setTimeout(this.timeOut);
  }

  override lineReceived(line: Buffer): void {
    this.resetTimeout();
    const text = line.toString();
    console.log('got:', text);
    this.sendLine(Buffer.from(text.toUpperCase()));
  }

  override timeoutConnection(): void {
    console.log(`idle for ${this.timeOut} s: closing`);
    this.sendLine(Buffer.from('bye: idle'));
    super.timeoutConnection();
  }

  override connectionLost(reason: Failure): void {
    this.setTimeout(null);
    console.log('connection lost:', reason.getErrorMessage());
  }
}

/** A client protocol whose lines are waited for one by one, as Deferreds. */
export class Chatter extends LineReceiver {
  private readonly lines: string[] = [];
  private readonly waiting: Array<Deferred<string>> = [];
  /** Fires with the reason's message once the connection is closed. */
  readonly closed = new Deferred<string>();

  /** The next line the server sends. */
  nextLine(): Deferred<string> {
    const line = this.lines.shift();
    if (line !== undefined) return succeed(line);
    const d = new Deferred<string>();
    this.waiting.push(d);
    return d;
  }

  override lineReceived(line: Buffer): void {
    const text = line.toString();
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter.callback(text);
    else this.lines.push(text);
  }

  override connectionLost(reason: Failure): void {
    this.closed.callback(reason.getErrorMessage());
  }
}

/**
 * The client's side of the conversation, with inlineCallbacks: each
 * `yield` waits for a Deferred and gives its result; the Deferred chat()
 * returns fires once the generator is done.
 */
export const chat = inlineCallbacks(function* (description: string) {
  const client: Chatter = yield connectProtocol(clientFromString(reactor, description), new Chatter());
  console.log('connected');
  for (const line of ['hello', 'how are you?']) {
    client.sendLine(Buffer.from(line));
    console.log('server said:', yield client.nextLine());
    yield deferLater(reactor, PAUSE, () => undefined);
  }
  console.log('now quiet');
  console.log('server said:', yield client.nextLine());
  console.log('disconnected:', yield client.closed);
});

/** Starts the server on `description`; prints where it listens on stderr. */
export async function serve(description: string): Promise<IListeningPort> {
  const port = await serverFromString(reactor, description).listen(Factory.forProtocol(Shouter));
  const host = port.getHost();
  if (host instanceof IPv4Address) console.error(`listening on ${host.host}:${host.port}`);
  else console.error(`listening on ${String(host)}`);
  return port;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [mode, description] = process.argv.slice(2);
  const running = reactor.run();
  try {
    if (mode === 'server') {
      await serve(description ?? 'tcp:8007:interface=127.0.0.1');
    } else if (mode === 'client') {
      await chat(description ?? 'tcp:127.0.0.1:8007');
      reactor.stop();
    } else {
      const port = await serve('tcp:0:interface=127.0.0.1');
      await chat(`tcp:127.0.0.1:${(port.getHost() as IPv4Address).port}`);
      reactor.stop();
    }
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
    reactor.stop();
  }
  await running;
}
