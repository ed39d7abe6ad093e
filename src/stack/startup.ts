// Brings a validated project up atomically, as a list of phases: memory limits and fixed host
// ports are checked before anything exists; the reaper's guard is queued; images are checked
// (or built) while the networks and volumes are created; every service's container is created as
// soon as its image and networks exist and started in dependency order (independent services at
// once), then waited on until ready. Any failure (build, create, start, unhealthy, early exit,
// timeout, interrupt) removes everything the session created and names the service at fault.
import type { Engine } from "../engine/engine.js";
import { BerthError, ConfigError } from "../engine/errors.js";
import { refillPool } from "../janitor/network-pool.js";
import type { Session } from "../janitor/session.js";
import { ContainerEventHub } from "../lifecycle/container-events.js";
import { findPortHolder, isHostPortFree, PortTakenError } from "../lifecycle/host-ports.js";
import { memoryHostConfig } from "../memory/limits.js";
import type { ComposeProject, ServiceSpec } from "../model/compose.js";
import { LABELS } from "../model/labels.js";
import { DEFAULT_HOST_IP } from "./container-config.js";
import { awaitDaemon, DAEMON_RETURN_WAIT_MS, daemonWentAway, wentAwayError } from "./daemon-gone.js";
import { StartedEnvironment } from "./environment.js";
import { ensureImages } from "./images.js";
import { createProjectResources } from "./resources.js";
import { describeTimeout, rollback } from "./rollback.js";
import { createService, describeService, startService } from "./service-start.js";
import { type StartOptions, UpRun } from "./up-run.js";

export type { StartOptions } from "./up-run.js";

export const DEFAULT_SERVICE_TIMEOUT_MS = 120_000;
export const DEFAULT_UP_TIMEOUT_MS = 300_000;

/** A fixed host port used twice in the project, or already taken on the host: refused before anything exists. */
async function checkFixedPorts(engine: Engine, services: ServiceSpec[]): Promise<void> {
  const seen = new Map<string, string>();
  for (const service of services) {
    for (const port of service.ports) {
      if (port.published === undefined) continue;
      const host = port.hostIp ?? DEFAULT_HOST_IP;
      const key = `${host}:${port.published}/${port.protocol}`;
      const other = seen.get(key);
      if (other) {
        throw new ConfigError(`Host port ${key} is published by both ${other} and ${service.name}`, {
          resource: key,
          hint: "Give one of them another host port, or leave it out for a dynamic one.",
        });
      }
      seen.set(key, service.name);
      if (port.protocol === "tcp" && !(await isHostPortFree(host, port.published))) {
        throw new PortTakenError(
          port.published,
          host,
          await findPortHolder(engine, port.published),
          service.name,
        );
      }
    }
  }
}

function ensureProjectImages(up: UpRun, project: ComposeProject): Promise<Record<string, string>> {
  const specs = [...up.runs.values()].map((r) => r.spec);
  for (const spec of specs) if (spec.build) up.setPhase(spec.name, "building");
  return ensureImages(up.engine, specs, {
    ...(up.options.pull ? { pull: up.options.pull } : {}),
    projectBase: project.name ?? "berth",
    buildLabels: { "berth.built-by-session": up.session.id, "berth.built-for-project": up.session.project },
    onBuild: (service, phase) => up.setPhase(service, phase === "building" ? "building" : "built", phase),
    onPull: (services, progress) => up.emit({ type: "image", services, ...progress }),
    signal: up.signal,
  });
}

/** The up's first and last event, and the warnings in between. */
function announce(up: UpRun): void {
  up.emit({
    type: "project",
    action: "up",
    project: up.session.project,
    session: up.session.id,
    services: [...up.runs.keys()],
  });
  for (const warning of up.options.warnings) up.emit({ type: "warning", message: warning });
}

export async function startEnvironment(
  engine: Engine,
  session: Session,
  project: ComposeProject,
  options: StartOptions,
): Promise<StartedEnvironment> {
  const up = new UpRun(engine, session, project, options);
  const disarm = up.arm();
  announce(up);
  const all = [...up.runs.values()];
  try {
    // Limits Docker would refuse are configuration errors: found before anything exists.
    for (const run of all) run.memory = memoryHostConfig(run.spec, options.memory);
    await up.until(
      up.phase("ports", () =>
        checkFixedPorts(
          engine,
          all.map((r) => r.spec),
        ),
      ),
    );
    // Queued before the first resource: once it is in the watchdog's pipe the owner's death reaps
    // the session, so nothing waits for the watchdog process to start (confirmed at the end).
    const guard = up.track(up.phase("guard", () => session.beforeCreate()));
    if (all.some((r) => r.spec.healthcheck)) void up.daemonApiVersion();
    up.hub = ContainerEventHub.open(engine, [`${LABELS.session}=${session.id}`]);
    // Tracked as they run, not as they are awaited: a rollback must find what they create, so it
    // waits for them to settle even when the up has been aborted meanwhile.
    const images = up.until(up.track(up.phase("images", () => ensureProjectImages(up, project))));
    const resources = up.until(
      up.track(
        guard.then(() =>
          up.phase("resources", () =>
            createProjectResources(engine, session, project, up.emit.bind(up), options.networkPool),
          ),
        ),
      ),
    );
    await Promise.all(
      all.map((run) =>
        up.track(
          (async () => {
            const [refs, created] = await Promise.all([images, resources]);
            await createService(up, run, refs[run.spec.name]!, created);
            await startService(up, run);
          })().catch((error: unknown) => {
            run.created.reject(error);
            run.started.reject(error);
            run.ready.reject(error);
            if (!up.signal.aborted)
              up.setPhase(run.spec.name, "failed", (error as Error).message.split("\n")[0]);
            up.controller.abort(error);
            throw error;
          }),
        ),
      ),
    );
    await up.until(up.phase("confirm-guard", () => session.confirmGuard()));
    const services = await up.phase("describe", () =>
      Promise.all(all.map((run) => describeService(up, run))),
    );
    const durationMs = performance.now() - up.began;
    // Off the critical path: the next up finds a network ready even while this one is in use.
    if (options.networkPool && (await resources).poolEmptied) void refillPool(engine, options.networkPool);
    up.emit({ type: "done", action: "up", ok: true, durationMs });
    return new StartedEnvironment(engine, session, services, options.warnings, durationMs);
  } catch (caught) {
    if (!up.signal.aborted) up.controller.abort(caught);
    await up.settled();
    let error: unknown = up.signal.reason instanceof BerthError ? up.signal.reason : caught;
    if (error === up.timeoutMarker) error = await describeTimeout(engine, up.timeoutMarker, all);
    // A daemon that answered this up (a container exists) and then went away: the failure is
    // that, and the rollback waits for it to answer again.
    const gone = all.some((r) => r.id !== undefined) && (await daemonWentAway(engine, error));
    const backAfterMs = gone ? await awaitDaemon(engine, DAEMON_RETURN_WAIT_MS) : undefined;
    const rolledBack = await up.phase("rollback", () => rollback(engine, session, error, up.emit.bind(up)));
    up.emit({ type: "done", action: "up", ok: false, durationMs: performance.now() - up.began });
    if (gone || rolledBack.wentAway) {
      throw wentAwayError(engine, "up", error, {
        back: gone ? backAfterMs !== undefined : rolledBack.complete,
        ...(backAfterMs === undefined ? { waitedMs: DAEMON_RETURN_WAIT_MS } : { backAfterMs }),
        done: rolledBack.complete,
      });
    }
    throw error;
  } finally {
    disarm();
  }
}
