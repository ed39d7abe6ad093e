// The engine a validation runs through: always behind the guard (the same limiter, retries and
// metrics every berth caller gets), and a description of its limiter for the results.
import type { Engine } from "../engine/engine.js";
import { guardEngine, guardOf } from "../guard/guard.js";

/** Guards `engine` unless it already is; answers it. */
export function guardedForValidation(engine: Engine): Engine {
  if (!guardOf(engine)) guardEngine(engine);
  return engine;
}

/** `adaptive`, `fixed (3 at once, 500 ms apart)`, `off`, or `unguarded`. */
export function limiterDescription(engine: Engine): string {
  const guard = guardOf(engine);
  if (!guard) return "unguarded";
  const snap = guard.limiter.snapshot();
  if (snap.mode === "fixed") return `fixed (${snap.limit} at once, ${snap.minIntervalMs ?? 0} ms apart)`;
  if (snap.mode === "adaptive")
    return `adaptive (limit ${snap.lowestLimit}..${snap.highestLimit} during the run)`;
  return snap.mode;
}
