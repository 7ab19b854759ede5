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
const LIST = '/v1/namespaces/default/ingresses';

const backend = (name: string, port: Record<string, unknown>) => ({ service: { name, port } });
const shop = {
  metadata: { name: 'shop', createdAt: '2025-01-01T00:00:00Z' },
  spec: {
    ingressClassName: 'berth',
    rules: [
      {
        host: 'shop.example.com',
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: backend('web', { number: 80 }) },
            { path: '/api', pathType: 'Exact', backend: backend('api', { name: 'http' }) },
          ],
        },
      },
      {
        host: '*.shop.example.com',
        http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('web', { number: 80 }) }] },
      },
    ],
  },
};
const docs = {
  metadata: { name: 'docs', createdAt: '2025-01-01T00:00:00Z' },
  spec: {
    rules: [
      {
        host: 'docs.example.com',
        http: {
          paths: [
            { path: '/', pathType: 'ImplementationSpecific', backend: backend('docs', { number: 8080 }) },
          ],
        },
      },
    ],
  },
};

describe('berth get ingresses', () => {
  it('lists class, hosts, address and ports as kubectl does, and the rules with -o wide', async () => {
    stub.on('GET', LIST, { status: 200, body: { items: [shop, docs] } });
    expect(await berth('get', 'ingresses')).toBe(EXIT.OK);
    const lines = io.output().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE$/);
    expect(lines[1]).toMatch(
      /^shop\s+berth\s+shop\.example\.com,\*\.shop\.example\.com\s+<none>\s+80\s+10m$/,
    );
    expect(lines[2]).toMatch(/^docs\s+berth\s+docs\.example\.com\s+<none>\s+80\s+10m$/);

    io = captureIo();
    io.env.BERTH_SERVER = stub.url;
    io.env.BERTH_TOKEN = 'tok';
    expect(await berth('get', 'ing', '-o', 'wide')).toBe(EXIT.OK);
    const wide = io.output().trimEnd().split('\n');
    expect(wide[0]).toMatch(/\s+AGE\s+RULES$/);
    expect(wide[1]).toContain(
      'shop.example.com/ -> web:80,shop.example.com=/api -> api:http,*.shop.example.com/ -> web:80',
    );
    expect(wide[2]).toContain('docs.example.com/ -> docs:8080');
  });

  it('reads one by name, and says when a namespace has none', async () => {
    stub.on('GET', `${LIST}/shop`, { status: 200, body: shop });
    expect(await berth('get', 'ingress/shop', '-o', 'name')).toBe(EXIT.OK);
    expect(io.output()).toBe('ingress/shop\n');
    stub.on('GET', LIST, { status: 200, body: { items: [] } });
    expect(await berth('get', 'ingress')).toBe(EXIT.OK);
    expect(io.errors()).toContain('No ingresses found in namespace default.');
  });
});

describe('berth delete ingress', () => {
  it('deletes by name, and says when there is none', async () => {
    stub.on('DELETE', `${LIST}/shop`, { status: 200, body: shop });
    expect(await berth('delete', 'ingress', 'shop')).toBe(EXIT.OK);
    expect(io.output()).toBe('ingress/shop deleted\n');
    stub.on('DELETE', `${LIST}/gone`, problem(404, 'NOT_FOUND', 'ingress "default/gone" not found'));
    expect(await berth('delete', 'ing', 'gone')).toBe(EXIT.NOT_FOUND);
    expect(io.errors()).toContain('ingress/gone not found');
  });
});

describe('berth describe ingress', () => {
  it('shows each rule path with its type and backend, and the annotations kept as metadata', async () => {
    stub.on('GET', `${LIST}/docs`, {
      status: 200,
      body: {
        ...docs,
        metadata: {
          ...docs.metadata,
          namespace: 'default',
          annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/' },
        },
      },
    });
    expect(await berth('describe', 'ingress', 'docs')).toBe(EXIT.OK);
    const out = io.output();
    expect(out).toMatch(/^Name:\s+docs$/m);
    expect(out).toMatch(/^Ingress Class:\s+berth \(not set\)$/m);
    expect(out).toMatch(/^ {2}HOST\s+PATH\s+PATH TYPE\s+BACKEND$/m);
    expect(out).toMatch(/^ {2}docs\.example\.com\s+\/\s+ImplementationSpecific \(Prefix\)\s+docs:8080$/m);
    expect(out).toContain('Annotations:\n  nginx.ingress.kubernetes.io/rewrite-target: /\n');
  });
});
