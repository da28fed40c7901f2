// Tables for a server x cell matrix (echo, churn): rate, latency, server
// CPU, and the ratios of this package's rows to the peers'.
import { fmtPct, fmtRate, fmtRatio, mdTable, usColumn } from './common.mjs';
import { SIDE_BY_SIDE_TEXT, pairedRatio } from './matrix.mjs';
import { servers as knownServers } from './servers.mjs';

const peerNames = { python: 'Python same backend', node: 'Node net', c: 'C epoll', twisted: 'Twisted same protocol', socketserver: 'Python 3.11 same mix-in', floor: 'JS floor', contract: "asyncore's contract floor" };

/**
 * The servers of a result as the report needs them: results written before
 * the JSON kept each server's `peers` get them from the server list.
 */
export function withPeers(servers) {
  return servers.map((s) => (s.peers ? s : { ...s, peers: knownServers.find((k) => k.id === s.id)?.peers }));
}

export function matrixReport({ servers: given, cells, results, metric, unitLabel }) {
  const servers = withPeers(given);
  const parts = [];
  const footnotes = [];
  // One footnote per failed cell, whichever of the three tables shows it.
  const footnoteOf = new Map();
  let sawPartial = false;
  const cellText = (s, c, f) => {
    const r = results[s.id][c.id];
    if (r.skipped) return 'not run';
    if (!r.median) {
      const key = `${s.id} @ ${c.id}`;
      if (!footnoteOf.has(key)) {
        footnotes.push(`${key}: ${r.errors.join('; ')}`);
        footnoteOf.set(key, footnotes.length);
      }
      return `fail[${footnoteOf.get(key)}]`;
    }
    if (r.median.ok < r.median.of) sawPartial = true;
    return f(r.median) + (r.median.ok < r.median.of ? '*' : '');
  };
  const head = ['server', ...cells.map((c) => c.label)];
  parts.push(`${unitLabel}, median of repetitions:\n`);
  parts.push(mdTable(head, servers.map((s) => [s.label, ...cells.map((c) => cellText(s, c, (m) => fmtRate(m.value)))])));
  parts.push('\nLatency p50 / p99 (client-measured; one unit per column):\n');
  // One unit per column, from every p50 and p99 in it.
  const latencyFormat = new Map(
    cells.map((c) => [c.id, usColumn(servers.flatMap((s) => [results[s.id][c.id].median?.p50_us, results[s.id][c.id].median?.p99_us]))]),
  );
  parts.push(
    mdTable(
      head,
      servers.map((s) => [
        s.label,
        ...cells.map((c) => {
          const f = latencyFormat.get(c.id);
          return cellText(s, c, (m) => `${f(m.p50_us)} / ${f(m.p99_us)}`);
        }),
      ]),
    ),
  );
  parts.push('\nServer CPU (utime+stime over the measured time, 100% = one core):\n');
  parts.push(mdTable(head, servers.map((s) => [s.label, ...cells.map((c) => cellText(s, c, (m) => fmtPct(m.server_cpu)))])));
  const ours = servers.filter((s) => s.group === 'ours');
  const present = new Set(servers.map((s) => s.id));
  const ratioRows = [];
  // This package's rows, and the floor row, which names its peers too.
  for (const s of servers.filter((x) => x.peers)) {
    for (const [kind, peerId] of Object.entries(s.peers ?? {})) {
      if (!present.has(peerId)) continue;
      ratioRows.push([
        `${s.label} / ${peerNames[kind]}`,
        ...cells.map((c) => fmtRatio(pairedRatio(results, s.id, peerId, c.id, metric))),
      ]);
    }
  }
  if (ratioRows.length) {
    const sliced = servers.some((s) => cells.some((c) => results[s.id]?.[c.id]?.runs?.some((r) => r.slices)));
    const how = sliced ? 'each taken slice by slice (a round apart at most), then the median' : 'each taken within one repetition, then the median';
    parts.push(`\nRatios (row / peer; ${how}):\n`);
    parts.push(mdTable(['ratio', ...cells.map((c) => c.label)], ratioRows));
  } else if (ours.length === 0) {
    parts.push('\n(no rows for this package: ratios not computed)');
  }
  if (footnotes.length) parts.push(`\n${footnotes.map((f, i) => `[${i + 1}] ${f}`).join('\n')}`);
  if (sawPartial) parts.push('* some repetitions failed; the median is over those that ran.');
  return parts.join('\n');
}

// Target checks: [{ what, value, goal, pass }] for the summary.
export function ratioTargets({ servers, cells, results, metric, rules }) {
  const out = [];
  const present = new Set(servers.map((s) => s.id));
  for (const s of servers.filter((x) => x.group === 'ours')) {
    for (const rule of rules) {
      if (rule.ours && !rule.ours.includes(s.id)) continue;
      const peerId = s.peers?.[rule.peer];
      if (!peerId || !present.has(peerId)) continue;
      for (const c of cells.filter(rule.cells)) {
        const v = pairedRatio(results, s.id, peerId, c.id, metric);
        out.push({
          what: `${rule.scenario}: ${s.label} / ${peerNames[rule.peer]} @ ${c.label}`,
          value: v,
          goal: `>= ${rule.min.toFixed(2)}x`,
          pass: v !== null && v >= rule.min,
          text: fmtRatio(v),
        });
      }
    }
  }
  return out;
}

/**
 * The result of a scenario that runs one echo matrix and one churn matrix
 * over the same servers (twisted, socketserver): its Markdown, its chart and
 * the fields run.mjs reads. `intro` is the paragraph under the heading; the
 * timing sentence and the notes are added to it.
 */
export function echoChurnResult({ scenario, title, heading, intro, params, notes, servers, echoCells, churnCells, echo, churn, targets }) {
  const markdown = [
    `## ${heading}`,
    '',
    `${intro.trimEnd()} Echo: ${SIDE_BY_SIDE_TEXT}; churn: one server at a time. ${params.warmup} s warm-up + ` +
      `${params.duration} s measured per server, median of ${params.reps}; ${params.pinning}.`,
    ...notes.map((n) => `Note: ${n}.`),
    '',
    matrixReport({ servers, cells: echoCells, results: echo, metric: 'rt_per_s', unitLabel: 'Round trips per second' }),
    '',
    matrixReport({ servers, cells: churnCells, results: churn, metric: 'conn_per_s', unitLabel: 'Connections per second' }),
  ].join('\n');
  const cells = [...echoCells, ...churnCells];
  const results = {};
  for (const s of servers) results[s.id] = { ...echo[s.id], ...churn[s.id] };
  return {
    scenario,
    title,
    params,
    notes,
    servers: servers.map(({ id, label, group }) => ({ id, label, group })),
    cells,
    results,
    targets,
    markdown,
    chart: {
      kind: 'bars',
      unit: 'per second',
      groups: cells.map((c) => c.label),
      series: servers.map((s) => ({ label: s.label, group: s.group, values: cells.map((c) => results[s.id][c.id].median?.value ?? null) })),
    },
  };
}
