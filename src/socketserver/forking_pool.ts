// The parent's side of ForkingMixIn: its pool of child processes. Node
// cannot fork, so a child is a Node process started with
// child_process.fork() on the program's entry module (or the module named
// by the server class's child_module), as Node's cluster does; each child
// serves one request at a time and is reused for the next (see
// forking_child.ts). The pool keeps at most max_children, and
// spare_children idle ones started ahead of demand.
//
// A child leaves when its unix socket closes: close() closes it (the child
// finishes its request first), and so does the kernel when the parent
// dies, even by SIGKILL; the IPC channel that fork() opens ending also
// ends the child at once.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { Buffer } from 'node:buffer';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { binding } from '../binding';
import { describe } from '../errors';
import { AF_UNIX, SOCK_SEQPACKET, socket, socketpair } from '../socket';
import type { Address } from '../socket';
import { staticAttribute } from './attributes';
import { encode, sendMessage, tryReceive } from './channel';
import { CHILD_CHANNEL_FD, CHILD_ENV, WORD_READY, WORD_TAKEN } from './forking_child';
import { io } from './io';
import { formatAddress, isDatagramRequest, settle, socketOf } from './servers';
import type { BaseServer, Request } from './servers';

/** How many children may be starting at once: one per core. */
const STARTING_AT_ONCE = Math.max(1, availableParallelism());
/** Children in a row that may die before they are up while one request waits for them. */
const FAILED_STARTS = 3;
/**
 * How long, in ms, the pool may be short of idle children (a request
 * waiting, or fewer spares than spare_children) before it starts one: a
 * busy child's word that it is done often comes just after the next
 * connection, and a Node process costs 100 ms or more of a core to start.
 */
const SHORTAGE_MS = 10;

/** Whether value is an integer >= 0, as spare_children must be. */
function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A notification any number of waiters can await; each notify() wakes those waiting. */
class Signal {
  private waiters: Array<() => void> = [];

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
interface Job {
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
export class Child {
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
  private markExited!: () => void;

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

/** What the pool reads and calls of its forking server: the attributes and hooks Python's ForkingMixIn uses. */
export interface PoolServer extends BaseServer {
  readonly max_children: number;
  readonly spare_children: number;
  /** The pids of the running children; null until the first starts. */
  active_children: Set<number> | null;
}

function checkStringArray(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new TypeError(`ForkingMixIn: ${name} must be an array of strings or null, not ${describe(value)}`);
  }
  return value;
}

/** A forking server's children, in the parent: starts them, hands requests over, and reaps them. */
export class ChildPool {
  /** The running children. */
  readonly children = new Set<Child>();
  /** Signalled when a child ends or says something, for a request waiting on max_children. */
  private readonly freed = new Signal();
  /** Set by close(). */
  private closed = false;
  /** Set when a child died before it was up: no spare starts until one is up again. */
  private sparesPaused = false;
  /** The requests waiting for a child (take()). */
  private readonly waiting = new Set<Job>();
  /** performance.now() since the pool has been short of idle children; null: it is not. */
  private shortSince: number | null = null;
  /** The timer that calls startSpares() again once a shortage may have lasted SHORTAGE_MS. */
  private lookAgain: NodeJS.Timeout | null = null;

  /** index: the server's number among the forking servers of the program (a child finds its own by it). */
  constructor(
    private readonly server: PoolServer,
    private readonly index: number,
  ) {}

  /**
   * Hands the request to a free child (an idle one, a new one, or the
   * next to become free when max_children are busy). The parent's copy
   * is closed once the child has taken it.
   */
  async handOver(request: Request, client_address: Address): Promise<void> {
    const stream = !Array.isArray(request);
    if (!(request instanceof socket) && !isDatagramRequest(request)) {
      throw new TypeError(`${this.server.constructor.name}.process_request(): request must be a socket or [data, socket], not ${describe(request)}`);
    }
    const job: Job = {
      request,
      client_address,
      data: stream ? encode({ address: client_address }) : encode({ address: client_address }, request[0]),
      fds: stream ? [request.fileno()] : [],
      taken: false,
      failedStarts: 0,
    };
    await this.send(job);
  }

  /**
   * Forgets children that have ended (their pids leave active_children);
   * with blocking, first waits for every child to be idle, or gone once
   * closing.
   */
  async collect(blocking: boolean): Promise<void> {
    const active = this.server.active_children;
    if (active === null || active === undefined) return;
    if (blocking) {
      for (const child of [...this.children]) {
        while (child.alive && (child.closing || (child.busy !== null && child.fd >= 0))) {
          if (child.closing) {
            // Waiting for the exit is what keeps this process alive now.
            child.process.ref();
            await child.exited;
          } else {
            await this.freed.wait();
          }
        }
      }
    }
    for (const pid of [...active]) {
      if (![...this.children].some((child) => child.pid === pid && child.alive)) active.delete(pid);
    }
  }

  /** Tells every child to finish (collect(true) then waits for them); no child starts after this. */
  close(): void {
    this.closed = true;
    for (const child of this.children) {
      child.closing = true;
      // The child reads the stop after its request, so its word that the
      // request is done still comes first.
      if (child.fd >= 0 && sendMessage(child.fd, encode({ stop: true }), []) < 0) child.closeChannel();
      // A child that is not serving a request ends now, even one whose
      // module never got as far as reading its channel.
      if (child.busy === null && child.process.connected) child.process.disconnect();
    }
    this.freed.notify();
  }

  /**
   * Starts children until spare_children are idle (or starting) besides
   * one for each request waiting, within max_children and the children
   * that may start at once, once the pool has been short of them for
   * SHORTAGE_MS (at once when it has no child at all). A child that fails
   * to start pauses the spares until another is up, so that a module that
   * cannot start is not started again and again. Throws when
   * spare_children is not a count.
   */
  startSpares(): void {
    if (this.closed) return;
    const spare = this.server.spare_children;
    if (!isCount(spare)) {
      throw new RangeError(
        `${this.server.constructor.name}.spare_children must be an integer >= 0, not ${describe(spare)}`,
      );
    }
    try {
      this.readAll();
      this.topUp(this.sparesWanted());
    } catch {
      // A waiting request starts children itself, and reports why they cannot start.
      this.sparesPaused = true;
    }
  }

  /** startSpares() where a bad spare_children has nobody to throw to: the next serve_forever() reports it. */
  startSparesQuietly(): void {
    try {
      this.startSpares();
    } catch {
      // Thrown again by the next serve_forever(), handle_request() or service_actions().
    }
  }

  /**
   * How many idle children to keep besides the waiting requests:
   * spare_children, or none while spares are paused. A bad spare_children
   * counts as 0 here; serve_forever() reports it, not each request.
   */
  private sparesWanted(): number {
    const spare = this.server.spare_children;
    return this.sparesPaused || !isCount(spare) ? 0 : spare;
  }

  /**
   * Starts the children the pool is short of (see startSpares()): `spare`
   * idle ones plus one per waiting request, as the children's words read
   * last show them. Throws what starting one failed with.
   */
  private topUp(spare: number): void {
    let idle = 0;
    let starting = 0;
    for (const child of this.children) {
      if (!child.alive || child.fd < 0) continue;
      if (child.busy === null) idle += 1;
      if (!child.ready) starting += 1;
    }
    const wanted = spare + this.waiting.size;
    if (idle < wanted && this.isShortFor(SHORTAGE_MS)) {
      while (idle < wanted && starting < STARTING_AT_ONCE && this.children.size < this.server.max_children) {
        this.startChild();
        idle += 1;
        starting += 1;
      }
    } else if (idle >= wanted) {
      this.shortSince = null;
    }
    // A waiting request learns from the child itself when it is up, and
    // the watch keeps the process alive meanwhile.
    if (this.waiting.size > 0) {
      for (const child of this.children) if (!child.ready) void this.watch(child);
    }
  }

  /**
   * Whether the pool, short of idle children now, has been so for ms (or
   * has no child at all); if not, startSpares() runs again when it will
   * have been.
   */
  private isShortFor(ms: number): boolean {
    const now = performance.now();
    this.shortSince ??= now;
    if (this.children.size === 0 || now - this.shortSince >= ms) {
      this.shortSince = null;
      return true;
    }
    if (this.lookAgain === null) {
      this.lookAgain = setTimeout(() => {
        this.lookAgain = null;
        this.startSparesQuietly();
      }, Math.ceil(ms - (now - this.shortSince)));
    }
    // Only a waiting request keeps the process alive for it.
    if (this.waiting.size > 0) this.lookAgain.ref();
    else this.lookAgain.unref();
    return false;
  }

  /** Sends the job to a free child; a child found dead on the way is passed over. */
  private async send(job: Job): Promise<void> {
    for (;;) {
      const child = await this.take(job);
      if (sendMessage(child.fd, job.data, job.fds) === 0) {
        void this.watch(child);
        this.startSparesQuietly();
        return;
      }
      // Its end is closed: the child is dead, though its exit may not
      // have been seen yet. Its exit frees its place.
      child.busy = null;
      child.closeChannel();
    }
  }

  /**
   * Takes a free child for the job: the first idle child that is up, the
   * job waiting meanwhile for one to free up or to come up. It is marked
   * busy before this returns, so that two requests handed over at once
   * never take the same child. A request is not tied to a child started
   * for it: starting a Node process costs far more than Python's fork(),
   * and a busy child often frees up first. At most one child per core
   * starts at a time, for the same reason.
   */
  private async take(job: Job): Promise<Child> {
    this.waiting.add(job);
    try {
      for (;;) {
        if (this.closed) throw new Error('ForkingMixIn: the server is closed');
        if (job.failedStarts >= FAILED_STARTS) {
          throw new Error(`ForkingMixIn: ${job.failedStarts} child processes in a row ended before they were up`);
        }
        let child = this.idleChild();
        // Waited for before the children's words are read: one that frees a
        // child or says it is up, read here or by a watch topUp() starts,
        // ends the wait.
        const freed = child === null ? this.freed.wait() : null;
        if (child === null) {
          this.readAll();
          child = this.idleChild();
        }
        if (child !== null) {
          child.busy = job;
          return child;
        }
        this.topUp(this.sparesWanted());
        await freed;
      }
    } finally {
      this.waiting.delete(job);
    }
  }

  /** Reads what the children that are starting or busy have said: whether they are up, or done. */
  private readAll(): void {
    for (const child of [...this.children]) {
      if (child.alive && child.fd >= 0 && (!child.ready || child.busy !== null)) this.readWords(child);
    }
  }

  /** An idle child that is up, or null. */
  private idleChild(): Child | null {
    for (const child of this.children) {
      if (child.alive && child.fd >= 0 && child.busy === null && child.ready) return child;
    }
    return null;
  }

  /** Starts a child and sends it the hello: the server's socket and address. */
  private startChild(): Child {
    const server = this.server;
    const className = server.constructor.name;
    const childModule = staticAttribute(server, 'child_module');
    const module = childModule ?? process.argv[1];
    if (typeof module !== 'string' || module === '') {
      throw new TypeError(`${className}.child_module must name a module, not ${describe(module)}`);
    }
    const named = childModule !== null && childModule !== undefined;
    const args = checkStringArray('child_args', staticAttribute(server, 'child_args') ?? (named ? [] : process.argv.slice(2)));
    const execArgv = checkStringArray('child_exec_argv', staticAttribute(server, 'child_exec_argv') ?? process.execArgv);
    const listening = listeningSocket(server);
    const [mine, theirs] = socketpair(AF_UNIX, SOCK_SEQPACKET);
    let proc: ChildProcess;
    try {
      proc = fork(module, args, {
        execArgv,
        env: { ...process.env, [CHILD_ENV]: `${CHILD_CHANNEL_FD}:${named ? 0 : this.index}` },
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
    this.children.add(child);
    server.active_children ??= new Set();
    server.active_children.add(child.pid);
    let ended = false;
    const onEnd = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (ended) return;
      ended = true;
      void this.childEnded(child, code, signal);
    };
    proc.once('exit', onEnd);
    proc.once('error', () => onEnd(null, null));
    const hello = encode({
      family: listening.family,
      type: listening.type,
      proto: listening.proto,
      address: server.server_address,
    });
    const result = sendMessage(child.fd, hello, [listening.fileno()]);
    if (result < 0) child.closeChannel();
    return child;
  }

  /**
   * Reads what the child says while it serves, or while it starts with a
   * request waiting. An idle child that is up is not watched, so that it
   * keeps nothing waiting in this process, and neither is a spare that
   * starts ahead of demand: whether it has come up is read when it
   * matters (readAll()).
   */
  private async watch(child: Child): Promise<void> {
    if (child.watched) return;
    child.watched = true;
    try {
      while (child.fd >= 0 && (child.busy !== null || !child.ready)) {
        // null: its end is closed; its exit takes it from here.
        if (this.readWords(child) === null) return;
        if (child.busy === null && child.ready) return;
        await io.readable(child.fd, null);
      }
    } catch {
      // The channel failed: as for a closed end, the exit follows.
    } finally {
      child.watched = false;
    }
  }

  /** Takes what the child has said so far: null once its end is closed. */
  private readWords(child: Child): null | undefined {
    for (;;) {
      const message = tryReceive(child.fd, 0);
      if (message === undefined) return undefined;
      if (message === null) return null;
      for (const word of message.data) this.takeWord(child, word);
      this.freed.notify();
    }
  }

  /** Acts on one word of the child. */
  private takeWord(child: Child, word: number): void {
    if (word === WORD_READY) {
      child.ready = true;
      this.sparesPaused = false;
      this.startSparesQuietly();
      return;
    }
    const job = child.busy;
    if (job === null) return;
    if (word === WORD_TAKEN) {
      job.taken = true;
      this.server.close_request(job.request);
    } else {
      child.busy = null;
    }
  }

  /** Collects an ended child and frees its place. */
  private async childEnded(child: Child, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    // A word sent just before the exit may still be unread.
    if (child.busy !== null && child.fd >= 0) this.readWords(child);
    const job = child.busy;
    child.busy = null;
    child.closeChannel();
    this.children.delete(child);
    this.server.active_children?.delete(child.pid);
    child.ended(code, signal);
    if (child.failedToStart()) {
      this.sparesPaused = true;
      for (const waiting of this.waiting) waiting.failedStarts += 1;
    }
    this.freed.notify();
    if (job === null) {
      this.startSparesQuietly();
      return;
    }
    if (job.taken) {
      const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
      const err = new Error(
        `child process ${child.pid} ${how} while serving the request from ${formatAddress(job.client_address)}`,
      );
      await this.report(job, err);
    } else {
      // The child never took the request: it goes to another.
      try {
        await this.send(job);
      } catch (err) {
        await this.report(job, err);
        this.server.shutdown_request(job.request);
      }
    }
    this.startSparesQuietly();
  }

  /** handle_error() for a request the child did not finish; what that throws goes to stderr. */
  private async report(job: Job, err: unknown): Promise<void> {
    const server = this.server;
    try {
      await settle(server.handle_error(job.request, job.client_address, err));
    } catch (failure) {
      process.stderr.write(`Exception in handle_error() of ${server.constructor.name}:\n${String(failure)}\n`);
    }
  }
}

/** The socket children take over from the server; a server with none cannot have children. */
function listeningSocket(server: BaseServer): socket {
  const sock = socketOf(server);
  if (sock === null) {
    throw new TypeError(`${server.constructor.name}: ForkingMixIn needs a server with a socket (a TCPServer or a subclass)`);
  }
  return sock;
}
