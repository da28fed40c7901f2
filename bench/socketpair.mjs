// Scenario: the cost of the socket wrapper itself. On a non-blocking
// AF_UNIX SOCK_STREAM socketpair, one side sends 64 bytes and the other
// receives them, in a loop; then a recv() on the empty side, which finds
// nothing (EAGAIN). The rows: this package's `socket` (its public methods,
// which raise BlockingIOError as Python's do, and the non-throwing ones its
// own layers call), the addon's functions called straight (the floor under
// the wrapper), and Python 3.11's socket module doing the same loop.
//
//   node bench/socketpair.mjs [--quick] [--reps N] [--json-out FILE]
//
// Each row of each repetition runs in a fresh process, rows interleaved,
// after an untimed pass of the same loop; the table shows the median of
// microseconds per iteration (one send + one recv, or one empty recv).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QUICK } from './lib/plan.mjs';
import { finishScenario, fmtRatio, mdTable, median, ourPackage, parseArgs, rootDir, runIfMain, usColumn } from './lib/common.mjs';

/** Bytes per message, as in the echo scenarios. */
const MESSAGE_SIZE = 64;

/**
 * The rows: `loop` is 'pair' (send + recv of one message) or 'empty' (a
 * recv that finds nothing); `impl` says who runs it.
 */
export const ROWS = [
  { id: 'ours', loop: 'pair', impl: 'ours', label: 'socket (this pkg): send() + recv()' },
  { id: 'ours-internal', loop: 'pair', impl: 'ours', label: 'socket (this pkg): _trySend() + _tryRecv(), its layers\' path' },
  { id: 'binding', loop: 'pair', impl: 'binding', label: 'addon called straight: send() + recv() into one buffer' },
  { id: 'python', loop: 'pair', impl: 'python', label: 'Python 3.11 socket: send() + recv()' },
  { id: 'ours-empty', loop: 'empty', impl: 'ours', label: 'socket (this pkg): recv() raising BlockingIOError' },
  { id: 'ours-empty-internal', loop: 'empty', impl: 'ours', label: 'socket (this pkg): _tryRecv() returning null' },
  { id: 'binding-empty', loop: 'empty', impl: 'binding', label: 'addon called straight: recv() returning -EAGAIN' },
  { id: 'python-empty', loop: 'empty', impl: 'python', label: 'Python 3.11 socket: recv() raising BlockingIOError' },
];

/** The package's entry (dist/index.js, or ASYNCORE_BENCH_PACKAGE), for a child. */
function packageEntry() {
  return process.env.ASYNCORE_BENCH_PACKAGE ?? path.join(rootDir, 'dist', 'index.js');
}

/** The loop body of each JavaScript row, given the two ends; each returns a check value. */
function jsLoop(id) {
  const require = createRequire(import.meta.url);
  const entry = packageEntry();
  const { socket: socketModule } = require(entry);
  const { binding } = require(path.join(path.dirname(entry), 'binding.js'));
  const { socketpair, BlockingIOError } = socketModule;
  const [a, b] = socketpair();
  a.setblocking(false);
  b.setblocking(false);
  const message = Buffer.alloc(MESSAGE_SIZE, 0x61);
  const fdA = a.fileno();
  const fdB = b.fileno();
  const into = Buffer.allocUnsafe(MESSAGE_SIZE);
  const loops = {
    ours: () => a.send(message) + b.recv(MESSAGE_SIZE).length,
    'ours-internal': () => a._trySend(message) + b._tryRecv(MESSAGE_SIZE).length,
    binding: () => binding.send(fdA, message, 0, 0) + binding.recv(fdB, into, 0, 0),
    'ours-empty': () => {
      try {
        return b.recv(MESSAGE_SIZE).length;
      } catch (err) {
        if (!(err instanceof BlockingIOError)) throw err;
        return 0;
      }
    },
    'ours-empty-internal': () => (b._tryRecv(MESSAGE_SIZE) === null ? 0 : 1),
    'binding-empty': () => (binding.recv(fdB, into, 0, 0) < 0 ? 0 : 1),
  };
  // A build of the package from before the internal paths has no such rows.
  if (typeof a._trySend !== 'function' && id.endsWith('internal')) return null;
  return { run: loops[id], close: () => (a.close(), b.close()) };
}

/**
 * In the child: microseconds per iteration of row `id` over `count`
 * iterations (after one untimed pass), wall-clock and CPU time.
 */
function measureChild(id, count) {
  const loop = jsLoop(id);
  if (loop === null) {
    process.stdout.write(`${JSON.stringify({ us: null, cpuUs: null })}\n`);
    return;
  }
  const { run } = loop;
  const expected = ROWS.find((row) => row.id === id).loop === 'pair' ? 2 * MESSAGE_SIZE : 0;
  let us = 0;
  let cpuUs = 0;
  for (let pass = 0; pass < 2; pass++) {
    let sum = 0;
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < count; i++) sum += run();
    us = Number(process.hrtime.bigint() - start) / 1000 / count;
    const used = process.cpuUsage(cpu);
    cpuUs = (used.user + used.system) / count;
    if (sum !== expected * count) throw new Error(`${id}: wrong byte count ${sum}`);
  }
  loop.close();
  process.stdout.write(`${JSON.stringify({ us, cpuUs })}\n`);
}

/** The same loops in Python; prints {"us": ...}. */
const PYTHON_LOOP = `
import json, socket, sys, time
loop, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
a, b = socket.socketpair()
a.setblocking(False)
b.setblocking(False)
message = b'a' * size
def pair():
    total = 0
    for _ in range(count):
        total += a.send(message) + len(b.recv(size))
    return total
def empty():
    total = 0
    for _ in range(count):
        try:
            total += len(b.recv(size))
        except BlockingIOError:
            pass
    return total
run, expected = (pair, 2 * size * count) if loop == 'pair' else (empty, 0)
for _ in range(2):
    cpu = time.process_time_ns()
    start = time.perf_counter_ns()
    total = run()
    us = (time.perf_counter_ns() - start) / 1000 / count
    cpu_us = (time.process_time_ns() - cpu) / 1000 / count
    if total != expected:
        sys.exit('wrong byte count %d' % total)
print(json.dumps({'us': us, 'cpuUs': cpu_us}))
`;

/** python3 from PATH (or $PYTHON), whatever its asyncore: only its socket module is used. */
function python() {
  return process.env.PYTHON || 'python3';
}

function measure(row, count) {
  const [cmd, args] =
    row.impl === 'python'
      ? [python(), ['-c', PYTHON_LOOP, row.loop, String(count), String(MESSAGE_SIZE)]]
      : [process.execPath, [fileURLToPath(import.meta.url), '--child', row.id, String(count)]];
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`socketpair ${row.id}: ${r.error?.message ?? r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

export async function main(argv) {
  const opts = parseArgs(argv);
  const reps = opts.reps ?? (opts.quick ? QUICK.socketpair.reps : 5);
  const count = opts.quick ? QUICK.socketpair.count : 300_000;
  const log = (m) => process.stderr.write(`${m}\n`);
  const notes = [];
  const pkg = ourPackage();
  const havePython = spawnSync(python(), ['-c', 'import socket'], { encoding: 'utf8' }).status === 0;
  if (!pkg.ok) notes.push(pkg.note);
  if (!havePython) notes.push(`${python()} not found: Python rows skipped`);
  const planned = opts.quick ? ROWS.filter((row) => QUICK.socketpair.rows.includes(row.id)) : ROWS;
  const rows = planned.filter((row) => (row.impl === 'python' ? havePython : pkg.ok));
  const samples = Object.fromEntries(rows.map((row) => [row.id, { wall: [], cpu: [] }]));
  for (let rep = 0; rep < reps; rep++) {
    // Rotated each repetition, so that drift in the machine hits every row alike.
    const k = rep % rows.length;
    for (const row of rows.slice(k).concat(rows.slice(0, k))) {
      const { us, cpuUs } = measure(row, count);
      const text = us === null ? 'n/a' : `${us.toFixed(3)} us (CPU ${cpuUs.toFixed(3)} us)`;
      log(`socketpair: round ${rep + 1}/${reps}, ${row.id.padEnd(20)} ${text}`);
      if (us !== null) {
        samples[row.id].wall.push(us);
        samples[row.id].cpu.push(cpuUs);
      }
    }
  }
  const results = Object.fromEntries(
    rows.map((row) => [
      row.id,
      { median: median(samples[row.id].wall), cpuMedian: median(samples[row.id].cpu), samples: samples[row.id] },
    ]),
  );
  const targets = [];
  const ours = results.ours?.median;
  const py = results.python?.median;
  if (ours && py) {
    targets.push({
      what: 'socketpair: send() + recv() of 64 bytes through socket / Python',
      value: ours / py,
      goal: '<= 1.00x',
      pass: ours <= py,
      text: fmtRatio(ours / py),
    });
  }
  const result = {
    scenario: 'socketpair',
    title: 'Socket wrapper: send + recv of 64 bytes on a socketpair (us per iteration)',
    params: { reps, count, messageSize: MESSAGE_SIZE },
    notes,
    rows: rows.map(({ id, loop, impl, label }) => ({ id, loop, impl, label })),
    results,
    targets,
  };
  result.markdown = markdownOf(result);
  return finishScenario(opts, result);
}

/** The scenario's Markdown, from its result. */
export function markdownOf(result) {
  const { params, notes, rows, results } = result;
  const us = usColumn(rows.map((row) => results[row.id].median));
  const cpuUs = usColumn(rows.map((row) => results[row.id].cpuMedian));
  const python = (loop) => results[loop === 'pair' ? 'python' : 'python-empty'];
  const ratio = (row, key) => {
    const value = results[row.id][key];
    const peer = python(row.loop)?.[key];
    return row.impl !== 'python' && value && peer ? fmtRatio(value / peer) : '';
  };
  const table = rows.map((row) => [
    row.label,
    us(results[row.id].median),
    ratio(row, 'median'),
    cpuUs(results[row.id].cpuMedian),
    ratio(row, 'cpuMedian'),
  ]);
  return [
    '## Socket wrapper: a 64-byte send + recv on a socketpair, and a recv that finds nothing (us per iteration)',
    '',
    `Non-blocking AF_UNIX SOCK_STREAM socketpair; ${params.count.toLocaleString('en')} iterations per run, ` +
      `median of ${params.reps} processes per row (after one untimed pass in each).`,
    ...notes.map((n) => `Note: ${n}.`),
    '',
    mdTable(['loop', 'per iteration', '/ Python', 'CPU per iteration', '/ Python (CPU)'], table),
  ].join('\n');
}

runIfMain(import.meta.url, async (argv) => {
  if (argv[0] === '--child') measureChild(argv[1], Number(argv[2]));
  else await main(argv);
});
