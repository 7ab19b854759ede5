import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Server as TlsServer } from 'node:tls';
import type { Logger } from '../../common/logger.ts';
import { ConfigError, type TlsFiles } from '../config.ts';

/** A certificate (chain) and its key, as read and checked from BERTH_TLS_CERT_FILE / _KEY_FILE. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** The leaf's names and expiry, for the start line and the logs. */
  subject: string;
  notAfter: Date;
  /**
   * The name a client on this machine (npm start's own agent, calling 127.0.0.1) checks the
   * certificate for: `preferred` when the certificate covers it, else its first DNS name;
   * undefined when it names addresses only (127.0.0.1 is then checked as the address).
   */
  localName(preferred: string | undefined): string | undefined;
  /**
   * A self-signed certificate is its own trust anchor, which a client on this machine can be
   * given; one from a CA is trusted the way every other client trusts it (Node's roots, plus
   * NODE_EXTRA_CA_CERTS for a private CA).
   */
  selfSigned: boolean;
}

/**
 * Reads and checks the pair: a certificate that does not parse, a key that does not, or a key
 * that is not the certificate's would otherwise surface as a handshake failure on every client.
 */
export function readTls(files: TlsFiles): TlsMaterial {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(files.certFile);
    key = readFileSync(files.keyFile);
  } catch (e) {
    throw new ConfigError(`cannot read the TLS certificate or key: ${(e as Error).message}`);
  }
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (e) {
    throw new ConfigError(
      `BERTH_TLS_CERT_FILE ${files.certFile}: not a PEM certificate (${(e as Error).message})`,
    );
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (e) {
    throw new ConfigError(
      `BERTH_TLS_KEY_FILE ${files.keyFile}: not a PEM private key (${(e as Error).message})`,
    );
  }
  if (!leaf.checkPrivateKey(privateKey))
    throw new ConfigError(
      `BERTH_TLS_KEY_FILE ${files.keyFile} is not the key of the certificate in ${files.certFile}`,
    );
  return {
    cert,
    key,
    subject: leaf.subjectAltName ?? leaf.subject,
    notAfter: new Date(leaf.validTo),
    selfSigned: leaf.checkIssued(leaf) && leaf.verify(leaf.publicKey),
    localName(preferred) {
      if (preferred && leaf.checkHost(preferred)) return preferred;
      return /(?:^|, )DNS:([^,\s]+)/.exec(leaf.subjectAltName ?? '')?.[1]?.replace(/^\*\./, 'berth.');
    },
  };
}

/**
 * Serves a renewed pair without a restart: certificates are replaced on disk (certbot, an
 * operator) well before they expire, and new connections take the new one. A pair that fails
 * its checks is logged and the one in use kept.
 */
export function keepTlsFresh(
  server: TlsServer,
  files: TlsFiles,
  log: Logger,
  intervalMs = 60_000,
): () => void {
  const stamp = () => {
    try {
      return `${statSync(files.certFile).mtimeMs}:${statSync(files.keyFile).mtimeMs}`;
    } catch {
      return undefined;
    }
  };
  let seen = stamp();
  const timer = setInterval(() => {
    const now = stamp();
    if (now === undefined || now === seen) return;
    seen = now;
    try {
      const fresh = readTls(files);
      server.setSecureContext({ cert: fresh.cert, key: fresh.key, minVersion: 'TLSv1.2' });
      log.info('TLS certificate reloaded', { names: fresh.subject, notAfter: fresh.notAfter.toISOString() });
    } catch (e) {
      log.error('TLS certificate not reloaded: the one in use stays', { error: (e as Error).message });
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * What `npm start` says when it serves plain HTTP beyond this machine: bearer tokens (a CI
 * pipeline's, an agent's) would cross the network readable. Loopback stays quiet: a local
 * `npm start` is as simple as it was, and a TLS proxy in front normally listens on it.
 */
export function plainHttpWarning(host: string): string | undefined {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || /^127\./.test(h)) return undefined;
  return `serving plain HTTP on ${host}: tokens sent from other machines cross the network readable. Set BERTH_TLS_CERT_FILE and BERTH_TLS_KEY_FILE, put a TLS proxy in front, or listen on HOST=127.0.0.1 only`;
}
