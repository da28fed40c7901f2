// The seed chapter's second Twisted server, ported: the same SimpleLogger
// on LineReceiver, so that it prints whole lines (without their CR LF),
// however the bytes were split on the way.
//
// Run: npx tsx examples/twisted_line_logger.ts [port]
// (the seed listens on 1234; port 0 picks a free one; the listening line
// goes to stderr, so that stdout carries what the seed prints).
import { pathToFileURL } from 'node:url';
import { Factory, LineReceiver, reactor, type Failure } from 'asyncore/twisted';

export class SimpleLogger extends LineReceiver {
  override connectionMade(): void {
    console.log('Got connection from', this.transport.client);
  }

  override connectionLost(_reason: Failure): void {
    console.log(this.transport.client, 'disconnected');
  }

  override lineReceived(line: Buffer): void {
    console.log(line);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const factory = new Factory();
  factory.protocol = SimpleLogger;
  const port = reactor.listenTCP(Number(process.argv[2] ?? 1234), factory);
  // On stderr, so that stdout is the seed's transcript alone.
  console.error(`listening on 0.0.0.0:${port.getHost().port}`);
  await reactor.run();
}
