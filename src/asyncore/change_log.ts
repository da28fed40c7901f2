// What a map's passes with interest on change need to know between passes:
// the channels to ask again, whether to ask all of them, and where each
// channel is in the map.
import type { Channel, SocketMap } from './handlers';

/** The map poller whose kept answers a log feeds. */
export interface AnswerKeeper {
  /** fd's channel left the map: its kept answer goes now. */
  forget(fd: number): void;
  /** Forgets every kept answer. */
  dropCache(): void;
}

/**
 * What interest on change needs to know between passes: the channels to ask
 * again, whether to ask all of them, and where each channel is in the map.
 *
 * While it exists, the map's own set(), delete() and clear() report to it
 * (they are replaced on the map object, and restored by stop()), so a
 * channel that joins the map by any route is asked, and one that leaves is
 * forgotten at once.
 */
export class ChangeLog {
  /** Channels to ask again at the start of the next pass. */
  readonly dirty = new Set<Channel>();
  /** Ask every channel at the start of the next pass. */
  all = true;
  /** The fd each channel is in the map under, as the log saw it join. */
  readonly fdOf = new Map<Channel, number>();
  /** The reactor whose kept answers this log feeds. */
  owner: AnswerKeeper | null = null;
  private readonly restore: Array<() => void> = [];

  /** changed(): the map's membership changed (a waiting pass must wake). */
  constructor(
    private readonly map: SocketMap,
    private readonly changed: () => void,
  ) {
    this.watch();
  }

  private watch(): void {
    const map = this.map;
    const set = map.set;
    const del = map.delete;
    const clear = map.clear;
    const joined = (fd: number, obj: Channel, before: Channel | undefined): void => {
      if (before !== undefined && before !== obj) this.left(fd, before);
      this.fdOf.set(obj, fd);
      this.dirty.add(obj);
      this.changed();
    };
    this.replace('set', function (this: SocketMap, fd: number, obj: Channel) {
      const before = this.get(fd);
      set.call(this, fd, obj);
      joined(fd, obj, before);
      return this;
    });
    this.replace('delete', function (this: SocketMap, fd: number) {
      const before = this.get(fd);
      const deleted = del.call(this, fd);
      if (before !== undefined) {
        logLeft(fd, before);
      }
      return deleted;
    });
    const logLeft = (fd: number, before: Channel): void => {
      this.left(fd, before);
      this.changed();
    };
    this.replace('clear', function (this: SocketMap) {
      const entries = [...this.entries()];
      clear.call(this);
      for (const [fd, obj] of entries) logLeft(fd, obj);
    });
  }

  private replace(name: 'set' | 'delete' | 'clear', value: unknown): void {
    const map = this.map as unknown as Record<string, unknown>;
    const own = Object.getOwnPropertyDescriptor(map, name);
    Object.defineProperty(map, name, { value, writable: true, configurable: true, enumerable: false });
    this.restore.push(() => {
      if (own === undefined) delete map[name];
      else Object.defineProperty(map, name, own);
    });
  }

  /** obj no longer holds fd: its kept answer goes now. */
  private left(fd: number, obj: Channel): void {
    if (this.fdOf.get(obj) === fd) this.fdOf.delete(obj);
    this.owner?.forget(fd);
  }

  /** Gives the map its own set(), delete() and clear() back. */
  stop(): void {
    for (const restore of this.restore.splice(0).reverse()) restore();
    this.owner?.dropCache();
    this.owner = null;
    this.dirty.clear();
    this.fdOf.clear();
  }
}

