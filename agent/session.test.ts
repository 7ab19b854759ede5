import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiClient } from './api-client.ts';
import { createLogger } from './log.ts';
import type { PodManager } from './pod-manager.ts';
import { IdentityError, Session, type SessionConfig } from './session.ts';
import { StateStore, type StoredCredential } from './state-store.ts';
import { SyncLoop } from './sync-loop.ts';

/**
 * A control plane on a socket that answers what each test sets, and records every call: the
 * session must never spend a join token on its own after its credential was refused.
 */
interface Call {
  method: string;
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown> | undefined;
}

let server: Server;
let base = '';
let calls: Call[] = [];
let answer: (call: Call) => { status: number; body?: unknown } = () => ({ status: 404 });
let dir = '';
let store: StateStore;
const log = createLogger('error', () => {});
const abort = new AbortController();

async function readBody(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
}

beforeEach(async () => {
  calls = [];
  server = createServer(async (req, res) => {
    const call: Call = {
      method: req.method ?? '',
      path: (req.url ?? '').split('?')[0]!,
      authorization: req.headers.authorization,
      body: await readBody(req),
    };
    calls.push(call);
    const { status, body } = answer(call);
    res.writeHead(status, { 'content-type': 'application/json' }).end(body ? JSON.stringify(body) : '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), 'berth-session-'));
  store = new StateStore(dir);
  await store.init();
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');
const config = (over: Partial<SessionConfig> = {}): SessionConfig => ({
  server: base,
  name: 'n1',
  labels: { region: 'eu' },
  address: '10.0.0.5',
  joinToken: 'berth_j_first',
  ...over,
});
const stored = (over: Partial<StoredCredential> = {}): StoredCredential => ({
  server: base,
  name: 'n1',
  nodeId: 'id-1',
  nodeToken: 'berth_n_old',
  labels: { region: 'eu' },
  address: '10.0.0.5',
  joinTokenSha256: sha256('berth_j_first'),
  ...over,
});
const registered = (token: string) => ({
  status: 200,
  body: { nodeId: 'id-1', nodeToken: token, pollIntervalSeconds: 1 },
});
const refused = { status: 401, body: { code: 'UNAUTHENTICATED', detail: 'the token is unknown' } };
const registrations = () => calls.filter((c) => c.path === '/v1/agent/register');

describe('Session', () => {
  it('on a 401 for the credential it holds, stops the sync loop and never registers again', async () => {
    await store.saveCredential(stored());
    answer = (c) => (c.path === '/v1/agent/register' ? registered('berth_n_new') : refused);
    const refusals: IdentityError[] = [];
    const session = new Session(new ApiClient(base, 't'), store, config(), log, abort.signal, {
      onRefused: (e) => refusals.push(e),
    });
    await session.open();
    const manager = { apply: async () => {}, answerLog: async () => ({}) } as unknown as PodManager;
    const loop = new SyncLoop({
      api: new ApiClient(base, 't'),
      session,
      store,
      manager,
      log,
      server: base,
      node: 'n1',
      waitSeconds: 1,
      signal: abort.signal,
    });
    loop.start();
    // The loop ends by itself: no retry, no backoff, no registration.
    await loop.stopped();
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /v1/agent/assignments']);
    expect(registrations()).toEqual([]);
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toBeInstanceOf(IdentityError);
    expect(refusals[0]!.message).toMatch(/deleted or reset.*does not register again by itself/);
    expect(refusals[0]!.message).toContain('berth join-token create --name n1');
    // Reported again (the status reporter's 401): still one refusal, still nothing sent.
    session.refused(new Error('again'));
    expect(refusals).toHaveLength(1);
    expect((await store.loadCredential())?.nodeToken).toBe('berth_n_old');
  });

  it('updates labels and address with its own credential, spending no join token', async () => {
    await store.saveCredential(stored({ labels: {} }));
    answer = () => registered('berth_n_old');
    const session = new Session(new ApiClient(base, 't'), store, config(), log, abort.signal);
    await session.open();
    const [call] = registrations();
    expect(call?.authorization).toBe('Bearer berth_n_old');
    expect(call?.body).not.toHaveProperty('joinToken');
    expect(call?.body).toMatchObject({ name: 'n1', labels: { region: 'eu' }, address: '10.0.0.5' });
    expect(await store.loadCredential()).toMatchObject({
      nodeToken: 'berth_n_old',
      labels: { region: 'eu' },
    });
  });

  it('refused at start with only the join token it already spent: fails, registering nothing', async () => {
    await store.saveCredential(stored({ address: '10.0.0.4' }));
    answer = (c) => (c.authorization ? refused : registered('berth_n_new'));
    const session = new Session(new ApiClient(base, 't'), store, config(), log, abort.signal);
    await expect(session.open()).rejects.toThrow(IdentityError);
    expect(registrations().map((c) => c.authorization)).toEqual(['Bearer berth_n_old']);
  });

  it('refused at start with a join token it never used: re-joins with it (after an admin reset)', async () => {
    await store.saveCredential(stored());
    answer = (c) => (c.authorization ? refused : registered('berth_n_new'));
    const session = new Session(
      new ApiClient(base, 't'),
      store,
      config({ joinToken: 'berth_j_second' }),
      log,
      abort.signal,
    );
    await session.open();
    expect(registrations().map((c) => [c.authorization, c.body?.joinToken])).toEqual([
      ['Bearer berth_n_old', undefined],
      [undefined, 'berth_j_second'],
    ]);
    expect(session.token).toBe('berth_n_new');
    expect((await store.loadCredential())?.joinTokenSha256).toBe(sha256('berth_j_second'));
  });

  it('with no credential stored, registers with its join token, and fails clearly without one', async () => {
    answer = () => registered('berth_n_first');
    const session = new Session(new ApiClient(base, 't'), store, config(), log, abort.signal);
    await session.open();
    expect(registrations().map((c) => [c.authorization, c.body?.joinToken])).toEqual([
      [undefined, 'berth_j_first'],
    ]);
    expect(await store.loadCredential()).toMatchObject({
      nodeToken: 'berth_n_first',
      joinTokenSha256: sha256('berth_j_first'),
    });
    await rm(join(dir, 'node.json'));
    const without = new Session(
      new ApiClient(base, 't'),
      store,
      config({ joinToken: undefined }),
      log,
      abort.signal,
    );
    await expect(without.open()).rejects.toThrow(/no stored credential.*--join-token/);
  });

  it('a registration the server refuses (409: the name holds a credential) is an IdentityError', async () => {
    answer = () => ({
      status: 409,
      body: { code: 'CONFLICT', detail: 'node "n1" is registered; berth node reset n1' },
    });
    const session = new Session(new ApiClient(base, 't'), store, config(), log, abort.signal);
    const error = await session.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IdentityError);
    expect((error as Error).message).toMatch(/HTTP 409.*berth node reset n1/);
  });
});
