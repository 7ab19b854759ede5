import { ApiError, ConnectionError } from './client.ts';

/** The exit codes of `berth` (documented in cli/README.md); scripts branch on them. */
export const EXIT = {
  OK: 0,
  /** The operation ran and failed: a rollout failed, was rolled back or timed out; a conflict. */
  FAILURE: 1,
  /** Wrong command line: unknown verb or flag, missing argument, unreadable file. */
  USAGE: 2,
  /** The server could not be reached or failed (5xx, 503 while its database is down). */
  UNAVAILABLE: 3,
  /** The object does not exist. */
  NOT_FOUND: 4,
  /** The token is missing, unknown or lacks the right (401, 403). */
  DENIED: 5,
  /** The server rejected the request as malformed or invalid (400, 413, 415, 422). */
  INVALID: 6,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An expected failure with its exit code; printed as "error: <message>" without a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.FAILURE,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message, EXIT.USAGE);
    this.name = 'UsageError';
  }
}

export function exitCodeForStatus(status: number): ExitCode {
  if (status === 404) return EXIT.NOT_FOUND;
  if (status === 401 || status === 403) return EXIT.DENIED;
  if (status === 400 || status === 413 || status === 415 || status === 422) return EXIT.INVALID;
  if (status >= 500 || status === 429) return EXIT.UNAVAILABLE;
  return EXIT.FAILURE;
}

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof ApiError) return exitCodeForStatus(error.status);
  if (error instanceof ConnectionError) return EXIT.UNAVAILABLE;
  return EXIT.FAILURE;
}
