// `up` and `down` are lists of named phases; each phase's duration goes to the guard's debug log
// (BERTH_LOG=debug, `--verbose`) beside the API calls it made, which is how docs/performance.md's
// breakdown is measured. With the log off a phase costs one property read.
import type { Engine } from "../engine/engine.js";
import { guardOf } from "../guard/guard.js";

export type PhaseRunner = <T>(name: string, work: () => Promise<T>, detail?: string) => Promise<T>;

export function phaseRunner(engine: Engine, scope: "up" | "down"): PhaseRunner {
  const log = guardOf(engine)?.log;
  return async (name, work, detail) => {
    if (!log?.enabled) return work();
    const began = performance.now();
    let outcome: "ok" | "error" = "error";
    try {
      const value = await work();
      outcome = "ok";
      return value;
    } finally {
      log.phase({
        scope,
        phase: name,
        durationMs: performance.now() - began,
        outcome,
        ...(detail ? { detail } : {}),
      });
    }
  };
}
