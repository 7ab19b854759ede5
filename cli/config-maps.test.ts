import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from './exit-codes.ts';
import { run } from './main.ts';
import { type CapturedIo, captureIo, problem, StubServer } from './testing/stub-server.ts';

let stub: StubServer;
let io: CapturedIo;
let dir: string;

beforeEach(async () => {
  stub = await new StubServer().start();
  dir = await mkdtemp(join(tmpdir(), 'berth-cm-'));
  io = captureIo({ cwd: dir });
  io.env.BERTH_SERVER = stub.url;
  io.env.BERTH_TOKEN = 'tok';
});
afterEach(() => stub.stop());

const berth = (...argv: string[]) => run(argv, io);
const PATH = '/v1/namespaces/default/configmaps/app';

describe('berth create configmap', () => {
  it('sends literals and files (named, by base name, a directory; bytes not UTF-8 as binaryData)', async () => {
    await writeFile(join(dir, 'app.conf'), 'a=1\n');
    await writeFile(join(dir, 'raw.txt'), 'renamed');
    await mkdir(join(dir, 'conf.d'));
    await writeFile(join(dir, 'conf.d', 'one.ini'), 'x');
    await writeFile(join(dir, 'conf.d', 'logo.bin'), Buffer.from([0xff, 0x00, 0x01]));
    stub.on('GET', PATH, problem(404, 'NOT_FOUND', 'configmap "default/app" not found'));
    stub.on('PUT', PATH, { status: 201, body: {} });
    const code = await berth(
      'create',
      'configmap',
      'app',
      '--from-literal',
      'MODE=prod',
      '--from-literal=GREETING=a=b',
      '--from-file',
      'app.conf',
      '--from-file',
      'renamed.txt=raw.txt',
      '--from-file',
      'conf.d',
    );
    expect([code, io.errors()]).toEqual([EXIT.OK, '']);
    expect(io.output()).toBe('configmap/app created\n');
    expect(stub.sent('PUT', PATH)[0]!.json).toEqual({
      metadata: { name: 'app' },
      data: { MODE: 'prod', GREETING: 'a=b', 'app.conf': 'a=1\n', 'renamed.txt': 'renamed', 'one.ini': 'x' },
      binaryData: { 'logo.bin': '/wAB' },
    });
  });

  it('refuses a ConfigMap that exists (as kubectl create does), a bad literal and a duplicate key', async () => {
    stub.on('GET', PATH, { status: 200, body: { metadata: { name: 'app' } } });
    expect(await berth('create', 'configmap', 'app', '--from-literal', 'K=v')).toBe(EXIT.FAILURE);
    expect(io.errors()).toContain('configmap "app" already exists in namespace default');
    expect(stub.sent('PUT', PATH)).toHaveLength(0);
    expect(await berth('create', 'configmap', 'app', '--from-literal', 'novalue')).toBe(EXIT.USAGE);
    expect(await berth('create', 'configmap', 'app', '--from-literal', 'K=1', '--from-literal', 'K=2')).toBe(
      EXIT.USAGE,
    );
    expect(io.errors()).toContain('key "K" is given twice');
  });
});

describe('berth get configmaps', () => {
  it('lists name, number of keys and age; -o wide names the keys', async () => {
    const items = [
      {
        metadata: { name: 'app', createdAt: '2025-01-01T00:00:00Z' },
        data: { A: '1', B: '2' },
        binaryData: { logo: 'AA==' },
        immutable: true,
      },
    ];
    stub.on('GET', '/v1/namespaces/default/configmaps', { status: 200, body: { items } });
    expect(await berth('get', 'configmaps', '-l', 'app=web')).toBe(EXIT.OK);
    expect(stub.requests[0]!.query.get('labelSelector')).toBe('app=web');
    expect(io.output().split('\n')[1]).toMatch(/^app\s+3\s+10m$/);
    expect(await berth('get', 'cm', '-o', 'wide')).toBe(EXIT.OK);
    expect(io.output()).toMatch(/app\s+3\s+10m\s+A,B,logo\s+true/);
  });
});
