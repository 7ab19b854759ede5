import { describe, expect, it } from 'vitest';
import { errorChain } from './error-chain.ts';

describe('errorChain', () => {
  it('shows every cause, with codes and a marker for an empty message', () => {
    const inner = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const outer = new Error('Failed query: select 1', { cause: new Error('', { cause: inner }) });
    expect(errorChain(outer)).toBe(
      'Error: Failed query: select 1\ncaused by: Error: (no message)\ncaused by: Error ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5432',
    );
  });

  it('keeps the outer stack when asked, and prints what is not an Error', () => {
    expect(errorChain(new Error('x'), true)).toMatch(/^Error: x\n\s+at /);
    expect(errorChain('plain')).toBe('plain');
  });
});
