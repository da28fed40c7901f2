// npm run bench: runs every scenario of bench/ in a fresh process, prints
// their tables, the ratios to the peers and the package's speed targets, and
// writes the results as JSON, Markdown and an SVG chart.
//
//   npm run bench [-- --quick] [-- --scenario echo,fd_scaling] [-- --json PATH]
//
// See bench/README.md for what each scenario measures and how to read it.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  benchDir,
  buildTools,
  mdTable,
  ourPackage,
  parseArgs,
  pinning,
  pythonAsyncore,
  readJson,
} from './lib/common.mjs';
import { renderSvg } from './lib/chart.mjs';
import { QUICK_LIMIT_S, quickBudget, SCENARIO_FILES } from './lib/plan.mjs';
import { markdownOf as churnMarkdown } from './churn.mjs';
import { markdownOf as echoMarkdown, SPIN_NOTE } from './echo.mjs';
import { markdownOf as fdScalingMarkdown } from './fd_scaling.mjs';
import { markdownOf as wakeupMarkdown } from './wakeup.mjs';
import { markdownOf as socketpairMarkdown } from './socketpair.mjs';

/** Each scenario's Markdown from its result, for --render (others keep what they wrote). */
const markdownOf = {
  echo: echoMarkdown,
  churn: churnMarkdown,
  fd_scaling: fdScalingMarkdown,
  wakeup: wakeupMarkdown,
  socketpair: socketpairMarkdown,
};

/** Above this 1-minute load average at the start, the results say they are noisy. */
const BUSY_LOAD = 0.5;

function noiseWarning(meta) {
  const load = meta.loadavg_start?.[0];
  return typeof load === 'number' && load > BUSY_LOAD
    ? `WARNING: the machine was busy (load average ${load.toFixed(2)} at the start); numbers are noisy`
    : null;
}

/**
 * A target's measured value as the table prints it: with two decimals, or
 * three when two would print the goal itself (1.204x against "<= 1.20x").
 */
function measuredText(t) {
  const goal = /([0-9.]+)x/.exec(t.goal)?.[1];
  if (typeof t.value !== 'number' || goal === undefined || t.text !== `${goal}x`) return t.text;
  return `${t.value.toFixed(3)}x`;
}

const scenarioFiles = SCENARIO_FILES;

const help = `usage: npm run bench -- [options]

  --quick              short runs, fewer cells and servers, one repetition: every
                       scenario in under 2 minutes (the plan: bench/lib/plan.mjs)
  --scenario NAME      only these scenarios (comma-separated or repeated):
                       ${Object.keys(scenarioFiles).join(', ')}
  --json PATH          where to write the JSON results (the .md table and the
                       .svg chart go next to it); default bench/results/latest.json
                       for a full run of every scenario, bench/results/tmp/ otherwise
  --svg PATH, --md PATH  override those two paths
  --reps N             repetitions per cell (default 3; --quick 1)
  --servers a,b        echo/churn: only these server ids
  --no-pin             do not pin with taskset
  --render PATH.json   only rewrite the .md tables and the .svg chart of an earlier
                       run from its JSON (after the report code changed)
`;

function machine() {
  const cpu = os.cpus();
  const kernel = os.release();
  return {
    date: new Date().toISOString(),
    host_cpus: cpu.length,
    cpu_model: cpu[0]?.model ?? 'unknown',
    kernel,
    node: process.version,
    python: pythonAsyncore().ok ? pythonAsyncore().version : null,
    loadavg_start: os.loadavg(),
  };
}

function runScenario(name, file, opts, jsonOut) {
  const args = [path.join(benchDir, file), '--json-out', jsonOut];
  if (opts.quick) args.push('--quick');
  if (opts.reps) args.push('--reps', String(opts.reps));
  if (opts.noPin) args.push('--no-pin');
  if (opts.servers && (name === 'echo' || name === 'churn')) args.push('--servers', opts.servers.join(','));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    // If the harness is stopped, stop the scenario too (it stops its servers).
    const stop = () => child.kill('SIGTERM');
    process.on('exit', stop);
    child.on('exit', (code, signal) => {
      process.off('exit', stop);
      resolve({ code, signal });
    });
  });
}

function chartPanels(scenarios) {
  const panels = [];
  for (const s of scenarios) {
    if (s.chart) {
      const c = s.chart;
      if (s.scenario === 'echo') {
        // Cells differ by 100x in rate; show each as a share of the C ceiling
        // measured in the same cell, so every group reads on one axis.
        const cIdx = c.series.findIndex((x) => x.label.startsWith('C epoll'));
        const base = cIdx >= 0 ? c.series[cIdx].values : null;
        // The spin puts this package above the C server at 1 connection:
        // say so where those bars pass 100%.
        const oneConnection = new Set((s.cells ?? []).filter((cell) => cell.conns === 1).map((cell) => cell.label));
        const overCeiling = base
          ? c.groups.filter(
              (g, i) =>
                oneConnection.has(g) && c.series.some((x, si) => si !== cIdx && x.values[i] && base[i] && x.values[i] > base[i]),
            )
          : [];
        panels.push({
          title: 'Echo ping-pong: round trips/s as % of the C epoll server in the same cell',
          subtitle: 'higher is better; absolute numbers in the table (hover a bar for its value)',
          notes: overCeiling.length
            ? [`Above 100% (${overCeiling.join(', ')}): ${SPIN_NOTE}`]
            : [],
          kind: 'bars',
          unit: base ? '% of C epoll' : c.unit,
          groups: c.groups,
          rawUnit: c.unit,
          series: c.series.map((x) => ({
            ...x,
            raw: base ? x.values : null,
            values: x.values.map((v, i) => (base ? (v !== null && base[i] ? (100 * v) / base[i] : null) : v)),
          })),
        });
      } else if (s.scenario === 'fd_scaling') {
        panels.push({ title: 'fd scaling: one loop(count=1) pass with N idle channels', subtitle: 'lower is better; log-log', kind: 'lines', unit: c.unit, x: c.x, xLabel: 'N=', log: true, series: c.series });
      } else if (s.scenario === 'wakeup') {
        panels.push({ title: 'Wake-up latency: pipe write in another process -> handler', subtitle: 'lower is better; log scale', kind: 'bars', unit: 'us', log: true, groups: c.groups, series: c.series });
      } else if (s.scenario === 'memory') {
        panels.push({ title: s.title, subtitle: 'server RSS growth per idle connection, lower is better; log scale', kind: 'bars', unit: c.unit, log: true, groups: c.groups, series: c.series });
      } else {
        panels.push({ title: s.title, subtitle: 'higher is better', kind: c.kind, unit: c.unit, groups: c.groups, x: c.x, log: c.log, series: c.series });
      }
    } else if (s.scenario === 'asynchat_parse' && s.results) {
      const impls = Object.keys(s.results);
      const sizes = s.params?.linesPerRead ?? Object.keys(s.results[impls[0]] ?? {}).map(Number);
      panels.push({
        title: s.title ?? 'asynchat line splitting',
        subtitle: 'lines per second, higher is better; groups = lines per read',
        kind: 'bars',
        unit: 'lines/s',
        log: true,
        groups: sizes.map((n) => n.toLocaleString('en-US')),
        series: impls.map((impl) => ({
          label: impl === 'ours' ? 'async_chat (this pkg)' : impl === 'python' ? 'Python 3.11 asynchat' : impl,
          group: impl === 'ours' ? 'ours' : 'peer',
          values: sizes.map((n) => s.results[impl][n]?.median ?? null),
        })),
      });
    }
  }
  return panels;
}

// The chart of a run: one panel per scenario, the machine in the subtitle.
function writeSvg(svgPath, meta, scenarios) {
  writeFileSync(
    svgPath,
    renderSvg({
      title: `asyncore benchmarks (${meta.mode} run)`,
      subtitle: `${meta.date.slice(0, 16).replace('T', ' ')} UTC; ${meta.cpu_model}, ${meta.host_cpus} CPUs; Node ${meta.node}; Python ${meta.python ?? 'n/a'}; ${meta.pinning}`,
      warning: noiseWarning(meta),
      panels: chartPanels(scenarios),
    }),
  );
}

/** The Markdown report's first lines. */
function markdownHeader(meta) {
  const warning = noiseWarning(meta);
  return [
    `# asyncore benchmarks (${meta.mode} run)`,
    '',
    `${meta.date}; ${meta.cpu_model}, ${meta.host_cpus} CPUs, Linux ${meta.kernel}; Node ${meta.node}; ` +
      `Python ${meta.python ?? 'n/a (asyncore not importable)'}.`,
    `${meta.pinning}. Load average at start: ${meta.loadavg_start.map((x) => x.toFixed(2)).join(' ')}` +
      (warning ? ` (${warning})` : '') +
      '.',
    meta.package === 'loaded' ? 'This package: dist/ + native addon loaded.' : `This package: ${meta.package}.`,
    '',
  ].join('\n');
}

/** The targets section: what each target asks and whether this run met it. */
function targetsText(targets) {
  if (!targets.length) return '## Targets\n\nNot evaluated: no rows for this package in this run.';
  const pass = targets.filter((t) => t.pass).length;
  return [
    '## Targets',
    '',
    `The speeds this package aims for against its peers: ${pass} of ${targets.length} met in this run.`,
    '',
    mdTable(['target', 'measured', 'goal', ''], targets.map((t) => [t.what, measuredText(t), t.goal, t.pass ? 'ok' : 'MISSED'])),
  ].join('\n');
}

function writeMarkdown(mdPath, meta, scenarios, targets) {
  const md = [
    markdownHeader(meta),
    ...scenarios.map((s) => (markdownOf[s.scenario] ? markdownOf[s.scenario](s) : s.markdown)),
    targetsText(targets),
    `Finished in ${meta.elapsed_s.toFixed(0)} s.`,
    '',
  ].join('\n\n');
  writeFileSync(mdPath, md);
}

// Rewrites the .md and .svg next to a results JSON (e.g. after the report
// or chart code changed), without measuring anything.
function render(jsonPath) {
  const { meta, scenarios, targets } = readJson(jsonPath);
  const base = path.resolve(jsonPath).replace(/\.json$/, '');
  writeMarkdown(`${base}.md`, meta, scenarios, targets ?? []);
  writeSvg(`${base}.svg`, meta, scenarios);
  process.stdout.write(`Wrote ${base}.md, ${base}.svg\n`);
  return 0;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(help);
    return 0;
  }
  if (opts.render) return render(opts.render);
  const t0 = Date.now();
  const wanted = opts.scenario.length ? opts.scenario : Object.keys(scenarioFiles);
  for (const w of wanted) {
    if (!scenarioFiles[w]) throw new Error(`unknown scenario ${w}; known: ${Object.keys(scenarioFiles).join(', ')}`);
  }
  const complete = !opts.quick && !opts.scenario.length && !opts.servers && !opts.reps;
  const resultsDir = path.join(benchDir, 'results');
  const jsonPath = path.resolve(opts.json ?? path.join(resultsDir, complete ? 'latest.json' : path.join('tmp', opts.quick ? 'quick.json' : 'partial.json')));
  const base = jsonPath.replace(/\.json$/, '');
  const mdPath = path.resolve(opts.md ?? `${base}.md`);
  const svgPath = path.resolve(opts.svg ?? `${base}.svg`);
  const tmpDir = path.join(resultsDir, 'tmp', `run-${process.pid}`);
  mkdirSync(tmpDir, { recursive: true });

  buildTools({ log: (m) => process.stderr.write(`${m}\n`) });
  const meta = machine();
  const pin = pinning(opts.noPin);
  const pkg = ourPackage();
  meta.mode = opts.quick ? 'quick' : 'full';
  meta.pinning = pin.note;
  meta.package = pkg.ok ? 'loaded' : pkg.note;
  process.stdout.write(`${markdownHeader(meta)}\n`);
  if (opts.quick && !opts.scenario.length) {
    process.stdout.write(`Quick plan: about ${Math.round(quickBudget())} s (at most ${QUICK_LIMIT_S} s).\n\n`);
  }

  const scenarios = [];
  const failed = [];
  for (const name of wanted) {
    const file = scenarioFiles[name];
    if (!existsSync(path.join(benchDir, file))) {
      process.stdout.write(`(scenario ${name}: bench/${file} not present, skipped)\n\n`);
      continue;
    }
    const out = path.join(tmpDir, `${name}.json`);
    const r = await runScenario(name, file, opts, out);
    if (r.code !== 0 || !existsSync(out)) {
      failed.push(`${name} (exit ${r.signal ?? r.code})`);
      process.stdout.write(`(scenario ${name} failed: exit ${r.signal ?? r.code})\n\n`);
      continue;
    }
    scenarios.push(readJson(out));
  }

  const targets = scenarios.flatMap((s) => s.targets ?? []);
  process.stdout.write(`${targetsText(targets)}\n\n`);

  const elapsed = (Date.now() - t0) / 1000;
  meta.loadavg_end = os.loadavg();
  meta.elapsed_s = elapsed;
  mkdirSync(path.dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify({ meta, scenarios, targets, failed }, null, 1)}\n`);
  writeMarkdown(mdPath, meta, scenarios, targets);
  writeSvg(svgPath, meta, scenarios);
  rmSync(tmpDir, { recursive: true, force: true });
  const rel = (p) => path.relative(process.cwd(), p);
  process.stdout.write(`Wrote ${rel(jsonPath)}, ${rel(mdPath)}, ${rel(svgPath)} in ${elapsed.toFixed(0)} s.\n`);
  if (failed.length) {
    process.stdout.write(`Failed scenarios: ${failed.join(', ')}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    // A bad option is the user's mistake, not ours: its message is enough.
    const usage = /^unknown (option|scenario)|^--reps/.test(e?.message ?? '');
    process.stderr.write(`bench: ${usage ? e.message : (e.stack ?? e)}\n`);
    process.exit(usage ? 64 : 1);
  },
);
