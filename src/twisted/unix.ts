// UNIX stream sockets: listenUNIX() and connectUNIX(), the TCP classes
// with UNIX addresses. As in Twisted, a port removes its socket file when
// it stops listening (abstract names, "\0...", have none).
import { chmodSync, unlinkSync } from 'node:fs';
import { AF_UNIX, socket } from '../socket';
import type { Address } from '../socket';
import { UNIXAddress, type IAddress } from './address';
import { describe } from './describe';
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

  /** A port on `path`; startListening() opens it. */
  constructor(reactor: SelectableReactor, path: string, factory: Factory, backlog: number, mode: number) {
    super(reactor, checkPath('listenUNIX', path), factory, backlog, '');
    if (!Number.isInteger(mode)) throw new TypeError(`listenUNIX(): mode must be an integer, not ${describe(mode)}`);
    this.mode = mode;
  }

  protected override listenSpec(): ListenSpec {
    return { family: AF_UNIX, bindAddress: this.port as string };
  }

  protected override prepareSocket(_sock: socket): void {}

  /** Binds, then gives the file its mode. */
  override startListening(): void {
    super.startListening();
    if (this.inFilesystem()) chmodSync(this.port as string, this.mode);
  }

  protected override boundLabel(): string {
    return this.port as string;
  }

  protected override afterClose(): void {
    if (!this.inFilesystem()) return;
    try {
      unlinkSync(this.port as string);
    } catch {
      // Already gone.
    }
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

  /** A connector to the socket at `address`. */
  constructor(reactor: SelectableReactor, address: string, factory: ClientFactory, timeout: number | null) {
    super(reactor, factory, timeout);
    this.address = checkPath('connectUNIX', address);
  }

  protected makeTransport(): Client {
    return new Client(this.reactor, this, { family: AF_UNIX, address: this.address, bindAddress: null }, unixFamily);
  }

  /** The path, as a UNIXAddress. */
  getDestination(): IAddress {
    return new UNIXAddress(this.address);
  }
}
