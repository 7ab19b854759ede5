export type Role = 'admin' | 'deployer' | 'viewer';

/** Who is calling: a person or pipeline with a role, or an agent speaking for one node. */
export type Principal =
  | { kind: 'user'; id: string; name: string; role: Role; namespaces: string[]; exec?: boolean }
  | {
      kind: 'node';
      nodeId: string;
      nodeName: string;
      assignmentVersion: number;
      /** The heartbeat recorded before this call (see recordHeartbeat). */
      lastHeartbeat: Date;
      /** SHA-256 of the credential: a long-poll checks it is still the node's (not reset since). */
      credentialHash: string;
    };

export type Action = 'read' | 'write';
export type Resource =
  | 'deployments'
  | 'services'
  | 'secrets'
  /** Read by viewers too: ConfigMaps hold configuration, not secrets (as in Kubernetes). */
  | 'configmaps'
  /** Read by viewers too, written by deployers: a claim holds no secret. */
  | 'persistentvolumeclaims'
  /** Names only (Berth mounts no token): read by viewers too. */
  | 'serviceaccounts'
  /** Routes to services, no secret: read by viewers too, written by deployers. */
  | 'ingresses'
  /** Workloads like deployments: read by viewers, written by deployers. */
  | 'jobs'
  | 'cronjobs'
  | 'replicas'
  | 'events'
  | 'tokens'
  | 'nodes'
  /** Namespace policies: read by the namespace's own tokens (to know what is allowed), written by admins. */
  | 'policies'
  /** Trust rules (OIDC token exchange): admins only, as tokens are. */
  | 'trustrules';

/** Token prefixes route a token to its table without a second lookup. */
export const TOKEN_PREFIX = { user: 'berth_u_', node: 'berth_n_', join: 'berth_j_' } as const;
