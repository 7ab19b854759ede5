import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * An embedded PGlite cluster for a test, made by copying one made before instead of by initdb.
 * A new PGlite data directory takes 4-6 s of CPU to initialise and an existing one opens in under
 * one; the suite starts dozens, so each machine makes the empty cluster once (per PGlite version)
 * and every test copies it. The control plane then opens it exactly as `npm start` opens its own
 * and migrates it from nothing: only initdb is skipped, which `npm start`'s own tests still run.
 */
let template: Promise<string> | undefined;

/** Put an empty, closed PGlite cluster at `<dataDir>/pgdata`, where the control plane looks for it. */
export async function seedPglite(dataDir: string): Promise<void> {
  template ??= makeTemplate();
  const source = await template;
  mkdirSync(dataDir, { recursive: true });
  cpSync(source, join(dataDir, 'pgdata'), { recursive: true });
}

async function makeTemplate(): Promise<string> {
  const require = createRequire(import.meta.url);
  const pkg = join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
  const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version: string };
  const path = join(tmpdir(), `berth-pglite-template-${version}`);
  if (existsSync(join(path, 'PG_VERSION'))) return path;
  // Made aside and renamed into place: test files start side by side, and a half-made template
  // must never be copied.
  const aside = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(aside);
  await db.close();
  try {
    renameSync(aside, path);
  } catch {
    rmSync(aside, { recursive: true, force: true }); // another file made it first
  }
  return path;
}
