import type { NodeTaintsChange } from '../common/wire/node.ts';
import { UsageError } from './exit-codes.ts';

/**
 * `berth node taint NAME SPEC...` arguments, as `kubectl taint` writes them: `key=value:Effect`
 * and `key:Effect` add a taint, `key:Effect-` removes it, `key-` removes every taint of the key.
 * The server checks keys, values and effects (NoExecute is refused there, with its reason).
 */
export function parseTaintArgs(specs: readonly string[]): NodeTaintsChange {
  if (specs.length === 0) throw new UsageError('missing a taint (key=value:Effect, key:Effect- or key-)');
  const add: NonNullable<NodeTaintsChange['add']> = [];
  const remove: NonNullable<NodeTaintsChange['remove']> = [];
  for (const spec of specs) {
    if (spec.endsWith('-')) {
      const body = spec.slice(0, -1);
      const colon = body.indexOf(':');
      if (colon < 0) remove.push({ key: body });
      else remove.push({ key: body.slice(0, colon), effect: body.slice(colon + 1) as 'NoSchedule' });
      continue;
    }
    const colon = spec.lastIndexOf(':');
    if (colon < 0)
      throw new UsageError(
        `taint "${spec}" must look like key=value:Effect or key:Effect (or end in - to remove)`,
      );
    const pair = spec.slice(0, colon);
    const effect = spec.slice(colon + 1) as 'NoSchedule';
    const eq = pair.indexOf('=');
    add.push(eq < 0 ? { key: pair, effect } : { key: pair.slice(0, eq), value: pair.slice(eq + 1), effect });
  }
  return { ...(add.length ? { add } : {}), ...(remove.length ? { remove } : {}) };
}
