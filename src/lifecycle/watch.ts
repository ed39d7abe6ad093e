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

export function watchEnvironment(engine: Engine, options: WatchOptions): EnvironmentWatcher {
  const label = options.project
    ? `${LABELS.project}=${options.project}`
    : options.session
      ? `${LABELS.session}=${options.session}`
      : undefined;
  if (!label) {
    throw new ConfigError("watchEnvironment needs a `project` or a `session` to watch", {
      hint: "Pass { project: env.project } or { session: env.session }.",
    });
  }
  const events: EnvironmentEvent[] = [];
  const controller = new AbortController();
  const startNano = Date.now() * 1e6;
  const chains = new Map<string, Promise<void>>();
  const oomSeen = new Map<string, { at: number; timer: NodeJS.Timeout; event: EngineEvent }>();
  const killedAt = new Map<string, number>();
  const lateOomWaiters = new Map<string, (seen: boolean) => void>();
  const completes = new Set(options.completes ?? []);
  const logLines = options.logLines ?? 50;

  const emit = (event: EnvironmentEvent) => {
    events.push(event);
    options.onEvent?.(event);
  };

  // Events of one container are handled in order, so an `oom` is known when its `die` arrives.
  const enqueue = (id: string, work: () => Promise<void>) => {
    const next = (chains.get(id) ?? Promise.resolve()).then(work).catch((error) => options.onError?.(error));
    chains.set(id, next);
  };

  const context = async (id: string): Promise<{ inspect?: ContainerInspect; logs: string[] }> => {
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
  };

  const base = (e: EngineEvent) => {
    const attributes = e.Actor.Attributes ?? {};
    return {
      service: attributes[LABELS.service] ?? attributes.name ?? e.Actor.ID.slice(0, 12),
      container: attributes.name ?? e.Actor.ID.slice(0, 12),
      project: attributes[LABELS.project],
      time: new Date(Math.floor(e.timeNano / 1e6)),
    };
  };

  const onOomWithoutDie = (e: EngineEvent) => async () => {
    if (!oomSeen.has(e.Actor.ID)) return;
    const { inspect, logs } = await context(e.Actor.ID);
    // Its main process was the one killed; the `die` on its way (late on a busy daemon) reports it.
    if (inspect && !inspect.State.Running) return;
    oomSeen.delete(e.Actor.ID);
    const who = base(e);
    const limit = inspect?.HostConfig?.Memory || undefined;
    emit({
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

  /** Takes the `oom` recorded for `id`, if it came within the window around the exit at `at`. */
  const takeOom = (id: string, at: number): boolean => {
    const oom = oomSeen.get(id);
    if (!oom) return false;
    clearTimeout(oom.timer);
    oomSeen.delete(id);
    return Math.abs(at - oom.at) <= OOM_DIE_WINDOW_MS;
  };

  /** Resolves true when an `oom` for `id` arrives within the late-OOM grace, false after it. */
  const lateOom = (id: string) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        lateOomWaiters.delete(id);
        resolve(false);
      }, OOM_DIE_WINDOW_MS);
      lateOomWaiters.set(id, (seen) => {
        clearTimeout(timer);
        resolve(seen);
      });
    });

  const handle = (e: EngineEvent) => {
    const id = e.Actor.ID;
    const action = e.Action;
    if (action === "kill") {
      killedAt.set(id, e.timeNano / 1e6);
      return;
    }
    if (action === "oom") {
      const waiter = lateOomWaiters.get(id);
      if (waiter) {
        // A `die` came first and waits for this: it reports the kill.
        lateOomWaiters.delete(id);
        waiter(true);
        return;
      }
      const timer = setTimeout(() => enqueue(id, onOomWithoutDie(e)), OOM_DIE_WINDOW_MS);
      oomSeen.set(id, { at: e.timeNano / 1e6, timer, event: e });
      return;
    }
    if (action === "die") {
      enqueue(id, async () => {
        const at = e.timeNano / 1e6;
        const killed = killedAt.get(id);
        killedAt.delete(id);
        const who = base(e);
        const eventExit = Number(e.Actor.Attributes?.exitCode);
        const { inspect, logs } = await context(id);
        // The `oom` may have come before the `die` or while inspecting; or it is still on its way
        // (the daemon took the exit first and lost the OOMKilled flag): wait for it a moment.
        let oomRecent = takeOom(id, at);
        const exited = inspect ? asExited(inspect, eventExit) : undefined;
        const deliberate = killed !== undefined && at - killed <= KILL_DIE_WINDOW_MS;
        if (!oomRecent && !deliberate && exited && mayBeLateOom(exited)) {
          oomRecent = await lateOom(id);
        }
        const diagnosis = exited
          ? diagnoseExit(who.service, exited, logs, { oomEventSeen: oomRecent })
          : undefined;
        const exitCode = diagnosis?.exitCode ?? (Number.isFinite(eventExit) ? eventExit : undefined);
        const oomKilled = diagnosis?.oomKilled ?? (oomRecent && exitCode === 137);
        const limit = diagnosis?.limitBytes;
        let kind: EnvironmentEventKind = "exited";
        let severity: EnvironmentEventSeverity = "error";
        let message = diagnosis?.summary ?? `service \`${who.service}\` exited with code ${exitCode}`;
        if (oomKilled) {
          kind = "oom-killed";
          message = oomSummary(who.service, limit);
        } else if (deliberate) {
          kind = "stopped";
          severity = "info";
          message = `service \`${who.service}\` was stopped through the API (exit code ${exitCode})`;
        } else if (exitCode === 0) {
          severity = completes.has(who.service) ? "info" : "warning";
          message = `service \`${who.service}\` exited with code 0${completes.has(who.service) ? " (a one-shot service)" : ""}`;
        }
        emit({
          ...who,
          kind,
          severity,
          exitCode,
          limitBytes: limit,
          probeOutput: diagnosis?.lastProbe?.output,
          message,
          logsTail: logs,
        });
      });
      return;
    }
    if (action.startsWith("health_status") && action.includes("unhealthy")) {
      enqueue(id, async () => {
        const who = base(e);
        const { inspect, logs } = await context(id);
        const diagnosis: ExitDiagnosis | undefined = inspect
          ? diagnoseExit(who.service, inspect, logs)
          : undefined;
        const probe = diagnosis?.lastProbe;
        emit({
          ...who,
          kind: "unhealthy",
          severity: "error",
          exitCode: undefined,
          limitBytes: diagnosis?.limitBytes,
          probeOutput: probe?.output,
          message: `service \`${who.service}\` turned unhealthy${probe ? `: last probe exited ${probe.exitCode}${probe.output ? `: ${probe.output}` : ""}` : ""}`,
          logsTail: logs,
        });
      });
    }
  };

  const loop = (async () => {
    try {
      for await (const e of engine.events({
        // Replaying from the start second closes the gap between this call and the stream opening.
        since: Math.floor(startNano / 1e9),
        filters: { type: ["container"], label: [label], event: ["die", "oom", "kill", "health_status"] },
        signal: controller.signal,
        unref: options.keepAlive === false,
      })) {
        if (e.timeNano < startNano) continue;
        handle(e);
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

  return {
    events,
    async stop() {
      controller.abort();
      await loop;
      // No event arrives any more: a `die` still waiting for its late `oom` is reported as it is.
      for (const [id, waiter] of lateOomWaiters) {
        lateOomWaiters.delete(id);
        waiter(false);
      }
      for (const [id, pending] of oomSeen) {
        // Stopping before the window closed: report the OOM now rather than lose it.
        clearTimeout(pending.timer);
        enqueue(id, onOomWithoutDie(pending.event));
      }
      await Promise.all(chains.values());
    },
  };
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

function clock(time: Date): string {
  return `${time.toISOString().slice(11, 19)}Z`;
}

/** The stderr line for one event: `berth: 12:03:04Z service `api` was killed by ...`. */
export function formatEnvironmentEvent(event: EnvironmentEvent): string {
  const lines = [`berth: ${clock(event.time)} ${event.message}`];
  if (event.severity === "error" && event.logsTail.length) {
    lines.push(`  last ${Math.min(event.logsTail.length, 10)} log lines of ${event.container}:`);
    for (const line of event.logsTail.slice(-10)) lines.push(`    ${line}`);
  }
  return lines.join("\n");
}

/** The end-of-run summary: every event that was not a deliberate stop, or a clean bill. */
export function formatEventSummary(events: readonly EnvironmentEvent[]): string {
  const notable = events.filter((e) => e.severity !== "info");
  if (notable.length === 0)
    return "berth: no service died, was OOM-killed or turned unhealthy during the run";
  const perService = new Map<string, number>();
  for (const e of notable) perService.set(e.service, (perService.get(e.service) ?? 0) + 1);
  const lines = [
    `berth: ${notable.length} service event${notable.length === 1 ? "" : "s"} during the run:`,
    ...notable.map(
      (e) => `  ${clock(e.time)}  ${e.severity === "error" ? "error  " : "warning"}  ${e.message}`,
    ),
    `  per service: ${[...perService].map(([service, count]) => `${service} ${count}`).join(", ")}`,
  ];
  return lines.join("\n");
}
