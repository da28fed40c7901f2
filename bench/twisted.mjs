// Scenario: the Twisted layer. The same two protocols, a LineReceiver line
// echo (delimiter "\n", sendLine back) and a raw Protocol echo, served by
// asyncore/twisted and by Twisted 22.4 on its epoll reactor (Debian's
// python3-twisted, /usr/bin/python3), with Node net's pipe echo and the C
// epoll echo server (the ceiling, echo cells only) alongside: 64-byte
// messages (63 bytes + "\n") at 1, 10 and 100 connections, and churn with
// 10 clients (connect, one line, close).
//
//   node bench/twisted.mjs [--quick] [--reps N] [--servers id,id] [--json-out FILE]
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { benchDir, finishScenario, ourPackage, parseArgs, pinning, runIfMain } from './lib/common.mjs';
import { runMatrix } from './lib/matrix.mjs';
import { QUICK } from './lib/plan.mjs';
import { echoChurnResult, ratioTargets } from './lib/report.mjs';
import { servers as echoServers } from './lib/servers.mjs';

const node = process.execPath;
const TWISTED_PYTHON = process.env.TWISTED_PYTHON || '/usr/bin/python3';

/** Twisted's version under TWISTED_PYTHON, or null when it is not installed. */
export function twistedVersion() {
  const r = spawnSync(TWISTED_PYTHON, ['-c', 'import twisted; print(twisted.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

const tcp = (where) => ['--tcp', String(where)];
const nodeNet = echoServers.find((s) => s.id === 'node-net');
// The ceiling in the echo cells only: the churn scenario has it for churn.
const cEpoll = { ...echoServers.find((s) => s.id === 'c-epoll'), cells: ['tcp-1', 'tcp-10', 'tcp-100'] };

export const allServers = [
  {
    id: 'tw-line',
    label: 'asyncore/twisted LineReceiver',
    group: 'ours',
    needs: 'package',
    cmd: (_t, w) => [node, path.join(benchDir, 'servers', 'twisted_echo.mjs'), '--mode', 'line', ...tcp(w)],
    peers: { twisted: 'py-tw-line', node: 'node-net', c: 'c-epoll' },
  },
  {
    id: 'tw-raw',
    label: 'asyncore/twisted raw Protocol',
    group: 'ours',
    needs: 'package',
    cmd: (_t, w) => [node, path.join(benchDir, 'servers', 'twisted_echo.mjs'), '--mode', 'raw', ...tcp(w)],
    peers: { twisted: 'py-tw-raw', node: 'node-net', c: 'c-epoll' },
  },
  {
    id: 'py-tw-line',
    label: 'Twisted 22.4 LineReceiver, epoll',
    group: 'peer',
    needs: 'twisted',
    cmd: (_t, w) => [TWISTED_PYTHON, path.join(benchDir, 'py', 'twisted_echo.py'), '--mode', 'line', ...tcp(w)],
  },
  {
    id: 'py-tw-raw',
    label: 'Twisted 22.4 raw Protocol, epoll',
    group: 'peer',
    needs: 'twisted',
    cmd: (_t, w) => [TWISTED_PYTHON, path.join(benchDir, 'py', 'twisted_echo.py'), '--mode', 'raw', ...tcp(w)],
  },
  nodeNet,
  cEpoll,
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
  const plan = QUICK.twisted;
  const reps = opts.reps ?? (quick ? plan.reps : 3);
  const warmup = quick ? plan.warmup : 1;
  const duration = quick ? plan.duration : 2;
  const serverIds = opts.servers ?? (quick ? plan.servers : null);
  const inPlan = (cell) => !quick || plan.cells.includes(cell.id);
  const [echoRun, churnRun] = [echoCells.filter(inPlan), churnCells.filter(inPlan)];
  const notes = [];
  const version = twistedVersion();
  if (version === null) notes.push(`${TWISTED_PYTHON} cannot import twisted (apt-get install python3-twisted): Twisted rows skipped`);
  else notes.push(`Twisted ${version} under ${TWISTED_PYTHON}, epoll reactor`);
  if (serverIds && !serverIds.includes(cEpoll.id)) notes.push('the C epoll row was not run (quick runs leave it out for time), so no ratio to C');
  const pkg = ourPackage();
  if (!pkg.ok) notes.push(pkg.note);
  const servers = allServers.filter((s) => {
    if (serverIds && !serverIds.includes(s.id)) return false;
    if (s.needs === 'twisted' && version === null) return false;
    if (s.needs === 'package' && !pkg.ok) return false;
    return true;
  });
  const log = (m) => process.stderr.write(`${m}\n`);
  log(`twisted: ${servers.length} servers x ${echoRun.length + churnRun.length} cells x ${reps} reps, ${warmup}s warm-up + ${duration}s measured each`);
  const echo = await runMatrix({ servers, cells: echoRun, reps, warmup, duration, noPin: opts.noPin, metric: 'rt_per_s', log });
  const churn = await runMatrix({ servers, cells: churnRun, reps, warmup, duration, noPin: opts.noPin, metric: 'conn_per_s', log });

  const from10 = (c) => c.conns >= 10;
  const targets = [
    ...ratioTargets({
      servers,
      cells: echoRun,
      results: echo,
      metric: 'rt_per_s',
      rules: [
        { scenario: 'twisted echo', peer: 'twisted', min: 2.0, cells: from10 },
        { scenario: 'twisted echo', peer: 'node', min: 1.2, cells: from10 },
        { scenario: 'twisted echo', peer: 'c', min: 0.85, cells: from10 },
      ],
    }),
    ...ratioTargets({
      servers,
      cells: churnRun,
      results: churn,
      metric: 'conn_per_s',
      rules: [{ scenario: 'twisted churn', peer: 'twisted', min: 1.2, cells: () => true }],
    }),
  ];
  const result = echoChurnResult({
    scenario: 'twisted',
    title: 'Twisted layer: echo (round trips/s) and churn (connections/s)',
    heading: 'Twisted: line and raw echo, churn',
    intro:
      'The same protocols under asyncore/twisted and under Twisted on its epoll reactor: a LineReceiver ' +
      '(delimiter "\\n") that sendLine()s each line back, and a raw Protocol that writes back what it gets. ' +
      `64-byte messages, one in flight per connection; churn: connect, one message, close, 10 clients. `,
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
