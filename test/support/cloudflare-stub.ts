import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One call the stub answered, for tests to assert on (the token is never kept). */
export interface StubCall {
  method: string;
  path: string;
  status: number;
}

export interface TxtRecord {
  id: string;
  zoneId: string;
  name: string;
  content: string;
  ttl: number;
}

export interface CloudflareStub {
  /** The API's base URL (BERTH_CLOUDFLARE_API_URL). */
  url: string;
  /** The bearer token it accepts; a test changes it to see a revoked token refused. */
  token: string;
  /** TXT records present now, by id. */
  readonly records: ReadonlyMap<string, TxtRecord>;
  /** Every call so far, in order. */
  readonly calls: readonly StubCall[];
  close(): Promise<void>;
}

export interface CloudflareStubOptions {
  token: string;
  /** Zone names the token sees (e.g. `example.test`, or a delegated `apps.example.test`). */
  zones: readonly string[];
  /**
   * pebble-challtestsrv's management API: TXT records added here are set there (`/set-txt`) and
   * removed there (`/clear-txt`), so the CA validates DNS-01 against what the stub holds.
   */
  challtestsrv?: string;
}

/**
 * Cloudflare's v4 API as much as DNS-01 uses it: `GET /zones?name=`, `POST` and `DELETE` of a
 * zone's `dns_records`, with its bearer token check and its `{success, errors, result}` envelope
 * (an unknown token is refused as Cloudflare refuses one: 9109 "Invalid access token").
 */
export async function startCloudflareStub(o: CloudflareStubOptions): Promise<CloudflareStub> {
  const zones = o.zones.map((name, i) => ({ id: `zone${i}${'0'.repeat(24)}`.slice(0, 32), name }));
  const records = new Map<string, TxtRecord>();
  const calls: StubCall[] = [];
  let next = 1;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const fail = (res: ServerResponse, status: number, code: number, message: string) =>
    send(res, status, { success: false, errors: [{ code, message }], messages: [], result: null });
  const ok = (res: ServerResponse, result: unknown) =>
    send(res, 200, { success: true, errors: [], messages: [], result });

  /** Sets challtestsrv's values for `name` to exactly the stub's records of that name. */
  const mirror = async (name: string) => {
    if (!o.challtestsrv) return;
    const host = `${name}.`;
    const post = async (path: string, body: unknown) => {
      const r = await fetch(`${o.challtestsrv}${path}`, { method: 'POST', body: JSON.stringify(body) });
      if (!r.ok) throw new Error(`pebble-challtestsrv ${path} ${name}: ${r.status}`);
    };
    await post('/clear-txt', { host });
    for (const r of records.values()) if (r.name === name) await post('/set-txt', { host, value: r.content });
  };

  const body = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      let text = '';
      req.on('data', (c: Buffer) => {
        text += c.toString();
      });
      req.on('end', () => resolve(text));
      req.on('error', reject);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    const path = url.pathname.replace(/^\/client\/v4/, '');
    if (req.headers.authorization !== `Bearer ${stub.token}`)
      return fail(res, 400, 9109, 'Invalid access token');
    if (req.method === 'GET' && path === '/zones') {
      const name = url.searchParams.get('name');
      return ok(
        res,
        zones.filter((z) => name === null || z.name === name).map((z) => ({ ...z, status: 'active' })),
      );
    }
    const m = /^\/zones\/([^/]+)\/dns_records(?:\/([^/]+))?$/.exec(path);
    const zone = m && zones.find((z) => z.id === m[1]);
    if (!m || !zone) return fail(res, 404, 7003, 'Could not route to this path');
    if (req.method === 'POST' && !m[2]) {
      const r = JSON.parse(await body(req)) as Partial<TxtRecord> & { type?: string };
      if (r.type !== 'TXT' || !r.name || !r.content)
        return fail(res, 400, 9005, 'Content for TXT record is invalid');
      if (r.name !== zone.name && !r.name.endsWith(`.${zone.name}`))
        return fail(res, 400, 9007, `Record name ${r.name} is not within zone ${zone.name}`);
      const id = `rec${next++}`.padEnd(32, '0');
      records.set(id, { id, zoneId: zone.id, name: r.name, content: r.content, ttl: r.ttl ?? 1 });
      await mirror(r.name);
      return ok(res, { id, type: 'TXT', name: r.name, content: r.content, ttl: r.ttl });
    }
    if (req.method === 'DELETE' && m[2]) {
      const r = records.get(m[2]);
      if (!r || r.zoneId !== zone.id) return fail(res, 404, 81044, 'Record does not exist.');
      records.delete(r.id);
      await mirror(r.name);
      return ok(res, { id: r.id });
    }
    return fail(res, 405, 10000, 'Method not allowed');
  };

  const server = createServer((req, res) => {
    const at = calls.length;
    calls.push({ method: req.method ?? '', path: req.url ?? '', status: 0 });
    res.on('finish', () => {
      calls[at]!.status = res.statusCode;
    });
    handle(req, res).catch((e: Error) => fail(res, 500, 10001, e.message));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stub: CloudflareStub = {
    url: `http://127.0.0.1:${port}/client/v4`,
    token: o.token,
    records,
    calls,
    async close() {
      // Whatever a test left behind is cleared from the DNS server too.
      const names = new Set([...records.values()].map((r) => r.name));
      records.clear();
      for (const name of names) await mirror(name).catch(() => {});
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return stub;
}
