import {
  ApplyRefused,
  applyManifests,
  deploymentsIn,
  parseImageOverrides,
  prepareApply,
  warningLine,
} from '../cli/apply-manifests.ts';
import { parseDuration } from '../cli/args.ts';
import { ApiError, BerthClient, ConnectionError } from '../cli/client.ts';
import { CliError } from '../cli/exit-codes.ts';
import type { Io } from '../cli/io.ts';
import { type JobRunResult, watchJob } from '../cli/job-watch.ts';
import { type ManifestFile, readManifests } from '../cli/manifest-files.ts';
import type { AppliedObject, ApplyWarning, Deployment, Job, Replica } from '../cli/resources.ts';
import { type EventBaseline, eventBaseline, type RolloutResult, watchRollout } from '../cli/rollout-watch.ts';
import { CLI_VERSION } from '../cli/version.ts';
import { assessRollout, type RolloutAssessment } from '../common/rollout.ts';
import {
  appendSummary,
  errorAnnotation,
  errorAnnotationAt,
  getBooleanInput,
  getInput,
  maskCommand,
  setOutputs,
  warningAnnotation,
} from './github.ts';
import { manifestLine } from './manifest-lines.ts';
import { exchangeForBerthToken, requestIdentityToken } from './oidc.ts';
import { failureSection, ProgressLog } from './rollout-report.ts';
import { comparableObjects, readSpecs, specDiffSection } from './spec-diff.ts';

/**
 * The GitHub Action: run the manifests' Jobs to completion first (a database migration from the
 * new image), then apply the rest, optionally with an image override, wait for every Deployment's
 * rollout, report outputs and a job summary, and fail the job with the reason when a Job or a
 * rollout fails; a failed Job leaves everything else untouched. The work is the CLI's own code
 * (client, manifest reading, rollout and job watches).
 */

export interface Inputs {
  server: string;
  /** Empty with `oidc`: the job's identity token is exchanged for one. */
  token: string;
  /** Trade the runner's identity token for a short-lived Berth token (no stored secret). */
  oidc: boolean;
  /** The `aud` the identity token is asked for: the server's BERTH_OIDC_AUDIENCE. */
  audience: string;
  /** The trust rule to use, when several would match. */
  trustRule?: string;
  manifests: string[];
  namespace?: string;
  images: ReturnType<typeof parseImageOverrides>;
  wait: boolean;
  timeoutMs: number;
  /** Run the manifests' Jobs to completion before applying anything else. */
  jobsFirst: boolean;
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
  const oidc = getBooleanInput(env, 'oidc', false);
  if (!oidc && !getInput(env, 'token'))
    throw new CliError('input token is required (or oidc: true, with permissions: id-token: write)');
  if (oidc && getInput(env, 'token')) throw new CliError('give either token or oidc: true, not both');
  return {
    server,
    token: getInput(env, 'token'),
    oidc,
    audience: getInput(env, 'audience') || 'berth',
    trustRule: getInput(env, 'trust-rule') || undefined,
    manifests: required('manifests')
      .split(/[\n,]/)
      .map((s) => s.trim())
      .filter(Boolean),
    namespace: getInput(env, 'namespace') || undefined,
    images: parseImageOverrides(getInput(env, 'image')),
    wait: getBooleanInput(env, 'wait', true),
    timeoutMs: parseDuration(getInput(env, 'timeout') || '5m', 'timeout'),
    jobsFirst: getBooleanInput(env, 'jobs-first', true),
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
  const userAgent = `berth-action/${CLI_VERSION}`;
  let client: BerthClient;

  try {
    let token = inputs.token;
    if (inputs.oidc) {
      const identity = await requestIdentityToken(env, inputs.audience);
      io.stdout.write(maskCommand(identity));
      const anonymous = new BerthClient({ server: inputs.server, userAgent, sleep: io.sleep });
      const exchanged = await exchangeForBerthToken(anonymous, identity, inputs.trustRule);
      token = exchanged.token;
      io.stdout.write(maskCommand(token));
      log(
        `oidc: ${exchanged.role} token for ${exchanged.namespaces.join(',')} until ${exchanged.expiresAt} (trust rule ${exchanged.exchange.rules.join(', ')})`,
      );
    } else io.stdout.write(maskCommand(token));
    client = new BerthClient({ server: inputs.server, token, userAgent, sleep: io.sleep });
  } catch (err) {
    const message = describeError(err);
    io.stdout.write(errorAnnotation(message));
    await setOutputs(env, { revision: '', status: 'failed' });
    await appendSummary(env, `### Berth deploy failed\n\n\`\`\`\n${message}\n\`\`\`\n`);
    return 1;
  }

  try {
    const workspace = { ...io, cwd: env.GITHUB_WORKSPACE || io.cwd };
    const files = await readManifests(inputs.manifests, workspace);
    const edits = { namespace: inputs.namespace, images: inputs.images };
    // Every override must find its container somewhere in the whole set, whichever part it is in.
    prepareApply(files, edits);
    const parts = inputs.jobsFirst ? splitJobs(files) : { jobs: [], rest: files };
    const compared = comparableObjects(
      files.flatMap((f) => f.docs),
      inputs.namespace ?? 'default',
    );
    const before = await readSpecs(client, compared);
    const changes = async () => specDiffSection(compared, before, await readSpecs(client, compared));
    const results: AppliedObject[] = [];
    const warnings: ApplyWarning[] = [];
    const apply = async (part: ManifestFile[]) => {
      const answer = await applyManifests(client, part, { ...edits, partial: true }).catch((err) => {
        if (err instanceof ApplyRefused)
          for (const line of fieldAnnotations(err, part, files)) io.stdout.write(line);
        throw err;
      });
      for (const r of answer.items) log(`${r.kind.toLowerCase()}/${r.name} ${r.action}`);
      for (const w of answer.warnings) io.stdout.write(warningAnnotation(warningLine(w)));
      results.push(...answer.items);
      warnings.push(...answer.warnings);
    };

    const jobs: JobOutcome[] = [];
    if (parts.jobs.length) {
      log(`Running the Jobs of ${parts.jobs.map((f) => f.source).join(', ')} before the rest`);
      await clearEarlierRuns(client, parts.jobs, inputs.namespace ?? 'default', log);
      await apply(parts.jobs);
      jobs.push(...(await runJobs(client, results, inputs, io, log)));
      const failedJobs = jobs.filter((j) => j.run.state !== 'complete');
      if (failedJobs.length) {
        for (const j of failedJobs) io.stdout.write(errorAnnotation(jobFailure(j)));
        await setOutputs(env, { revision: '', status: 'failed' });
        await appendSummary(
          env,
          `${summary(inputs, results, [], 'failed', jobs)}${await changes()}${jobLogSections(failedJobs)}`,
        );
        return 1;
      }
    }
    const defaultNamespace = inputs.namespace ?? 'default';
    // Each Deployment's events before the write: a rollback that lands before the watch begins
    // (a busy runner) is still this run's, never a success.
    const baselines = new Map<string, EventBaseline>();
    if (inputs.wait)
      for (const d of deploymentsIn(parts.rest, defaultNamespace))
        baselines.set(`${d.namespace}/${d.name}`, await eventBaseline(client, d.namespace, d.name));
    if (parts.rest.length) {
      log(`Applying ${parts.rest.map((f) => f.source).join(', ')} to ${inputs.server}`);
      await apply(parts.rest);
    }

    const outcomes: DeploymentOutcome[] = results
      .filter((r) => r.kind === 'Deployment')
      .map((result) => ({ result, namespace: result.namespace ?? defaultNamespace }));

    const progress = new ProgressLog(io.now().getTime());
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
        const baseline = baselines.get(`${o.namespace}/${name}`);
        o.rollout = await watchRollout(client, o.namespace, name, {
          ...(baseline ? { baseline } : {}),
          timeoutMs: inputs.timeoutMs,
          intervalMs: Number(env.BERTH_POLL_INTERVAL_MS) || 2000,
          sleep: io.sleep,
          now: () => io.now().getTime(),
          onProgress: (a) => {
            if (a.message !== last) {
              log(`deployment/${name}: ${a.message}`);
              progress.add(name, a.message, io.now().getTime());
            }
            last = a.message;
          },
        });
        o.deployment = o.rollout.deployment;
        log(`deployment/${name}: ${o.rollout.message}`);
        progress.add(name, o.rollout.message, io.now().getTime());
      }),
    );

    const failed = outcomes.filter((o) => o.rollout && o.rollout.state !== 'complete');
    const status = !inputs.wait ? 'applied' : failed.length ? 'failed' : 'succeeded';
    await setOutputs(env, {
      url: serviceUrl(inputs.server, files),
      revision: revisionOutput(outcomes),
      image: imageOutput(outcomes),
      status,
    });
    const rollouts = outcomes.map((o) => progress.section(o.result.name)).join('');
    const failures = await Promise.all(
      failed.map((o) =>
        failureSection(client, o.namespace, o.result.name, o.deployment, o.rollout?.replicas ?? []),
      ),
    );
    await appendSummary(
      env,
      `${summary(inputs, results, outcomes, status, jobs)}${await changes()}${rollouts}${failures.join('')}`,
    );
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

/**
 * Where the deployed service answers, for the workflow's `environment.url`: the first host a
 * Service or Ingress of the manifests claims, on the control plane's scheme and port (its ingress
 * serves them). Empty when none claims a host.
 */
export function serviceUrl(server: string, files: ManifestFile[]): string {
  const hosts: string[] = [];
  const visit = (doc: unknown) => {
    if (!isDoc(doc)) return;
    if (doc.kind === 'List' && Array.isArray(doc.items)) return doc.items.forEach(visit);
    const spec = isDoc(doc.spec) ? doc.spec : {};
    if (doc.kind === 'Service' && Array.isArray(spec.hosts)) hosts.push(...spec.hosts.map(String));
    if (doc.kind === 'Ingress' && Array.isArray(spec.rules))
      for (const rule of spec.rules) if (isDoc(rule) && typeof rule.host === 'string') hosts.push(rule.host);
  };
  for (const f of files) f.docs.forEach(visit);
  const host = hosts.find((h) => h && !h.includes('*'));
  if (!host) return '';
  const url = new URL(server);
  return `${url.protocol}//${host}${url.port ? `:${url.port}` : ''}/`;
}

/** One deployment: its containers' images; several: "web=registry/web:2,api=registry/api:7". */
function imageOutput(outcomes: DeploymentOutcome[]): string {
  const images = outcomes.map((o) => ({
    name: o.result.name,
    images: (o.deployment?.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? '').filter(Boolean),
  }));
  if (images.length === 1) return images[0]!.images.join(',');
  return images.map((i) => `${i.name}=${i.images.join('+')}`).join(',');
}

/**
 * An annotation at the manifest line of each field the server refused: the part's document
 * (its index in the request) is found in the file it came from, as the file counts documents.
 */
function fieldAnnotations(err: ApplyRefused, part: ManifestFile[], files: ManifestFile[]): string[] {
  const sent = part.flatMap((f) => f.docs.map((doc) => ({ doc, source: f.source })));
  const out: string[] = [];
  for (const e of err.sent) {
    const at = e.document === undefined ? undefined : sent[e.document];
    if (!at) continue;
    const file = files.find((f) => f.source === at.source);
    const index = file?.docs.indexOf(at.doc) ?? -1;
    const line = file && index >= 0 ? manifestLine(file.text, index, e.path) : undefined;
    const object = e.kind && e.name ? `${e.kind} "${e.name}": ` : '';
    out.push(
      errorAnnotationAt(`${object}${e.path ? `${e.path}: ` : ''}${e.message}`, {
        file: at.source,
        ...(line !== undefined ? { line } : {}),
        title: 'Berth refused the manifest',
      }),
    );
  }
  return out;
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
  jobs: JobOutcome[] = [],
): string {
  const jobByName = new Map(jobs.map((j) => [`${j.namespace}/${j.name}`, j]));
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
    const job = r.kind === 'Job' ? jobByName.get(`${namespace}/${r.name}`) : undefined;
    const rollout = o ? rolloutCell(o) : job ? jobCell(job) : '';
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

/** A Job the Action ran before the rest, and how it ended. */
interface JobOutcome {
  namespace: string;
  name: string;
  run: JobRunResult;
}

type Doc = Record<string, unknown>;
const isDoc = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);
const isJob = (d: unknown) => isDoc(d) && d.kind === 'Job';

/**
 * The Job documents apart from the rest (a Job inside a v1 List stays with the rest). The parts
 * are sent as their documents, not as the files' text, since a file may hold both.
 */
export function splitJobs(files: ManifestFile[]): { jobs: ManifestFile[]; rest: ManifestFile[] } {
  const part = (keep: (d: unknown) => boolean) =>
    files
      .map((f) => ({ ...f, format: 'json' as const, docs: f.docs.filter(keep) }))
      .filter((f) => f.docs.length > 0);
  return { jobs: part(isJob), rest: part((d) => !isJob(d)) };
}

/**
 * A Job's template is fixed once it exists, so a Job of the same name from an earlier deploy that
 * has finished is deleted before this deploy's runs; one still running stops the deploy.
 */
async function clearEarlierRuns(
  client: BerthClient,
  files: ManifestFile[],
  defaultNamespace: string,
  log: (line: string) => void,
): Promise<void> {
  for (const doc of files.flatMap((f) => f.docs)) {
    const metadata = isDoc(doc) && isDoc(doc.metadata) ? doc.metadata : {};
    const name = typeof metadata.name === 'string' ? metadata.name : undefined;
    if (!name) continue;
    const ns = typeof metadata.namespace === 'string' ? metadata.namespace : defaultNamespace;
    const earlier = await client.getObject<Job>(ns, 'jobs', name).catch((err) => {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    });
    if (!earlier) continue;
    const ended = earlier.status?.conditions?.find(
      (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
    );
    if (!ended)
      throw new CliError(
        `job/${name} is still running from an earlier deploy: wait for it (berth wait --for=condition=complete job/${name}) or delete it, then run this deploy again`,
      );
    await client.deleteObject(ns, 'jobs', name);
    log(`job/${name}: deleted its earlier run (${ended.type === 'Complete' ? 'complete' : 'failed'})`);
  }
}

/** Waits for the Jobs just applied, side by side, each within the timeout. */
function runJobs(
  client: BerthClient,
  results: AppliedObject[],
  inputs: Inputs,
  io: Io,
  log: (line: string) => void,
): Promise<JobOutcome[]> {
  const intervalMs = Number(io.env.BERTH_POLL_INTERVAL_MS) || 2000;
  return Promise.all(
    results
      .filter((r) => r.kind === 'Job')
      .map(async (r) => {
        const namespace = r.namespace ?? inputs.namespace ?? 'default';
        let last = '';
        const run = await watchJob(client, namespace, r.name, {
          timeoutMs: inputs.timeoutMs,
          intervalMs,
          sleep: io.sleep,
          now: () => io.now().getTime(),
          onProgress: (job) => {
            const s = job.status;
            const line = `job/${r.name}: ${s?.active ?? 0} active, ${s?.succeeded ?? 0} succeeded, ${s?.failed ?? 0} failed`;
            if (line !== last) log(line);
            last = line;
          },
        });
        log(`job/${r.name}: ${jobCell({ namespace, name: r.name, run })}`);
        return { namespace, name: r.name, run };
      }),
  );
}

function jobCell(j: JobOutcome): string {
  if (j.run.state === 'complete') return 'complete';
  if (j.run.state === 'timeout') return 'failed: timed out waiting for it to complete';
  const c = j.run.condition;
  return `failed: ${[c.reason, c.message].filter(Boolean).join(': ')}`;
}

function jobFailure(j: JobOutcome): string {
  return `job/${j.name} ${jobCell(j)}; nothing else was applied`;
}

/** Each failed Job's reason and its failed pods' last lines, for the job summary. */
function jobLogSections(failed: JobOutcome[]): string {
  return failed
    .map((j) => {
      const lines = j.run.state === 'failed' ? j.run.lines : [];
      const body = lines.length ? `\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`` : '';
      return `#### job/${j.name}: ${cell(jobCell(j))}${body}\n\nNothing else was applied.\n`;
    })
    .join('\n');
}
