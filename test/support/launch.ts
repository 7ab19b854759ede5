/**
 * How tests start the control plane and the agent: from the bundles their project built
 * (test/setup/bundles.setup.ts), else from the sources through tsx, as a checkout's
 * `npm run start:dev` and `bin/berth-agent.mjs` do.
 */
export function controlPlaneArgs(): string[] {
  const bundle = process.env.BERTH_TEST_SERVER_BUNDLE;
  return bundle ? [bundle] : ['--import', 'tsx', 'workers/entries/node.ts'];
}

/** The agent's entry; undefined: the checkout's launcher. */
export function agentBundle(): string | undefined {
  return process.env.BERTH_TEST_AGENT_BUNDLE;
}
