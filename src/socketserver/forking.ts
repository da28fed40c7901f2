// ForkingMixIn: each request is served in another process, as Python's
// os.fork() does. The mix-in keeps Python's overrides (process_request(),
// collect_children(), service_actions(), server_close(), ...) and the
// class attributes; the parent's children are a ChildPool
// (forking_pool.ts), and what a child process does is a ForkedChild
// (forking_child.ts). Node cannot fork, so a child runs the program again,
// and the same server construction there serves what the parent hands over:
// serve_forever(), handle_request(), server_bind() and server_activate()
// go to the child's side in a child.
import { ForkedChild, forkingRole, isForkedChild } from './forking_child';
import { ChildPool } from './forking_pool';
import type { Child } from './forking_pool';
import { classAttribute, setClassAttribute } from './attributes';
import { checkServerClass, markMixed, mixedClass, tellsMixed } from './mixin';
import type { MixedServerClass, ServerClass } from './mixin';
import type { Address } from '../socket';
import { describe } from '../errors';
import type { Request } from './servers';

const FORKING = Symbol('socketserver.ForkingMixIn');

/**
 * What ForkingMixIn adds to a server: its class attributes (statics, read
 * through the accessors), the children's pids and collect_children().
 */
export declare abstract class ForkingServer {
  /** The module children run; null: the program's entry module. */
  static child_module: string | null;
  /** The children's arguments; null: this process's for the entry module, none otherwise. */
  static child_args: string[] | null;
  /** The children's Node options; null: this process's (process.execArgv). */
  static child_exec_argv: string[] | null;
  /** True in a child process of a forking server (as Node's cluster.isWorker). */
  static readonly is_child: boolean;
  /** Most children at once; 40. */
  static max_children: number;
  /** Idle children kept started ahead of demand, within max_children; 1. */
  static spare_children: number;
  /** server_close() waits for the children to exit; true. */
  static block_on_close: boolean;
  /** Most children at once (the class's static `max_children` unless assigned on this server). */
  get max_children(): number;
  /** Gives this server its own max_children, as an assignment does in Python. */
  set max_children(value: number);
  /** Idle children kept started (the class's static `spare_children` unless assigned on this server). */
  get spare_children(): number;
  /** Gives this server its own spare_children, as an assignment does in Python. */
  set spare_children(value: number);
  /** Whether server_close() waits for the children (the class's static `block_on_close` unless assigned on this server). */
  get block_on_close(): boolean;
  /** Gives this server its own block_on_close, as an assignment does in Python. */
  set block_on_close(value: boolean);
  /** The pids of the running children; null until the first starts. */
  active_children: Set<number> | null;
  /** Forgets children that have ended; with blocking, first waits for every child to be idle, or gone once closed. */
  collect_children(options?: { blocking?: boolean }): Promise<void>;
}

/** The class ForkingMixIn(Base) returns. */
export type ForkingServerClass<B extends ServerClass> = MixedServerClass<
  B,
  ForkingServer,
  Omit<typeof ForkingServer, 'prototype'>
>;

/**
 * Makes a server class that serves each request in a child process.
 *
 * - `max_children` (40): most children at once; a request waits for one
 *   to be free when all are busy. Each serves one request at a time and
 *   is reused for the next.
 * - `spare_children` (1): idle children kept started ahead of demand, from
 *   the first serve_forever() or handle_request() on, within max_children:
 *   starting a Node process takes far longer than Python's fork(), and a
 *   spare child answers a request at once. 0 starts children on demand only.
 * - `active_children`: the pids of the running children (null before the first).
 * - `collect_children()`: forgets children that have ended.
 * - `block_on_close` (true): server_close() waits for the children to finish
 *   their requests and exit; otherwise it only tells them to.
 * - `timeout` (300): handle_request()'s, as in Python.
 *
 * A child runs the program's entry module (process.argv[1], with the same
 * arguments and Node options) unless the class names another in the static
 * properties `child_module`, `child_args` and `child_exec_argv`; that module
 * must make the same server, and the first forking server it makes serves.
 * A child that dies loses only the request it was serving, which the
 * parent reports to handle_error(); a request handed to a child that died
 * before it took it goes to another child. `server instanceof ForkingMixIn` tells
 * whether a server has this mix-in.
 */
export function ForkingMixIn<B extends ServerClass>(Base: B): ForkingServerClass<B> {
  checkServerClass('ForkingMixIn', Base);
  const Parent: ServerClass = Base;
  class Forking extends Parent implements ForkingServer {
    /** The module children run; null: the program's entry module. */
    static child_module: string | null = null;
    /** The children's arguments; null: this process's (process.argv.slice(2)) for the entry module, none otherwise. */
    static child_args: string[] | null = null;
    /** The children's Node options; null: this process's (process.execArgv). */
    static child_exec_argv: string[] | null = null;
    /**
     * True in a child process of a forking server, which runs the program
     * again (as Node's cluster.isWorker): what a program does only once, such
     * as printing where it listens, it does when this is false.
     */
    static readonly is_child: boolean = isForkedChild;
    /** handle_request()'s wait, in seconds; 300. */
    static timeout: number | null = 300;
    /** Most children at once; 40. */
    static max_children = 40;
    /** Idle children kept started ahead of demand, within max_children; 1 (0: children start on demand only, as in Python). */
    static spare_children = 1;
    /** server_close() waits for the children to exit; true. */
    static block_on_close = true;

    /** Most children at once (the class's static `max_children` unless assigned on this server). */
    get max_children(): number {
      return classAttribute(this, 'max_children');
    }
    /** Gives this server its own max_children, as an assignment does in Python. */
    set max_children(value: number) {
      setClassAttribute(this, 'max_children', value);
    }

    /** Idle children kept started (the class's static `spare_children` unless assigned on this server). */
    get spare_children(): number {
      return classAttribute(this, 'spare_children');
    }
    /** Gives this server its own spare_children, as an assignment does in Python. */
    set spare_children(value: number) {
      setClassAttribute(this, 'spare_children', value);
    }

    /** Whether server_close() waits for the children (the class's static `block_on_close` unless assigned on this server). */
    get block_on_close(): boolean {
      return classAttribute(this, 'block_on_close');
    }
    /** Gives this server its own block_on_close, as an assignment does in Python. */
    set block_on_close(value: boolean) {
      setClassAttribute(this, 'block_on_close', value);
    }

    /** The pids of the running children; null until the first starts. */
    declare active_children: Set<number> | null;
    /** The children, in the parent; null in a child process. @internal */
    declare _pool: ChildPool | null;
    /** What this server does in a child process that serves for it; null in the parent, and in a child that serves another. @internal */
    declare _forked: ForkedChild | null;

    // A mix-in's constructor passes on whatever Base's takes.
    constructor(...args: never[]) {
      super(...args);
      const { index, role } = forkingRole();
      this._pool = role === 'parent' ? new ChildPool(this, index) : null;
      this._forked = role === 'serve' ? new ForkedChild(this) : null;
    }

    /** The running children. @internal */
    get _children(): ReadonlySet<Child> {
      return this._pool?.children ?? new Set();
    }

    /** Binds, except in a child process: there the parent's socket is handed over. */
    server_bind(): void {
      if (isForkedChild) return;
      const bind: unknown = Reflect.get(Base.prototype, 'server_bind');
      if (typeof bind === 'function') Reflect.apply(bind, this, []);
    }

    /** Activates, except in a child process. */
    override server_activate(): void {
      if (isForkedChild) return;
      super.server_activate();
    }

    /** In a child: serves the requests handed over until the parent closes the channel, then exits. */
    override async serve_forever(poll_interval = 0.5): Promise<void> {
      if (this._pool !== null) {
        this._pool.startSpares();
        return super.serve_forever(poll_interval);
      }
      if (this._forked === null) return new Promise<void>(() => {});
      return this._forked.serveForever();
    }

    /** In a child: serves one request handed over (or exits, when the parent has closed the channel). */
    override async handle_request(): Promise<void> {
      if (this._pool !== null) {
        this._pool.startSpares();
        return super.handle_request();
      }
      if (this._forked === null) return new Promise<void>(() => {});
      return this._forked.serveOne();
    }

    /** Forgets children that have ended; with blocking, first waits for every child to be idle, or gone once closed. */
    async collect_children(options: { blocking?: boolean } = {}): Promise<void> {
      if (options === null || typeof options !== 'object') {
        throw new TypeError(`${this.constructor.name}.collect_children(): takes { blocking }, not ${describe(options)}`);
      }
      await this._pool?.collect(Boolean(options.blocking));
    }

    /** collect_children(). */
    override handle_timeout(): Promise<void> {
      return this.collect_children();
    }

    /** collect_children(), and starts the spare children that are missing. */
    override async service_actions(): Promise<void> {
      await this.collect_children();
      this._pool?.startSpares();
    }

    /**
     * Hands the request to a free child (an idle one, a new one, or the
     * next to become free when max_children are busy). The parent's copy
     * is closed once the child has taken it.
     */
    override async process_request(request: Request, client_address: Address): Promise<void> {
      if (this._pool === null) return super.process_request(request, client_address);
      await this._pool.handOver(request, client_address);
    }

    /** Closes the server, tells the children to finish, and waits for them when block_on_close is set. */
    override async server_close(): Promise<void> {
      await super.server_close();
      this._pool?.close();
      await this.collect_children({ blocking: this.block_on_close });
    }
  }
  Forking.prototype.active_children = null;
  markMixed(Forking, FORKING);
  return mixedClass<B, ForkingServer, Omit<typeof ForkingServer, 'prototype'>>(Forking);
}

tellsMixed(ForkingMixIn, FORKING);
