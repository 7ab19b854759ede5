import { Hono } from 'hono';
import { createUi } from '../../../workers/ui/index.ts';

/**
 * A Workers-style module (`export default { fetch }`) serving only the dashboard, for bundling
 * the way wrangler does in ui-runtimes.test.ts.
 */
const app = new Hono();
app.route('/ui', createUi());

export default { fetch: (req: Request) => app.fetch(req) };
