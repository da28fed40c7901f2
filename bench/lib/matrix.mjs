// Runs the C load generator against every server for every cell, each
// (server, cell, repetition) in a fresh server process, interleaved so that
// drift (thermal, noisy neighbours) hits every server alike:
//
//   for rep:  for cell:  for server (order rotated by rep):  run one
//
// and summarises each (server, cell) by the median over repetitions.
import os from 'node:os';
import path from 'node:path';
import { rmSync } from 'node:fs';
import { buildTools, lastJson, median, pinning, runProgram, startServer, tail } from './common.mjs';

let sockSerial = 0;

async function runOne(server, cell, o) {
  const unixPath = path.join(os.tmpdir(), `asyncore-bench-${process.pid}-${sockSerial++}.sock`);
  const where = cell.transport === 'unix' ? unixPath : 0;
  let srv;
  try {
    srv = await startServer(server.cmd(cell.transport, where), { cpu: o.pin.server });
  } catch (e) {
    return { ok: false, error: `server: ${e.message}` };
  }
  try {
    const endpoint = cell.transport === 'unix' ? ['--unix', srv.label] : ['--tcp', srv.label];
    const args = [
      o.tools.loadgen,
      '--mode', cell.mode ?? 'echo',
      ...endpoint,
      '--conns', String(cell.conns),
      '--depth', String(cell.depth ?? 1),
      '--size', '64',
      '--warmup', String(o.warmup),
      '--duration', String(o.duration),
      '--setup-timeout', String(o.setupTimeout),
      '--pid', String(srv.pid),
    ];
    const budget = (o.setupTimeout + o.warmup + o.duration + 15) * 1000;
    const r = await runProgram(args, { cpu: o.pin.client, timeoutMs: budget });
    const out = lastJson(r.stdout);
    if (r.timedOut) return { ok: false, error: 'load generator timed out' };
    if (!out) return { ok: false, error: `load generator: exit ${r.code} ${tail(r.stderr)}` };
    if (!out.ok) {
      const why = srv.alive() ? '' : ` (server died: ${tail(srv.stderr(), 200)})`;
      return { ok: false, error: `${out.error}${out.strerror ? `: ${out.strerror}` : ''}${why}` };
    }
    if (!srv.alive()) return { ok: false, error: `server died: ${tail(srv.stderr(), 200)}` };
    return out;
  } finally {
    await srv.stop();
    rmSync(unixPath, { force: true });
  }
}

// Whether server runs in cell: a server may name the only cells it runs in.
const runsIn = (server, cell) => !server.cells || server.cells.includes(cell.id);

// Returns results[serverId][cellId] = { runs: [...], median: {...} }, with
// skipped: true in the cells a server does not run in.
export async function runMatrix({ servers, cells, reps, warmup, duration, setupTimeout = 30, noPin, metric, log }) {
  const pin = pinning(noPin);
  // Built (or found current) once, not once per run.
  const o = { pin, tools: buildTools(), warmup, duration, setupTimeout };
  const results = {};
  for (const s of servers) {
    results[s.id] = {};
    for (const c of cells) results[s.id][c.id] = { runs: [], skipped: !runsIn(s, c) };
  }
  const total = reps * cells.reduce((sum, c) => sum + servers.filter((s) => runsIn(s, c)).length, 0);
  let done = 0;
  for (let rep = 0; rep < reps; rep++) {
    for (const cell of cells) {
      const k = rep % servers.length;
      const order = servers.slice(k).concat(servers.slice(0, k));
      for (const server of order) {
        if (!runsIn(server, cell)) continue;
        const r = await runOne(server, cell, o);
        r.rep = rep;
        results[server.id][cell.id].runs.push(r);
        done++;
        log?.(
          `  [${done}/${total}] ${cell.id.padEnd(10)} ${server.id.padEnd(20)} ` +
            (r.ok ? `${Math.round(r[metric])}/s p50 ${r.p50_us}us cpu ${r.server_cpu}` : `FAILED ${r.error}`),
        );
      }
    }
  }
  for (const s of servers) {
    for (const c of cells) {
      const cellRes = results[s.id][c.id];
      const ok = cellRes.runs.filter((r) => r.ok);
      cellRes.median = ok.length
        ? {
            value: median(ok.map((r) => r[metric])),
            p50_us: median(ok.map((r) => r.p50_us)),
            p99_us: median(ok.map((r) => r.p99_us)),
            server_cpu: median(ok.map((r) => r.server_cpu)),
            setup_s: median(ok.map((r) => r.setup_s)),
            ok: ok.length,
            of: cellRes.runs.length,
          }
        : null;
      cellRes.errors = [...new Set(cellRes.runs.filter((r) => !r.ok).map((r) => r.error))];
    }
  }
  return results;
}

// Median over repetitions of ours/peer, each ratio taken within one
// repetition (same minute, same machine state); null if either side failed.
export function pairedRatio(results, oursId, peerId, cellId, metric) {
  const a = results[oursId]?.[cellId]?.runs ?? [];
  const b = results[peerId]?.[cellId]?.runs ?? [];
  const ratios = [];
  for (const ra of a) {
    const rb = b.find((x) => x.rep === ra.rep);
    if (ra.ok && rb?.ok && rb[metric] > 0) ratios.push(ra[metric] / rb[metric]);
  }
  return median(ratios);
}
