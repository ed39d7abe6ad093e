// The engine a validation runs through: always behind the guard (the same limiter, retries and
// metrics every berth caller gets), and a description of its limiter for the results.
import type { Engine } from "../engine/engine.js";
import { guardEngine, guardOf } from "../guard/guard.js";
import type { LimiterPoint } from "./model.js";

/** Guards `engine` unless it already is; answers it. */
export function guardedForValidation(engine: Engine): Engine {
  if (!guardOf(engine)) guardEngine(engine);
  return engine;
}

/**
 * `adaptive (limit 2..9 during the run)`, `fixed (3 at once, 500 ms apart)`, `off`, or
 * `unguarded`. The adaptive range comes from the run's recorded series when there is one.
 */
export function limiterDescription(engine: Engine, series: readonly LimiterPoint[] = []): string {
  const guard = guardOf(engine);
  if (!guard) return "unguarded";
  const snap = guard.limiter.snapshot();
  if (snap.mode === "fixed") return `fixed (${snap.limit} at once, ${snap.minIntervalMs ?? 0} ms apart)`;
  if (snap.mode === "adaptive") {
    const limits = series.map((p) => p.limit).filter((l): l is number => l !== null);
    const [low, high] =
      limits.length > 0 ? [Math.min(...limits), Math.max(...limits)] : [snap.lowestLimit, snap.highestLimit];
    return `adaptive (limit ${low}..${high} during the run)`;
  }
  return snap.mode;
}
