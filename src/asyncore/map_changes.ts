// What a map's passes with interest on change need to know between passes:
// the channels to ask again, whether to ask all of them, and where each
// channel is in the map. The map itself stays the caller's plain Map: joins
// and leaves made through the package are reported here (by the passes'
// listener, see notify.ts), and one made with map.set() or map.delete()
// directly shows as a size this log did not expect.
import type { Channel, SocketMap } from './handlers';

export class MapChanges {
  /** Channels to ask again at the start of the next pass. */
  readonly dirty = new Set<Channel>();
  /** Ask every channel at the start of the next pass. */
  all = true;
  /** The fd each channel is in the map under, as the log saw it join. */
  readonly fdOf = new Map<Channel, number>();
  /** The map's size as the joins and leaves reported leave it; -1: not known yet. */
  private expectedSize = -1;

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
    this.dirty.clear();
    this.expectedSize = map.size;
  }

  /** obj was put under fd through the package, in place of `before`. */
  joined(fd: number, obj: Channel, before: Channel | undefined): void {
    if (before === undefined) this.expectedSize += 1;
    else if (before !== obj) this.forget(fd, before);
    this.fdOf.set(obj, fd);
    this.dirty.add(obj);
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
