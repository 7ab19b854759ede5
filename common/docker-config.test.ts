import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeBase64Text } from './base64.ts';
import { parseDockerConfigJson, registryAuthsOf } from './docker-config.ts';

const KUBECTL = readFileSync(
  new URL('../test/fixtures/manifests/kubectl-create-secret-docker-registry.yaml', import.meta.url),
  'utf8',
);

describe('.dockerconfigjson', () => {
  it('reads what kubectl create secret docker-registry writes', () => {
    const encoded = /\.dockerconfigjson: (\S+)/.exec(KUBECTL)![1]!;
    expect(parseDockerConfigJson(decodeBase64Text(encoded)!)).toEqual({
      auths: [{ server: '127.0.0.1:5000', username: 'puller', password: 'pull-pass' }],
    });
  });

  it('takes auth (base64 of user:password) when username and password are absent, as docker login writes', () => {
    const config = { auths: { 'https://index.docker.io/v1/': { auth: 'dTpwOnc=' } } };
    expect(parseDockerConfigJson(JSON.stringify(config))).toEqual({
      auths: [{ server: 'https://index.docker.io/v1/', username: 'u', password: 'p:w' }],
    });
    expect(parseDockerConfigJson('{}')).toEqual({ auths: [] });
  });

  it('says why one cannot be used', () => {
    const cases: [string, RegExp][] = [
      ['not json', /must be JSON/],
      ['[]', /JSON object/],
      ['{"auths": []}', /"auths" must be an object/],
      ['{"auths": {"r": {"auth": "bm9jb2xvbg=="}}}', /auth must be base64 of "username:password"/],
      ['{"auths": {"r": {"username": "u"}}}', /needs a username and a password/],
      ['{"auths": {"r": {"identitytoken": "t"}}}', /identity and registry tokens are not supported/],
    ];
    for (const [text, message] of cases) {
      const parsed = parseDockerConfigJson(text);
      expect('error' in parsed && parsed.error, text).toMatch(message);
    }
  });

  it('gives pull credentials for both registry secret types, and none for others', () => {
    const json = JSON.stringify({ auths: { 'r.example.com': { username: 'a', password: 'b' } } });
    expect(
      registryAuthsOf({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': json } }),
    ).toEqual([{ server: 'r.example.com', username: 'a', password: 'b' }]);
    expect(
      registryAuthsOf({ type: 'registry', data: { server: 's', username: 'u', password: 'p' } }),
    ).toEqual([{ server: 's', username: 'u', password: 'p' }]);
    expect(registryAuthsOf({ type: 'opaque', data: { server: 's' } })).toEqual([]);
  });
});
