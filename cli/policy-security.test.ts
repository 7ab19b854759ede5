import { describe, expect, it } from 'vitest';
import { parseCommandLine } from './args.ts';
import { applyPolicyEdit, policyEditFromFlags } from './policy-edit.ts';

/** `berth namespace set-policy` and the security allowances of a namespace policy. */
const edit = (...argv: string[]) =>
  policyEditFromFlags(parseCommandLine(['namespace', 'set-policy', 'ns', ...argv]).flags);
const SPEC = { allowedHostSuffixes: ['a.example.com'], quota: { replicas: 5 } };

describe('set-policy security allowances', () => {
  it('sets capabilities, privileged and Unconfined seccomp, keeping the rest of the policy', () => {
    const next = applyPolicyEdit(
      SPEC,
      edit(
        '--allow-capabilities',
        'NET_BIND_SERVICE, NET_ADMIN',
        '--allow-privileged',
        '--allow-unconfined-seccomp',
      ),
    );
    expect(next).toEqual({
      ...SPEC,
      allowedCapabilities: ['NET_BIND_SERVICE', 'NET_ADMIN'],
      allowPrivileged: true,
      allowUnconfinedSeccomp: true,
    });
  });

  it('takes them back: none allows no capability, default returns to NET_BIND_SERVICE', () => {
    const set = {
      ...SPEC,
      allowedCapabilities: ['NET_ADMIN'],
      allowPrivileged: true,
      allowUnconfinedSeccomp: true,
    };
    expect(
      applyPolicyEdit(
        set,
        edit('--allow-capabilities', 'none', '--no-privileged', '--no-unconfined-seccomp'),
      ),
    ).toEqual({
      ...SPEC,
      allowedCapabilities: [],
      allowPrivileged: false,
      allowUnconfinedSeccomp: false,
    });
    expect(applyPolicyEdit(set, edit('--allow-capabilities', 'default'))).not.toHaveProperty(
      'allowedCapabilities',
    );
  });

  it('refuses flags that contradict each other', () => {
    expect(() => edit('--allow-privileged', '--no-privileged')).toThrow(/contradict/);
    expect(() => edit('--allow-unconfined-seccomp', '--no-unconfined-seccomp')).toThrow(/contradict/);
    expect(() => edit('--allow-capabilities', ' , ')).toThrow(/needs names/);
  });

  it('sets the hostPath prefixes, :ro for read-only, and takes them back with none', () => {
    const set = applyPolicyEdit(SPEC, edit('--allow-host-paths', '/var/log:ro, /srv/cache'));
    expect(set.allowedHostPaths).toEqual([
      { pathPrefix: '/var/log', readOnly: true },
      { pathPrefix: '/srv/cache' },
    ]);
    expect(applyPolicyEdit(set, edit('--allow-host-paths', 'none')).allowedHostPaths).toBeUndefined();
  });

  it('sets which namespaces may reach its services: a list, * or none (its own only)', () => {
    expect(
      applyPolicyEdit(SPEC, edit('--accept-service-traffic-from', 'shop, jobs')).acceptServiceTrafficFrom,
    ).toEqual(['shop', 'jobs']);
    expect(
      applyPolicyEdit(SPEC, edit('--accept-service-traffic-from', 'none')).acceptServiceTrafficFrom,
    ).toEqual([]);
    expect(
      applyPolicyEdit(SPEC, edit('--accept-service-traffic-from', '*')).acceptServiceTrafficFrom,
    ).toEqual(['*']);
    expect(() => edit('--accept-service-traffic-from', ' , ')).toThrow(/needs namespace names/);
  });
});
