import type { ControlPlaneConfig } from '../config.ts';
import type { Admission } from '../store/objects.ts';
import type { Principal } from './principal.ts';

/** Who writes, as the object store's admission rules see it (see store/objects.ts `Admission`). */
export function admissionFor(
  principal: Principal,
  config: Pick<ControlPlaneConfig, 'apiHosts' | 'serviceCidr' | 'nodePortRange'> &
    Partial<Pick<ControlPlaneConfig, 'hostCertificates'>>,
): Admission {
  return {
    admin: principal.kind === 'user' && principal.role === 'admin',
    apiHosts: config.apiHosts,
    serviceAddresses: { serviceCidr: config.serviceCidr, nodePortRange: config.nodePortRange },
    hostCertificates: config.hostCertificates ?? false,
  };
}
