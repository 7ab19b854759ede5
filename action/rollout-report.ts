import type { BerthClient } from '../cli/client.ts';
import { jobPodLogLines } from '../cli/job-pods.ts';
import type { Deployment, Event, Replica } from '../cli/resources.ts';

/**
 * The job summary's account of each rollout: how it progressed (each new state the watch saw, with
 * the seconds since the apply), and for one that failed, its failing replicas' last log lines and
 * the deployment's last events: what someone reading the run needs before reaching for the CLI.
 */

/** How many failing replicas, how many of each one's lines, and how many events a failure shows. */
const FAILING_SHOWN = 3;
const LOG_LINES = 20;
const EVENTS_SHOWN = 10;

export class ProgressLog {
  private readonly lines = new Map<string, string[]>();
  constructor(private readonly started: number) {}

  add(deployment: string, message: string, now: number): void {
    const list = this.lines.get(deployment) ?? [];
    list.push(`+${Math.round((now - this.started) / 1000)}s ${message}`);
    this.lines.set(deployment, list);
  }

  section(deployment: string): string {
    const list = this.lines.get(deployment);
    if (!list?.length) return '';
    return `<details><summary>deployment/${deployment}: rollout progress</summary>\n\n\`\`\`\n${list.join('\n')}\n\`\`\`\n\n</details>\n\n`;
  }
}

/** Replicas of the rollout's revision that failed or are not ready; Failed ones first. */
export function failingReplicas(deployment: Deployment | undefined, replicas: Replica[]): Replica[] {
  const revision = deployment?.status?.revision;
  const current = replicas.filter((r) => revision === undefined || r.revision === revision);
  const failing = current.filter((r) => r.phase === 'Failed' || r.phase === 'Lost' || !r.ready);
  return failing
    .sort((a, b) => Number(b.phase === 'Failed') - Number(a.phase === 'Failed'))
    .slice(0, FAILING_SHOWN);
}

/** The summary section of a failed rollout: its failing replicas, their last lines, and the events. */
export async function failureSection(
  client: BerthClient,
  ns: string,
  name: string,
  deployment: Deployment | undefined,
  replicas: Replica[],
): Promise<string> {
  const failing = failingReplicas(deployment, replicas);
  const parts = [`#### deployment/${name}: why it failed\n`];
  if (failing.length) {
    parts.push('| replica | node | phase | restarts | message |', '|---|---|---|---|---|');
    for (const r of failing)
      parts.push(
        `| ${cell(r.id ?? '')} | ${cell(r.node ?? '')} | ${cell(r.phase ?? '')} | ${r.restartCount ?? 0} | ${cell(r.message ?? '')} |`,
      );
    parts.push('');
    // Best effort: the failure is the news, its lines the help.
    const lines = await jobPodLogLines(
      client,
      ns,
      failing.filter((r) => r.node),
      LOG_LINES,
      'always',
    ).catch((): string[] => []);
    if (lines.length) parts.push(`Last log lines:\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n`);
  }
  const events: Event[] = await client.listEvents(ns, `deployment/${name}`).catch((): Event[] => []);
  if (events.length) {
    parts.push('Events:\n', '| type | reason | message |', '|---|---|---|');
    for (const e of events.slice(-EVENTS_SHOWN))
      parts.push(`| ${cell(e.type ?? '')} | ${cell(e.reason ?? '')} | ${cell(e.message ?? '')} |`);
    parts.push('');
  }
  return `${parts.join('\n')}\n`;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
