import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from './exit-codes.ts';
import { run } from './main.ts';
import { type CapturedIo, captureIo, problem, StubServer } from './testing/stub-server.ts';

let stub: StubServer;
let io: CapturedIo;

beforeEach(async () => {
  stub = await new StubServer().start();
  io = captureIo();
  io.env.BERTH_SERVER = stub.url;
  io.env.BERTH_TOKEN = 'tok';
});
afterEach(() => stub.stop());

const berth = (...argv: string[]) => run(argv, io);
const LIST = '/v1/namespaces/default/persistentvolumeclaims';

const claim = (name: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name, createdAt: '2025-01-01T00:00:00Z' },
  spec: {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '1Gi' } },
    storageClassName: 'local-path',
    volumeMode: 'Filesystem',
  },
  status: { phase: 'Pending' },
  ...extra,
});

describe('berth get pvc', () => {
  it("lists a claim's status, node, capacity, access modes and storage class as kubectl does", async () => {
    const items = [
      claim('data', {
        status: { phase: 'Bound', nodeName: 'vm-1', capacity: { storage: '1Gi' } },
      }),
      claim('fresh'),
      claim('old', {
        metadata: {
          name: 'old',
          createdAt: '2025-01-01T00:00:00Z',
          deletionTimestamp: '2025-01-01T00:05:00Z',
        },
        status: { phase: 'Bound', nodeName: 'vm-2', capacity: { storage: '1Gi' } },
      }),
    ];
    stub.on('GET', LIST, { status: 200, body: { items } });
    expect(await berth('get', 'pvc')).toBe(EXIT.OK);
    const lines = io.output().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+NODE\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+AGE$/);
    expect(lines[1]).toMatch(/^data\s+Bound\s+vm-1\s+1Gi\s+RWO\s+local-path\s+10m$/);
    expect(lines[2]).toMatch(/^fresh\s+Pending\s+<none>\s+<none>\s+RWO\s+local-path\s+10m$/);
    expect(lines[3]).toMatch(/^old\s+Terminating\s+vm-2\s+1Gi\s+RWO\s+local-path\s+10m$/);
    stub.on('GET', `${LIST}/data`, { status: 200, body: items[0] });
    expect(await berth('get', 'persistentvolumeclaims', 'data', '-o', 'name')).toBe(EXIT.OK);
    expect(io.output()).toContain('persistentvolumeclaim/data\n');
  });
});

describe('berth delete pvc', () => {
  it('deletes a claim by name, and says when there is none', async () => {
    stub.on('DELETE', `${LIST}/data`, { status: 200, body: claim('data') });
    expect(await berth('delete', 'pvc', 'data')).toBe(EXIT.OK);
    expect(io.output()).toBe('persistentvolumeclaim/data deleted\n');
    stub.on(
      'DELETE',
      `${LIST}/gone`,
      problem(404, 'NOT_FOUND', 'persistentvolumeclaim "default/gone" not found'),
    );
    expect(await berth('delete', 'pvc', 'gone')).toBe(EXIT.NOT_FOUND);
    expect(io.errors()).toContain('persistentvolumeclaim/gone not found');
  });
});
