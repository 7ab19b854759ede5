import { canonicalJson } from '../../common/canonical-json.ts';
import type { PodTemplate } from '../../common/deployment.ts';
import { sha256Hex } from '../crypto.ts';

/** A revision is identified by the hash of its pod template (like Kubernetes' pod-template-hash). */
export async function templateHash(template: PodTemplate): Promise<string> {
  return (await sha256Hex(canonicalJson(template))).slice(0, 16);
}
