import { z } from 'zod';
import { ObjectMetaInput } from './deployment.ts';
import { isIpLiteral } from './host-patterns.ts';
import { Labels } from './names.ts';

/**
 * The Service as users write it (berth.dev/v1): which replicas (selector), which ports, and the
 * hostnames the control plane's ingress routes to them. Strict like the Deployment schemas.
 */

const Port = z.int().min(1).max(65535);

/** Kubernetes' IANA_SVC_NAME: what a named port (and a targetPort by name) may be called. */
export const PortName = z
  .string()
  .max(15, 'must be at most 15 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lowercase letters, digits and "-"')
  .regex(/[a-z]/, 'must contain at least one letter');

const HOSTNAME = /^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A hostname the ingress matches against the Host header; `*.example.com` matches one label. */
export const Hostname = z
  .string()
  .max(253, 'must be at most 253 characters')
  .regex(HOSTNAME, 'must be a lowercase hostname such as web.example.com, optionally starting with "*."')
  .refine(
    (h) => h.split('.').every((label) => label.length <= 63),
    'each label must be at most 63 characters',
  )
  // As in Kubernetes Ingress: an address would take every request made to the machine by address.
  .refine((h) => !isIpLiteral(h), 'must be a DNS name, not an IP address');
export type Hostname = z.infer<typeof Hostname>;

/** targetPort defaults to port, as in Kubernetes, so the stored spec always names both. */
export const ServicePort = z
  .strictObject({
    name: PortName.optional(),
    port: Port,
    targetPort: z.union([Port, PortName]).optional(),
    protocol: z.literal('TCP', 'only TCP is supported').default('TCP'),
  })
  .transform((p) => ({ ...p, targetPort: p.targetPort ?? p.port }));
export type ServicePort = z.infer<typeof ServicePort>;

export const ServiceSpec = z
  .strictObject({
    selector: Labels.refine((s) => Object.keys(s).length > 0, 'must select at least one label'),
    ports: z.array(ServicePort).min(1, 'must list at least one port').max(64),
    hosts: z.array(Hostname).max(64).default([]),
  })
  .check((ctx) => {
    const duplicates = (values: (string | number | undefined)[], field: string, what: string) => {
      const seen = new Set<string | number>();
      values.forEach((v, i) => {
        if (v === undefined) return;
        if (seen.has(v)) {
          const path = field === 'hosts' ? ['hosts', i] : ['ports', i, field];
          ctx.issues.push({
            code: 'custom',
            input: v,
            path,
            message: `duplicate ${what} ${JSON.stringify(v)}`,
          });
        }
        seen.add(v);
      });
    };
    duplicates(
      ctx.value.ports.map((p) => p.port),
      'port',
      'port',
    );
    duplicates(
      ctx.value.ports.map((p) => p.name),
      'name',
      'port name',
    );
    duplicates(ctx.value.hosts, 'hosts', 'host');
  });
export type ServiceSpec = z.infer<typeof ServiceSpec>;

export const ServiceInput = z.strictObject({
  apiVersion: z.literal('berth.dev/v1').optional(),
  kind: z.literal('Service').optional(),
  metadata: ObjectMetaInput.default({}),
  spec: ServiceSpec,
  status: z.unknown().optional(),
});
export type ServiceInput = z.infer<typeof ServiceInput>;
