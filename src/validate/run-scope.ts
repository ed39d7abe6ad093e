// Builds the context one scenario runs with, and keeps the run-wide state scenarios feed:
// latency samples, concurrency figures, names. Cleanups a scenario registers are run here too.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Engine } from "../engine/engine.js";
import type { ContainerCreateSpec } from "../engine/types.js";
import type { Session } from "../janitor/session.js";
import { safeRemove } from "../lifecycle/safe-remove.js";
import { waitForOutputLine } from "../lifecycle/wait/output-line.js";
import { NotReadyError } from "../lifecycle/wait/types.js";
import type { ConcurrencyFigure, Evidence, EvidenceValue, PerfOperation } from "./model.js";
import { type FixtureSpec, ScenarioAssertionError, type ScenarioContext } from "./scenario.js";
import { round } from "./stats.js";

/** The label every resource of one validation run carries, so the final sweep can find it. */
export const RUN_LABEL = "berth.validate.run";

/**
 * A shell loop that exits 0 on SIGTERM, so graceful stops are fast and measurable. It says
 * `ready` once the trap is set: a SIGTERM that comes before that meets a PID 1 without a handler,
 * which the kernel ignores, and the stop would wait for the whole grace period.
 */
export const TRAPPING_LOOP = ["sh", "-c", "trap 'exit 0' TERM; echo ready; sleep 3600 & wait"];

/**
 * The grace period of stops that are meant to be graceful. The trap ends them in milliseconds;
 * the generous bound only keeps a very busy machine from turning a slow SIGTERM into a kill.
 */
export const GRACE_SECONDS = 30;

/** Waits until a container prints `text` (a readiness line); a scenario failure after `timeoutMs`. */
export async function waitForOutput(
  engine: Engine,
  id: string,
  text: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  try {
    await waitForOutputLine(engine, id, text, { timeoutMs, signal });
  } catch (error) {
    if (!(error instanceof NotReadyError)) throw error;
    throw new ScenarioAssertionError(error.message, {
      actual: error.lastProbe ?? "(no output)",
      hint: "The daemon or the machine is very slow; the container's signal handling was not in place yet.",
    });
  }
}

export interface RunState {
  engine: Engine;
  image: string;
  runId: string;
  session: Session;
  quick: boolean;
  samples: Record<PerfOperation, number[]>;
  concurrency: ConcurrencyFigure[];
  /** Shared by every scope of the run (the fault runs' too), so no two names are the same. */
  names: { next: number };
  /** Told every name a scope hands out (a fault run sweeps what carries them afterwards). */
  onName?: (name: string) => void;
  /** Removes fixtures: the run's own engine, also when `engine` goes through a fault relay. */
  cleanupEngine?: Engine;
}

interface ScenarioScope {
  ctx: ScenarioContext;
  evidence: Evidence;
  timings: Record<string, number>;
  /** Runs the registered cleanups, last first; answers the errors they threw. */
  cleanup(): Promise<string[]>;
}

function runLabels(state: RunState, service?: string): Record<string, string> {
  return { ...state.session.labels(service), [RUN_LABEL]: state.runId };
}

export function createScope(state: RunState, signal: AbortSignal, faulted = false): ScenarioScope {
  const evidence: Evidence = {};
  const timings: Record<string, number> = {};
  const cleanups: (() => unknown)[] = [];
  const { engine } = state;

  const ctx: ScenarioContext = {
    engine,
    image: state.image,
    runId: state.runId,
    session: state.session,
    signal,
    quick: state.quick,
    faulted,
    labels: (service) => runLabels(state, service),
    name: (prefix) => {
      const name = `berth-validate-${state.runId}-${prefix}-${++state.names.next}`;
      state.onName?.(name);
      return name;
    },
    defer: (cleanup) => void cleanups.push(cleanup),
    observe: (key: string, value: EvidenceValue) => {
      evidence[key] = value;
    },
    time: async (phase, work) => {
      const start = performance.now();
      try {
        return await work();
      } finally {
        timings[phase] = round(performance.now() - start);
      }
    },
    sample: (operation: PerfOperation, ms: number) => void state.samples[operation].push(round(ms)),
    concurrency: (figure) => {
      const full: ConcurrencyFigure = {
        ...figure,
        successRate: figure.lifecycles === 0 ? 1 : figure.succeeded / figure.lifecycles,
        throughput: round(figure.succeeded / (figure.wallMs / 1000), 2),
        wallMs: round(figure.wallMs),
      };
      state.concurrency.push(full);
      return full;
    },
    container: async (spec: FixtureSpec = {}) => {
      const name = spec.name ?? ctx.name("c");
      await state.session.beforeCreate();
      const extra = spec.create ?? {};
      const { id } = await engine.createContainer({
        Image: state.image,
        Cmd: spec.cmd ?? TRAPPING_LOOP,
        ...extra,
        name,
        Labels: spec.labels
          ? { ...spec.labels, [RUN_LABEL]: state.runId }
          : { ...ctx.labels("validate"), ...(extra.Labels ?? {}) },
        HostConfig: { ...(extra.HostConfig ?? {}) },
      } as ContainerCreateSpec);
      ctx.defer(() => safeRemove(state.cleanupEngine ?? engine, id, { maxGraceSeconds: 2 }));
      if (spec.start !== false) {
        await engine.startContainer(id);
        const ready = spec.ready ?? (spec.cmd ? undefined : "ready");
        if (ready) await waitForOutput(engine, id, ready, 30_000, signal);
      }
      return { id, name };
    },
    tempDir: () => {
      const dir = mkdtempSync(join(tmpdir(), "berth-validate-"));
      ctx.defer(() => rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
    sleep: (ms) =>
      new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const onAbort = () => {
          clearTimeout(timer);
          reject(signal.reason);
        };
        const timer = setTimeout(() => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        }, ms);
        signal.addEventListener("abort", onAbort, { once: true });
      }),
  };

  return {
    ctx,
    evidence,
    timings,
    cleanup: async () => {
      const errors: string[] = [];
      while (cleanups.length > 0) {
        const cleanup = cleanups.pop()!;
        try {
          await cleanup();
        } catch (error) {
          errors.push((error as Error).message ?? String(error));
        }
      }
      return errors;
    },
  };
}
