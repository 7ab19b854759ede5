import type { ExecutionContext } from 'hono';
import { createLogger } from '../../common/logger.ts';
import { openNeonDatabase } from '../../db/neon-database.ts';
import { FailureLimiter } from '../auth/failure-limiter.ts';
import { IdentityTokenVerifier } from '../auth/identity-tokens.ts';
import { ConfigError } from '../config.ts';
import { shortId } from '../crypto.ts';
import { ApiError, problemResponse } from '../http/errors.ts';
import { type EdgeSettings, edgeSettings } from '../runtime/edge-settings.ts';
import { execMeetings, meetExec } from '../runtime/exec-meeting.ts';
import { newExecPreflightSecret } from '../runtime/exec-upgrade.ts';
import { buildPlane, createPlaneApp } from '../runtime/plane.ts';
import { ServiceMapCache } from '../verbs/service-map.ts';

/**
 * The Cloudflare Workers entry: configuration from bindings and secrets, Postgres through the
 * Neon driver, a cron trigger as the reconcile safety net.
 *
 * A Worker may not carry I/O objects (the driver's WebSockets) from one request to another, so
 * each request and each cron invocation opens its own small pool and closes it once the
 * response and every `waitUntil` it started (the reconcile right after a write) are done.
 * Building the app per request costs about a millisecond of CPU; it keeps every request's
 * dependencies to itself, which is what makes sharing nothing across requests safe.
 */
/** Plain memory, no I/O: safe to share across the requests of an isolate, as the app is not. */
const failureLimiter = new FailureLimiter();
/** Finished key sets only (see auth/identity-tokens.ts): safe across the requests of an isolate. */
const identityTokens = new IdentityTokenVerifier();
/** Finished service maps only: requests of one isolate may not await each other's I/O. */
const serviceMaps = new ServiceMapCache(false);
/** The isolate's exec preflight secret; made on the first request (no random values at start-up). */
let execPreflight: string | undefined;

/** `kubectl exec` streams meet in this Durable Object (runtime/exec-meeting.ts). */
export { ExecMeeting } from '../runtime/exec-meeting.ts';

/**
 * A body still being written when the response starts (a watch, `logs -f`) reads the database as
 * it goes: the request's pool is closed only once the body has ended (or the client went away).
 */
function poolHeldWhileStreaming(response: Response, background: Promise<unknown>[]): Response {
  if (!response.body || response.status === 101) return response;
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  background.push(response.body.pipeTo(writable).catch(() => {}));
  return new Response(readable, response);
}

export default {
  async fetch(request: Request, env: object, ctx: ExecutionContext): Promise<Response> {
    const settings = await settingsOr500(env);
    if (settings instanceof Response) return settings;
    const handle = openNeonDatabase(settings.databaseUrl, {
      webSocketProxy: settings.webSocketProxy,
      maxConnections: 4,
    });
    const background: Promise<unknown>[] = [];
    const scoped: ExecutionContext = {
      waitUntil: (p) => {
        background.push(p);
      },
      passThroughOnException: () => ctx.passThroughOnException(),
      props: ctx.props,
    };
    const { app, deps } = createPlaneApp({
      runtime: 'workers',
      config: settings.config,
      handle,
      clientAddress: (c) => c.req.header('cf-connecting-ip'),
      failureLimiter,
      identityTokens,
      serviceMaps,
    });
    const meetings = execMeetings(env);
    // Without the binding, the exec routes say this Worker cannot hold the streams.
    if (meetings) deps.execPreflight = execPreflight ??= newExecPreflightSecret();
    try {
      if (meetings) {
        const met = await meetExec(request, deps, meetings, (r) => app.fetch(r, env, scoped));
        if (met) return met;
      }
      return poolHeldWhileStreaming(await app.fetch(request, env, scoped), background);
    } finally {
      ctx.waitUntil(Promise.allSettled(background).then(() => handle.close().catch(() => {})));
    }
  },

  /**
   * The cron (`* * * * *`): node lifecycle, then the deployments that are due, at most
   * BERTH_CRON_MAX_BATCHES batches. What is left waits for the next minute: writes and agent
   * reports already reconcile right away, so the cron only catches up on timers and stragglers.
   */
  async scheduled(_controller: unknown, env: object, ctx: ExecutionContext): Promise<void> {
    const settings = await edgeSettings(env, 'workers');
    const handle = openNeonDatabase(settings.databaseUrl, {
      webSocketProxy: settings.webSocketProxy,
      maxConnections: 2,
    });
    const { reconciler, deps } = buildPlane({ runtime: 'workers', config: settings.config, handle });
    try {
      const result = await reconciler.tick({ maxBatches: settings.cronMaxBatches });
      if (result.deployments || result.more) {
        deps.log.info('cron tick', {
          deployments: result.deployments,
          placements: result.placements,
          more: result.more,
        });
      }
    } finally {
      ctx.waitUntil(handle.close().catch(() => {}));
    }
  },
};

async function settingsOr500(env: object): Promise<EdgeSettings | Response> {
  try {
    return await edgeSettings(env, 'workers');
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // The operator reads the details in the Worker's logs; callers learn only that it is broken.
    const requestId = shortId(12);
    createLogger('error').error(e.message, { requestId });
    return problemResponse(
      new ApiError('INTERNAL', `the server is not configured; quote request id ${requestId}`),
      requestId,
    );
  }
}
