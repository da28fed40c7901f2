// ThreadingMixIn: Python runs each request in a thread of its own; here each
// request is a task of its own (an async function not awaited by the serve
// loop), concurrent with the others and with accepting, as Python's threads
// are under the GIL. A task's failure goes to handle_error() and no further.
import type { Address } from '../socket';
import { classAttribute, setClassAttribute } from './attributes';
import { formatAddress, isExit, settle } from './servers';
import type { BaseServer, Request } from './servers';

/** A server class the mix-ins can extend. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the constructor shape TypeScript requires of a mix-in's base
export type ServerClass = new (...args: any[]) => BaseServer;

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
const NO_TASKS: RequestTasks = Object.freeze({
  length: 0,
  append(): void {},
  join: (): Promise<void> => Promise.resolve(),
}) as unknown as RequestTasks;

/**
 * What a task that failed outside handle_error() (handle_error() itself
 * threw, or shutdown_request() did) leaves on stderr, as Python's
 * threading.excepthook does; ExitNow ends a task silently, as SystemExit
 * ends a thread.
 */
function reportTaskError(client_address: Address, err: unknown): void {
  if (isExit(err)) return;
  const stack = err instanceof Error ? (err.stack ?? String(err)) : String(err);
  process.stderr.write(`Exception in the task serving ${formatAddress(client_address)}:\n${stack}\n`);
}

/**
 * Makes a server class that serves each request as a task of its own.
 * `daemon_threads` (false) leaves tasks out of what server_close() waits
 * for; `block_on_close` (true) makes server_close() wait for the others.
 * `server instanceof ThreadingMixIn` tells whether a server has it.
 */
export function ThreadingMixIn<B extends ServerClass>(Base: B) {
  class Threading extends Base {
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
    set daemon_threads(value: boolean) {
      setClassAttribute(this, 'daemon_threads', value);
    }

    /** Whether server_close() waits for the tasks (the class's static `block_on_close` unless assigned on this server). */
    get block_on_close(): boolean {
      return classAttribute(this, 'block_on_close');
    }
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
      const task = this.process_request_thread(request, client_address).catch((err: unknown) =>
        reportTaskError(client_address, err),
      );
      if (this.block_on_close && !this.daemon_threads) {
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
  (Threading.prototype as unknown as Record<symbol, boolean>)[THREADING] = true;
  return Threading;
}

Object.defineProperty(ThreadingMixIn, Symbol.hasInstance, {
  value: (value: unknown): boolean =>
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[THREADING] === true,
});
