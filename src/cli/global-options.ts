// What every command shares: the engine it talks through (always guarded) and its global flags.
// With --verbose the guard logs every call to stderr, and the guard's metrics are printed to
// stderr when the command ends, whether it succeeded or failed.
import { Engine } from "../engine/engine.js";
import { guardEngine, guardOf } from "../guard/guard.js";
import { createLimiter } from "../guard/limiter.js";
import { baselinesPath, loadBaselines, saveBaselines } from "./limiter-memory.js";

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

const remembered: { path: string | undefined; engine: Engine; loaded: Record<string, number> }[] = [];

function rememberBaselines(): void {
  for (const { path, engine, loaded } of remembered) {
    const limiter = guardOf(engine)?.limiter;
    if (limiter) saveBaselines(path, limiter.baselines(), Date.now(), loaded);
  }
}

/**
 * The command's guarded engine. Its adaptive limiter starts from the latencies the last command
 * learned about the same daemon and leaves its own for the next (src/cli/limiter-memory.ts).
 */
export function createCliEngine(options: GlobalOptions = {}): Engine {
  const engine = new Engine();
  const path = baselinesPath(engine.endpoint.url);
  const loaded = loadBaselines(path);
  const limiter = createLimiter({ env: process.env, baselines: loaded });
  guardEngine(engine, { limiter, verbose: options.verbose });
  // Synchronous writes only: 'exit' also fires after a failed command and on process.exit().
  if (remembered.length === 0) process.once("exit", rememberBaselines);
  remembered.push({ path, engine, loaded });
  if (options.verbose) {
    // 'exit' also fires after a failed command and on process.exit(); stderr writes are synchronous there.
    if (reported.length === 0) process.once("exit", printMetrics);
    reported.push(engine);
  }
  return engine;
}
