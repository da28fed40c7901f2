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
// Each repetition starts one fresh process per row, which makes an untimed
// pass of its loop and then runs it in slices when told (SLICES of them,
// count iterations in all): the rows take turns slice by slice, so that
// this machine's drift (20-30% for seconds at a time) hits neighbouring
// slices alike. The table shows the median over repetitions of
// microseconds per iteration (one send + one recv, or one empty recv), and
// each ratio is the median of the ratios of the two rows' slices in the
// same round.
import { spawn, spawnSync } from 'node:child_process';
import { readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { QUICK } from './lib/plan.mjs';
import { finishScenario, fmtRatio, mdTable, median, ourPackage, parseArgs, rootDir, runIfMain, usColumn } from './lib/common.mjs';

/** Bytes per message, as in the echo scenarios. */
const MESSAGE_SIZE = 64;

/** The slices each process's count is run in; a round of the 8 rows is about 0.1-0.2 s. */
const SLICES = 15;

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

/** The id of the Python row that a row of `loop` is compared with. */
const pythonRowOf = (loop) => ROWS.find((row) => row.impl === 'python' && row.loop === loop).id;

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

/** Microseconds per iteration of run over count iterations, wall-clock and CPU time. */
function timed(id, run, count, expected) {
  let sum = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) sum += run();
  const us = Number(process.hrtime.bigint() - start) / 1000 / count;
  const used = process.cpuUsage(cpu);
  if (sum !== expected * count) throw new Error(`${id}: wrong byte count ${sum}`);
  return { us, cpuUs: (used.user + used.system) / count };
}

/** The next line of this process's stdin, read synchronously; null at its end. */
function readCommand() {
  const byte = Buffer.alloc(1);
  let line = '';
  for (;;) {
    let n;
    try {
      n = readSync(0, byte, 0, 1, null);
    } catch (err) {
      if (err.code === 'EAGAIN') continue;
      throw err;
    }
    if (n === 0) return line === '' ? null : line;
    if (byte[0] === 0x0a) return line;
    line += String.fromCharCode(byte[0]);
  }
}

/**
 * In the child: an untimed pass of row `id` over `count` iterations, then
 * "ready"; then, for each "run N" on stdin, N iterations timed, as one JSON
 * line; "exit" or the end of stdin ends it.
 */
function measureChild(id, count) {
  const loop = jsLoop(id);
  if (loop === null) {
    process.stdout.write('absent\n');
    return;
  }
  const expected = ROWS.find((row) => row.id === id).loop === 'pair' ? 2 * MESSAGE_SIZE : 0;
  timed(id, loop.run, count, expected);
  writeSync(1, 'ready\n');
  for (let command = readCommand(); command !== null && command !== 'exit'; command = readCommand()) {
    const n = Number(/^run (\d+)$/.exec(command)?.[1]);
    if (!(n > 0)) throw new Error(`${id}: unknown command ${JSON.stringify(command)}`);
    writeSync(1, `${JSON.stringify(timed(id, loop.run, n, expected))}\n`);
  }
  loop.close();
}

/** The same loops in Python, with the same commands. */
const PYTHON_LOOP = `
import json, socket, sys, time
loop, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
a, b = socket.socketpair()
a.setblocking(False)
b.setblocking(False)
message = b'a' * size
def pair(count):
    total = 0
    for _ in range(count):
        total += a.send(message) + len(b.recv(size))
    return total
def empty(count):
    total = 0
    for _ in range(count):
        try:
            total += len(b.recv(size))
        except BlockingIOError:
            pass
    return total
run, expected = (pair, 2 * size) if loop == 'pair' else (empty, 0)
def timed(count):
    cpu = time.process_time_ns()
    start = time.perf_counter_ns()
    total = run(count)
    us = (time.perf_counter_ns() - start) / 1000 / count
    cpu_us = (time.process_time_ns() - cpu) / 1000 / count
    if total != expected * count:
        sys.exit('wrong byte count %d' % total)
    return {'us': us, 'cpuUs': cpu_us}
timed(count)
print('ready', flush=True)
for command in sys.stdin:
    if command.strip() == 'exit':
        break
    print(json.dumps(timed(int(command.split()[1]))), flush=True)
`;

/** python3 from PATH (or $PYTHON), whatever its asyncore: only its socket module is used. */
function python() {
  return process.env.PYTHON || 'python3';
}

/**
 * A row's process, once it has made its untimed pass: run(n) resolves to
 * its next slice's { us, cpuUs }; null when this build of the package has
 * no such row.
 */
async function startRow(row, count) {
  const [cmd, args] =
    row.impl === 'python'
      ? [python(), ['-c', PYTHON_LOOP, row.loop, String(count), String(MESSAGE_SIZE)]]
      : [process.execPath, [fileURLToPath(import.meta.url), '--child', row.id, String(count)]];
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('close', resolve));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`socketpair ${row.id}: exited (${await exited}): ${stderr.trim()}`);
    return value;
  };
  const first = await next();
  if (first === 'absent') return null;
  if (first !== 'ready') throw new Error(`socketpair ${row.id}: ${first}`);
  return {
    async run(n) {
      child.stdin.write(`run ${n}\n`);
      return JSON.parse(await next());
    },
    async stop() {
      child.stdin.end('exit\n');
      await exited;
    },
  };
}

/** One repetition: every row's process, the rows taking turns slice by slice; slices[rowId] = [{ us, cpuUs }]. */
async function runRound(rows, count) {
  const started = [];
  try {
    for (const row of rows) started.push({ row, proc: await startRow(row, count) });
    const slices = Object.fromEntries(rows.map((row) => [row.id, []]));
    const each = Math.max(1, Math.round(count / SLICES));
    for (let slice = 0; slice < SLICES; slice++) {
      for (const { row, proc } of started) if (proc !== null) slices[row.id].push(await proc.run(each));
    }
    return slices;
  } finally {
    for (const { proc } of started) await proc?.stop();
  }
}

/** The mean of a row's slices: its repetition's time per iteration. */
const meanOf = (xs) => xs.reduce((sum, x) => sum + x, 0) / xs.length;

/** The median over every round of every repetition of mine[rep][slice][key] / peer's. */
function slicedRatio(mine, peer, key) {
  const ratios = [];
  mine.forEach((slices, rep) => slices.forEach((x, i) => peer[rep]?.[i]?.[key] > 0 && ratios.push(x[key] / peer[rep][i][key])));
  return median(ratios);
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
  const samples = Object.fromEntries(rows.map((row) => [row.id, { wall: [], cpu: [], slices: [] }]));
  for (let rep = 0; rep < reps; rep++) {
    // Rotated each repetition, so that no row always follows the same one.
    const k = rep % rows.length;
    const slices = await runRound(rows.slice(k).concat(rows.slice(0, k)), count);
    for (const row of rows) {
      const mine = slices[row.id];
      if (mine.length === 0) continue;
      const us = meanOf(mine.map((x) => x.us));
      const cpuUs = meanOf(mine.map((x) => x.cpuUs));
      log(`socketpair: round ${rep + 1}/${reps}, ${row.id.padEnd(20)} ${us.toFixed(3)} us (CPU ${cpuUs.toFixed(3)} us)`);
      samples[row.id].wall.push(us);
      samples[row.id].cpu.push(cpuUs);
      samples[row.id].slices.push(mine);
    }
  }
  const results = Object.fromEntries(
    rows.map((row) => [
      row.id,
      { median: median(samples[row.id].wall), cpuMedian: median(samples[row.id].cpu), samples: samples[row.id] },
    ]),
  );
  for (const row of rows) {
    const peer = samples[pythonRowOf(row.loop)];
    if (row.impl === 'python' || !peer || samples[row.id].slices.length === 0) continue;
    results[row.id].ratio = slicedRatio(samples[row.id].slices, peer.slices, 'us');
    results[row.id].cpuRatio = slicedRatio(samples[row.id].slices, peer.slices, 'cpuUs');
  }
  const targets = [];
  const ratio = results.ours?.ratio;
  if (typeof ratio === 'number') {
    targets.push({
      what: 'socketpair: send() + recv() of 64 bytes through socket / Python',
      value: ratio,
      goal: '<= 1.00x',
      pass: ratio <= 1,
      text: fmtRatio(ratio),
    });
  }
  const result = {
    scenario: 'socketpair',
    title: 'Socket wrapper: send + recv of 64 bytes on a socketpair (us per iteration)',
    params: { reps, count, slices: SLICES, messageSize: MESSAGE_SIZE },
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
  const python = (loop) => results[pythonRowOf(loop)];
  // Slice by slice where the result has its slices; else (an older result) of the medians.
  const ratio = (row, key) => {
    if (row.impl === 'python') return '';
    const sliced = results[row.id][key === 'median' ? 'ratio' : 'cpuRatio'];
    if (typeof sliced === 'number') return fmtRatio(sliced);
    const value = results[row.id][key];
    const peer = python(row.loop)?.[key];
    return value && peer ? fmtRatio(value / peer) : '';
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
    `Non-blocking AF_UNIX SOCK_STREAM socketpair; ${params.count.toLocaleString('en')} iterations per process, ` +
      `median of ${params.reps} processes per row (after one untimed pass in each)` +
      (params.slices ? `; the rows' processes take turns in ${params.slices} slices, and each ratio is the median of ` +
        'the ratios of slices in the same round.' : '.'),
    ...notes.map((n) => `Note: ${n}.`),
    '',
    mdTable(['loop', 'per iteration', '/ Python', 'CPU per iteration', '/ Python (CPU)'], table),
  ].join('\n');
}

runIfMain(import.meta.url, async (argv) => {
  if (argv[0] === '--child') measureChild(argv[1], Number(argv[2]));
  else await main(argv);
});
