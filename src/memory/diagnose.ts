// Why a service's container ended (or is failing), said plainly from its inspect data and last
// logs: an OOM kill at its limit, a signal, an exit code, a failing healthcheck. Up's rollback
// errors, the events watcher and `berth ps` all describe failures through this one function.
import type { ContainerInspect } from "../engine/types.js";
import { containerName } from "../model/container-name.js";
import { formatSize } from "./size.js";

type ExitCause = "oom-killed" | "signal" | "exited" | "start-failed" | "unhealthy" | "running";

export interface ExitDiagnosis {
  service: string;
  /** Container name without the leading slash. */
  container: string;
  cause: ExitCause;
  oomKilled: boolean;
  /** Exit 137 under a limit on an engine that reports no OOM kills: most likely one, unconfirmed. */
  probableOom: boolean;
  /** Undefined while the container runs. */
  exitCode: number | undefined;
  /** The memory limit it had, bytes; undefined when it had none. */
  limitBytes: number | undefined;
  finishedAt: string | undefined;
  /** Output of the last healthcheck probe, when it has a healthcheck. */
  lastProbe: { exitCode: number; output: string } | undefined;
  /** One sentence: what happened. */
  summary: string;
  logsTail: string[];
}

const SIGNALS: Record<number, string> = {
  1: "SIGHUP",
  2: "SIGINT",
  3: "SIGQUIT",
  6: "SIGABRT",
  9: "SIGKILL",
  11: "SIGSEGV",
  13: "SIGPIPE",
  15: "SIGTERM",
};

/** Keeps the last `max` non-empty-tailed lines of a log text (or already split lines). */
export function tailLines(logs: string | string[], max = 50): string[] {
  const lines = typeof logs === "string" ? logs.split(/\r?\n/) : [...logs];
  while (lines.length && lines[lines.length - 1]!.trim() === "") lines.pop();
  return lines.slice(-max);
}

/** Describes the limit as the message needs it: `at its 64 MiB limit`. */
function describeLimit(limitBytes: number | undefined): string {
  return limitBytes === undefined
    ? "with no memory limit of its own"
    : `at its ${formatSize(limitBytes)} limit`;
}

export function oomSummary(service: string, limitBytes: number | undefined): string {
  return `service \`${service}\` was killed by the kernel OOM killer ${describeLimit(limitBytes)}`;
}

/** A process inside was killed but the container's main process lives on. */
export function oomProcessSummary(service: string, limitBytes: number | undefined): string {
  return `a process in service \`${service}\` was killed by the kernel OOM killer ${describeLimit(limitBytes)}; the container still runs`;
}

function lastProbeOf(inspect: ContainerInspect): ExitDiagnosis["lastProbe"] {
  const log = (inspect.State as { Health?: { Log?: Array<{ ExitCode: number; Output: string }> } }).Health
    ?.Log;
  const last = log?.[log.length - 1];
  return last ? { exitCode: last.ExitCode, output: last.Output.trim() } : undefined;
}

/**
 * Whether an ended container may have been OOM-killed although its state does not say so: it
 * ended by SIGKILL (137) under a memory limit, and State.OOMKilled is false. Docker 20.10 loses
 * the flag when it takes the exit before the OOM notice; its `oom` event then tells (oom-events.ts).
 */
export function mayBeLateOom(inspect: ContainerInspect): boolean {
  const state = inspect.State;
  return (
    !state.OOMKilled &&
    !state.Running &&
    !state.Restarting &&
    state.ExitCode === 137 &&
    (inspect.HostConfig?.Memory ?? 0) > 0
  );
}

/** Diagnoses a service's container from its inspect data and the tail of its logs. */
export function diagnoseExit(
  service: string,
  inspect: ContainerInspect,
  logsTail: string | string[] = [],
  options: {
    oomEventSeen?: boolean;
    /** The engine's name when it reports OOM kills neither in the state nor as events (Podman). */
    oomUnreportedBy?: string;
  } = {},
): ExitDiagnosis {
  const state = inspect.State;
  const memory = inspect.HostConfig?.Memory;
  const limitBytes = memory && memory > 0 ? memory : undefined;
  const running = state.Running || state.Restarting;
  const exitCode = running ? undefined : state.ExitCode;
  const health = (state as { Health?: { Status?: string } }).Health?.Status;
  const lastProbe = lastProbeOf(inspect);
  // OOMKilled is set when the kernel killed the container's main process; an `oom` event seen
  // just before a SIGKILL exit says the same for daemons that do not record the flag.
  const oomKilled = !running && (state.OOMKilled || (options.oomEventSeen === true && exitCode === 137));
  let cause: ExitCause;
  let summary: string;
  let probableOom = false;
  if (oomKilled) {
    cause = "oom-killed";
    summary = oomSummary(service, limitBytes);
  } else if (running && health === "unhealthy") {
    cause = "unhealthy";
    summary = `service \`${service}\` is unhealthy${lastProbe ? `: last probe exited ${lastProbe.exitCode}${lastProbe.output ? `: ${lastProbe.output}` : ""}` : ""}`;
  } else if (running) {
    cause = "running";
    summary = `service \`${service}\` is running${health ? ` (${health})` : ""}`;
  } else if (state.Error) {
    cause = "start-failed";
    summary = `service \`${service}\` failed to start: ${state.Error}`;
  } else if (exitCode !== undefined && exitCode > 128 && SIGNALS[exitCode - 128]) {
    cause = "signal";
    summary = `service \`${service}\` was ended by ${SIGNALS[exitCode - 128]} (exit code ${exitCode})`;
    probableOom = Boolean(options.oomUnreportedBy) && mayBeLateOom(inspect);
    if (probableOom) {
      summary += ` under its ${formatSize(limitBytes ?? 0)} memory limit: most likely the kernel OOM killer, which ${options.oomUnreportedBy} does not report (no OOMKilled flag, no oom event)`;
    }
  } else {
    cause = "exited";
    summary = `service \`${service}\` exited with code ${exitCode}`;
  }
  return {
    service,
    container: containerName(inspect),
    cause,
    oomKilled,
    probableOom,
    exitCode,
    limitBytes,
    finishedAt: running ? undefined : state.FinishedAt,
    lastProbe,
    summary,
    logsTail: tailLines(logsTail),
  };
}

/** The diagnosis as a person reads it: the sentence, the last probe, then the last logs. */
export function formatDiagnosis(diagnosis: ExitDiagnosis): string {
  const lines = [diagnosis.summary];
  if (diagnosis.lastProbe && diagnosis.cause !== "unhealthy") {
    lines.push(`  last health probe (exit ${diagnosis.lastProbe.exitCode}): ${diagnosis.lastProbe.output}`);
  }
  if (diagnosis.logsTail.length) {
    lines.push(`  last ${diagnosis.logsTail.length} log lines:`);
    for (const line of diagnosis.logsTail) lines.push(`    ${line}`);
  } else {
    lines.push("  (no log output)");
  }
  return lines.join("\n");
}
