import type { OpenAPIHono } from '@hono/zod-openapi';
import {
  CreatedJoinToken,
  CreatedToken,
  Identity,
  JoinTokenList,
  NamespaceList,
  TokenList,
} from '../../common/wire/access.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { requireAdmin } from '../auth/authorize.ts';
import { readOptionalJson, readValid, validate } from '../http/body.ts';
import { ApiError } from '../http/errors.ts';
import { route } from '../http/route.ts';
import { listNamespaceRows } from '../verbs/namespaces.ts';
import {
  createJoinToken,
  createToken,
  JoinTokenCreate,
  listJoinTokens,
  listTokens,
  revokeJoinToken,
  revokeToken,
  TokenCreate,
} from '../verbs/tokens.ts';

export function tokenRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  const tags = ['Tokens'];
  route(
    app,
    {
      method: 'post',
      path: '/v1/tokens',
      summary: 'Create an API token (the secret is shown once)',
      tags,
      body: TokenCreate,
      response: CreatedToken,
      status: 201,
    },
    async (c) => {
      requireAdmin(c.get('principal'));
      const input = await readValid(c, TokenCreate);
      return c.json(await createToken(deps.db, input, deps.now()), 201);
    },
  );
  route(
    app,
    { method: 'get', path: '/v1/tokens', summary: 'List API tokens (no secrets)', tags, response: TokenList },
    async (c) => {
      requireAdmin(c.get('principal'));
      return c.json({ items: await listTokens(deps.db) });
    },
  );
  route(
    app,
    { method: 'delete', path: '/v1/tokens/{id}', summary: 'Revoke an API token at once', tags, status: 204 },
    async (c) => {
      requireAdmin(c.get('principal'));
      await revokeToken(deps.db, c.req.param('id') ?? '');
      return c.body(null, 204);
    },
  );
  route(
    app,
    {
      method: 'post',
      path: '/v1/join-tokens',
      summary: 'Create a join token for registering agents',
      tags,
      body: JoinTokenCreate,
      response: CreatedJoinToken,
      status: 201,
    },
    async (c) => {
      requireAdmin(c.get('principal'));
      const input = validate(JoinTokenCreate, (await readOptionalJson(c)) ?? {});
      return c.json(await createJoinToken(deps.db, input, deps.now()), 201);
    },
  );
  route(
    app,
    {
      method: 'get',
      path: '/v1/join-tokens',
      summary: 'List join tokens (no secrets)',
      tags,
      response: JoinTokenList,
    },
    async (c) => {
      requireAdmin(c.get('principal'));
      return c.json({ items: await listJoinTokens(deps.db) });
    },
  );
  route(
    app,
    { method: 'delete', path: '/v1/join-tokens/{id}', summary: 'Revoke a join token', tags, status: 204 },
    async (c) => {
      requireAdmin(c.get('principal'));
      await revokeJoinToken(deps.db, c.req.param('id') ?? '');
      return c.body(null, 204);
    },
  );
  route(
    app,
    {
      method: 'get',
      path: '/v1/namespaces',
      summary: 'Namespaces the caller may see',
      tags: ['Namespaces'],
      response: NamespaceList,
    },
    async (c) => {
      const p = c.get('principal');
      if (p.kind !== 'user')
        throw new ApiError('FORBIDDEN', 'a node credential reaches only /v1/agent routes');
      const all = await listNamespaceRows(deps.db);
      const visible = p.namespaces.includes('*') ? all : all.filter((n) => p.namespaces.includes(n.name));
      return c.json({
        items: visible.map(
          (n) => ({ name: n.name, phase: n.terminatingAt ? 'Terminating' : 'Active' }) as const,
        ),
      });
    },
  );
  route(
    app,
    {
      method: 'get',
      path: '/v1/whoami',
      summary: 'The caller: name, role, namespaces',
      tags,
      response: Identity,
    },
    (c) => {
      const p = c.get('principal');
      return c.json(
        p.kind === 'user' ? { name: p.name, role: p.role, namespaces: p.namespaces } : { node: p.nodeName },
      );
    },
  );
}
