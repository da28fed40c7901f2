// Scenario: memory per connection. Each server, in a fresh process, gets N
// TCP connections (10,000; 2,000 in --quick) that each make one exchange (a
// 64-byte line and its echo) and then stay open and idle; the table shows
// how much the server's resident memory grew, in KiB per connection.
//
//   node bench/memory.mjs [--quick] [--reps N] [--servers id,id] [--json-out FILE]
//
// One run: start the server; warm it with WARM_CONNS connections made, used
// and closed (so what a first connection allocates once is not counted);
// wait until it has closed them; read its RSS; open the N connections
// (bench/probes/memory_client.mjs, another process, pinned to the other
// CPU); read its RSS again. Node servers run with --expose-gc and collect
// their garbage before each reading (bench/servers/gc_on_signal.mjs);
// Python and C free what they stop using at once. The servers are those of
// the echo and Twisted scenarios, with the same command lines, except
// Python asyncore's, which accepts until EAGAIN (bench/py/asyncore_memory_echo.py
// says why).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  benchDir,
  finishScenario,
  fmtRatio,
  mdTable,
  median,
  ourPackage,
  parseArgs,
  pinning,
  pythonAsyncore,
  runIfMain,
  runProgram,
  startServer,
  tail,
} from './lib/common.mjs';
import { QUICK } from './lib/plan.mjs';
import { servers as echoServers } from './lib/servers.mjs';
import { allServers as twistedServers, twistedVersion } from './twisted.mjs';

const node = process.execPath;
const client = path.join(benchDir, 'probes', 'memory_client.mjs');
const gcPreload = pathToFileURL(path.join(benchDir, 'servers', 'gc_on_signal.mjs')).href;

/** Connections made and closed before the first reading, in every run. */
export const WARM_CONNS = 100;
/** Connections connecting or waiting for their echo at once. */
const CONCURRENCY = 200;
/** Bounds on each wait of a run, in milliseconds. */
const CLIENT_TIMEOUT_MS = 60_000;
const SETTLE_TIMEOUT_MS = 10_000;
const GC_TIMEOUT_MS = 10_000;

const echoServer = (id) => echoServers.find((s) => s.id === id);
const twistedServer = (id) => twistedServers.find((s) => s.id === id);

/** The rows, in table order; `peers` names the row an "ours" row is divided by. */
export const allServers = [
  { ...echoServer('asyncore-epoll-on-change'), peers: { python: 'py-asyncore-poll-accept-all', node: 'node-net' } },
  { ...twistedServer('tw-raw'), peers: { twisted: 'py-tw-raw', node: 'node-net' } },
  {
    id: 'py-asyncore-poll-accept-all',
    label: 'Python 3.11 asyncore, poll, accept loop',
    group: 'peer',
    needs: 'python',
    cmd: () => [pythonAsyncore().python, '-W', 'ignore', path.join(benchDir, 'py', 'asyncore_memory_echo.py'), '--backend', 'poll', '--tcp', '0'],
  },
  twistedServer('py-tw-raw'),
  echoServer('node-net'),
  echoServer('c-epoll'),
];

const peerNames = { python: 'Python 3.11 asyncore', twisted: 'Twisted 22.4', node: 'Node net' };

/** The issue's memory target: a Twisted connection on this package no larger than Twisted's own. */
const TARGETS = [{ ours: 'tw-raw', peer: 'py-tw-raw', max: 1.0 }];

const isNode = (cmd) => cmd[0] === node;

/**
 * The open-file hard limit the servers and the client get (they raise their
 * soft limit to it), or a reason it is too low for `conns` connections: each
 * is one fd in the server and one in the client, and a process has some
 * dozens of its own.
 */
function fdLimitProblem(conns) {
  const r = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' });
  const hard = r.stdout.trim();
  const needed = conns + 64;
  if (hard === 'unlimited' || Number(hard) >= needed) return null;
  return `the open-file hard limit is ${hard}: ${conns} connections need ${needed} (raise it, e.g. in /etc/security/limits.conf)`;
}

/** The server's argv: Node servers get the garbage collector exposed and the SIGUSR2 hook. */
function serverCommand(server) {
  const cmd = server.cmd('tcp', 0);
  return isNode(cmd) ? [node, '--expose-gc', '--import', gcPreload, ...cmd.slice(1)] : cmd;
}

/** What /proc/<pid>/status says of the process's resident memory, in KiB. */
function residentKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), anon: field('RssAnon'), file: field('RssFile') };
}

/**
 * How many sockets the process has open: its connections and its listening
 * socket. Counted rather than all fds, since a reactor opens its own (epoll,
 * eventfd, pipes) once its loop starts, after "ready".
 */
function openSockets(pid) {
  let count = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) count += 1;
    } catch {
      // closed while we looked
    }
  }
  return count;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `done()` every 20 ms; throws naming `what` after `timeoutMs`. */
async function waitFor(done, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Asks a Node server for a full collection and waits until it says it ran. */
async function collectGarbage(server, count) {
  process.kill(server.pid, 'SIGUSR2');
  await waitFor(() => server.stderr().includes(`gc ${count}\n`), GC_TIMEOUT_MS, 'the server\'s garbage collection');
}

function clientCommand(port, conns, hold) {
  const argv = [node, client, '--port', port, '--conns', String(conns), '--concurrency', String(CONCURRENCY)];
  argv.push('--timeout', String(CLIENT_TIMEOUT_MS / 1000));
  return hold ? [...argv, '--hold', String(CLIENT_TIMEOUT_MS / 1000)] : argv;
}

/** One run of one server: its RSS before and with `conns` connections. */
async function measureOnce(server, conns, pin) {
  const cmd = serverCommand(server);
  const gc = isNode(cmd);
  let collections = 0;
  const srv = await startServer(cmd, { cpu: pin.server });
  let holder = null;
  try {
    const atStart = residentKiB(srv.pid);
    const socketsAtStart = openSockets(srv.pid);
    const warm = await runProgram(clientCommand(srv.label, WARM_CONNS, false), { cpu: pin.client, timeoutMs: CLIENT_TIMEOUT_MS });
    if (warm.code !== 0) throw new Error(`warm-up client: ${tail(warm.stderr || `exit ${warm.signal ?? warm.code}`)}`);
    await waitFor(() => openSockets(srv.pid) <= socketsAtStart, SETTLE_TIMEOUT_MS, 'the server closing the warm-up connections');
    if (gc) await collectGarbage(srv, ++collections);
    const before = residentKiB(srv.pid);

    holder = await startServer(clientCommand(srv.label, conns, true), { cpu: pin.client, timeoutMs: CLIENT_TIMEOUT_MS + 5000 });
    const connectMs = Number(holder.label);
    await waitFor(() => openSockets(srv.pid) >= socketsAtStart + conns, SETTLE_TIMEOUT_MS, `the server holding ${conns} connections`);
    if (gc) await collectGarbage(srv, ++collections);
    const after = residentKiB(srv.pid);
    if (!srv.alive()) throw new Error(`the server exited: ${tail(srv.stderr())}`);
    return {
      conns,
      kib_per_conn: (after.rss - before.rss) / conns,
      rss_start_kib: atStart.rss,
      rss_before_kib: before.rss,
      rss_after_kib: after.rss,
      anon_before_kib: before.anon,
      anon_after_kib: after.anon,
      sockets_after: openSockets(srv.pid),
      connect_ms: Number.isFinite(connectMs) ? connectMs : null,
      gc,
    };
  } finally {
    await srv.stop();
    if (holder) await holder.stop();
  }
}

const mib = (kib) => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(1)} MiB` : 'n/a');
const kibText = (x) => (x === null || !Number.isFinite(x) ? 'n/a' : `${x.toFixed(2)} KiB`);

/** Per server: the median growth, and the median of each RSS reading. */
function summarize(runs) {
  const ok = runs.filter((r) => !r.error);
  const pick = (k) => median(ok.map((r) => r[k]));
  return {
    kib_per_conn: pick('kib_per_conn'),
    rss_start_kib: pick('rss_start_kib'),
    rss_before_kib: pick('rss_before_kib'),
    rss_after_kib: pick('rss_after_kib'),
    ok: ok.length,
    of: runs.length,
    errors: runs.filter((r) => r.error).map((r) => r.error),
  };
}

/** ours / peer growth, taken within each repetition, then the median. */
function pairedRatio(runs, ours, peer) {
  const ratios = [];
  for (let rep = 0; rep < Math.min(runs[ours].length, runs[peer].length); rep++) {
    const [a, b] = [runs[ours][rep], runs[peer][rep]];
    if (!a.error && !b.error && b.kib_per_conn > 0) ratios.push(a.kib_per_conn / b.kib_per_conn);
  }
  return median(ratios);
}

export function markdownOf(result) {
  const { servers, results, ratios, params, notes } = result;
  const footnotes = [];
  const growth = (s) => {
    const r = results[s.id];
    if (r.kib_per_conn === null) {
      footnotes.push(`${s.id}: ${r.errors.join('; ')}`);
      return `fail[${footnotes.length}]`;
    }
    return kibText(r.kib_per_conn) + (r.ok < r.of ? '*' : '');
  };
  const rows = servers.map((s) => [
    s.label,
    growth(s),
    mib(results[s.id].rss_start_kib),
    mib(results[s.id].rss_before_kib),
    mib(results[s.id].rss_after_kib),
  ]);
  const conns = params.conns.toLocaleString('en-US');
  const parts = [
    `## Memory per connection (${conns} connections, each after one exchange)`,
    '',
    `Server RSS (VmRSS of /proc/<pid>/status) after ${WARM_CONNS} connections were made and closed, and again with ` +
      `${conns} connections open, each after one 64-byte line and its echo; growth = the difference / ${conns}. ` +
      `Node servers run with --expose-gc and collect their garbage before each reading. ` +
      `Median of ${params.reps} run${params.reps > 1 ? 's' : ''}, each in a fresh server process.`,
    '',
    ...notes.map((n) => `- ${n}`),
    ...(notes.length ? [''] : []),
    mdTable(['server', 'growth per connection', 'RSS at start', 'after warm-up', `with ${conns}`], rows),
  ];
  if (ratios.length) {
    parts.push('', 'Ratios (row / peer, lower is smaller; each taken within one repetition, then the median):', '');
    parts.push(mdTable(['ratio', 'per connection'], ratios.map((r) => [r.what, fmtRatio(r.value)])));
  }
  if (footnotes.length) parts.push('', footnotes.map((f, i) => `[${i + 1}] ${f}`).join('\n'));
  if (servers.some((s) => results[s.id].ok < results[s.id].of)) parts.push('* some runs failed; the median is over those that ran.');
  return parts.join('\n');
}

export async function main(argv) {
  const opts = parseArgs(argv);
  const plan = QUICK.memory;
  const reps = opts.reps ?? (opts.quick ? plan.reps : 3);
  const conns = opts.quick ? plan.conns : 10_000;
  const pin = pinning(opts.noPin);
  const notes = [];
  const py = pythonAsyncore();
  notes.push(py.ok ? `Python peers: ${py.python} ${py.version}` : py.note);
  const twisted = twistedVersion();
  notes.push(twisted === null ? 'Twisted cannot be imported: Twisted rows skipped' : `Twisted ${twisted}, epoll reactor`);
  const pkg = ourPackage();
  if (!pkg.ok) notes.push(pkg.note);
  const serverIds = opts.servers ?? (opts.quick ? plan.servers : null);
  const servers = allServers.filter((s) => {
    if (serverIds && !serverIds.includes(s.id)) return false;
    if (s.needs === 'python' && !py.ok) return false;
    if (s.needs === 'twisted' && twisted === null) return false;
    if (s.needs === 'package' && !pkg.ok) return false;
    return true;
  });
  const fdProblem = fdLimitProblem(conns);
  if (fdProblem) throw new Error(`memory: ${fdProblem}`);
  const log = (m) => process.stderr.write(`${m}\n`);
  log(`memory: ${servers.length} servers x ${reps} reps, ${conns} connections each`);

  const runs = Object.fromEntries(servers.map((s) => [s.id, []]));
  for (let rep = 0; rep < reps; rep++) {
    // Rotated each repetition, as the matrix scenarios do.
    const order = servers.map((_, i) => servers[(i + rep) % servers.length]);
    for (const s of order) {
      try {
        const r = await measureOnce(s, conns, pin);
        runs[s.id].push(r);
        log(`memory: ${s.id} rep ${rep + 1}: ${r.kib_per_conn.toFixed(2)} KiB per connection`);
      } catch (e) {
        runs[s.id].push({ error: String(e?.message ?? e).slice(0, 300) });
        log(`memory: ${s.id} rep ${rep + 1} failed: ${e?.message ?? e}`);
      }
    }
  }

  const results = Object.fromEntries(servers.map((s) => [s.id, summarize(runs[s.id])]));
  const present = new Set(servers.map((s) => s.id));
  const ratios = [];
  for (const s of servers) {
    for (const [kind, peer] of Object.entries(s.peers ?? {})) {
      if (present.has(peer)) ratios.push({ ours: s.id, peer, what: `${s.label} / ${peerNames[kind]}`, value: pairedRatio(runs, s.id, peer) });
    }
  }
  // At 2,000 connections a Node server's one-off steps (its young generation
  // grows once, about 2 MiB) add about 1 KiB per connection: the target is
  // for 10,000.
  if (opts.quick) notes.push('quick run: the target (a Twisted connection no larger than Twisted 22.4\'s) is judged in full runs only');
  const judged = opts.quick ? [] : TARGETS;
  const targets = judged.filter((t) => present.has(t.ours) && present.has(t.peer)).map((t) => {
    const value = pairedRatio(runs, t.ours, t.peer);
    const label = (id) => servers.find((s) => s.id === id).label;
    return {
      what: `memory per connection: ${label(t.ours)} / ${label(t.peer)} @ ${conns.toLocaleString('en-US')} connections`,
      value,
      goal: `<= ${t.max.toFixed(2)}x`,
      pass: value !== null && value <= t.max,
      text: fmtRatio(value),
    };
  });
  const result = {
    scenario: 'memory',
    title: `Memory per connection at ${conns.toLocaleString('en-US')} connections (KiB)`,
    params: { quick: opts.quick, reps, conns, warmConns: WARM_CONNS, concurrency: CONCURRENCY, pinning: pin.note },
    notes,
    servers: servers.map(({ id, label, group }) => ({ id, label, group })),
    runs,
    results,
    ratios,
    targets,
    chart: {
      kind: 'bars',
      unit: 'KiB per connection',
      log: true,
      groups: [`${conns.toLocaleString('en-US')} connections`],
      series: servers.map((s) => ({ label: s.label, group: s.group, values: [results[s.id].kib_per_conn] })),
    },
  };
  result.markdown = markdownOf(result);
  return finishScenario(opts, result);
}

runIfMain(import.meta.url, main);
