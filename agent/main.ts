// First: V8 settings for a small daemon, before anything else is compiled.
import './lean-v8.ts';
import { startAgent } from './agent.ts';
import { ConfigError, parseCli, USAGE } from './config.ts';
import { createLogger, errorMessage } from './log.ts';
import { IdentityError } from './session.ts';
import { AGENT_VERSION } from './version.ts';

/**
 * EX_CONFIG (sysexits.h): the node cannot be this node without an operator (deleted or reset,
 * no credential and no join token, registration refused). berth-agent.service does not restart
 * on it (RestartPreventExitStatus), so a refused agent stays down instead of looping.
 */
const EXIT_NEEDS_OPERATOR = 78;

/** `berth-agent`: parse flags and env, run until SIGTERM/SIGINT, leave containers running on exit. */
async function main(): Promise<number> {
  let action: ReturnType<typeof parseCli>;
  try {
    action = parseCli(process.argv.slice(2), process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
  if (action.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (action.kind === 'version') {
    process.stdout.write(`berth-agent ${AGENT_VERSION}\n`);
    return 0;
  }
  const log = createLogger(action.config.logLevel ?? 'info', undefined, {
    component: 'agent',
    node: action.config.name,
  });
  let agent: Awaited<ReturnType<typeof startAgent>>;
  try {
    agent = await startAgent({ ...action.config, logger: log });
  } catch (e) {
    log.error('cannot start', { error: errorMessage(e) });
    return e instanceof IdentityError ? EXIT_NEEDS_OPERATOR : 1;
  }
  const code = await new Promise<number>((resolve) => {
    const onSignal = (sig: string) => {
      log.info('signal received, stopping (containers keep running)', { signal: sig });
      resolve(0);
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
    void agent.failed.then((e) => {
      log.error('stopping: this machine is no longer the node', { error: e.message });
      resolve(EXIT_NEEDS_OPERATOR);
    });
  });
  await agent.stop();
  return code;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`berth-agent: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
