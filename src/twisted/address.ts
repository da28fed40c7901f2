// twisted.internet.address: what getHost() and getPeer() return, and what
// Factory.buildProtocol() is given.
import { textOf } from './describe';

/** An IPv4 endpoint: type 'TCP' or 'UDP', a dotted-quad host and a port. */
export class IPv4Address {
  /** Makes the address. */
  constructor(
    /** 'TCP' or 'UDP'. */
    readonly type: 'TCP' | 'UDP',
    /** The host, as a dotted quad. */
    readonly host: string,
    /** The port number. */
    readonly port: number,
  ) {}

  /** "IPv4Address(type='TCP', host='127.0.0.1', port=8000)", as Twisted shows it. */
  toString(): string {
    return `${this.constructor.name}(type='${textOf(this.type)}', host='${textOf(this.host)}', port=${textOf(this.port)})`;
  }

  /** Whether `other` is the same kind of address with the same fields. */
  equals(other: unknown): boolean {
    return (
      other instanceof IPv4Address &&
      other.constructor === this.constructor &&
      other.type === this.type &&
      other.host === this.host &&
      other.port === this.port
    );
  }
}

/** An IPv6 endpoint: as IPv4Address, with the flow info and scope id. */
export class IPv6Address extends IPv4Address {
  /** Makes the address. */
  constructor(
    type: 'TCP' | 'UDP',
    host: string,
    port: number,
    /** The IPv6 flow info. */
    readonly flowInfo = 0,
    /** The IPv6 scope id. */
    readonly scopeID: number | string = 0,
  ) {
    super(type, host, port);
  }
}

/** A UNIX socket endpoint: its path, or null for an unnamed socket. */
export class UNIXAddress {
  /** Makes the address. */
  constructor(
    /** The path (a leading "\0" for the abstract namespace), or null. */
    readonly name: string | null,
  ) {}

  /** "UNIXAddress('/path')". */
  toString(): string {
    return this.name === null ? 'UNIXAddress(None)' : `UNIXAddress('${textOf(this.name)}')`;
  }

  /** Whether `other` is a UNIXAddress with the same name. */
  equals(other: unknown): boolean {
    return other instanceof UNIXAddress && other.name === this.name;
  }
}

/** Any address a transport reports. */
export type IAddress = IPv4Address | IPv6Address | UNIXAddress;
