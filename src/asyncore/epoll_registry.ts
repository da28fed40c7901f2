// The epoll backend's registrations, kept in the kernel between passes: each
// pass tells the kernel only what changed (EPOLL_CTL_ADD, MOD, DEL), so a
// pass over many idle channels costs the kernel nothing per idle fd.
//
// File descriptors are closed and reused. The kernel drops a registration
// by itself when the last fd of a file is closed (epoll(7), Q6), so a
// registration we remember may be gone, and a new channel may hold an fd
// number we remember under another channel. Hence:
// - a registration is remembered with the channel it was made for; an fd
//   found under another channel is registered afresh (ADD, and MOD when the
//   kernel still has it: EEXIST);
// - a MOD the kernel no longer knows (ENOENT) becomes an ADD; a DEL of what
//   it no longer knows (ENOENT, EBADF) is what we wanted anyway;
// - dispatcher.del_channel() removes the registration at once, before the
//   socket is closed, so none can outlive its socket under a dup() of it.
import { constants as osConstants } from 'node:os';
import { constant, POLLIN, POLLNVAL, POLLOUT } from '../constants';
import { errorFromErrno } from '../errors';
import type { Poller } from '../poller';
import { grownInt32 } from './int32';
import type { Channel } from './handlers';

const E = osConstants.errno;

/** NativePoller.ctl() operations (epoll_ctl(2)), as the addon defines them. */
const EPOLL_CTL_ADD = constant('EPOLL_CTL_ADD');
const EPOLL_CTL_DEL = constant('EPOLL_CTL_DEL');
const EPOLL_CTL_MOD = constant('EPOLL_CTL_MOD');

/**
 * Channels the kernel cannot watch get their readiness made up, as poll(2)
 * would report it: a regular file (EPERM) is always ready for what was asked
 * (POLLIN/POLLOUT); an fd that is not open (EBADF) gets POLLNVAL.
 */
const SYNTHETIC_ALWAYS_READY = 1;
const SYNTHETIC_INVALID = 2;

export class EpollRegistry {
  private readonly native: Pick<Poller, 'ctl'>;
  // By fd: the events registered (valid when position[fd] > 0), the channel
  // they were registered for, and the pass that last saw the fd wanted.
  private registered = new Int32Array(64);
  private channel: Array<Channel | undefined> = [];
  private seen = new Int32Array(64);
  private synthetic = new Int32Array(64);
  // The registered fds as a dense list, for the sweep; position[fd] is its
  // index + 1 in that list, 0 when fd is not registered.
  private list = new Int32Array(64);
  private position = new Int32Array(64);
  private listSize = 0;
  private syntheticCount = 0;
  private stamp = 0;
  // Changes queued by want(), applied by apply().
  private pendingFds = new Int32Array(16);
  private pendingEvents = new Int32Array(16);
  private pendingChannels: Array<Channel | undefined> = [];
  private pendingCount = 0;

  constructor(native: Pick<Poller, 'ctl'>) {
    this.native = native;
  }

  /** The number of fds registered (some may be synthetic). */
  get size(): number {
    return this.listSize;
  }

  private fit(fd: number): void {
    if (fd < this.position.length) return;
    this.registered = grownInt32(this.registered, fd + 1);
    this.seen = grownInt32(this.seen, fd + 1);
    this.synthetic = grownInt32(this.synthetic, fd + 1);
    this.position = grownInt32(this.position, fd + 1);
  }

  /**
   * Makes the kernel's registrations match the interest set of this pass
   * (count entries of fds/events, with their channels by fd).
   */
  update(fds: Int32Array, events: Int32Array, count: number, channels: ReadonlyArray<Channel | undefined>): void {
    const stamp = ++this.stamp;
    let registeredSeen = 0;
    for (let i = 0; i < count; i++) {
      const fd = fds[i]!;
      this.fit(fd);
      this.seen[fd] = stamp;
      if (this.position[fd] !== 0) registeredSeen += 1;
      this.want(fd, events[i]!, channels[fd]);
    }
    // When every registered fd is wanted this pass (map keys are unique),
    // nothing is stale and the sweep can be skipped.
    if (registeredSeen !== this.listSize) {
      // Whatever was registered and is not wanted this pass goes: channels
      // that left the map, or that are neither readable nor writable now.
      for (let i = this.listSize - 1; i >= 0; i--) {
        const fd = this.list[i]!;
        if (this.seen[fd] !== stamp) this.want(fd, 0, undefined);
      }
    }
    this.apply();
  }

  /**
   * Queues the registration of one fd for `events` (0: none) on behalf of
   * obj; apply() hands what changed to the kernel.
   */
  want(fd: number, events: number, obj: Channel | undefined): void {
    this.fit(fd);
    const registered = this.position[fd] !== 0;
    if (events === 0) {
      if (!registered) return;
    } else if (registered && this.channel[fd] === obj && this.registered[fd] === events) {
      return;
    }
    const index = this.pendingCount;
    if (index === this.pendingFds.length) {
      this.pendingFds = grownInt32(this.pendingFds, index + 1);
      this.pendingEvents = grownInt32(this.pendingEvents, index + 1);
    }
    this.pendingFds[index] = fd;
    this.pendingEvents[index] = events;
    this.pendingChannels[index] = obj;
    this.pendingCount = index + 1;
  }

  /**
   * Hands the queued changes to the kernel, in the order of their fds: the
   * order in which fds become ready in the kernel's list, and so the order
   * of their events in a pass, then depends only on what changed, not on
   * the order in which the channels were asked.
   */
  apply(): void {
    const count = this.pendingCount;
    if (count === 0) return;
    if (count > 1) this.sortPending(count);
    try {
      for (let i = 0; i < count; i++) {
        const fd = this.pendingFds[i]!;
        const events = this.pendingEvents[i]!;
        const obj = this.pendingChannels[i];
        if (events === 0) this.remove(fd);
        else if (this.position[fd] === 0 || this.channel[fd] !== obj) this.add(fd, events, obj);
        else if (this.registered[fd] !== events) this.modify(fd, events);
      }
    } finally {
      this.pendingCount = 0;
      this.pendingChannels.fill(undefined, 0, count);
    }
  }

  /** Insertion sort by fd: a pass rarely changes more than a few. */
  private sortPending(count: number): void {
    const fds = this.pendingFds;
    const events = this.pendingEvents;
    const channels = this.pendingChannels;
    for (let i = 1; i < count; i++) {
      const fd = fds[i]!;
      const ev = events[i]!;
      const obj = channels[i];
      let j = i - 1;
      while (j >= 0 && fds[j]! > fd) {
        fds[j + 1] = fds[j]!;
        events[j + 1] = events[j]!;
        channels[j + 1] = channels[j];
        j--;
      }
      fds[j + 1] = fd;
      events[j + 1] = ev;
      channels[j + 1] = obj;
    }
  }

  private add(fd: number, events: number, obj: Channel | undefined): void {
    let result = this.native.ctl(EPOLL_CTL_ADD, fd, events);
    if (result === -E.EEXIST) result = this.native.ctl(EPOLL_CTL_MOD, fd, events);
    this.record(fd, events, obj, result);
  }

  private modify(fd: number, events: number): void {
    if (this.synthetic[fd] !== 0) {
      this.registered[fd] = events;
      return;
    }
    let result = this.native.ctl(EPOLL_CTL_MOD, fd, events);
    if (result === -E.ENOENT) result = this.native.ctl(EPOLL_CTL_ADD, fd, events);
    this.record(fd, events, this.channel[fd], result);
  }

  private record(fd: number, events: number, obj: Channel | undefined, result: number): void {
    let synthetic = 0;
    if (result === -E.EPERM) synthetic = SYNTHETIC_ALWAYS_READY;
    else if (result === -E.EBADF) synthetic = SYNTHETIC_INVALID;
    else if (result < 0) throw errorFromErrno(-result);
    if (this.position[fd] === 0) {
      this.list = grownInt32(this.list, this.listSize + 1);
      this.list[this.listSize] = fd;
      this.listSize += 1;
      this.position[fd] = this.listSize;
    }
    if (this.synthetic[fd] !== 0) this.syntheticCount -= 1;
    if (synthetic !== 0) this.syntheticCount += 1;
    this.synthetic[fd] = synthetic;
    this.registered[fd] = events;
    while (this.channel.length <= fd) this.channel.push(undefined);
    this.channel[fd] = obj;
  }

  /** Queues the removal of every registration for which keep(fd) is false. */
  sweep(keep: (fd: number) => boolean): void {
    for (let i = 0; i < this.listSize; i++) {
      const fd = this.list[i]!;
      if (!keep(fd)) this.want(fd, 0, undefined);
    }
  }

  /** Removes fd's registration, if there is one. */
  remove(fd: number): void {
    if (fd >= this.position.length || this.position[fd] === 0) return;
    if (this.synthetic[fd] === 0) {
      const result = this.native.ctl(EPOLL_CTL_DEL, fd, 0);
      // ENOENT/EBADF: the kernel dropped it when the fd was closed.
      if (result < 0 && result !== -E.ENOENT && result !== -E.EBADF) throw errorFromErrno(-result);
    } else {
      this.syntheticCount -= 1;
      this.synthetic[fd] = 0;
    }
    const index = this.position[fd]! - 1;
    const last = this.list[this.listSize - 1]!;
    this.list[index] = last;
    this.position[last] = index + 1;
    this.listSize -= 1;
    this.position[fd] = 0;
    this.channel[fd] = undefined;
  }

  /** Appends the made-up readiness of synthetic fds to `out`; the new pair count. */
  addSynthetic(out: Int32Array, ready: number): number {
    if (this.syntheticCount === 0) return ready;
    for (let i = 0; i < this.listSize && 2 * ready + 1 < out.length; i++) {
      const fd = this.list[i]!;
      const kind = this.synthetic[fd];
      if (kind === 0) continue;
      out[2 * ready] = fd;
      out[2 * ready + 1] = kind === SYNTHETIC_INVALID ? POLLNVAL : this.registered[fd]! & (POLLIN | POLLOUT);
      ready += 1;
    }
    return ready;
  }

  /** Forgets everything (the epoll fd was closed). */
  clear(): void {
    this.position.fill(0);
    this.synthetic.fill(0);
    this.channel = [];
    this.listSize = 0;
    this.syntheticCount = 0;
  }
}
