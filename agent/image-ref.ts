import type { ImagePullAuth } from '../common/agent-protocol.ts';

/** Docker Hub is written several ways in credentials; compare in one spelling. */
const DOCKER_HUB = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

export interface ImageRef {
  /** Registry host (with port), "docker.io" for Docker Hub. */
  registry: string;
  /** Repository as the engine names it, without tag or digest (e.g. 127.0.0.1:5000/team/app). */
  repository: string;
  /** Tag or digest ("sha256:..."); "latest" when the reference names neither. */
  tag: string;
  isDigest: boolean;
}

/** Parses an image reference the way Docker does (first path part is a registry when it looks like a host). */
export function parseImageRef(image: string): ImageRef {
  let rest = image;
  let tag = 'latest';
  let isDigest = false;
  const at = rest.indexOf('@');
  if (at >= 0) {
    tag = rest.slice(at + 1);
    rest = rest.slice(0, at);
    isDigest = true;
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) {
      tag = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  const hasRegistry = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  return { registry: hasRegistry ? normalizeRegistry(first) : 'docker.io', repository: rest, tag, isDigest };
}

/** "https://index.docker.io/v1/" → "docker.io"; "Registry.Example.com:5000/x" → "registry.example.com:5000". */
export function normalizeRegistry(server: string): string {
  const host = server
    .trim()
    .replace(/^[a-z]+:\/\//i, '')
    .split('/')[0]!
    .toLowerCase();
  return DOCKER_HUB.has(host) ? 'docker.io' : host;
}

/** The credentials for the registry `image` is pulled from, if any were given. */
export function findPullAuth(
  image: string,
  auths: readonly ImagePullAuth[] | undefined,
): ImagePullAuth | undefined {
  if (!auths?.length) return undefined;
  const registry = parseImageRef(image).registry;
  return auths.find((a) => normalizeRegistry(a.server) === registry);
}
