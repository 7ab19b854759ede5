import { stringify } from 'yaml';
import type { Flags } from './args.ts';
import type { CommandContext } from './command.ts';
import { UsageError } from './exit-codes.ts';

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'name';

const FORMATS: OutputFormat[] = ['table', 'wide', 'json', 'yaml', 'name'];

export function outputFormat<F extends OutputFormat = OutputFormat>(
  flags: Flags,
  allowed: readonly F[] = FORMATS as F[],
): F {
  const format = (flags.output ?? 'table') as F;
  if (!allowed.includes(format)) throw new UsageError(`-o must be one of ${allowed.join(', ')}`);
  return format;
}

/** json and yaml print exactly what the server sent (lists as {items}), for scripts. */
export function printData(ctx: CommandContext, format: 'json' | 'yaml', data: unknown): void {
  ctx.out(format === 'json' ? JSON.stringify(data, null, 2) : stringify(data, { lineWidth: 0 }));
}
