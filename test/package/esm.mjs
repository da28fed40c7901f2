// An ES module consumer of the installed package (scripts/test-package.sh):
// the named imports the package documents, then an echo exchange with each backend.
import { dispatcher, loop, socket_map } from 'asyncore';
import * as asyncore from 'asyncore';
import { async_chat } from 'asyncore/asynchat';
import * as asynchat from 'asyncore/asynchat';
import { socketpair } from 'asyncore/socket';
import { poll } from 'asyncore/select';
import { pipe } from 'asyncore/posix';
import echo from './echo.cjs';

for (const [name, value] of Object.entries({ dispatcher, loop, async_chat, socketpair, poll, pipe })) {
  if (typeof value !== 'function') throw new Error(`import { ${name} } is ${typeof value}`);
}
if (!(socket_map instanceof Map)) throw new Error('socket_map is not a Map');
if (asyncore.dispatcher !== dispatcher) throw new Error('two copies of dispatcher');

for (const backend of ['select', 'poll', 'epoll']) {
  const result = await echo.echoExchange(asyncore, asynchat, { backend });
  console.log(`esm (${process.arch}, ${backend}): ${result}`);
}
console.log(`esm (${process.arch}): loaded ${echo.loadedBinary()}`);
