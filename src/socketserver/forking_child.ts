// The child's side of ForkingMixIn: what a child process does with the
// server the program makes again in it. Its constructor does not bind;
// the parent hands over its listening socket in a hello, then one request
// at a time as an fd on a unix socket (SCM_RIGHTS), which the child serves
// as Python's forked child serves its one request, and it stays for the
// next. It exits when the parent closes its end or says stop.
import { Buffer } from 'node:buffer';
import { binding } from '../binding';
import { SOCK_STREAM, socket } from '../socket';
import type { Address } from '../socket';
import { decode, receive, sendMessage } from './channel';
import { io } from './io';
import { isExit, settle, socketOf } from './servers';
import type { BaseServer, Request } from './servers';

/** The environment variable that makes a process a forking server's child: `fd:index`. */
export const CHILD_ENV = 'ASYNCORE_SOCKETSERVER_CHILD';
/** The fd a child finds its unix socket on: stdio[4], after fork()'s IPC channel at 3. */
export const CHILD_CHANNEL_FD = 4;
/** What a child says: a request served (0) or failed (1), that it is up, or that it has taken a request. */
export const WORD_SERVED = 0;
export const WORD_FAILED = 1;
export const WORD_READY = 2;
export const WORD_TAKEN = 3;

const TAKEN = Buffer.from([WORD_TAKEN]);
const READY = Buffer.from([WORD_READY]);

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

/** True in a child process of a forking server. */
export const isForkedChild = childSpec !== null;

/**
 * The part a new forking server plays in this process: its number among
 * the forking servers the program made (a child finds its own by it), and
 * 'parent', or in a child 'serve' (the server the child serves requests
 * for) or 'idle' (any other).
 */
export function forkingRole(): { index: number; role: 'parent' | 'serve' | 'idle' } {
  const index = forkingServersMade++;
  if (childSpec === null) return { index, role: 'parent' };
  return { index, role: index === childSpec.index ? 'serve' : 'idle' };
}

/** What the parent's messages carry. */
interface Hello {
  family: number;
  type: number;
  proto: number;
  address: Address;
}
interface RequestHeader {
  address: Address;
  stop?: boolean;
}

/** The child's side of one forking server: serves the requests the parent hands over. */
export class ForkedChild {
  /** Set once the parent's hello (its socket and address) has come. */
  private helloTaken = false;
  private readonly fd: number;

  constructor(private readonly server: BaseServer) {
    if (childSpec === null) throw new Error('ForkedChild: this process is not a forking server\'s child');
    this.fd = childSpec.fd;
  }

  /** serve_forever() in the child: requests one after the other, until the process exits. */
  async serveForever(): Promise<never> {
    for (;;) await this.serveOne();
  }

  /** Takes one request from the parent and serves it as Python's child does; exits once the parent is done. */
  async serveOne(): Promise<void> {
    let message = await receive(this.fd);
    if (message !== null && !this.helloTaken) {
      this.takeHello(message.data, message.fds);
      message = await receive(this.fd);
    }
    if (message === null) process.exit(0);
    const [header, body] = decode(message.data) as [RequestHeader, Buffer];
    if (header.stop === true) process.exit(0);
    sendMessage(this.fd, TAKEN, []);
    const server = this.server;
    const listening = socketOf(server)!;
    let request: Request;
    if (message.fds.length > 0) {
      request = new socket(listening.family, SOCK_STREAM, listening.proto, message.fds[0]);
      // The one request of this process, as in Python's child.
      io.serveAlone(request);
    } else {
      request = [Buffer.from(body), listening];
    }
    const client_address = header.address;
    let status = WORD_FAILED;
    let exit = false;
    try {
      await server.finish_request(request, client_address);
      status = WORD_SERVED;
    } catch (err) {
      if (isExit(err)) exit = true;
      else await settle(server.handle_error(request, client_address, err));
    } finally {
      io.serveAlone(null);
      try {
        server.shutdown_request(request);
      } finally {
        sendMessage(this.fd, Buffer.from([status]), []);
        if (exit) process.exit(status);
      }
    }
  }

  /** Takes the parent's server socket and address (a forked child would have inherited them). */
  private takeHello(data: Buffer, fds: number[]): void {
    const hello = decode(data)[0] as Hello;
    socketOf(this.server)?.close();
    Reflect.set(this.server, 'socket', new socket(hello.family, hello.type, hello.proto, fds[0]));
    this.server.server_address = hello.address;
    this.helloTaken = true;
    sendMessage(this.fd, READY, []);
  }
}
