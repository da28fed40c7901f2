// The addon's own argument checks (native/binding/args.h). The TypeScript
// layer validates every public argument first; these are the backstop that
// keeps a wrong internal call from crashing the process or reading the wrong
// memory, so each must throw a TypeError that names the argument.
import { describe, expect, it } from 'vitest';
import { binding } from '../src/binding';

type Loose = (...args: unknown[]) => unknown;
const call = (name: keyof typeof binding, ...args: unknown[]): unknown => (binding[name] as unknown as Loose)(...args);

describe('native argument checks', () => {
  it('a number argument given something else is a TypeError naming its index', () => {
    expect(() => call('dup', 'three')).toThrow(new TypeError('argument 0 must be a number'));
    expect(() => call('dup')).toThrow(new TypeError('argument 0 must be a number'));
    expect(() => call('send', 0, Buffer.alloc(1), {}, 0)).toThrow(new TypeError('argument 2 must be a number'));
    expect(() => call('recv', 0, Buffer.alloc(1), 0, null)).toThrow(new TypeError('argument 3 must be a number'));
  });

  it('a bytes argument must be a Uint8Array: other typed arrays, DataViews and arrays are refused', () => {
    for (const bad of [new Int32Array(4), new Uint16Array(2), new DataView(new ArrayBuffer(4)), [1, 2], 'ab', undefined]) {
      expect(() => call('send', 0, bad, 0, 0)).toThrow(new TypeError('argument 1 must be a Uint8Array'));
      expect(() => call('recv', 0, bad, 0, 0)).toThrow(new TypeError('argument 1 must be a Uint8Array'));
      expect(() => call('write', 0, bad)).toThrow(new TypeError('argument 1 must be a Uint8Array'));
    }
  });

  it('a Uint8Array view is read at its own offset and length', () => {
    const out = new Int32Array(2);
    expect(binding.pipe(out)).toBe(0);
    const [r, w] = [out[0]!, out[1]!];
    try {
      const backing = Buffer.from('..hello..');
      expect(binding.write(w, new Uint8Array(backing.buffer, backing.byteOffset + 2, 5))).toBe(5);
      const target = Buffer.alloc(16, 0x2d);
      expect(binding.read(r, target.subarray(3, 13))).toBe(5);
      expect(target.toString('latin1')).toBe('---hello--------');
    } finally {
      binding.close(r);
      binding.close(w);
    }
  });
});
