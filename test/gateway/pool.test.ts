import { describe, expect, it } from 'vitest';
import { AddressBook } from '../../src/gateway/pool.js';

const POOLS = [
  { name: 'a', text: '10.0.0.0/29', first: '10.0.0.1', last: '10.0.0.6' },
  { name: 'b', text: '10.1.0.5-10.1.0.6', first: '10.1.0.5', last: '10.1.0.6' },
];

describe('AddressBook', () => {
  it('hands out each address once, skipping reserved ones, until the pool is empty', () => {
    const book = new AddressBook(POOLS, ['10.0.0.1', '10.0.0.3']);
    expect(book.free('a')).toBe(4);
    const got = ['s1', 's2', 's3', 's4'].map((s) => book.lease('a', s));
    expect(got).toEqual(['10.0.0.2', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    expect(book.lease('a', 's5')).toBeNull();
    expect(book.free('a')).toBe(0);
    book.release('10.0.0.4', 's2');
    expect(book.lease('a', 's6')).toBe('10.0.0.4');
  });

  it('gives a wanted address when free and in the pool, else another', () => {
    const book = new AddressBook(POOLS);
    expect(book.lease('b', 's1', '10.1.0.6')).toBe('10.1.0.6');
    expect(book.lease('b', 's2', '10.1.0.6')).toBe('10.1.0.5');
    expect(book.lease('a', 's3', '10.1.0.5')).toBe('10.0.0.1');
  });

  it('does not reuse a released address at once (round robin)', () => {
    const book = new AddressBook(POOLS);
    const x = book.lease('a', 's1')!;
    book.release(x, 's1');
    expect(book.lease('a', 's2')).not.toBe(x);
  });

  it('only the owner releases; a fixed address is claimed once', () => {
    const book = new AddressBook(POOLS);
    const x = book.lease('a', 's1')!;
    book.release(x, 'intruder');
    expect(book.owner(x)).toBe('s1');
    expect(book.claim('10.0.0.3', 'alice-1')).toBe(true);
    expect(book.claim('10.0.0.3', 'alice-2')).toBe(false);
    expect(book.free('a')).toBe(4);
    book.release('10.0.0.3', 'alice-1');
    expect(book.claim('10.0.0.3', 'alice-2')).toBe(true);
    expect(book.size).toBe(2);
  });
});
