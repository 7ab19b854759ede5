import type { ApiResult, Problem, StreamResult } from './types.ts';

/**
 * The JSON API client of the dashboard. The token lives in sessionStorage (this tab only, gone
 * when the tab closes) and travels only in the Authorization header, never in a URL.
 * Every call resolves to a result value: failures become a Problem (problem+json when the server
 * sent one), so views render errors instead of throwing.
 *
 * Self-contained: served to the browser as `(${createApi})(apiBase)`.
 */
export function createApi(apiBase: string) {
  const KEY = 'berth.token';
  let memoryToken: string | null = null;

  function token(): string | null {
    try {
      return sessionStorage.getItem(KEY) ?? memoryToken;
    } catch {
      // Storage can be disabled by browser policy; keep the token for this page only.
      return memoryToken;
    }
  }

  function setToken(t: string): void {
    memoryToken = t;
    try {
      sessionStorage.setItem(KEY, t);
    } catch {
      /* memory only */
    }
  }

  function clearToken(): void {
    memoryToken = null;
    try {
      sessionStorage.removeItem(KEY);
    } catch {
      /* nothing stored */
    }
  }

  function asProblem(status: number, body: unknown, fallbackTitle: string): Problem {
    if (body && typeof body === 'object') {
      const b = body as Record<string, unknown>;
      const errors = Array.isArray(b.errors)
        ? b.errors.map((e) => {
            const o = (e ?? {}) as Record<string, unknown>;
            return {
              path: typeof o.path === 'string' ? o.path : '',
              message: typeof o.message === 'string' ? o.message : String(o.message ?? ''),
            };
          })
        : undefined;
      return {
        title: typeof b.title === 'string' ? b.title : fallbackTitle,
        status: typeof b.status === 'number' ? b.status : status,
        detail:
          typeof b.detail === 'string' ? b.detail : typeof b.message === 'string' ? b.message : undefined,
        code: typeof b.code === 'string' ? b.code : undefined,
        requestId: typeof b.requestId === 'string' ? b.requestId : undefined,
        errors,
      };
    }
    return {
      title: fallbackTitle,
      status,
      detail: typeof body === 'string' && body.trim() ? body.trim().slice(0, 500) : undefined,
    };
  }

  const STATUS_TITLES: Record<number, string> = {
    400: 'Bad request',
    401: 'Not signed in',
    403: 'Not allowed',
    404: 'Not found',
    409: 'Conflict',
    413: 'Too large',
    415: 'Unsupported media type',
    422: 'Invalid request',
    429: 'Too many requests',
    500: 'Server error',
    502: 'Bad gateway',
    503: 'Service unavailable',
    504: 'Gateway timeout',
  };

  function headersFor(accept: string, json: boolean): Record<string, string> {
    const headers: Record<string, string> = { Accept: accept };
    const t = token();
    if (t) headers.Authorization = `Bearer ${t}`;
    if (json) headers['Content-Type'] = 'application/json';
    return headers;
  }

  function unreached(timedOut: boolean): Problem {
    return {
      title: timedOut ? 'Request timed out' : 'Network error',
      status: 0,
      detail: timedOut
        ? 'The server did not answer within 20 seconds.'
        : 'The control plane could not be reached.',
    };
  }

  async function read(res: Response): Promise<unknown> {
    const text = await res.text().catch(() => '');
    const type = res.headers.get('content-type') ?? '';
    if (/json/i.test(type) || /^\s*[{[]/.test(text)) {
      try {
        return text ? JSON.parse(text) : null;
      } catch {
        return text;
      }
    }
    return text;
  }

  const refusal = (res: Response, parsed: unknown) =>
    asProblem(res.status, parsed, STATUS_TITLES[res.status] ?? `HTTP ${res.status}`);

  async function request<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
    const headers = headersFor('application/json, application/problem+json', body !== undefined);
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 20_000);
    let res: Response;
    try {
      res = await fetch(apiBase + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
        signal: ctl.signal,
      });
    } catch (err) {
      clearTimeout(timer);
      return {
        ok: false,
        status: 0,
        problem: unreached(err instanceof DOMException && err.name === 'AbortError'),
      };
    }
    const parsed = await read(res);
    clearTimeout(timer);
    if (res.ok) return { ok: true, status: res.status, data: parsed as T, headers: res.headers };
    return { ok: false, status: res.status, problem: refusal(res, parsed), headers: res.headers };
  }

  /**
   * A GET whose body is read as it arrives (a log follow), sent as every other call is. The
   * 20 seconds are for the headers only: a stream lasts until the server ends it or `signal`
   * aborts it, which also cancels the body being read.
   */
  async function stream(path: string, signal: AbortSignal): Promise<StreamResult> {
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, 20_000);
    const stop = () => ctl.abort();
    signal.addEventListener('abort', stop, { once: true });
    let res: Response;
    try {
      res = await fetch(apiBase + path, {
        method: 'GET',
        headers: headersFor('text/plain, application/json, application/problem+json', false),
        cache: 'no-store',
        credentials: 'omit',
        signal: ctl.signal,
      });
    } catch {
      signal.removeEventListener('abort', stop);
      return { ok: false, status: 0, problem: unreached(timedOut), timedOut };
    } finally {
      clearTimeout(timer);
    }
    if (res.ok && res.body) return { ok: true, status: res.status, body: res.body, headers: res.headers };
    signal.removeEventListener('abort', stop);
    return { ok: false, status: res.status, problem: refusal(res, await read(res)) };
  }

  return {
    token,
    setToken,
    clearToken,
    get: <T>(path: string) => request<T>('GET', path),
    post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
    put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
    del: <T>(path: string) => request<T>('DELETE', path),
    stream,
  };
}

export type Api = ReturnType<typeof createApi>;
