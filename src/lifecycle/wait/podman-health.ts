// Podman runs healthchecks from systemd timers; where there is no systemd (most CI containers)
// they never run, and a container stays `starting` for ever. While berth waits on a healthcheck
// there, it runs the check itself at the container's own interval, as Docker's daemon would.
import type { Engine } from "../../engine/engine.js";
import { sleep } from "../../model/sleep.js";

/** The pause before the first probe berth runs; it doubles up to the container's interval. */
const FIRST_PAUSE_MS = 50;

/** Docker's healthcheck interval when the container names none. */
const DEFAULT_INTERVAL_MS = 30_000;

/** The container's healthcheck interval in ms (the API gives nanoseconds; 0 means the default). */
export function healthcheckIntervalMs(healthcheck: { Interval?: number } | undefined): number {
  const ns = healthcheck?.Interval ?? 0;
  return ns > 0 ? Math.max(1, Math.round(ns / 1e6)) : DEFAULT_INTERVAL_MS;
}

/**
 * Runs the container's healthcheck on Podman (early at first, then every interval) until `signal`
 * aborts or the container cannot run it any more (gone, stopped). The caller checks the engine.
 */
export async function drivePodmanHealthchecks(
  engine: Engine,
  containerId: string,
  intervalMs: number,
  signal: AbortSignal,
): Promise<void> {
  try {
    // Like berth's exec readiness on Docker: the first probes come early (50, 100, 200 ms, ...),
    // then at the container's interval. Each probe updates Podman's own health status.
    for (let pauseMs = FIRST_PAUSE_MS; ; pauseMs = Math.min(pauseMs * 2, intervalMs)) {
      await sleep(Math.min(pauseMs, intervalMs), signal);
      await engine.runHealthcheck(containerId, signal);
    }
  } catch {
    // Aborted, or the container stopped: the wait that started us reads the outcome from inspect.
  }
}

/** Quotes one word for `sh`: as is when it is plain, else in single quotes. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/**
 * A healthcheck test Podman runs as written. Podman 4.3 joins a `CMD` test's words with spaces
 * and splits them again, so `["CMD", "sh", "-c", "wget -q -O- http://db | grep ok"]` runs
 * `sh -c wget ...`. Such a test becomes `CMD-SHELL` with each word quoted; others are unchanged.
 */
export function podmanHealthcheckTest(test: string[] | undefined): string[] | undefined {
  if (test?.[0] !== "CMD" || !test.slice(1).some((word) => /\s|^$/.test(word))) return test;
  return ["CMD-SHELL", test.slice(1).map(shellWord).join(" ")];
}
