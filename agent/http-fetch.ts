import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { RequestOptions as HttpsOptions, request as httpsRequestType } from 'node:https';

/** What the API client sends: the part of `RequestInit` it uses. */
export interface HttpInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** What the API client reads: the part of `Response` it uses. */
export interface HttpAnswer {
  status: number;
  ok: boolean;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
}

/** A `fetch`-shaped function; the global `fetch` is one, so tests and other runtimes can pass it. */
export type HttpFetch = (url: string, init?: HttpInit) => Promise<HttpAnswer>;

/** How an https server's certificate is checked: extra trusted CAs, the name it must carry. */
export interface TlsCheck {
  ca?: string;
  servername?: string;
}

/**
 * The agent's `fetch`, over node:http. Node's global fetch and its Headers and Response
 * classes load undici, about 12 MB of resident memory (a fifth of the agent's budget), so
 * nothing here touches them; node:https (3.5 MB) loads only for an https server.
 */
export const httpFetch: HttpFetch = (input, init) => fetchWith(undefined, input, init);

/** `httpFetch` checking an https server's certificate as `tls` says (always checked, never skipped). */
export function httpFetchWith(tls: TlsCheck): HttpFetch {
  let options: Promise<HttpsOptions> | undefined;
  return async (input, init) => {
    options ??= import('node:tls').then(({ rootCertificates }) => ({
      ...(tls.ca ? { ca: [...rootCertificates, tls.ca] } : {}),
      ...(tls.servername ? { servername: tls.servername } : {}),
    }));
    return fetchWith(await options, input, init);
  };
}

async function fetchWith(
  tls: HttpsOptions | undefined,
  input: string,
  init: HttpInit = {},
): Promise<HttpAnswer> {
  const url = new URL(input);
  const { signal, body } = init;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = v;
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  const send = url.protocol === 'https:' ? await httpsRequest() : httpRequest;
  return new Promise<HttpAnswer>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const req = send(url, {
      method: init.method ?? 'GET',
      headers,
      ...(url.protocol === 'https:' ? tls : {}),
    } satisfies HttpsOptions);
    const onAbort = () => req.destroy(abortError(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('error', (e) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new TypeError('fetch failed', { cause: e }));
    });
    req.once('response', (res) => {
      collect(res).then(
        (buf) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(toAnswer(res, buf));
        },
        (e: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(new TypeError('fetch failed', { cause: e }));
        },
      );
    });
    req.end(body);
  });
}

let https: Promise<typeof httpsRequestType> | undefined;
function httpsRequest(): Promise<typeof httpsRequestType> {
  https ??= import('node:https').then((m) => m.request);
  return https;
}

function collect(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('end', () => resolve(Buffer.concat(chunks)));
    res.once('error', reject);
    res.once('aborted', () => reject(new Error('response aborted')));
  });
}

function toAnswer(res: IncomingMessage, buf: Buffer): HttpAnswer {
  const status = res.statusCode ?? 0;
  const text = () => Promise.resolve(buf.toString('utf8'));
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: {
      get: (name: string) => {
        const v = res.headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
      },
    },
    text,
    json: async () => JSON.parse(await text()) as unknown,
  };
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException('This operation was aborted', 'AbortError');
}
