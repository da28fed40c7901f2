// A CommonJS consumer of the installed package (scripts/test-package.sh):
// require() of the root and a subpath, then an echo exchange.
'use strict';
const asyncore = require('asyncore');
const asynchat = require('asyncore/asynchat');
const echo = require('./echo.cjs');

if (typeof asyncore.dispatcher !== 'function') throw new Error('require("asyncore").dispatcher is missing');
if (asyncore.asynchat.async_chat !== asynchat.async_chat) throw new Error('two copies of async_chat');

echo
  .echoExchange(asyncore, asynchat, { backend: 'select' })
  .then((result) => {
    console.log(`cjs (${process.arch}, select): ${result}`);
    console.log(`cjs (${process.arch}): loaded ${echo.loadedBinary()}`);
  })
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
