import { z } from 'zod';
import { SecretType } from '../secret.ts';
import { ServiceSpec } from '../service.ts';
import { ApiVersion, ObjectMeta } from './meta.ts';

/** Services, their endpoints and secrets as the API returns them (API.md "Services", "Secrets"). */

export const Service = z
  .object({
    apiVersion: ApiVersion,
    kind: z.literal('Service'),
    metadata: ObjectMeta,
    /** As applied, with defaults filled in (every port names its targetPort). */
    spec: ServiceSpec,
  })
  .meta({ id: 'Service' });
export type Service = z.infer<typeof Service>;

export const ServiceList = z
  .object({ apiVersion: ApiVersion, kind: z.literal('ServiceList'), items: z.array(Service) })
  .meta({ id: 'ServiceList' });
export type ServiceList = z.infer<typeof ServiceList>;

/** A ready replica a service selects: `address:port` reaches it from outside its node. */
export const Endpoint = z
  .object({
    replica: z.string(),
    deployment: z.string(),
    revision: z.int(),
    node: z.string(),
    address: z.string(),
    /** Host port published for the service's main port ("http", else the first). */
    port: z.int(),
    /** Every service port this replica publishes, when the service has more than one. */
    ports: z.array(z.object({ name: z.string().optional(), port: z.int(), hostPort: z.int() })).optional(),
  })
  .meta({ id: 'Endpoint' });
export type Endpoint = z.infer<typeof Endpoint>;

export const EndpointList = z
  .object({ service: z.string(), namespace: z.string(), items: z.array(Endpoint) })
  .meta({ id: 'EndpointList' });
export type EndpointList = z.infer<typeof EndpointList>;

/** What any read of a secret returns: its key names, never a value. */
export const Secret = z
  .object({
    apiVersion: ApiVersion,
    kind: z.literal('Secret'),
    metadata: ObjectMeta,
    type: SecretType,
    keys: z.array(z.string()),
  })
  .meta({ id: 'Secret' });
export type Secret = z.infer<typeof Secret>;

export const SecretList = z.object({ items: z.array(Secret) }).meta({ id: 'SecretList' });
export type SecretList = z.infer<typeof SecretList>;
