/**
 * berth-agent as a library: the control plane's Node entry runs an in-process agent as node
 * `local` when a Docker Engine answers:
 *
 *   if (await dockerAvailable()) agent = await startAgent(localAgentConfig({ server, joinToken, dataDir }));
 *   ...
 *   await agent.stop(); // leaves containers running
 */
export { type RunningAgent, startAgent } from './agent.ts';
export { type AgentConfig, ConfigError, parseCli } from './config.ts';
export { DockerDriver, dockerAvailable } from './driver/docker-driver.ts';
export type { Driver } from './driver/driver.ts';
export { createLogger, type Logger } from './log.ts';
export { IdentityError } from './session.ts';
export { StateStore } from './state-store.ts';
export { AGENT_VERSION } from './version.ts';

import type { AgentConfig } from './config.ts';

/** The in-process agent of `npm start`: node `local`, ports published on 127.0.0.1. */
export function localAgentConfig(o: {
  server: string;
  joinToken: string;
  dataDir: string;
  labels?: Record<string, string>;
}): AgentConfig {
  return {
    server: o.server,
    joinToken: o.joinToken,
    name: 'local',
    labels: o.labels ?? {},
    address: '127.0.0.1',
    dataDir: o.dataDir,
  };
}
