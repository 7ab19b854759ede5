import pkg from '../package.json' with { type: 'json' };

/** Reported at registration and in status reports. */
export const AGENT_VERSION: string = pkg.version;
