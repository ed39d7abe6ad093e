// Watches an environment while it lives: follows the daemon's events for its containers (`die`,
// `oom`, `health_status: unhealthy`) and turns each into a typed event with the service, the
// time and the cause, so a service that dies in the middle of a test run never goes unnoticed.

import type { Engine, EngineEvent } from "../engine/engine.js";
import { ConfigError, EngineError } from "../engine/errors.js";
import type { ContainerInspect } from "../engine/types.js";
import {
  diagnoseExit,
  type ExitDiagnosis,
  mayBeLateOom,
  oomProcessSummary,
  oomSummary,
  tailLines,
} from "../memory/diagnose.js";
import { LATE_OOM_GRACE_MS } from "../memory/oom-events.js";
import { LABELS } from "../model/labels.js";

export type EnvironmentEventKind =
  /** The container was ended by the kernel OOM killer. */
  | "oom-killed"
  /** A process inside was OOM-killed; the container itself still runs. */
  | "oom"
  /** The container ended on its own (exit code or signal). */
  | "exited"
  /** Someone stopped or killed it through the API (berth down, docker stop, docker kill). */
  | "stopped"
  | "unhealthy";

export type EnvironmentEventSeverity = "error" | "warning" | "info";

export interface EnvironmentEvent {
  kind: EnvironmentEventKind;
  severity: EnvironmentEventSeverity;
  service: string;
  container: string;
  project: string | undefined;
  time: Date;
  exitCode: number | undefined;
  limitBytes: number | undefined;
  /** The failing healthcheck's output (unhealthy), or the last probe before an exit. */
  probeOutput: string | undefined;
  /** One sentence: what happened, naming the service. */
  message: string;
  logsTail: string[];
}

export interface WatchOptions {
  /** Watch the containers labelled with this project... */
  project?: string;
  /** ...or with this session id. */
  session?: string;
  onEvent?: (event: EnvironmentEvent) => void;
  /** The events stream failed (daemon gone); the watcher has stopped. */
  onError?: (error: unknown) => void;
  /** One-shot services whose exit 0 is expected (`service_completed_successfully` targets). */
  completes?: string[];
  /** Log lines kept per event (default 50). */
  logLines?: number;
  /**
   * Whether the open event stream keeps the Node process alive (default true). An environment's
   * own watcher passes false: forgetting `down` must not keep a process from exiting.
   */
  keepAlive?: boolean;
}

export interface EnvironmentWatcher {
  /** Every event so far, in order. */
  readonly events: readonly EnvironmentEvent[];
  /** Stops following and waits until events already received are reported. */
  stop(): Promise<void>;
}

/** How far apart an `oom` and a `die` (either first) may be and still be one kill. */
const OOM_DIE_WINDOW_MS = LATE_OOM_GRACE_MS;
/** How long after a `kill` through the API a `die` counts as a deliberate stop. */
const KILL_DIE_WINDOW_MS = 5 * 60_000;

/** Follows the environment's container events until `stop()`, then reports what still waits. */
export function watchEnvironment(engine: Engine, options: WatchOptions): EnvironmentWatcher {
  const label = watchedLabel(options);
  const watch = openWatch(engine, options);
  const loop = followEvents(watch, label);
  return { events: watch.events, stop: () => stopWatching(watch, loop) };
}

/** What one watcher keeps between events. */
interface Watch {
  engine: Engine;
  options: WatchOptions;
  events: EnvironmentEvent[];
  controller: AbortController;
  /** When the watch began, ns since the epoch: earlier events are replays and are skipped. */
  startNano: number;
  /** Per container, the tail of its event handling: events of one container run in order. */
  chains: Map<string, Promise<void>>;
  /** `oom` events not yet matched with a `die`, and the timer that reports them alone. */
  oomSeen: Map<string, { at: number; timer: NodeJS.Timeout; event: EngineEvent }>;
  /** When a container was last killed through the API (ms), to tell a stop from a crash. */
  killedAt: Map<string, number>;
  /** `die` handlers waiting for an `oom` the daemon may still send. */
  lateOomWaiters: Map<string, (seen: boolean) => void>;
  completes: Set<string>;
  logLines: number;
}

function watchedLabel(options: WatchOptions): string {
  if (options.project) return `${LABELS.project}=${options.project}`;
  if (options.session) return `${LABELS.session}=${options.session}`;
  throw new ConfigError("watchEnvironment needs a `project` or a `session` to watch", {
    hint: "Pass { project: env.project } or { session: env.session }.",
  });
}

function openWatch(engine: Engine, options: WatchOptions): Watch {
  return {
    engine,
    options,
    events: [],
    controller: new AbortController(),
    startNano: Date.now() * 1e6,
    chains: new Map(),
    oomSeen: new Map(),
    killedAt: new Map(),
    lateOomWaiters: new Map(),
    completes: new Set(options.completes ?? []),
    logLines: options.logLines ?? 50,
  };
}

function followEvents(watch: Watch, label: string): Promise<void> {
  const { controller, options } = watch;
  return (async () => {
    try {
      for await (const e of watch.engine.events({
        // Replaying from the start second closes the gap between this call and the stream opening.
        since: Math.floor(watch.startNano / 1e9),
        filters: { type: ["container"], label: [label], event: ["die", "oom", "kill", "health_status"] },
        signal: controller.signal,
        unref: options.keepAlive === false,
      })) {
        if (e.timeNano < watch.startNano) continue;
        handleEvent(watch, e);
      }
      // The daemon ended the stream (it is shutting down): from here on nothing would be seen.
      if (!controller.signal.aborted) {
        options.onError?.(
          new EngineError("the daemon closed its event stream; services are no longer watched", {
            operation: "system.events",
          }),
        );
      }
    } catch (error) {
      if (!controller.signal.aborted) options.onError?.(error);
    }
  })();
}

async function stopWatching(watch: Watch, loop: Promise<void>): Promise<void> {
  watch.controller.abort();
  await loop;
  // No event arrives any more: a `die` still waiting for its late `oom` is reported as it is.
  for (const [id, waiter] of watch.lateOomWaiters) {
    watch.lateOomWaiters.delete(id);
    waiter(false);
  }
  for (const [id, pending] of watch.oomSeen) {
    // Stopping before the window closed: report the OOM now rather than lose it.
    clearTimeout(pending.timer);
    enqueue(watch, id, reportOomWithoutDie(watch, pending.event));
  }
  await Promise.all(watch.chains.values());
}

function handleEvent(watch: Watch, e: EngineEvent): void {
  const id = e.Actor.ID;
  const action = e.Action;
  if (action === "kill") watch.killedAt.set(id, e.timeNano / 1e6);
  else if (action === "oom") recordOom(watch, e);
  else if (action === "die") enqueue(watch, id, () => reportExit(watch, e));
  else if (action.startsWith("health_status") && action.includes("unhealthy")) {
    enqueue(watch, id, () => reportUnhealthy(watch, e));
  }
}

function emit(watch: Watch, event: EnvironmentEvent): void {
  watch.events.push(event);
  watch.options.onEvent?.(event);
}

/** Events of one container are handled in order, so an `oom` is known when its `die` arrives. */
function enqueue(watch: Watch, id: string, work: () => Promise<void>): void {
  const next = (watch.chains.get(id) ?? Promise.resolve())
    .then(work)
    .catch((error) => watch.options.onError?.(error));
  watch.chains.set(id, next);
}

async function containerContext(
  watch: Watch,
  id: string,
): Promise<{ inspect?: ContainerInspect; logs: string[] }> {
  const { engine, logLines } = watch;
  const inspect = await engine.findContainer(id).catch(() => undefined);
  const logs = inspect
    ? await engine
        .containerLogs(id, { tail: logLines })
        .then((l) =>
          tailLines(
            [l.stdout, l.stderr]
              .filter(Boolean)
              .map((text) => text.replace(/\r?\n$/, ""))
              .join("\n"),
            logLines,
          ),
        )
        .catch(() => [])
    : [];
  return { inspect, logs };
}

function whoOf(e: EngineEvent) {
  const attributes = e.Actor.Attributes ?? {};
  return {
    service: attributes[LABELS.service] ?? attributes.name ?? e.Actor.ID.slice(0, 12),
    container: attributes.name ?? e.Actor.ID.slice(0, 12),
    project: attributes[LABELS.project],
    time: new Date(Math.floor(e.timeNano / 1e6)),
  };
}

/** An `oom`: a `die` waiting for it takes it; else it waits for its `die`, or is reported alone. */
function recordOom(watch: Watch, e: EngineEvent): void {
  const id = e.Actor.ID;
  const waiter = watch.lateOomWaiters.get(id);
  if (waiter) {
    // A `die` came first and waits for this: it reports the kill.
    watch.lateOomWaiters.delete(id);
    waiter(true);
    return;
  }
  const timer = setTimeout(() => enqueue(watch, id, reportOomWithoutDie(watch, e)), OOM_DIE_WINDOW_MS);
  watch.oomSeen.set(id, { at: e.timeNano / 1e6, timer, event: e });
}

function reportOomWithoutDie(watch: Watch, e: EngineEvent): () => Promise<void> {
  return async () => {
    if (!watch.oomSeen.has(e.Actor.ID)) return;
    const { inspect, logs } = await containerContext(watch, e.Actor.ID);
    // Its main process was the one killed; the `die` on its way (late on a busy daemon) reports it.
    if (inspect && !inspect.State.Running) return;
    watch.oomSeen.delete(e.Actor.ID);
    const who = whoOf(e);
    const limit = inspect?.HostConfig?.Memory || undefined;
    emit(watch, {
      ...who,
      kind: "oom",
      severity: "warning",
      exitCode: undefined,
      limitBytes: limit,
      probeOutput: undefined,
      message: oomProcessSummary(who.service, limit),
      logsTail: logs,
    });
  };
}

/** Takes the `oom` recorded for `id`, if it came within the window around the exit at `at`. */
function takeOom(watch: Watch, id: string, at: number): boolean {
  const oom = watch.oomSeen.get(id);
  if (!oom) return false;
  clearTimeout(oom.timer);
  watch.oomSeen.delete(id);
  return Math.abs(at - oom.at) <= OOM_DIE_WINDOW_MS;
}

/** Resolves true when an `oom` for `id` arrives within the late-OOM grace, false after it. */
function lateOom(watch: Watch, id: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      watch.lateOomWaiters.delete(id);
      resolve(false);
    }, OOM_DIE_WINDOW_MS);
    watch.lateOomWaiters.set(id, (seen) => {
      clearTimeout(timer);
      resolve(seen);
    });
  });
}

async function reportExit(watch: Watch, e: EngineEvent): Promise<void> {
  const id = e.Actor.ID;
  const at = e.timeNano / 1e6;
  const killed = watch.killedAt.get(id);
  watch.killedAt.delete(id);
  const who = whoOf(e);
  const eventExit = Number(e.Actor.Attributes?.exitCode);
  const { inspect, logs } = await containerContext(watch, id);
  // The `oom` may have come before the `die` or while inspecting; or it is still on its way
  // (the daemon took the exit first and lost the OOMKilled flag): wait for it a moment.
  let oomRecent = takeOom(watch, id, at);
  const exited = inspect ? asExited(inspect, eventExit) : undefined;
  const deliberate = killed !== undefined && at - killed <= KILL_DIE_WINDOW_MS;
  if (!oomRecent && !deliberate && exited && mayBeLateOom(exited)) {
    oomRecent = await lateOom(watch, id);
  }
  const diagnosis = exited ? diagnoseExit(who.service, exited, logs, { oomEventSeen: oomRecent }) : undefined;
  const exitCode = diagnosis?.exitCode ?? (Number.isFinite(eventExit) ? eventExit : undefined);
  const { kind, severity, message } = classifyExit(who.service, {
    diagnosis,
    exitCode,
    oomKilled: diagnosis?.oomKilled ?? (oomRecent && exitCode === 137),
    deliberate,
    completes: watch.completes.has(who.service),
  });
  emit(watch, {
    ...who,
    kind,
    severity,
    exitCode,
    limitBytes: diagnosis?.limitBytes,
    probeOutput: diagnosis?.lastProbe?.output,
    message,
    logsTail: logs,
  });
}

/** What an exit was: an OOM kill, a stop through the API, a clean or a failed exit. */
function classifyExit(
  service: string,
  exit: {
    diagnosis: ExitDiagnosis | undefined;
    exitCode: number | undefined;
    oomKilled: boolean;
    deliberate: boolean;
    completes: boolean;
  },
): Pick<EnvironmentEvent, "kind" | "severity" | "message"> {
  if (exit.oomKilled) {
    return {
      kind: "oom-killed",
      severity: "error",
      message: oomSummary(service, exit.diagnosis?.limitBytes),
    };
  }
  if (exit.deliberate) {
    return {
      kind: "stopped",
      severity: "info",
      message: `service \`${service}\` was stopped through the API (exit code ${exit.exitCode})`,
    };
  }
  if (exit.exitCode === 0) {
    return {
      kind: "exited",
      severity: exit.completes ? "info" : "warning",
      message: `service \`${service}\` exited with code 0${exit.completes ? " (a one-shot service)" : ""}`,
    };
  }
  return {
    kind: "exited",
    severity: "error",
    message: exit.diagnosis?.summary ?? `service \`${service}\` exited with code ${exit.exitCode}`,
  };
}

async function reportUnhealthy(watch: Watch, e: EngineEvent): Promise<void> {
  const who = whoOf(e);
  const { inspect, logs } = await containerContext(watch, e.Actor.ID);
  const diagnosis: ExitDiagnosis | undefined = inspect ? diagnoseExit(who.service, inspect, logs) : undefined;
  const probe = diagnosis?.lastProbe;
  emit(watch, {
    ...who,
    kind: "unhealthy",
    severity: "error",
    exitCode: undefined,
    limitBytes: diagnosis?.limitBytes,
    probeOutput: probe?.output,
    message: `service \`${who.service}\` turned unhealthy${probe ? `: last probe exited ${probe.exitCode}${probe.output ? `: ${probe.output}` : ""}` : ""}`,
    logsTail: logs,
  });
}

/** A container restarted by its policy is running again; describe the exit the event reported. */
function asExited(inspect: ContainerInspect, eventExit: number): ContainerInspect {
  if (!inspect.State.Running && !inspect.State.Restarting) return inspect;
  return {
    ...inspect,
    State: {
      ...inspect.State,
      Running: false,
      Restarting: false,
      ExitCode: Number.isFinite(eventExit) ? eventExit : inspect.State.ExitCode,
    },
  };
}
