// A port of Twisted 22.4's twisted/test/test_factories.py
// (ReconnectingFactoryTests), with Twisted's test names. The pickling cases
// have no JavaScript counterpart and are skipped, saying so.
import { describe, expect, it } from 'vitest';
import type { Failure } from '../src/twisted/failure';
import { Protocol, ReconnectingClientFactory } from '../src/twisted/protocol';
import type { IConnector } from '../src/twisted/protocol';
import { Clock } from '../src/twisted/task';
import { IPv4Address } from '../src/twisted/address';

/** A fake connector, to mock connections failed or lost. */
class FakeConnector implements IConnector {
  stopConnecting(): void {}
  connect(): void {}
  disconnect(): void {}
  getDestination(): IPv4Address {
    return new IPv4Address('TCP', '127.0.0.1', 1);
  }
}

const NO_REASON = null as unknown as Failure;

describe('ReconnectingFactoryTests', () => {
  it('test_stopTryingWhenConnected', () => {
    class NoConnectConnector extends FakeConnector {
      override stopConnecting(): void {
        throw new Error("Shouldn't be called, we're connected.");
      }
      override connect(): void {
        throw new Error("Shouldn't be reconnecting.");
      }
    }
    const c = new ReconnectingClientFactory();
    c.protocol = Protocol;
    // Let's pretend we've connected:
    c.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 1));
    // Now we stop trying, then disconnect:
    c.stopTrying();
    c.clientConnectionLost(new NoConnectConnector(), NO_REASON);
    expect(c.continueTrying).toBe(false);
  });

  it('test_stopTryingDoesNotReconnect', () => {
    const f = new ReconnectingClientFactory();
    const clock = new Clock();
    f.clock = clock;
    class FactoryAwareFakeConnector extends FakeConnector {
      attemptedRetry = false;
      override stopConnecting(): void {
        f.clientConnectionFailed(this, NO_REASON);
      }
      override connect(): void {
        this.attemptedRetry = true;
      }
    }
    const connector = new FactoryAwareFakeConnector();
    f.connector = connector;
    f.stopTrying();
    expect(connector.attemptedRetry).toBe(false);
    expect(clock.getDelayedCalls()).toEqual([]);
  });

  it.skip('test_serializeUnused: pickling has no JavaScript counterpart', () => {});
  it.skip('test_serializeWithClock: pickling has no JavaScript counterpart', () => {});
  it.skip('test_deserializationResetsParameters: pickling has no JavaScript counterpart', () => {});

  it('test_parametrizedClock', () => {
    const clock = new Clock();
    const factory = new ReconnectingClientFactory();
    factory.clock = clock;
    factory.clientConnectionLost(new FakeConnector(), NO_REASON);
    expect(clock.calls.length).toBe(1);
  });
});
