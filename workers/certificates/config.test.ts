import { describe, expect, it } from 'vitest';
import { ConfigError, LETS_ENCRYPT, LETS_ENCRYPT_STAGING, parseConfig } from '../config.ts';

describe('ACME configuration', () => {
  it('is off by default, so a local npm start stays plain', async () => {
    const c = await parseConfig({});
    expect(c.acme).toBeUndefined();
    expect(c.httpListener).toBeUndefined();
    expect(c.hstsSeconds).toBeUndefined();
  });

  it("an email turns it on: Let's Encrypt production, plain HTTP on port 80", async () => {
    const c = await parseConfig({ BERTH_ACME_EMAIL: 'ops@example.com', HOST: '10.0.0.5' });
    expect(c.acme).toEqual({ directoryUrl: LETS_ENCRYPT, email: 'ops@example.com', caFile: undefined });
    expect(c.httpListener).toEqual({ port: 80, host: '10.0.0.5' });
  });

  it('takes staging, any directory with a CA bundle, or an explicit on and off', async () => {
    expect((await parseConfig({ BERTH_ACME: '1', BERTH_ACME_STAGING: '1' })).acme?.directoryUrl).toBe(
      LETS_ENCRYPT_STAGING,
    );
    const own = await parseConfig({
      BERTH_ACME: '1',
      BERTH_ACME_DIRECTORY: 'https://ca.internal:14000/dir',
      BERTH_ACME_CA_FILE: '/etc/berth/ca.pem',
      BERTH_HTTP_PORT: '8080',
      BERTH_HTTP_HOST: '127.0.0.1',
    });
    expect(own.acme).toEqual({
      directoryUrl: 'https://ca.internal:14000/dir',
      email: undefined,
      caFile: '/etc/berth/ca.pem',
    });
    expect(own.httpListener).toEqual({ port: 8080, host: '127.0.0.1' });
    expect(
      (await parseConfig({ BERTH_ACME: '0', BERTH_ACME_EMAIL: 'ops@example.com' })).acme,
    ).toBeUndefined();
  });

  it('refuses what it cannot use, naming the variable', async () => {
    await expect(
      parseConfig({ BERTH_ACME_STAGING: '1', BERTH_ACME_DIRECTORY: 'https://ca.example.com/dir' }),
    ).rejects.toThrow(/BERTH_ACME_STAGING/);
    await expect(parseConfig({ BERTH_ACME_EMAIL: 'not-an-email' })).rejects.toThrow(/BERTH_ACME_EMAIL/);
    await expect(parseConfig({ BERTH_ACME_DIRECTORY: 'ftp://ca.example.com' })).rejects.toThrow(ConfigError);
  });
});
