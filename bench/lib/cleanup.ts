/**
 * Everything the benchmark starts or creates registers how to undo it here, so a failure, an
 * exception or Ctrl-C still leaves the machine as it was: Swarm left, containers removed,
 * processes stopped, databases dropped. Undo steps run newest first, each at most once.
 */
type Step = { what: string; run: () => Promise<void> | void };

const steps: Step[] = [];

/** Registers an undo step; returns a function that runs it now (and unregisters it). */
export function onCleanup(what: string, run: () => Promise<void> | void): () => Promise<void> {
  const step: Step = { what, run };
  steps.push(step);
  return async () => {
    const i = steps.indexOf(step);
    if (i < 0) return;
    steps.splice(i, 1);
    await runStep(step);
  };
}

/** A step that hangs must not keep the rest from running. */
const STEP_TIMEOUT_MS = 150_000;

async function runStep(step: Step): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      step.run(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), STEP_TIMEOUT_MS);
      }),
    ]);
  } catch (e) {
    process.stderr.write(`[bench] cleanup "${step.what}" failed: ${(e as Error).message}\n`);
  } finally {
    clearTimeout(timer);
  }
}

export async function cleanupAll(): Promise<void> {
  while (steps.length) await runStep(steps.pop()!);
}

let installed = false;

/** On SIGINT/SIGTERM: undo everything, then exit. */
export function installSignalCleanup(): void {
  if (installed) return;
  installed = true;
  let busy = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (busy) return;
    busy = true;
    process.stderr.write(`[bench] ${sig}: cleaning up\n`);
    void cleanupAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
