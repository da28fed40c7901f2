// Runs the C load generator against every server for every cell,
// interleaved so that drift (thermal, noisy neighbours) hits every server
// alike:
//
//   for rep:  for cell:  servers in an order rotated by rep
//
// An echo cell runs its servers side by side: all of them start, and one
// load generator drives them in turn, in slices of SLICE_MS after each one's
// setup and warm-up (bench/c/loadgen.c). This machine's speed moves by 20-30%
// for seconds at a time, so one server's run of a few seconds and the next
// one's can see different machines; slices a round apart see the same one,
// and a ratio is taken slice by slice (pairedRatio()). A churn cell runs one
// server at a time, each in a fresh process.
//
// Each (server, cell) is summarised by the median over repetitions.
import os from 'node:os';
import path from 'node:path';
import { rmSync } from 'node:fs';
import { buildTools, lastJson, median, pinning, runProgram, startServer, tail } from './common.mjs';

/** The length of one server's turn under load in an echo cell; a round of 11 servers takes about a second. */
export const SLICE_MS = 100;

/** How an echo cell's servers are run, for the reports. */
export const SIDE_BY_SIDE_TEXT = `the servers of a cell run side by side, driven in turn in ${SLICE_MS} ms slices`;

let sockSerial = 0;

const unixPathOf = () => path.join(os.tmpdir(), `asyncore-bench-${process.pid}-${sockSerial++}.sock`);

const isEcho = (cell) => (cell.mode ?? 'echo') === 'echo';

function loadArgs(cell, o, endpoints, pids) {
  return [
    o.tools.loadgen,
    '--mode', cell.mode ?? 'echo',
    ...endpoints.flatMap((e) => [cell.transport === 'unix' ? '--unix' : '--tcp', e]),
    '--conns', String(cell.conns),
    '--depth', String(cell.depth ?? 1),
    '--size', '64',
    '--warmup', String(o.warmup),
    '--duration', String(o.duration),
    '--setup-timeout', String(o.setupTimeout),
    ...pids.flatMap((pid) => ['--pid', String(pid)]),
    ...(isEcho(cell) ? ['--slice-ms', String(SLICE_MS)] : []),
  ];
}

/** The result of one server's run, or its failure: out is the load generator's object for it. */
function outcome(out, srv) {
  if (!out.ok) {
    const why = srv.alive() ? '' : ` (server died: ${tail(srv.stderr(), 200)})`;
    return { ok: false, error: `${out.error}${out.strerror ? `: ${out.strerror}` : ''}${why}` };
  }
  if (!srv.alive()) return { ok: false, error: `server died: ${tail(srv.stderr(), 200)}` };
  return out;
}

/**
 * The servers of one cell, fresh processes driven by one load generator (in
 * an echo cell, in turn, in slices); one result per server, in order.
 */
async function runTogether(order, cell, o) {
  const started = [];
  const results = order.map(() => null);
  try {
    for (const [i, server] of order.entries()) {
      const unixPath = unixPathOf();
      try {
        const srv = await startServer(server.cmd(cell.transport, cell.transport === 'unix' ? unixPath : 0), { cpu: o.pin.server });
        started.push({ i, srv, unixPath });
      } catch (e) {
        rmSync(unixPath, { force: true });
        results[i] = { ok: false, error: `server: ${e.message}` };
      }
    }
    if (started.length > 0) {
      const args = loadArgs(cell, o, started.map((s) => s.srv.label), started.map((s) => s.srv.pid));
      const budget = started.length * (o.setupTimeout + o.warmup + o.duration + 15) * 1000;
      const r = await runProgram(args, { cpu: o.pin.client, timeoutMs: budget });
      const out = lastJson(r.stdout);
      const each = out?.endpoints ?? (out ? [out] : null);
      for (const [k, { i, srv }] of started.entries()) {
        if (r.timedOut) results[i] = { ok: false, error: 'load generator timed out' };
        else if (!each) results[i] = { ok: false, error: `load generator: exit ${r.code} ${tail(r.stderr)}` };
        else results[i] = outcome(each[k], srv);
      }
    }
  } finally {
    for (const { srv, unixPath } of started) {
      await srv.stop();
      rmSync(unixPath, { force: true });
    }
  }
  return results;
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
  const record = (server, cell, r, rep) => {
    r.rep = rep;
    results[server.id][cell.id].runs.push(r);
    done++;
    log?.(
      `  [${done}/${total}] ${cell.id.padEnd(10)} ${server.id.padEnd(20)} ` +
        (r.ok ? `${Math.round(r[metric])}/s p50 ${r.p50_us}us cpu ${r.server_cpu}` : `FAILED ${r.error}`),
    );
  };
  for (let rep = 0; rep < reps; rep++) {
    for (const cell of cells) {
      const k = rep % servers.length;
      const order = servers.slice(k).concat(servers.slice(0, k)).filter((server) => runsIn(server, cell));
      if (isEcho(cell)) {
        const rs = await runTogether(order, cell, o);
        order.forEach((server, i) => record(server, cell, rs[i], rep));
      } else {
        for (const server of order) record(server, cell, (await runTogether([server], cell, o))[0], rep);
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

// The median of ours/peer: slice by slice where both ran side by side in
// slices (each round's two slices are at most a round apart), else one ratio
// per repetition (same minute, same machine state); null if either side failed.
export function pairedRatio(results, oursId, peerId, cellId, metric) {
  const a = results[oursId]?.[cellId]?.runs ?? [];
  const b = results[peerId]?.[cellId]?.runs ?? [];
  const ratios = [];
  for (const ra of a) {
    const rb = b.find((x) => x.rep === ra.rep);
    if (!ra.ok || !rb?.ok || !(rb[metric] > 0)) continue;
    if (ra.slices && rb.slices?.length === ra.slices.length) {
      ra.slices.forEach((v, i) => rb.slices[i] > 0 && ratios.push(v / rb.slices[i]));
    } else {
      ratios.push(ra[metric] / rb[metric]);
    }
  }
  return median(ratios);
}
