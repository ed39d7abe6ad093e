// Runs one scenario within its time budget and turns what happened into its result: pass, fail
// (with the failure a person can act on) or skip; the scenario's cleanups run either way.
import { setMaxListeners } from "node:events";
import { BerthError } from "../engine/errors.js";
import type { ScenarioResult } from "./model.js";
import { createScope, type RunState } from "./run-scope.js";
import { type Scenario, ScenarioAssertionError, ScenarioSkipped } from "./scenario.js";

const DEFAULT_TIMEOUT_MS = 120_000;

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

/** Rejects (and aborts `abort`) once `timeoutMs` have passed; `clear` ends the clock. */
function deadline(abort: AbortController, timeoutMs: number): { reached: Promise<never>; clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  const reached = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ScenarioAssertionError(`did not finish within ${timeoutMs / 1000} s`, {
        hint: "The daemon may be overloaded; see the evidence for the last phase reached.",
      });
      abort.abort(error);
      reject(error);
    }, timeoutMs);
  });
  return { reached, clear: () => clearTimeout(timer) };
}

/** A scenario's result without running it, for a category that cannot run here. */
export function skippedResult(scenario: Scenario, reason: string): ScenarioResult {
  return {
    id: scenario.id,
    category: scenario.category,
    title: scenario.title,
    status: "skip",
    startedAt: new Date().toISOString(),
    durationMs: 0,
    evidence: {},
    timings: {},
    skipReason: reason,
  };
}

export async function runScenario(
  state: RunState,
  scenario: Scenario,
  faulted = false,
): Promise<ScenarioResult> {
  const startedAt = new Date();
  const began = performance.now();
  const abort = new AbortController();
  // Every engine call and wait of the scenario listens on this signal; many may be pending at once.
  setMaxListeners(200, abort.signal);
  const scope = createScope(state, abort.signal, faulted);
  const clock = deadline(abort, scenario.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let status: ScenarioResult["status"] = "pass";
  let failure: ScenarioResult["failure"];
  let skipReason: string | undefined;
  try {
    const returned = await Promise.race([scenario.run(scope.ctx), clock.reached]);
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
    clock.clear();
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

/** Runs `work` over `items` with at most `limit` at once. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}
