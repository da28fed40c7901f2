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
export * as asynchat from './asynchat';
export * as select from './select';
export * as socket from './socket';
export * as posix from './posix';
