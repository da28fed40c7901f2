// The bounded soak that CI runs (npm run soak, well under 2 minutes): each
// part prints its figures and fails past the limit it states.
//
// - churn: 20,000 connections through an asyncore echo server, on every
//   backend, with the client side on asyncore too (one in ten over TCP,
//   the rest over a unix socket, so as not to run out of ports); the fds,
//   threads and RSS of the process at the start and at the end.
// - worker-terminate storm: 500 workers terminated at random moments
//   (test/fixtures/worker-storm.cjs); no abort, no fd or thread left.
// - map finalization: 1,000 maps per backend used once and dropped
//   (test/fixtures/map-finalization.cjs); nearly all are collected.
// - deferreds: 10,000 Deferreds whose callback throws, dropped unhandled
//   (test/fixtures/soak-deferreds.mjs); each is logged, the heap comes back.
// - threading-churn: 10,000 connections through a ThreadingTCPServer whose
//   handler throws for one in three (test/fixtures/soak-threading-churn.mjs).
// - twisted-churn: 5,000 connections through a Twisted server whose
//   buildProtocol() and dataReceived() throw (test/fixtures/
//   soak-twisted-churn.mjs); each ends, each throw is logged, fds, threads
//   and heap come back.
// - forking-churn: a ForkingTCPServer's clients while its children are
//   SIGKILLed at random (test/fixtures/soak-forking-churn.cjs); no request
//   lost but with its child, and no fd, thread, child or heap left.
//
// Runs the built package (dist/), as users get it.
//
//   node scripts/soak.mjs [PART ...]   (the parts' names are in `parts` below)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(root, 'test', 'fixtures');

const LIMITS = {
  churnConnections: 20_000,
  // The end may hold no more fds or threads than the start; RSS may grow
  // this much (allocator and JIT noise; a leak of a few hundred bytes per
  // connection would pass 8 MiB by 20,000).
  churnRssGrowthMiB: 16,
  stormTerminates: 500,
  maps: 1000,
  // Nearly every map: the last ones may still be reachable from the stack.
  mapsNotFinalized: 5,
  mapsHeapGrowthMiB: 8,
  deferreds: 10_000,
  // Nothing of the dropped Deferreds may stay: 10,000 of them held with
  // their failures take about 12 MiB.
  deferredsHeapGrowthMiB: 1,
  // Connections through a Twisted server whose buildProtocol() and
  // dataReceived() throw; the heap after may exceed the heap before (both
  // after a GC) by this much.
  twistedChurn: { connections: 5000, heapGrowthMiB: 4 },
  // forking-churn: seconds of clients while children are SIGKILLed at
  // random; the heap after may exceed the heap before by this much.
  forkingSeconds: 8,
  forkingHeapGrowthMiB: 4,
  // ThreadingTCPServer churn, one handler in three throwing: fds and
  // threads come back exactly, the heap within this much.
  threadingChurn: { connections: 10_000, heapGrowthMiB: 4 },
};

function processFigures() {
  const status = readFileSync('/proc/self/status', 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)[1]);
  return { fds: readdirSync('/proc/self/fd').length, threads: field('Threads'), rssMiB: field('VmRSS') / 1024 };
}

const failures = [];
function limit(what, ok, detail) {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
  if (!ok) failures.push(what);
}

const round = (x) => Math.round(x * 10) / 10;

/**
 * `count` connections, CONCURRENT at a time, through a new pair of echo
 * servers (unix and TCP) on one map; resolves when the map is empty.
 */
async function churnRound(asyncore, backend, count) {
  const { AF_INET, AF_UNIX } = asyncore.socket;
  const CONCURRENT = 20;
  const map = new Map();
  const dir = mkdtempSync(path.join(tmpdir(), 'asyncore-soak-'));
  const unixPath = path.join(dir, 'echo.sock');
  const state = { started: 0, done: 0, failed: 0 };

  class EchoHandler extends asyncore.dispatcher_with_send {
    handle_read() {
      const data = this.recv(64);
      if (data.length > 0) this.send(data);
    }
  }

  class Server extends asyncore.dispatcher {
    constructor(family, addr) {
      super(null, map);
      this.create_socket(family);
      if (family === AF_INET) this.set_reuse_addr();
      this.bind(addr);
      this.listen(1024);
    }

    handle_accepted(sock) {
      new EchoHandler(sock, map);
    }
  }

  const servers = [new Server(AF_UNIX, unixPath), new Server(AF_INET, ['127.0.0.1', 0])];
  const tcpAddr = servers[1].socket.getsockname();

  class Client extends asyncore.dispatcher {
    constructor() {
      super(null, map);
      const tcp = state.started++ % 10 === 0;
      this.create_socket(tcp ? AF_INET : AF_UNIX);
      this.connect(tcp ? tcpAddr : unixPath);
    }

    handle_connect() {
      this.send(Buffer.from('ping'));
    }

    writable() {
      return !this.connected;
    }

    handle_read() {
      if (this.recv(64).length > 0) this.finish(true);
    }

    handle_close() {
      this.finish(false);
    }

    handle_error() {
      this.finish(false);
    }

    finish(ok) {
      this.close();
      state[ok ? 'done' : 'failed'] += 1;
      if (state.started < count) new Client();
      else if (state.done + state.failed === count) servers.forEach((server) => server.close());
    }
  }

  for (let i = 0; i < Math.min(CONCURRENT, count); i++) new Client();
  await asyncore.loop({ map, backend, timeout: 1 });
  rmSync(dir, { recursive: true, force: true });
  return state;
}

async function churnOne(asyncore, backend) {
  // A warm-up first, so that what is made once (libuv's threads, JIT code,
  // the allocator's arenas) is in the start figures.
  await churnRound(asyncore, backend, 200);
  await settle(asyncore);
  const start = processFigures();
  const begin = performance.now();
  const state = await churnRound(asyncore, backend, LIMITS.churnConnections);
  const seconds = (performance.now() - begin) / 1000;
  await settle(asyncore);
  return { ...state, seconds, start, end: processFigures() };
}

/** Lets reactors close (at the end of the turn their loop ended in) and collects. */
async function settle(asyncore) {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  asyncore.select._closeIdlePollers();
  globalThis.gc?.();
}

async function churn() {
  const require = createRequire(import.meta.url);
  const asyncore = require(path.join(root, 'dist', 'index.js'));
  for (const backend of ['select', 'poll', 'epoll']) {
    const r = await churnOne(asyncore, backend);
    console.log(
      `churn ${backend}: ${r.done} connections (${r.failed} failed) in ${round(r.seconds)} s, ` +
        `${Math.round(r.done / r.seconds)}/s; fds ${r.start.fds} -> ${r.end.fds}, threads ${r.start.threads} -> ` +
        `${r.end.threads}, RSS ${round(r.start.rssMiB)} -> ${round(r.end.rssMiB)} MiB`,
    );
    limit(`churn ${backend}: all ${LIMITS.churnConnections} connections echoed`, r.done === LIMITS.churnConnections && r.failed === 0);
    limit(`churn ${backend}: no fd left`, r.end.fds <= r.start.fds, `${r.end.fds - r.start.fds} more`);
    limit(`churn ${backend}: no thread left`, r.end.threads <= r.start.threads, `${r.end.threads - r.start.threads} more`);
    const growth = r.end.rssMiB - r.start.rssMiB;
    limit(`churn ${backend}: RSS grew at most ${LIMITS.churnRssGrowthMiB} MiB`, growth <= LIMITS.churnRssGrowthMiB, `${round(growth)} MiB`);
  }
}

function runFixture(args) {
  const child = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });
  return { ...child, figures: child.status === 0 ? JSON.parse(child.stdout.trim().split('\n').pop()) : null };
}

function storm() {
  const run = runFixture([path.join(fixtures, 'worker-storm.cjs'), String(LIMITS.stormTerminates), 'dist']);
  const f = run.figures;
  if (f !== null) {
    console.log(
      `storm: ${f.terminates} terminates in ${round(f.ms / 1000)} s (${f.phases.loading} loading, ${f.phases.running} running); ` +
        `fds ${f.before.fds} -> ${f.after.fds}, threads ${f.before.threads} -> ${f.after.threads}, ` +
        `RSS ${round(f.before.rssKiB / 1024)} -> ${round(f.after.rssKiB / 1024)} MiB`,
    );
  }
  limit('storm: the process never aborted', run.status === 0 && run.signal === null, run.signal ?? (run.stderr || '').split('\n')[0]);
  if (f === null) return;
  limit(`storm: all ${LIMITS.stormTerminates} workers terminated`, f.terminates === LIMITS.stormTerminates);
  limit('storm: no worker reported an error', f.errors.length === 0, f.errors[0]);
  limit('storm: no fd left', f.after.fds <= f.before.fds, `${f.after.fds - f.before.fds} more`);
  limit('storm: no thread left', f.after.threads <= f.before.threads, `${f.after.threads - f.before.threads} more`);
}

function maps() {
  const run = runFixture(['--expose-gc', path.join(fixtures, 'map-finalization.cjs'), String(LIMITS.maps), 'dist']);
  limit('maps: the child ran', run.status === 0, (run.stderr || '').split('\n')[0]);
  if (run.figures === null) return;
  for (const [backend, r] of Object.entries(run.figures)) {
    const growth = r.heapAfterMiB - r.heapBeforeMiB;
    console.log(`maps ${backend}: ${r.finalized} of ${r.maps} finalized; heap ${round(r.heapBeforeMiB)} -> ${round(r.heapAfterMiB)} MiB`);
    limit(`maps ${backend}: at most ${LIMITS.mapsNotFinalized} not finalized`, r.maps - r.finalized <= LIMITS.mapsNotFinalized);
    limit(`maps ${backend}: heap grew at most ${LIMITS.mapsHeapGrowthMiB} MiB`, growth <= LIMITS.mapsHeapGrowthMiB, `${round(growth)} MiB`);
  }
}

function deferreds() {
  // Its stderr carries a traceback per failure: more than spawnSync's default buffer.
  const args = ['--expose-gc', path.join(fixtures, 'soak-deferreds.mjs'), String(LIMITS.deferreds)];
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 256 * 2 ** 20 });
  limit('deferreds: the child ran', run.status === 0, run.error?.message ?? run.signal ?? '');
  if (run.status !== 0) return;
  const f = JSON.parse(run.stdout.trim().split('\n').pop());
  const logged = (run.stderr.match(/^Unhandled error in Deferred:$/gm) ?? []).length;
  const growth = f.after.heapMiB - f.before.heapMiB;
  console.log(
    `deferreds: ${f.count} unhandled failures in ${round(f.ms / 1000)} s, ${logged} logged (${f.loggedAtCollection} at collection); heap ${round(f.before.heapMiB)} -> ` +
      `${round(f.filledHeapMiB)} -> ${round(f.after.heapMiB)} MiB; fds ${f.before.fds} -> ${f.after.fds}, threads ${f.before.threads} -> ${f.after.threads}`,
  );
  limit(`deferreds: all ${LIMITS.deferreds} logged`, logged === f.count + f.warmUp, `${logged} of ${f.count + f.warmUp}`);
  limit(`deferreds: all ${LIMITS.deferreds} logged once collected`, f.loggedAtCollection === f.count, `${f.loggedAtCollection}`);
  const allowed = LIMITS.deferredsHeapGrowthMiB;
  limit(`deferreds: heap grew at most ${allowed} MiB`, growth <= allowed, `${Math.round(growth * 1000) / 1000} MiB`);
  limit('deferreds: no fd left', f.after.fds <= f.before.fds, `${f.after.fds - f.before.fds} more`);
  limit('deferreds: no thread left', f.after.threads <= f.before.threads, `${f.after.threads - f.before.threads} more`);
}

/** Twisted churn with throwing protocol code (test/fixtures/soak-twisted-churn.mjs): each connection ends, each throw is logged, fds/threads/heap come back. */
function twistedChurn() {
  const { connections, heapGrowthMiB } = LIMITS.twistedChurn;
  const fixture = path.join(fixtures, 'soak-twisted-churn.mjs');
  const run = spawnSync(process.execPath, ['--expose-gc', fixture, String(connections)], { encoding: 'utf8', timeout: 25_000 });
  limit('twisted-churn: the child ran', run.status === 0, run.signal ?? (run.stderr || '').split('\n')[0]);
  if (run.status !== 0) return;
  const f = JSON.parse(run.stdout.trim().split('\n').pop());
  const ended = f.echoed + f.refused;
  limit(`twisted-churn: all ${connections} connections ended`, !f.timedOut && ended === connections, `${ended} ended`);
  if (f.timedOut) return;
  const growth = f.after.heapMiB - f.before.heapMiB;
  console.log(
    `twisted-churn: ${connections} connections in ${round(f.ms / 1000)} s (${f.echoed} echoed, ${f.refused} closed by a throw); ` +
      `${f.thrown} throws, ${f.logged} logged; fds ${f.before.fds} -> ${f.after.fds}, threads ${f.before.threads} -> ${f.after.threads}, ` +
      `heap ${round(f.before.heapMiB)} -> ${round(f.after.heapMiB)} MiB`,
  );
  limit('twisted-churn: every throw logged once', f.logged === f.thrown, `${f.logged} of ${f.thrown}`);
  limit('twisted-churn: no fd left', f.after.fds <= f.before.fds, `${f.after.fds - f.before.fds} more`);
  limit('twisted-churn: no thread left', f.after.threads <= f.before.threads, `${f.after.threads - f.before.threads} more`);
  limit(`twisted-churn: heap grew at most ${heapGrowthMiB} MiB`, growth <= heapGrowthMiB, `${round(growth)} MiB`);
}

function forkingChurn() {
  const run = runFixture(['--expose-gc', path.join(fixtures, 'soak-forking-churn.cjs'), String(LIMITS.forkingSeconds), '1']);
  limit('forking-churn: the child ran', run.status === 0, (run.stderr || '').split('\n')[0]);
  const f = run.figures;
  if (f === null) return;
  const { before, after } = f;
  console.log(
    `forking-churn: ${f.echoed} of ${f.connections} connections echoed in ${round(f.ms / 1000)} s, ${f.kills} children killed ` +
      `(${f.killedWhileServing} while serving, ${f.lost} requests lost); fds ${before.fds} -> ${after.fds}, threads ` +
      `${before.threads} -> ${after.threads}, children ${before.children} -> ${after.children}, heap ` +
      `${round(before.heapMiB)} -> ${round(after.heapMiB)} MiB`,
  );
  limit('forking-churn: children were killed and requests served', f.kills > 0 && f.echoed > 0, `${f.kills} kills`);
  // A request is lost only with the child that served it, and reported so.
  limit('forking-churn: no request lost but with its child', f.lost <= f.killedWhileServing, `${f.lost} lost`);
  limit('forking-churn: no other error reported', f.otherErrors.length === 0, f.otherErrors[0]);
  limit('forking-churn: no fd left', after.fds <= before.fds, `${after.fds - before.fds} more`);
  limit('forking-churn: no thread left', after.threads <= before.threads, `${after.threads - before.threads} more`);
  limit('forking-churn: no child left', after.children <= before.children, `${after.children - before.children} more`);
  const growth = after.heapMiB - before.heapMiB;
  limit(`forking-churn: heap grew at most ${LIMITS.forkingHeapGrowthMiB} MiB`, growth <= LIMITS.forkingHeapGrowthMiB, `${round(growth)} MiB`);
}


function threadingChurn() {
  const { connections, heapGrowthMiB } = LIMITS.threadingChurn;
  const run = runFixture(['--expose-gc', path.join(fixtures, 'soak-threading-churn.mjs'), String(connections)]);
  limit('threading-churn: the child ran', run.status === 0, (run.stderr || '').split('\n')[0]);
  const f = run.figures;
  if (f === null) return;
  const growth = f.after.heapMiB - f.before.heapMiB;
  console.log(
    `threading-churn: ${f.connections} connections in ${round(f.ms / 1000)} s (${f.result.echoed} echoed, ` +
      `${f.result.reported} handler errors reported); fds ${f.before.fds} -> ${f.after.fds}, threads ` +
      `${f.before.threads} -> ${f.after.threads}, heap ${round(f.before.heapMiB)} -> ${round(f.after.heapMiB)} MiB`,
  );
  const same = JSON.stringify(f.result) === JSON.stringify(f.expected);
  limit('threading-churn: every request answered or reported', same, same ? '' : JSON.stringify(f.result));
  limit('threading-churn: no fd left', f.after.fds <= f.before.fds, `${f.after.fds - f.before.fds} more`);
  limit('threading-churn: no thread left', f.after.threads <= f.before.threads, `${f.after.threads - f.before.threads} more`);
  limit(`threading-churn: heap grew at most ${heapGrowthMiB} MiB`, growth <= heapGrowthMiB, `${round(growth)} MiB`);
}

const parts = {
  churn,
  storm,
  maps,
  deferreds,
  'twisted-churn': twistedChurn,
  'threading-churn': threadingChurn,
  'forking-churn': forkingChurn,
};
const chosen = process.argv.slice(2);
const begin = performance.now();
for (const name of chosen.length > 0 ? chosen : Object.keys(parts)) {
  const part = parts[name];
  if (part === undefined) throw new Error(`unknown part ${name}; parts: ${Object.keys(parts).join(', ')}`);
  await part();
}
console.log(`soak: ${round((performance.now() - begin) / 1000)} s, ${failures.length} limit(s) exceeded`);
process.exitCode = failures.length === 0 ? 0 : 1;
