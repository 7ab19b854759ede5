import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import {
  AcmeChallengeAnswer,
  AssignmentsResponse,
  LogAnswer,
  NodeCertificates,
  RegisterRequest,
  RegisterResponse,
  ReleasedClaimsDone,
  type ServiceMap,
  StatusReport,
  USAGE_INTERVAL_HEADER,
} from '../../common/agent-protocol.ts';
import { challengeToken } from '../../common/tls-hosts.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { requireNode } from '../auth/authorize.ts';
import { TOKEN_PREFIX } from '../auth/principal.ts';
import { nodeCertificates, nodeCertificatesStamp } from '../certificates/node-pairs.ts';
import { challengeAnswer } from '../certificates/store.ts';
import { readValid } from '../http/body.ts';
import { ApiError } from '../http/errors.ts';
import { isExecPreflight, isWebSocketUpgrade } from '../http/exec-preflight.ts';
import { reconcileAfter } from '../http/reconcile-after.ts';
import { route } from '../http/route.ts';
import { wakeAgents } from '../http/wake-agents.ts';
import { answerLogRequest, buildAssignments, etagOf, recordStatus } from '../verbs/agents.ts';
import { awaitAssignmentChange } from '../verbs/assignment-wait.ts';
import { execHolderElsewhere, takeExecSession } from '../verbs/exec-sessions.ts';
import { registerNode } from '../verbs/node-registration.ts';
import { confirmClaimRemovals, finishClaimDeletions } from '../verbs/persistent-volume-claims.ts';
import { buildServiceMap, readNetworkVersion } from '../verbs/service-map.ts';
import { recordUsage, USAGE_INTERVAL_SECONDS } from '../verbs/usage.ts';

const TAGS = ['Agent protocol'];

export function agentRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  route(
    app,
    {
      method: 'post',
      path: '/v1/agent/register',
      summary:
        "Register a new node with a join token (returns its credential), or update a node's labels, address and capacity with its own credential (Authorization: Bearer <node token>)",
      tags: TAGS,
      body: RegisterRequest,
      response: RegisterResponse,
      public: true,
    },
    async (c) => {
      const input = await readValid(c, RegisterRequest);
      // Public: a join token in the body is enough. A node credential as the bearer token makes
      // it the node's own registration instead; any other bearer token proves nothing here.
      const bearer = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1];
      const { answer, woken } = await registerNode(deps.db, input, {
        credential: bearer?.startsWith(TOKEN_PREFIX.node) ? bearer : undefined,
        now: deps.now(),
        pollIntervalSeconds: deps.config.pollIntervalSeconds,
        addressCidrs: deps.config.nodeAddressCidrs,
      });
      if (woken.length) reconcileAfter(c, deps, woken);
      return c.json(answer);
    },
  );

  route(
    app,
    {
      method: 'get',
      path: '/v1/agent/assignments',
      summary: "The node's complete desired set (ETag; 304 when unchanged; ?wait=N long-polls)",
      tags: TAGS,
      response: AssignmentsResponse,
      query: z.object({ wait: z.string().optional() }),
    },
    async (c) => {
      const node = requireNode(c.get('principal'));
      const asked = Number(c.req.query('wait') ?? 0);
      const wait =
        Number.isFinite(asked) && !deps.shuttingDown?.()
          ? Math.max(0, Math.min(asked, deps.config.longPollMaxSeconds))
          : 0;
      const known = c.req.header('if-none-match');
      const version = await awaitAssignmentChange(deps, node, known, wait, c.req.raw.signal);
      c.header('x-poll-interval', String(deps.config.pollIntervalSeconds));
      c.header(USAGE_INTERVAL_HEADER, String(USAGE_INTERVAL_SECONDS));
      if (known === etagOf(version)) {
        c.header('etag', etagOf(version));
        return c.body(null, 304);
      }
      // The map's version first: the map read after it is as new or newer, never older.
      const network = await readNetworkVersion(deps.db);
      const { version: built, body } = await buildAssignments(
        deps.db,
        node.nodeId,
        node.credentialHash,
        deps.config.secretKey,
        deps.config.pollIntervalSeconds,
        deps.now(),
      );
      body.services = await serviceMapOf(deps, network);
      c.header('etag', etagOf({ assignments: built, network }));
      c.header('cache-control', 'no-store');
      return c.json(body);
    },
  );

  route(
    app,
    {
      method: 'post',
      path: '/v1/agent/status',
      summary: 'Report observed replicas (also a heartbeat)',
      tags: TAGS,
      body: StatusReport,
      status: 204,
    },
    async (c) => {
      const node = requireNode(c.get('principal'));
      const report = await readValid(c, StatusReport);
      const changed = await recordStatus(deps.db, node.nodeId, report, deps.now());
      if (report.usage) await recordUsage(deps.db, node.nodeId, report.usage);
      if (changed.length) {
        reconcileAfter(c, deps, changed);
        // Replicas may have gone: a Terminating claim they held goes with the last of them.
        wakeAgents(c, deps, await finishClaimDeletions(deps.db, node.nodeName));
      }
      return c.body(null, 204);
    },
  );

  route(
    app,
    {
      method: 'post',
      path: '/v1/agent/released-claims',
      summary:
        "The volumes of released claims (AssignmentsResponse.releasedClaims) are gone from the agent's node",
      tags: TAGS,
      body: ReleasedClaimsDone,
      status: 204,
    },
    async (c) => {
      const node = requireNode(c.get('principal'));
      const done = await readValid(c, ReleasedClaimsDone);
      await confirmClaimRemovals(deps.db, node.nodeName, done.uids);
      return c.body(null, 204);
    },
  );

  route(
    app,
    {
      method: 'post',
      path: '/v1/agent/logs',
      summary: 'Answer a log request',
      tags: TAGS,
      body: LogAnswer,
      status: 204,
    },
    async (c) => {
      const node = requireNode(c.get('principal'));
      const answer = await readValid(c, LogAnswer);
      await answerLogRequest(deps.db, node.nodeId, answer, deps.now());
      return c.body(null, 204);
    },
  );

  route(
    app,
    {
      method: 'get',
      path: '/v1/agent/certificates',
      summary:
        "The certificates and keys of the cluster's service and ingress hosts, for the node's own HTTPS ingress (ETag; 304 when unchanged)",
      tags: TAGS,
      response: NodeCertificates,
    },
    async (c) => {
      requireNode(c.get('principal'));
      const hsts = deps.config.hstsSeconds;
      const known = c.req.header('if-none-match');
      c.header('cache-control', 'no-store');
      if (known && known === (await nodeCertificatesStamp(deps.db, hsts))) {
        c.header('etag', known);
        return c.body(null, 304);
      }
      const { stamp, certificates } = await nodeCertificates(deps.db, deps.config.secretKey, hsts);
      c.header('etag', stamp);
      return c.json({ certificates, ...(hsts !== undefined ? { hstsSeconds: hsts } : {}) });
    },
  );

  // The agent's side of a `kubectl exec`: a WebSocket (v5.channel.k8s.io), upgraded by the runtime's
  // meeting point once this preflight says yes (http/exec-preflight.ts). Only the session's own node, only
  // once. Not in /openapi.json, which describes JSON answers: this one is a stream.
  app.get('/v1/agent/exec/:id', async (c) => {
    const node = requireNode(c.get('principal'));
    if (!isWebSocketUpgrade(c) || !isExecPreflight(c, deps))
      throw new ApiError('BAD_REQUEST', 'Upgrade request required: exec sessions are WebSockets');
    // kubectl's socket is held by another copy: the runtime passes this upgrade on to it.
    const elsewhere = await execHolderElsewhere(deps.db, node.nodeId, c.req.param('id'), deps.config.peerUrl);
    if (elsewhere) return c.json({ relay: elsewhere });
    const taken = await takeExecSession(deps.db, node.nodeId, c.req.param('id'), deps.now());
    if (!taken) throw new ApiError('NOT_FOUND', 'no such exec session waiting for this node');
    return c.json({ session: taken.id });
  });

  route(
    app,
    {
      method: 'get',
      path: '/v1/agent/acme-challenges/{token}',
      summary:
        "The answer to an ACME HTTP-01 challenge, which a node's ingress relays when the CA validates a host at the node's address",
      tags: TAGS,
      response: AcmeChallengeAnswer,
    },
    async (c) => {
      requireNode(c.get('principal'));
      const token = challengeToken(`/.well-known/acme-challenge/${c.req.param('token')}`);
      const answer = token === undefined ? undefined : await challengeAnswer(deps.db, token);
      if (answer === undefined) throw new ApiError('NOT_FOUND', 'no such ACME challenge');
      return c.json({ keyAuthorization: answer });
    },
  );
}

/** The cluster's service map at `version` or newer, built once per process per version. */
function serviceMapOf(deps: AppDeps, version: number): Promise<ServiceMap> {
  const build = () =>
    buildServiceMap(deps.db, {
      endpointCidr: deps.config.endpointCidr,
    });
  return deps.serviceMaps ? deps.serviceMaps.get(version, build) : build();
}
