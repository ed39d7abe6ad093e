// Safe removal: the replacement for `docker rm -f`. Stop with the container's own stop signal,
// give it its grace period, verify it stopped, remove without force (with its anonymous volumes)
// and verify it is gone. No step ever sends `force=true`.
import { constants } from "node:os";
import type { Engine } from "../engine/engine.js";
import { ConflictError, NotFoundError, TimeoutError } from "../engine/errors.js";
import { containerName } from "../model/container-name.js";
import { sleep } from "../model/sleep.js";

export type StopOutcome = "exited" | "killed-after-grace" | "was-stopped" | "already-removed";

type RemovalStepName = "inspect" | "disable-restart" | "stop" | "wait-not-running" | "remove" | "verify-gone";

interface RemovalStep {
  step: RemovalStepName;
  /** Milliseconds since the removal began. */
  atMs: number;
  durationMs: number;
}

export interface RemovalRecord {
  /** What the caller asked to remove (name or id). */
  container: string;
  id?: string;
  name?: string;
  outcome: StopOutcome;
  /** The exit code the container ended with, when it had run. */
  exitCode: number | null;
  /** Grace period used for the stop, in seconds. */
  graceSeconds: number;
  /** The signal the daemon sent first (the container's stop signal). */
  stopSignal: string;
  /** True when another caller's removal was already in progress and berth waited for it. */
  joinedConcurrentRemoval: boolean;
  steps: RemovalStep[];
  totalMs: number;
}

export interface SafeRemoveOptions {
  /** Grace period in seconds; default: the container's StopTimeout, else 10. */
  graceSeconds?: number;
  /** An upper bound on the grace period, whatever the container asks for. */
  maxGraceSeconds?: number;
  /** Remove the container's anonymous volumes (default true). */
  removeVolumes?: boolean;
  /** How long to wait for a removal in progress elsewhere to finish (ms, default 30 s). */
  settleTimeoutMs?: number;
  /**
   * Look the container up after our own removal answered, until it is gone (default true). A
   * caller that verifies everything at the end anyway (`down`'s final inventory) may skip it; a
   * removal joined from another caller is always waited out.
   */
  verifyGone?: boolean;
  /** Called once the container is no longer running (before its removal). */
  onStopped?: () => void;
  signal?: AbortSignal;
}

const DEFAULT_GRACE_SECONDS = 10;
const SIGKILL_EXIT = 137;

type Inspect = Awaited<ReturnType<Engine["inspectContainer"]>>;

function isActive(state: Inspect["State"]): boolean {
  return state.Running || state.Restarting || state.Paused;
}

/** Decides how a stopped container ended. Pure, so the rule is tested without a daemon. */
export function classifyStop(input: {
  exitCode: number;
  stopSignal: string;
  graceSeconds: number;
  stopDurationMs: number;
}): "exited" | "killed-after-grace" {
  const killedBySignal = input.exitCode === SIGKILL_EXIT;
  const askedForKill = /^(SIGKILL|KILL|9)$/i.test(input.stopSignal);
  // The daemon escalates only once the grace period has passed; allow for its own timing slack.
  const reachedGrace = input.stopDurationMs >= input.graceSeconds * 1000 - 250;
  return killedBySignal && !askedForKill && reachedGrace ? "killed-after-grace" : "exited";
}

/** `SIGTERM` for `SIGTERM`, `TERM` or `15`: Podman reports a container's stop signal as a number. */
export function signalName(signal: string): string {
  if (/^\d+$/.test(signal)) {
    const found = Object.entries(constants.signals).find(([, number]) => number === Number(signal));
    return found ? found[0] : signal;
  }
  const upper = signal.toUpperCase();
  return upper.startsWith("SIG") ? upper : `SIG${upper}`;
}

function gracePeriodFor(info: Inspect, options: SafeRemoveOptions): number {
  const own = (info.Config as { StopTimeout?: number }).StopTimeout;
  const grace = options.graceSeconds ?? (typeof own === "number" && own >= 0 ? own : DEFAULT_GRACE_SECONDS);
  return options.maxGraceSeconds === undefined ? grace : Math.min(grace, options.maxGraceSeconds);
}

/** Waits until inspect answers 404; used after our own removal and to join another's. */
async function waitUntilGone(
  engine: Engine,
  id: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 25;
  while ((await engine.findContainer(id, signal)) !== undefined) {
    if (Date.now() > deadline) {
      throw new TimeoutError(`Container ${id} was still present ${timeoutMs} ms after its removal`, {
        operation: "container.remove",
        resource: id,
        hint: "The daemon may be overloaded; check `docker ps -a` and the daemon log.",
      });
    }
    await sleep(delay, signal);
    delay = Math.min(delay * 2, 500);
  }
}

export async function safeRemove(
  engine: Engine,
  container: string,
  options: SafeRemoveOptions = {},
): Promise<RemovalRecord> {
  const { signal } = options;
  const settleTimeoutMs = options.settleTimeoutMs ?? 30_000;
  const began = performance.now();
  const steps: RemovalStep[] = [];
  const timed = async <T>(step: RemovalStepName, work: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await work();
    } finally {
      steps.push({ step, atMs: start - began, durationMs: performance.now() - start });
    }
  };
  const record = (partial: Omit<RemovalRecord, "container" | "steps" | "totalMs">): RemovalRecord => ({
    container,
    ...partial,
    steps,
    totalMs: performance.now() - began,
  });

  const info = await timed("inspect", () => engine.findContainer(container, signal));
  if (!info) {
    return record({
      outcome: "already-removed",
      exitCode: null,
      graceSeconds: 0,
      stopSignal: "",
      joinedConcurrentRemoval: false,
    });
  }
  const id = info.Id;
  const name = containerName(info);
  const stopSignal = signalName((info.Config as { StopSignal?: string }).StopSignal || "SIGTERM");
  const graceSeconds = gracePeriodFor(info, options);

  try {
    const policy = info.HostConfig.RestartPolicy?.Name;
    if (policy && policy !== "no" && policy !== "") {
      await timed("disable-restart", () =>
        engine.updateContainer(id, { RestartPolicy: { Name: "no", MaximumRetryCount: 0 } }),
      );
    }

    let outcome: StopOutcome = "was-stopped";
    let exitCode: number | null = info.State.Running || info.State.Restarting ? null : info.State.ExitCode;
    if (isActive(info.State)) {
      // Asked alongside the stop: it answers once the container is not running, with its exit
      // code, so no inspect is needed after the stop (paused containers are inspected as before).
      const notRunning = info.State.Paused ? undefined : engine.waitContainer(id, "not-running", signal);
      notRunning?.catch(() => {});
      const stopStart = performance.now();
      const { alreadyStopped } = await timed("stop", () => engine.stopContainer(id, graceSeconds, signal));
      const stopDurationMs = performance.now() - stopStart;
      exitCode = await timed("wait-not-running", async () => {
        if (notRunning) return (await notRunning).StatusCode;
        let current = await engine.inspectContainer(id, signal);
        if (isActive(current.State)) {
          await engine.waitContainer(id, "not-running", signal);
          current = await engine.inspectContainer(id, signal);
        }
        return current.State.ExitCode;
      });
      outcome = alreadyStopped
        ? "was-stopped"
        : classifyStop({ exitCode, stopSignal, graceSeconds, stopDurationMs });
    }
    options.onStopped?.();

    let joinedConcurrentRemoval = false;
    await timed("remove", async () => {
      try {
        await engine.removeContainer(id, { volumes: options.removeVolumes ?? true, signal });
      } catch (error) {
        if (error instanceof NotFoundError) return;
        if (error instanceof ConflictError && error.reason === "removal-in-progress") {
          joinedConcurrentRemoval = true;
          return;
        }
        throw error;
      }
    });
    if (options.verifyGone !== false || joinedConcurrentRemoval) {
      await timed("verify-gone", () => waitUntilGone(engine, id, settleTimeoutMs, signal));
    }
    return record({ id, name, outcome, exitCode, graceSeconds, stopSignal, joinedConcurrentRemoval });
  } catch (error) {
    // Someone else removed it while we worked: the caller's goal is reached.
    if (error instanceof NotFoundError) {
      return record({
        id,
        name,
        outcome: "already-removed",
        exitCode: null,
        graceSeconds,
        stopSignal,
        joinedConcurrentRemoval: true,
      });
    }
    throw error;
  }
}
