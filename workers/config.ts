import { z } from 'zod';
import type { Cidr } from '../common/ip-address.ts';
import { LOG_LEVELS, type LogLevel } from '../common/logger.ts';
import { zodFieldErrors } from '../common/manifest.ts';
import { parseCidrList } from './auth/node-address.ts';
import { DEFAULT_OIDC_AUDIENCE, GITHUB_ACTIONS_ISSUER, parseIssuerList } from './auth/oidc-issuers.ts';
import { CLOUDFLARE_API } from './certificates/cloudflare-dns.ts';
import type { DnsConfig } from './certificates/dns-provider.ts';
import { parseTrustedProxies, type TrustedProxies } from './http/client-address.ts';
import {
  blocksOverlap,
  DEFAULT_ENDPOINT_CIDR,
  DEFAULT_NODE_PORT_RANGE,
  DEFAULT_SERVICE_CIDR,
  type PortRange,
  parseIpv4Block,
  parsePortRange,
} from './kinds/service-addresses.ts';

const ipv4Block = z.string().transform((text, ctx) => {
  const block = parseIpv4Block(text);
  if (typeof block === 'string') {
    ctx.addIssue({ code: 'custom', message: block });
    return z.NEVER;
  }
  return block;
});

/**
 * Control-plane configuration, parsed once per process from whatever the runtime offers
 * (process.env on Node, Deno.env, Worker bindings). Nothing else reads the environment, but for
 * DOCKER_HOST, which npm start's local agent reads as every Docker client does.
 */
const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().max(255).default('0.0.0.0'),
  BERTH_LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  BERTH_LOCAL_AGENT: z.enum(['auto', '0', '1']).default('auto'),
  BERTH_TLS_CERT_FILE: z.string().max(4096).optional(),
  BERTH_TLS_KEY_FILE: z.string().max(4096).optional(),
  BERTH_ACME: z.enum(['auto', '0', '1']).default('auto'),
  BERTH_ACME_EMAIL: z.email().max(254).optional(),
  BERTH_ACME_DIRECTORY: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .optional(),
  BERTH_ACME_STAGING: z.enum(['0', '1']).default('0'),
  BERTH_ACME_CA_FILE: z.string().max(4096).optional(),
  BERTH_ACME_CHALLENGE: z.enum(['http-01', 'dns-01']).default('http-01'),
  BERTH_DNS_PROVIDER: z.enum(['cloudflare']).optional(),
  BERTH_CLOUDFLARE_API_TOKEN: z.string().max(1024).optional(),
  BERTH_CLOUDFLARE_API_URL: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .default(CLOUDFLARE_API),
  // An order gives up after 90 s (acme-issuer.ts), well within its lease: the wait must fit in it.
  BERTH_DNS_PROPAGATION_SECONDS: z.coerce.number().int().min(0).max(60).default(20),
  BERTH_HTTP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  BERTH_HTTP_HOST: z.string().max(255).optional(),
  BERTH_HSTS_SECONDS: z.coerce.number().int().min(0).max(63_072_000).optional(),
  BERTH_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  BERTH_SECRET_KEY: z
    .string()
    .refine((v) => {
      try {
        return atob(v).length === 32;
      } catch {
        return false;
      }
    }, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)')
    .optional(),
  BERTH_NODE_GRACE_SECONDS: z.coerce.number().int().min(1).max(86400).default(30),
  BERTH_NODE_LOST_SECONDS: z.coerce.number().int().min(1).max(86400).default(60),
  BERTH_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(2000),
  BERTH_POLL_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(300).default(10),
  BERTH_LONG_POLL_MAX_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  BERTH_RECONCILE_BATCH: z.coerce.number().int().min(1).max(100_000).default(200),
  BERTH_TRUSTED_PROXIES: z
    .string()
    .transform((text, ctx) => {
      try {
        return parseTrustedProxies(text);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    })
    .optional(),
  BERTH_PUBLIC_URL: z
    .string()
    .refine((v) => {
      try {
        return ['http:', 'https:'].includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, 'must be the http(s) URL users and agents reach the API by, e.g. https://berth.example.com')
    .optional(),
  BERTH_PEER_URL: z
    .string()
    .refine((v) => {
      try {
        const u = new URL(v);
        return ['http:', 'https:'].includes(u.protocol) && (u.pathname === '/' || u.pathname === '');
      } catch {
        return false;
      }
    }, 'must be the http(s) URL other copies reach this one by, without a path, e.g. http://10.0.0.5:8080')
    .optional(),
  BERTH_API_HOSTS: z
    .string()
    .transform((text, ctx) => {
      const hosts = text
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean);
      for (const h of hosts)
        if (!API_HOST.test(h))
          ctx.addIssue({ code: 'custom', message: `"${h}" is not a host name (or *.suffix)` });
      return hosts;
    })
    .optional(),
  BERTH_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  BERTH_SERVICE_CIDR: ipv4Block.prefault(DEFAULT_SERVICE_CIDR),
  BERTH_ENDPOINT_CIDR: ipv4Block.prefault(DEFAULT_ENDPOINT_CIDR),
  BERTH_NODE_PORT_RANGE: z
    .string()
    .transform((text, ctx) => {
      const range = parsePortRange(text);
      if (typeof range === 'string') {
        ctx.addIssue({ code: 'custom', message: range });
        return z.NEVER;
      }
      return range;
    })
    .optional(),
  BERTH_NODE_ADDRESS_CIDRS: z
    .string()
    .transform((text, ctx) => {
      const { cidrs, bad } = parseCidrList(text);
      for (const b of bad)
        ctx.addIssue({ code: 'custom', message: `"${b}" is not a CIDR block (like 10.0.0.0/8 or fd00::/8)` });
      return cidrs;
    })
    .optional(),
  BERTH_OIDC_ISSUERS: z
    .string()
    .transform((text, ctx) => {
      const { issuers, bad } = parseIssuerList(text);
      for (const b of bad) ctx.addIssue({ code: 'custom', message: b });
      return issuers;
    })
    .optional(),
  BERTH_OIDC_AUDIENCE: z.string().min(1).max(512).default(DEFAULT_OIDC_AUDIENCE),
});

/** A host name, or `*.suffix` for every name under a suffix. */
const API_HOST = /^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Names that reach every control plane on its own machine: never a Service's. */
const LOCAL_API_HOSTS = ['localhost', '*.localhost'];

export interface ControlPlaneConfig {
  /** Where Node and Deno listen (PORT, HOST); Workers are given their port. */
  port: number;
  host: string;
  /** BERTH_LOG_LEVEL: the one logger's level, for the control plane and npm start's agent alike. */
  logLevel: LogLevel;
  /** BERTH_LOCAL_AGENT: npm start also runs an agent for this machine (auto: when Docker answers). */
  localAgent: 'auto' | '0' | '1';
  /**
   * BERTH_TLS_CERT_FILE and BERTH_TLS_KEY_FILE: Node and Deno serve HTTPS with them (PEM; the
   * certificate file may hold the chain). Workers are served TLS by Cloudflare.
   */
  tls: TlsFiles | undefined;
  /**
   * Certificates ordered through ACME for every Service and Ingress host (and the public URL's
   * host without BERTH_TLS_CERT_FILE): on with BERTH_ACME_EMAIL or BERTH_ACME=1, Node only.
   */
  acme: AcmeConfig | undefined;
  /**
   * The plain HTTP listener beside HTTPS (BERTH_HTTP_PORT, on BERTH_HTTP_HOST or HOST): ACME's
   * HTTP-01 answers and the redirects to HTTPS. Port 80 when ACME is on, else only when set.
   */
  httpListener: { port: number; host: string } | undefined;
  /**
   * Whether this process serves certificates per host by SNI (Ingresses' `tls` Secrets): Node's
   * HTTPS server, set by its entry; false elsewhere, where such an Ingress is refused.
   */
  hostCertificates: boolean;
  /** BERTH_HSTS_SECONDS: Strict-Transport-Security max-age on HTTPS answers for hosts with a certificate. */
  hstsSeconds: number | undefined;
  /** SHA-256 of the bootstrap admin token (never the token itself). */
  adminTokenHash: string | null;
  /** 32-byte key for secrets at rest, base64; absent: secrets cannot be written. */
  secretKey: string | undefined;
  nodeGraceSeconds: number;
  nodeLostSeconds: number;
  reconcileIntervalMs: number;
  /** What agents are told to wait between polls when the server cannot hold a long-poll. */
  pollIntervalSeconds: number;
  /** Longest long-poll this runtime holds; 0 means answer at once (Workers). */
  longPollMaxSeconds: number;
  /** Deployments reconciled per tick at most; the rest wait for the next tick. */
  reconcileBatch: number;
  /**
   * Peers whose X-Forwarded-For is believed (BERTH_TRUSTED_PROXIES). Empty: the client is the
   * connection's peer, whatever the request's headers claim.
   */
  trustedProxies: TrustedProxies;
  /**
   * The API's own host names (BERTH_PUBLIC_URL's host, BERTH_API_HOSTS, localhost, and what the
   * runtime adds: the machine's name on Node, `*.workers.dev` on Workers). Configuration, never
   * taken from a request: no Service may claim one, and the ingress never routes one.
   */
  apiHosts: readonly string[];
  /** BERTH_PUBLIC_URL without a trailing slash, when set. */
  publicUrl: string | undefined;
  /**
   * BERTH_PEER_URL: where the other copies reach this one (a private address), so that an agent's
   * exec stream arriving at another copy is passed on to the copy holding kubectl's. Unset: streams
   * meet only when both reach the same copy.
   */
  peerUrl: string | undefined;
  /** SHA-256 of BERTH_METRICS_TOKEN; null: /metrics is open to anyone who can reach it. */
  metricsTokenHash: string | null;
  /**
   * Blocks a node's reported address must fall in (BERTH_NODE_ADDRESS_CIDRS); empty: any IP
   * address outside the refused ranges (link-local, metadata services; see auth/node-address.ts).
   */
  nodeAddressCidrs: readonly Cidr[];
  /** BERTH_SERVICE_CIDR: the IPv4 block services' cluster IPs come from (`10.96.0.0/12`). */
  serviceCidr: string;
  /** BERTH_NODE_PORT_RANGE: the ports NodePort and LoadBalancer services are given on every node. */
  nodePortRange: PortRange;
  /** BERTH_ENDPOINT_CIDR: where agents take node-local addresses for headless services' endpoints. */
  endpointCidr: string;
  /**
   * BERTH_OIDC_ISSUERS: the OpenID Connect issuers whose identity tokens POST /v1/tokens/exchange
   * verifies (GitHub Actions' by default); BERTH_OIDC_AUDIENCE: the `aud` they must carry.
   */
  oidc: { issuers: readonly string[]; audience: string };
}

/** Let's Encrypt's directories: production by default, staging by BERTH_ACME_STAGING=1. */
export const LETS_ENCRYPT = 'https://acme-v02.api.letsencrypt.org/directory';
export const LETS_ENCRYPT_STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory';

export interface AcmeConfig {
  /** Any RFC 8555 directory (BERTH_ACME_DIRECTORY). */
  directoryUrl: string;
  email: string | undefined;
  /** PEM bundle the directory's HTTPS certificate is verified against (a private CA). */
  caFile: string | undefined;
  /**
   * BERTH_ACME_CHALLENGE: how exact hosts are validated: HTTP-01 on the plain listener, or DNS-01
   * through `dns` (for hosts whose port 80 the CA cannot reach). Wildcards always use DNS-01.
   */
  challenge: 'http-01' | 'dns-01';
  /** BERTH_DNS_PROVIDER and its settings: DNS-01, and with it wildcard hosts; absent: neither. */
  dns: DnsConfig | undefined;
}

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export class ConfigError extends Error {}

export async function parseConfig(
  env: Record<string, string | undefined>,
  overrides: Partial<ControlPlaneConfig> = {},
  /** Host names the runtime itself answers to (see `apiHosts`). */
  runtimeApiHosts: readonly string[] = [],
): Promise<ControlPlaneConfig> {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = Env.safeParse(clean);
  if (!parsed.success) {
    const lines = zodFieldErrors(parsed.error).map((i) => `  ${i.path}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  // Agents route both blocks on each node: an address in both would mean two things.
  if (blocksOverlap(e.BERTH_SERVICE_CIDR, e.BERTH_ENDPOINT_CIDR))
    throw new ConfigError(
      `invalid configuration:\n  BERTH_ENDPOINT_CIDR: ${e.BERTH_ENDPOINT_CIDR.text} overlaps BERTH_SERVICE_CIDR ${e.BERTH_SERVICE_CIDR.text}; choose blocks that share no address`,
    );
  if (Boolean(e.BERTH_TLS_CERT_FILE) !== Boolean(e.BERTH_TLS_KEY_FILE))
    throw new ConfigError(
      `invalid configuration:\n  ${e.BERTH_TLS_CERT_FILE ? 'BERTH_TLS_KEY_FILE' : 'BERTH_TLS_CERT_FILE'}: HTTPS needs both BERTH_TLS_CERT_FILE and BERTH_TLS_KEY_FILE`,
    );
  if (e.BERTH_ACME_DIRECTORY && e.BERTH_ACME_STAGING === '1')
    throw new ConfigError(
      'invalid configuration:\n  BERTH_ACME_STAGING: set either BERTH_ACME_DIRECTORY or BERTH_ACME_STAGING=1, not both',
    );
  if (e.BERTH_DNS_PROVIDER === 'cloudflare' && !e.BERTH_CLOUDFLARE_API_TOKEN)
    throw new ConfigError(
      'invalid configuration:\n  BERTH_CLOUDFLARE_API_TOKEN: BERTH_DNS_PROVIDER=cloudflare needs an API token with Zone:DNS:Edit',
    );
  if (e.BERTH_ACME_CHALLENGE === 'dns-01' && !e.BERTH_DNS_PROVIDER)
    throw new ConfigError(
      'invalid configuration:\n  BERTH_ACME_CHALLENGE: dns-01 needs a DNS provider (BERTH_DNS_PROVIDER)',
    );
  const acmeOn = e.BERTH_ACME === '1' || (e.BERTH_ACME === 'auto' && Boolean(e.BERTH_ACME_EMAIL));
  const { sha256Hex } = await import('./crypto.ts');
  // Every agent call is its heartbeat. A long-poll held, or a pause between polls, longer than
  // the grace period would have the controller declare a healthy, idle node NotReady (then Lost,
  // and its replicas replaced): agents are made to call at least twice per grace period.
  const beat = Math.max(1, Math.floor(e.BERTH_NODE_GRACE_SECONDS / 2));
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.BERTH_LOG_LEVEL,
    localAgent: e.BERTH_LOCAL_AGENT,
    tls:
      e.BERTH_TLS_CERT_FILE && e.BERTH_TLS_KEY_FILE
        ? { certFile: e.BERTH_TLS_CERT_FILE, keyFile: e.BERTH_TLS_KEY_FILE }
        : undefined,
    acme: acmeOn
      ? {
          directoryUrl:
            e.BERTH_ACME_DIRECTORY ?? (e.BERTH_ACME_STAGING === '1' ? LETS_ENCRYPT_STAGING : LETS_ENCRYPT),
          email: e.BERTH_ACME_EMAIL,
          caFile: e.BERTH_ACME_CA_FILE,
          challenge: e.BERTH_ACME_CHALLENGE,
          dns:
            e.BERTH_DNS_PROVIDER === 'cloudflare' && e.BERTH_CLOUDFLARE_API_TOKEN
              ? {
                  provider: 'cloudflare',
                  apiToken: e.BERTH_CLOUDFLARE_API_TOKEN,
                  apiUrl: e.BERTH_CLOUDFLARE_API_URL,
                  propagationSeconds: e.BERTH_DNS_PROPAGATION_SECONDS,
                }
              : undefined,
        }
      : undefined,
    httpListener:
      e.BERTH_HTTP_PORT !== undefined || acmeOn
        ? { port: e.BERTH_HTTP_PORT ?? 80, host: e.BERTH_HTTP_HOST ?? e.HOST }
        : undefined,
    hstsSeconds: e.BERTH_HSTS_SECONDS,
    hostCertificates: false,
    adminTokenHash: e.BERTH_ADMIN_TOKEN ? await sha256Hex(e.BERTH_ADMIN_TOKEN) : null,
    secretKey: e.BERTH_SECRET_KEY,
    nodeGraceSeconds: e.BERTH_NODE_GRACE_SECONDS,
    nodeLostSeconds: e.BERTH_NODE_LOST_SECONDS,
    reconcileIntervalMs: e.BERTH_RECONCILE_INTERVAL_MS,
    pollIntervalSeconds: Math.min(e.BERTH_POLL_INTERVAL_SECONDS, beat),
    longPollMaxSeconds: Math.min(e.BERTH_LONG_POLL_MAX_SECONDS, beat),
    reconcileBatch: e.BERTH_RECONCILE_BATCH,
    trustedProxies: e.BERTH_TRUSTED_PROXIES ?? [],
    apiHosts: [
      ...new Set([
        ...(e.BERTH_PUBLIC_URL ? [new URL(e.BERTH_PUBLIC_URL).hostname.toLowerCase()] : []),
        ...(e.BERTH_API_HOSTS ?? []),
        ...LOCAL_API_HOSTS,
        ...runtimeApiHosts.map((h) => h.toLowerCase()).filter((h) => API_HOST.test(h)),
      ]),
    ],
    publicUrl: e.BERTH_PUBLIC_URL?.replace(/\/+$/, ''),
    peerUrl: e.BERTH_PEER_URL?.replace(/\/+$/, ''),
    metricsTokenHash: e.BERTH_METRICS_TOKEN ? await sha256Hex(e.BERTH_METRICS_TOKEN) : null,
    nodeAddressCidrs: e.BERTH_NODE_ADDRESS_CIDRS ?? [],
    serviceCidr: e.BERTH_SERVICE_CIDR.text,
    nodePortRange: e.BERTH_NODE_PORT_RANGE ?? DEFAULT_NODE_PORT_RANGE,
    endpointCidr: e.BERTH_ENDPOINT_CIDR.text,
    oidc: { issuers: e.BERTH_OIDC_ISSUERS ?? [GITHUB_ACTIONS_ISSUER], audience: e.BERTH_OIDC_AUDIENCE },
    ...overrides,
  };
}
