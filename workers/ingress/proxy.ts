/**
 * The forwarding rules of the ingress, free of I/O but for the injected `fetch`: which headers
 * cross, which failures are retried, what the client sees when nothing answers. The same code
 * runs on Node, Deno and Workers; only `fetch` differs.
 */

export type FetchFn = (url: string, init: RequestInit & { duplex?: 'half' }) => Promise<Response>;

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

/** Codings every runtime's fetch decodes transparently while keeping the Content-Encoding header. */
const DECODED_CODINGS = new Set(['gzip', 'x-gzip', 'deflate', 'br']);

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

function dropHopByHop(headers: Headers): void {
  const tokens = connectionTokens(headers.get('connection'));
  const drop: string[] = [];
  for (const name of headers.keys()) if (isHopByHop(name, tokens)) drop.push(name);
  for (const name of drop) headers.delete(name);
}

export interface ForwardContext {
  /**
   * X-Forwarded-For for the endpoint: the client and the trusted proxies it came through, as
   * the control plane resolved them (http/client-address.ts); never what an untrusted client
   * wrote. Absent when the runtime does not know the client's address.
   */
  forwardedFor?: string | undefined;
  /** `http` or `https`: what the client used. */
  proto: string;
  /** The Host the client asked for, port included. */
  host: string;
}

/** The headers sent to an endpoint. */
export function upstreamHeaders(incoming: Headers, ctx: ForwardContext): Headers {
  const tokens = connectionTokens(incoming.get('connection'));
  const headers = new Headers();
  incoming.forEach((value, name) => {
    if (forwardsRequestHeader(name, tokens)) headers.append(name, value);
  });
  if (ctx.forwardedFor) headers.set('x-forwarded-for', ctx.forwardedFor);
  headers.set('x-forwarded-proto', ctx.proto);
  headers.set('x-forwarded-host', ctx.host);
  return headers;
}

/** The headers returned to the client. */
export function downstreamHeaders(upstream: Headers): Headers {
  const headers = new Headers(upstream);
  dropHopByHop(headers);
  const coding = headers.get('content-encoding');
  if (coding) {
    const codings = coding.split(',').map((c) => c.trim().toLowerCase());
    // fetch handed us the decoded body: say so, or the client would decode it a second time.
    if (codings.every((c) => DECODED_CODINGS.has(c) || c === 'identity')) {
      headers.delete('content-encoding');
      headers.delete('content-length');
    }
  }
  return headers;
}

export type ForwardOutcome =
  | { ok: true; response: Response; target: Target; attempts: number }
  | { ok: false; reason: 'unreachable' | 'aborted' | 'malformed'; attempts: number; error: unknown };

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

/**
 * Send the request to `targets[0]`; when no response comes back (refused, reset, unreachable)
 * and the method is idempotent and none of the body was read yet, once more to `targets[1]`.
 * Both bodies stream: the request's is handed to fetch as it arrives, the response's is
 * returned unread.
 */
export async function forward(
  req: Request,
  targets: readonly Target[],
  ctx: ForwardContext,
  doFetch: FetchFn,
): Promise<ForwardOutcome> {
  const url = new URL(req.url);
  const path = url.pathname + url.search;
  const headers = upstreamHeaders(req.headers, ctx);
  const method = req.method;
  const maySendBody = method !== 'GET' && method !== 'HEAD' && req.body !== null;
  const maxAttempts = IDEMPOTENT_METHODS.has(method)
    ? Math.min(2, targets.length)
    : Math.min(1, targets.length);
  // Only a retryable request pays for knowing whether fetch started reading its body.
  const body = maySendBody && req.body ? (maxAttempts > 1 ? new ReplayGuard(req.body) : req.body) : undefined;
  let error: unknown;
  let attempts = 0;
  for (const target of targets.slice(0, maxAttempts)) {
    attempts++;
    try {
      const response = await doFetch(`http://${hostPart(target.address)}:${target.port}${path}`, {
        method,
        headers,
        redirect: 'manual',
        signal: req.signal,
        ...(body
          ? { body: body instanceof ReplayGuard ? body.attempt() : body, duplex: 'half' as const }
          : {}),
      });
      return {
        ok: true,
        target,
        attempts,
        response: new Response(response.body, {
          status: response.status,
          statusText: response.statusText,
          headers: downstreamHeaders(response.headers),
        }),
      };
    } catch (e) {
      error = e;
      if (req.signal?.aborted) return { ok: false, reason: 'aborted', attempts, error };
      // The endpoint is up and answered badly: another try would not be any better (nginx does
      // not retry an invalid header by default either).
      if (isMalformedAnswer(e)) return { ok: false, reason: 'malformed', attempts, error };
      if (body instanceof ReplayGuard && body.consumed) break;
    }
  }
  return { ok: false, reason: 'unreachable', attempts, error };
}

/** IPv6 addresses go in brackets in a URL. */
export function hostPart(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

/**
 * Hands the request body to one fetch attempt after another, and knows whether any attempt
 * pulled from it: once a byte went out, the body cannot be sent again and there is no retry.
 * A failed attempt's cancellation is not passed on, so the next attempt still has the body.
 */
class ReplayGuard {
  consumed = false;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  attempt(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          this.consumed = true;
          const { done, value } = await this.reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        },
      },
      { highWaterMark: 0 },
    );
  }
}
