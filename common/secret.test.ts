import { describe, expect, it } from 'vitest';
import { zodFieldErrors } from './manifest.ts';
import { SecretInput } from './secret.ts';

describe('SecretInput', () => {
  it('defaults to an opaque secret', () => {
    expect(SecretInput.parse({ metadata: { name: 'db' }, data: { password: 'x' } })).toMatchObject({
      type: 'opaque',
      data: { password: 'x' },
    });
  });

  it('takes a registry secret with exactly server, username and password', () => {
    const data = { server: 'registry.example.com', username: 'u', password: 'p' };
    expect(SecretInput.parse({ type: 'registry', data }).data).toEqual(data);
    const missing = SecretInput.safeParse({
      type: 'registry',
      data: { server: 's', username: 'u', password: '' },
    });
    expect(zodFieldErrors(missing.error!)).toEqual([
      { path: 'data.password', message: 'is required for a registry secret (server, username, password)' },
    ]);
  });

  it('rejects a value that is not a string and an unknown type', () => {
    const result = SecretInput.safeParse({ type: 'tls', data: { a: 1 } });
    expect(zodFieldErrors(result.error!).map((e) => e.path)).toEqual(['type', 'data.a']);
  });
});
