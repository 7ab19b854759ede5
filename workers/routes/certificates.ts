import type { OpenAPIHono } from '@hono/zod-openapi';
import { CertificateList } from '../../common/wire/certificate.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { can } from '../auth/authorize.ts';
import { ApiError } from '../http/errors.ts';
import { route } from '../http/route.ts';
import { listCertificates } from '../verbs/certificates.ts';

export function certificateRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  route(
    app,
    {
      method: 'get',
      path: '/v1/certificates',
      summary:
        "Certificates of the hosts served by the control plane's ingress (ACME): host, issuer, validity, status, last error; those of the namespaces the token reads services in",
      tags: ['Certificates'],
      response: CertificateList,
    },
    async (c) => {
      const principal = c.get('principal');
      if (principal.kind !== 'user')
        throw new ApiError('FORBIDDEN', 'a node credential reaches only /v1/agent routes');
      const items = await listCertificates(
        deps.db,
        (ns) => can(principal, 'read', 'services', ns),
        deps.now(),
      );
      return c.json({ items });
    },
  );
}
