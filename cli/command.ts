import type { Flags, OptionName } from './args.ts';
import { BerthClient } from './client.ts';
import { type Connection, resolveConnection } from './config.ts';
import { UsageError } from './exit-codes.ts';
import type { Io } from './io.ts';
import { CLI_VERSION } from './version.ts';

/** What every command receives: parsed flags, its positional arguments, lazy access to the server. */
export class CommandContext {
  private connectionPromise?: Promise<Connection>;

  constructor(
    readonly io: Io,
    readonly flags: Flags,
    /** Positional arguments after the verb (and sub-verb, for `rollout status` and the like). */
    readonly args: string[],
  ) {}

  connection(): Promise<Connection> {
    this.connectionPromise ??= resolveConnection(this.flags, this.io.env, this.io.cwd);
    return this.connectionPromise;
  }

  async client(): Promise<BerthClient> {
    const { server, token } = await this.connection();
    return new BerthClient({ server, token, userAgent: `berth-cli/${CLI_VERSION}`, sleep: this.io.sleep });
  }

  async namespace(): Promise<string> {
    return (await this.connection()).namespace;
  }

  out(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  err(text: string): void {
    this.io.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** The positional at `index`, or a usage error naming what is missing. */
  arg(index: number, what: string): string {
    const value = this.args[index];
    if (value === undefined) throw new UsageError(`missing ${what}`);
    return value;
  }

  noMoreArgs(count: number): void {
    if (this.args.length > count) throw new UsageError(`unexpected argument "${this.args[count]}"`);
  }
}

export interface Command {
  name: string;
  /** Sub-verbs (`rollout status`): the first positional chooses one. */
  summary: string;
  usage: string;
  /** What `berth COMMAND --help` explains beyond the usage: the meaning of each flag. */
  help?: string;
  flags: readonly OptionName[];
  run(ctx: CommandContext): Promise<number | undefined>;
}
