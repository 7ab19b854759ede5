import { describe, expect, it } from 'vitest';
import { expandVariables } from './env-expansion.ts';

const vars: Record<string, string> = { HOST: 'db', PORT: '5432', EMPTY: '', DOLLAR: '$(HOST)' };
const expand = (s: string) => expandVariables(s, (name) => vars[name]);

describe('$(VAR) expansion as Kubernetes does it', () => {
  it.each([
    ['$(HOST):$(PORT)', 'db:5432'],
    ['postgres://$(HOST)/x', 'postgres://db/x'],
    ['$(EMPTY)x', 'x'],
    ['$(UNKNOWN)', '$(UNKNOWN)'],
    ['a $(UNKNOWN) b $(HOST)', 'a $(UNKNOWN) b db'],
    ['$$(HOST)', '$(HOST)'],
    ['$$$(HOST)', '$db'],
    ['$$', '$'],
    ['$$$$', '$$'],
    ['cost: $5', 'cost: $5'],
    ['$', '$'],
    ['x$', 'x$'],
    ['$(HOST', '$(HOST'],
    ['$(', '$('],
    ['$()', '$()'],
    ['$(HOST)$(PORT)', 'db5432'],
    ['${HOST}', '${HOST}'],
    // A value is not expanded again: what a variable holds is taken as it is.
    ['$(DOLLAR)', '$(HOST)'],
    ['plain', 'plain'],
    ['', ''],
  ])('%j → %j', (input, output) => {
    expect(expand(input)).toBe(output);
  });
});
