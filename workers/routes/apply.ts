import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { ManifestSyntaxError, normalizeManifests, parseManifestText } from '../../common/manifest.ts';
import { applyProblemDetail, manifestFieldErrors } from '../../common/manifest-issues.ts';
import { Name } from '../../common/names.ts';
import { ApplyResponse } from '../../common/wire/apply.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { mediaType, readBodyText, unstorableStrings, validate } from '../http/body.ts';
import { ApiError, invalid } from '../http/errors.ts';
import { reconcileAfter } from '../http/reconcile-after.ts';
import { route } from '../http/route.ts';
import { wakeAgents } from '../http/wake-agents.ts';
import { applyManifests } from '../verbs/apply.ts';
import { writeOptions } from './params.ts';

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];
const ApplyQuery = z.object({
  namespace: Name.optional(),
  dryRun: z.enum(['true', 'false']).optional(),
});

export function applyRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  route(
    app,
    {
      method: 'post',
      path: '/v1/apply',
      summary:
        'Apply manifests (YAML multi-document or a JSON array): berth.dev/v1 Deployment, Service, Secret; Kubernetes apps/v1 Deployment and v1 Service. All or nothing.',
      tags: ['Manifests'],
      body: z.string(),
      bodyTypes: ['application/yaml', 'application/json'],
      query: ApplyQuery,
      response: ApplyResponse,
    },
    async (c) => {
      const query = validate(ApplyQuery, c.req.query());
      const type = mediaType(c);
      const format = type === 'application/json' ? 'json' : YAML_TYPES.includes(type) ? 'yaml' : undefined;
      if (!format) {
        throw new ApiError(
          'UNSUPPORTED_MEDIA_TYPE',
          'expected Content-Type application/yaml or application/json',
        );
      }
      const text = await readBodyText(c);
      let docs: unknown[];
      try {
        docs = parseManifestText(text, format);
      } catch (e) {
        if (!(e instanceof ManifestSyntaxError)) throw e;
        const where = e.document !== undefined ? { document: e.document } : {};
        throw new ApiError('BAD_REQUEST', e.message, {
          errors: [{ path: '', message: e.message, ...where }],
        });
      }
      if (docs.length === 0) throw invalid([{ path: '', message: 'no documents to apply' }]);
      const unstorable = manifestFieldErrors(
        docs,
        docs.flatMap((doc, document) => unstorableStrings(doc).map((e) => ({ ...e, document }))),
      );
      if (unstorable.length) throw invalid(unstorable, applyProblemDetail(unstorable));
      const { objects, issues } = normalizeManifests(docs, { namespace: query.namespace });
      if (issues.length) {
        const errors = manifestFieldErrors(docs, issues);
        throw invalid(errors, applyProblemDetail(errors));
      }
      const result = await applyManifests(deps.db, {
        objects,
        defaultNamespace: query.namespace ?? 'default',
        principal: c.get('principal'),
        secretKey: deps.config.secretKey,
        write: writeOptions(c, deps, query.dryRun === 'true'),
      });
      if (result.changedDeployments.length) reconcileAfter(c, deps, result.changedDeployments);
      if (query.dryRun !== 'true') wakeAgents(c, deps, result.wakeNodes);
      return c.json({
        items: result.items,
        ...(result.warnings.length ? { warnings: result.warnings } : {}),
        ...(query.dryRun === 'true' ? { dryRun: true } : {}),
      });
    },
  );
}
