import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { TEST_DATABASE_URL } from '../../test/support/databases.ts';
import { docker, missingImages, swarmState } from './engine.ts';
import { ROOT } from './processes.ts';

const SERVICES = 'run: bash test/setup/services.sh (as root: PostgreSQL, Docker Engine, test images)';

/**
 * What the chosen parts need, checked before anything starts. Returns every problem found,
 * each saying what to install or run; an empty list means go.
 */
export async function checkPrerequisites(needs: { docker: boolean; swarm: boolean }): Promise<string[]> {
  const problems: string[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) problems.push(`Node ${process.versions.node} is too old: install Node 20 or newer`);
  if (!existsSync(join(ROOT, 'node_modules', 'autocannon')) || !existsSync(join(ROOT, 'node_modules', 'tsx')))
    problems.push('dependencies are missing: run: npm install');

  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const [row] = (await client.query('select rolcreatedb from pg_roles where rolname = current_user')).rows;
    if (!row?.rolcreatedb)
      problems.push(
        `the PostgreSQL role of ${redact(TEST_DATABASE_URL)} may not create databases (CREATEDB)`,
      );
  } catch (e) {
    problems.push(
      `PostgreSQL does not answer at ${redact(TEST_DATABASE_URL)} (${(e as Error).message}): ${SERVICES}, ` +
        'or set BERTH_TEST_DATABASE_URL',
    );
  } finally {
    await client.end().catch(() => {});
  }

  if (needs.docker) {
    let engine = false;
    try {
      await docker.ping();
      engine = true;
    } catch (e) {
      problems.push(
        `no Docker Engine answers (DOCKER_HOST=${process.env.DOCKER_HOST ?? 'unset'}: ${(e as Error).message}): ${SERVICES}`,
      );
    }
    if (engine) {
      const missing = await missingImages();
      if (missing.length)
        problems.push(`test images ${missing.join(', ')} are missing: run: bash test/setup/images.sh`);
      if (needs.swarm) {
        const state = await swarmState();
        if (state !== 'inactive')
          problems.push(
            `this engine is already in a Swarm (state ${state}); the benchmark creates and leaves its own. ` +
              'If nothing else uses it: docker swarm leave --force',
          );
      }
    }
  }
  return problems;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
