// What every command shares: the engine it talks through (always guarded) and its global flags.
// With --verbose the guard logs every call to stderr, and the guard's metrics are printed to
// stderr when the command ends, whether it succeeded or failed.
import type { Engine } from "../engine/engine.js";
import { createEngine, guardOf } from "../guard/guard.js";

export interface GlobalOptions {
  verbose?: boolean;
}

const reported: Engine[] = [];

function printMetrics(): void {
  for (const engine of reported) {
    const guard = guardOf(engine);
    if (guard) process.stderr.write(`${guard.metrics.render()}\n`);
  }
}

export function createCliEngine(options: GlobalOptions = {}): Engine {
  const engine = createEngine({ verbose: options.verbose });
  if (options.verbose) {
    // 'exit' also fires after a failed command and on process.exit(); stderr writes are synchronous there.
    if (reported.length === 0) process.once("exit", printMetrics);
    reported.push(engine);
  }
  return engine;
}
