// How the package's channel methods (asyncore's dispatchers, asynchat's
// async_chat) tell the passes over a map what they changed, without
// reaching into the pass machinery: the machinery listens here, per map.
import type { Channel, SocketMap } from './asyncore/handlers';

/** What the passes over one map want to hear. */
export interface MapListener {
  /** wake(map): ask every channel again; a waiting pass wakes. */
  wake(): void;
  /** A method changed channel's state (or wake(map, channel) named it). */
  channelChanged(channel: Channel): void;
  /** channel was put in the map under fd, in place of `before` (undefined: fd was free). */
  joined(fd: number, channel: Channel, before: Channel | undefined): void;
  /** channel, under fd, was deleted from the map. */
  channelRemoved(fd: number, channel: Channel): void;
}

const listeners = new WeakMap<SocketMap, MapListener>();

// The map whose loop started last and still runs, and its listener: the
// methods a handler calls name that map far more often than any other, and
// a comparison costs less than a lookup in the WeakMap on every send().
let runningMap: SocketMap | null = null;
let runningListener: MapListener | null = null;

function listenerOf(map: SocketMap): MapListener | undefined {
  return map === runningMap ? runningListener! : listeners.get(map);
}

export function listen(map: SocketMap, listener: MapListener): void {
  listeners.set(map, listener);
}

/** A loop or pass over map started (running) or ended. */
export function mapRunning(map: SocketMap, running: boolean): void {
  if (running) {
    runningMap = map;
    runningListener = listeners.get(map) ?? null;
    if (runningListener === null) runningMap = null;
  } else if (runningMap === map) {
    runningMap = null;
    runningListener = null;
  }
}

/** Makes a pass waiting over map, if there is one, ask every channel again. */
export function wakeMap(map: SocketMap): void {
  listenerOf(map)?.wake();
}

/** A method of this package changed channel's state: the passes over map ask it again. */
export function channelChanged(map: SocketMap, channel: Channel): void {
  listenerOf(map)?.channelChanged(channel);
}

/** channel was put in map under fd, in place of `before` (add_channel()). */
export function channelJoined(map: SocketMap, fd: number, channel: Channel, before: Channel | undefined): void {
  listenerOf(map)?.joined(fd, channel, before);
}

/** channel, under fd, was deleted from map (del_channel()). */
export function channelRemoved(map: SocketMap, fd: number, channel: Channel): void {
  listenerOf(map)?.channelRemoved(fd, channel);
}
