// A reactor pass's socket reads and sends, one native call for each kind.
// Before the pass's first callback, the connections reported readable are
// read into one arena with recvMany(); each one's doRead() then takes what
// was read for it. When it read two connections or more, the bytes they
// write during the pass are copied into a second arena and sent after its
// last callback with sendMany(), where a write would otherwise send at
// once. A pass of ten echoes thus makes two calls into the addon instead of
// twenty: an echo server on the addon with no framework spent 0.87-0.91 us
// of user time per round trip calling it per recv and per send, and
// 0.47-0.67 us calling it once per pass (tcp 10 and 100, 64 bytes).
//
// Twisted's own reactor behaves the same way where it matters: the events
// of a pass are taken before any is handled (a descriptor gets its
// doRead() even if an earlier callback of the pass stopped its reading),
// and a write is sent when the reactor gets to it, not inside write().
import { Buffer } from 'node:buffer';
import { binding } from '../binding';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL } from '../constants';
import { grownInt32 } from '../int32';
import type { PassHooks } from '../watcher';
import { logThrown } from './selectable';

/** reactor[passIO]: the reactor's PassIO, which its connections defer their writes to. @internal */
export const passIO = Symbol('passIO');
/** Read ahead by a pass: this fd, -1 for none (aborting, or its doRead() overridden). @internal */
export const readAheadFd = Symbol('readAheadFd');
/** The index of what the pass read for it, -1 when it read nothing. @internal */
export const readSlot = Symbol('readSlot');
/** The fd its deferred bytes go to, -1 when they are to be dropped (closed, aborted). @internal */
export const sendFd = Symbol('sendFd');
/** The index of its deferred bytes in this pass, -1 when none wait. @internal */
export const sendSlot = Symbol('sendSlot');
/** sendMany() ended for its bytes: the count sent or -errno. @internal */
export const sendEnded = Symbol('sendEnded');

/** A connection whose reads and writes a pass can batch (tcp.ts's Connection). @internal */
export interface PassClient {
  readonly bufferSize: number;
  [readAheadFd](): number;
  [readSlot]: number;
  [sendFd](): number;
  [sendSlot]: number;
  [sendEnded](result: number, arena: Buffer, start: number, length: number): void;
}

/** The read arena's size: what one pass reads at most, over all its connections. */
const READ_ARENA = 1024 * 1024;
/** No connection's share of it is made smaller than this; those beyond read as before. */
const MIN_READ = 4096;
/** The send arena's largest size. A write that does not fit is sent as before. */
const SEND_ARENA = 1024 * 1024;
/** Larger writes are sent at once: copying them would cost more than the call saved. */
const MAX_DEFERRED = 16 * 1024;
const HANGUP = POLLHUP | POLLERR | POLLNVAL;

export class PassIO implements PassHooks {
  readonly #descriptors: ReadonlyArray<object | undefined>;
  /** Nested passes (a handler that runs the reactor) batch with the outer one. */
  #depth = 0;

  #readArena: Buffer | null = null;
  #readSize = 0;
  #readCount = 0;
  #readFds = new Int32Array(64);
  #readResults = new Int32Array(64);
  #readers: Array<PassClient | null> = [];
  /** Views of the arena by slot, as takeRead() last made them. */
  #readViews: Array<Uint8Array | undefined> = [];

  #sendArena: Buffer | null = null;
  #sendUsed = 0;
  #sendCount = 0;
  #sendFds = new Int32Array(64);
  #sendResults = new Int32Array(64);
  #spans = new Int32Array(128);
  #senders: Array<PassClient | null> = [];

  /** descriptors: the reactor's table, fd to descriptor (read, never changed here). */
  constructor(descriptors: ReadonlyArray<object | undefined>) {
    this.#descriptors = descriptors;
  }

  /** The bytes one read of this pass may bring: a read that brings this many may have left more. */
  get readSize(): number {
    return this.#readSize;
  }

  /** Reads every readable connection of the pass that can be read ahead. */
  passStarted(ready: Int32Array, count: number): void {
    if (this.#depth++ > 0) return;
    const descriptors = this.#descriptors;
    let n = 0;
    let smallest = Infinity;
    const most = Math.min(count, READ_ARENA / MIN_READ);
    this.#readFds = grownInt32(this.#readFds, most);
    this.#readResults = grownInt32(this.#readResults, most);
    for (let i = 0; i < count && n < most; i++) {
      if ((ready[2 * i + 1]! & (POLLIN | HANGUP)) !== POLLIN) continue;
      const client = descriptors[ready[2 * i]!] as Partial<PassClient> | undefined;
      if (client === undefined || client[readAheadFd] === undefined) continue;
      const fd = (client as PassClient)[readAheadFd]();
      const size = client.bufferSize!;
      // A connection that reads less than that at a time reads as before.
      if (fd < 0 || !(size >= MIN_READ)) continue;
      this.#readFds[n] = fd;
      this.#readers[n] = client as PassClient;
      client[readSlot] = n;
      if (size < smallest) smallest = size;
      n += 1;
    }
    this.#readCount = n;
    if (n === 0) return;
    this.#readArena ??= Buffer.allocUnsafeSlow(READ_ARENA);
    const each = Math.floor(Math.min(READ_ARENA / n, smallest));
    this.#readSize = each;
    binding.recvMany(this.#readFds, n, this.#readArena, each, this.#readResults);
  }

  /** What the pass's read in `slot` did: the count read, or -errno. */
  readResult(slot: number): number {
    return this.#readResults[slot]!;
  }

  /** The `count` bytes read in `slot`, copied out of the arena. */
  takeRead(slot: number, count: number): Buffer {
    let view = this.#readViews[slot];
    // A connection's messages are often all of one size: its slot's view is kept.
    if (view === undefined || view.length !== count || view.byteOffset !== slot * this.#readSize) {
      view = new Uint8Array(this.#readArena!.buffer, slot * this.#readSize, count);
      this.#readViews[slot] = view;
    }
    const bytes = Buffer.allocUnsafe(count);
    bytes.set(view);
    return bytes;
  }

  /** Takes `data` to send after the pass's last callback; false when no pass runs or it does not fit. */
  defer(client: PassClient, data: Uint8Array): boolean {
    // A pass that read one connection or none sends as a write outside a
    // pass does: one send then costs one call either way, without the copy.
    if (this.#depth === 0 || this.#readCount < 2 || data.length > MAX_DEFERRED || !this.#room(data.length)) return false;
    const k = this.#sendCount;
    if (k === this.#sendFds.length) {
      this.#sendFds = grownInt32(this.#sendFds, k + 1);
      this.#sendResults = grownInt32(this.#sendResults, k + 1);
      this.#spans = grownInt32(this.#spans, 2 * k + 2);
    }
    this.#spans[2 * k] = this.#sendUsed;
    this.#spans[2 * k + 1] = data.length;
    this.#senders[k] = client;
    client[sendSlot] = k;
    this.#sendCount = k + 1;
    this.#append(data);
    return true;
  }

  /** Adds `data` to `client`'s deferred bytes when those end the arena; false when it cannot. */
  extend(client: PassClient, data: Uint8Array): boolean {
    const k = client[sendSlot];
    if (k !== this.#sendCount - 1 || data.length > MAX_DEFERRED || !this.#room(data.length)) return false;
    this.#spans[2 * k + 1] += data.length;
    this.#append(data);
    return true;
  }

  /** How many bytes of `slot` wait to be sent. */
  deferredLength(slot: number): number {
    return this.#spans[2 * slot + 1]!;
  }

  /**
   * Sends `client`'s deferred bytes now, once, and forgets them: its
   * connection closes before the pass ends. What the kernel does not take
   * is lost, as a write's unsent rest is when its connection closes; an
   * aborted one's are dropped (its [sendFd]() is -1).
   */
  sendEarly(client: PassClient): void {
    const fd = client[sendFd]();
    const k = client[sendSlot];
    client[sendSlot] = -1;
    this.#senders[k] = null;
    const start = this.#spans[2 * k]!;
    if (fd >= 0) binding.send(fd, this.#sendArena!.subarray(start, start + this.#spans[2 * k + 1]!), 0, 0);
  }

  /** Sends what the pass deferred, and forgets what it read. */
  passEnded(): void {
    if (--this.#depth > 0) return;
    for (let i = 0; i < this.#readCount; i++) {
      this.#readers[i]![readSlot] = -1;
      this.#readers[i] = null;
    }
    this.#readCount = 0;
    const count = this.#sendCount;
    if (count === 0) return;
    const arena = this.#sendArena!;
    // Every one's bytes leave the pass before any is told: one told first
    // may close another, which must not send them again (sendEarly()).
    for (let k = 0; k < count; k++) {
      const client = this.#senders[k];
      if (client === null || client === undefined) {
        this.#sendFds[k] = -1;
      } else {
        this.#sendFds[k] = client[sendFd]();
        client[sendSlot] = -1;
      }
    }
    binding.sendMany(this.#sendFds, count, arena, this.#spans, this.#sendResults);
    this.#sendCount = 0;
    this.#sendUsed = 0;
    for (let k = 0; k < count; k++) {
      const client = this.#senders[k];
      if (client === null || client === undefined) continue;
      this.#senders[k] = null;
      try {
        client[sendEnded](this.#sendResults[k]!, arena, this.#spans[2 * k]!, this.#spans[2 * k + 1]!);
      } catch (err) {
        logThrown(err);
      }
    }
  }

  /** Whether `length` more bytes fit the send arena, grown if need be. */
  #room(length: number): boolean {
    const need = this.#sendUsed + length;
    const arena = this.#sendArena;
    if (arena !== null && need <= arena.length) return true;
    if (need > SEND_ARENA) return false;
    let size = arena === null ? 64 * 1024 : arena.length;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    if (arena !== null) next.set(new Uint8Array(arena.buffer, arena.byteOffset, this.#sendUsed));
    this.#sendArena = next;
    return true;
  }

  #append(data: Uint8Array): void {
    this.#sendArena!.set(data, this.#sendUsed);
    this.#sendUsed += data.length;
  }
}
