import { kubeconfigObject } from '../../common/kubeconfig.ts';
import { replicaPhase } from '../../common/replica-phase.ts';
import { assessRollout } from '../../common/rollout.ts';
import { createApi } from './client/api.ts';
import { startDashboard } from './client/app.ts';
import { createCertificateFormat } from './client/certificate-format.ts';
import { createCertificatePage } from './client/certificates.ts';
import { createConfigMapPages } from './client/config-maps.ts';
import { createDom } from './client/dom.ts';
import { createFormat } from './client/format.ts';
import { createJobFormat } from './client/job-format.ts';
import { createJobPages } from './client/jobs.ts';
import { createLogFollow } from './client/log-follow.ts';
import { createNetworkPages } from './client/network.ts';
import { createPodParts } from './client/pods.ts';
import { createPolicyPage } from './client/policy.ts';
import { createViews } from './client/views.ts';

/**
 * The browser script, assembled from the client modules' own functions. Whatever compiled this
 * file (tsx, wrangler's esbuild, Deno) already turned those functions into JavaScript, so
 * `Function.prototype.toString` yields browser-ready code with no build step on any runtime.
 *
 * The client functions (and common/rollout.ts's assessRollout and common/replica-phase.ts's
 * replicaPhase, rules the CLI shares)
 * reference nothing outside themselves, with one exception a compiler may
 * add: esbuild's keepNames (tsx, wrangler) wraps inner functions in `__name(fn, "name")`, and a
 * minifying bundler renames that helper. The prelude defines it, under whatever name this
 * module's compiler gave it, as a no-op.
 */
export function clientScript(): string {
  const helper = keepNamesHelper();
  return [
    '(function () {',
    "'use strict';",
    'var __name = function (fn) { return fn; };',
    helper && helper !== '__name' ? `var ${helper} = __name;` : '',
    `(${startDashboard.toString()})({`,
    `  createDom: ${createDom.toString()},`,
    `  createFormat: ${createFormat.toString()},`,
    `  createApi: ${createApi.toString()},`,
    `  createViews: ${createViews.toString()},`,
    `  createPolicyPage: ${createPolicyPage.toString()},`,
    `  createPodParts: ${createPodParts.toString()},`,
    `  createConfigMapPages: ${createConfigMapPages.toString()},`,
    `  createNetworkPages: ${createNetworkPages.toString()},`,
    `  createJobFormat: ${createJobFormat.toString()},`,
    `  createJobPages: ${createJobPages.toString()},`,
    `  createCertificateFormat: ${createCertificateFormat.toString()},`,
    `  createCertificatePage: ${createCertificatePage.toString()},`,
    `  createLogFollow: ${createLogFollow.toString()},`,
    `  assessRollout: ${assessRollout.toString()},`,
    `  replicaPhase: ${replicaPhase.toString()},`,
    `  kubeconfigObject: ${kubeconfigObject.toString()},`,
    '});',
    '})();',
    '',
  ].join('\n');
}

/** Compiled by the same tool as the client modules, so it shows how that tool names things. */
function keepNamesProbe() {
  const probe = () => 1;
  return probe;
}

/** The keepNames helper's name in this build (`__name`, or a minified one), or null if none. */
export function keepNamesHelper(): string | null {
  const m = /([\w$]+)\(\s*\(\)\s*=>\s*1\s*,\s*["'`]probe["'`]\s*\)/.exec(keepNamesProbe.toString());
  return m?.[1] ?? null;
}

/** FNV-1a (32-bit, twice with different seeds): a stable content tag for ETags, no crypto needed. */
export function contentHash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
