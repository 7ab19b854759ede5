import type { LifecycleHandler } from '../common/deployment.ts';
import { type ExecFn, httpGetStatus, type ProbeContext, probeTarget } from './probes.ts';
import { sleep } from './sleep.ts';

/**
 * Runs a container's lifecycle hook (postStart, preStop) as the kubelet runs it: `exec` in the
 * container (a non-zero exit fails it), `httpGet` to the pod (any answer is a success: the kubelet
 * only delivers the request, whatever its status), `sleep` on the node. When it runs, and what its
 * failure means, is the container runner's (container-runner.ts).
 */

export interface HookOutcome {
  ok: boolean;
  detail?: string;
}

/** The longest a timer waits: a hook "without a deadline" waits this long (24 days). */
export const NO_DEADLINE_MS = 2 ** 31 - 1;

/**
 * Resolves when the hook ends, when timeoutMs have passed (a failure), or at once when `signal`
 * aborts (the hook no longer matters: its container is gone or going). Never rejects.
 */
export async function runHook(
  hook: LifecycleHandler,
  ctx: ProbeContext,
  exec: ExecFn,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<HookOutcome> {
  const limit = Math.min(timeoutMs, NO_DEADLINE_MS);
  if (hook.sleep) {
    const ms = hook.sleep.seconds * 1000;
    await sleep(Math.min(ms, limit), signal);
    return ms > limit ? { ok: false, detail: `sleep cut short after ${limit} ms` } : { ok: true };
  }
  const aborted = new Promise<HookOutcome>((resolve) => {
    if (signal?.aborted) resolve({ ok: false, detail: 'aborted' });
    signal?.addEventListener('abort', () => resolve({ ok: false, detail: 'aborted' }), { once: true });
  });
  const run = async (): Promise<HookOutcome> => {
    try {
      if (hook.exec) {
        const code = await exec(hook.exec.command, limit);
        return code === 0 ? { ok: true } : { ok: false, detail: `command exited with ${code}` };
      }
      if (hook.httpGet) {
        const target = probeTarget(hook.httpGet, ctx);
        if ('error' in target) return { ok: false, detail: target.error };
        await httpGetStatus(hook.httpGet, target, limit, signal);
        return { ok: true };
      }
      return { ok: false, detail: 'hook has no handler' };
    } catch (e) {
      return { ok: false, detail: e instanceof Error ? e.message : String(e) };
    }
  };
  return Promise.race([run(), aborted]);
}
