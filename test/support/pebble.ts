import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { freePort } from './processes.ts';

/**
 * The ACME test CA that test/setup/services.sh runs (pebble, validating for real over HTTP-01),
 * and the DNS it resolves test host names with (pebble-challtestsrv). The paths and ports are
 * services.sh's own.
 */
const DIR = '/var/lib/berth-test-pebble';
export const PEBBLE = {
  directory: 'https://127.0.0.1:14000/dir',
  management: 'https://127.0.0.1:15000',
  /** The CA of pebble's own HTTPS API (BERTH_ACME_CA_FILE). */
  apiCaFile: join(DIR, 'ca.pem'),
  /** The port pebble validates HTTP-01 on, at whatever address the host name resolves to. */
  httpPort: 5002,
  dns: '127.0.0.1:8053',
  dnsManagement: 'http://127.0.0.1:8055',
};

/** GET over HTTPS trusting pebble's API CA. */
function getPebble(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca: readApiCa() }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () =>
        res.statusCode === 200 ? resolve(text) : reject(new Error(`${url}: ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end();
  });
}
let apiCa: string | undefined;
const readApiCa = () => {
  apiCa ??= readFileSync(PEBBLE.apiCaFile, 'utf8');
  return apiCa;
};

/** The root certificates issued certificates chain to: pebble makes a new one each start. */
export const pebbleRoot = (management = PEBBLE.management) => getPebble(`${management}/roots/0`);

/** Resolve `host` to `address` for pebble (the default is 127.0.0.1). */
export async function mapHost(host: string, address: string): Promise<void> {
  const res = await fetch(`${PEBBLE.dnsManagement}/add-a`, {
    method: 'POST',
    body: JSON.stringify({ host, addresses: [address] }),
  });
  if (!res.ok) throw new Error(`pebble-challtestsrv add-a ${host}: ${res.status}`);
}
export async function unmapHost(host: string): Promise<void> {
  await fetch(`${PEBBLE.dnsManagement}/clear-a`, { method: 'POST', body: JSON.stringify({ host }) }).catch(
    () => {},
  );
}

/**
 * A loopback address of the test's own (127.0.0.2 and up) where PEBBLE.httpPort is free: pebble
 * validates every host on that one port, so each test's control plane listens on an address of
 * its own and maps its host names there.
 */
export async function freeLoopbackAddress(): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const address = `127.0.${1 + Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(PEBBLE.httpPort, address, () => s.close(() => resolve(true)));
    });
    if (free) return address;
  }
  throw new Error(`no loopback address with port ${PEBBLE.httpPort} free`);
}

export interface OwnPebble {
  directory: string;
  management: string;
  /** The directory's port (put a proxy in front to cut it). */
  port: number;
  stop(): Promise<void>;
  output(): string;
}

/**
 * A pebble of the test's own, for what the shared one cannot do for one test alone: certificates
 * valid for `validitySeconds` only (pebble 2.4's certificateValidityPeriod). Same API certificate,
 * DNS and HTTP-01 port as the shared one.
 */
export async function startOwnPebble(validitySeconds: number): Promise<OwnPebble> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pebble-'));
  const port = await freePort();
  const managementPort = await freePort();
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${port}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: join(DIR, 'cert.pem'),
        privateKey: join(DIR, 'key.pem'),
        httpPort: PEBBLE.httpPort,
        tlsPort: 5001,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        certificateValidityPeriod: validitySeconds,
      },
    }),
  );
  let out = '';
  const proc: ChildProcess = spawn('pebble', ['-config', config, '-dnsserver', PEBBLE.dns], {
    env: { PATH: process.env.PATH ?? '', PEBBLE_VA_NOSLEEP: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  proc.stderr?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const directory = `https://127.0.0.1:${port}/dir`;
  const management = `https://127.0.0.1:${managementPort}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`pebble exited with ${proc.exitCode}: ${out}`);
    const ok = await getPebble(directory).then(
      () => getPebble(`${management}/roots/0`).then(() => true),
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`pebble did not serve ${directory}: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    directory,
    management,
    port,
    output: () => out,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What one HTTPS request to a service host got: its answer and the certificate it was served. */
export interface HostAnswer {
  status: number;
  serial: string;
  fingerprint: string;
  issuer: string;
  validTo: string;
  /** Strict-Transport-Security, when sent. */
  hsts?: string;
  /** The answer's body (its first 64 KiB). */
  body: string;
}

/**
 * One request on a fresh connection to `port` on `address` (127.0.0.1) for `host` (SNI and Host header),
 * verifying the certificate against `ca`: rejects when the handshake or the verification fails.
 */
export function httpsToHost(
  port: number,
  host: string,
  ca: string,
  path = '/',
  address = '127.0.0.1',
): Promise<HostAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: address, port, path, servername: host, headers: { host }, ca, agent: false, timeout: 5000 },
      (res) => {
        const cert = (res.socket as TLSSocket).getPeerCertificate();
        let body = '';
        res.on('data', (c: Buffer) => {
          if (body.length < 65536) body += c.toString();
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            serial: cert.serialNumber,
            fingerprint: cert.fingerprint256,
            issuer: String(cert.issuer?.CN ?? ''),
            validTo: cert.valid_to,
            hsts: res.headers['strict-transport-security'],
            body,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}
