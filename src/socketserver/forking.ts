// ForkingMixIn: each request is served in another process, as Python's
// os.fork() does. Node cannot fork, so a child is a Node process started
// with child_process.fork() on the program's entry module (or the module
// named by the server class's child_module), as Node's cluster does. In the
// child, the same server construction does not bind: serve_forever() (or
// handle_request()) serves the connections the parent hands over as fds on
// a unix socket (SCM_RIGHTS), one at a time, and the child stays for the
// next. The parent keeps at most max_children children.
//
// A child leaves when its unix socket closes: server_close() closes it
// (the child finishes its request first), and so does the kernel when the
// parent dies, even by SIGKILL; the IPC channel that fork() opens ending
// also ends the child at once.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { availableParallelism } from 'node:os';
import { binding } from '../binding';
import { describe } from '../errors';
import { AF_UNIX, SOCK_SEQPACKET, SOCK_STREAM, socket, socketpair } from '../socket';
import type { Address } from '../socket';
import { decode, encode, receive, sendMessage, tryReceive } from './channel';
import { classAttribute, setClassAttribute } from './attributes';
import { io } from './io';
import { formatAddress, isExit, settle } from './servers';
import type { BaseServer, Request } from './servers';
import { checkServerClass } from './threading';
import type { MixedServerClass, ServerClass } from './threading';

const FORKING = Symbol('socketserver.ForkingMixIn');
/** How many children may be starting at once: one per core. */
const STARTING_AT_ONCE = Math.max(1, availableParallelism());
/** What a child says: a request served (0) or failed (1), that it is up, or that it has taken a request. */
const WORD_READY = 2;
const WORD_TAKEN = 3;
/** Children in a row that may die before they are up while one request waits for them. */
const FAILED_STARTS = 3;
const TAKEN = Buffer.from([WORD_TAKEN]);
const CHILD_ENV = 'ASYNCORE_SOCKETSERVER_CHILD';
/** The fd a child finds its unix socket on: stdio[4], after fork()'s IPC channel at 3. */
const CHILD_CHANNEL_FD = 4;

/** Set in a child process: which forking server of the program serves, and on which fd. */
interface ChildSpec {
  fd: number;
  index: number;
}

function readChildSpec(): ChildSpec | null {
  const value = process.env[CHILD_ENV];
  if (value === undefined) return null;
  // Not passed on to processes this child may start.
  delete process.env[CHILD_ENV];
  const match = /^(\d+):(\d+)$/.exec(value);
  if (match === null) return null;
  const spec = { fd: Number(match[1]), index: Number(match[2]) };
  binding.setInheritable(spec.fd, false);
  // The IPC channel must not keep the child alive; its end means the
  // parent is gone, and then so is the child.
  process.channel?.unref();
  process.once('disconnect', () => process.exit(0));
  return spec;
}

const childSpec = readChildSpec();
/** Forking servers made so far in this process, in order. */
let forkingServersMade = 0;

/** A notification any number of waiters can await; each notify() wakes those waiting. */
class Signal {
  waiters: Array<() => void> = [];

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  notify(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

/**
 * A request on its way to a child. The parent keeps its copy until the
 * child says it has taken it: a child that dies before that never saw the
 * request, which then goes to another.
 */
export interface Job {
  request: Request;
  client_address: Address;
  /** The message that hands it over, and the fds that go with it. */
  data: Buffer;
  fds: number[];
  /** Set once a child has said it has taken the request (the parent's copy is closed then). */
  taken: boolean;
  /** Children that died before they were up while this request waited for them. */
  failedStarts: number;
}

/** One child process, as the parent sees it. */
class Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** The parent's end of the unix socket; -1 once closed. */
  fd: number;
  /** The request the child serves now, or has been sent. */
  busy: Job | null = null;
  /** Set once the parent has told the child to stop (server_close()). */
  closing = false;
  /** Set when the child has said it is up (it has taken the server's socket). */
  ready = false;
  /** Set while the parent reads what the child says (while it starts, and while it is busy). */
  watched = false;
  alive = true;
  /** How it ended, once it has. */
  exitCode: number | null = null;
  signal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;
  markExited!: () => void;

  constructor(proc: ChildProcess, fd: number) {
    this.process = proc;
    this.pid = proc.pid ?? -1;
    this.fd = fd;
    this.exited = new Promise((resolve) => {
      this.markExited = resolve;
    });
  }

  closeChannel(): void {
    if (this.fd < 0) return;
    io.forget(this.fd);
    binding.close(this.fd);
    this.fd = -1;
  }

  /** Marks the child gone: it exited with code, or was killed by signal (both null: it never started). */
  ended(code: number | null, signal: NodeJS.Signals | null): void {
    this.alive = false;
    this.exitCode = code;
    this.signal = signal;
    this.markExited();
  }

  /** Whether the child ended before it was up, by itself (a module that cannot start) rather than by a signal. */
  failedToStart(): boolean {
    return !this.alive && !this.ready && this.signal === null;
  }
}

/** Options a forking server's class gives child_process.fork(). */
interface ForkingStatics {
  child_module?: string | null;
  child_args?: string[] | null;
  child_exec_argv?: string[] | null;
}

function checkStringArray(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new TypeError(`ForkingMixIn: ${name} must be an array of strings or null, not ${describe(value)}`);
  }
  return value;
}

/** The constructor shape TypeScript requires of a mix-in's base class. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- TypeScript's rule for mix-ins (TS2545)
type MixinBase = new (...args: any[]) => BaseServer;

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
  class Forking extends (Base as unknown as MixinBase) implements ForkingServer {
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
    static readonly is_child: boolean = childSpec !== null;
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
    /** This server's number among the forking servers the process made (a child finds its own by it). @internal */
    declare _fork_index: number;
    /** 'parent', or in a child: 'serve' (the server the child handles a request for) or 'idle'. @internal */
    declare _fork_role: 'parent' | 'serve' | 'idle';
    /** The running children. @internal */
    declare _children: Set<Child>;
    /** Signalled when a child ends, for a request waiting on max_children. @internal */
    declare _child_freed: Signal;
    /** Set by server_close(). @internal */
    declare _fork_closed: boolean;
    /** Set when a child died before it was up: no spare starts until one is up again. @internal */
    declare _spares_paused: boolean;

    // TypeScript requires a mix-in's constructor to take (...args: any[]).
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    constructor(...args: any[]) {
      super(...args);
      this._fork_index = forkingServersMade++;
      if (childSpec === null) this._fork_role = 'parent';
      else this._fork_role = this._fork_index === childSpec.index ? 'serve' : 'idle';
      this._children = new Set();
      this._child_freed = new Signal();
      this._fork_closed = false;
      this._spares_paused = false;
    }

    /** Binds, except in a child process: there the parent's socket is handed over. */
    server_bind(): void {
      if (childSpec !== null) return;
      (Base.prototype as unknown as { server_bind?: () => void }).server_bind?.call(this);
    }

    /** Activates, except in a child process. */
    override server_activate(): void {
      if (childSpec !== null) return;
      super.server_activate();
    }

    /** In a child: serves the requests handed over until the parent closes the channel, then exits. */
    override async serve_forever(poll_interval = 0.5): Promise<void> {
      if (this._fork_role === 'parent') {
        this._start_spares();
        return super.serve_forever(poll_interval);
      }
      if (this._fork_role === 'idle') return new Promise<void>(() => {});
      for (;;) await this._serve_handed_request();
    }

    /** In a child: serves one request handed over (or exits, when the parent has closed the channel). */
    override async handle_request(): Promise<void> {
      if (this._fork_role === 'parent') {
        this._start_spares();
        return super.handle_request();
      }
      if (this._fork_role === 'idle') return new Promise<void>(() => {});
      await this._serve_handed_request();
    }

    /** Forgets children that have ended; with blocking, first waits for every child to be idle, or gone once closed. */
    async collect_children({ blocking = false }: { blocking?: boolean } = {}): Promise<void> {
      if (this.active_children === null || this.active_children === undefined) return;
      if (blocking) {
        for (const child of [...this._children]) {
          while (child.alive && (child.closing || (child.busy !== null && child.fd >= 0))) {
            if (child.closing) {
              // Waiting for the exit is what keeps this process alive now.
              child.process.ref();
              await child.exited;
            }
            else await this._child_freed.wait();
          }
        }
      }
      for (const pid of [...this.active_children]) {
        if (![...this._children].some((child) => child.pid === pid && child.alive)) this.active_children.delete(pid);
      }
    }

    /** collect_children(). */
    override handle_timeout(): Promise<void> {
      return this.collect_children();
    }

    /** collect_children(), and starts the spare children that are missing. */
    override async service_actions(): Promise<void> {
      await this.collect_children();
      this._start_spares();
    }

    /**
     * Hands the request to a free child (an idle one, a new one, or the
     * next to become free when max_children are busy). The parent's copy
     * is closed once the child has taken it.
     */
    override async process_request(request: Request, client_address: Address): Promise<void> {
      if (this._fork_role !== 'parent') return super.process_request(request, client_address);
      const stream = !Array.isArray(request);
      const job: Job = {
        request,
        client_address,
        data: stream ? encode({ address: client_address }) : encode({ address: client_address }, request[0]),
        fds: stream ? [(request as socket).fileno()] : [],
        taken: false,
        failedStarts: 0,
      };
      await this._hand_over(job);
    }

    /** Sends the job to a free child; a child found dead on the way is passed over. @internal */
    async _hand_over(job: Job): Promise<void> {
      for (;;) {
        const child = await this._take_child(job);
        if (sendMessage(child.fd, job.data, job.fds) === 0) {
          void this._watch(child);
          this._start_spares_quietly();
          return;
        }
        // Its end is closed: the child is dead, though its exit may not
        // have been seen yet. Its exit frees its place, and says whether
        // it failed to start.
        child.busy = null;
        child.closeChannel();
        if (!child.ready) {
          await child.exited;
          this._count_failed_start(child, job);
        }
      }
    }

    /**
     * A child that ended on its own before it was up failed the job (one
     * killed by a signal did not fail to start): after FAILED_STARTS of
     * them, children cannot start, and the job fails.
     * @internal
     */
    _count_failed_start(child: Child, job: Job): void {
      if (!child.failedToStart()) return;
      job.failedStarts += 1;
      if (job.failedStarts >= FAILED_STARTS) {
        throw new Error(`ForkingMixIn: ${job.failedStarts} child processes in a row ended before they were up`);
      }
    }

    /** Closes the server, tells the children to finish, and waits for them when block_on_close is set. */
    override async server_close(): Promise<void> {
      await super.server_close();
      this._fork_closed = true;
      for (const child of this._children) {
        child.closing = true;
        // The child reads the stop after its request, so its word that the
        // request is done still comes first.
        if (child.fd >= 0 && sendMessage(child.fd, encode({ stop: true }), []) < 0) child.closeChannel();
        // A child that is not serving a request ends now, even one whose
        // module never got as far as reading its channel.
        if (child.busy === null && child.process.connected) child.process.disconnect();
      }
      this._child_freed.notify();
      await this.collect_children({ blocking: this.block_on_close });
    }

    /**
     * Takes a free child for the job: an idle one that is up, one that is
     * still starting (it serves the job once it is up), a new one, or the
     * next to become free. It is marked busy before this returns, so that
     * two requests handed over at once never take the same child. At most
     * one child per core starts at a time: starting a Node process costs
     * far more than Python's fork(), and a burst of connections would
     * otherwise start as many processes at once; while some start, the
     * children that free up serve the waiting requests.
     * @internal
     */
    async _take_child(job: Job): Promise<Child> {
      for (;;) {
        if (this._fork_closed) throw new Error('ForkingMixIn: the server is closed');
        const child = this._free_child();
        if (child !== null) {
          child.busy = job;
          return child;
        }
        await this._child_freed.wait();
      }
    }

    /** Reads what the idle children that are still starting have said: whether they are up now. @internal */
    _read_starting(): void {
      for (const child of [...this._children]) {
        if (child.alive && child.fd >= 0 && !child.ready && !child.watched) this._read_words(child);
      }
    }

    /** An idle child (one that is up first), a new one, or null when none may start now. @internal */
    _free_child(): Child | null {
      this._read_starting();
      let starting = 0;
      let idle: Child | null = null;
      for (const child of this._children) {
        if (!child.alive || child.fd < 0) continue;
        if (child.busy === null) {
          if (child.ready) return child;
          idle ??= child;
        }
        if (!child.ready) starting += 1;
      }
      if (idle !== null) return idle;
      if (starting < STARTING_AT_ONCE && this._children.size < this.max_children) return this._start_child();
      return null;
    }

    /**
     * Starts children until spare_children are idle (or starting), within
     * max_children and the children that may start at once. A child that
     * fails to start pauses this until another is up, so that a module
     * that cannot start is not started again and again.
     * @internal
     */
    _start_spares(): void {
      if (this._fork_role !== 'parent' || this._fork_closed) return;
      const spare = this.spare_children;
      if (!Number.isSafeInteger(spare) || spare < 0) {
        throw new RangeError(
          `${this.constructor.name}.spare_children must be an integer >= 0, not ${describe(spare)}`,
        );
      }
      this._read_starting();
      if (this._spares_paused) return;
      let idle = 0;
      let starting = 0;
      for (const child of this._children) {
        if (!child.alive || child.fd < 0) continue;
        if (child.busy === null) idle += 1;
        if (!child.ready) starting += 1;
      }
      while (idle < spare && starting < STARTING_AT_ONCE && this._children.size < this.max_children) {
        try {
          this._start_child();
        } catch {
          // The request that needs a child reports why.
          this._spares_paused = true;
          return;
        }
        idle += 1;
        starting += 1;
      }
    }

    /** Starts a child for the next request. @internal */
    _start_child(): Child {
      const statics = this.constructor as unknown as ForkingStatics;
      const module = statics.child_module ?? process.argv[1];
      if (typeof module !== 'string' || module === '') {
        throw new TypeError(`${this.constructor.name}.child_module must name a module, not ${describe(module)}`);
      }
      const named = statics.child_module !== null && statics.child_module !== undefined;
      const args = statics.child_args ?? (named ? [] : process.argv.slice(2));
      const execArgv = statics.child_exec_argv ?? process.execArgv;
      checkStringArray('child_args', args);
      checkStringArray('child_exec_argv', execArgv);
      const [mine, theirs] = socketpair(AF_UNIX, SOCK_SEQPACKET);
      let proc: ChildProcess;
      try {
        proc = fork(module, args, {
          execArgv,
          env: { ...process.env, [CHILD_ENV]: `${CHILD_CHANNEL_FD}:${named ? 0 : this._fork_index}` },
          stdio: ['ignore', 'inherit', 'inherit', 'ipc', theirs.fileno()],
        });
      } catch (err) {
        mine.close();
        theirs.close();
        throw err;
      }
      theirs.close();
      // Neither the child nor its IPC channel keeps this process alive:
      // when it ends, the children see their socket close and end too.
      proc.unref();
      proc.channel?.unref();
      const child = new Child(proc, mine.detach());
      this._children.add(child);
      this.active_children ??= new Set();
      this.active_children.add(child.pid);
      let ended = false;
      const onEnd = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (ended) return;
        ended = true;
        void this._child_ended(child, code, signal);
      };
      proc.once('exit', onEnd);
      proc.once('error', () => onEnd(null, null));
      const sock = (this as unknown as { socket: socket }).socket;
      const hello = encode({
        family: sock.family,
        type: sock.type,
        proto: sock.proto,
        address: this.server_address,
      });
      const result = sendMessage(child.fd, hello, [sock.fileno()]);
      if (result < 0) child.closeChannel();
      return child;
    }

    /**
     * Reads what the child says while it serves. An idle child is not
     * watched, so that it keeps nothing waiting in this process: whether a
     * spare has come up is read when it matters (_read_starting()).
     * @internal
     */
    async _watch(child: Child): Promise<void> {
      if (child.watched) return;
      child.watched = true;
      try {
        while (child.fd >= 0 && child.busy !== null) {
          // null: its end is closed; its exit takes it from here.
          if (this._read_words(child) === null) return;
          if (child.busy === null) return;
          await io.readable(child.fd, null);
        }
      } catch {
        // The channel failed: as for a closed end, the exit follows.
      } finally {
        child.watched = false;
      }
    }

    /** Takes what the child has said so far: null once its end is closed. @internal */
    _read_words(child: Child): null | undefined {
      for (;;) {
        const message = tryReceive(child.fd, 0);
        if (message === undefined) return undefined;
        if (message === null) return null;
        for (const word of message.data) this._take_word(child, word);
        this._child_freed.notify();
      }
    }

    /** Acts on one word of the child. @internal */
    _take_word(child: Child, word: number): void {
      if (word === WORD_READY) {
        child.ready = true;
        this._spares_paused = false;
        this._start_spares_quietly();
        return;
      }
      const job = child.busy;
      if (job === null) return;
      if (word === WORD_TAKEN) {
        job.taken = true;
        this.close_request(job.request);
      } else {
        child.busy = null;
      }
    }

    /** Collects an ended child and frees its place. @internal */
    async _child_ended(child: Child, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
      // A word sent just before the exit may still be unread.
      if (child.busy !== null && child.fd >= 0) this._read_words(child);
      const job = child.busy;
      child.busy = null;
      child.closeChannel();
      this._children.delete(child);
      this.active_children?.delete(child.pid);
      child.ended(code, signal);
      if (child.failedToStart()) this._spares_paused = true;
      this._child_freed.notify();
      if (job === null) {
        this._start_spares_quietly();
        return;
      }
      if (job.taken) {
        const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
        const err = new Error(
          `child process ${child.pid} ${how} while serving the request from ${formatAddress(job.client_address)}`,
        );
        await this._report(job, err);
      } else {
        // The child never took the request: it goes to another.
        try {
          this._count_failed_start(child, job);
          await this._hand_over(job);
        } catch (err) {
          await this._report(job, err);
          this.shutdown_request(job.request);
        }
      }
      this._start_spares_quietly();
    }

    /** _start_spares() where a bad spare_children has nobody to throw to: serve_forever() reports it. @internal */
    _start_spares_quietly(): void {
      try {
        this._start_spares();
      } catch {
        // Thrown again by the next serve_forever(), handle_request() or service_actions().
      }
    }

    /** handle_error() for a request the child did not finish; what that throws goes to stderr. @internal */
    async _report(job: Job, err: unknown): Promise<void> {
      try {
        await settle(this.handle_error(job.request, job.client_address, err));
      } catch (failure) {
        process.stderr.write(`Exception in handle_error() of ${this.constructor.name}:\n${String(failure)}\n`);
      }
    }

    /** The child's side: takes one request from the parent and serves it as Python's child does. @internal */
    async _serve_handed_request(): Promise<void> {
      const fd = childSpec!.fd;
      let message = await receive(fd);
      if (message !== null && (this as unknown as { _fork_hello?: boolean })._fork_hello !== true) {
        this._take_hello(message.data, message.fds);
        message = await receive(fd);
      }
      if (message === null) process.exit(0);
      const [header, body] = decode(message.data) as [{ address: Address; stop?: boolean }, Buffer];
      if (header.stop === true) process.exit(0);
      sendMessage(fd, TAKEN, []);
      const server = this as unknown as { socket: socket };
      let request: Request;
      if (message.fds.length > 0) {
        const family = server.socket.family;
        request = new socket(family, SOCK_STREAM, server.socket.proto, message.fds[0]);
        // The one request of this process, as in Python's child.
        io.serveAlone(request);
      } else {
        request = [Buffer.from(body), server.socket];
      }
      const client_address = header.address;
      let status = 1;
      let exit = false;
      try {
        await this.finish_request(request, client_address);
        status = 0;
      } catch (err) {
        if (isExit(err)) exit = true;
        else await settle(this.handle_error(request, client_address, err));
      } finally {
        io.serveAlone(null);
        try {
          this.shutdown_request(request);
        } finally {
          sendMessage(fd, Buffer.from([status]), []);
          if (exit) process.exit(status);
        }
      }
    }

    /** The child takes the parent's server socket and address (a forked child would have inherited them). @internal */
    _take_hello(data: Buffer, fds: number[]): void {
      const hello = decode(data)[0] as { family: number; type: number; proto: number; address: Address };
      const server = this as unknown as { socket: socket; server_address: Address; _fork_hello: boolean };
      server.socket.close();
      server.socket = new socket(hello.family, hello.type, hello.proto, fds[0]);
      server.server_address = hello.address;
      server._fork_hello = true;
      sendMessage(childSpec!.fd, Buffer.from([WORD_READY]), []);
    }
  }
  Forking.prototype.active_children = null;
  (Forking.prototype as unknown as Record<symbol, boolean>)[FORKING] = true;
  return Forking as unknown as ForkingServerClass<B>;
}

Object.defineProperty(ForkingMixIn, Symbol.hasInstance, {
  value: (value: unknown): boolean =>
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[FORKING] === true,
});
