import { describe, expect, it } from 'vitest';
import { checkFlags, objectRef, parseCommandLine, parseCount, parseDuration } from './args.ts';
import { UsageError } from './exit-codes.ts';

describe('parseCommandLine', () => {
  it('takes flags before and after the verb, short and long', () => {
    const parsed = parseCommandLine(['-n', 'prod', 'get', 'deployments', '-o', 'wide', '--selector=app=web']);
    expect(parsed.positionals).toEqual(['get', 'deployments']);
    expect(parsed.flags).toMatchObject({ namespace: 'prod', output: 'wide', selector: 'app=web' });
    expect(parsed.given.sort()).toEqual(['namespace', 'output', 'selector']);
  });

  it('collects repeated -f', () => {
    expect(parseCommandLine(['apply', '-f', 'a.yaml', '-f', 'b/']).flags.filename).toEqual(['a.yaml', 'b/']);
  });

  it('turns unknown flags and missing values into usage errors', () => {
    expect(() => parseCommandLine(['get', '--frobnicate'])).toThrow(/unknown flag --frobnicate/);
    expect(() => parseCommandLine(['get', '-n'])).toThrow(UsageError);
  });
});

describe('checkFlags', () => {
  it('allows global flags everywhere and only listed ones otherwise', () => {
    expect(() => checkFlags(['namespace', 'server', 'token'], [], 'scale')).not.toThrow();
    expect(() => checkFlags(['replicas'], ['replicas'], 'scale')).not.toThrow();
    expect(() => checkFlags(['tail'], ['replicas'], 'scale')).toThrow('scale does not take --tail');
  });
});

describe('parseDuration', () => {
  it.each([
    ['5m', 300_000],
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['45', 45_000],
    ['500ms', 500],
    ['1.5m', 90_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text, 'timeout')).toBe(ms);
  });
  it.each(['', 'five', '5 m', '-1s', '5w', 'm5'])('rejects %j', (text) => {
    expect(() => parseDuration(text, 'timeout')).toThrow(/--timeout must be a duration/);
  });
});

describe('parseCount', () => {
  it('accepts whole numbers only', () => {
    expect(parseCount('0', 'replicas')).toBe(0);
    expect(() => parseCount('1.5', 'replicas')).toThrow(UsageError);
    expect(() => parseCount('0', 'tail', 1)).toThrow(/at least 1/);
  });
});

describe('objectRef', () => {
  it('reads kind/name and kind name, with aliases', () => {
    expect(objectRef(['deployment/web'], ['deployment'])).toEqual({
      kind: 'deployment',
      name: 'web',
      rest: [],
    });
    expect(objectRef(['deploy', 'web', 'x=y'], ['deployment'])).toEqual({
      kind: 'deployment',
      name: 'web',
      rest: ['x=y'],
    });
    expect(objectRef(['svc/web', '8080'], ['service'])).toEqual({
      kind: 'service',
      name: 'web',
      rest: ['8080'],
    });
  });
  it('falls back to a default kind for a bare name', () => {
    expect(objectRef(['web-2-abc'], ['deployment', 'replica'], 'replica')).toMatchObject({
      kind: 'replica',
      name: 'web-2-abc',
    });
  });
  it('rejects other kinds and missing names', () => {
    expect(() => objectRef(['service/web'], ['deployment'])).toThrow(/expected deployment, got service\/web/);
    expect(() => objectRef(['deployment'], ['deployment'])).toThrow(/missing the deployment name/);
    expect(() => objectRef(['deployment/'], ['deployment'])).toThrow(/missing a name/);
    expect(() => objectRef([], ['deployment'])).toThrow(/expected deployment\/NAME/);
  });
});
