import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { z } from 'zod';
import { NodeCertificates } from '../../common/agent-protocol.ts';
import type { CertificatesResult } from '../api-client.ts';
import type { Logger } from '../log.ts';
import { sleep } from '../sleep.ts';
import { atomicWrite } from '../state-store.ts';

/**
 * The certificates the node's HTTPS ingress serves, kept as the control plane holds them: fetched
 * with the last ETag every REFRESH_MS (a 304 costs the control plane two small queries), and at
 * once when the service map's hosts change; saved beside the agent's state (`certificates.json`,
 * 0600: it holds keys) so a restarted agent serves HTTPS while the control plane is away.
 */

/** How often the set is asked for: a new host's first certificate reaches the nodes within this. */
export const REFRESH_MS = 10_000;

export type CertificateFetcher = (
  etag: string | undefined,
  signal: AbortSignal,
) => Promise<CertificatesResult>;

const Saved = z.object({ server: z.string(), etag: z.string().optional(), set: NodeCertificates });
const FILE = 'certificates.json';

export class NodeCertificateSet {
  private contexts = new Map<string, SecureContext>();
  private hsts: number | undefined;
  private etag: string | undefined;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly o: {
      fetch: CertificateFetcher;
      dataDir: string;
      /** The control plane's URL: a set saved for another one is not served. */
      server: string;
      log: Logger;
      refreshMs?: number;
    },
  ) {}

  /** Secure contexts by host (`*.suffix` for wildcards), replaced whole on each change. */
  get hosts(): ReadonlyMap<string, SecureContext> {
    return this.contexts;
  }

  get hstsSeconds(): number | undefined {
    return this.hsts;
  }

  /** Serves the saved set (if any), then keeps it current until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    const saved = await this.load();
    if (saved && saved.server === this.o.server) {
      this.etag = saved.etag;
      this.use(saved.set);
    }
    this.loop = this.run(signal);
  }

  /** The hosts changed: ask now rather than at the next refresh. */
  refreshSoon(): void {
    this.wakeUp?.();
  }

  stopped(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        const result = await this.o.fetch(this.etag, signal);
        if (result.kind === 'changed') {
          this.use(result.body);
          this.etag = result.etag;
          await this.save(result.body);
        }
        failures = 0;
      } catch (e) {
        // The set in use stays: certificates outlive a control plane's absence by weeks.
        if (!signal.aborted && failures++ % 30 === 0)
          this.o.log.warn('certificates: the set could not be refreshed; serving the one held', {
            error: (e as Error).message,
          });
      }
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        void sleep(this.o.refreshMs ?? REFRESH_MS, signal).then(resolve, resolve);
      });
      this.wakeUp = undefined;
    }
  }

  /** Turns a set into contexts; a pair Node refuses is logged and left out, the others served. */
  private use(set: NodeCertificates): void {
    const next = new Map<string, SecureContext>();
    for (const c of set.certificates) {
      try {
        next.set(c.host, createSecureContext({ cert: c.certPem, key: c.keyPem, minVersion: 'TLSv1.2' }));
      } catch (e) {
        this.o.log.warn('certificates: a pair cannot be served', {
          host: c.host,
          error: (e as Error).message,
        });
      }
    }
    const before = this.contexts.size;
    this.contexts = next;
    this.hsts = set.hstsSeconds;
    if (next.size !== before) this.o.log.info('certificates: serving HTTPS for hosts', { hosts: next.size });
  }

  private async load(): Promise<z.infer<typeof Saved> | undefined> {
    try {
      const parsed = Saved.safeParse(JSON.parse(await readFile(join(this.o.dataDir, FILE), 'utf8')));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  private async save(set: NodeCertificates): Promise<void> {
    const saved = { server: this.o.server, ...(this.etag ? { etag: this.etag } : {}), set };
    await atomicWrite(join(this.o.dataDir, FILE), `${JSON.stringify(saved)}\n`).catch((e: unknown) =>
      this.o.log.warn('certificates: saving the set failed', { error: (e as Error).message }),
    );
  }
}
