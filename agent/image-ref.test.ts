import { describe, expect, it } from 'vitest';
import { findPullAuth, normalizeRegistry, parseImageRef } from './image-ref.ts';

describe('image references', () => {
  it.each([
    ['nginx', 'docker.io', 'nginx', 'latest'],
    ['nginx:1.27', 'docker.io', 'nginx', '1.27'],
    ['library/nginx:1', 'docker.io', 'library/nginx', '1'],
    ['berth-test/httpd:1', 'docker.io', 'berth-test/httpd', '1'],
    ['127.0.0.1:5000/berth-test/private:1', '127.0.0.1:5000', '127.0.0.1:5000/berth-test/private', '1'],
    ['localhost/app', 'localhost', 'localhost/app', 'latest'],
    ['Registry.Example.com/a/b@sha256:abc', 'registry.example.com', 'Registry.Example.com/a/b', 'sha256:abc'],
    ['registry.example.com:5000/app', 'registry.example.com:5000', 'registry.example.com:5000/app', 'latest'],
  ])('%s', (image, registry, repository, tag) => {
    expect(parseImageRef(image)).toMatchObject({ registry, repository, tag });
  });

  it('normalises registry spellings', () => {
    expect(normalizeRegistry('https://index.docker.io/v1/')).toBe('docker.io');
    expect(normalizeRegistry('registry-1.docker.io')).toBe('docker.io');
    expect(normalizeRegistry('http://127.0.0.1:5000')).toBe('127.0.0.1:5000');
  });

  it('matches credentials by registry host', () => {
    const auths = [
      { server: 'https://index.docker.io/v1/', username: 'hub', password: 'p' },
      { server: '127.0.0.1:5000', username: 'berth', password: 'berth-secret' },
    ];
    expect(findPullAuth('127.0.0.1:5000/berth-test/private:1', auths)?.username).toBe('berth');
    expect(findPullAuth('nginx:1', auths)?.username).toBe('hub');
    expect(findPullAuth('ghcr.io/x/y:1', auths)).toBeUndefined();
    expect(findPullAuth('nginx', undefined)).toBeUndefined();
  });
});
