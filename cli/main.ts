import { checkFlags, parseCommandLine } from './args.ts';
import { ApiError, ConnectionError } from './client.ts';
import { type Command, CommandContext } from './command.ts';
import { apply } from './commands/apply.ts';
import { context, login } from './commands/config.ts';
import { create } from './commands/create.ts';
import { deleteCommand } from './commands/delete.ts';
import { describe } from './commands/describe.ts';
import { exec } from './commands/exec.ts';
import { get } from './commands/get.ts';
import { kubeconfigCommand } from './commands/kubeconfig.ts';
import { logs } from './commands/logs.ts';
import { namespace } from './commands/namespace.ts';
import { node } from './commands/node.ts';
import { portForward } from './commands/port-forward.ts';
import { rollout } from './commands/rollout.ts';
import { scale } from './commands/scale.ts';
import { set } from './commands/set.ts';
import { resume, suspend } from './commands/suspend.ts';
import { joinToken, token } from './commands/tokens.ts';
import { version } from './commands/version.ts';
import { wait } from './commands/wait.ts';
import { CliError, EXIT, exitCodeFor, UsageError } from './exit-codes.ts';
import { type Io, processIo } from './io.ts';

/** `berth`: the command line of Berth. `run` never throws and never prints a stack trace. */

export const COMMANDS: Command[] = [
  apply,
  create,
  get,
  describe,
  scale,
  set,
  rollout,
  wait,
  suspend,
  resume,
  deleteCommand,
  logs,
  exec,
  portForward,
  token,
  joinToken,
  node,
  namespace,
  login,
  context,
  kubeconfigCommand,
  version,
];

function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'berth: deploy containers to your own machines with Berth.',
    '',
    'Usage: berth COMMAND [ARGS] [FLAGS]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Flags for every command:',
    '  --server URL      the control plane (BERTH_SERVER; default http://localhost:8080)',
    '  --token TOKEN     the API token (BERTH_TOKEN; default: the context, or .berth/admin-token locally)',
    '  --context NAME    a context saved by berth login (default: the current one)',
    '  -n, --namespace   the namespace (BERTH_NAMESPACE; default: the context\'s, or "default")',
    '  -h, --help        help for a command: berth COMMAND --help',
    '',
  ].join('\n');
}

function commandHelp(c: Command): string {
  const flags = c.flags.length ? `\nFlags: ${c.flags.map((f) => `--${f}`).join(' ')}\n` : '\n';
  return `${c.summary}\n\nUsage: ${c.usage}\n${c.help ? `\n${c.help}\n` : ''}${flags}`;
}

export async function run(argv: string[], io: Io = processIo()): Promise<number> {
  let command: Command | undefined;
  try {
    const { positionals, flags, given } = parseCommandLine(argv);
    const [verb, ...args] = positionals;
    if (verb === undefined || verb === 'help') {
      const topic = COMMANDS.find((c) => c.name === args[0]);
      io.stdout.write(topic ? commandHelp(topic) : helpText());
      return verb === undefined && !flags.help ? EXIT.USAGE : EXIT.OK;
    }
    command = COMMANDS.find((c) => c.name === verb);
    if (!command) throw new UsageError(`unknown command "${verb}"`);
    if (flags.help) {
      io.stdout.write(commandHelp(command));
      return EXIT.OK;
    }
    checkFlags(given, command.flags, command.name);
    return (await command.run(new CommandContext(io, flags, args))) ?? EXIT.OK;
  } catch (err) {
    reportError(io, err, command);
    return exitCodeFor(err);
  }
}

export function reportError(io: Io, err: unknown, command?: Command): void {
  const write = (line: string) => io.stderr.write(`${line}\n`);
  if (err instanceof ApiError) {
    write(`error: ${err.message}${err.code ? ` (${err.code})` : ''}`);
    for (const e of err.fieldErrors) write(e.path ? `  ${e.path}: ${e.message}` : `  ${e.message}`);
    if (err.status === 401) write('  hint: check --token, BERTH_TOKEN or berth login');
    if (err.status >= 500 && err.problem.requestId) write(`  request id: ${err.problem.requestId}`);
    return;
  }
  if (err instanceof ConnectionError) {
    write(`error: ${err.message}`);
    return;
  }
  if (err instanceof CliError) {
    write(`error: ${err.message}`);
    for (const d of err.details) write(`  ${d}`);
    if (err instanceof UsageError)
      write(command ? `usage: ${command.usage}` : "run 'berth help' for the list of commands");
    return;
  }
  // A bug: say what happened in one line; BERTH_DEBUG=1 shows where.
  write(`error: ${err instanceof Error ? err.message : String(err)}`);
  if (io.env.BERTH_DEBUG && err instanceof Error && err.stack) write(err.stack);
}
