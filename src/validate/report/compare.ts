// The change between two validation runs: which scenarios newly fail or newly pass, and which
// operations got faster or slower. Pure, so the rules are unit-tested. A latency change counts
// only when it is both relatively and absolutely large, so jitter on fast calls is not news.
import type { LatencySummary, ScenarioStatus, ValidationResults } from "../model.js";

type LatencyVerdict = "faster" | "slower" | "same" | "new" | "gone";

export interface LatencyChange {
  operation: string;
  before?: LatencySummary;
  after?: LatencySummary;
  /** after.p50 / before.p50 - 1 (negative is faster). */
  p50Change?: number;
  p95Change?: number;
  verdict: LatencyVerdict;
}

export interface ScenarioChange {
  id: string;
  title: string;
  category: string;
  before?: ScenarioStatus;
  after?: ScenarioStatus;
  /** The current failure message, for newly and still failing scenarios. */
  message?: string;
}

interface CategoryChange {
  category: string;
  title: string;
  before?: number;
  after?: number;
}

export interface RunComparison {
  baseline: { runId: string; startedAt: string; engineVersion: string; quick: boolean };
  successRate: { before: number; after: number };
  throughput: { before: number; after: number };
  leaks: { before: number; after: number };
  operations: LatencyChange[];
  api: LatencyChange[];
  categories: CategoryChange[];
  newlyFailing: ScenarioChange[];
  newlyPassing: ScenarioChange[];
  stillFailing: ScenarioChange[];
  added: ScenarioChange[];
  removed: ScenarioChange[];
}

interface CompareThresholds {
  /** Smallest relative p50 change that counts (default 0.10). */
  relative: number;
  /** Smallest absolute p50 change in ms that counts (default 5). */
  absoluteMs: number;
}

const DEFAULT_THRESHOLDS: CompareThresholds = { relative: 0.1, absoluteMs: 5 };

export function latencyVerdict(
  before: LatencySummary | undefined,
  after: LatencySummary | undefined,
  thresholds: CompareThresholds = DEFAULT_THRESHOLDS,
): LatencyVerdict {
  if (!before || before.count === 0) return after && after.count > 0 ? "new" : "gone";
  if (!after || after.count === 0) return "gone";
  const delta = after.p50 - before.p50;
  const relative = before.p50 === 0 ? (delta === 0 ? 0 : Number.POSITIVE_INFINITY) : delta / before.p50;
  if (Math.abs(delta) < thresholds.absoluteMs || Math.abs(relative) < thresholds.relative) return "same";
  return delta < 0 ? "faster" : "slower";
}

function ratio(after: number, before: number): number | undefined {
  return before === 0 ? undefined : after / before - 1;
}

function compareLatency(
  before: Record<string, LatencySummary>,
  after: Record<string, LatencySummary>,
  order: string[],
  thresholds: CompareThresholds,
): LatencyChange[] {
  const names = [...new Set([...order, ...Object.keys(after), ...Object.keys(before)])].filter(
    (n) => n in before || n in after,
  );
  return names.map((operation) => {
    const b = before[operation];
    const a = after[operation];
    const change: LatencyChange = { operation, verdict: latencyVerdict(b, a, thresholds) };
    if (b) change.before = b;
    if (a) change.after = a;
    if (a && b) {
      const p50 = ratio(a.p50, b.p50);
      const p95 = ratio(a.p95, b.p95);
      if (p50 !== undefined) change.p50Change = p50;
      if (p95 !== undefined) change.p95Change = p95;
    }
    return change;
  });
}

function strip<T extends { samples?: unknown }>(record: Record<string, T>): Record<string, LatencySummary> {
  return Object.fromEntries(
    Object.entries(record).map(([k, { samples: _samples, ...rest }]) => [
      k,
      rest as unknown as LatencySummary,
    ]),
  );
}

export function compareRuns(
  current: ValidationResults,
  baseline: ValidationResults,
  thresholds: CompareThresholds = DEFAULT_THRESHOLDS,
): RunComparison {
  const beforeById = new Map(baseline.scenarios.map((s) => [s.id, s]));
  const afterById = new Map(current.scenarios.map((s) => [s.id, s]));
  const newlyFailing: ScenarioChange[] = [];
  const newlyPassing: ScenarioChange[] = [];
  const stillFailing: ScenarioChange[] = [];
  const added: ScenarioChange[] = [];
  const removed: ScenarioChange[] = [];

  for (const after of current.scenarios) {
    const before = beforeById.get(after.id);
    const change: ScenarioChange = {
      id: after.id,
      title: after.title,
      category: after.category,
      after: after.status,
      ...(before ? { before: before.status } : {}),
      ...(after.failure ? { message: after.failure.message } : {}),
    };
    if (!before) added.push(change);
    else if (after.status === "fail" && before.status !== "fail") newlyFailing.push(change);
    else if (after.status === "fail") stillFailing.push(change);
    else if (after.status === "pass" && before.status === "fail") newlyPassing.push(change);
  }
  for (const before of baseline.scenarios) {
    if (!afterById.has(before.id)) {
      removed.push({ id: before.id, title: before.title, category: before.category, before: before.status });
    }
  }

  const categoryIds = [
    ...new Set([
      ...current.summary.categories.map((c) => c.category),
      ...baseline.summary.categories.map((c) => c.category),
    ]),
  ];
  const categories = categoryIds.map((category) => {
    const a = current.summary.categories.find((c) => c.category === category);
    const b = baseline.summary.categories.find((c) => c.category === category);
    const change: CategoryChange = { category, title: a?.title ?? b?.title ?? category };
    if (b && b.passed + b.failed > 0) change.before = b.passRate;
    if (a && a.passed + a.failed > 0) change.after = a.passRate;
    return change;
  });

  return {
    baseline: {
      runId: baseline.runId,
      startedAt: baseline.startedAt,
      engineVersion: baseline.machine.engineVersion,
      quick: baseline.options.quick,
    },
    successRate: { before: baseline.summary.successRate, after: current.summary.successRate },
    throughput: { before: baseline.performance.throughput, after: current.performance.throughput },
    leaks: { before: baseline.leaks.count, after: current.leaks.count },
    operations: compareLatency(
      strip(baseline.performance.operations),
      strip(current.performance.operations),
      ["create", "start", "gracefulStop", "safeRemove"],
      thresholds,
    ),
    api: compareLatency(baseline.performance.api, current.performance.api, [], thresholds),
    categories,
    newlyFailing,
    newlyPassing,
    stillFailing,
    added,
    removed,
  };
}
