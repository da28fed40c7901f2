// The floor for asyncore's own contract: the JS floor's loop (the same
// addon calls as asyncore's epoll pass) plus, per event, only what
// Lib/asyncore.py makes any port of its echo example do, and what this
// package's rules add to every front end:
//
// - channels in a Map by fd, each event checked against the channel that
//   held the fd when the pass began (gh-75114), and the channel marked to
//   be asked again;
// - readwrite()'s flag tests under a try, handle_read_event()'s state tests,
//   then the handler: recv(8192) and send();
// - recv() returns a new Buffer of what was read (Python's bytes), and a
//   closed peer calls handle_close();
// - send() is dispatcher_with_send's: out_buffer, initiate_send() of at most
//   64 KiB, the rest kept;
// - at the next pass, readable() and writable() of each channel that ran,
//   as interest 'on_change' asks them, and the watch changed if they did;
// - recv()'s bufsize and send()'s data checked, as every public call is;
// - a yield to Node's event loop when the package's own SpinPolicy
//   (src/spin.ts), which bounds every pass loop, says so.
//
// No watcher module, socket object or change log in between. What the
// asyncore epoll + on_change row spends above this row is its own layers';
// what this row spends above the JS floor, no port of the example with
// these rules can save.
//
//   node asyncore_contract_floor.mjs (--tcp PORT | --unix PATH)
//
// Prints "ready <port|path>" once listening.
import { constants } from 'node:os';
import { acceptEach, asyncore, binding, listenFromArgv, out, packageModule, pollReady, waitReady, watch } from './addon_loop.mjs';

const { POLLIN, POLLOUT, POLLPRI, POLLHUP, POLLERR } = asyncore.select;

const SEND_CHUNK = 64 * 1024;
const EAGAIN = constants.errno.EAGAIN;
const EMPTY = Buffer.alloc(0);

const { listener, label } = listenFromArgv(process.argv.slice(2));
const listenFd = listener.fileno();
// One read buffer for every recv, copied out into the new Buffer returned.
const readBuffer = Buffer.allocUnsafe(8192);

/** fd -> channel: the map. */
const channels = new Map();
/** fd -> the channel the watch was set for, and its events. */
const watchedFor = [];
const watchedEvents = new Int32Array(65536);
/** The fds whose channel ran handlers since the last pass (each listed once). */
const dirty = [];
const isDirty = new Uint8Array(65536);

class EchoChannel {
  constructor(sock) {
    this.socket = sock;
    this.fd = sock.fileno();
    this.connected = true;
    this.accepting = false;
    this.connecting = false;
    this.out_buffer = EMPTY;
  }

  readable() {
    return true;
  }

  writable() {
    return !this.connected || this.out_buffer.length > 0;
  }

  handle_read_event() {
    if (this.accepting) this.handle_accept();
    else if (!this.connected) {
      if (this.connecting) this.handle_connect_event();
      this.handle_read();
    } else this.handle_read();
  }

  handle_write_event() {
    this.initiate_send();
  }

  handle_expt_event() {}

  handle_close() {
    this.connected = false;
    channels.delete(this.fd);
    watch(this.fd, 0);
    watchedFor[this.fd] = undefined;
    this.socket.close();
  }

  handle_error(err) {
    console.error(err);
    this.handle_close();
  }

  handle_read() {
    const data = this.recv(8192);
    if (data.length) this.send(data);
  }

  recv(bufsize) {
    if (typeof bufsize !== 'number' || !Number.isInteger(bufsize) || bufsize < 0) throw new TypeError(`recv(): bufsize ${bufsize}`);
    const got = binding.recv(this.fd, readBuffer, 0, 0);
    if (got === -EAGAIN) throw new Error('recv(): EAGAIN');
    if (got <= 0) {
      this.handle_close();
      return EMPTY;
    }
    const data = Buffer.allocUnsafe(got);
    data.set(got === readBuffer.length ? readBuffer : new Uint8Array(readBuffer.buffer, readBuffer.byteOffset, got));
    return data;
  }

  /** dispatcher.send(): bytes sent, 0 when the socket would block. */
  sendNow(data) {
    if (!(data instanceof Uint8Array)) throw new TypeError('send(): data');
    const sent = binding.send(this.fd, data, 0, 0);
    if (sent >= 0) return sent;
    if (sent === -EAGAIN) return 0;
    this.handle_close();
    return 0;
  }

  initiate_send() {
    const pending = this.out_buffer;
    const sent = this.sendNow(pending.length > SEND_CHUNK ? pending.subarray(0, SEND_CHUNK) : pending);
    this.out_buffer = sent >= pending.length ? EMPTY : pending.subarray(sent);
  }

  send(data) {
    if (!(data instanceof Uint8Array)) throw new TypeError('send(): data');
    this.out_buffer = this.out_buffer.length === 0 ? data : Buffer.concat([this.out_buffer, data]);
    this.initiate_send();
    return data.length;
  }
}

/** readable() and writable() of the channel under fd, and its watch changed if they changed. */
function ask(fd) {
  const channel = channels.get(fd);
  if (channel === undefined) return;
  const events = (channel.readable() ? POLLIN | POLLPRI : 0) | (channel.writable() && !channel.accepting ? POLLOUT : 0);
  if (watchedEvents[fd] === events && watchedFor[fd] === channel) return;
  watchedEvents[fd] = events;
  watchedFor[fd] = channel;
  watch(fd, events);
}

function askDirty() {
  for (const fd of dirty) {
    isDirty[fd] = 0;
    ask(fd);
  }
  dirty.length = 0;
}

function holds(fd, channel) {
  return watchedFor[fd] === channel && channels.get(fd) === channel;
}

/** Python's readwrite(), as a pass runs it for one ready fd. */
function readwrite(fd, revents) {
  const channel = watchedFor[fd];
  if (channel === undefined || channels.get(fd) !== channel) return;
  if (!isDirty[fd]) {
    isDirty[fd] = 1;
    dirty.push(fd);
  }
  try {
    if (revents & POLLIN) channel.handle_read_event();
    if (revents & POLLOUT && holds(fd, channel)) channel.handle_write_event();
    if (revents & POLLPRI && holds(fd, channel)) channel.handle_expt_event();
    if (revents & (POLLHUP | POLLERR) && holds(fd, channel)) channel.handle_close();
  } catch (err) {
    channel.handle_error(err);
  }
}

function onAccepted(sock) {
  const channel = new EchoChannel(sock);
  channels.set(channel.fd, channel);
  ask(channel.fd);
}

watch(listenFd, POLLIN);
process.stdout.write(`ready ${label}\n`);
const spin = new (packageModule('spin.js').SpinPolicy)();
spin.resetYieldBudget();
for (;;) {
  if (spin.shouldYield()) {
    await new Promise((resolve) => setImmediate(resolve));
    spin.resetYieldBudget();
  }
  // The channels that ran are asked again, then the poll.
  askDirty();
  let count = pollReady();
  if (count === 0) {
    count = await waitReady();
    spin.resetYieldBudget();
  }
  for (let i = 0; i < count; i++) {
    const fd = out[2 * i];
    if (fd === listenFd) acceptEach(listener, onAccepted);
    else readwrite(fd, out[2 * i + 1]);
  }
}
