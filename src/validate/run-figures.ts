// What a validation run records besides its scenarios' results, and how it adds them up: every
// engine call's round trip, the guard's limit over the run, and the summary per category.
import type { Engine } from "../engine/engine.js";
import { guardOf } from "../guard/guard.js";
import {
  type CategorySummary,
  type LimiterPoint,
  PERF_OPERATIONS,
  type ScenarioResult,
  type ValidationResults,
} from "./model.js";
import type { RunState } from "./run-scope.js";
import type { Category } from "./scenario.js";
import { summarize } from "./stats.js";

/** Keeps the round trip of every finished engine call (streams and failures aside), per operation. */
export function recordApiLatency(engine: Engine): { samples: Map<string, number[]>; stop(): void } {
  const samples = new Map<string, number[]>();
  const stop = engine.observe((record) => {
    if (record.class === "stream" || record.outcome !== "ok") return;
    const list = samples.get(record.operation) ?? [];
    list.push(record.durationMs);
    samples.set(record.operation, list);
  });
  return { samples, stop };
}

/**
 * Samples the guard's lifecycle limit every 100 ms and keeps a point whenever the limit, the
 * calls in flight or the queue changed: the series the report draws and describes the run by.
 */
export function recordLimiter(engine: Engine, began: number): { points: LimiterPoint[]; stop(): void } {
  const points: LimiterPoint[] = [];
  const limiter = guardOf(engine)?.limiter;
  if (!limiter) return { points, stop: () => {} };
  const take = () => {
    const snap = limiter.snapshot();
    const point: LimiterPoint = {
      atMs: Math.round(performance.now() - began),
      limit: Number.isFinite(snap.limit) ? snap.limit : null,
      inFlight: snap.inFlight,
      queued: snap.queued,
    };
    const last = points.at(-1);
    const changed =
      !last || last.limit !== point.limit || last.inFlight !== point.inFlight || last.queued !== point.queued;
    if (changed) points.push(point);
  };
  take();
  const timer = setInterval(take, 100);
  timer.unref();
  return {
    points,
    stop: () => {
      clearInterval(timer);
      take();
    },
  };
}

export function summarizeCategory(
  category: Pick<Category, "id" | "title">,
  results: ScenarioResult[],
  wallMs?: number,
): CategorySummary {
  const own = results.filter((r) => r.category === category.id);
  const passed = own.filter((r) => r.status === "pass").length;
  const failed = own.filter((r) => r.status === "fail").length;
  return {
    category: category.id,
    title: category.title,
    total: own.length,
    passed,
    failed,
    skipped: own.length - passed - failed,
    passRate: own.length === 0 ? 1 : passed / own.length,
    durationMs: Math.round(wallMs ?? own.reduce((sum, r) => sum + r.durationMs, 0)),
  };
}

/** The run's totals over `scenarios`, with the proven count in a `--prove` run. */
export function summaryOf(
  scenarios: ScenarioResult[],
  categories: CategorySummary[],
  leaks: number,
  prove: boolean,
): ValidationResults["summary"] {
  const passed = scenarios.filter((r) => r.status === "pass").length;
  const failed = scenarios.filter((r) => r.status === "fail").length;
  return {
    total: scenarios.length,
    passed,
    failed,
    skipped: scenarios.length - passed - failed,
    successRate: scenarios.length === 0 ? 1 : passed / scenarios.length,
    leaks,
    ...(prove ? { proven: scenarios.filter((r) => r.proof?.proven).length } : {}),
    categories,
  };
}

/** The run's performance figures: scenario samples, concurrency, API round trips, limiter series. */
export function performanceOf(
  state: RunState,
  api: Map<string, number[]>,
  limiter: LimiterPoint[],
): ValidationResults["performance"] {
  const operations = Object.fromEntries(
    PERF_OPERATIONS.filter((op) => state.samples[op].length > 0).map((op) => [
      op,
      { ...summarize(state.samples[op]), samples: state.samples[op] },
    ]),
  );
  return {
    operations,
    concurrency: state.concurrency,
    throughput: Math.max(0, ...state.concurrency.map((c) => c.throughput)),
    api: Object.fromEntries(
      [...api]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([op, v]) => [op, { ...summarize(v), samples: v.map((ms) => Math.round(ms * 100) / 100) }]),
    ),
    limiter,
  };
}
