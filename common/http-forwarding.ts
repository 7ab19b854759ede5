/**
 * What an HTTP proxy of Berth's forwards, on every runtime: which headers cross in each direction,
 * which methods may be tried on a second endpoint, and which failures mean the endpoint answered
 * with something that is not HTTP. Pure; the control plane's ingress (fetch on the edge, node:http
 * on Node) and a node's own ingress (berth-agent) forward by these same rules.
 */

export interface Target {
  address: string;
  port: number;
}

/** Methods that may be sent twice (RFC 9110 §9.2.2): a failed attempt is retried on another endpoint. */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** Meaningful for one connection only (RFC 9110 §7.6.1), never forwarded in either direction. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
]);

/** Request headers the proxy replaces or that the client of the endpoint must set itself. */
const NOT_FORWARDED: ReadonlySet<string> = new Set([
  // The endpoint's address makes the Host; the client's is passed as X-Forwarded-Host.
  'host',
  // The server in front already answered `100 Continue`; fetch refuses to send Expect.
  'expect',
  // Set by this proxy alone: a client cannot claim another address, scheme or host.
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);

/** Header names listed in a Connection header: hop-by-hop too. */
export function connectionTokens(value: string | null | undefined): ReadonlySet<string> {
  if (!value) return EMPTY;
  return new Set(value.split(',').map((t) => t.trim().toLowerCase()));
}
const EMPTY: ReadonlySet<string> = new Set();

/** `name` lower-cased. Applies to requests and responses alike. */
export function isHopByHop(name: string, tokens: ReadonlySet<string>): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-') || tokens.has(name);
}

/** Whether a client's request header (lower-cased name) is passed on to the endpoint. */
export function forwardsRequestHeader(name: string, tokens: ReadonlySet<string>): boolean {
  return !isHopByHop(name, tokens) && !NOT_FORWARDED.has(name);
}

/**
 * Whether an error is the HTTP parser refusing what an endpoint sent, found on the error or its
 * causes: llhttp's `HPE_*` codes (Node), hyper's "invalid HTTP ... parsed" (Deno's fetch). The
 * endpoint answered, with something that is not HTTP.
 */
export function isMalformedAnswer(error: unknown): boolean {
  let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined;
  for (let i = 0; e && i < 5; i++) {
    if (typeof e.code === 'string' && e.code.startsWith('HPE_')) return true;
    if (typeof e.message === 'string' && HYPER_PARSE_ERROR.test(e.message)) return true;
    e = e.cause as typeof e;
  }
  return false;
}
const HYPER_PARSE_ERROR = /\(SendRequest\): (invalid HTTP [a-z -]+ parsed|message head is too large)/;

/** IPv6 addresses go in brackets in a URL. */
export function hostPart(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}
