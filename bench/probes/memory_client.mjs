// The client side of bench/memory.mjs: opens N TCP connections to an echo
// server on 127.0.0.1, at most C of them connecting or waiting for their
// echo at once, and on each sends one 64-byte line (63 printable bytes that
// depend on the connection, then "\n") and checks that the echo is that line.
//
//   node memory_client.mjs --port PORT --conns N [--concurrency C] [--hold SECONDS] [--timeout SECONDS]
//
// Once every echo is back it prints "ready <ms>" (from the first connect to
// the last echo). Without --hold it then closes every connection
// and exits; with --hold it keeps them open and idle, and exits after
// SECONDS (the bench stops it sooner). A refused or reset connection, a
// wrong echo, a server that closes first or a run past --timeout exits 1
// with the reason on stderr.
import net from 'node:net';

const MESSAGE_BYTES = 64;

function option(argv, name, fallback) {
  const at = argv.indexOf(name);
  if (at < 0) {
    if (fallback === undefined) fail(`${name} is required`);
    return fallback;
  }
  const value = Number(argv[at + 1]);
  if (!(value > 0)) fail(`${name} needs a positive number, got ${JSON.stringify(argv[at + 1])}`);
  return value;
}

function fail(reason) {
  process.stderr.write(`memory_client: ${reason}\n`);
  process.exit(1);
}

/** Connection i's line: its number, padded to 63 printable bytes, then "\n". */
function lineFor(i) {
  return Buffer.from(`connection ${i} `.padEnd(MESSAGE_BYTES - 1, 'x') + '\n');
}

const argv = process.argv.slice(2);
const port = option(argv, '--port');
const conns = option(argv, '--conns');
const concurrency = option(argv, '--concurrency', 100);
const hold = option(argv, '--hold', 0);
const timeout = option(argv, '--timeout', 60);

setTimeout(() => fail(`${conns - echoed} of ${conns} connections without their echo after ${timeout} s`), timeout * 1000).unref();

const sockets = [];
let opened = 0;
let inFlight = 0;
let echoed = 0;
let closing = false;
const started = process.hrtime.bigint();

function openMore() {
  while (inFlight < concurrency && opened < conns) exchange(opened++);
}

// Connects, sends connection i's line, and waits for it to come back whole.
function exchange(i) {
  inFlight += 1;
  const line = lineFor(i);
  const received = [];
  let receivedBytes = 0;
  const sock = net.connect({ host: '127.0.0.1', port });
  sockets.push(sock);
  sock.on('connect', () => sock.write(line));
  sock.on('error', (e) => {
    if (!closing) fail(`connection ${i}: ${e.message}`);
  });
  sock.on('close', () => {
    if (!closing) fail(`connection ${i} closed by the server`);
  });
  sock.on('data', (chunk) => {
    received.push(chunk);
    receivedBytes += chunk.length;
    if (receivedBytes < MESSAGE_BYTES) return;
    if (receivedBytes > MESSAGE_BYTES || !Buffer.concat(received).equals(line)) {
      fail(`connection ${i}: the echo is not the line sent (${receivedBytes} bytes)`);
    }
    inFlight -= 1;
    echoed += 1;
    if (echoed === conns) finished();
    else openMore();
  });
}

function finished() {
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(`ready ${ms.toFixed(0)}\n`);
  if (hold > 0) {
    setTimeout(() => process.exit(0), hold * 1000);
    return;
  }
  closing = true;
  for (const sock of sockets) sock.destroy();
}

openMore();
