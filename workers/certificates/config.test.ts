import { describe, expect, it } from 'vitest';
import { ConfigError, LETS_ENCRYPT, LETS_ENCRYPT_STAGING, parseConfig } from '../config.ts';
import { CLOUDFLARE_API } from './cloudflare-dns.ts';

describe('ACME configuration', () => {
  it('is off by default, so a local npm start stays plain', async () => {
    const c = await parseConfig({});
    expect(c.acme).toBeUndefined();
    expect(c.httpListener).toBeUndefined();
    expect(c.hstsSeconds).toBeUndefined();
  });

  it("an email turns it on: Let's Encrypt production, plain HTTP on port 80", async () => {
    const c = await parseConfig({ BERTH_ACME_EMAIL: 'ops@example.com', HOST: '10.0.0.5' });
    expect(c.acme).toEqual({
      directoryUrl: LETS_ENCRYPT,
      email: 'ops@example.com',
      caFile: undefined,
      challenge: 'http-01',
      dns: undefined,
    });
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
      challenge: 'http-01',
      dns: undefined,
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

  it('takes a Cloudflare DNS provider for DNS-01 and wildcards, with a propagation wait', async () => {
    const c = await parseConfig({
      BERTH_ACME_EMAIL: 'ops@example.com',
      BERTH_DNS_PROVIDER: 'cloudflare',
      BERTH_CLOUDFLARE_API_TOKEN: 'cf-token',
    });
    expect(c.acme?.challenge).toBe('http-01');
    expect(c.acme?.dns).toEqual({
      provider: 'cloudflare',
      apiToken: 'cf-token',
      apiUrl: CLOUDFLARE_API,
      propagationSeconds: 20,
    });
    const own = await parseConfig({
      BERTH_ACME_EMAIL: 'ops@example.com',
      BERTH_ACME_CHALLENGE: 'dns-01',
      BERTH_DNS_PROVIDER: 'cloudflare',
      BERTH_CLOUDFLARE_API_TOKEN: 'cf-token',
      BERTH_CLOUDFLARE_API_URL: 'http://127.0.0.1:9999/client/v4',
      BERTH_DNS_PROPAGATION_SECONDS: '0',
    });
    expect(own.acme?.challenge).toBe('dns-01');
    expect(own.acme?.dns).toMatchObject({ apiUrl: 'http://127.0.0.1:9999/client/v4', propagationSeconds: 0 });
  });

  it('refuses a DNS provider it cannot use, naming the variable', async () => {
    const acme = { BERTH_ACME_EMAIL: 'ops@example.com' };
    await expect(parseConfig({ ...acme, BERTH_DNS_PROVIDER: 'cloudflare' })).rejects.toThrow(
      /BERTH_CLOUDFLARE_API_TOKEN/,
    );
    await expect(parseConfig({ ...acme, BERTH_DNS_PROVIDER: 'cloudflare' })).rejects.toThrow(ConfigError);
    await expect(parseConfig({ ...acme, BERTH_ACME_CHALLENGE: 'dns-01' })).rejects.toThrow(
      /BERTH_ACME_CHALLENGE/,
    );
    await expect(parseConfig({ ...acme, BERTH_DNS_PROVIDER: 'route53' })).rejects.toThrow(
      /BERTH_DNS_PROVIDER/,
    );
    await expect(
      parseConfig({
        ...acme,
        BERTH_DNS_PROVIDER: 'cloudflare',
        BERTH_CLOUDFLARE_API_TOKEN: 't',
        BERTH_DNS_PROPAGATION_SECONDS: '600',
      }),
    ).rejects.toThrow(/BERTH_DNS_PROPAGATION_SECONDS/);
    await expect(parseConfig({ ...acme, BERTH_ACME_CHALLENGE: 'tls-alpn-01' })).rejects.toThrow(
      /BERTH_ACME_CHALLENGE/,
    );
  });
});
