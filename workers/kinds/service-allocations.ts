import { and, eq, ne, sql } from 'drizzle-orm';
import { HEADLESS, hasClusterIP, hasNodePorts, type ServiceSpec, serviceType } from '../../common/service.ts';
import type { Database } from '../../db/database.ts';
import { serviceNodePorts, services } from '../../db/schema/index.ts';
import { conflict, type FieldError, invalid } from '../errors.ts';
import type { ObjectState } from '../store/objects.ts';
import {
  type Ipv4Block,
  ipv4ToNumber,
  isAssignable,
  numberToIpv4,
  parseIpv4Block,
  pickFree,
  type ServiceAddressConfig,
} from './service-addresses.ts';

/**
 * A service's cluster IP and node ports: assigned on create when the spec leaves them out, kept
 * on every later write that leaves them out, a given one honoured when free. Every assignment
 * happens under one transaction lock, and the database holds the last word: a unique index on
 * services.cluster_ip and the primary key of service_node_ports, so two control planes that
 * decide at the same moment can never hand out one address or port twice.
 */

/** Arbitrary constant: writes that assign service addresses or node ports take turns. */
const ADDRESSES_LOCK = 727_274_011;

type State = ObjectState<ServiceSpec>;

/**
 * What a write leaves out and the stored service has: its cluster IP (a change is refused, as
 * Kubernetes refuses it), and the node port of each port that keeps its number and protocol.
 */
export function keepAssigned(next: State, stored: State | undefined): State {
  const old = stored?.spec;
  if (!old) return next;
  const spec: ServiceSpec = { ...next.spec };
  const bothAddressed = serviceType(spec) !== 'ExternalName' && serviceType(old) !== 'ExternalName';
  if (bothAddressed && old.clusterIP !== undefined) {
    if (spec.clusterIP === undefined) spec.clusterIP = old.clusterIP;
    else if (spec.clusterIP !== old.clusterIP)
      throw invalid([
        { path: 'spec.clusterIP', message: `field is immutable (the service has ${old.clusterIP})` },
      ]);
    if (spec.clusterIP === HEADLESS && hasNodePorts(spec))
      throw invalid([
        {
          path: 'spec.type',
          message: `a headless service cannot become ${serviceType(spec)} (clusterIP is immutable): delete and re-create it`,
        },
      ]);
  }
  if (hasNodePorts(spec) && hasNodePorts(old))
    spec.ports = spec.ports.map((p) => {
      if (p.nodePort !== undefined) return p;
      const before = old.ports.find((o) => o.port === p.port && o.protocol === p.protocol);
      return before?.nodePort === undefined ? p : { ...p, nodePort: before.nodePort };
    });
  return { ...next, spec };
}

/** A stored service that still lacks an address or node port its type has (stored before they were). */
export function lacksAssigned(stored: State): boolean {
  const spec = stored.spec;
  if (hasClusterIP(spec) && spec.clusterIP === undefined) return true;
  return hasNodePorts(spec) && spec.ports.some((p) => p.nodePort === undefined);
}

/** The spec with its cluster IP and node ports assigned; 422 outside the ranges, 409 when taken. */
export async function assignAddresses(
  tx: Database,
  spec: ServiceSpec,
  existing: { id: string; spec: ServiceSpec } | undefined,
  config: ServiceAddressConfig,
): Promise<ServiceSpec> {
  const wantsIP = hasClusterIP(spec);
  const wantsPorts = hasNodePorts(spec);
  if (!wantsIP && !wantsPorts) return spec;
  await tx.execute(sql`select pg_advisory_xact_lock(${ADDRESSES_LOCK})`);
  const out: ServiceSpec = { ...spec };
  const invalids: FieldError[] = [];
  const taken: FieldError[] = [];
  const self = existing ? ne(services.id, existing.id) : undefined;

  if (wantsIP) {
    const block = parseIpv4Block(config.serviceCidr) as Ipv4Block;
    if (spec.clusterIP === undefined) {
      const rows = await tx
        .select({ ip: services.clusterIp })
        .from(services)
        .where(sql`${services.clusterIp} is not null`);
      const used = new Set(rows.map((r) => ipv4ToNumber(r.ip ?? '') ?? -1));
      const picked = pickFree(block.first + 1, block.first + block.size - 2, used);
      if (picked === undefined)
        throw conflict(`every address of the service range ${block.text} is taken (BERTH_SERVICE_CIDR)`, [
          { path: 'spec.clusterIP', message: `the service range ${block.text} is full` },
        ]);
      out.clusterIP = numberToIpv4(picked);
    } else if (spec.clusterIP !== existing?.spec.clusterIP) {
      // The service's own address is kept even if the range has changed since it was assigned.
      const ip = ipv4ToNumber(spec.clusterIP);
      if (ip === undefined || !isAssignable(block, ip))
        invalids.push({
          path: 'spec.clusterIP',
          message: `${spec.clusterIP} is not in the service range ${block.text} (or is its network or broadcast address)`,
        });
      else {
        const [holder] = await tx
          .select({ id: services.id })
          .from(services)
          .where(and(eq(services.clusterIp, spec.clusterIP), self));
        if (holder)
          taken.push({
            path: 'spec.clusterIP',
            message: `${spec.clusterIP} is already allocated to another service`,
          });
      }
    }
  }

  if (wantsPorts) {
    const { min, max } = config.nodePortRange;
    const own = new Set(
      existing
        ? (
            await tx
              .select({ port: serviceNodePorts.nodePort })
              .from(serviceNodePorts)
              .where(eq(serviceNodePorts.serviceId, existing.id))
          ).map((r) => r.port)
        : [],
    );
    // Ports held by other services; every port this write names or keeps stays out of the picks.
    const others = new Set(
      (await tx.select({ port: serviceNodePorts.nodePort }).from(serviceNodePorts))
        .map((r) => r.port)
        .filter((port) => !own.has(port)),
    );
    const used = new Set([...others, ...own]);
    for (const p of spec.ports) if (p.nodePort !== undefined) used.add(p.nodePort);
    out.ports = spec.ports.map((p, i) => {
      const path = `spec.ports[${i}].nodePort`;
      if (p.nodePort !== undefined) {
        if (own.has(p.nodePort)) return p;
        if (p.nodePort < min || p.nodePort > max)
          invalids.push({ path, message: `${p.nodePort} is not in the node port range ${min}-${max}` });
        else if (others.has(p.nodePort))
          taken.push({ path, message: `node port ${p.nodePort} is already allocated to another service` });
        return p;
      }
      const picked = pickFree(min, max, used);
      if (picked === undefined) {
        taken.push({ path, message: `every node port of ${min}-${max} is taken (BERTH_NODE_PORT_RANGE)` });
        return p;
      }
      used.add(picked);
      return { ...p, nodePort: picked };
    });
  }
  if (invalids.length) throw invalid(invalids);
  if (taken.length) throw conflict(taken[0]!.message, taken);
  return out;
}

/**
 * The service's rows of service_node_ports made to match its spec: ports no longer used are
 * released (a type change to ClusterIP releases them all), new ones inserted (a port another
 * service took first is a unique violation, which the object store retries as a fresh write).
 */
export async function syncNodePorts(tx: Database, serviceId: string, spec: ServiceSpec): Promise<void> {
  const wanted = hasNodePorts(spec)
    ? [...new Set(spec.ports.flatMap((p) => (p.nodePort === undefined ? [] : [p.nodePort])))]
    : [];
  const held = await tx
    .select({ port: serviceNodePorts.nodePort })
    .from(serviceNodePorts)
    .where(eq(serviceNodePorts.serviceId, serviceId));
  const heldSet = new Set(held.map((r) => r.port));
  const release = held.map((r) => r.port).filter((p) => !wanted.includes(p));
  if (release.length)
    await tx.delete(serviceNodePorts).where(
      and(
        eq(serviceNodePorts.serviceId, serviceId),
        sql`${serviceNodePorts.nodePort} in (${sql.join(
          release.map((p) => sql`${p}`),
          sql`, `,
        )})`,
      ),
    );
  const add = wanted.filter((p) => !heldSet.has(p));
  if (add.length) await tx.insert(serviceNodePorts).values(add.map((nodePort) => ({ nodePort, serviceId })));
}

/** The cluster_ip column of a spec: the address, or null (headless, ExternalName). */
export const clusterIpColumn = (spec: ServiceSpec): string | null =>
  hasClusterIP(spec) ? (spec.clusterIP ?? null) : null;
