// Scenario 3: fd scaling.  The time of one loop(count=1) pass with N idle
// channels (10, 100, 1,000, 10,000) and one active pair, per backend, for
// this package, Python 3.11 asyncore (select and poll/poll2) and C (epoll
// and poll, the ceiling).  Each (implementation, N) runs in a fresh process
// pinned to one core; select is skipped where an fd would be >= FD_SETSIZE.
//
//   node bench/fd_scaling.mjs [--quick] [--reps N] [--json-out FILE]
import path from 'node:path';
import {
  benchDir,
  buildTools,
  finishScenario,
  fmtRatio,
  usColumn,
  lastJson,
  mdTable,
  median,
  ourPackage,
  parseArgs,
  pinning,
  pythonAsyncore,
  runIfMain,
  runProgram,
  tail,
} from './lib/common.mjs';
import { QUICK } from './lib/plan.mjs';

// select(2) cannot hold an fd >= FD_SETSIZE (1024): ours throws a RangeError
// and Python a ValueError, both "filedescriptor out of range in select()".
function isFdSetsizeError(message) {
  return /filedescriptor out of range|FD_SETSIZE/i.test(message ?? '');
}

export async function main(argv) {
  const opts = parseArgs(argv);
  const quick = opts.quick;
  const sizes = quick ? QUICK.fd_scaling.sizes : [10, 100, 1000, 10000];
  const reps = opts.reps ?? (quick ? QUICK.fd_scaling.reps : 3);
  const seconds = quick ? QUICK.fd_scaling.seconds : 1;
  const pin = pinning(opts.noPin);
  const tools = buildTools();
  const py = pythonAsyncore();
  const pkg = ourPackage();
  const notes = [];
  const impls = [];
  if (pkg.ok) {
    const variants = [
      ['select', 'every_pass'],
      ['poll', 'every_pass'],
      ['epoll', 'every_pass'],
      ['poll', 'on_change'],
      ['epoll', 'on_change'],
    ];
    for (const [b, interest] of variants) {
      const onChange = interest === 'on_change';
      impls.push({
        id: `asyncore-${b}${onChange ? '-on-change' : ''}`,
        label: `asyncore (this pkg), ${b}${onChange ? ', interest on_change' : ''}`,
        group: 'ours',
        backend: b,
        cmd: (n) => [
          process.execPath,
          path.join(benchDir, 'probes', 'asyncore_fd_scaling.mjs'),
          '--backend', b, '--interest', interest, '--n', String(n), '--seconds', String(seconds),
        ],
      });
    }
    impls.push({
      id: 'addon-floor',
      label: 'JS floor: this addon, no asyncore (epoll)',
      group: 'peer',
      backend: 'epoll',
      cmd: (n) => [process.execPath, path.join(benchDir, 'probes', 'addon_floor_fd_scaling.mjs'), '--n', String(n), '--seconds', String(seconds)],
    });
  } else notes.push(pkg.note);
  if (py.ok) {
    for (const b of ['select', 'poll']) {
      impls.push({
        id: `py-asyncore-${b}`,
        label: `Python 3.11 asyncore, ${b}${b === 'poll' ? ' (poll2)' : ''}`,
        group: 'peer',
        backend: b,
        cmd: (n) => [py.python, '-W', 'ignore', path.join(benchDir, 'py', 'fd_scaling.py'), '--backend', b, '--n', String(n), '--seconds', String(seconds)],
      });
    }
  } else notes.push(py.note);
  for (const b of ['epoll', 'poll']) {
    impls.push({
      id: `c-${b}`,
      label: `C ${b} (ceiling)`,
      group: 'peer',
      backend: b,
      cmd: (n) => [tools.fd_scaling, b, String(n), String(seconds)],
    });
  }
  const log = (m) => process.stderr.write(`${m}\n`);
  log(`fd_scaling: ${impls.length} implementations x ${sizes.length} sizes x ${reps} reps, ${seconds}s each`);

  const results = {};
  for (const impl of impls) {
    results[impl.id] = {};
    for (const n of sizes) results[impl.id][n] = { runs: [] };
  }
  for (let rep = 0; rep < reps; rep++) {
    for (const n of sizes) {
      const k = rep % impls.length;
      for (const impl of impls.slice(k).concat(impls.slice(0, k))) {
        // N + a few fds: a select run past FD_SETSIZE fails the same way
        // every repetition, so the first failure is reused.
        const prior = results[impl.id][n].runs[0];
        if (impl.backend === 'select' && prior && !prior.ok && isFdSetsizeError(prior.error)) {
          results[impl.id][n].runs.push({ ...prior, rep });
          continue;
        }
        const r = await runProgram(impl.cmd(n), { cpu: pin.server, timeoutMs: (seconds * 3 + 30) * 1000 });
        const out = lastJson(r.stdout) ?? { ok: false, error: r.timedOut ? 'timed out' : `exit ${r.code}: ${tail(r.stderr, 200)}` };
        out.rep = rep;
        results[impl.id][n].runs.push(out);
        log(`  N=${String(n).padEnd(6)} ${impl.id.padEnd(20)} ${out.ok ? `${out.pass_us_median.toFixed(2)} us/pass (in-loop ${out.in_loop_us?.toFixed(2) ?? '-'})` : `n/a: ${out.error}`}`);
      }
    }
  }
  const med = (id, n, key) => {
    const runs = results[id]?.[n]?.runs.filter((r) => r.ok) ?? [];
    return runs.length ? median(runs.map((r) => r[key])) : null;
  };
  const targets = [];
  const ratioTarget = (what, a, b, max) => {
    const v = a !== null && b !== null ? a / b : null;
    targets.push({ what, value: v, goal: `<= ${max.toFixed(2)}x`, pass: v !== null && v <= max, text: fmtRatio(v) });
  };
  if (results['asyncore-epoll']) {
    ratioTarget(
      'fd scaling: asyncore epoll pass at N=10,000 / at N=10',
      med('asyncore-epoll', 10000, 'pass_us_median'),
      med('asyncore-epoll', 10, 'pass_us_median'),
      2,
    );
  }
  if (results['asyncore-epoll-on-change']) {
    ratioTarget(
      'fd scaling: asyncore epoll, interest on_change, pass at N=10,000 / at N=10',
      med('asyncore-epoll-on-change', 10000, 'pass_us_median'),
      med('asyncore-epoll-on-change', 10, 'pass_us_median'),
      1.5,
    );
    if (results['c-epoll']) {
      ratioTarget(
        'fd scaling: asyncore epoll, interest on_change, pass at N=10 / C epoll at N=10',
        med('asyncore-epoll-on-change', 10, 'pass_us_median'),
        med('c-epoll', 10, 'pass_us_median'),
        1.5,
      );
    }
  }
  const result = {
    scenario: 'fd_scaling',
    title: 'fd scaling (us per pass)',
    params: { quick, reps, seconds, sizes, pinning: pin.note },
    notes,
    impls: impls.map(({ id, label, group, backend }) => ({ id, label, group, backend })),
    results,
    targets,
    chart: {
      kind: 'lines',
      unit: 'us per pass',
      log: true,
      x: sizes,
      series: impls.map((i) => ({ label: i.label, group: i.group, values: sizes.map((n) => med(i.id, n, 'pass_us_median')) })),
    },
  };
  result.markdown = markdownOf(result);
  return finishScenario(opts, result);
}

/** The scenario's Markdown, from its result (also for `run.mjs --render`). */
export function markdownOf(result) {
  const { params, notes, impls, results } = result;
  const { sizes, seconds, reps } = params;
  const med = (id, n, key) => {
    const runs = results[id]?.[n]?.runs.filter((r) => r.ok) ?? [];
    return runs.length ? median(runs.map((r) => r[key])) : null;
  };
  // One unit per column (per N), from every value in it.
  const columnFormat = (key) => new Map(sizes.map((n) => [n, usColumn(impls.map((i) => med(i.id, n, key)))]));
  const formats = { pass_us_median: columnFormat('pass_us_median'), in_loop_us: columnFormat('in_loop_us') };
  const cellText = (id, n, key) => {
    const v = med(id, n, key);
    if (v !== null) return formats[key].get(n)(v);
    const err = results[id][n].runs[0]?.error ?? '';
    return isFdSetsizeError(err) ? 'n/a (fd >= 1024)' : 'fail';
  };
  const head = ['implementation', ...sizes.map((n) => `N=${n.toLocaleString('en-US')}`)];
  const errs = [];
  for (const impl of impls)
    for (const n of sizes) {
      const e = results[impl.id][n].runs.find((r) => !r.ok);
      if (e && !isFdSetsizeError(e.error)) errs.push(`${impl.id} N=${n}: ${e.error}`);
    }
  const ratioRows = [];
  for (const impl of impls.filter((i) => i.group === 'ours')) {
    const peer = impl.backend === 'select' ? 'py-asyncore-select' : 'py-asyncore-poll';
    if (!results[peer]) continue;
    ratioRows.push([
      `${impl.label} / ${peer.replace('py-asyncore-', 'Python ')}`,
      ...sizes.map((n) => {
        const a = med(impl.id, n, 'pass_us_median');
        const b = med(peer, n, 'pass_us_median');
        return a !== null && b !== null ? fmtRatio(a / b) : 'n/a';
      }),
    ]);
  }
  return [
    '## fd scaling: time of one pass, N idle channels + 1 active pair',
    '',
    `Median time of one \`loop(count=1)\` call (lower is better); ${seconds} s per run, median of ${reps}; ` +
      `pinned to one core (${/taskset/.test(params.pinning) ? 'taskset' : 'unpinned'}).`,
    ...notes.map((n) => `Note: ${n}.`),
    '',
    mdTable(head, impls.map((i) => [i.label, ...sizes.map((n) => cellText(i.id, n, 'pass_us_median'))])),
    '',
    'Per pass inside one `loop(count=K)` (K passes, total / K):',
    '',
    mdTable(head, impls.map((i) => [i.label, ...sizes.map((n) => cellText(i.id, n, 'in_loop_us'))])),
    ...(ratioRows.length
      ? ['', 'Ratios of pass time (this package / Python; lower is better):', '', mdTable(['ratio', ...head.slice(1)], ratioRows)]
      : []),
    ...(errs.length ? ['', ...errs.map((e) => `Failed: ${e}`)] : []),
  ].join('\n');
}

runIfMain(import.meta.url, main);
