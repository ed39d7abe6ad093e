// `berth validate --prove`: each scenario again, under the fault that breaks what it checks. A
// fault run adds nothing to the run's figures, so fault runs of scenarios that share the daemon
// well go several at once; those that measure timing or load (`exclusive`) still run alone.
import type { Engine } from "../engine/engine.js";
import { createEngine } from "../guard/guard.js";
import { startAnswerRelay } from "./answer-relay.js";
import { PERF_OPERATIONS, type ScenarioProof, type ScenarioResult } from "./model.js";
import { pool, runScenario } from "./run-scenario.js";
import type { RunState } from "./run-scope.js";
import type { Scenario } from "./scenario.js";
import { runLimiterOptions } from "./scenarios/rate-limiting.js";
import { findRunResources, sweepRunResources } from "./sweep.js";

/** Fault runs at once by default: the daemon handles this many small scenarios without strain. */
export const PROVE_PARALLELISM = 4;

/**
 * The run's state with another engine and fresh figures (a fault run adds nothing to the run's
 * figures), telling `names` every name the fault run hands out.
 */
function faultState(state: RunState, engine: Engine, names: string[]): RunState {
  const samples = Object.fromEntries(PERF_OPERATIONS.map((op) => [op, []])) as unknown as RunState["samples"];
  return {
    ...state,
    engine,
    samples,
    concurrency: [],
    cleanupEngine: state.engine,
    onName: (name) => names.push(name),
  };
}

/**
 * What a fault run left: a broken check can stop a scenario before its own removals, and a relay
 * that lies about a container misleads its cleanup. Everything of the run named after a name the
 * fault run handed out is removed with the run's own engine, and reported in the proof.
 */
async function sweepFaultRun(state: RunState, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const left = (await findRunResources(state.engine, state.runId)).filter((r) =>
    names.some((name) => r.name.startsWith(name)),
  );
  await sweepRunResources(state.engine, left);
  return left.map((r) => `${r.kind} ${r.name}`);
}

/** Runs `scenario` under its fault: through a relay with its rules, or with `ctx.faulted` set. */
async function runFaulted(state: RunState, scenario: Scenario, names: string[]): Promise<ScenarioResult> {
  const { fault } = scenario;
  if (fault.kind !== "relay") return runScenario(faultState(state, state.engine, names), scenario, true);
  const relay = await startAnswerRelay(state.engine.endpoint, fault.rules);
  const engine = createEngine({ dockerHost: relay.dockerHost, limiter: runLimiterOptions(state.engine) });
  try {
    const result = await runScenario(faultState(state, engine, names), scenario, true);
    result.evidence.relayChanged = relay.changed;
    return result;
  } finally {
    engine.close();
    await relay.close();
  }
}

/** Runs `scenario` again under its fault; proven when it fails there with the expected failure. */
export async function proveScenario(
  state: RunState,
  scenario: Scenario,
  healthy: ScenarioResult,
): Promise<ScenarioProof> {
  const { fault } = scenario;
  const names: string[] = [];
  const result = await runFaulted(state, scenario, names);
  const leftovers = await sweepFaultRun(state, names);
  if (leftovers.length > 0) result.evidence.removedAfterFault = leftovers;
  const failedAsExpected = result.status === "fail" && fault.expect.test(result.failure?.message ?? "");
  return {
    fault: fault.describe,
    kind: fault.kind,
    expected: fault.expect.source,
    status: result.status,
    ...(result.failure ? { failure: result.failure } : {}),
    evidence: result.evidence,
    durationMs: result.durationMs,
    proven: healthy.status === "pass" && failedAsExpected,
  };
}

export interface ProofTask {
  scenario: Scenario;
  healthy: ScenarioResult;
}

/**
 * Proves every task: the exclusive ones first, one at a time, then the others `parallelism` at
 * once, the longest (by their healthy run) first so no long one is left to run alone at the end.
 * Each proof lands in its healthy result's `proof`; `onProved` hears of each as it ends.
 */
export async function proveAll(
  state: RunState,
  tasks: readonly ProofTask[],
  parallelism: number,
  onProved: (result: ScenarioResult) => void,
): Promise<void> {
  const prove = async ({ scenario, healthy }: ProofTask) => {
    healthy.proof = await proveScenario(state, scenario, healthy);
    onProved(healthy);
  };
  for (const task of tasks.filter((t) => t.scenario.exclusive)) await prove(task);
  const shared = tasks
    .filter((t) => !t.scenario.exclusive)
    .sort((a, b) => b.healthy.durationMs - a.healthy.durationMs);
  await pool(shared, parallelism, prove);
}
