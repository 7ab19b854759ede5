import { appendFile } from 'node:fs/promises';

/**
 * The runner's side of a JavaScript action, without @actions/core: inputs arrive as INPUT_<NAME>
 * environment variables, outputs and the job summary are files named by GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY, annotations are "::error::" and "::warning::" lines on stdout.
 */

type Env = Record<string, string | undefined>;

/** GitHub's rule: the input name upper-cased, spaces turned into underscores. */
export function getInput(env: Env, name: string): string {
  return (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

export function getBooleanInput(env: Env, name: string, fallback: boolean): boolean {
  const value = getInput(env, name).toLowerCase();
  if (value === '') return fallback;
  if (['true', 'yes', '1', 'on'].includes(value)) return true;
  if (['false', 'no', '0', 'off'].includes(value)) return false;
  throw new Error(`input ${name} must be true or false, got "${value}"`);
}

/** Workflow-command data escaping, so a message with newlines stays one annotation. */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function errorAnnotation(message: string): string {
  return `::error::${escapeData(message)}\n`;
}

/** Workflow-command property escaping (a file name may hold `,` or `:`). */
function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** An error annotation GitHub shows at a line of a file (the manifest's field it names). */
export function errorAnnotationAt(
  message: string,
  where: { file: string; line?: number; title?: string },
): string {
  const props = [`file=${escapeProperty(where.file)}`];
  if (where.line !== undefined) props.push(`line=${where.line}`);
  if (where.title) props.push(`title=${escapeProperty(where.title)}`);
  return `::error ${props.join(',')}::${escapeData(message)}\n`;
}

/** Shown on the run without failing it (an apply that will not run as written). */
export function warningAnnotation(message: string): string {
  return `::warning::${escapeData(message)}\n`;
}

/** Keeps a secret out of the job log from here on. */
export function maskCommand(secret: string): string {
  return `::add-mask::${escapeData(secret)}\n`;
}

export async function setOutputs(env: Env, outputs: Record<string, string>): Promise<void> {
  const file = env.GITHUB_OUTPUT;
  if (!file) return;
  const lines = Object.entries(outputs).map(([k, v]) => {
    if (!v.includes('\n')) return `${k}=${v}\n`;
    const delimiter = `berth_${Math.random().toString(36).slice(2)}`;
    return `${k}<<${delimiter}\n${v}\n${delimiter}\n`;
  });
  await appendFile(file, lines.join(''));
}

export async function appendSummary(env: Env, markdown: string): Promise<void> {
  if (env.GITHUB_STEP_SUMMARY) await appendFile(env.GITHUB_STEP_SUMMARY, markdown);
}
