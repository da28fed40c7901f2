// The one address type: what the socket methods take and return, what the
// addon hands back, and what a dispatcher keeps in `addr`.

/**
 * An address as Python writes it: [host, port] for AF_INET, [host, port,
 * flowinfo?, scope_id?] for AF_INET6, a path for AF_UNIX ("\0name" is an
 * abstract name; a Uint8Array path is taken as raw bytes).
 */
export type Address =
  | [host: string, port: number]
  | [host: string, port: number, flowinfo?: number, scope_id?: number]
  | string;
