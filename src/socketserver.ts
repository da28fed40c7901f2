// Python's socketserver module (Lib/socketserver.py, CPython 3.11), name for
// name, on this package's reactor: a server waits for its socket on the
// package's epoll poller, so the Node event loop keeps running meanwhile.
// Where Python blocks, a method returns a Promise; request handlers may be
// sync or async, and setup(), handle() and finish() are awaited in turn.
//
// Python's class attributes (allow_reuse_address, request_queue_size,
// max_children, rbufsize, ...) are statics, and an assignment on an
// instance overrides them for it, as in Python:
//
//   class MyServer extends ThreadingTCPServer {
//     static allow_reuse_address = true;
//   }
import { ForkingMixIn } from './socketserver/forking';
import { TCPServer, UDPServer, UnixDatagramServer, UnixStreamServer } from './socketserver/servers';
import { ThreadingMixIn } from './socketserver/threading';

export { BaseServer, TCPServer, UDPServer, UnixStreamServer, UnixDatagramServer } from './socketserver/servers';
export type { HandlerClass, Request, RequestHandler } from './socketserver/servers';
export { BaseRequestHandler, StreamRequestHandler, DatagramRequestHandler } from './socketserver/handlers';
export type { BufferedReader, SocketWriter, BytesWriter } from './socketserver/streams';
export type { Reader, Writer } from './socketserver/streams';
export { ThreadingMixIn } from './socketserver/threading';
export type { RequestTasks } from './socketserver/threading';
export type { MixedServerClass, ServerClass } from './socketserver/mixin';
export type { ThreadingServer, ThreadingServerClass } from './socketserver/threading';
export { ForkingMixIn } from './socketserver/forking';
export type { ForkingServer, ForkingServerClass } from './socketserver/forking';

/** A UDPServer that serves each datagram in a child process. */
export class ForkingUDPServer extends ForkingMixIn(UDPServer) {}
/** A TCPServer that serves each connection in a child process. */
export class ForkingTCPServer extends ForkingMixIn(TCPServer) {}
/** A UDPServer that serves each datagram as a task of its own. */
export class ThreadingUDPServer extends ThreadingMixIn(UDPServer) {}
/** A TCPServer that serves each connection as a task of its own. */
export class ThreadingTCPServer extends ThreadingMixIn(TCPServer) {}
/** A UnixStreamServer that serves each connection as a task of its own. */
export class ThreadingUnixStreamServer extends ThreadingMixIn(UnixStreamServer) {}
/** A UnixDatagramServer that serves each datagram as a task of its own. */
export class ThreadingUnixDatagramServer extends ThreadingMixIn(UnixDatagramServer) {}
/** A UnixStreamServer that serves each connection in a child process. */
export class ForkingUnixStreamServer extends ForkingMixIn(UnixStreamServer) {}
/** A UnixDatagramServer that serves each datagram in a child process. */
export class ForkingUnixDatagramServer extends ForkingMixIn(UnixDatagramServer) {}

/** The names Python's socketserver exports (its __all__), and the two forking unix servers. */
export const __all__: readonly string[] = Object.freeze([
  'BaseServer',
  'TCPServer',
  'UDPServer',
  'ThreadingUDPServer',
  'ThreadingTCPServer',
  'BaseRequestHandler',
  'StreamRequestHandler',
  'DatagramRequestHandler',
  'ThreadingMixIn',
  'ForkingUDPServer',
  'ForkingTCPServer',
  'ForkingMixIn',
  'UnixStreamServer',
  'UnixDatagramServer',
  'ThreadingUnixStreamServer',
  'ThreadingUnixDatagramServer',
  'ForkingUnixStreamServer',
  'ForkingUnixDatagramServer',
]);
