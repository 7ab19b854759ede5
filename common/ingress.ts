import { z } from 'zod';
import { ObjectMetaInput } from './deployment.ts';
import { Name } from './names.ts';
import { Hostname, ServicePortName } from './service.ts';

/**
 * The Ingress as users write it: networking.k8s.io/v1's shape, also accepted as berth.dev/v1.
 * Host and path rules to a service port, routed by the control plane's ingress (and the nodes'
 * service map). What the control plane cannot route is refused at its path: another ingress
 * class (another controller would serve it, and there is none), a default backend or a rule without a host (either would take every host name of the
 * machine, the API's neighbours included), resource backends, and regular-expression paths. `tls`
 * names a kubernetes.io/tls Secret served for its hosts instead of an ACME certificate.
 */

/** The ingress class Berth serves; absent means Berth too (it is the only controller). */
export const INGRESS_CLASS = 'berth';

/** The annotation that chose a class before ingressClassName existed; read the same way. */
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

const issue = (
  ctx: { issues: z.core.$ZodRawIssue[] },
  input: unknown,
  path: PropertyKey[],
  message: string,
) => ctx.issues.push({ code: 'custom', input, path, message });

const refused = (message: string) =>
  z
    .unknown()
    .refine(() => false, message)
    .optional();

const IngressClassName = z.string().check((ctx) => {
  if (ctx.value !== INGRESS_CLASS)
    issue(
      ctx,
      ctx.value,
      [],
      `"${ctx.value}" is not served by Berth: leave it out or write "${INGRESS_CLASS}" (the control plane's ingress is the only ingress controller)`,
    );
});

export const ServiceBackendPort = z
  .strictObject({ number: z.int().min(1).max(65535).optional(), name: ServicePortName.optional() })
  .check((ctx) => {
    const given = (ctx.value.number !== undefined ? 1 : 0) + (ctx.value.name !== undefined ? 1 : 0);
    if (given !== 1) issue(ctx, ctx.value, [], 'must give exactly one of number or name');
  });
export type ServiceBackendPort = z.infer<typeof ServiceBackendPort>;

export const IngressBackend = z.strictObject({
  service: z.strictObject({ name: Name, port: ServiceBackendPort }, { error: 'is required' }),
  resource: refused('is not supported by Berth: a backend is a service'),
});
export type IngressBackend = z.infer<typeof IngressBackend>;

/**
 * Prefix and Exact as Kubernetes matches them. ImplementationSpecific is matched as Prefix, so a
 * path written for a controller that reads regular expressions is refused rather than misread.
 */
export const PATH_TYPES = ['Prefix', 'Exact', 'ImplementationSpecific'] as const;
export const PathType = z.enum(PATH_TYPES, { error: `must be one of ${PATH_TYPES.join(', ')}` });
export type PathType = z.infer<typeof PathType>;

const PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
const REGEX_CHARS = /[()*$^[\]|\\{}+?]/;

export const HttpIngressPath = z
  .strictObject({
    path: z.string().max(1024, 'must be at most 1024 characters'),
    pathType: PathType,
    backend: IngressBackend,
  })
  .check((ctx) => {
    const { path } = ctx.value;
    if (path.startsWith('/') && REGEX_CHARS.test(path))
      issue(
        ctx,
        path,
        ['path'],
        'regular expressions are not supported by Berth: paths match as Prefix or Exact (ImplementationSpecific is Prefix)',
      );
    else if (!PATH.test(path)) issue(ctx, path, ['path'], 'must be an absolute path such as /api');
    else if (path.includes('//') || /(^|\/)\.\.?(\/|$)/.test(path))
      issue(ctx, path, ['path'], 'must not contain "//", "/./" or "/../"');
  });
export type HttpIngressPath = z.infer<typeof HttpIngressPath>;

export const IngressRule = z
  .strictObject({
    host: Hostname.optional(),
    http: z.strictObject(
      { paths: z.array(HttpIngressPath).min(1, 'must list at least one path').max(100) },
      { error: 'is required' },
    ),
  })
  .check((ctx) => {
    if (ctx.value.host === undefined)
      issue(
        ctx,
        ctx.value,
        ['host'],
        'is required: Berth routes by host name, and a rule without one would take every host of the control plane',
      );
  });
export type IngressRule = z.infer<typeof IngressRule>;

/** The label of a node whose agent serves the cluster's hosts over HTTPS (`--ingress-tls-listen`). */
export const INGRESS_HTTPS_LABEL = 'ingress.berth.dev/https';

/** The rule a matched path belongs to: Prefix or Exact, ImplementationSpecific read as Prefix. */
export const matchType = (t: PathType): 'Prefix' | 'Exact' => (t === 'Exact' ? 'Exact' : 'Prefix');

/**
 * A kubernetes.io/tls Secret of the Ingress's namespace served for these hosts by the control
 * plane's HTTPS server on Node and by the nodes' HTTPS ingresses, instead of a certificate
 * ordered through ACME.
 */
export const IngressTls = z.strictObject({
  hosts: z.array(Hostname).min(1, 'must list the hosts the Secret is served for').max(64),
  secretName: Name,
});
export type IngressTls = z.infer<typeof IngressTls>;

export const IngressSpec = z
  .strictObject({
    ingressClassName: IngressClassName.optional(),
    rules: z.array(IngressRule).min(1, 'must list at least one rule').max(64),
    defaultBackend: refused(
      'is not supported by Berth: it would take every host name of the control plane; give each rule a host',
    ),
    tls: z.array(IngressTls).max(64).optional(),
  })
  .check((ctx) => {
    const seen = new Map<string, string>();
    ctx.value.rules.forEach((rule, i) => {
      rule.http.paths.forEach((p, j) => {
        const key = `${rule.host} ${matchType(p.pathType)} ${p.path}`;
        const first = seen.get(key);
        if (first)
          issue(
            ctx,
            p.path,
            ['rules', i, 'http', 'paths', j, 'path'],
            `duplicate path ${JSON.stringify(p.path)} for host "${rule.host}" (first at ${first})`,
          );
        else seen.set(key, `rules[${i}].http.paths[${j}]`);
      });
    });
    const routed = new Set(ctx.value.rules.map((r) => r.host));
    ctx.value.tls?.forEach((t, i) => {
      t.hosts.forEach((h, j) => {
        if (!routed.has(h))
          issue(ctx, h, ['tls', i, 'hosts', j], `"${h}" is not the host of any rule of this Ingress`);
      });
    });
  });
export type IngressSpec = z.infer<typeof IngressSpec>;

export const IngressInput = z
  .strictObject({
    apiVersion: z.enum(['berth.dev/v1', 'networking.k8s.io/v1']).optional(),
    kind: z.literal('Ingress').optional(),
    metadata: ObjectMetaInput.default({}),
    spec: IngressSpec,
    status: z.unknown().optional(),
  })
  .check((ctx) => {
    const legacy = ctx.value.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
    if (legacy !== undefined && legacy !== INGRESS_CLASS)
      issue(
        ctx,
        legacy,
        ['metadata', 'annotations', LEGACY_CLASS_ANNOTATION],
        `"${legacy}" is not served by Berth: leave it out or write "${INGRESS_CLASS}" (the control plane's ingress is the only ingress controller)`,
      );
  });
export type IngressInput = z.infer<typeof IngressInput>;

/** The hosts an Ingress routes, each once, in rule order. */
export function ingressHosts(spec: IngressSpec): string[] {
  return [...new Set(spec.rules.map((r) => r.host).filter((h): h is string => h !== undefined))];
}
