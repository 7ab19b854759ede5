/**
 * Where ACME's DNS-01 answers are published: a TXT record at `_acme-challenge.<domain>` holding
 * the challenge's digest, present while the CA validates and removed after. Wildcard hosts can
 * only be validated this way. One implementation per DNS host's API (cloudflare-dns.ts); adding
 * one is a module with this interface, a BERTH_DNS_PROVIDER value with its settings (config.ts)
 * and a case in workers/nodejs/certificate-serving.ts. No node: import: fetch only.
 */
export interface DnsProvider {
  /** Names the provider in errors ("Cloudflare: ..."). */
  readonly name: string;
  /**
   * Adds a TXT record `fqdn` (`_acme-challenge.apps.example.com`, no trailing dot) with `value`,
   * beside any others of that name (a wildcard and its apex are validated with two values at
   * once). Resolves once the provider's API accepted it; publication to its name servers may
   * take longer (see DnsConfig.propagationSeconds).
   */
  present(fqdn: string, value: string): Promise<DnsRecordHandle>;
  /** Removes exactly the record `present` added. */
  cleanup(handle: DnsRecordHandle): Promise<void>;
}

/** What `cleanup` needs to find the record again: opaque to everything but its provider. */
export interface DnsRecordHandle {
  readonly fqdn: string;
  readonly id: string;
}

/** The DNS provider settings (BERTH_DNS_PROVIDER and its own variables); see workers/config.ts. */
export interface DnsConfig {
  provider: 'cloudflare';
  apiToken: string;
  apiUrl: string;
  /** How long a new record is given to reach the provider's name servers before the CA looks. */
  propagationSeconds: number;
}

/** The TXT record name DNS-01 validates a host with: a wildcard's is its base domain's. */
export function challengeRecordName(host: string): string {
  return `_acme-challenge.${host.replace(/^\*\./, '')}`;
}
