import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A PEM certificate and key on disk, and the certificate's text. */
export interface IssuedPair {
  certFile: string;
  keyFile: string;
  cert: string;
}

const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A private CA of the test's own (what an operator's internal CA is), valid for a day. */
export function makeCa(dir: string, name = 'ca'): IssuedPair {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  openssl([
    'req',
    '-x509',
    ...P256,
    '-days',
    '1',
    '-subj',
    `/CN=Berth test CA ${name}`,
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8') };
}

/**
 * A server certificate signed by `ca` for `names` (DNS names and IP addresses), as a CA issues
 * one; `name` picks its files, so a second one can replace the first on disk.
 */
export function issue(dir: string, ca: IssuedPair, names: string[], name = 'server'): IssuedPair {
  const keyFile = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const certFile = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  openssl(['req', '-new', ...P256, '-subj', `/CN=${names[0]}`, '-keyout', keyFile, '-out', csr]);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    ext,
    '-out',
    certFile,
  ]);
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8') };
}
