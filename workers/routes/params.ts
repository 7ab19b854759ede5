import type { Context } from 'hono';
import { z } from 'zod';
import { DNS_LABEL } from '../../common/names.ts';
import type { AppDeps, AppEnv } from '../app-context.ts';
import { admissionFor } from '../auth/admission.ts';
import { invalid } from '../http/errors.ts';

/** A namespace or object name from the URL: a DNS label, or 422 naming the parameter. */
export function nameParam(c: Context, param: string): string {
  const value = c.req.param(param) ?? '';
  if (value.length > 63 || !DNS_LABEL.test(value)) {
    throw invalid([{ path: param, message: `must be a DNS-1123 label (got "${value.slice(0, 80)}")` }]);
  }
  return value;
}

/** `?dryRun=true`: every check of the write, nothing written (Kubernetes' dryRun=All). */
export const DryRunQuery = z.object({ dryRun: z.enum(['true', 'false']).optional() });

export function dryRunParam(c: Context): boolean {
  const value = c.req.query('dryRun');
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw invalid([{ path: 'dryRun', message: `must be "true" or "false" (got "${value.slice(0, 80)}")` }]);
}

/** How a route's write goes to its verb: now, by this caller, for real unless `?dryRun=true`. */
export function writeOptions(c: Context<AppEnv>, deps: Pick<AppDeps, 'now' | 'config'>, dryRun = false) {
  return {
    now: deps.now(),
    admission: admissionFor(c.get('principal'), deps.config),
    ...(dryRun ? { dryRun: true } : {}),
  };
}
