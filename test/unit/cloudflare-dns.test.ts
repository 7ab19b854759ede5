import { afterEach, describe, expect, it } from 'vitest';
import { cloudflareDns } from '../../workers/certificates/cloudflare-dns.ts';
import { challengeRecordName } from '../../workers/certificates/dns-provider.ts';
import { type CloudflareStub, startCloudflareStub } from '../support/cloudflare-stub.ts';

/** The Cloudflare DNS provider against a stub of Cloudflare's v4 API (no DNS server behind it). */
describe('Cloudflare DNS provider', () => {
  let stub: CloudflareStub | undefined;
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });
  const start = async (zones: string[]) => {
    stub = await startCloudflareStub({ token: 'good-token', zones });
    return stub;
  };

  it('names the TXT record of a host and of a wildcard alike', () => {
    expect(challengeRecordName('apps.example.com')).toBe('_acme-challenge.apps.example.com');
    expect(challengeRecordName('*.apps.example.com')).toBe('_acme-challenge.apps.example.com');
  });

  it('finds the zone by walking up the labels, adds the record there, and removes exactly it', async () => {
    const s = await start(['example.com', 'other.org']);
    const dns = cloudflareDns({ apiToken: 'good-token', apiUrl: s.url });
    const first = await dns.present('_acme-challenge.apps.example.com', 'digest-1');
    const second = await dns.present('_acme-challenge.apps.example.com', 'digest-2');
    expect([...s.records.values()].map((r) => [r.name, r.content, r.ttl])).toEqual([
      ['_acme-challenge.apps.example.com', 'digest-1', 60],
      ['_acme-challenge.apps.example.com', 'digest-2', 60],
    ]);
    // The longest names first, until one is a zone.
    expect(s.calls.slice(0, 4).map((c) => c.path)).toEqual([
      '/client/v4/zones?name=_acme-challenge.apps.example.com',
      '/client/v4/zones?name=apps.example.com',
      '/client/v4/zones?name=example.com',
      expect.stringMatching(/^\/client\/v4\/zones\/[^/]+\/dns_records$/),
    ]);
    await dns.cleanup(first);
    expect([...s.records.values()].map((r) => r.content)).toEqual(['digest-2']);
    await dns.cleanup(second);
    expect(s.records.size).toBe(0);
  });

  it('takes the most specific zone when a subdomain is a zone of its own', async () => {
    const s = await start(['example.com', 'apps.example.com']);
    const dns = cloudflareDns({ apiToken: 'good-token', apiUrl: `${s.url}/` });
    await dns.present('_acme-challenge.apps.example.com', 'v');
    const zoneOfRecord = [...s.records.values()][0]!.zoneId;
    const zones = await (
      await fetch(`${s.url}/zones?name=apps.example.com`, { headers: { authorization: 'Bearer good-token' } })
    ).json();
    expect(zoneOfRecord).toBe(zones.result[0].id);
  });

  it("fails with Cloudflare's own message and code", async () => {
    const s = await start(['example.com']);
    const revoked = cloudflareDns({ apiToken: 'revoked-token', apiUrl: s.url });
    await expect(revoked.present('_acme-challenge.example.com', 'v')).rejects.toThrow(
      'Cloudflare: Invalid access token (code 9109)',
    );
    const dns = cloudflareDns({ apiToken: 'good-token', apiUrl: s.url });
    await expect(dns.present('_acme-challenge.shop.example.net', 'v')).rejects.toThrow(
      /^Cloudflare: no zone holds _acme-challenge\.shop\.example\.net/,
    );
    await expect(dns.cleanup({ fqdn: '_acme-challenge.example.com', id: 'nozone/norecord' })).rejects.toThrow(
      'Cloudflare: Could not route to this path (code 7003)',
    );
    expect(s.records.size).toBe(0);
  });

  it('says which call failed when the API cannot be reached or answers no JSON', async () => {
    const down = cloudflareDns({ apiToken: 't', apiUrl: 'http://127.0.0.1:1/client/v4' });
    await expect(down.present('_acme-challenge.example.com', 'v')).rejects.toThrow(
      /^Cloudflare: GET \/zones failed: /,
    );
    const html = cloudflareDns({
      apiToken: 't',
      fetch: async () => new Response('<html>bad gateway</html>', { status: 502 }),
    });
    await expect(html.present('_acme-challenge.example.com', 'v')).rejects.toThrow(
      'Cloudflare: GET /zones answered 502 without a JSON body',
    );
  });
});
