// Waits for the container's own Docker healthcheck: reacts to health_status events at once and
// inspects with backoff as a safety net (the first probe also covers an already-healthy state).
import { pollUntil } from "../backoff.js";
import { drivePodmanHealthchecks, healthcheckIntervalMs } from "./podman-health.js";
import { NotReadyError, type WaitStrategy, type WaitTarget } from "./types.js";

interface HealthLogEntry {
  ExitCode?: number;
  Output?: string;
}

export function describeProbe(entry: HealthLogEntry | undefined): string | undefined {
  if (!entry) return undefined;
  return `exit ${entry.ExitCode ?? "?"}: ${(entry.Output ?? "").trim() || "(no output)"}`;
}

export function healthcheckWait(): WaitStrategy {
  let last: string | undefined;
  return {
    description: "healthcheck",
    lastProbe: () => last,
    async wait(target: WaitTarget, signal: AbortSignal) {
      const first = await target.engine.inspectContainer(target.containerId, signal);
      const driving = new AbortController();
      const stopDriving = () => driving.abort();
      signal.addEventListener("abort", stopDriving, { once: true });
      const driver = drivePodmanHealthchecks(
        target.engine,
        target.containerId,
        healthcheckIntervalMs((first.Config as { Healthcheck?: { Interval?: number } }).Healthcheck),
        driving.signal,
      ).catch(() => {});
      try {
        await poll(target, signal);
      } finally {
        signal.removeEventListener("abort", stopDriving);
        driving.abort();
        await driver;
      }
    },
  };

  async function poll(target: WaitTarget, signal: AbortSignal): Promise<void> {
    await pollUntil(
      async () => {
        const info = await target.engine.inspectContainer(target.containerId, signal);
        const health = (info.State as { Health?: { Status?: string; Log?: HealthLogEntry[] } }).Health;
        last = describeProbe(health?.Log?.at(-1)) ?? last;
        // Podman shows an empty Health (status "") on containers without a healthcheck.
        if (!health?.Status) {
          throw new NotReadyError("invalid", "the container has no healthcheck");
        }
        if (health.Status === "healthy") return true;
        if (health.Status === "unhealthy") {
          throw new NotReadyError("unhealthy", "its healthcheck reported unhealthy", last);
        }
        return false;
      },
      {
        backoff: { initialMs: 100, factor: 2, maxMs: target.events?.live ? 2_000 : 1_000 },
        signal,
        wake: target.events
          ? (wakeUp) =>
              target.events!.on(target.containerId, (event) => {
                if (event.action === "health" || event.action === "die") wakeUp();
              })
          : undefined,
      },
    );
  }
}
