import { describe, expect, it } from 'vitest';
import { PodTemplate } from '../../common/deployment.ts';
import type { replicas } from '../../db/schema/index.ts';
import { toAssignment } from './agents.ts';
import { missingSecretRefs, secretNamesOf } from './secret-refs.ts';

const template = (spec: Record<string, unknown>) =>
  PodTemplate.parse({ metadata: { labels: { app: 'web' } }, spec });

const web = template({
  containers: [
    {
      name: 'web',
      image: 'web:1',
      env: [
        { name: 'MODE', value: 'prod' },
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        { name: 'DB_USER', valueFrom: { secretKeyRef: { name: 'db', key: 'user' } } },
      ],
    },
    {
      name: 'side',
      image: 'side:1',
      env: [{ name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'api', key: 'key' } } }],
    },
  ],
  imagePullSecrets: [{ name: 'regcred' }],
});

type Secrets = Map<string, { type: string; data: Record<string, string> }>;
const ALL: Secrets = new Map<string, { type: string; data: Record<string, string> }>([
  ['db', { type: 'opaque', data: { password: 'hunter2', user: 'app' } }],
  ['api', { type: 'opaque', data: { key: 'sk-1' } }],
  ['regcred', { type: 'registry', data: { server: 'r.example', username: 'u', password: 'p' } }],
]);
const without = (name: string, key?: string): Secrets => {
  const out: Secrets = new Map(ALL);
  const s = out.get(name)!;
  if (key === undefined) out.delete(name);
  else out.set(name, { ...s, data: Object.fromEntries(Object.entries(s.data).filter(([k]) => k !== key)) });
  return out;
};
const keysIn = (secrets: Secrets) => (name: string) => {
  const s = secrets.get(name);
  return s ? Object.keys(s.data) : undefined;
};

const row = (desired: 'running' | 'stopped' = 'running') =>
  ({
    id: 'web-abc',
    namespace: 'default',
    deploymentName: 'web',
    revision: 1,
    desired,
  }) as typeof replicas.$inferSelect;

describe('secret references of a pod', () => {
  it('names every secret once, env first, then imagePullSecrets', () => {
    expect(secretNamesOf(web.spec)).toEqual(['db', 'api', 'regcred']);
  });

  it('finds nothing missing when every secret and key exists', () => {
    expect(missingSecretRefs(web.spec, keysIn(ALL), () => undefined)).toEqual([]);
  });

  it('says which secret, key or registry secret is missing, in pod order, each once', () => {
    expect(missingSecretRefs(web.spec, keysIn(without('db')), () => undefined)).toEqual([
      'secret "db" not found',
    ]);
    expect(missingSecretRefs(web.spec, keysIn(without('db', 'password')), () => undefined)).toEqual([
      'key "password" not found in secret "db"',
    ]);
    expect(missingSecretRefs(web.spec, keysIn(without('regcred')), () => undefined)).toEqual([
      'secret "regcred" not found',
    ]);
    expect(
      missingSecretRefs(
        web.spec,
        () => undefined,
        () => undefined,
      ),
    ).toEqual(['secret "db" not found', 'secret "api" not found', 'secret "regcred" not found']);
  });
});

describe('an assignment whose secrets are missing', () => {
  const envOf = (secrets: Secrets) =>
    toAssignment(row(), web, secrets).containers.map((c) =>
      Object.fromEntries(c.env.map((e) => [e.name, e.value])),
    );

  it('carries resolved values and no reason when everything exists', () => {
    const a = toAssignment(row(), web, ALL);
    expect(a.configError).toBeUndefined();
    expect(envOf(ALL)).toEqual([
      { MODE: 'prod', DB_PASSWORD: 'hunter2', DB_USER: 'app' },
      { API_KEY: 'sk-1' },
    ]);
    expect(a.imagePullAuth).toEqual([{ server: 'r.example', username: 'u', password: 'p' }]);
  });

  it('carries the reason of a missing secret, and no empty value in its place', () => {
    expect(toAssignment(row(), web, without('db')).configError).toBe('secret "db" not found');
    expect(envOf(without('db'))).toEqual([{ MODE: 'prod' }, { API_KEY: 'sk-1' }]);
  });

  it('carries the reason of a missing key, sending the keys that exist', () => {
    expect(toAssignment(row(), web, without('db', 'user')).configError).toBe(
      'key "user" not found in secret "db"',
    );
    expect(envOf(without('db', 'user'))).toEqual([
      { MODE: 'prod', DB_PASSWORD: 'hunter2' },
      { API_KEY: 'sk-1' },
    ]);
  });

  it('carries the reason of a missing registry secret of imagePullSecrets', () => {
    const a = toAssignment(row(), web, without('regcred'));
    expect(a.configError).toBe('secret "regcred" not found');
    expect(a.imagePullAuth).toBeUndefined();
  });

  it('gives a replica told to stop no reason (it needs no secrets)', () => {
    expect(toAssignment(row('stopped'), web, new Map()).configError).toBeUndefined();
  });
});
