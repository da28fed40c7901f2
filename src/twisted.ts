// asyncore/twisted: the core of Twisted on this package's reactor. The
// names are Twisted's, gathered from the modules a Twisted program imports
// them from: twisted.internet.{reactor, protocol, defer, task, error,
// address}, twisted.protocols.basic and twisted.python.{failure, log}.
export { reactor, Reactor, DelayedCall } from './twisted/reactor';
export type { Callable, IReadDescriptor, IWriteDescriptor } from './twisted/reactor';
export {
  BaseProtocol,
  Protocol,
  Factory,
  ServerFactory,
  ClientFactory,
  ReconnectingClientFactory,
  DatagramProtocol,
} from './twisted/protocol';
export type { ITransport, IProducer, IConnector, ProtocolClass } from './twisted/protocol';
export type { IConsumer, IPushProducer, IStreamTransport, ITCPTransport, IUNIXTransport, IUDPTransport } from './twisted/interfaces';
export { IPv4Address, IPv6Address, UNIXAddress } from './twisted/address';
export type { IAddress } from './twisted/address';
export { Connection, Server, Client, TCPPort, BaseConnector, Connector } from './twisted/tcp';
export { UNIXPort, UNIXConnector } from './twisted/unix';
export { UDPPort } from './twisted/udp';
export {
  LineReceiver,
  LineOnlyReceiver,
  NetstringReceiver,
  IntNStringReceiver,
  Int32StringReceiver,
  Int16StringReceiver,
  Int8StringReceiver,
  StringTooLongError,
  NetstringParseError,
  IncompleteNetstring,
  NotImplementedError,
  FileSender,
} from './twisted/basic';
export type { IReadableFile } from './twisted/basic';
/** twisted.internet.protocol: Protocol, the factories, and DatagramProtocol. */
export * as protocol from './twisted/protocol';
/** twisted.protocols.basic: the line and length-prefixed string protocols, and FileSender. */
export * as basic from './twisted/basic';
export {
  Deferred,
  DeferredList,
  succeed,
  fail,
  maybeDeferred,
  ensureDeferred,
  gatherResults,
  AlreadyCalledError,
  CancelledError,
  FirstError,
  inlineCallbacks,
  returnValue,
  logError,
  setDebugging,
  getDebugging,
  DeferredLock,
  DeferredSemaphore,
  DeferredQueue,
  QueueOverflow,
  QueueUnderflow,
} from './twisted/defer';
/**
 * twisted.internet.defer as a namespace: besides the flat names, `timeout()`
 * and `defer.TimeoutError` (a Deferred timed out; the flat TimeoutError is
 * twisted.internet.error's, a connection timed out).
 */
export * as defer from './twisted/defer';
/** twisted.internet.task as a namespace: LoopingCall, Clock, deferLater, react, cooperate, Cooperator... */
export * as task from './twisted/task';
export type { Callback, DeferredListEntry } from './twisted/defer';
export { LoopingCall, Clock, deferLater } from './twisted/task';
export type { IReactorTime } from './twisted/task';
export { Failure, NoCurrentExceptionError } from './twisted/failure';
/** twisted.python.log: observers of what the reactor and transports report; errors go to stderr when none is added. */
export * as log from './twisted/log';
/** twisted.internet.error: the exceptions the reactor and transports raise or hand to protocols and factories. */
export * as error from './twisted/error';
export {
  ConnectionDone,
  ConnectionLost,
  ConnectionAborted,
  ConnectionClosed,
  ConnectError,
  ConnectionRefusedError,
  CannotListenError,
  DNSLookupError,
  TimeoutError,
  UserError,
  NotConnectingError,
  ReactorNotRunning,
  ReactorNotRestartable,
  ReactorAlreadyRunning,
  AlreadyCalled,
  AlreadyCancelled,
} from './twisted/error';
/** twisted.internet.endpoints: servers and clients as endpoint objects or description strings ("tcp:8080"). */
export * as endpoints from './twisted/endpoints';
export {
  TCP4ServerEndpoint,
  TCP6ServerEndpoint,
  UNIXServerEndpoint,
  TCP4ClientEndpoint,
  TCP6ClientEndpoint,
  UNIXClientEndpoint,
  serverFromString,
  clientFromString,
  connectProtocol,
  quoteStringArgument,
} from './twisted/endpoints';
export type { IStreamServerEndpoint, IStreamClientEndpoint, IListeningPort, IReactorTCP, IReactorUNIX } from './twisted/endpoints';
/** twisted.protocols.policies: timeouts, connection limits and throttling around protocols and factories. */
export * as policies from './twisted/policies';
export {
  TimeoutMixin,
  ProtocolWrapper,
  WrappingFactory,
  ThrottlingProtocol,
  ThrottlingFactory,
  LimitTotalConnectionsFactory,
  TimeoutProtocol,
  TimeoutFactory,
} from './twisted/policies';
export { ConnectingCancelledError, NoProtocol } from './twisted/error';
