// This package's side of bench/twisted.mjs: asyncore/twisted with the same
// two echo protocols as bench/py/twisted_echo.py, line for line.
//
//   node twisted_echo.mjs --mode line|raw --tcp PORT
//
// PORT 0 binds an ephemeral port. Prints "ready <port>" once listening.
// Backlog 1024, as every server in bench/.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const entry = process.env.ASYNCORE_BENCH_PACKAGE
  ? path.join(path.dirname(process.env.ASYNCORE_BENCH_PACKAGE), 'twisted.js')
  : '../../dist/twisted.js';
const { Factory, LineReceiver, Protocol, reactor } = require(entry);

class LineEcho extends LineReceiver {
  delimiter = Buffer.from('\n');

  lineReceived(line) {
    this.sendLine(line);
  }
}

class RawEcho extends Protocol {
  dataReceived(data) {
    this.transport.write(data);
  }
}

const argv = process.argv.slice(2);
const mode = argv.includes('--mode') ? argv[argv.indexOf('--mode') + 1] : 'line';
const port = Number(argv[argv.indexOf('--tcp') + 1]);
const factory = Factory.forProtocol(mode === 'line' ? LineEcho : RawEcho);
factory.noisy = false;
const listening = reactor.listenTCP(port, factory, 1024, '127.0.0.1');
process.stdout.write(`ready ${listening.getHost().port}\n`);
void reactor.run();
