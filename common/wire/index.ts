/**
 * Every object the API returns, one zod schema per wire object: the server's /openapi.json
 * publishes them, and the CLI, the Action and the dashboard take their types from them.
 */
export * from '../problem.ts';
export * from './access.ts';
export * from './apply.ts';
export * from './certificate.ts';
export * from './config-map.ts';
export * from './cron-job.ts';
export * from './deployment.ts';
export * from './ingress.ts';
export * from './job.ts';
export * from './meta.ts';
export * from './node.ts';
export * from './persistent-volume-claim.ts';
export * from './policy.ts';
export * from './replica.ts';
export * from './service.ts';
export * from './service-account.ts';
export * from './trust-rule.ts';
