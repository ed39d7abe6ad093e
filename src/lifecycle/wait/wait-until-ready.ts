// Runs a service's readiness checks against its started container: every check must pass, in order, the
// container must not exit first, and the whole wait is bounded by the service's timeout. A
// one-shot service is instead waited on until it exits, and must exit 0.
import { NotReadyError, type WaitStrategy, type WaitTarget } from "./types.js";

interface ReadyOptions {
  timeoutMs: number;
  signal: AbortSignal;
  /** `ready`: the checks pass while it runs. `completed`: it runs to an exit code 0. */
  until: "ready" | "completed";
}

interface ReadyOutcome {
  state: "ready" | "completed";
  durationMs: number;
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

function lastProbeOf(strategies: WaitStrategy[]): string | undefined {
  const probes = strategies
    .map((s) => (s.lastProbe() === undefined ? undefined : `${s.description}: ${s.lastProbe()}`))
    .filter((p): p is string => p !== undefined);
  return probes.length > 0 ? probes.join("\n") : undefined;
}

export async function waitUntilReady(
  target: WaitTarget,
  strategies: WaitStrategy[],
  options: ReadyOptions,
): Promise<ReadyOutcome> {
  const began = performance.now();
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(options.signal.reason);
  options.signal.addEventListener("abort", onOuterAbort, { once: true });
  if (options.signal.aborted) controller.abort(options.signal.reason);
  const timeout = new NotReadyError(
    "timeout",
    options.until === "completed"
      ? `it did not finish within ${options.timeoutMs} ms`
      : `it was not ready within ${options.timeoutMs} ms (waiting for ${strategies.map((s) => s.description).join(", ") || "running"})`,
  );
  const timer = setTimeout(() => controller.abort(timeout), options.timeoutMs);
  const aborted = rejectOnAbort(controller.signal);
  aborted.catch(() => {});
  try {
    const exitCode = target.engine
      .waitContainer(target.containerId, "not-running", controller.signal)
      .then((r) => r.StatusCode);
    exitCode.catch(() => {});
    if (options.until === "completed") {
      const code = await Promise.race([exitCode, aborted]);
      if (code !== 0) throw new NotReadyError("exited", `it exited with code ${code}`);
      return { state: "completed", durationMs: performance.now() - began };
    }
    const exitedEarly = exitCode.then((code) => {
      throw new NotReadyError(
        "exited",
        `it exited with code ${code} before it was ready`,
        lastProbeOf(strategies),
      );
    });
    exitedEarly.catch(() => {});
    // In the order written: a later check (a command) may only make sense once an earlier one passed.
    const ready = (async () => {
      for (const strategy of strategies) await strategy.wait(target, controller.signal);
    })();
    ready.catch(() => {});
    await Promise.race([ready, exitedEarly, aborted]);
    return { state: "ready", durationMs: performance.now() - began };
  } catch (error) {
    const reason = controller.signal.aborted ? controller.signal.reason : error;
    if (reason === timeout) {
      throw new NotReadyError("timeout", timeout.message, lastProbeOf(strategies));
    }
    if (reason instanceof NotReadyError && reason.lastProbe === undefined) {
      throw new NotReadyError(reason.reason, reason.message, lastProbeOf(strategies));
    }
    throw error instanceof NotReadyError || !controller.signal.aborted ? error : reason;
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener("abort", onOuterAbort);
    controller.abort(new Error("readiness wait finished"));
  }
}
