import { applyManifests, parseImageOverrides, warningLine } from '../cli/apply-manifests.ts';
import { parseDuration } from '../cli/args.ts';
import { ApiError, BerthClient, ConnectionError } from '../cli/client.ts';
import { CliError } from '../cli/exit-codes.ts';
import type { Io } from '../cli/io.ts';
import { readManifests } from '../cli/manifest-files.ts';
import type { AppliedObject, Deployment, Replica } from '../cli/resources.ts';
import { type RolloutResult, watchRollout } from '../cli/rollout-watch.ts';
import { CLI_VERSION } from '../cli/version.ts';
import { assessRollout, type RolloutAssessment } from '../common/rollout.ts';
import {
  appendSummary,
  errorAnnotation,
  getBooleanInput,
  getInput,
  maskCommand,
  setOutputs,
  warningAnnotation,
} from './github.ts';

/**
 * The GitHub Action: apply the manifests, optionally with an image override, wait for every
 * Deployment's rollout, report outputs and a job summary, and fail the job with the reason when a
 * rollout fails. The work is the CLI's own code (client, manifest reading, rollout watch).
 */

export interface Inputs {
  server: string;
  token: string;
  manifests: string[];
  namespace?: string;
  images: ReturnType<typeof parseImageOverrides>;
  wait: boolean;
  timeoutMs: number;
}

export function readInputs(env: Record<string, string | undefined>): Inputs {
  const required = (name: string) => {
    const value = getInput(env, name);
    if (!value) throw new CliError(`input ${name} is required`);
    return value;
  };
  const server = required('server');
  try {
    new URL(server);
  } catch {
    throw new CliError(`input server must be a URL, got "${server}"`);
  }
  return {
    server,
    token: required('token'),
    manifests: required('manifests')
      .split(/[\n,]/)
      .map((s) => s.trim())
      .filter(Boolean),
    namespace: getInput(env, 'namespace') || undefined,
    images: parseImageOverrides(getInput(env, 'image')),
    wait: getBooleanInput(env, 'wait', true),
    timeoutMs: parseDuration(getInput(env, 'timeout') || '5m', 'timeout'),
  };
}

interface DeploymentOutcome {
  result: AppliedObject;
  namespace: string;
  rollout?: RolloutResult;
  deployment?: Deployment;
  /** Not awaited: where the rollout stood right after the apply. */
  assessment?: RolloutAssessment;
}

export async function runAction(io: Io): Promise<number> {
  const env = io.env;
  const log = (line: string) => io.stdout.write(`${line}\n`);
  let inputs: Inputs;
  try {
    inputs = readInputs(env);
  } catch (err) {
    io.stdout.write(errorAnnotation(err instanceof Error ? err.message : String(err)));
    return 1;
  }
  io.stdout.write(maskCommand(inputs.token));
  const client = new BerthClient({
    server: inputs.server,
    token: inputs.token,
    userAgent: `berth-action/${CLI_VERSION}`,
    sleep: io.sleep,
  });

  try {
    const workspace = { ...io, cwd: env.GITHUB_WORKSPACE || io.cwd };
    const files = await readManifests(inputs.manifests, workspace);
    log(`Applying ${files.map((f) => f.source).join(', ')} to ${inputs.server}`);
    const { items: results, warnings } = await applyManifests(client, files, {
      namespace: inputs.namespace,
      images: inputs.images,
    });
    for (const r of results) log(`${r.kind.toLowerCase()}/${r.name} ${r.action}`);
    for (const w of warnings) io.stdout.write(warningAnnotation(warningLine(w)));

    const defaultNamespace = inputs.namespace ?? 'default';
    const outcomes: DeploymentOutcome[] = results
      .filter((r) => r.kind === 'Deployment')
      .map((result) => ({ result, namespace: result.namespace ?? defaultNamespace }));

    await Promise.all(
      outcomes.map(async (o) => {
        const name = o.result.name;
        if (!inputs.wait) {
          o.deployment = await client.getDeployment(o.namespace, name).catch(() => undefined);
          const replicas = await client.listReplicas(o.namespace, name).catch((): Replica[] => []);
          if (o.deployment) o.assessment = assessRollout(o.deployment, { name, replicas });
          return;
        }
        let last = '';
        o.rollout = await watchRollout(client, o.namespace, name, {
          timeoutMs: inputs.timeoutMs,
          intervalMs: Number(env.BERTH_POLL_INTERVAL_MS) || 2000,
          sleep: io.sleep,
          now: () => io.now().getTime(),
          onProgress: (a) => {
            if (a.message !== last) log(`deployment/${name}: ${a.message}`);
            last = a.message;
          },
        });
        o.deployment = o.rollout.deployment;
        log(`deployment/${name}: ${o.rollout.message}`);
      }),
    );

    const failed = outcomes.filter((o) => o.rollout && o.rollout.state !== 'complete');
    const status = !inputs.wait ? 'applied' : failed.length ? 'failed' : 'succeeded';
    await setOutputs(env, { revision: revisionOutput(outcomes), status });
    await appendSummary(env, summary(inputs, results, outcomes, status));
    for (const o of failed)
      io.stdout.write(errorAnnotation(`deployment/${o.result.name}: ${o.rollout!.message}`));
    return failed.length ? 1 : 0;
  } catch (err) {
    const message = describeError(err);
    io.stdout.write(errorAnnotation(message));
    await setOutputs(env, { revision: '', status: 'failed' });
    await appendSummary(env, `### Berth deploy failed\n\n\`\`\`\n${message}\n\`\`\`\n`);
    return 1;
  }
}

/** One deployment: its revision number; several: "web=4,api=2". */
function revisionOutput(outcomes: DeploymentOutcome[]): string {
  const revisions = outcomes.map((o) => ({ name: o.result.name, revision: o.deployment?.status?.revision }));
  if (revisions.length === 1) return String(revisions[0]!.revision ?? '');
  return revisions.map((r) => `${r.name}=${r.revision ?? ''}`).join(',');
}

function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const lines = [`${err.message}${err.code ? ` (${err.code})` : ''}`];
    for (const e of err.fieldErrors) lines.push(e.path ? `${e.path}: ${e.message}` : e.message);
    if (err.status >= 500 && err.problem.requestId) lines.push(`request id: ${err.problem.requestId}`);
    return lines.join('\n');
  }
  if (err instanceof ConnectionError || err instanceof CliError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function summary(
  inputs: Inputs,
  results: AppliedObject[],
  outcomes: DeploymentOutcome[],
  status: string,
): string {
  const byName = new Map(outcomes.map((o) => [`${o.namespace}/${o.result.name}`, o]));
  const lines = [
    `### Berth deploy: ${status}`,
    '',
    `Server: \`${inputs.server}\`${inputs.images.length ? ` · image override: ${inputs.images.map((i) => `\`${i.container}=${i.image}\``).join(', ')}` : ''}`,
    '',
    '| object | namespace | action | revision | ready | rollout |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const namespace = r.namespace ?? inputs.namespace ?? 'default';
    const o = r.kind === 'Deployment' ? byName.get(`${namespace}/${r.name}`) : undefined;
    const d = o?.deployment;
    const ready = d ? `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}` : '';
    const rollout = o ? rolloutCell(o) : '';
    lines.push(
      `| ${cell(`${r.kind.toLowerCase()}/${r.name}`)} | ${cell(namespace)} | ${cell(r.action)} | ${d?.status?.revision ?? ''} | ${ready} | ${cell(rollout)} |`,
    );
  }
  return `${lines.join('\n')}\n\n`;
}

/**
 * The summary's rollout column: how the watch ended, or, when not awaited, the rollout's phase
 * right after the apply (the same judgement the CLI and the dashboard make).
 */
function rolloutCell(o: Pick<DeploymentOutcome, 'rollout' | 'assessment'>): string {
  if (o.rollout) return o.rollout.state === 'complete' ? 'complete' : `failed: ${o.rollout.message}`;
  return o.assessment ? `${o.assessment.phase} (not awaited)` : 'not awaited';
}
