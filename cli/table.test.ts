import { describe, expect, it } from 'vitest';
import { renderView, serviceView } from './commands/get.ts';
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
  it('renders services with ports and hosts', () => {
    const out = renderView(
      serviceView,
      [
        {
          metadata: { name: 'web' },
          spec: {
            selector: { app: 'web' },
            ports: [{ port: 80, targetPort: 'http' }],
            hosts: ['a.example.com', 'b.example.com'],
          },
        },
      ],
      'table',
      new Date(),
    );
    expect(out.split('\n')[1]).toBe(
      'web    app=web    80->http/TCP   a.example.com,b.example.com   <unknown>',
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
