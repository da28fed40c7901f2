// Scenario: the cost of waiting on a Deferred, written two ways: one
// `yield d` in an inlineCallbacks generator against one `await d` in an
// async function, over the same Deferreds. Two cases: a Deferred that
// already has its result (succeed(i)), and one that gets it a microtask
// later (the queueMicrotask that fires it is in both).
//
//   node bench/twisted_defer.mjs [--quick] [--reps N] [--json-out FILE]
//
// Each repetition runs in a fresh process (untimed warm-up rounds first);
// the table shows medians of nanoseconds per wait.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QUICK } from './lib/plan.mjs';
import { finishScenario, fmtRatio, mdTable, median, ourPackage, parseArgs, rootDir, runIfMain } from './lib/common.mjs';

// CASES.length * WAYS.length children per rep, as plan.mjs prices them.
const CASES = ['fired', 'pending'];
const WAYS = ['yield', 'await'];
const WARMUP_ROUNDS = 2;

/** In the child: ns per wait of `way` over `count` Deferreds of `kind`. */
async function measureChild(way, kind, count) {
  const require = createRequire(import.meta.url);
  const { Deferred, inlineCallbacks, succeed } = require(path.join(rootDir, 'dist', 'twisted.js'));
  const make =
    kind === 'fired'
      ? (i) => succeed(i)
      : (i) => {
          const d = new Deferred();
          queueMicrotask(() => d.callback(i));
          return d;
        };
  const byYield = inlineCallbacks(function* () {
    let sum = 0;
    for (let i = 0; i < count; i++) sum += yield make(i);
    return sum;
  });
  const byAwait = async () => {
    let sum = 0;
    for (let i = 0; i < count; i++) sum += await make(i);
    return sum;
  };
  const run = way === 'yield' ? () => byYield() : () => byAwait();
  let ns = 0;
  for (let round = 0; round <= WARMUP_ROUNDS; round++) {
    const start = process.hrtime.bigint();
    const sum = await run();
    ns = Number(process.hrtime.bigint() - start) / count;
    if (sum !== (count * (count - 1)) / 2) throw new Error(`wrong sum ${sum}`);
  }
  process.stdout.write(`${JSON.stringify({ ns })}\n`);
}

function measure(way, kind, count) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', way, kind, String(count)], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`twisted_defer child ${way} ${kind}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim()).ns;
}

export async function main(argv) {
  const opts = parseArgs(argv);
  const reps = opts.reps ?? (opts.quick ? QUICK.twisted_defer.reps : 7);
  const count = opts.quick ? QUICK.twisted_defer.count : 200_000;
  const log = (m) => process.stderr.write(`${m}\n`);
  const pkg = ourPackage();
  if (!pkg.ok) throw new Error(pkg.note);
  const samples = Object.fromEntries(CASES.map((kind) => [kind, Object.fromEntries(WAYS.map((way) => [way, []]))]));
  for (let rep = 0; rep < reps; rep++) {
    for (const kind of CASES) {
      for (const way of WAYS) {
        log(`twisted_defer: round ${rep + 1}/${reps}, ${way} of a ${kind} Deferred`);
        samples[kind][way].push(measure(way, kind, count));
      }
    }
  }
  const results = Object.fromEntries(
    CASES.map((kind) => [kind, Object.fromEntries(WAYS.map((way) => [way, { median: median(samples[kind][way]), samples: samples[kind][way] }]))]),
  );
  const ns = (x) => `${x.toFixed(0)} ns`;
  const rows = CASES.map((kind) => [
    kind === 'fired' ? 'a Deferred with its result (succeed)' : 'a Deferred fired a microtask later',
    ns(results[kind].yield.median),
    ns(results[kind].await.median),
    fmtRatio(results[kind].yield.median / results[kind].await.median),
  ]);
  const markdown = [
    '## Twisted: one `yield` in inlineCallbacks against one `await` of a Deferred (ns per wait)',
    '',
    `${count.toLocaleString('en')} waits per run; median of ${reps} processes (after ${WARMUP_ROUNDS} untimed runs in each).`,
    '',
    mdTable(['waiting on', 'yield (inlineCallbacks)', 'await (async function)', 'yield / await'], rows),
  ].join('\n');
  return finishScenario(opts, {
    scenario: 'twisted_defer',
    title: 'inlineCallbacks yield vs await of a Deferred (ns per wait)',
    params: { reps, count, warmupRounds: WARMUP_ROUNDS },
    notes: [],
    results,
    markdown,
  });
}

runIfMain(import.meta.url, async (argv) => {
  if (argv[0] === '--child') await measureChild(argv[1], argv[2], Number(argv[3]));
  else await main(argv);
});
