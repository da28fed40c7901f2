// ThreadingMixIn: Python runs each request in a thread of its own; here each
// request is a task of its own (an async function not awaited by the serve
// loop), concurrent with the others and with accepting, as Python's threads
// are under the GIL. A task's failure goes to handle_error() and no further.
import type { Address } from '../socket';
import { classAttribute, setClassAttribute } from './attributes';
import { io } from './io';
import { checkServerClass, markMixed, mixedClass, tellsMixed } from './mixin';
import type { MixedServerClass, ServerClass } from './mixin';
import { formatAddress, formatError, isExit, settle } from './servers';
import type { Request } from './servers';

const THREADING = Symbol('socketserver.ThreadingMixIn');

/**
 * The running request tasks that server_close() waits for (Python's
 * _Threads). Finished tasks leave by themselves.
 */
export class RequestTasks {
  private readonly tasks = new Set<Promise<void>>();

  /** How many tasks are still running. */
  get length(): number {
    return this.tasks.size;
  }

  /** Keeps the task until it ends. */
  append(task: Promise<void>): void {
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  /** Resolves once every task kept so far has ended. */
  async join(): Promise<void> {
    while (this.tasks.size > 0) await Promise.all([...this.tasks]);
  }
}

/** Python's _NoThreads: keeps nothing, for servers that do not wait. */
class NoTasks extends RequestTasks {
  override append(): void {}
}

const NO_TASKS: RequestTasks = new NoTasks();

/**
 * What a task that failed outside handle_error() (handle_error() itself
 * threw, or shutdown_request() did) leaves on stderr, as Python's
 * threading.excepthook does; ExitNow ends a task silently, as SystemExit
 * ends a thread.
 */
function reportTaskError(client_address: Address, err: unknown): void {
  if (isExit(err)) return;
  process.stderr.write(`Exception in the task serving ${formatAddress(client_address)}:\n${formatError(err)}\n`);
}

/**
 * What ThreadingMixIn adds to a server: its class attributes (statics, read
 * through the accessors) and the request task.
 */
export declare abstract class ThreadingServer {
  /** Tasks are not waited for by server_close(), and do not keep the process alive; false. */
  static daemon_threads: boolean;
  /** server_close() waits for the running tasks; true. */
  static block_on_close: boolean;
  /** Whether tasks are daemons (the class's static `daemon_threads` unless assigned on this server). */
  get daemon_threads(): boolean;
  /** Gives this server its own daemon_threads, as an assignment does in Python. */
  set daemon_threads(value: boolean);
  /** Whether server_close() waits for the tasks (the class's static `block_on_close` unless assigned on this server). */
  get block_on_close(): boolean;
  /** Gives this server its own block_on_close, as an assignment does in Python. */
  set block_on_close(value: boolean);
  /** One request's task: finish_request(), handle_error() for what it throws, then shutdown_request(). */
  process_request_thread(request: Request, client_address: Address): Promise<void>;
}

/** The class ThreadingMixIn(Base) returns. */
export type ThreadingServerClass<B extends ServerClass> = MixedServerClass<
  B,
  ThreadingServer,
  Omit<typeof ThreadingServer, 'prototype'>
>;

/**
 * Makes a server class that serves each request as a task of its own.
 * `daemon_threads` (false) leaves tasks out of what server_close() waits
 * for, and lets the process exit while they run; `block_on_close` (true)
 * makes server_close() wait for the others. Both are statics
 * (`static daemon_threads = true`). `server instanceof ThreadingMixIn`
 * tells whether a server has it.
 */
export function ThreadingMixIn<B extends ServerClass>(Base: B): ThreadingServerClass<B> {
  checkServerClass('ThreadingMixIn', Base);
  const Parent: ServerClass = Base;
  class Threading extends Parent implements ThreadingServer {
    /** Tasks are not waited for by server_close(), and do not keep the process alive; false. */
    static daemon_threads = false;
    /** server_close() waits for the running tasks; true. */
    static block_on_close = true;

    /** The tasks server_close() waits for. @internal */
    declare _threads: RequestTasks;

    /** Whether tasks are daemons (the class's static `daemon_threads` unless assigned on this server). */
    get daemon_threads(): boolean {
      return classAttribute(this, 'daemon_threads');
    }
    /** Gives this server its own daemon_threads, as an assignment does in Python. */
    set daemon_threads(value: boolean) {
      setClassAttribute(this, 'daemon_threads', value);
    }

    /** Whether server_close() waits for the tasks (the class's static `block_on_close` unless assigned on this server). */
    get block_on_close(): boolean {
      return classAttribute(this, 'block_on_close');
    }
    /** Gives this server its own block_on_close, as an assignment does in Python. */
    set block_on_close(value: boolean) {
      setClassAttribute(this, 'block_on_close', value);
    }

    /** One request's task: finish_request(), handle_error() for what it throws, then shutdown_request(). */
    async process_request_thread(request: Request, client_address: Address): Promise<void> {
      try {
        await this.finish_request(request, client_address);
      } catch (err) {
        if (isExit(err)) throw err;
        await settle(this.handle_error(request, client_address, err));
      } finally {
        this.shutdown_request(request);
      }
    }

    /** Starts the request's task and returns without waiting for it. */
    override process_request(request: Request, client_address: Address): Promise<void> {
      const daemon = this.daemon_threads;
      // A daemon's waits do not keep the process alive, as Python's daemon threads do not.
      if (daemon && !Array.isArray(request)) io.daemon(request);
      const task = this.process_request_thread(request, client_address).catch((err: unknown) =>
        reportTaskError(client_address, err),
      );
      if (this.block_on_close && !daemon) {
        if (!Object.prototype.hasOwnProperty.call(this, '_threads')) this._threads = new RequestTasks();
        this._threads.append(task);
      }
      return Promise.resolve();
    }

    /** Closes the server, then waits for the tasks when block_on_close is set. */
    override async server_close(): Promise<void> {
      await super.server_close();
      await this._threads.join();
    }
  }
  Threading.prototype._threads = NO_TASKS;
  markMixed(Threading, THREADING);
  return mixedClass<B, ThreadingServer, Omit<typeof ThreadingServer, 'prototype'>>(Threading);
}

tellsMixed(ThreadingMixIn, THREADING);
