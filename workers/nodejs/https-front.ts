import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SecureContext } from 'node:tls';
import type { Logger } from '../../common/logger.ts';
import { certificateFor, challengeToken, httpsLocation, pickCertificate } from '../../common/tls-hosts.ts';
import { normalizeHost } from '../ingress/hosts.ts';

/** What the HTTPS server and the plain HTTP listener of `npm start` share about certificates. */
export interface CertificateSource {
  /** Secure contexts of the hosts with a certificate of their own. */
  readonly hosts: ReadonlyMap<string, SecureContext>;
  /** A handshake asked for a host with none yet: look now, not at the next scan. */
  wake(): void;
  answer(token: string): Promise<string | undefined>;
}

export interface HttpsFrontOptions {
  source: CertificateSource | undefined;
  /** The API's own pair (BERTH_TLS_CERT_FILE/_KEY_FILE), for its names and clients without SNI. */
  api: { cert: Buffer; key: Buffer } | undefined;
  /** Hosts the API's pair covers that plain HTTP redirects (the public URL's host). */
  apiRedirectHosts: readonly string[];
  httpsPort: () => number;
  hstsSeconds: number | undefined;
  log: Logger;
}

/**
 * The certificate side of the Node server: SNI selection for the HTTPS server, and the `front`
 * of both listeners (ingress-server.ts): HTTP-01 answers and redirects on plain HTTP, HSTS on
 * HTTPS. Everything else passes on to the ingress and the app unchanged.
 */
export function httpsFront(o: HttpsFrontOptions) {
  const none = new Map<string, SecureContext>();
  const hasCertificate = (host: string | undefined) =>
    host !== undefined &&
    ((o.source !== undefined && certificateFor(host, o.source.hosts) !== undefined) ||
      (o.api !== undefined && o.apiRedirectHosts.includes(host)));

  const tls = {
    ...(o.api ? { cert: o.api.cert, key: o.api.key } : {}),
    SNICallback(servername: string, done: (err: Error | null, ctx?: SecureContext) => void) {
      const hosts = o.source?.hosts ?? none;
      const name = servername.toLowerCase();
      // A name a wildcard certificate already covers is served that one: nothing to look for.
      if (o.source && name && certificateFor(name, hosts) === undefined) o.source.wake();
      // No context of the host's own: the server's default one, the API's files as keepTlsFresh
      // last loaded them (none with ACME alone: that handshake then fails).
      done(null, pickCertificate(name, hosts, undefined));
    },
  };

  /** Plain HTTP: the CA's validation request, else a redirect for a host served over HTTPS. */
  const plain = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const token = challengeToken(req.url);
    if (token !== undefined && o.source) {
      let answer: string | undefined;
      try {
        answer = await o.source.answer(token);
      } catch (e) {
        o.log.warn('ACME challenge: the answer cannot be read', { error: (e as Error).message });
        res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('unavailable\n');
        return true;
      }
      if (answer === undefined)
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no such challenge\n');
      else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(answer);
      return true;
    }
    const host = normalizeHost(req.headers.host);
    if (!hasCertificate(host) || host === undefined) return false;
    res.writeHead(308, { location: httpsLocation(host, o.httpsPort(), req.url ?? '/') }).end();
    return true;
  };

  /** HTTPS: HSTS for hosts with a certificate, when configured; never answers by itself. */
  const secure = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (o.hstsSeconds !== undefined && hasCertificate(normalizeHost(req.headers.host)))
      res.setHeader('strict-transport-security', `max-age=${o.hstsSeconds}`);
    return false;
  };

  return { tls, plain, secure };
}
