import type { OpenAPIHono } from '@hono/zod-openapi';
import { SecretInput } from '../../common/secret.ts';
import { Secret, SecretList } from '../../common/wire/service.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { authorize } from '../auth/authorize.ts';
import { readValid } from '../http/body.ts';
import { route } from '../http/route.ts';
import { wakeAgents } from '../http/wake-agents.ts';
import { applySecret, deleteSecret, getSecret, listSecrets, toSecretObject } from '../verbs/secrets.ts';
import { DryRunQuery, dryRunParam, nameParam, writeOptions } from './params.ts';

const BASE = '/v1/namespaces/{ns}/secrets';
const TAGS = ['Secrets'];

export function secretRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  route(
    app,
    {
      method: 'put',
      path: `${BASE}/{name}`,
      summary: 'Create or replace a secret (values are write-only; ?dryRun=true checks without writing)',
      tags: TAGS,
      body: SecretInput,
      query: DryRunQuery,
      response: Secret,
      status: [200, 201],
    },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'write', 'secrets', ns);
      const name = nameParam(c, 'name');
      const dryRun = dryRunParam(c);
      const input = await readValid(c, SecretInput);
      const result = await applySecret(
        deps.db,
        deps.config.secretKey,
        { namespace: ns, name, input },
        writeOptions(c, deps, dryRun),
      );
      // Replicas waiting for this secret start now: their nodes' assignments were bumped with it.
      wakeAgents(c, deps, result.wakeNodes);
      return c.json(toSecretObject(result.row), result.created ? 201 : 200);
    },
  );
  route(
    app,
    { method: 'get', path: BASE, summary: 'List secrets (key names only)', tags: TAGS, response: SecretList },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'read', 'secrets', ns);
      return c.json({ items: (await listSecrets(deps.db, ns)).map(toSecretObject) });
    },
  );
  route(
    app,
    {
      method: 'get',
      path: `${BASE}/{name}`,
      summary: 'Read a secret (key names only)',
      tags: TAGS,
      response: Secret,
    },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'read', 'secrets', ns);
      return c.json(toSecretObject(await getSecret(deps.db, ns, nameParam(c, 'name'))));
    },
  );
  route(
    app,
    { method: 'delete', path: `${BASE}/{name}`, summary: 'Delete a secret', tags: TAGS, response: Secret },
    async (c) => {
      const ns = nameParam(c, 'ns');
      authorize(c.get('principal'), 'write', 'secrets', ns);
      return c.json(toSecretObject(await deleteSecret(deps.db, ns, nameParam(c, 'name'))));
    },
  );
}
