import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

/** One part of the report: a Markdown table plus notes, and the raw figures for the JSON file. */
export interface Section {
  title: string;
  intro?: string;
  columns: string[];
  rows: string[][];
  notes: string[];
  data: unknown;
}

/** The columns of a Berth-versus-peer table. */
export const VERSUS = ['figure', 'Berth', 'Docker Swarm', 'Berth ÷ Swarm', 'machine limit', 'goal'];

export function markdownTable(columns: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [`| ${columns.map(esc).join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${columns.map((_, i) => esc(r[i] ?? '')).join(' | ')} |`);
  return lines.join('\n');
}

export function sectionMarkdown(s: Section): string {
  const parts = [`## ${s.title}`];
  if (s.intro) parts.push(s.intro);
  if (s.rows.length) parts.push(markdownTable(s.columns, s.rows));
  if (s.notes.length) parts.push(s.notes.map((n) => `- ${n}`).join('\n'));
  return parts.join('\n\n');
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  load: number[];
}

export function machine(): Machine {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    load: readLoad(),
  };
}

function readLoad(): number[] {
  try {
    // The machine is shared: the load average says how much the figures may be disturbed.
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  } catch {
    return [];
  }
}

export function reportMarkdown(args: {
  suite: string;
  startedAt: Date;
  seconds: number;
  machine: Machine;
  sections: Section[];
  failures: string[];
}): string {
  const m = args.machine;
  const head = [
    `# Berth benchmark (${args.suite})`,
    `${args.startedAt.toISOString()} · ${m.cpus} × ${m.cpuModel} · ${(m.memoryBytes / 1024 ** 3).toFixed(0)} GB · Node ${m.node} · load ${m.load.map((l) => l.toFixed(2)).join(' ')} at start · ${Math.round(args.seconds)} s in all`,
    'Times are medians with (min–max, n) over repetitions. Ratios compare figures taken in this one run, ' +
      'on this machine, a minute apart: the machine is shared, so absolute figures move between runs, ratios much less.',
  ];
  const body = args.sections.map(sectionMarkdown);
  const tail = args.failures.length
    ? [`## Parts that failed\n\n${args.failures.map((f) => `- ${f}`).join('\n')}`]
    : [];
  return [...head, ...body, ...tail].join('\n\n');
}

export function writeResults(dir: string, startedAt: Date, payload: unknown): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
  return file;
}
