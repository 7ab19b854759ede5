import type { DnsProvider, DnsRecordHandle } from './dns-provider.ts';

/** Cloudflare's v4 API, where BERTH_CLOUDFLARE_API_URL does not say otherwise. */
export const CLOUDFLARE_API = 'https://api.cloudflare.com/client/v4';

/** Any one call to Cloudflare: an order waits on these, and its lease is finite. */
const TIMEOUT_MS = 15_000;

export interface CloudflareOptions {
  /** An API token with Zone:DNS:Edit on the zones of the hosts ordered. */
  apiToken: string;
  apiUrl?: string;
  fetch?: typeof fetch;
}

/** Cloudflare's envelope around every answer. */
interface Envelope<T> {
  success?: boolean;
  errors?: { code?: number; message?: string }[];
  result?: T;
}

/**
 * DNS-01 records through Cloudflare's v4 API with a bearer token: the zone is the longest suffix
 * of the record's name that the token sees as a zone (`GET /zones?name=`), so a record under a
 * delegated subzone lands in that subzone. Cloudflare's own error messages and codes become the
 * error's text, which an order's failure (and its CertificateFailed event) carries.
 */
export function cloudflareDns(o: CloudflareOptions): DnsProvider {
  const base = (o.apiUrl ?? CLOUDFLARE_API).replace(/\/+$/, '');
  const fetchImpl = o.fetch ?? ((input, init) => fetch(input, init));

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetchImpl(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${o.apiToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (e) {
      throw new Error(`Cloudflare: ${method} ${path.split('?')[0]} failed: ${(e as Error).message}`);
    }
    const envelope = (await res.json().catch(() => undefined)) as Envelope<T> | undefined;
    if (!envelope || typeof envelope !== 'object')
      throw new Error(
        `Cloudflare: ${method} ${path.split('?')[0]} answered ${res.status} without a JSON body`,
      );
    if (!res.ok || envelope.success !== true) {
      const errors = (envelope.errors ?? [])
        .map((e) => `${e.message ?? 'error'}${e.code === undefined ? '' : ` (code ${e.code})`}`)
        .join('; ');
      throw new Error(`Cloudflare: ${errors || `${method} ${path.split('?')[0]} answered ${res.status}`}`);
    }
    return envelope.result as T;
  }

  /** The zone holding `fqdn`: its longest suffix of two labels or more that is a zone. */
  async function zoneOf(fqdn: string): Promise<string> {
    const labels = fqdn.split('.');
    for (let i = 0; i <= labels.length - 2; i++) {
      const name = labels.slice(i).join('.');
      const zones = await call<{ id: string; name: string }[]>(
        'GET',
        `/zones?name=${encodeURIComponent(name)}`,
      );
      const zone = zones?.find((z) => z.name === name);
      if (zone) return zone.id;
    }
    throw new Error(`Cloudflare: no zone holds ${fqdn} (or the token may not edit its DNS)`);
  }

  return {
    name: 'Cloudflare',
    async present(fqdn, value) {
      const zoneId = await zoneOf(fqdn);
      const record = await call<{ id: string }>('POST', `/zones/${zoneId}/dns_records`, {
        type: 'TXT',
        name: fqdn,
        content: value,
        ttl: 60,
      });
      return { fqdn, id: `${zoneId}/${record.id}` };
    },
    async cleanup(handle: DnsRecordHandle) {
      const [zoneId, recordId] = handle.id.split('/');
      await call('DELETE', `/zones/${zoneId}/dns_records/${recordId}`);
    },
  };
}
