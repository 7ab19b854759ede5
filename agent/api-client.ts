import {
  AcmeChallengeAnswer,
  AssignmentsResponse,
  type LogAnswer,
  NodeCertificates,
  type RegisterRequest,
  RegisterResponse,
  type StatusReport,
  USAGE_INTERVAL_HEADER,
} from '../common/agent-protocol.ts';
import { type HttpAnswer, type HttpFetch, httpFetch } from './http-fetch.ts';

/** An HTTP answer other than success; status 0 means the server was not reached at all. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Seconds, from Retry-After. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Worth retrying later: unreachable, 5xx, 429 or 408. */
  get transient(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429 || this.status === 408;
  }
}

export type CertificatesResult =
  | { kind: 'unchanged' }
  | { kind: 'changed'; etag: string | undefined; body: NodeCertificates };

export type AssignmentsResult = (
  | { kind: 'unchanged' }
  | { kind: 'changed'; etag: string | undefined; body: AssignmentsResponse }
) & {
  /** The usage sampling interval the server asks for (USAGE_INTERVAL_HEADER); absent: none wanted. */
  usageIntervalSeconds?: number;
};

/**
 * How long any request may take beyond what the server was asked to wait. Every request has
 * one, whatever signal the caller passes: behind a network that drops packets without a reset,
 * a request without a deadline waits for the kernel to give up (minutes; forever on a connection
 * the server accepted and never answers), and the loop that sent it waits with it.
 */
export const REQUEST_TIMEOUT_MS = 15_000;

/** The agent's side of API.md "Agent protocol", over fetch. */
export class ApiClient {
  constructor(
    private readonly server: string,
    private readonly userAgent: string,
    private readonly fetchImpl: HttpFetch = httpFetch,
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
  ) {}

  /** With a join token in `req`, or the node's own `credential` to update what it reports. */
  async register(req: RegisterRequest, signal?: AbortSignal, credential?: string): Promise<RegisterResponse> {
    const res = await this.call('POST', '/v1/agent/register', {
      body: req,
      signal,
      ...(credential ? { token: credential } : {}),
    });
    return RegisterResponse.parse(await res.json());
  }

  async assignments(
    token: string,
    etag: string | undefined,
    waitSeconds: number,
    signal?: AbortSignal,
  ): Promise<AssignmentsResult> {
    const res = await this.call('GET', `/v1/agent/assignments?wait=${waitSeconds}`, {
      token,
      signal,
      waitMs: waitSeconds * 1000,
      headers: etag ? { 'if-none-match': etag } : {},
    });
    const usage = Number(res.headers.get(USAGE_INTERVAL_HEADER));
    const usageIntervalSeconds = Number.isFinite(usage) && usage > 0 ? { usageIntervalSeconds: usage } : {};
    if (res.status === 304) {
      await res.text();
      return { kind: 'unchanged', ...usageIntervalSeconds };
    }
    const json: unknown = await res.json();
    const parsed = AssignmentsResponse.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ApiError(
        res.status,
        `assignments response is malformed at ${issue?.path.join('.')}: ${issue?.message}`,
      );
    }
    return {
      kind: 'changed',
      etag: res.headers.get('etag') ?? undefined,
      body: parsed.data,
      ...usageIntervalSeconds,
    };
  }

  async status(token: string, report: StatusReport, signal?: AbortSignal): Promise<void> {
    const res = await this.call('POST', '/v1/agent/status', { token, body: report, signal });
    await res.text();
  }

  /** The volumes of these released claims are gone from this node. */
  async releasedClaims(token: string, uids: string[], signal?: AbortSignal): Promise<void> {
    const res = await this.call('POST', '/v1/agent/released-claims', { token, body: { uids }, signal });
    await res.text();
  }

  async logs(token: string, answer: LogAnswer, signal?: AbortSignal): Promise<void> {
    const res = await this.call('POST', '/v1/agent/logs', { token, body: answer, signal });
    await res.text();
  }

  /** The pairs the node's HTTPS ingress serves (304: the set `etag` names is still current). */
  async certificates(
    token: string,
    etag: string | undefined,
    signal?: AbortSignal,
  ): Promise<CertificatesResult> {
    const res = await this.call('GET', '/v1/agent/certificates', {
      token,
      signal,
      headers: etag ? { 'if-none-match': etag } : {},
    });
    if (res.status === 304) {
      await res.text();
      return { kind: 'unchanged' };
    }
    const parsed = NodeCertificates.safeParse(await res.json());
    if (!parsed.success)
      throw new ApiError(
        res.status,
        `certificates response is malformed: ${parsed.error.issues[0]?.message}`,
      );
    return { kind: 'changed', etag: res.headers.get('etag') ?? undefined, body: parsed.data };
  }

  /** The HTTP-01 answer for a token; undefined when the control plane has none. */
  async acmeChallenge(token: string, challenge: string, signal?: AbortSignal): Promise<string | undefined> {
    try {
      const res = await this.call('GET', `/v1/agent/acme-challenges/${encodeURIComponent(challenge)}`, {
        token,
        signal,
      });
      return AcmeChallengeAnswer.parse(await res.json()).keyAuthorization;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  private async call(
    method: string,
    path: string,
    o: {
      token?: string;
      body?: unknown;
      signal?: AbortSignal | undefined;
      headers?: Record<string, string>;
      /** How long the server may hold the request on purpose (a long-poll). */
      waitMs?: number;
    },
  ): Promise<HttpAnswer> {
    const headers: Record<string, string> = {
      'user-agent': this.userAgent,
      accept: 'application/json',
      ...o.headers,
    };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    let res: HttpAnswer;
    try {
      res = await this.fetchImpl(`${this.server}${path}`, {
        method,
        headers,
        ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
        signal: withDeadline(o.signal, (o.waitMs ?? 0) + this.timeoutMs),
      });
    } catch (e) {
      const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
      throw new ApiError(0, `${method} ${path}: ${e instanceof Error ? e.message : String(e)}${cause}`);
    }
    if (res.status < 400) return res;
    let detail = '';
    try {
      const text = await res.text();
      try {
        const p = JSON.parse(text) as { detail?: string; title?: string };
        detail = p.detail ?? p.title ?? text;
      } catch {
        detail = text;
      }
    } catch {
      // body unreadable: the status says enough
    }
    const ra = Number(res.headers.get('retry-after'));
    throw new ApiError(
      res.status,
      `${method} ${path}: HTTP ${res.status}${detail ? ` ${detail.slice(0, 500)}` : ''}`,
      Number.isFinite(ra) && ra > 0 ? ra : undefined,
    );
  }
}

function withDeadline(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const deadline = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, deadline]) : deadline;
}
