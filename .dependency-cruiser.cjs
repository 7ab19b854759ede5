/**
 * The layering of Berth's code, checked by `npm run lint` (dependency-cruiser):
 *
 *   routes ─► verbs ─► store ─► db        controller ─► store ─► db
 *     │         │                            │
 *     └─► http  └─► errors, auth, kinds      └─► pure cores (planner, scheduler, batch plan)
 *
 * Routes translate HTTP and never touch the database; verbs decide and never know HTTP; the
 * controller and the verbs share only the store layer beneath them; common/ is imported by
 * everyone and imports none of them. No import cycles anywhere.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import cycle makes modules impossible to read, test or load one at a time.',
      from: { path: '^(workers|agent|common|cli|action|db)/' },
      to: { circular: true },
    },
    {
      name: 'routes-do-not-touch-the-database',
      severity: 'error',
      comment: 'Routes validate and call a verb; queries belong to verbs and the store.',
      from: { path: '^workers/routes/' },
      to: { path: ['^node_modules/drizzle-orm', '^db/(schema|rows|migrate)', '^workers/store/'] },
    },
    {
      name: 'verbs-do-not-know-http',
      severity: 'error',
      comment: 'Verbs throw DomainError (workers/errors.ts); workers/http renders it.',
      from: { path: '^workers/verbs/' },
      to: { path: ['^node_modules/(hono|@hono)/', '^workers/http/', '^workers/routes/'] },
    },
    {
      name: 'controller-and-verbs-share-only-the-store',
      severity: 'error',
      from: { path: '^workers/controller/' },
      to: { path: ['^workers/(verbs|routes|http)/'] },
    },
    {
      name: 'verbs-do-not-reach-into-the-controller',
      severity: 'error',
      comment:
        'What both need lives in workers/store; the API asks for a reconcile through ReconcileTrigger.',
      from: { path: '^workers/verbs/' },
      to: { path: '^workers/controller/' },
    },
    {
      name: 'the-store-is-the-bottom-layer',
      severity: 'error',
      from: { path: '^workers/(store|kinds)/' },
      to: { path: ['^workers/(verbs|controller|routes|http|ingress|ui)/', '^node_modules/(hono|@hono)/'] },
    },
    {
      name: 'common-stands-alone',
      severity: 'error',
      comment: 'Shared by the control plane, the agent, the CLI, the Action and the dashboard.',
      from: { path: '^common/' },
      to: { path: '^(workers|agent|cli|action|db|test|bench)/' },
    },
    {
      name: 'acme-client-only-on-node',
      severity: 'error',
      comment:
        'acme-client pulls axios and node:crypto: only the Node runtime (workers/nodejs/) orders certificates; the Workers bundle must not reach it.',
      from: { path: '^(workers|common|db)/', pathNot: '^workers/nodejs/' },
      to: { path: '^node_modules/acme-client/' },
    },
    {
      name: 'the-agent-does-not-import-the-control-plane',
      severity: 'error',
      from: { path: '^agent/' },
      to: { path: '^(workers|db|cli|action)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|\\.wrangler|action/bundle)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.mjs'] },
  },
};
