// UNIX stream sockets: listenUNIX() and connectUNIX(), the TCP classes
// with UNIX addresses. As in Twisted, a port removes its socket file when
// it stops listening (abstract names, "\0...", have none).
import { chmodSync, statSync, unlinkSync } from 'node:fs';
import { AF_UNIX, socket } from '../socket';
import type { Address } from '../socket';
import { UNIXAddress, type IAddress } from './address';
import { describe } from './describe';
import { BadFileError, CannotListenError } from './error';
import { FilesystemLock, isLocked } from './lockfile';
import type { ClientFactory, Factory } from './protocol';
import type { SelectableReactor } from './selectable';
import { BaseConnector, Client, TCPPort, type ClientAddress, type ListenSpec, type StreamFamily } from './tcp';

/** The address rules of UNIX sockets: a path, or null for an unnamed peer. */
export const unixFamily: StreamFamily = {
  label: 'UNIX',
  address(addr: Address): IAddress {
    return new UNIXAddress(typeof addr === 'string' && addr !== '' ? addr : null);
  },
  client(addr: Address): ClientAddress {
    return [typeof addr === 'string' && addr !== '' ? addr : null, null];
  },
};

function checkPath(where: string, path: unknown): string {
  if (typeof path !== 'string' || path === '') {
    throw new TypeError(`${where}(): needs a socket path (a non-empty string), not ${describe(path)}`);
  }
  return path;
}

/** A listening UNIX socket (listenUNIX()). */
export class UNIXPort extends TCPPort<UNIXAddress> {
  static override readonly methodName: string = 'listenUNIX';
  /** The UNIX address rules. */
  override readonly family: StreamFamily = unixFamily;
  /** The permissions given to the socket file. */
  readonly mode: number;
  /** Whether a lock file (PATH.lock, with this process's pid) is held while listening. */
  readonly wantPID: boolean;
  /** That lock, while held. */
  lockFile: FilesystemLock | null = null;

  /** A port on `path`; startListening() opens it. */
  constructor(reactor: SelectableReactor, path: string, factory: Factory, backlog: number, mode: number, wantPID = false) {
    super(reactor, checkPath('listenUNIX', path), factory, backlog, '');
    if (!Number.isInteger(mode)) throw new TypeError(`listenUNIX(): mode must be an integer, not ${describe(mode)}`);
    this.mode = mode;
    this.wantPID = Boolean(wantPID);
  }

  protected override listenSpec(): ListenSpec {
    return { family: AF_UNIX, bindAddress: this.port as string };
  }

  protected override prepareSocket(_sock: socket): void {}

  /**
   * Takes the lock if asked to (a stale one means a dead server: its socket
   * file is removed), binds, then gives the file its mode.
   */
  override startListening(): void {
    if (this.wantPID) {
      const lock = new FilesystemLock(`${this.port as string}.lock`);
      if (!lock.lock()) throw new CannotListenError('', this.port, 'Cannot acquire lock');
      this.lockFile = lock;
      if (!lock.clean) removeStaleSocket(this.port as string);
    }
    try {
      super.startListening();
    } catch (err) {
      this.releaseLock();
      throw err;
    }
    if (this.inFilesystem()) chmodSync(this.port as string, this.mode);
  }

  protected override boundLabel(): string {
    return this.port as string;
  }

  protected override afterClose(): void {
    if (this.inFilesystem()) {
      try {
        unlinkSync(this.port as string);
      } catch {
        // Already gone.
      }
    }
    this.releaseLock();
  }

  private releaseLock(): void {
    this.lockFile?.unlock();
    this.lockFile = null;
  }

  private inFilesystem(): boolean {
    return !(this.port as string).startsWith('\0');
  }
}

/** The connector of connectUNIX(). */
export class UNIXConnector extends BaseConnector {
  static override readonly methodName: string = 'connectUNIX';
  /** The path connected to. */
  readonly address: string;
  /** Whether to connect only while the server holds its lock file (PATH.lock). */
  readonly checkPID: boolean;

  /** A connector to the socket at `address`. */
  constructor(reactor: SelectableReactor, address: string, factory: ClientFactory, timeout: number | null, checkPID = false) {
    super(reactor, factory, timeout);
    this.address = checkPath('connectUNIX', address);
    this.checkPID = Boolean(checkPID);
  }

  protected makeTransport(): Client {
    let client: Client | null = null;
    // Scheduled before the client's own first connect step, so that the
    // attempt fails (BadFileError) without connecting, as in Twisted.
    if (this.checkPID && !isLocked(`${this.address}.lock`)) {
      this.reactor.callLater(0, () => client?.failIfNotConnected(new BadFileError(this.address)));
    }
    client = new Client(this.reactor, this, { family: AF_UNIX, address: this.address, bindAddress: null }, unixFamily);
    return client;
  }

  /** The path, as a UNIXAddress. */
  getDestination(): IAddress {
    return new UNIXAddress(this.address);
  }
}

/** Removes what a dead server left at `path`, if it is a socket. */
function removeStaleSocket(path: string): void {
  try {
    if (statSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Nothing there, or not ours to remove: bind() will say.
  }
}
