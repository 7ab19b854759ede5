import { migrateDatabase } from './migrate.ts';
import { openDatabase } from './node-database.ts';

/** `npm run db:migrate`: apply migrations to DATABASE_URL (e.g. a Neon database before `wrangler deploy`). */
const url = process.env.DATABASE_URL;
if (!url) {
  console.error(
    'DATABASE_URL is not set: nothing to migrate (the embedded database migrates itself at start-up).',
  );
  process.exit(2);
}
const handle = await openDatabase({ url, dataDir: '.berth' });
try {
  await migrateDatabase(handle);
  console.log('migrations applied');
} finally {
  await handle.close();
}
