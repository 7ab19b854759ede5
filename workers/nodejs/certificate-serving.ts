import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { cloudflareDns } from '../certificates/cloudflare-dns.ts';
import { accountKey } from '../certificates/store.ts';
import type { AcmeConfig } from '../config.ts';
import { acmeIssuer, type Dns01Options, newKeyPem } from './acme-issuer.ts';
import { CertificateManager } from './certificate-manager.ts';
import type { NodeControlPlane } from './control-plane.ts';
import { httpsFront } from './https-front.ts';
import { ingressServer } from './ingress-server.ts';

/**
 * What `npm start` serves HTTPS with: the API's files (BERTH_TLS_CERT_FILE/_KEY_FILE) and, with
 * ACME on, a certificate per Service and Ingress host picked by SNI; plus the plain HTTP listener
 * (BERTH_HTTP_PORT) for HTTP-01 answers and redirects. Undefined parts are simply not served.
 */
export function certificateServing(plane: NodeControlPlane, api: { cert: Buffer; key: Buffer } | undefined) {
  const { config, db, log } = plane.deps;
  const publicHost = config.publicUrl ? new URL(config.publicUrl).hostname.toLowerCase() : undefined;
  const orderable = (h: string | undefined): h is string =>
    h !== undefined && h !== 'localhost' && !/^[\d.]+$|:/.test(h) && h.includes('.');
  // With ACME on, certificates are ordered; with HTTPS at all, Ingresses' Secrets are served.
  const manager =
    (config.acme || api) && config.secretKey
      ? new CertificateManager({
          db,
          secretKey: config.secretKey,
          log,
          metrics: plane.deps.metrics,
          // Without files of its own, the API's public host is ordered like a Service's.
          extraHosts: !api && orderable(publicHost) ? [publicHost] : [],
          issuer: config.acme
            ? acmeIssuer({
                ...config.acme,
                accountKey: () => accountKey(db, config.secretKey!, config.acme!.directoryUrl, newKeyPem),
                dns: dns01(config.acme),
                log,
              })
            : undefined,
        })
      : undefined;
  let httpsPort = config.port;
  const front = httpsFront({
    source: manager,
    api,
    apiRedirectHosts: api && publicHost ? [publicHost] : [],
    httpsPort: () => httpsPort,
    hstsSeconds: config.hstsSeconds,
    log,
  });
  const https = Boolean(api || manager);
  let http: Server | undefined;
  return {
    /** Whether the main port serves HTTPS. */
    https,
    createServer: https
      ? ingressServer(plane.deps, front.tls, front.secure, plane.streams)
      : ingressServer(plane.deps, undefined, undefined, plane.streams),
    manager,
    /** Starts ordering and the plain listener once the main port is known. */
    start(port: number): Promise<AddressInfo | undefined> {
      httpsPort = port;
      manager?.start();
      const listener = config.httpListener;
      if (!listener) return Promise.resolve(undefined);
      return new Promise((resolve, reject) => {
        http = serve(
          {
            fetch: plane.app.fetch,
            port: listener.port,
            hostname: listener.host,
            createServer: ingressServer(plane.deps, undefined, front.plain),
          },
          (info) => resolve(info),
        ) as Server;
        http.once('error', reject);
      });
    },
    async stop(): Promise<void> {
      await manager?.stop();
      if (http) await new Promise<void>((resolve) => http!.close(() => resolve()));
    },
  };
}

/** The DNS provider BERTH_DNS_PROVIDER names, for DNS-01 (and so wildcard hosts); one case each. */
function dns01(acme: AcmeConfig): Dns01Options | undefined {
  const dns = acme.dns;
  if (!dns) return undefined;
  const provider = (() => {
    switch (dns.provider) {
      case 'cloudflare':
        return cloudflareDns({ apiToken: dns.apiToken, apiUrl: dns.apiUrl });
    }
  })();
  return { provider, propagationMs: dns.propagationSeconds * 1000, exactHosts: acme.challenge === 'dns-01' };
}
