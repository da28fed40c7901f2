// Preloaded into the Node servers of bench/memory.mjs
// (`node --expose-gc --import ./gc_on_signal.mjs server.mjs ...`): on
// SIGUSR2 it runs a full garbage collection and then writes "gc <n>" to
// stderr, so the bench reads the server's RSS only after what is no longer
// used has been collected, and knows when that is. The server itself is
// the one the echo scenarios run, unchanged.
let collections = 0;

process.on('SIGUSR2', () => {
  globalThis.gc();
  // A second collection after one turn of the loop, so that what the first
  // one's finalizers released (native handles, FinalizationRegistry
  // callbacks) is collected too.
  setImmediate(() => {
    globalThis.gc();
    collections += 1;
    process.stderr.write(`gc ${collections}\n`);
  });
});
