// What a validation scenario is: a named check against the live daemon that throws when its
// condition does not hold and returns what it observed. The context gives it the run's engine,
// fixture image, labels and names, and collects cleanups so nothing a scenario creates survives it.

import type { Engine } from "../engine/engine.js";
import { BerthError } from "../engine/errors.js";
import type { ContainerCreateSpec } from "../engine/types.js";
import type { Session } from "../janitor/session.js";
import type { RelayRule } from "./answer-relay.js";
import type { ConcurrencyFigure, Evidence, EvidenceValue, PerfOperation } from "./model.js";

export interface ScenarioContext {
  /** The run's engine, behind the guard as every berth caller is. */
  readonly engine: Engine;
  /** The busybox fixture image (built locally, never pulled). */
  readonly image: string;
  readonly runId: string;
  readonly session: Session;
  /** Aborted when the scenario runs out of time. */
  readonly signal: AbortSignal;
  readonly quick: boolean;
  /**
   * True in the run under the scenario's fault (`berth validate --prove`). Under a `setup` fault
   * the scenario then sets itself up wrongly on purpose, as the fault describes; under a `relay`
   * fault it runs unchanged, except for a fixture the fault's description names.
   */
  readonly faulted: boolean;
  /** Labels that tie a resource to this run (session labels plus the run id). */
  labels(service?: string): Record<string, string>;
  /** A name unique to this run: `berth-validate-<run>-<prefix>-<n>`. */
  name(prefix: string): string;
  /** Registers a cleanup; cleanups run after the scenario, last registered first, pass or fail. */
  defer(cleanup: () => unknown): void;
  /** Records an observation under `key`; the reports show it as the scenario's evidence. */
  observe(key: string, value: EvidenceValue): void;
  /** Records how long a named phase took (ms). */
  time<T>(phase: string, work: () => Promise<T>): Promise<T>;
  /** Adds a latency sample to the run's performance figures. */
  sample(operation: PerfOperation, ms: number): void;
  /** Adds a concurrency measurement to the run's performance figures. */
  concurrency(figure: Omit<ConcurrencyFigure, "successRate" | "throughput">): ConcurrencyFigure;
  /** Creates (and by default starts) a fixture container labelled for the run; removed afterwards. */
  container(spec?: FixtureSpec): Promise<{ id: string; name: string }>;
  /** A temporary host directory, removed afterwards. */
  tempDir(): string;
  sleep(ms: number): Promise<void>;
}

export interface FixtureSpec {
  name?: string;
  cmd?: string[];
  start?: boolean;
  /**
   * A line the container prints once its signal handling is set up; the container is returned
   * only after it appeared. Default: `ready` for the default command, nothing for others.
   */
  ready?: string;
  /** Labels instead of the run's (a foreign or dead-session container); the run label is kept. */
  labels?: Record<string, string>;
  /** Extra create options merged into the spec (HostConfig is merged one level deep). */
  create?: Partial<ContainerCreateSpec>;
}

/**
 * What breaks exactly what a scenario checks, for `berth validate --prove`: the scenario must
 * pass as it is and fail under its fault, with a failure message matching `expect`.
 * - `relay`: the scenario's engine talks to the daemon through a relay that changes the answers
 *   named by `rules` (the scenario itself is unchanged);
 * - `setup`: the scenario runs with `ctx.faulted` and sets itself up wrongly as `describe` says
 *   (berth configured wrongly on purpose, or a fixture that misbehaves).
 */
export type Fault =
  | { kind: "relay"; describe: string; expect: RegExp; rules: RelayRule[] }
  | { kind: "setup"; describe: string; expect: RegExp };

export interface Scenario {
  /** Stable id, `<category>.<name>`, used by --baseline to match runs. */
  id: string;
  category: string;
  title: string;
  /** Part of `--quick`. */
  quick?: boolean;
  /** Runs alone: it measures timing or load, and other scenarios would disturb it. */
  exclusive?: boolean;
  /** Time budget (ms, default 60 s); the scenario fails when it runs out. */
  timeoutMs?: number;
  /** The fault that breaks what the scenario checks (see `Fault`). */
  fault: Fault;
  run(ctx: ScenarioContext): Promise<Evidence | undefined>;
}

export interface Category {
  id: string;
  title: string;
  /** Not run by default: only when asked for with --category. */
  optional?: boolean;
  /** Answers why the category cannot run here (its scenarios are then skipped), or undefined. */
  unavailable?(engine: Engine): Promise<string | undefined>;
  scenarios: Scenario[];
}

/** A scenario's condition did not hold; `expected` and `actual` go into the report. */
export class ScenarioAssertionError extends BerthError {
  override readonly code = "BERTH_VALIDATE_ASSERTION";
  readonly expected: EvidenceValue | undefined;
  readonly actual: EvidenceValue | undefined;
  constructor(
    message: string,
    facts: { expected?: EvidenceValue; actual?: EvidenceValue; hint?: string } = {},
  ) {
    super(message, { hint: facts.hint });
    this.expected = facts.expected;
    this.actual = facts.actual;
  }
}

/** Thrown by a scenario that finds it cannot run here (a missing image, an absent tool). */
export class ScenarioSkipped extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "ScenarioSkipped";
  }
}

export function check(
  condition: unknown,
  message: string,
  facts: { expected?: EvidenceValue; actual?: EvidenceValue; hint?: string } = {},
): asserts condition {
  if (!condition) throw new ScenarioAssertionError(message, facts);
}

/** Asserts `actual === expected` (deep for plain values), naming `what` in the failure. */
export function checkEqual<T extends EvidenceValue | undefined>(actual: T, expected: T, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new ScenarioAssertionError(`${what}: expected ${show(expected)}, got ${show(actual)}`, {
      expected: expected ?? null,
      actual: actual ?? null,
    });
  }
}

/** Asserts that `work` fails, and returns the error for further checks. */
export async function checkRejects(work: () => Promise<unknown>, what: string): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new ScenarioAssertionError(`${what}: expected an error, but the call succeeded`);
}

function show(value: unknown): string {
  return typeof value === "string" ? `\`${value}\`` : JSON.stringify(value);
}

/** The scenarios of `category`: `scenario(name, …)` has the id `<category>.<name>`. */
export function scenarioIn(category: string) {
  return (name: string, spec: Omit<Scenario, "id" | "category">): Scenario => ({
    id: `${category}.${name}`,
    category,
    ...spec,
  });
}

/** A `relay` fault (see `Fault`): the daemon's answers as `rules` change them. */
export function relayFault(describe: string, expect: RegExp, rules: RelayRule[]): Fault {
  return { kind: "relay", describe, expect, rules };
}

/** A `setup` fault (see `Fault`): the scenario sets itself up wrongly as `describe` says. */
export function setupFault(describe: string, expect: RegExp): Fault {
  return { kind: "setup", describe, expect };
}
