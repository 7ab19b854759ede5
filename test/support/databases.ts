import pg from 'pg';

/**
 * Real PostgreSQL for tests: one fresh database per caller, dropped afterwards. The server is
 * required: when it does not answer, the test fails with what to do (never a skip).
 */
export const TEST_DATABASE_URL =
  process.env.BERTH_TEST_DATABASE_URL ?? 'postgres://berth:berth@127.0.0.1:5432/berth';

export async function freshPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `berth_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (e) {
    throw new Error(
      `PostgreSQL is required for this test tier and did not answer at ${TEST_DATABASE_URL} (${(e as Error).message}). ` +
        'Run `bash test/setup/services.sh` or set BERTH_TEST_DATABASE_URL.',
    );
  }
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      try {
        // An autovacuum worker in the database is a backend the berth role may not terminate
        // ("must be a member of ... pg_signal_backend"); it finishes within moments.
        for (let attempt = 1; ; attempt++) {
          try {
            await c.query(`drop database if exists "${name}" with (force)`);
            return;
          } catch (e) {
            if (attempt >= 20 || (e as { code?: string }).code !== '42501') throw e;
            await new Promise((r) => setTimeout(r, 250));
          }
        }
      } finally {
        await c.end();
      }
    },
  };
}
