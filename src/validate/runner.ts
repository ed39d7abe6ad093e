// Runs validation scenarios against the live daemon: category by category, scenarios that are
// safe together in a small pool (the machine may have 2 cores), timing- and load-sensitive ones
// alone. Every scenario's resources are cleaned up after it; the run ends with a leak check.
import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import type { Engine } from "../engine/engine.js";
import { BerthError } from "../engine/errors.js";
import { ensureBusyboxFixture } from "../fixtures/busybox.js";
import { createSession } from "../janitor/session.js";
import { createScope, RUN_LABEL, type RunState } from "./context.js";
import { limiterDescription } from "./engine.js";
import { machineFacts } from "./machine.js";
import {
  type CategorySummary,
  type Evidence,
  PERF_OPERATIONS,
  type PerfOperation,
  RESULTS_SCHEMA,
  type ScenarioResult,
  type ValidationResults,
} from "./model.js";
import { type Category, type Scenario, ScenarioAssertionError, ScenarioSkipped } from "./scenario.js";
import { summarize } from "./stats.js";
import { findRunResources, type LeakedResource, sweepRunResources } from "./sweep.js";

export type ProgressEvent =
  | { kind: "phase"; message: string }
  | {
      kind: "scenario-start";
      scenario: Pick<Scenario, "id" | "title" | "category">;
      done: number;
      total: number;
    }
  | { kind: "scenario-end"; result: ScenarioResult; done: number; total: number };

export interface RunOptions {
  /** The engine to validate through (the CLI passes its guarded engine). */
  engine: Engine;
  /** Categories to run, already selected (see `selectCategories`). */
  categories: Category[];
  quick?: boolean;
  /** Scenarios run at once within a category (default 2). */
  parallelism?: number;
  berthVersion?: string;
  onProgress?(event: ProgressEvent): void;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const LEAK_SCENARIO = {
  id: "cleanup.final-leak-count",
  category: "cleanup",
  title: "Nothing the run created is left (leak count 0)",
};

function failureOf(error: unknown): ScenarioResult["failure"] {
  if (error instanceof ScenarioAssertionError) {
    return {
      message: error.message,
      code: error.code,
      expected: error.expected,
      actual: error.actual,
      hint: error.hint,
    };
  }
  if (error instanceof BerthError) {
    return { message: error.message, code: error.code, hint: error.hint };
  }
  return { message: (error as Error)?.message ?? String(error), code: "BERTH_INTERNAL" };
}

async function runScenario(state: RunState, scenario: Scenario): Promise<ScenarioResult> {
  const startedAt = new Date();
  const began = performance.now();
  const timeoutMs = scenario.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const abort = new AbortController();
  // Every engine call and wait of the scenario listens on this signal; many may be pending at once.
  setMaxListeners(200, abort.signal);
  const scope = createScope(state, abort.signal);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ScenarioAssertionError(`did not finish within ${timeoutMs / 1000} s`, {
        hint: "The daemon may be overloaded; see the evidence for the last phase reached.",
      });
      abort.abort(error);
      reject(error);
    }, timeoutMs);
  });
  let status: ScenarioResult["status"] = "pass";
  let failure: ScenarioResult["failure"];
  let skipReason: string | undefined;
  try {
    const returned = await Promise.race([scenario.run(scope.ctx), timedOut]);
    Object.assign(scope.evidence, returned ?? {});
  } catch (error) {
    if (error instanceof ScenarioSkipped) {
      status = "skip";
      skipReason = error.reason;
    } else {
      status = "fail";
      failure = failureOf(error);
    }
  } finally {
    clearTimeout(timer);
  }
  const cleanupErrors = await scope.cleanup();
  if (cleanupErrors.length > 0) {
    scope.evidence.cleanupErrors = cleanupErrors;
    if (status === "pass") {
      status = "fail";
      failure = { message: `cleanup failed: ${cleanupErrors.join("; ")}`, code: "BERTH_VALIDATE_CLEANUP" };
    }
  }
  return {
    id: scenario.id,
    category: scenario.category,
    title: scenario.title,
    status,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - began),
    evidence: scope.evidence,
    timings: scope.timings,
    ...(failure ? { failure } : {}),
    ...(skipReason ? { skipReason } : {}),
  };
}

/** Runs `tasks` with at most `limit` at once, preserving nothing but completion. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}

function summarizeCategory(category: Category, results: ScenarioResult[], wallMs?: number): CategorySummary {
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
    passRate: passed + failed === 0 ? 1 : passed / (passed + failed),
    durationMs: Math.round(wallMs ?? own.reduce((sum, r) => sum + r.durationMs, 0)),
  };
}

function leakEvidence(leaked: LeakedResource[]): Evidence {
  return {
    leaked: leaked.length,
    resources: leaked.map((r) => `${r.kind} ${r.name}`),
  };
}

/** Adds the run's label to BERTH_LABELS, so resources berth creates anywhere in the run carry it. */
function labelEverything(runId: string): () => void {
  const previous = process.env.BERTH_LABELS;
  process.env.BERTH_LABELS = [previous, `${RUN_LABEL}=${runId}`].filter(Boolean).join(",");
  return () => {
    if (previous === undefined) delete process.env.BERTH_LABELS;
    else process.env.BERTH_LABELS = previous;
  };
}

export async function runValidation(options: RunOptions): Promise<ValidationResults> {
  const { engine, categories } = options;
  const quick = options.quick ?? false;
  const progress = options.onProgress ?? (() => {});
  const startedAt = new Date();
  const began = performance.now();

  progress({ kind: "phase", message: "asking the daemon about itself" });
  await engine.ping();
  const machine = await machineFacts(engine, limiterDescription(engine));
  progress({ kind: "phase", message: "building the fixture image (skipped when unchanged)" });
  const fixture = await ensureBusyboxFixture(engine);

  const runId = randomUUID().replace(/-/g, "").slice(0, 8);
  const session = createSession(engine, { project: `berth-validate-${runId}` });
  const state: RunState = {
    engine,
    image: fixture.ref,
    runId,
    session,
    quick,
    samples: Object.fromEntries(PERF_OPERATIONS.map((op) => [op, []])) as unknown as Record<
      PerfOperation,
      number[]
    >,
    concurrency: [],
    nextName: 0,
  };
  const apiLatency = new Map<string, number[]>();
  const stopObserving = engine.observe((record) => {
    if (record.class === "stream" || record.outcome !== "ok") return;
    const list = apiLatency.get(record.operation) ?? [];
    list.push(record.durationMs);
    apiLatency.set(record.operation, list);
  });
  const restoreLabels = labelEverything(runId);
  // The reaper guards the run from its first resource: a killed `berth validate` leaves nothing.
  await (async () => {
    await session.beforeCreate();
    await session.confirmGuard();
  })().catch((error) => {
    restoreLabels();
    stopObserving();
    throw error;
  });

  const selected = categories.map((c) => ({
    ...c,
    scenarios: quick ? c.scenarios.filter((s) => s.quick) : c.scenarios,
  }));
  const total = selected.reduce((n, c) => n + c.scenarios.length, 0) + 1;
  const results = new Map<string, ScenarioResult>();
  let done = 0;
  const record = (result: ScenarioResult) => {
    results.set(result.id, result);
    progress({ kind: "scenario-end", result, done: ++done, total });
  };
  const execute = async (scenario: Scenario) => {
    progress({ kind: "scenario-start", scenario, done, total });
    record(await runScenario(state, scenario));
  };

  let leaked: LeakedResource[] = [];
  const categoryWall = new Map<string, number>();
  try {
    for (const category of selected) {
      if (category.scenarios.length === 0) continue;
      const reason = category.unavailable ? await category.unavailable(engine) : undefined;
      if (reason) {
        for (const scenario of category.scenarios) {
          record({
            id: scenario.id,
            category: scenario.category,
            title: scenario.title,
            status: "skip",
            startedAt: new Date().toISOString(),
            durationMs: 0,
            evidence: {},
            timings: {},
            skipReason: reason,
          });
        }
        continue;
      }
      progress({ kind: "phase", message: `category ${category.id}` });
      const categoryStart = performance.now();
      const shared = category.scenarios.filter((s) => !s.exclusive);
      await pool(shared, options.parallelism ?? 2, execute);
      for (const scenario of category.scenarios.filter((s) => s.exclusive)) await execute(scenario);
      categoryWall.set(category.id, performance.now() - categoryStart);
    }
  } finally {
    restoreLabels();
    stopObserving();
    progress({ kind: "phase", message: "checking for leaks" });
    const leakStart = performance.now();
    leaked = await findRunResources(engine, runId);
    const sweepErrors = await sweepRunResources(engine, leaked);
    await session.end();
    const evidence = leakEvidence(leaked);
    if (sweepErrors.length > 0) evidence.sweepErrors = sweepErrors;
    record({
      ...LEAK_SCENARIO,
      status: leaked.length === 0 ? "pass" : "fail",
      startedAt: new Date().toISOString(),
      durationMs: Math.round(performance.now() - leakStart),
      evidence,
      timings: {},
      ...(leaked.length > 0
        ? {
            failure: {
              message: `${leaked.length} resource(s) of the run were left behind: ${evidence.resources}`,
              code: "BERTH_LEAK_DETECTED",
              expected: 0,
              actual: leaked.length,
              hint: "They have been removed now; the scenario that created them did not clean up.",
            },
          }
        : {}),
    });
  }

  const order = [...selected.flatMap((c) => c.scenarios.map((s) => s.id)), LEAK_SCENARIO.id];
  const scenarios = order.map((id) => results.get(id)!).filter(Boolean);
  const summaryCategories = selected.map((c) => summarizeCategory(c, scenarios, categoryWall.get(c.id)));
  if (!selected.some((c) => c.id === "cleanup")) {
    summaryCategories.push(
      summarizeCategory({ id: "cleanup", title: "Cleanup and leaks", scenarios: [] }, scenarios),
    );
  }
  const passed = scenarios.filter((r) => r.status === "pass").length;
  const failed = scenarios.filter((r) => r.status === "fail").length;
  const operations = Object.fromEntries(
    PERF_OPERATIONS.filter((op) => state.samples[op].length > 0).map((op) => [
      op,
      { ...summarize(state.samples[op]), samples: state.samples[op] },
    ]),
  );
  machine.limiter = limiterDescription(engine);
  return {
    schema: RESULTS_SCHEMA,
    berthVersion: options.berthVersion ?? "unknown",
    runId,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - began),
    options: { quick, categories: selected.map((c) => c.id) },
    machine,
    summary: {
      total: scenarios.length,
      passed,
      failed,
      skipped: scenarios.length - passed - failed,
      successRate: passed + failed === 0 ? 1 : passed / (passed + failed),
      leaks: leaked.length,
      categories: summaryCategories,
    },
    scenarios,
    performance: {
      operations,
      concurrency: state.concurrency,
      throughput: Math.max(0, ...state.concurrency.map((c) => c.throughput)),
      api: Object.fromEntries(
        [...apiLatency].sort(([a], [b]) => a.localeCompare(b)).map(([op, v]) => [op, summarize(v)]),
      ),
    },
    leaks: { count: leaked.length, resources: leaked },
  };
}
