// Scenario: socketserver. The same StreamRequestHandler (read a line, write
// it back, until the client closes) served by asyncore/socketserver's
// ThreadingTCPServer and ForkingTCPServer and by Python 3.11's: 64-byte
// lines (63 bytes + "\n") at 1, 10 and 100 connections, and churn with 10
// clients (connect, one line, close).
//
// Forking servers keep Python's max_children (40): with 100 connections
// only 40 are served at a time, in both. This package's children are
// reused; Python forks one per connection.
//
//   node bench/socketserver.mjs [--quick] [--reps N] [--servers id,id] [--json-out FILE]
import path from 'node:path';
import { benchDir, finishScenario, ourPackage, parseArgs, pinning, pythonAsyncore, runIfMain } from './lib/common.mjs';
import { runMatrix } from './lib/matrix.mjs';
import { QUICK } from './lib/plan.mjs';
import { echoChurnResult, ratioTargets } from './lib/report.mjs';

const node = process.execPath;
const tcp = (where) => ['--tcp', String(where)];
const ours = (mixin) => (_t, w) => [node, path.join(benchDir, 'servers', 'socketserver_echo.mjs'), '--mixin', mixin, ...tcp(w)];
const python = (mixin) => (_t, w) => [
  pythonAsyncore().python,
  path.join(benchDir, 'py', 'socketserver_echo.py'),
  '--mixin',
  mixin,
  ...tcp(w),
];

export const allServers = [
  {
    id: 'ss-threading',
    label: 'asyncore/socketserver ThreadingTCPServer',
    group: 'ours',
    needs: 'package',
    cmd: ours('threading'),
    peers: { socketserver: 'py-ss-threading' },
  },
  {
    id: 'ss-forking',
    label: 'asyncore/socketserver ForkingTCPServer',
    group: 'ours',
    needs: 'package',
    cmd: ours('forking'),
    peers: { socketserver: 'py-ss-forking' },
  },
  {
    // Only where a forking target is: it shows how much of ss-forking's gap
    // to Python is its handler's JavaScript, and how much is the process.
    id: 'ss-forking-floor',
    label: 'floor: ForkingTCPServer, bare recv/send in the child',
    group: 'peer',
    needs: 'package',
    cells: ['tcp-10'],
    peers: { socketserver: 'py-ss-forking' },
    cmd: (_t, w) => [node, path.join(benchDir, 'servers', 'socketserver_floor.mjs'), ...tcp(w)],
  },
  {
    id: 'py-ss-threading',
    label: 'Python 3.11 ThreadingTCPServer',
    group: 'peer',
    needs: 'python',
    cmd: python('threading'),
  },
  {
    id: 'py-ss-forking',
    label: 'Python 3.11 ForkingTCPServer',
    group: 'peer',
    needs: 'python',
    cmd: python('forking'),
  },
];

export const echoCells = [
  { id: 'tcp-1', label: 'tcp 1', transport: 'tcp', conns: 1, depth: 1 },
  { id: 'tcp-10', label: 'tcp 10', transport: 'tcp', conns: 10, depth: 1 },
  { id: 'tcp-100', label: 'tcp 100', transport: 'tcp', conns: 100, depth: 1 },
];
export const churnCells = [{ id: 'churn-10', label: 'churn, 10 clients', transport: 'tcp', conns: 10, depth: 1, mode: 'churn' }];

export async function main(argv) {
  const opts = parseArgs(argv);
  const quick = opts.quick;
  const plan = QUICK.socketserver;
  const reps = opts.reps ?? (quick ? plan.reps : 3);
  // Longer than other scenarios' warm-up: this package's forking server
  // starts its children (Node processes, reused afterwards) in it.
  const warmup = quick ? plan.warmup : 3;
  const duration = quick ? plan.duration : 2;
  const serverIds = opts.servers ?? (quick ? plan.servers : null);
  const inPlan = (cell) => !quick || plan.cells.includes(cell.id);
  const [echoRun, churnRun] = [echoCells.filter(inPlan), churnCells.filter(inPlan)];
  const notes = [];
  const py = pythonAsyncore();
  if (!py.ok) notes.push(py.note);
  else notes.push(`Python ${py.version} (${py.python})`);
  const pkg = ourPackage();
  if (!pkg.ok) notes.push(pkg.note);
  const servers = allServers.filter((s) => {
    if (serverIds && !serverIds.includes(s.id)) return false;
    if (s.needs === 'python' && !py.ok) return false;
    if (s.needs === 'package' && !pkg.ok) return false;
    return true;
  });
  const log = (m) => process.stderr.write(`${m}\n`);
  log(`socketserver: ${servers.length} servers x ${echoRun.length + churnRun.length} cells x ${reps} reps, ${warmup}s warm-up + ${duration}s measured each`);
  const echo = await runMatrix({ servers, cells: echoRun, reps, warmup, duration, noPin: opts.noPin, metric: 'rt_per_s', log });
  const churn = await runMatrix({ servers, cells: churnRun, reps, warmup, duration, noPin: opts.noPin, metric: 'conn_per_s', log });

  const only = (ids) => (c) => ids.includes(c.id);
  const targets = [
    ...ratioTargets({
      servers,
      cells: echoRun,
      results: echo,
      metric: 'rt_per_s',
      rules: [
        { scenario: 'socketserver echo', ours: ['ss-threading'], peer: 'socketserver', min: 1.5, cells: only(['tcp-10', 'tcp-100']) },
        { scenario: 'socketserver echo', ours: ['ss-forking'], peer: 'socketserver', min: 1.0, cells: only(['tcp-10']) },
      ],
    }),
    ...ratioTargets({
      servers,
      cells: churnRun,
      results: churn,
      metric: 'conn_per_s',
      rules: [
        { scenario: 'socketserver churn', ours: ['ss-threading'], peer: 'socketserver', min: 2.0, cells: () => true },
        { scenario: 'socketserver churn', ours: ['ss-forking'], peer: 'socketserver', min: 10.0, cells: () => true },
      ],
    }),
  ];
  const result = echoChurnResult({
    scenario: 'socketserver',
    title: 'socketserver: line echo (round trips/s) and churn (connections/s)',
    heading: 'socketserver: line echo and churn',
    intro:
      'The same StreamRequestHandler (read a line, write it back, until the client closes) under ' +
      "asyncore/socketserver and Python 3.11's socketserver, with ThreadingMixIn and ForkingMixIn. " +
      '64-byte lines, one in flight per connection; churn: connect, one line, close, 10 clients. ' +
      'Forking servers serve at most max_children (40) connections at once. ',
    params: { quick, reps, warmup, duration, pinning: pinning(opts.noPin).note },
    notes,
    servers,
    echoCells: echoRun,
    churnCells: churnRun,
    echo,
    churn,
    targets,
  });
  return finishScenario(opts, result);
}

runIfMain(import.meta.url, main);
