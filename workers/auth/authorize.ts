import { DomainError } from '../errors.ts';
import type { Action, Principal, Resource } from './principal.ts';

/**
 * The role matrix of API.md in one place. Admin: everything. Deployer: read/write deployments,
 * services, secrets, configmaps, persistentvolumeclaims, serviceaccounts, ingresses, jobs, cronjobs in its namespaces. Viewer: read
 * deployments, services, configmaps, persistentvolumeclaims, serviceaccounts, ingresses, jobs, cronjobs, replicas, events in its namespaces (never secret values: secret reads are key names
 * only, which viewers may not list either). Both read their namespaces' policies; only admins
 * write them. Node credentials never reach object routes.
 */
const DEPLOYER: Record<Resource, Action[]> = {
  deployments: ['read', 'write'],
  services: ['read', 'write'],
  secrets: ['read', 'write'],
  configmaps: ['read', 'write'],
  persistentvolumeclaims: ['read', 'write'],
  serviceaccounts: ['read', 'write'],
  ingresses: ['read', 'write'],
  jobs: ['read', 'write'],
  cronjobs: ['read', 'write'],
  replicas: ['read'],
  events: ['read'],
  tokens: [],
  nodes: ['read'],
  policies: ['read'],
  trustrules: [],
};
const VIEWER: Record<Resource, Action[]> = {
  deployments: ['read'],
  services: ['read'],
  secrets: [],
  configmaps: ['read'],
  persistentvolumeclaims: ['read'],
  serviceaccounts: ['read'],
  ingresses: ['read'],
  jobs: ['read'],
  cronjobs: ['read'],
  replicas: ['read'],
  events: ['read'],
  tokens: [],
  nodes: ['read'],
  policies: ['read'],
  trustrules: [],
};

export function can(principal: Principal, action: Action, resource: Resource, namespace?: string): boolean {
  if (principal.kind !== 'user') return false;
  if (principal.role === 'admin') return true;
  const allowed = (principal.role === 'deployer' ? DEPLOYER : VIEWER)[resource];
  if (!allowed.includes(action)) return false;
  if (namespace === undefined) return true;
  return principal.namespaces.includes('*') || principal.namespaces.includes(namespace);
}

export function authorize(
  principal: Principal,
  action: Action,
  resource: Resource,
  namespace?: string,
): void {
  if (!can(principal, action, resource, namespace)) {
    const where = namespace ? ` in namespace "${namespace}"` : '';
    const who = principal.kind === 'node' ? 'a node credential' : `role "${principal.role}"`;
    throw new DomainError('FORBIDDEN', `${who} may not ${action} ${resource}${where}`);
  }
}

export function requireAdmin(principal: Principal): void {
  if (principal.kind !== 'user' || principal.role !== 'admin') {
    throw new DomainError('FORBIDDEN', 'this action needs an admin token');
  }
}

export function requireNode(principal: Principal): Extract<Principal, { kind: 'node' }> {
  if (principal.kind !== 'node') throw new DomainError('FORBIDDEN', 'agent routes need a node credential');
  return principal;
}
