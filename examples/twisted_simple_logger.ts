// The first Twisted server of the seed chapter, ported: SimpleLogger, a
// Protocol that prints each client as it connects, every chunk of data it
// sends, and the client again when it goes. A Factory makes one
// SimpleLogger per connection; reactor.run() serves until stopped.
//
// Run: npx tsx examples/twisted_simple_logger.ts [port]
// (the seed listens on 1234; port 0 picks a free one; the listening line
// goes to stderr, so that stdout carries what the seed prints).
import { pathToFileURL } from 'node:url';
import { Factory, Protocol, reactor, type Failure } from 'asyncore/twisted';

export class SimpleLogger extends Protocol {
  override connectionMade(): void {
    console.log('Got connection from', this.transport.client);
  }

  override connectionLost(_reason: Failure): void {
    console.log(this.transport.client, 'disconnected');
  }

  override dataReceived(data: Buffer): void {
    console.log(data);
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
