/**
 * What a command may touch of the outside world. `run` takes it as a parameter so tests drive the
 * real code with captured streams and a chosen environment, and the Action reuses the commands.
 */
export interface Io {
  stdout: Writable;
  stderr: Writable;
  /** Reads all of standard input (for `apply -f -`). */
  readStdin: () => Promise<string>;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Whether stdout is a terminal: progress lines are redrawn in place only then. */
  isTTY: boolean;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** Resolves on Ctrl-C; long-running commands (port-forward) finish then. */
  interrupted: Promise<void>;
}

export interface Writable {
  /** Text, or bytes as they came (a command's output through `exec`). */
  write(data: string | Uint8Array): unknown;
}

export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stdout.isTTY),
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    interrupted: new Promise((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }),
  };
}
