// Test doubles for the twisted tests, after Twisted's own
// (twisted.internet.testing): a transport that records what is written, and
// one that also delivers connectionLost() when it is closed; and the real
// reactor run for the tests of a file or a describe block.
import { Buffer } from 'node:buffer';
import { afterAll, beforeAll } from 'vitest';
import { IPv4Address } from '../src/twisted/address';
import { ConnectionDone } from '../src/twisted/error';
import { Failure } from '../src/twisted/failure';
import type { IProducer, Protocol } from '../src/twisted/protocol';

/** A transport that keeps what is written; loseConnection() only sets disconnecting. */
export class StringTransport {
  disconnecting = false;
  connected = true;
  aborted = false;
  producer: IProducer | null = null;
  streaming: boolean | null = null;
  producerState: 'producing' | 'paused' | 'stopped' = 'producing';
  /** Whether registerProducer() asks a pull producer for data, as protocol.FileWrapper does. */
  pullOnRegister = false;
  protocol: Protocol | null = null;
  private chunks: Buffer[] = [];

  constructor(
    readonly hostAddress = new IPv4Address('TCP', '10.0.0.1', 12345),
    readonly peerAddress = new IPv4Address('TCP', '192.168.1.1', 54321),
  ) {}

  value(): Buffer {
    return Buffer.concat(this.chunks);
  }

  clear(): void {
    this.chunks = [];
  }

  write(data: Uint8Array): void {
    if (!(data instanceof Uint8Array)) throw new TypeError('Data must be bytes');
    this.chunks.push(Buffer.from(data));
  }

  writeSequence(data: Uint8Array[]): void {
    for (const d of data) this.write(d);
  }

  loseConnection(): void {
    this.disconnecting = true;
  }

  abortConnection(): void {
    this.aborted = true;
    this.loseConnection();
  }

  getPeer(): IPv4Address {
    return this.peerAddress;
  }

  getHost(): IPv4Address {
    return this.hostAddress;
  }

  registerProducer(producer: IProducer, streaming: boolean): void {
    if (this.producer !== null) throw new Error('Cannot register two producers');
    this.producer = producer;
    this.streaming = streaming;
    if (this.pullOnRegister && !streaming) producer.resumeProducing();
  }

  unregisterProducer(): void {
    if (this.producer === null) throw new Error('Cannot unregister a producer unless one is registered');
    this.producer = null;
    this.streaming = null;
  }

  pauseProducing(): void {
    if (this.producerState === 'stopped') throw new Error('Cannot pause a stopped producer');
    this.producerState = 'paused';
  }

  resumeProducing(): void {
    if (this.producerState === 'stopped') throw new Error('Cannot resume a stopped producer');
    this.producerState = 'producing';
  }

  stopProducing(): void {
    this.producerState = 'stopped';
    this.loseConnection();
  }
}

/** A StringTransport whose loseConnection() tells the protocol at once, with ConnectionDone. */
export class StringTransportWithDisconnection extends StringTransport {
  override loseConnection(): void {
    if (this.connected) {
      this.connected = false;
      this.disconnecting = true;
      this.protocol?.connectionLost(new Failure(new ConnectionDone()));
    }
  }
}

/** Bytes of an ASCII string. */
export function b(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** Splits data into chunks of size n, as the ported tests feed a protocol (the last one may be empty). */
export function chunks(data: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < Math.floor(data.length / n) + 1; i++) out.push(data.subarray(i * n, (i + 1) * n));
  return out;
}

/**
 * Runs `reactor` for the tests of the file (or describe block) that calls
 * this, as Twisted's trial does: run() before the first, stop() after the
 * last, waiting for its shutdown.
 */
export function runReactorForTests(reactor: { run(): Promise<void>; stop(): void }): void {
  let running: Promise<void>;
  beforeAll(() => {
    running = reactor.run();
  });
  afterAll(async () => {
    reactor.stop();
    await running;
  });
}
