// What a map's passes with interest on change need to know between passes:
// the channels to ask again, whether to ask all of them, and where each
// channel is in the map. The map itself stays the caller's plain Map: joins
// and leaves made through the package are reported here (by the passes'
// listener, see notify.ts), and one made with map.set() or map.delete()
// directly shows as a size this log did not expect.
import { grownInt32 } from '../int32';
import type { Channel, SocketMap } from './handlers';

/** fd, when it is one a map may hold a channel under; else -1. */
function fdNumber(value: unknown): number {
  return typeof value === 'number' && (value | 0) === value && value >= 0 ? value : -1;
}

export class MapChanges {
  /** Ask every channel at the start of the next pass. */
  all = true;
  /** The fd each channel is in the map under, as the log saw it join. */
  readonly fdOf = new Map<Channel, number>();
  // The fds whose channel is asked again at the start of the next pass,
  // listed once each (marked[fd] is 1 while listed): a pass marks the fd
  // of every channel it ran handlers for, so this costs no Set per event.
  private dirtyFds = new Int32Array(64);
  private dirtyCount = 0;
  private marked = new Uint8Array(64);
  /** Channels named whose fd the log does not know from the channel itself. */
  private readonly dirtyChannels = new Set<Channel>();
  /** The map's size as the joins and leaves reported leave it; -1: not known yet. */
  private expectedSize = -1;

  /** Whether any channel is to be asked again. */
  get anyDirty(): boolean {
    return this.dirtyCount > 0 || this.dirtyChannels.size > 0;
  }

  /** The channel under fd is asked again next pass. */
  markFd(fd: number): void {
    if (fd < this.marked.length) {
      if (this.marked[fd] !== 0) return;
    } else {
      const grown = new Uint8Array(Math.max(2 * this.marked.length, fd + 1));
      grown.set(this.marked);
      this.marked = grown;
    }
    this.marked[fd] = 1;
    if (this.dirtyCount === this.dirtyFds.length) this.dirtyFds = grownInt32(this.dirtyFds, this.dirtyCount + 1);
    this.dirtyFds[this.dirtyCount++] = fd;
  }

  /**
   * channel is asked again next pass: by its fd when it says it (a
   * dispatcher's _fileno), else by the fd it was seen joining under.
   */
  markChannel(channel: Channel): void {
    const fd = fdNumber((channel as { _fileno?: unknown })._fileno);
    if (fd >= 0) this.markFd(fd);
    else this.dirtyChannels.add(channel);
  }

  /**
   * Calls ask(fd) for each fd marked since the last pass (an fd may no
   * longer hold a channel, or hold another one), and forgets the marks.
   */
  takeDirty(ask: (fd: number) => void): void {
    for (const channel of this.dirtyChannels) {
      this.dirtyChannels.delete(channel);
      const fd = this.fdOf.get(channel);
      if (fd !== undefined) this.markFd(fd);
    }
    const count = this.dirtyCount;
    for (let i = 0; i < count; i++) {
      const fd = this.dirtyFds[i]!;
      this.marked[fd] = 0;
      ask(fd);
    }
    // What ask() marked itself (a readable() that calls a package method)
    // waits for the next pass.
    this.dirtyFds.copyWithin(0, count, this.dirtyCount);
    this.dirtyCount -= count;
  }

  /** Forgets every mark. */
  clearDirty(): void {
    for (let i = 0; i < this.dirtyCount; i++) this.marked[this.dirtyFds[i]!] = 0;
    this.dirtyCount = 0;
    this.dirtyChannels.clear();
  }

  /**
   * Whether the map's size is not what the reported joins and leaves left
   * it at: something was put in or taken out directly, and every channel
   * must be asked.
   */
  sizeChanged(map: SocketMap): boolean {
    return map.size !== this.expectedSize;
  }

  /** Every channel of map was asked: its size is known again. */
  askedAll(map: SocketMap): void {
    this.all = false;
    this.clearDirty();
    this.expectedSize = map.size;
  }

  /** obj was put under fd through the package, in place of `before`. */
  joined(fd: number, obj: Channel, before: Channel | undefined): void {
    if (before === undefined) this.expectedSize += 1;
    else if (before !== obj) this.forget(fd, before);
    if (fdNumber(fd) < 0) {
      // Not an fd: asking every channel reports the key.
      this.all = true;
      return;
    }
    this.fdOf.set(obj, fd);
    this.markFd(fd);
  }

  /** obj, under fd, was taken out of the map through the package. */
  left(fd: number, obj: Channel): void {
    this.expectedSize -= 1;
    this.forget(fd, obj);
  }

  private forget(fd: number, obj: Channel): void {
    if (this.fdOf.get(obj) === fd) this.fdOf.delete(obj);
  }
}
