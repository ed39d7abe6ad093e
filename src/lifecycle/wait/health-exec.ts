// Readiness sooner than Docker's healthcheck schedule. Docker runs a container's first health
// probe one `interval` after it starts (and Docker before 25 / API 1.44 has no start_interval),
// so a service ready in 50 ms still waits out the interval. berth runs the service's own
// healthcheck test itself with exec, on a short bounded back-off, until it first passes; from
// then on Docker's status is the one that counts (incidents, `ps`). A failing probe never fails
// the service: only Docker's own verdict (after its retries) does.
import { guardOf } from "../../guard/guard.js";
import { sleep } from "../../model/sleep.js";
import type { WaitTarget } from "./types.js";

/** First pause after the immediate first probe; each later pause doubles. */
const HEALTH_EXEC_FIRST_DELAY_MS = 50;
/** At most this many execs per service and up. */
export const HEALTH_EXEC_CAP = 10;
/** Docker's interval when the healthcheck gives none. */
const DOCKER_DEFAULT_INTERVAL_MS = 30_000;
const DOCKER_DEFAULT_TIMEOUT_MS = 30_000;

/** Docker's healthcheck as `inspect` shows it (durations in nanoseconds, 0 = Docker's default). */
export interface DockerHealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
}

export interface HealthExecPlan {
  /** The command to exec: CMD's arguments, or the shell with CMD-SHELL's string. */
  command: string[];
  intervalMs: number;
  timeoutMs: number;
}

/**
 * Pauses before each probe: the first at once, then 50, 100, 200 ms and on, doubling while the
 * pause is shorter than Docker's interval (past that, Docker's own probe comes as soon), and
 * never more than the cap in all. Pure, so the bound is tested without a daemon.
 */
export function healthExecDelays(intervalMs: number, cap = HEALTH_EXEC_CAP): number[] {
  const delays: number[] = [];
  for (let delay = 0; delays.length < cap; delay = delay === 0 ? HEALTH_EXEC_FIRST_DELAY_MS : delay * 2) {
    if (delay > 0 && delay >= intervalMs) break;
    delays.push(delay);
  }
  return delays;
}

const msOf = (ns: number | undefined, fallback: number) => (ns && ns > 0 ? ns / 1e6 : fallback);

/** What berth would exec for this healthcheck; undefined when there is nothing to run. */
export function healthExecPlan(
  config: DockerHealthConfig | undefined,
  shell: string[] | undefined,
): HealthExecPlan | undefined {
  const [kind, ...rest] = config?.Test ?? [];
  let command: string[];
  if (kind === "CMD" && rest.length > 0) command = rest;
  else if (kind === "CMD-SHELL" && rest.length > 0)
    command = [...(shell && shell.length > 0 ? shell : ["/bin/sh", "-c"]), rest.join(" ")];
  else return undefined;
  return {
    command,
    intervalMs: msOf(config?.Interval, DOCKER_DEFAULT_INTERVAL_MS),
    timeoutMs: msOf(config?.Timeout, DOCKER_DEFAULT_TIMEOUT_MS),
  };
}

export interface HealthExecProbes {
  /** Resolves when a probe passed; never rejects (a failed or impossible probe just stops them). */
  passed: Promise<boolean>;
  /** Probes run so far. */
  readonly count: number;
  /** The last probe's result, for error messages. */
  readonly last: string | undefined;
}

/** Runs the plan's probes until one passes, the schedule ends or `signal` aborts. */
export function runHealthExecProbes(
  target: WaitTarget,
  plan: HealthExecPlan,
  signal: AbortSignal,
): HealthExecProbes {
  const state = { count: 0, last: undefined as string | undefined };
  const metrics = guardOf(target.engine)?.metrics;
  const passed = (async () => {
    for (const delay of healthExecDelays(plan.intervalMs)) {
      if (delay > 0) await sleep(delay, signal);
      const probeSignal = AbortSignal.any([signal, AbortSignal.timeout(plan.timeoutMs)]);
      state.count += 1;
      metrics?.recordReadinessExec();
      const result = await target.engine.exec(target.containerId, plan.command, { signal: probeSignal });
      const output = `${result.stdout}${result.stderr}`.trim();
      state.last = `exit ${result.exitCode}: ${output || "(no output)"}`;
      if (result.exitCode === 0) return true;
    }
    return false;
  })().catch(() => false);
  return {
    passed,
    get count() {
      return state.count;
    },
    get last() {
      return state.last;
    },
  };
}
