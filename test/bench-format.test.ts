// The bench's table formatting: one unit per column, and no value in it
// rounded away to zero.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: the bench is plain JavaScript, with no type declarations
import { usColumn } from '../bench/lib/common.mjs';

type Format = (us: number | null) => string;

describe('usColumn()', () => {
  it('writes a column in us while its largest value is under 10 ms', () => {
    const f: Format = usColumn([2.46, 121, 9999]);
    expect([2.46, 12.34, 121, 9999].map(f)).toEqual(['2.46 us', '12.3 us', '121 us', '9999 us']);
  });

  it('writes a column in ms once its largest value reaches 10 ms', () => {
    const f: Format = usColumn([2.44, 2440, 12200]);
    expect([2440, 12200].map(f)).toEqual(['2.44 ms', '12.2 ms']);
  });

  it('keeps three significant digits of a value far below the column unit, instead of 0.00', () => {
    const f: Format = usColumn([2.46, 2440, 12200]);
    expect(f(2.46)).toBe('0.00246 ms');
    expect(f(0)).toBe('0.00 ms');
  });

  it('writes n/a for a missing value', () => {
    const f: Format = usColumn([1, null]);
    expect([null, Number.NaN].map(f)).toEqual(['n/a', 'n/a']);
  });
});
