// What `npm run bench -- --quick` runs, and what that costs. Each scenario
// reads its quick settings from QUICK (the cells, servers, sizes and seconds
// it runs), so the budget computed here is that of the runs the scenarios
// make; test/bench-plan.test.ts holds it under QUICK_LIMIT_S. A scenario
// that gains a measurement in quick mode adds it here, with its cost.

/** Every scenario: its name (for --scenario) and its file in bench/. */
export const SCENARIO_FILES = {
  echo: 'echo.mjs',
  churn: 'churn.mjs',
  fd_scaling: 'fd_scaling.mjs',
  wakeup: 'wakeup.mjs',
  asynchat_parse: 'asynchat_parse.mjs',
  twisted: 'twisted.mjs',
  twisted_defer: 'twisted_defer.mjs',
  socketserver: 'socketserver.mjs',
  socketpair: 'socketpair.mjs',
  memory: 'memory.mjs',
};

/** What --quick promises (run.mjs --help): every scenario in under two minutes. */
export const QUICK_LIMIT_S = 120;

/**
 * Allowances, in seconds, for what a plan does not set itself, measured on
 * the 2-CPU machine the results come from (`time node bench/<scenario>.mjs
 * --quick`), with room to spare:
 */
export const COST = {
  // run.mjs itself: its start, the load generator's build check, the report.
  harness: 2,
  // One scenario's own process: Node's start, its imports, the Python and
  // package probes, writing its JSON.
  scenario: 1.5,
  // One matrix run beyond its warm-up and measurement: starting and stopping
  // the server process, the load generator's start and connects (churn: 2
  // runs of 0.9 s took 2.55 s with the scenario's start).
  matrixRun: 0.5,
  // The same for a forking server, whose children start in the warm-up but
  // are stopped after it (ss-forking, 4 runs: 1.1 s each beyond 2.6 s).
  forkingRun: 1.5,
  // socketserver's first request of a forking server, cold or warm, beyond
  // the warm server's wait: starting the server, a child's start for a cold
  // one, the request, stopping it (ss-forking cold: 0.1-0.5 s to the echo).
  firstRequestRun: 1.0,
  // One fd_scaling run beyond its measured seconds: the process and its N
  // channels (40 runs of 0.3 s took 30.8 s).
  fdScalingRun: 0.5,
  // One wakeup reader beyond its stamps: the writer's lead and both processes.
  wakeupRun: 0.5,
  // One asynchat_parse child: Node or Python's start, building 1 MiB of reads.
  parseChild: 0.5,
  // One parse of 1 MiB, at its slowest in the quick sizes (Python at 1 and
  // at 10,000 lines per read: 3 passes and the child's start in 1.1-1.2 s;
  // the whole quick scenario took 5.0-5.5 s). Python with the whole MiB in
  // one read takes over 4 s a pass (its buffer is sliced line by line), so
  // quick runs leave that size out.
  parsePass: 0.5,
  // One twisted_defer child: Node's start, the package, its untimed and
  // timed rounds of 50,000 waits.
  deferChild: 0.8,
  // One socketpair child: Node's or Python's start, the package, its untimed
  // and timed passes of 20,000 send + recv (both children: 0.41 s).
  socketpairChild: 0.5,
  // One memory run beyond its connections: the server's start, the warm-up
  // client, two readings (with a collection on Node) and the stops.
  memoryRun: 0.8,
  // Each connection of a memory run, at the slowest server's pace (10,000
  // connections took 1.3-4.7 s, Python asyncore 12 s once; 2,000 for four
  // servers, with everything above: 5.0 s).
  memoryConnection: 0.0004,
};

/**
 * Each scenario's quick settings. Matrix scenarios name their cells and
 * servers (ids from the scenario's lists); a server left out here still
 * runs in a full run.
 */
export const QUICK = {
  echo: {
    cells: ['tcp-10'],
    // Not asyncore-select and asyncore-epoll without on_change (a full run
    // has them): their time went to the socketpair scenario and the JS floor.
    servers: [
      'asyncore-poll',
      'asyncore-epoll-on-change',
      'asynchat-poll',
      'node-net',
      'py-asyncore-poll',
      'py-asynchat-poll',
      'c-epoll',
      'addon-floor',
    ],
    reps: 1,
    warmup: 0.3,
    duration: 0.6,
  },
  churn: {
    cells: ['churn-10'],
    servers: ['asyncore-epoll', 'asynchat-poll', 'node-net', 'py-asyncore-poll', 'c-epoll'],
    reps: 1,
    warmup: 0.3,
    duration: 0.6,
  },
  fd_scaling: { sizes: [100, 10000], reps: 1, seconds: 0.3 },
  wakeup: { reps: 1, count: 300, intervalUs: 1000, leadMs: 400 },
  asynchat_parse: { reps: 1, iterations: 1, linesPerRead: [1, 100, 10_000] },
  twisted: {
    cells: ['tcp-10', 'churn-10'],
    servers: ['tw-line', 'tw-raw', 'node-net', 'py-tw-line', 'py-tw-raw'],
    reps: 1,
    warmup: 0.3,
    duration: 0.6,
  },
  twisted_defer: { reps: 1, count: 50_000 },
  // The rows of the target only (bench/socketpair.mjs's ROWS ids).
  socketpair: { rows: ['ours', 'python'], reps: 1, count: 20_000 },
  socketserver: {
    // Not tcp-100: a forking server serves max_children (40) connections at
    // once, so the other 60 wait out the load generator's setup timeout.
    cells: ['tcp-10', 'churn-10'],
    servers: ['ss-threading', 'ss-forking', 'py-ss-threading', 'py-ss-forking'],
    forking: ['ss-forking', 'py-ss-forking'],
    // Whose first request, cold and warm, is measured: ours only (a full
    // run adds Python's beside it).
    firstRequest: ['ss-forking'],
    reps: 1,
    // Longer than elsewhere: a forking server starts its children in it.
    warmup: 1,
    duration: 0.6,
  },
  memory: {
    // This package's rows and their Python peers; a full run adds Node net and C.
    servers: ['asyncore-epoll-on-change', 'tw-raw', 'py-asyncore-poll-accept-all', 'py-tw-raw'],
    reps: 1,
    conns: 2000,
  },
};

/** How long socketserver's warm forking server serves before its first request, in seconds (full and quick runs). */
export const FIRST_REQUEST_WARM_S = 1;

/** How many processes each of these scenarios starts per size or reader, at most. */
const FD_SCALING_IMPLEMENTATIONS = 10; // 5 asyncore variants, the addon floor, 2 Python, 2 C
const WAKEUP_READERS = 6; // 3 asyncore backends, the addon floor, 2 Python
const PARSE_IMPLEMENTATIONS = 2; // ours and Python
/** The untimed passes each asynchat_parse child makes first (its WARMUP). */
export const PARSE_UNTIMED_PASSES = 2;

function matrixSeconds(plan, runCost = () => COST.matrixRun) {
  let seconds = 0;
  for (const server of plan.servers) {
    seconds += plan.reps * plan.cells.length * (runCost(server) + plan.warmup + plan.duration);
  }
  return seconds;
}

/** Seconds each scenario's quick run costs, by the allowances above. */
export function quickCosts(plan = QUICK) {
  const forking = (server) => (plan.socketserver.forking.includes(server) ? COST.forkingRun : COST.matrixRun);
  const work = {
    echo: matrixSeconds(plan.echo),
    churn: matrixSeconds(plan.churn),
    fd_scaling:
      plan.fd_scaling.reps * plan.fd_scaling.sizes.length * FD_SCALING_IMPLEMENTATIONS * (plan.fd_scaling.seconds + COST.fdScalingRun),
    wakeup:
      plan.wakeup.reps *
      WAKEUP_READERS *
      ((plan.wakeup.count * plan.wakeup.intervalUs) / 1e6 + plan.wakeup.leadMs / 1000 + COST.wakeupRun),
    asynchat_parse:
      plan.asynchat_parse.reps *
      plan.asynchat_parse.linesPerRead.length *
      PARSE_IMPLEMENTATIONS *
      (COST.parseChild + (PARSE_UNTIMED_PASSES + plan.asynchat_parse.iterations) * COST.parsePass),
    twisted: matrixSeconds(plan.twisted),
    // Each rep runs both ways of waiting on both kinds of Deferred.
    twisted_defer: plan.twisted_defer.reps * 4 * COST.deferChild,
    // One child per row.
    socketpair: plan.socketpair.reps * plan.socketpair.rows.length * COST.socketpairChild,
    socketserver:
      matrixSeconds(plan.socketserver, forking) +
      // The first request, cold and warm.
      plan.socketserver.reps * plan.socketserver.firstRequest.length * (2 * COST.firstRequestRun + FIRST_REQUEST_WARM_S),
    memory: plan.memory.reps * plan.memory.servers.length * (COST.memoryRun + plan.memory.conns * COST.memoryConnection),
  };
  return Object.fromEntries(Object.entries(work).map(([name, seconds]) => [name, COST.scenario + seconds]));
}

/** The whole quick run's budget in seconds. */
export function quickBudget(plan = QUICK) {
  return COST.harness + Object.values(quickCosts(plan)).reduce((sum, seconds) => sum + seconds, 0);
}
