// First: V8 settings for a small daemon, before anything else is compiled.
import './lean-v8.ts';
import { startAgent } from './agent.ts';
import { ConfigError, parseCli, USAGE } from './config.ts';
import { createLogger, errorMessage } from './log.ts';
import { AGENT_VERSION } from './version.ts';

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
  const log = createLogger();
  let agent: Awaited<ReturnType<typeof startAgent>>;
  try {
    agent = await startAgent({ ...action.config, logger: log });
  } catch (e) {
    log.error('cannot start', { error: errorMessage(e) });
    return 1;
  }
  await new Promise<void>((resolve) => {
    const onSignal = (sig: string) => {
      log.info('signal received, stopping (containers keep running)', { signal: sig });
      resolve();
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
  await agent.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`berth-agent: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
