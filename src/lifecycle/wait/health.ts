// Waits for the container's own Docker healthcheck: reacts to health_status events at once and
// inspects with backoff as a safety net (the first probe also covers an already-healthy state).
// Given an exec plan, it also runs the healthcheck's test itself on a short bounded back-off
// (health-exec.ts): the first pass is ready, without waiting for Docker's first probe.
import { engineKind } from "../../engine/identity.js";
import { pollUntil } from "../backoff.js";
import { type HealthExecPlan, type HealthExecProbes, runHealthExecProbes } from "./health-exec.js";
import { drivePodmanHealthchecks, healthcheckIntervalMs } from "./podman-health.js";
import { NotReadyError, type WaitStrategy, type WaitTarget } from "./types.js";

interface HealthLogEntry {
  ExitCode?: number;
  Output?: string;
}

function describeProbe(entry: HealthLogEntry | undefined): string | undefined {
  if (!entry) return undefined;
  return `exit ${entry.ExitCode ?? "?"}: ${(entry.Output ?? "").trim() || "(no output)"}`;
}

interface HealthcheckWait extends WaitStrategy {
  /** Healthcheck probes berth ran itself with exec. */
  readonly execs: number;
}

function dockerVerdict(
  target: WaitTarget,
  signal: AbortSignal,
  onProbe: (probe: string | undefined) => void,
): Promise<void> {
  return pollUntil(
    async () => {
      const info = await target.engine.inspectContainer(target.containerId, signal);
      const health = (info.State as { Health?: { Status?: string; Log?: HealthLogEntry[] } }).Health;
      const probe = describeProbe(health?.Log?.at(-1));
      onProbe(probe);
      // Podman shows an empty Health (status "") on containers without a healthcheck.
      if (!health?.Status) {
        throw new NotReadyError("invalid", "the container has no healthcheck");
      }
      if (health.Status === "healthy") return true;
      if (health.Status === "unhealthy") {
        throw new NotReadyError("unhealthy", "its healthcheck reported unhealthy", probe);
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

/** Runs the container's healthcheck at its own interval on Podman (it needs the interval first). */
async function drivePodman(target: WaitTarget, signal: AbortSignal): Promise<void> {
  const info = await target.engine.inspectContainer(target.containerId, signal);
  const interval = (info.Config as { Healthcheck?: { Interval?: number } }).Healthcheck;
  await drivePodmanHealthchecks(target.engine, target.containerId, healthcheckIntervalMs(interval), signal);
}

export function healthcheckWait(options: { exec?: HealthExecPlan } = {}): HealthcheckWait {
  let dockerProbe: string | undefined;
  let probes: HealthExecProbes | undefined;
  return {
    description: "healthcheck",
    lastProbe: () => dockerProbe ?? (probes?.last ? `berth's exec: ${probes.last}` : undefined),
    get execs() {
      return probes?.count ?? 0;
    },
    async wait(target: WaitTarget, signal: AbortSignal) {
      const stop = new AbortController();
      const both = AbortSignal.any([signal, stop.signal]);
      // Podman without systemd never runs healthchecks itself: berth drives them (podman-health.ts).
      const podman = (await engineKind(target.engine)) === "podman";
      const driver = podman ? drivePodman(target, both).catch(() => {}) : undefined;
      try {
        const verdict = dockerVerdict(target, both, (probe) => {
          dockerProbe = probe ?? dockerProbe;
        });
        verdict.catch(() => {});
        // On Podman the driver's probes set the engine's own status, which an exec probe would not
        // (without systemd nothing else would ever mark the container healthy).
        if (!options.exec || podman) return await verdict;
        probes = runHealthExecProbes(target, options.exec, both);
        // A probe that passed is ready; one that never passes leaves the verdict to Docker.
        const passed = probes.passed.then((ok) => (ok ? undefined : verdict));
        await Promise.race([verdict, passed]);
      } finally {
        stop.abort(new Error("healthcheck wait finished"));
        await driver;
      }
    },
  };
}
