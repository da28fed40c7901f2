// Bad input to the servers, handlers and mix-ins: each entry point names
// itself and the bad value, in the package's 'name(): ...' form, and no
// error report (handle_error(), a task's report) throws on what it prints.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { socket } from '../src/socket';
import type { Address } from '../src/socket';
import {
  BaseRequestHandler,
  DatagramRequestHandler,
  ForkingMixIn,
  ForkingTCPServer,
  ForkingUDPServer,
  StreamRequestHandler,
  TCPServer,
  ThreadingMixIn,
  ThreadingTCPServer,
  UnixStreamServer,
} from '../src/socketserver';
import { expectNoFdLeaks } from './support';
import { AF_INET, HOST, connect } from './socketserver-support';

expectNoFdLeaks();
afterEach(() => vi.restoreAllMocks());

/** An object whose every conversion to a string throws. */
function unprintable(): object {
  return {
    toString(): string {
      throw new Error('toString failed');
    },
    [Symbol.toPrimitive](): string {
      throw new Error('toPrimitive failed');
    },
  };
}

describe('clear errors from the constructors and mix-ins', () => {
  it('ThreadingMixIn and ForkingMixIn name themselves and the value that is not a server class', () => {
    expect(() => ThreadingMixIn('x' as never)).toThrow(
      new TypeError('ThreadingMixIn(): Base must be a server class (BaseServer or a subclass), not "x"'),
    );
    expect(() => ForkingMixIn(42 as never)).toThrow(/^ForkingMixIn\(\): Base must be a server class .*not 42$/);
    expect(() => ThreadingMixIn(Object as never)).toThrow(/ThreadingMixIn\(\): .*not \[Function: Object\]/);
  });

  it('a server constructor names its class and the address that cannot be bound', () => {
    expect(() => new (UnixStreamServer as unknown as new () => object)()).toThrow(
      /^UnixStreamServer\(\): RequestHandlerClass must be a class, not undefined$/,
    );
    expect(() => new UnixStreamServer(42 as never, StreamRequestHandler)).toThrow(TypeError);
    expect(() => new UnixStreamServer(42 as never, StreamRequestHandler)).toThrow(
      /^UnixStreamServer\(\): bind\(\): .*not 42$/,
    );
    expect(() => new ThreadingTCPServer('x' as never, StreamRequestHandler)).toThrow(
      /^ThreadingTCPServer\(\): bind\(\): .*not "x"$/,
    );
  });

  it('close_request() and shutdown_request() of a stream server take a socket', () => {
    const server = new TCPServer([HOST, 0], StreamRequestHandler, false);
    try {
      expect(() => server.close_request(42 as never)).toThrow(
        new TypeError('TCPServer.close_request(): request must be a socket, not 42'),
      );
      expect(() => server.shutdown_request(undefined as never)).toThrow(
        /^TCPServer\.shutdown_request\(\): request must be a socket, not undefined$/,
      );
    } finally {
      void server.server_close();
    }
  });

  it("a forking server's process_request() and collect_children() name the request or options that will not do", async () => {
    const servers = [
      new ForkingTCPServer([HOST, 0], StreamRequestHandler, false),
      new ForkingUDPServer([HOST, 0], DatagramRequestHandler, false),
    ];
    for (const server of servers) {
      const name = server.constructor.name;
      try {
        for (const [request, shown] of [[42, '42'], ['::1', '"::1"'], [[Buffer.from('x'), '::1'], '[<Buffer of 1 bytes>, "::1"]']] as const) {
          await expect(server.process_request(request as never, [HOST, 1])).rejects.toThrow(
            new TypeError(`${name}.process_request(): request must be a socket or [data, socket], not ${shown}`),
          );
        }
        await expect(server.collect_children(null as never)).rejects.toThrow(
          new TypeError(`${name}.collect_children(): takes { blocking }, not null`),
        );
        await expect(server.collect_children({ blocking: true })).resolves.toBeUndefined();
      } finally {
        await server.server_close();
      }
    }
  });

  it("handlers: setup() checks the request, finish() before setup() says so, finish_request() checks the class's objects", async () => {
    const server = new TCPServer([HOST, 0], StreamRequestHandler, false);
    try {
      const address: Address = [HOST, 1];
      expect(() => new StreamRequestHandler(42 as never, address, server).setup()).toThrow(
        /^StreamRequestHandler\.setup\(\): request must be a socket, not 42$/,
      );
      await expect(new StreamRequestHandler(42 as never, address, server).finish()).rejects.toThrow(
        /^StreamRequestHandler\.finish\(\): setup\(\) has not run/,
      );
      expect(() => new DatagramRequestHandler([1, 2] as never, address, server).setup()).toThrow(
        /^DatagramRequestHandler\.setup\(\): request must be \[data, socket\].*not \[1, 2\]$/,
      );
      expect(() => new DatagramRequestHandler(null as never, address, server).finish()).toThrow(
        /^DatagramRequestHandler\.finish\(\): setup\(\) has not run/,
      );
      const reassigned = new TCPServer([HOST, 0], (() => {}) as never, false);
      await expect(reassigned.finish_request(null as never, address)).rejects.toThrow(
        /^TCPServer\.finish_request\(\): RequestHandlerClass must be a class, not \[Function \(anonymous\)\]$/,
      );
      await reassigned.server_close();
      const notAHandler = new TCPServer([HOST, 0], class Plain {} as never, false);
      try {
        await expect(notAHandler.finish_request(null as never, address)).rejects.toThrow(
          /^TCPServer\.finish_request\(\): RequestHandlerClass \[class Plain\] made Plain \{\}, which has no setup\(\) method$/,
        );
      } finally {
        await notAHandler.server_close();
      }
    } finally {
      await server.server_close();
    }
  });
});

describe('error reports never throw', () => {
  it('handle_error() prints a client_address and an error that cannot be converted to strings', () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const server = new TCPServer([HOST, 0], StreamRequestHandler, false);
    try {
      expect(() => server.handle_error(null as never, unprintable() as never, unprintable())).not.toThrow();
      expect(() => server.handle_error(null as never, [HOST, unprintable()] as never, 'plain')).not.toThrow();
    } finally {
      void server.server_close();
    }
    expect(written.join('')).toContain('Exception occurred during processing of request from {');
    expect(written.join('')).toContain(`('${HOST}', {`);
  });

  it('ThreadingMixIn.process_request() with an unprintable client_address: reported, no unhandled rejection', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => void rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    class Failing extends BaseRequestHandler {
      override handle(): void {
        throw new Error('the handler failed');
      }
    }
    const server = new ThreadingTCPServer([HOST, 0], Failing);
    const client = connect(AF_INET, server.server_address);
    try {
      const [request] = server.get_request();
      await server.process_request(request as socket, unprintable() as never);
      await server.server_close();
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', onRejection);
      client.close();
    }
    expect(rejections).toEqual([]);
    expect(written.join('')).toMatch(/Exception occurred during processing of request from \{[^]*the handler failed/);
  });
});
