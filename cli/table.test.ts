import { describe, expect, it } from 'vitest';
import { endpointsView, renderView, serviceView } from './commands/get.ts';
import { formatAge } from './format.ts';
import { renderFields, renderTable } from './table.ts';

describe('renderTable', () => {
  it('aligns columns three spaces apart with upper-case headers and no trailing blanks', () => {
    expect(
      renderTable(
        ['name', 'ready', 'age'],
        [
          ['web', '3/3', '5m'],
          ['api-gateway', '0/1', undefined],
        ],
      ),
    ).toBe(
      ['NAME          READY   AGE', 'web           3/3     5m', 'api-gateway   0/1     <none>', ''].join(
        '\n',
      ),
    );
  });

  it('counts characters, not bytes, and flattens newlines', () => {
    const out = renderTable(
      ['name', 'message'],
      [
        ['café', 'line one\nline two'],
        ['x', 'ok'],
      ],
    );
    expect(out.split('\n')).toEqual(['NAME   MESSAGE', 'café   line one line two', 'x      ok', '']);
  });

  it('prints only headers for no rows', () => {
    expect(renderTable(['a', 'b'], [])).toBe('A   B\n');
  });
});

describe('renderFields', () => {
  it('aligns values after the longest key', () => {
    expect(
      renderFields([
        ['Name', 'web'],
        ['Namespace', 'default'],
      ]),
    ).toBe('Name:       web\nNamespace:  default\n');
  });
});

describe('views', () => {
  it('renders services as kubectl does: type, cluster IP, external IP, ports with node ports', () => {
    const now = new Date('2025-01-01T12:00:00Z');
    const created = '2025-01-01T11:50:00Z';
    const out = renderView(
      serviceView,
      [
        {
          metadata: { name: 'web', createdAt: created },
          spec: {
            selector: { app: 'web' },
            clusterIP: '10.96.0.10',
            ports: [{ port: 80, targetPort: 'http', protocol: 'TCP' }],
            hosts: ['a.example.com', 'b.example.com'],
          },
        },
        {
          metadata: { name: 'lb', createdAt: created },
          spec: {
            type: 'LoadBalancer',
            selector: { app: 'web' },
            clusterIP: '10.96.0.11',
            ports: [
              { name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' },
              { name: 'dns', port: 53, nodePort: 30053, protocol: 'UDP' },
            ],
            hosts: [],
          },
        },
        {
          metadata: { name: 'db', createdAt: created },
          spec: { type: 'ExternalName', externalName: 'db.example.com', ports: [], hosts: [] },
        },
        {
          metadata: { name: 'peers', createdAt: created },
          spec: {
            clusterIP: 'None',
            selector: { app: 'db' },
            ports: [{ port: 5432, protocol: 'TCP' }],
            hosts: [],
          },
        },
      ],
      'wide',
      now,
    );
    expect(out).toBe(
      [
        'NAME    TYPE           CLUSTER-IP   EXTERNAL-IP      PORT(S)                     AGE   SELECTOR   HOSTS',
        'web     ClusterIP      10.96.0.10   <none>           80/TCP                      10m   app=web    a.example.com,b.example.com',
        'lb      LoadBalancer   10.96.0.11   <pending>        80:30080/TCP,53:30053/UDP   10m   app=web    <none>',
        'db      ExternalName   <none>       db.example.com   <none>                      10m   <none>     <none>',
        'peers   ClusterIP      None         <none>           5432/TCP                    10m   app=db     <none>',
        '',
      ].join('\n'),
    );
  });

  it('renders endpoints as node address:published port, three at most, with their nodes wide', () => {
    const endpoint = (node: string, address: string, port: number) => ({
      replica: `web-${port}`,
      deployment: 'web',
      revision: 1,
      node,
      address,
      port,
    });
    const out = renderView(
      endpointsView,
      [
        {
          name: 'web',
          items: [
            endpoint('n1', '10.0.0.1', 32001),
            endpoint('n1', '10.0.0.1', 32002),
            endpoint('n2', '10.0.0.2', 32003),
            endpoint('n2', '10.0.0.2', 32004),
          ],
        },
        { name: 'idle', items: [] },
      ],
      'wide',
      new Date(),
    );
    expect(out).toBe(
      [
        'NAME   ENDPOINTS                                                  AGE         NODES',
        'web    10.0.0.1:32001,10.0.0.1:32002,10.0.0.2:32003 + 1 more...   <unknown>   n1,n2',
        'idle   <none>                                                     <unknown>   <none>',
        '',
      ].join('\n'),
    );
  });
});

describe('formatAge', () => {
  const now = new Date('2025-01-01T12:00:00Z');
  it.each([
    ['2025-01-01T11:59:15Z', '45s'],
    ['2025-01-01T11:58:30Z', '90s'],
    ['2025-01-01T11:30:00Z', '30m'],
    ['2025-01-01T05:00:00Z', '7h'],
    ['2024-12-25T12:00:00Z', '7d'],
    ['2025-01-01T12:00:05Z', '0s'],
    [undefined, '<unknown>'],
    ['garbage', '<unknown>'],
  ])('%s → %s', (since, age) => {
    expect(formatAge(since, now)).toBe(age);
  });
});
