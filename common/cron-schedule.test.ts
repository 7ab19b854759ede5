import { describe, expect, it } from 'vitest';
import { decideCronRun, lastDueTime, nextDueTime, scheduleIssues, TOO_MANY_MISSED } from './cron-schedule.ts';

const at = (iso: string) => new Date(iso);

/** The next `count` times after `from`, as ISO strings. */
function upcoming(schedule: string, from: string, count: number, timeZone?: string): string[] {
  const times: string[] = [];
  let after = at(from);
  for (let i = 0; i < count; i++) {
    after = nextDueTime({ schedule, timeZone, after });
    times.push(after.toISOString());
  }
  return times;
}

/** Every due time in (earliest, now], found with lastDueTime alone (walking back one at a time). */
function dueBetween(schedule: string, earliest: string, now: string, timeZone?: string): string[] {
  const times: string[] = [];
  let until = at(now);
  for (;;) {
    const { time } = lastDueTime({ schedule, timeZone, earliest: at(earliest), now: until });
    if (time === null) return times;
    times.unshift(time.toISOString());
    until = new Date(time.getTime() - 1);
  }
}

describe('scheduleIssues', () => {
  it('accepts five fields with names, ranges, steps, lists and ?, and the macros', () => {
    for (const schedule of [
      '* * * * *',
      '*/5 * * * *',
      '0 9 * * MON-FRI',
      '0 9 * * mon,Wed,FRI',
      '0 0 1 JAN,jul *',
      '0 0 1 jan-MAR/2 *',
      '30 6-16/4 * * 1-5',
      '5/15 * * * *',
      '0 0 ? * *',
      '0 0 29 2 *',
      '0 0 31 2 MON',
      '  0  0 * * *  ',
      '@yearly',
      '@annually',
      '@monthly',
      '@weekly',
      '@daily',
      '@midnight',
      '@hourly',
    ])
      expect(scheduleIssues(schedule), schedule).toEqual([]);
  });

  it('refuses what Kubernetes refuses, at spec.schedule, saying why', () => {
    const cases: [string, string][] = [
      [
        '0 0 * * * *',
        'expected exactly 5 fields (minute hour day-of-month month day-of-week), found 6: [0 0 * * * *]',
      ],
      [
        '0 * * * ',
        'expected exactly 5 fields (minute hour day-of-month month day-of-week), found 4: [0 * * *]',
      ],
      ['', 'must not be empty'],
      ['@every 1h', '@every 1h: @every is not supported; use five fields or a macro (@hourly, @daily, ...)'],
      ['@reboot', 'unrecognized descriptor: @reboot'],
      ['@Daily', 'unrecognized descriptor: @Daily'],
      ['TZ=Europe/Berlin 0 * * * *', 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'],
      ['CRON_TZ=UTC 0 * * * *', 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'],
      ['0 0 * * 7', 'day of week: end of range (7) above maximum (6): 7 (Sunday is 0)'],
      ['60 * * * *', 'minute: end of range (60) above maximum (59): 60'],
      ['0 24 * * *', 'hour: end of range (24) above maximum (23): 24'],
      ['0 0 0 * *', 'day of month: beginning of range (0) below minimum (1): 0'],
      ['0 0 * 13 *', 'month: end of range (13) above maximum (12): 13'],
      ['5-1 * * * *', 'minute: beginning of range (5) beyond end of range (1): 5-1'],
      ['*/0 * * * *', 'minute: step of range should be a positive number: */0'],
      ['1-2-3 * * * *', 'minute: too many hyphens: 1-2-3'],
      ['1/2/3 * * * *', 'minute: too many slashes: 1/2/3'],
      ['*-5 * * * *', 'minute: * cannot start a range: *-5'],
      ['1,,2 * * * *', 'minute: empty list element in 1,,2'],
      ['-1 * * * *', 'minute: failed to parse int from "": -1'],
      ['*/x * * * *', 'minute: failed to parse int from "x": */x'],
      ['MON * * * *', 'minute: failed to parse int from MON'],
      ['0 0 * * MONDAY', 'day of week: failed to parse int from MONDAY'],
      ['0 0 L * *', 'day of month: failed to parse int from L'],
      ['0 0 15W * *', 'day of month: failed to parse int from 15W'],
      ['0 0 * * 5#3', 'day of week: failed to parse int from 5#3'],
      ['H * * * *', 'minute: failed to parse int from H'],
      ['0 0 30 2 *', 'never fires: day of month 30 does not occur in month 2'],
      ['0 0 31 4,6,9,11 *', 'never fires: day of month 31 does not occur in month 4,6,9,11'],
    ];
    for (const [schedule, message] of cases)
      expect(scheduleIssues(schedule), schedule).toEqual([{ path: ['schedule'], message }]);
  });

  it('takes IANA time zone names and refuses others at spec.timeZone', () => {
    for (const zone of ['Etc/UTC', 'UTC', 'America/New_York', 'Asia/Kolkata', 'Etc/GMT+5'])
      expect(scheduleIssues('0 0 * * *', zone), zone).toEqual([]);
    const cases: [string, string][] = [
      ['Mars/Base', 'unknown time zone Mars/Base'],
      ['', 'timeZone must be nil or non-empty string'],
      ['Local', 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'],
      ['+05:30', 'unknown time zone +05:30'],
      ['../etc/passwd', 'unknown time zone ../etc/passwd'],
    ];
    for (const [zone, message] of cases)
      expect(scheduleIssues('0 0 * * *', zone), zone).toEqual([{ path: ['timeZone'], message }]);
    expect(scheduleIssues('@every 5m', 'Mars/Base').map((i) => i.path)).toEqual([['schedule'], ['timeZone']]);
  });
});

describe('what a schedule means', () => {
  it('reads names as their numbers, in any case', () => {
    const from = '2026-12-05T12:00:00Z'; // a Saturday
    expect(upcoming('0 9 * * MON-FRI', from, 6)).toEqual(upcoming('0 9 * * 1-5', from, 6));
    expect(upcoming('0 9 * * MON-FRI', from, 2)).toEqual([
      '2026-12-07T09:00:00.000Z',
      '2026-12-08T09:00:00.000Z',
    ]);
    expect(upcoming('0 0 1 jan,Jul *', from, 2)).toEqual([
      '2027-01-01T00:00:00.000Z',
      '2027-07-01T00:00:00.000Z',
    ]);
  });

  it('runs N/step from N to the end of the field', () => {
    expect(upcoming('5/15 * * * *', '2026-12-05T12:00:00Z', 5).map((t) => t.slice(11, 16))).toEqual([
      '12:05',
      '12:20',
      '12:35',
      '12:50',
      '13:05',
    ]);
  });

  it('matches day of month or day of week when both are restricted, both when either is *', () => {
    // Friday the 13th in Kubernetes is every 13th and every Friday.
    expect(upcoming('0 0 13 * FRI', '2026-12-05T12:00:00Z', 3)).toEqual([
      '2026-12-11T00:00:00.000Z',
      '2026-12-13T00:00:00.000Z',
      '2026-12-18T00:00:00.000Z',
    ]);
    // A day of month written as a full range is still restricted: with Monday, that is every day.
    expect(upcoming('0 0 1-31 * 1', '2026-12-05T12:00:00Z', 2)).toEqual([
      '2026-12-06T00:00:00.000Z',
      '2026-12-07T00:00:00.000Z',
    ]);
    // `*` and `?` leave the day of week to decide alone.
    expect(upcoming('0 0 * * 1', '2026-12-05T12:00:00Z', 2)).toEqual(
      upcoming('0 0 ? * MON', '2026-12-05T12:00:00Z', 2),
    );
    expect(upcoming('0 0 * * 1', '2026-12-05T12:00:00Z', 2)).toEqual([
      '2026-12-07T00:00:00.000Z',
      '2026-12-14T00:00:00.000Z',
    ]);
    // `*/1` is still a star to Kubernetes: Mondays only, not every day.
    expect(upcoming('0 0 */1 * MON', '2026-12-05T12:00:00Z', 2)).toEqual([
      '2026-12-07T00:00:00.000Z',
      '2026-12-14T00:00:00.000Z',
    ]);
    // A day that February lacks, with a weekday, fires on the weekday.
    expect(upcoming('0 0 31 2 MON', '2027-02-01T12:00:00Z', 2)).toEqual([
      '2027-02-08T00:00:00.000Z',
      '2027-02-15T00:00:00.000Z',
    ]);
    expect(upcoming('0 0 28,29 2 *', '2027-03-01T00:00:00Z', 2)).toEqual([
      '2028-02-28T00:00:00.000Z',
      '2028-02-29T00:00:00.000Z',
    ]);
    // A leap day comes round.
    expect(upcoming('0 0 29 2 *', '2026-12-05T12:00:00Z', 2)).toEqual([
      '2028-02-29T00:00:00.000Z',
      '2032-02-29T00:00:00.000Z',
    ]);
  });

  it('gives the macros their Kubernetes meaning', () => {
    const from = '2026-12-05T12:34:00Z';
    expect(upcoming('@yearly', from, 1)).toEqual(['2027-01-01T00:00:00.000Z']);
    expect(upcoming('@annually', from, 1)).toEqual(['2027-01-01T00:00:00.000Z']);
    expect(upcoming('@monthly', from, 1)).toEqual(['2027-01-01T00:00:00.000Z']);
    expect(upcoming('@weekly', from, 2)).toEqual(['2026-12-06T00:00:00.000Z', '2026-12-13T00:00:00.000Z']);
    expect(upcoming('@daily', from, 1)).toEqual(['2026-12-06T00:00:00.000Z']);
    expect(upcoming('@midnight', from, 1)).toEqual(['2026-12-06T00:00:00.000Z']);
    expect(upcoming('@hourly', from, 2)).toEqual(['2026-12-05T13:00:00.000Z', '2026-12-05T14:00:00.000Z']);
  });

  it('reads the schedule in its time zone (UTC when there is none)', () => {
    const from = '2026-12-05T12:01:00Z';
    // Kolkata is UTC+05:30: */5 still falls on UTC's fives, the hour on UTC's half hours.
    expect(upcoming('*/5 * * * *', from, 3, 'Asia/Kolkata')).toEqual([
      '2026-12-05T12:05:00.000Z',
      '2026-12-05T12:10:00.000Z',
      '2026-12-05T12:15:00.000Z',
    ]);
    expect(upcoming('0 * * * *', from, 2, 'Asia/Kolkata')).toEqual([
      '2026-12-05T12:30:00.000Z',
      '2026-12-05T13:30:00.000Z',
    ]);
    expect(upcoming('0 9 * * *', from, 1, 'Asia/Kolkata')).toEqual(['2026-12-06T03:30:00.000Z']);
    expect(upcoming('0 9 * * *', from, 1)).toEqual(['2026-12-06T09:00:00.000Z']);
    expect(upcoming('0 9 * * *', from, 1, 'Etc/UTC')).toEqual(['2026-12-06T09:00:00.000Z']);
    expect(dueBetween('*/5 * * * *', '2026-12-05T11:50:00Z', '2026-12-05T12:05:00Z', 'Asia/Kolkata')).toEqual(
      ['2026-12-05T11:55:00.000Z', '2026-12-05T12:00:00.000Z', '2026-12-05T12:05:00.000Z'],
    );
  });

  it('skips a time that a spring-forward gap swallows, the same way forwards and backwards', () => {
    // 2026-03-08: New York's clocks go from 02:00 EST straight to 03:00 EDT; there is no 02:30.
    const daily = '30 2 * * *';
    const zone = 'America/New_York';
    const expected = ['2026-03-07T07:30:00.000Z', '2026-03-09T06:30:00.000Z', '2026-03-10T06:30:00.000Z'];
    expect(upcoming(daily, '2026-03-06T12:00:00Z', 3, zone)).toEqual(expected);
    expect(dueBetween(daily, '2026-03-06T12:00:00Z', '2026-03-10T12:00:00Z', zone)).toEqual(expected);
    // Hourly: 01:00 EST, then 03:00 EDT.
    expect(dueBetween('0 * * * *', '2026-03-08T05:30:00Z', '2026-03-08T07:30:00Z', zone)).toEqual([
      '2026-03-08T06:00:00.000Z',
      '2026-03-08T07:00:00.000Z',
    ]);
    // A schedule that only names the missing time waits for the next year that has it.
    expect(upcoming('30 2 8 3 *', '2026-03-01T00:00:00Z', 1, zone)).toEqual(['2027-03-08T07:30:00.000Z']);
    expect(
      lastDueTime({
        schedule: '30 2 8 3 *',
        timeZone: zone,
        earliest: at('2026-03-01T00:00:00Z'),
        now: at('2026-03-31T00:00:00Z'),
      }),
    ).toEqual({ time: null, missed: 0 });
  });

  it('runs an hourly schedule in both of the hours that fall back, a daily one once', () => {
    // 2026-11-01: New York's 01:00-02:00 happens twice, first EDT (05:00Z) then EST (06:00Z).
    const expected = ['2026-11-01T05:00:00.000Z', '2026-11-01T06:00:00.000Z', '2026-11-01T07:00:00.000Z'];
    expect(upcoming('0 * * * *', '2026-11-01T04:30:00Z', 3, 'America/New_York')).toEqual(expected);
    expect(
      dueBetween('0 * * * *', '2026-11-01T04:30:00Z', '2026-11-01T07:00:00Z', 'America/New_York'),
    ).toEqual(expected);
    // 01:30 comes twice; a schedule that names it runs in the first.
    const daily = ['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'];
    expect(upcoming('30 1 * * *', '2026-10-30T12:00:00Z', 3, 'America/New_York')).toEqual(daily);
    expect(
      dueBetween('30 1 * * *', '2026-10-30T12:00:00Z', '2026-11-02T12:00:00Z', 'America/New_York'),
    ).toEqual(daily);
  });

  it('agrees with itself through a whole year of a New York 02:30', () => {
    const zone = 'America/New_York';
    const forwards = upcoming('30 2 * * *', '2025-12-31T12:00:00Z', 364, zone);
    expect(forwards.at(-1)).toBe('2026-12-31T07:30:00.000Z'); // 365 days less the one without a 02:30
    // Month by month, the backward walk finds and counts the same times.
    for (let month = 0; month < 12; month++) {
      const earliest = new Date(Date.UTC(2026, month, 1));
      const now = new Date(Date.UTC(2026, month + 1, 1));
      const inMonth = forwards.filter((t) => t > earliest.toISOString() && t <= now.toISOString());
      expect(
        lastDueTime({ schedule: '30 2 * * *', timeZone: zone, earliest, now }),
        `month ${month + 1}`,
      ).toEqual({
        time: at(inMonth.at(-1)!),
        missed: inMonth.length,
      });
    }
  });
});

describe('lastDueTime', () => {
  const schedule = '*/5 * * * *';

  it('excludes earliest and includes now', () => {
    expect(
      lastDueTime({ schedule, earliest: at('2026-12-05T12:00:00Z'), now: at('2026-12-05T12:05:00Z') }),
    ).toEqual({
      time: at('2026-12-05T12:05:00Z'),
      missed: 1,
    });
    expect(
      lastDueTime({ schedule, earliest: at('2026-12-05T12:00:00Z'), now: at('2026-12-05T12:04:59.999Z') }),
    ).toEqual({ time: null, missed: 0 });
    expect(
      lastDueTime({ schedule, earliest: at('2026-12-05T12:00:00Z'), now: at('2026-12-05T12:00:00Z') }),
    ).toEqual({
      time: null,
      missed: 0,
    });
  });

  it('counts every due time in the window', () => {
    expect(
      lastDueTime({ schedule, earliest: at('2026-12-05T11:00:00Z'), now: at('2026-12-05T12:02:00Z') }),
    ).toEqual({ time: at('2026-12-05T12:00:00Z'), missed: 12 });
    expect(
      lastDueTime({
        schedule: '@hourly',
        earliest: at('2026-12-05T09:59:59Z'),
        now: at('2026-12-05T12:30:00Z'),
      }),
    ).toEqual({ time: at('2026-12-05T12:00:00Z'), missed: 3 });
  });

  it('has nothing due when now is before earliest (a clock that went back)', () => {
    expect(
      lastDueTime({ schedule, earliest: at('2026-12-05T12:00:00Z'), now: at('2026-12-05T11:00:00Z') }),
    ).toEqual({
      time: null,
      missed: 0,
    });
  });

  it('finds the latest time of a year-long outage of a minutely schedule without walking the year', () => {
    const input = {
      schedule: '* * * * *',
      earliest: at('2025-12-05T12:00:30Z'),
      now: at('2026-12-05T12:00:30Z'),
    };
    lastDueTime(input); // loads cron-parser's and luxon's code, which the guard below should not time
    const started = performance.now();
    const due = lastDueTime(input);
    const took = performance.now() - started;
    expect(due).toEqual({ time: at('2026-12-05T12:00:00Z'), missed: TOO_MANY_MISSED + 1 });
    // Only a guard against walking all 525,600 minutes (thousands of times the 101 steps taken).
    expect(took).toBeLessThan(1000);
  });

  it('throws on a schedule scheduleIssues refuses', () => {
    expect(() =>
      lastDueTime({
        schedule: '@every 1m',
        earliest: at('2026-12-05T12:00:00Z'),
        now: at('2026-12-05T12:05:00Z'),
      }),
    ).toThrow(/@every/);
  });
});

describe('nextDueTime', () => {
  it('is strictly after', () => {
    expect(nextDueTime({ schedule: '*/5 * * * *', after: at('2026-12-05T12:05:00Z') })).toEqual(
      at('2026-12-05T12:10:00Z'),
    );
    expect(nextDueTime({ schedule: '*/5 * * * *', after: at('2026-12-05T12:04:59.999Z') })).toEqual(
      at('2026-12-05T12:05:00Z'),
    );
    expect(nextDueTime({ schedule: '*/5 * * * *', after: at('2026-12-05T12:05:00.001Z') })).toEqual(
      at('2026-12-05T12:10:00Z'),
    );
  });

  it('throws on a time zone scheduleIssues refuses', () => {
    expect(() =>
      nextDueTime({ schedule: '@daily', timeZone: 'Mars/Base', after: at('2026-12-05T12:00:00Z') }),
    ).toThrow(/unknown time zone Mars\/Base/);
  });
});

describe('decideCronRun', () => {
  const hourly = '0 * * * *';

  it('has nothing to do between due times, and says when to look again', () => {
    expect(
      decideCronRun({
        schedule: '*/5 * * * *',
        earliest: at('2026-12-05T12:00:00Z'),
        now: at('2026-12-05T12:03:00Z'),
      }),
    ).toEqual({ kind: 'none', next: at('2026-12-05T12:05:00Z') });
  });

  it('runs the latest due time, counting what it missed', () => {
    expect(
      decideCronRun({
        schedule: hourly,
        earliest: at('2026-12-05T12:00:00Z'),
        now: at('2026-12-05T13:00:02Z'),
      }),
    ).toEqual({
      kind: 'run',
      time: at('2026-12-05T13:00:00Z'),
      missed: 1,
      tooManyMissed: false,
      next: at('2026-12-05T14:00:00Z'),
    });
    expect(
      decideCronRun({
        schedule: hourly,
        earliest: at('2026-12-05T09:00:00Z'),
        now: at('2026-12-05T12:30:00Z'),
      }),
    ).toEqual({
      kind: 'run',
      time: at('2026-12-05T12:00:00Z'),
      missed: 3,
      tooManyMissed: false,
      next: at('2026-12-05T13:00:00Z'),
    });
  });

  it('says too many missed after a year-long outage, and still runs the latest', () => {
    const decision = decideCronRun({
      schedule: '* * * * *',
      earliest: at('2025-12-05T12:00:30Z'),
      now: at('2026-12-05T12:00:30Z'),
    });
    expect(decision).toEqual({
      kind: 'run',
      time: at('2026-12-05T12:00:00Z'),
      missed: TOO_MANY_MISSED + 1,
      tooManyMissed: true,
      next: at('2026-12-05T12:01:00Z'),
    });
  });

  it('looks back only startingDeadlineSeconds, as Kubernetes does', () => {
    const outage = {
      schedule: '* * * * *',
      earliest: at('2025-12-05T12:00:30Z'),
      now: at('2026-12-05T12:00:30Z'),
    };
    expect(decideCronRun({ ...outage, startingDeadlineSeconds: 200 })).toEqual({
      kind: 'run',
      time: at('2026-12-05T12:00:00Z'),
      missed: 3, // 11:58, 11:59 and 12:00 are within 200 s of 12:00:30
      tooManyMissed: false,
      next: at('2026-12-05T12:01:00Z'),
    });
    expect(
      decideCronRun({
        schedule: hourly,
        earliest: at('2026-12-05T09:00:00Z'),
        now: at('2026-12-05T12:00:30Z'),
        startingDeadlineSeconds: 60,
      }),
    ).toMatchObject({ kind: 'run', time: at('2026-12-05T12:00:00Z'), missed: 1 });
  });

  it('skips a due time older than startingDeadlineSeconds', () => {
    const late = { schedule: hourly, earliest: at('2026-12-05T11:00:00Z'), startingDeadlineSeconds: 120 };
    expect(decideCronRun({ ...late, now: at('2026-12-05T12:05:00Z') })).toEqual({
      kind: 'missedDeadline',
      time: at('2026-12-05T12:00:00Z'),
      next: at('2026-12-05T13:00:00Z'),
    });
    // The deadline's edge: exactly startingDeadlineSeconds old is too late; a millisecond less is not.
    expect(decideCronRun({ ...late, now: at('2026-12-05T12:02:00Z') })).toMatchObject({
      kind: 'missedDeadline',
    });
    expect(decideCronRun({ ...late, now: at('2026-12-05T12:01:59.999Z') })).toMatchObject({
      kind: 'run',
      time: at('2026-12-05T12:00:00Z'),
    });
    // Passing the missed time as earliest is how a controller hears of it only once.
    expect(
      decideCronRun({ ...late, earliest: at('2026-12-05T12:00:00Z'), now: at('2026-12-05T12:05:00Z') }),
    ).toEqual({
      kind: 'none',
      next: at('2026-12-05T13:00:00Z'),
    });
    // Nothing due at all is not a miss.
    expect(
      decideCronRun({ ...late, earliest: at('2026-12-05T12:00:00Z'), now: at('2026-12-05T12:59:00Z') }),
    ).toMatchObject({ kind: 'none' });
  });

  it('waits for the first time after earliest when the clock is behind it', () => {
    expect(
      decideCronRun({
        schedule: hourly,
        earliest: at('2026-12-05T12:00:00Z'),
        now: at('2026-12-05T10:30:00Z'),
      }),
    ).toEqual({
      kind: 'none',
      next: at('2026-12-05T13:00:00Z'),
    });
  });

  it('reads the schedule in its time zone', () => {
    expect(
      decideCronRun({
        schedule: '0 9 * * *',
        timeZone: 'Asia/Kolkata',
        earliest: at('2026-12-05T00:00:00Z'),
        now: at('2026-12-05T04:00:00Z'),
      }),
    ).toEqual({
      kind: 'run',
      time: at('2026-12-05T03:30:00Z'),
      missed: 1,
      tooManyMissed: false,
      next: at('2026-12-06T03:30:00Z'),
    });
  });

  it('names what is wrong with a stored schedule instead of throwing', () => {
    const base = { earliest: at('2026-12-05T00:00:00Z'), now: at('2026-12-05T04:00:00Z') };
    expect(decideCronRun({ ...base, schedule: '0 0 * * * *' })).toEqual({
      kind: 'invalid',
      message:
        'spec.schedule: expected exactly 5 fields (minute hour day-of-month month day-of-week), found 6: [0 0 * * * *]',
    });
    expect(decideCronRun({ ...base, schedule: '@daily', timeZone: 'Mars/Base' })).toEqual({
      kind: 'invalid',
      message: 'spec.timeZone: unknown time zone Mars/Base',
    });
  });
});
