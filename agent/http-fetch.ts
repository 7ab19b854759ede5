import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * The subset of `fetch` the API client uses, over node:http. Node's global fetch (undici) costs
 * about 8 MB of resident memory once loaded, an eighth of the agent's budget; node:http is
 * already in the process. Any real `fetch` can be given to ApiClient instead.
 */
export const httpFetch: typeof fetch = (input, init) => {
  const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  const signal = init?.signal ?? undefined;
  const headers: Record<string, string> = {};
  new Headers(init?.headers).forEach((v, k) => {
    headers[k] = v;
  });
  const body = typeof init?.body === 'string' ? init.body : undefined;
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: init?.method ?? 'GET',
      headers,
    });
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
          resolve(toResponse(res, buf));
        },
        (e: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(new TypeError('fetch failed', { cause: e }));
        },
      );
    });
    req.end(body);
  });
};

function collect(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('end', () => resolve(Buffer.concat(chunks)));
    res.once('error', reject);
    res.once('aborted', () => reject(new Error('response aborted')));
  });
}

/** A Response-shaped object: status, headers.get, text(), json(), body.cancel(). */
function toResponse(res: IncomingMessage, buf: Buffer): Response {
  const status = res.statusCode ?? 0;
  const text = () => Promise.resolve(buf.toString('utf8'));
  const r = {
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
    body: { cancel: () => Promise.resolve() },
  };
  return r as unknown as Response;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException('This operation was aborted', 'AbortError');
}
