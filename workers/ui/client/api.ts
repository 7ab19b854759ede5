import type { ApiResult, Problem } from './types.ts';

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

  async function request<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
    const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' };
    const t = token();
    if (t) headers.Authorization = `Bearer ${t}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
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
      const aborted = err instanceof DOMException && err.name === 'AbortError';
      return {
        ok: false,
        status: 0,
        problem: {
          title: aborted ? 'Request timed out' : 'Network error',
          status: 0,
          detail: aborted
            ? 'The server did not answer within 20 seconds.'
            : 'The control plane could not be reached.',
        },
      };
    }
    const text = await res.text().catch(() => '');
    clearTimeout(timer);
    const type = res.headers.get('content-type') ?? '';
    let parsed: unknown = text;
    if (/json/i.test(type) || /^\s*[{[]/.test(text)) {
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = text;
      }
    }
    if (res.ok) return { ok: true, status: res.status, data: parsed as T, headers: res.headers };
    return {
      ok: false,
      status: res.status,
      problem: asProblem(res.status, parsed, STATUS_TITLES[res.status] ?? `HTTP ${res.status}`),
      headers: res.headers,
    };
  }

  return {
    token,
    setToken,
    clearToken,
    get: <T>(path: string) => request<T>('GET', path),
    post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
    put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
    del: <T>(path: string) => request<T>('DELETE', path),
  };
}

export type Api = ReturnType<typeof createApi>;
