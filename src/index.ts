// The package root: asyncore itself, the error classes, and the other
// modules as namespaces; each module is also an entry point of its own
// (asyncore/asynchat, asyncore/select, ...).
export * from './asyncore';
export {
  OSError,
  BlockingIOError,
  ConnectionError,
  BrokenPipeError,
  ConnectionAbortedError,
  ConnectionRefusedError,
  ConnectionResetError,
  InterruptedError,
  TimeoutError,
  FileNotFoundError,
  PermissionError,
  FileExistsError,
  IsADirectoryError,
  NotADirectoryError,
  ChildProcessError,
  ProcessLookupError,
  gaierror,
} from './errors';
/** Python's asynchat, also the entry point `asyncore/asynchat`: {@link asynchat.async_chat}, {@link asynchat.simple_producer}. */
export * as asynchat from './asynchat';
/** Python's select module, also the entry point `asyncore/select`: `select()`, `poll()` and `epoll()` objects. */
export * as select from './select';
/** Python's socket module (what asyncore uses), also the entry point `asyncore/socket`: the `socket` class and the constants. */
export * as socket from './socket';
/** Python's os fd functions, also the entry point `asyncore/posix`: `pipe()`, `read()`, `write()`, ... */
export * as posix from './posix';
