// Scenario: asynchat input splitting. 1 MiB of 10-byte lines ("123456789\n")
// is fed to async_chat.handle_read() through a fake recv(), with 1, 100,
// 10,000 and all (104,857) lines per read, in this package and in Python
// 3.11's asynchat. Both sides run the same handler: collect_incoming_data
// appends to `incoming`, found_terminator calls _get_data() and counts.
//
// CPython's handle_read slices ac_in_buffer once per line found, copying the
// rest of the buffer each time, so its time per line grows with the lines per
// read; ours keeps an offset and should stay flat.
//
//   node bench/asynchat_parse.mjs [--quick] [--reps N] [--json-out FILE]
//
// Every measurement runs in a fresh process; implementations and sizes are
// interleaved round by round; the table shows medians of lines per second.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, symlinkSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildDir,
  finishScenario,
  fmtRate,
  fmtRatio,
  mdTable,
  median,
  parseArgs,
  pythonAsyncore,
  rootDir,
  runIfMain,
  tail,
} from './lib/common.mjs';
import { QUICK } from './lib/plan.mjs';

const LINE = '123456789\n';
const TOTAL_LINES = Math.floor((1 << 20) / LINE.length); // 104,857
const LINES_PER_READ = [1, 100, 10_000, TOTAL_LINES];
// Untimed runs first in every process (V8 compiles the hot path meanwhile).
export const WARMUP = 2;

const PYTHON_CHILD = `
import asynchat, json, sys, time
per_read, iterations = int(sys.argv[1]), int(sys.argv[2])
WARMUP = ${WARMUP}
line, total = ${JSON.stringify(LINE)}.encode(), ${TOTAL_LINES}

class Splitter(asynchat.async_chat):
    def __init__(self, reads):
        asynchat.async_chat.__init__(self)
        self.reads, self.next, self.count = reads, 0, 0
        self.ac_in_buffer_size = 1 << 21
        self.set_terminator(b'\\n')
    def recv(self, buffer_size):
        data = self.reads[self.next]
        self.next += 1
        return data
    def collect_incoming_data(self, data):
        self._collect_incoming_data(data)
    def found_terminator(self):
        self._get_data()
        self.count += 1

reads = [line * min(per_read, total - i) for i in range(0, total, per_read)]
rates = []
for _ in range(iterations + WARMUP):
    chat = Splitter(reads)
    start = time.perf_counter()
    for _ in reads:
        chat.handle_read()
    elapsed = time.perf_counter() - start
    assert chat.count == total, chat.count
    rates.append(total / elapsed)
print(json.dumps(rates[WARMUP:]))
`;

/** The newest mtime of the .ts files under src/: any of them can change asynchat.js. */
function newestSourceMtime() {
  const src = path.join(rootDir, 'src');
  return Math.max(...readdirSync(src, { recursive: true })
    .filter((f) => String(f).endsWith('.ts'))
    .map((f) => statSync(path.join(src, String(f))).mtimeMs));
}

/**
 * The compiled module to measure: ASYNCORE_BENCH_PACKAGE when set (as for
 * the other scenarios, see ourPackage()), else dist/asynchat.js when it is
 * current, else a private build.
 */
function ourModulePath() {
  if (process.env.ASYNCORE_BENCH_PACKAGE) return path.resolve(process.env.ASYNCORE_BENCH_PACKAGE);
  const newest = newestSourceMtime();
  const dist = path.join(rootDir, 'dist', 'asynchat.js');
  if (existsSync(dist) && statSync(dist).mtimeMs >= newest) return dist;
  // src/binding.ts finds the addon relative to its parent directory: give
  // the private build a `build` link to the real one.
  const root = path.join(buildDir, 'asynchat-parse');
  const out = path.join(root, 'dist');
  mkdirSync(root, { recursive: true });
  if (!existsSync(path.join(root, 'build'))) symlinkSync(path.join(rootDir, 'build'), path.join(root, 'build'));
  const built = path.join(out, 'asynchat.js');
  if (!existsSync(built) || statSync(built).mtimeMs < newest) {
    const tsc = path.join(rootDir, 'node_modules', 'typescript', 'bin', 'tsc');
    execFileSync(process.execPath, [tsc, '-p', path.join(rootDir, 'tsconfig.build.json'), '--outDir', out,
      '--declaration', 'false', '--sourceMap', 'false'], { stdio: 'inherit' });
  }
  return built;
}

/** Child: ours, one size, `iterations` timed runs after the warm-up runs. */
function runOursChild(modulePath, perRead, iterations) {
  // The package's index.js has the module as .asynchat; asynchat.js is it.
  const mod = createRequire(import.meta.url)(modulePath);
  const { async_chat } = mod.asynchat ?? mod;
  class Splitter extends async_chat {
    constructor(reads) {
      super();
      this.reads = reads;
      this.next = 0;
      this.count = 0;
      this.ac_in_buffer_size = 1 << 21;
      this.set_terminator(Buffer.from('\n'));
    }
    recv() {
      return this.reads[this.next++];
    }
    collect_incoming_data(data) {
      this._collect_incoming_data(data);
    }
    found_terminator() {
      this._get_data();
      this.count++;
    }
  }
  const line = Buffer.from(LINE);
  const reads = [];
  for (let i = 0; i < TOTAL_LINES; i += perRead) reads.push(Buffer.concat(Array(Math.min(perRead, TOTAL_LINES - i)).fill(line)));
  const rates = [];
  for (let i = 0; i < WARMUP + iterations; i++) {
    const chat = new Splitter(reads);
    const start = process.hrtime.bigint();
    for (let r = 0; r < reads.length; r++) chat.handle_read();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (chat.count !== TOTAL_LINES) throw new Error(`split ${chat.count} lines, expected ${TOTAL_LINES}`);
    rates.push(TOTAL_LINES / seconds);
  }
  process.stdout.write(`${JSON.stringify(rates.slice(WARMUP))}\n`);
}

function measure(impl, perRead, iterations, context) {
  const r = impl === 'ours'
    ? spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', context.modulePath, String(perRead), String(iterations)], { encoding: 'utf8', timeout: 300_000 })
    : spawnSync(context.python, ['-W', 'ignore', '-c', PYTHON_CHILD, String(perRead), String(iterations)], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${impl} ${perRead} lines/read failed: ${tail(r.stderr || r.error?.message || '')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

export async function main(argv) {
  const opts = parseArgs(argv);
  const reps = opts.reps ?? (opts.quick ? QUICK.asynchat_parse.reps : 3);
  const iterations = opts.quick ? QUICK.asynchat_parse.iterations : 5;
  const linesPerRead = opts.quick ? QUICK.asynchat_parse.linesPerRead : LINES_PER_READ;
  const log = (m) => process.stderr.write(`${m}\n`);
  const py = pythonAsyncore();
  const notes = py.ok ? [] : [py.note];
  const context = { modulePath: ourModulePath(), python: py.python };
  const impls = py.ok ? ['ours', 'python'] : ['ours'];

  const samples = Object.fromEntries(impls.map((impl) => [impl, Object.fromEntries(linesPerRead.map((n) => [n, []]))]));
  for (let rep = 0; rep < reps; rep++) {
    for (const perRead of linesPerRead) {
      for (const impl of impls) {
        log(`asynchat_parse: round ${rep + 1}/${reps}, ${impl}, ${perRead} lines per read`);
        samples[impl][perRead].push(...measure(impl, perRead, iterations, context));
      }
    }
  }

  const results = Object.fromEntries(impls.map((impl) => [impl,
    Object.fromEntries(linesPerRead.map((n) => [n, { median: median(samples[impl][n]), samples: samples[impl][n] }]))]));
  const label = (n) => (n === TOTAL_LINES ? `${n.toLocaleString('en')} (all 1 MiB)` : n.toLocaleString('en'));
  const rows = linesPerRead.map((n) => [
    label(n),
    fmtRate(results.ours[n].median),
    py.ok ? fmtRate(results.python[n].median) : 'n/a',
    py.ok ? fmtRatio(results.ours[n].median / results.python[n].median) : 'n/a',
  ]);
  const markdown = [
    '## asynchat: splitting 1 MiB of 10-byte lines (lines per second)',
    '',
    `async_chat.handle_read() with a fake recv(); median of ${reps} processes x ${iterations} runs each` +
      (py.ok ? `; Python ${py.version}.` : '.'),
    ...notes.map((n) => `Note: ${n}.`),
    '',
    mdTable(['lines per read', 'this package', 'Python asynchat', 'ratio'], rows),
  ].join('\n');
  const result = {
    scenario: 'asynchat_parse',
    title: 'asynchat line splitting (lines/s)',
    params: { reps, iterations, totalLines: TOTAL_LINES, linesPerRead },
    notes,
    results,
    markdown,
  };
  return finishScenario(opts, result);
}

runIfMain(import.meta.url, async (argv) => {
  if (argv[0] === '--child') runOursChild(argv[1], Number(argv[2]), Number(argv[3]));
  else await main(argv);
});
