// What the two floor echo servers share: the package and its addon, a
// listener made from --tcp PORT or --unix PATH (backlog 1024, as every
// server in bench/), and an epoll poller of the addon driven straight, as
// asyncore's epoll pass drives it: a zero-timeout epoll_wait on the
// JavaScript thread, a 50 us spin when that finds nothing, then a wait on
// Node's loop.
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const packagePath = process.env.ASYNCORE_BENCH_PACKAGE || '../../dist/index.js';
export const asyncore = require(packagePath);
/** A module of the package by its file name (a part no public name exports). */
export function packageModule(name) {
  return require(path.join(path.dirname(require.resolve(packagePath)), name));
}
const addon = packageModule('binding.js');
export const binding = addon.binding;
const { PollerKind } = addon;
const { AF_INET, AF_UNIX, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, socket } = asyncore.socket;

const SPIN_US = 50;

/** The listening socket (non-blocking) for argv, and what "ready" prints for it. */
export function listenFromArgv(argv) {
  let listener;
  let label;
  if (argv.includes('--unix')) {
    const where = argv[argv.indexOf('--unix') + 1];
    rmSync(where, { force: true });
    listener = new socket(AF_UNIX, SOCK_STREAM);
    listener.bind(where);
    label = where;
  } else {
    listener = new socket(AF_INET, SOCK_STREAM);
    listener.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    listener.bind(['127.0.0.1', Number(argv[argv.indexOf('--tcp') + 1])]);
    label = String(listener.getsockname()[1]);
  }
  listener.listen(1024);
  listener.setblocking(false);
  return { listener, label };
}

/** Accepts every pending connection (until accept() fails), each made non-blocking and handed to onAccepted. */
export function acceptEach(listener, onAccepted) {
  for (;;) {
    let accepted;
    try {
      [accepted] = listener.accept();
    } catch {
      return;
    }
    accepted.setblocking(false);
    onAccepted(accepted);
  }
}

// The addon's epoll poller, made when the first server imports this module
// (each server has one), and the calls an asyncore epoll pass makes on it.
let wakeUp = null;
const poller = new binding.Poller(PollerKind.epoll, (count) => wakeUp(count));
/** [fd, revents] pairs of the last poll: room for 1,024, as many as a full pass needs here. */
export const out = new Int32Array(2 * 1024);
// One fd per setInterest() call, as a pass on change hands over a change.
const one = new Int32Array(1);
const oneEvents = new Int32Array(1);

/** Watches fd for events (0: stops). */
export function watch(fd, events) {
  one[0] = fd;
  oneEvents[0] = events;
  poller.setInterest(one, oneEvents, 1, null, true);
}

/** The number of ready pairs in out now, after a spin of up to 50 us (0: none). */
export function pollReady() {
  let count = poller.pollNow(out);
  if (count === 0) {
    const until = performance.now() + SPIN_US / 1000;
    while (count === 0 && performance.now() < until) count = poller.pollNow(out);
  }
  return count;
}

/** Waits on Node's loop until something is ready: the number of ready pairs in out. */
export function waitReady() {
  return new Promise((resolve) => {
    wakeUp = resolve;
    poller.wait(-1, out);
  });
}
