// Shared plumbing for the bench/ scenarios: options, building the C tools,
// CPU pinning, spawning servers and probes, statistics and table text.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const rootDir = path.resolve(benchDir, '..');
export const buildDir = path.join(benchDir, '.build');

// ---------------------------------------------------------------- options

// Options shared by run.mjs and every scenario file.  Unknown flags are an
// error, so a typo does not silently run the full suite.
export function parseArgs(argv, extra = {}) {
  const opts = {
    quick: false,
    reps: null,
    scenario: [],
    json: null,
    svg: null,
    md: null,
    jsonOut: null,
    servers: null,
    noPin: false,
    ...extra,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const value = () => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    switch (flag) {
      case '--quick':
        opts.quick = true;
        break;
      case '--full':
        opts.quick = false;
        break;
      case '--reps':
        opts.reps = Number(value());
        break;
      case '--scenario':
        opts.scenario.push(...value().split(','));
        break;
      case '--json':
        opts.json = value();
        break;
      case '--svg':
        opts.svg = value();
        break;
      case '--md':
        opts.md = value();
        break;
      case '--json-out':
        opts.jsonOut = value();
        break;
      case '--servers':
        opts.servers = value().split(',');
        break;
      case '--no-pin':
        opts.noPin = true;
        break;
      case '--render':
        opts.render = value();
        break;
      case '-h':
      case '--help':
        opts.help = true;
        break;
      default:
        throw new Error(`unknown option ${a} (try --help)`);
    }
  }
  if (opts.reps !== null && !(opts.reps >= 1)) throw new Error(`--reps must be >= 1, got ${opts.reps}`);
  return opts;
}

// ---------------------------------------------------------------- C tools

const cTools = ['loadgen', 'echo_epoll', 'wake_tools', 'fd_scaling'];

// Compiles bench/c/*.c into bench/.build/ with `cc -O2` when the binary is
// missing or older than its source.
export function buildTools({ log = () => {} } = {}) {
  mkdirSync(buildDir, { recursive: true });
  const out = {};
  for (const name of cTools) {
    const src = path.join(benchDir, 'c', `${name}.c`);
    const bin = path.join(buildDir, name);
    out[name] = bin;
    if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(src).mtimeMs) continue;
    const cc = process.env.CC || 'cc';
    log(`compiling bench/c/${name}.c (${cc} -O2)`);
    const r = spawnSync(cc, ['-O2', '-Wall', '-o', bin, src], { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      throw new Error(`${cc} -O2 ${src} failed: ${r.error?.message ?? r.stderr}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------- pinning

let pinCache = null;

// Server on core 0, load generator on core 1, when the machine has two
// cores and taskset exists; otherwise unpinned, with a note saying why.
export function pinning(noPin = false) {
  if (pinCache) return pinCache;
  const ncpu = cpus().length;
  const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  let note;
  let on = false;
  if (noPin) note = 'unpinned (--no-pin)';
  else if (!hasTaskset) note = 'unpinned: taskset not found';
  else if (ncpu < 2) note = `unpinned: only ${ncpu} CPU`;
  else {
    on = true;
    note = `server pinned to CPU 0, load generator to CPU 1 (taskset; ${ncpu} CPUs)`;
  }
  pinCache = { on, note, server: on ? '0' : null, client: on ? '1' : null };
  return pinCache;
}

// The argv that runs `cmd` on `cpu` with the open-file limit raised to the
// hard limit (1,000 connections need more than the common soft 1,024).
// `exec` keeps the pid, so /proc/<pid>/stat is the program's own.
function wrapCommand(cmd, cpu) {
  const pinned = cpu !== null && cpu !== undefined ? ['taskset', '-c', String(cpu), ...cmd] : cmd;
  return ['sh', '-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null; exec "$@"', 'sh', ...pinned];
}

// ---------------------------------------------------------------- processes

// Every child still running is ended if the harness exits or is
// interrupted, so no server outlives the bench.
const live = new Map();
function killChild(child, group, signal) {
  try {
    if (group) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // already gone
  }
}
function track(child, group) {
  live.set(child, group);
  child.on('exit', () => live.delete(child));
}
function killAll() {
  for (const [child, group] of live) killChild(child, group, 'SIGKILL');
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

// Starts a server and resolves once it prints "ready <label>".
export function startServer(cmd, { cpu = null, timeoutMs = 15000 } = {}) {
  const argv = wrapCommand(cmd, cpu);
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: benchDir });
  let stdout = '';
  let stderr = '';
  track(child, false);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no "ready" within ${timeoutMs} ms: ${tail(stderr || stdout)}`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      if (stderr.length < 20000) stderr += d;
    });
    child.stdout.on('data', (d) => {
      if (stdout.length < 20000) stdout += d;
      const m = /^ready (\S+)/m.exec(stdout);
      if (m && timer) {
        clearTimeout(timer);
        resolve({
          pid: child.pid,
          label: m[1],
          stderr: () => stderr,
          alive: () => child.exitCode === null && child.signalCode === null,
          async stop() {
            if (child.exitCode === null && child.signalCode === null) {
              child.kill('SIGTERM');
              const t = setTimeout(() => child.kill('SIGKILL'), 2000);
              await exited;
              clearTimeout(t);
            }
          },
        });
      }
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`exited (${signal ?? code}) before ready: ${tail(stderr || stdout)}`));
    });
  });
}

// Runs a program to completion (bounded by timeoutMs) and returns its output.
export function runProgram(cmd, { cpu = null, timeoutMs = 60000, shell = false } = {}) {
  const argv = shell ? ['sh', '-c', cmd] : wrapCommand(cmd, cpu);
  return new Promise((resolve) => {
    // A shell pipeline gets its own process group, so a timeout can end
    // every process in it.
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: benchDir,
      detached: shell,
    });
    track(child, shell);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      if (stderr.length < 20000) stderr += d;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killChild(child, shell, 'SIGKILL');
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, signal: null, stdout, stderr: String(e), timedOut });
    });
  });
}

// The last JSON object a program printed on stdout.
export function lastJson(text) {
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    const s = line.trim();
    if (s.startsWith('{')) {
      try {
        return JSON.parse(s);
      } catch {
        // keep looking
      }
    }
  }
  return null;
}

// The first "SomeError: message" line of a Node stack dump.
function firstError(text) {
  const m = /^\w*Error(?: \[\w+\])?: .*$/m.exec(String(text));
  return m ? m[0].slice(0, 200) : '';
}

export function tail(text, n = 300) {
  const s = String(text).trim().replace(/\s+/g, ' ');
  return s.length > n ? `...${s.slice(-n)}` : s;
}

// ---------------------------------------------------------------- availability

let pythonCache;
// python3 with asyncore and asynchat importable (they are gone from 3.12).
export function pythonAsyncore() {
  if (pythonCache !== undefined) return pythonCache;
  const py = process.env.PYTHON || 'python3';
  const r = spawnSync(py, ['-W', 'ignore', '-c', 'import asyncore, asynchat, sys; print(sys.version.split()[0])'], {
    encoding: 'utf8',
  });
  pythonCache =
    r.status === 0
      ? { ok: true, python: py, version: r.stdout.trim() }
      : { ok: false, python: py, note: `${py} with asyncore not found: Python peers skipped` };
  return pythonCache;
}

let packageCache;
// Our compiled package: dist/ from `npm run build:ts` plus the native addon.
export function ourPackage() {
  if (packageCache !== undefined) return packageCache;
  // ASYNCORE_BENCH_PACKAGE points every server and probe at another build
  // of the package (e.g. a copy taken while dist/ is being rebuilt).
  const entry = process.env.ASYNCORE_BENCH_PACKAGE
    ? path.resolve(process.env.ASYNCORE_BENCH_PACKAGE)
    : path.join(rootDir, 'dist', 'index.js');
  if (process.env.ASYNCORE_BENCH_PACKAGE) process.env.ASYNCORE_BENCH_PACKAGE = entry;
  if (!existsSync(entry)) {
    packageCache = { ok: false, note: `${path.relative(rootDir, entry)} missing (run npm run build): this package skipped` };
    return packageCache;
  }
  const r = spawnSync(
    process.execPath,
    ['-e', `const a = require(${JSON.stringify(entry)}); if (typeof a.loop !== 'function' || typeof a.dispatcher !== 'function') process.exit(3);`],
    { encoding: 'utf8', timeout: 20000 },
  );
  packageCache =
    r.status === 0
      ? { ok: true, entry }
      : { ok: false, note: `${path.relative(rootDir, entry)} does not load (${firstError(r.stderr) || `exit ${r.status}`}): this package skipped` };
  return packageCache;
}

// ---------------------------------------------------------------- statistics

export function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.floor(q * sorted.length)));
  return sorted[i];
}

// ---------------------------------------------------------------- formatting

export function fmtRate(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(0);
}

/**
 * A formatter for one table column of microsecond values: the whole column
 * in one unit, ms when its largest value reaches 10 ms, else us, so that a
 * column never mixes "6200 us" with "131.0 ms". A value below 1 in that
 * unit keeps three significant digits: 2.46 us in a ms column reads
 * "0.00246 ms", not "0.00 ms".
 */
export function usColumn(values) {
  const finite = values.filter((v) => v !== null && v !== undefined && Number.isFinite(v));
  const ms = finite.length > 0 && Math.max(...finite) >= 10000;
  return (x) => {
    if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
    return `${digitsFor(ms ? x / 1000 : x)} ${ms ? 'ms' : 'us'}`;
  };
}

/** A value in its column's unit: fewer decimals as it grows, three significant digits below 1. */
function digitsFor(v) {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  if (v >= 1 || v === 0) return v.toFixed(2);
  return v.toPrecision(3);
}

export function fmtRatio(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  return `${x.toFixed(2)}x`;
}

export function fmtPct(x) {
  if (x === null || x === undefined || !Number.isFinite(x) || x < 0) return 'n/a';
  return `${Math.round(x * 100)}%`;
}

// A Markdown table; it reads as a plain-text table in a terminal too.
export function mdTable(header, rows) {
  const all = [header, ...rows].map((r) => r.map((c) => String(c ?? '')));
  const width = header.map((_, i) => Math.max(3, ...all.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i]))).join(' | ')} |`;
  const sep = `| ${width.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(all[0]), sep, ...all.slice(1).map(line)].join('\n');
}

// ---------------------------------------------------------------- results

// What a scenario file hands back to run.mjs: written to --json-out.
function writeScenarioResult(opts, result) {
  if (opts.jsonOut) writeFileSync(opts.jsonOut, JSON.stringify(result, null, 1));
}

// The tail of every scenario file: print the table, hand the result back.
export function finishScenario(opts, result) {
  process.stdout.write(`${result.markdown}\n\n`);
  writeScenarioResult(opts, result);
  return result;
}

// Runs main(argv) when this module is the program itself, not an import.
// Compared as URLs, so paths with spaces or % match too.
export function runIfMain(importMetaUrl, main) {
  if (!process.argv[1] || importMetaUrl !== pathToFileURL(process.argv[1]).href) return;
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`${e.stack ?? e}\n`);
    process.exit(1);
  });
}

export function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}
