// Scenario 2: connection churn.  10 concurrent clients each connect, send
// one 64-byte message, read it back, close, and start again, as fast as the
// server allows.  Connections per second; latency is the whole
// connect-exchange-close cycle.
//
//   node bench/churn.mjs [--quick] [--reps N] [--servers id,id] [--json-out FILE]
import { finishScenario, parseArgs, pinning, runIfMain } from './lib/common.mjs';
import { runMatrix } from './lib/matrix.mjs';
import { matrixReport } from './lib/report.mjs';
import { QUICK } from './lib/plan.mjs';
import { availableServers } from './lib/servers.mjs';

export async function main(argv) {
  const opts = parseArgs(argv);
  const quick = opts.quick;
  const cells = [{ id: 'churn-10', label: '10 clients', transport: 'tcp', conns: 10, depth: 1, mode: 'churn' }];
  const reps = opts.reps ?? (quick ? QUICK.churn.reps : 3);
  const warmup = quick ? QUICK.churn.warmup : 1;
  const duration = quick ? QUICK.churn.duration : 2;
  const { list: servers, notes } = availableServers(opts.servers ?? (quick ? QUICK.churn.servers : null));
  const log = (m) => process.stderr.write(`${m}\n`);
  log(`churn: ${servers.length} servers x ${reps} reps, ${warmup}s warm-up + ${duration}s measured each`);
  const results = await runMatrix({ servers, cells, reps, warmup, duration, noPin: opts.noPin, metric: 'conn_per_s', log });
  const result = {
    scenario: 'churn',
    title: 'Connection churn (connections/s)',
    params: { quick, reps, warmup, duration, pinning: pinning(opts.noPin).note },
    notes,
    servers: servers.map(({ id, label, group, peers }) => ({ id, label, group, peers })),
    cells,
    results,
    targets: [],
    chart: {
      kind: 'bars',
      unit: 'connections/s',
      groups: cells.map((c) => c.label),
      series: servers.map((s) => ({ label: s.label, group: s.group, values: cells.map((c) => results[s.id][c.id].median?.value ?? null) })),
    },
  };
  result.markdown = markdownOf(result);
  return finishScenario(opts, result);
}

/** The scenario's Markdown, from its result (also for `run.mjs --render`). */
export function markdownOf(result) {
  const { params, notes, servers, cells, results } = result;
  return [
    '## Connection churn: connections per second',
    '',
    `Connect, one 64-byte exchange, close; 10 clients at once; ${params.warmup} s warm-up + ${params.duration} s measured, ` +
      `median of ${params.reps}; ${params.pinning}.`,
    ...notes.map((n) => `Note: ${n}.`),
    '',
    matrixReport({ servers, cells, results, metric: 'conn_per_s', unitLabel: 'Connections per second' }),
  ].join('\n');
}

runIfMain(import.meta.url, main);
