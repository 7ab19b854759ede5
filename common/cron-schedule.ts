import { type CronExpression, CronExpressionParser } from 'cron-parser';

/**
 * When a CronJob fires: its `spec.schedule` read as Kubernetes reads it (five fields, or a macro),
 * in `spec.timeZone`, and the decision the controller takes at `now`, as Kubernetes' CronJob
 * controller takes it (mostRecentScheduleTime, nextScheduleTime).
 *
 * Pure: no clock, no I/O. cron-parser walks the calendar (it brings luxon for time zones, and
 * nothing of Node's reaches a bundle); the grammar is parsed here, so that what Berth accepts is what
 * Kubernetes accepts and means the same: a day-of-month and a day-of-week that are both restricted
 * match either (a `*` or `?` in one of them, unstepped, makes it the other alone), `N/step` runs
 * from N to the field's end, day of week is 0-6 (Sunday is 0).
 *
 * An absent timeZone is UTC: Berth's control plane has no local zone of its own (Workers run in
 * UTC), where kube-controller-manager would use its host's. Across daylight-saving changes: a time
 * that a spring-forward gap swallows does not fire that day (as in Kubernetes); in the hour that
 * falling back repeats, a schedule naming every hour fires in both, others in the first only.
 */

/** Kubernetes warns of "too many missed start times" above this many. */
export const TOO_MANY_MISSED = 100;
/** Counting stops here: one more than TOO_MANY_MISSED says "too many" without walking an outage. */
const MISSED_CAP = TOO_MANY_MISSED + 1;

/** One problem with a CronJob's schedule, at its path under the CronJob's `spec`. */
export interface CronScheduleIssue {
  path: ['schedule'] | ['timeZone'];
  message: string;
}

/** The schedule's macros, as Kubernetes (robfig/cron's ParseStandard) spells them. */
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

interface Bounds {
  name: string;
  min: number;
  max: number;
  names?: Record<string, number>;
  hint?: string;
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const FIELDS: readonly Bounds[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: Object.fromEntries(MONTH_NAMES.map((n, i) => [n, i + 1])) },
  {
    name: 'day of week',
    min: 0,
    max: 6,
    names: Object.fromEntries(DAY_NAMES.map((n, i) => [n, i])),
    hint: ' (Sunday is 0)',
  },
];

/** The longest day of each month; February's 29th comes in leap years. */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A field's values, and whether it was written as `*` (or `?`) without a step. */
interface Field {
  values: number[];
  star: boolean;
}

/** Kubernetes' number: digits (a name where the field has names); no sign, no L, W, # or H. */
function parseValue(text: string, bounds: Bounds, part: string): number | string {
  const named = bounds.names?.[text.toLowerCase()];
  if (named !== undefined) return named;
  if (!/^\d+$/.test(text))
    return text === part ? `failed to parse int from ${text}` : `failed to parse int from "${text}": ${part}`;
  return Number(text);
}

/** One comma-separated field: `*`, `?`, N, N-M, each with an optional /step. */
function parseField(text: string, bounds: Bounds): Field | string {
  const values = new Set<number>();
  let star = false;
  for (const part of text.split(',')) {
    if (part === '') return `empty list element in ${text}`;
    const [range = '', step, ...more] = part.split('/');
    if (more.length > 0) return `too many slashes: ${part}`;
    const ends = range.split('-');
    let start: number;
    let end: number;
    let partStar = false;
    if (ends[0] === '*' || ends[0] === '?') {
      if (ends.length > 1) return `${ends[0]} cannot start a range: ${part}`;
      start = bounds.min;
      end = bounds.max;
      partStar = true;
    } else {
      if (ends.length > 2) return `too many hyphens: ${part}`;
      const low = parseValue(ends[0]!, bounds, part);
      if (typeof low === 'string') return low;
      const high = ends.length === 2 ? parseValue(ends[1]!, bounds, part) : low;
      if (typeof high === 'string') return high;
      start = low;
      end = high;
    }
    let every = 1;
    if (step !== undefined) {
      if (!/^\d+$/.test(step)) return `failed to parse int from "${step}": ${part}`;
      every = Number(step);
      // `N/step` runs from N to the field's end.
      if (ends.length === 1) end = bounds.max;
      if (every > 1) partStar = false;
    }
    if (start < bounds.min) return `beginning of range (${start}) below minimum (${bounds.min}): ${part}`;
    if (end > bounds.max)
      return `end of range (${end}) above maximum (${bounds.max}): ${part}${bounds.hint ?? ''}`;
    if (start > end) return `beginning of range (${start}) beyond end of range (${end}): ${part}`;
    if (every === 0) return `step of range should be a positive number: ${part}`;
    for (let v = start; v <= end; v += every) values.add(v);
    star ||= partStar;
  }
  return { values: [...values].sort((a, b) => a - b), star };
}

/** A schedule parsed: the expression cron-parser walks, with the day rule written out. */
type Compiled = { expression: string } | { message: string };

function compile(schedule: string): Compiled {
  const text = schedule.trim();
  if (text === '') return { message: 'must not be empty' };
  // Kubernetes refuses any TZ in the schedule (not only a prefix) in favour of spec.timeZone.
  if (schedule.includes('TZ'))
    return { message: 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead' };
  let spec = text;
  if (text.startsWith('@')) {
    if (text.startsWith('@every'))
      return {
        message: `${text}: @every is not supported; use five fields or a macro (@hourly, @daily, ...)`,
      };
    const macro = MACROS[text];
    if (macro === undefined) return { message: `unrecognized descriptor: ${text}` };
    spec = macro;
  }
  const parts = spec.split(/\s+/);
  if (parts.length !== FIELDS.length)
    return {
      message: `expected exactly 5 fields (minute hour day-of-month month day-of-week), found ${parts.length}: [${parts.join(' ')}]`,
    };
  const fields: Field[] = [];
  for (const [i, bounds] of FIELDS.entries()) {
    const field = parseField(parts[i]!, bounds);
    if (typeof field === 'string') return { message: `${bounds.name}: ${field}` };
    fields.push(field);
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [Field, Field, Field, Field, Field];
  // Days of the month ANDed with an unrestricted day of week must exist in one of the months, or the
  // schedule never fires (Kubernetes accepts it and then reports an invalid schedule at every sync).
  if (dayOfWeek.star && !month.values.some((m) => dayOfMonth.values[0]! <= MONTH_DAYS[m - 1]!))
    return { message: `never fires: day of month ${parts[2]} does not occur in month ${parts[3]}` };
  // cron-parser treats exactly `*` as unrestricted and anything else as restricted, so the day
  // fields are written as `*` when Kubernetes sees a star and as a list otherwise.
  const list = (f: Field) => f.values.join(',');
  const expression = [
    '0',
    list(minute),
    list(hour),
    dayOfMonth.star ? '*' : list(dayOfMonth),
    list(month),
    dayOfWeek.star ? '*' : list(dayOfWeek),
  ].join(' ');
  return { expression };
}

/** Kubernetes' rules for spec.timeZone, then whether this runtime knows the zone. */
function timeZoneIssue(timeZone: string): string | undefined {
  if (timeZone === '') return 'timeZone must be nil or non-empty string';
  const parts = timeZone.split('/');
  if (parts.some((p) => p === '.' || p === '..' || p.startsWith('-') || !/^[A-Za-z.\-_0-9+]{1,14}$/.test(p)))
    return `unknown time zone ${timeZone}`;
  if (timeZone.toLowerCase() === 'local')
    return 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    return `unknown time zone ${timeZone}`;
  }
  return undefined;
}

/**
 * What is wrong with a CronJob's schedule and time zone, as Kubernetes' validation says it: five
 * fields (minute hour day-of-month month day-of-week: numbers, `*`, `?`, ranges, steps, lists, and
 * the names JAN-DEC and SUN-SAT in any case) or one of the macros @yearly @annually @monthly @weekly
 * @daily @midnight @hourly. Refused: a seconds field, @every, @reboot, TZ= or CRON_TZ= in the
 * schedule, L W # H, a day of week 7, a schedule that can never fire, and a time zone that is not
 * an IANA name this runtime knows.
 */
export function scheduleIssues(schedule: string, timeZone?: string): CronScheduleIssue[] {
  const issues: CronScheduleIssue[] = [];
  const compiled = compile(schedule);
  if ('message' in compiled) issues.push({ path: ['schedule'], message: compiled.message });
  const zone = timeZone === undefined ? undefined : timeZoneIssue(timeZone);
  if (zone !== undefined) issues.push({ path: ['timeZone'], message: zone });
  return issues;
}

/**
 * A schedule ready to walk, or the first issue that stops it. One call's walks share it, moved with
 * reset(): parsing costs more than a step.
 */
function prepare(schedule: string, timeZone: string | undefined): CronExpression | string {
  const compiled = compile(schedule);
  if ('message' in compiled) return `spec.schedule: ${compiled.message}`;
  const zone = timeZone === undefined ? undefined : timeZoneIssue(timeZone);
  if (zone !== undefined) return `spec.timeZone: ${zone}`;
  // Every walk resets the start first; epoch 0 only keeps the parser from reading the clock.
  return CronExpressionParser.parse(compiled.expression, { tz: timeZone ?? 'UTC', currentDate: 0 });
}

function prepared(schedule: string, timeZone: string | undefined): CronExpression {
  const ready = prepare(schedule, timeZone);
  if (typeof ready === 'string') throw new Error(`invalid CronJob schedule "${schedule}": ${ready}`);
  return ready;
}

/**
 * The most recent scheduled time in (earliest, now], and how many there were, counted up to
 * `cap`: walked backwards from now, so a year's outage of a minutely schedule costs `cap` steps.
 */
function lastDue(
  walk: CronExpression,
  earliest: number,
  now: number,
  cap: number,
): { time: Date | null; missed: number } {
  if (now <= earliest) return { time: null, missed: 0 };
  // prev() is strictly before its start: one millisecond past now makes now itself a candidate.
  walk.reset(new Date(now + 1));
  let time: Date | null = null;
  let missed = 0;
  while (missed < cap) {
    let t: number;
    try {
      t = walk.prev().getTime();
    } catch {
      break; // nothing earlier within cron-parser's search: no more times in the window
    }
    if (t <= earliest) break;
    time ??= new Date(t);
    missed++;
  }
  return { time, missed };
}

function nextDue(walk: CronExpression, after: number): Date {
  walk.reset(new Date(after));
  let t = walk.next().getTime();
  // A time that a spring-forward gap swallows (02:30 on the day clocks jump from 02:00 to 03:00)
  // does not happen, as in Kubernetes; cron-parser's forward walk lands it on the hour after the
  // gap, its backward walk skips it. lastDue walks backwards, so a next time counts only when the
  // backward walk finds it too: the controller never waits for a time it will not see as due.
  for (let tries = 0; tries < 4 && lastDue(walk, t - 1, t, 1).time === null; tries++) {
    walk.reset(new Date(t));
    t = walk.next().getTime();
  }
  return new Date(t);
}

/**
 * Kubernetes' mostRecentScheduleTime: the latest scheduled time `t` with earliest < t <= now
 * (earliest: the CronJob's lastScheduleTime, or its creation time if it never ran), or null, and
 * how many scheduled times fell in that window, counted exactly up to TOO_MANY_MISSED + 1 and no
 * further. Throws on a schedule or zone that scheduleIssues refuses.
 */
export function lastDueTime(input: { schedule: string; timeZone?: string; earliest: Date; now: Date }): {
  time: Date | null;
  missed: number;
} {
  return lastDue(
    prepared(input.schedule, input.timeZone),
    input.earliest.getTime(),
    input.now.getTime(),
    MISSED_CAP,
  );
}

/** The first scheduled time strictly after `after`. Throws on a schedule or zone that scheduleIssues refuses. */
export function nextDueTime(input: { schedule: string; timeZone?: string; after: Date }): Date {
  return nextDue(prepared(input.schedule, input.timeZone), input.after.getTime());
}

/**
 * What a CronJob's controller does at `now`:
 *
 *   invalid          the stored schedule or zone is refused (Kubernetes: an InvalidSchedule event)
 *   none             nothing is due in (earliest, now]; look again at `next`
 *   run              `time` is due: start its Job and record it as lastScheduleTime; `missed` due
 *                    times fell in the window (1 is on time; counted up to 101), `tooManyMissed`
 *                    above 100 (Kubernetes: a TooManyMissedTimes warning)
 *   missedDeadline   the latest due time is at least startingDeadlineSeconds old: it is skipped,
 *                    as Kubernetes skips it; `time` names it for a MissSchedule warning (which
 *                    Kubernetes' own look-back rarely lets it give); look again at `next`
 *
 * With startingDeadlineSeconds, only (max(earliest, now - deadline), now] is looked at for a run
 * and counted, as Kubernetes does. lastScheduleTime does not move on a miss, so the same missed
 * time comes back on every call until the next run: a controller that records its warning once
 * passes the missed time as `earliest` (as the later of it and lastScheduleTime) to hear no more
 * of it. `next` is the first scheduled time after now (and after earliest).
 */
export type CronRunDecision =
  | { kind: 'invalid'; message: string }
  | { kind: 'none'; next: Date }
  | { kind: 'run'; time: Date; missed: number; tooManyMissed: boolean; next: Date }
  | { kind: 'missedDeadline'; time: Date; next: Date };

export function decideCronRun(input: {
  schedule: string;
  timeZone?: string;
  earliest: Date;
  now: Date;
  startingDeadlineSeconds?: number;
}): CronRunDecision {
  const ready = prepare(input.schedule, input.timeZone);
  if (typeof ready === 'string') return { kind: 'invalid', message: ready };
  const earliest = input.earliest.getTime();
  const now = input.now.getTime();
  const next = nextDue(ready, Math.max(now, earliest));
  const deadline = input.startingDeadlineSeconds;
  const windowStart =
    deadline === undefined ? earliest : Math.max(earliest, now - Math.max(0, deadline) * 1000);
  const due = lastDue(ready, windowStart, now, MISSED_CAP);
  if (due.time !== null)
    return {
      kind: 'run',
      time: due.time,
      missed: due.missed,
      tooManyMissed: due.missed > TOO_MANY_MISSED,
      next,
    };
  if (windowStart > earliest) {
    const late = lastDue(ready, earliest, windowStart, 1);
    if (late.time !== null) return { kind: 'missedDeadline', time: late.time, next };
  }
  return { kind: 'none', next };
}
