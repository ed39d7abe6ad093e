// One service's way through `up`: created as soon as its image and networks exist, started once
// its dependencies allow, waited on until ready, and described at the end. Each step is a phase.

import { BerthError, ConfigError } from "../engine/errors.js";
import type { ContainerCreateSpec } from "../engine/types.js";
import { createNamedContainer } from "../lifecycle/create-container.js";
import { diagnoseContainer } from "../lifecycle/diagnose.js";
import {
  findPortHolder,
  isPortTakenMessage,
  PortTakenError,
  portFromMessage,
} from "../lifecycle/host-ports.js";
import {
  HealthTimeoutError,
  ServiceExitedError,
  type ServiceFailedError,
  StartFailedError,
  UnhealthyError,
} from "../lifecycle/service-errors.js";
import { NotReadyError, type WaitTarget } from "../lifecycle/wait/types.js";
import { waitUntilReady } from "../lifecycle/wait/wait-until-ready.js";
import { OomKilledError } from "../memory/errors.js";
import { verifyAppliedMemory } from "../memory/limits.js";
import type { ServiceSpec } from "../model/compose.js";
import { containerConfig, DEFAULT_HOST_IP, networksFor } from "./container-config.js";
import { endpointsFromPorts } from "./endpoints.js";
import type { ServiceInfo } from "./environment.js";
import { archiveOf } from "./file-archive.js";
import {
  type ContainerHealth,
  readinessExecPlan,
  readinessStrategies,
  startIntervalToAdd,
} from "./readiness.js";
import type { ProjectResources } from "./resources.js";
import { STACK_LABELS } from "./stack-labels.js";
import type { ServiceRun, UpRun } from "./up-run.js";

const NS_PER_MS = 1_000_000;

async function serviceFailure(
  up: UpRun,
  service: string,
  containerId: string,
  failure: NotReadyError,
): Promise<ServiceFailedError | ConfigError | OomKilledError> {
  if (failure.reason === "invalid") {
    return new ConfigError(`Service ${service}: cannot check readiness: ${failure.message}`, {
      resource: service,
      hint: "Publish the port the x-berth wait strategy names, or wait on another check.",
    });
  }
  const diagnosis = await diagnoseContainer(up.engine, service, containerId, failure.lastProbe);
  const details = { service, ...(diagnosis ? { diagnosis } : {}) };
  if (diagnosis?.oomKilled) return new OomKilledError(diagnosis.exit);
  switch (failure.reason) {
    case "unhealthy":
      return new UnhealthyError(`Service ${service} is unhealthy: ${failure.message}`, details);
    case "exited":
      return new ServiceExitedError(`Service ${service} failed: ${failure.message}`, details);
    default:
      return new HealthTimeoutError(`Service ${service} did not become ready: ${failure.message}`, {
        ...details,
        hint: "Raise the timeout (x-berth.timeout, --timeout) or check the probe and logs above.",
      });
  }
}

/** Services whose container joins another's namespace need that one running first. */
function sharedNamespaceOf(service: ServiceSpec): string | undefined {
  const mode = service.networkMode;
  return mode?.startsWith("service:") ? mode.slice("service:".length) : undefined;
}

export async function createService(
  up: UpRun,
  run: ServiceRun,
  image: string,
  resources: ProjectResources,
): Promise<void> {
  const service = run.spec;
  const shared = sharedNamespaceOf(service);
  if (shared) await up.until(up.runs.get(shared)?.started.promise ?? Promise.resolve());
  up.setPhase(service.name, "creating");
  const { body, laterNetworks, copyIn } = containerConfig(service, {
    name: run.containerName,
    image,
    labels: up.session.labels(service.name),
    volumeLabels: { ...up.session.labels(service.name), [STACK_LABELS.volumeKind]: "anonymous" },
    volumeNames: resources.volumes,
    networks: networksFor(service, resources),
    memory: run.memory,
    oneShot: run.oneShot,
  });
  if (service.healthcheck) {
    const interval = startIntervalToAdd(service.healthcheck, await up.daemonApiVersion());
    if (interval !== undefined && body.Healthcheck) body.Healthcheck.StartInterval = interval * NS_PER_MS;
  }
  await up.session.beforeCreate();
  const created = await up.phase(
    "create",
    () =>
      createNamedContainer(up.engine, body as unknown as ContainerCreateSpec & { name: string }, {
        session: up.session.id,
        signal: up.signal,
      }),
    service.name,
  );
  run.id = created.id;
  if (created.replaced) {
    up.emit({
      type: "warning",
      message: `Removed leftover container ${run.containerName} of a dead berth session to free its name`,
    });
  }
  for (const network of laterNetworks)
    await up.engine.connectNetwork(network.name, created.id, network.aliases);
  if (copyIn.length > 0) await up.engine.putArchive(created.id, "/", await archiveOf(copyIn), up.signal);
  if (Object.keys(run.memory).length > 0) {
    verifyAppliedMemory(service.name, run.memory, await up.engine.inspectContainer(created.id, up.signal), {
      swapLimitSupported: await up.swapLimitSupported(),
    });
  }
  up.setPhase(service.name, "created");
  run.created.resolve();
}

async function awaitDependencies(up: UpRun, run: ServiceRun): Promise<void> {
  for (const dep of run.spec.dependsOn) {
    const target = up.runs.get(dep.service);
    if (!target) continue;
    const gate = dep.condition === "service_started" ? target.started : target.ready;
    await up.until(gate.promise);
  }
}

async function startContainer(up: UpRun, run: ServiceRun): Promise<void> {
  const service = run.spec;
  const id = run.id!;
  try {
    await up.phase("start", () => up.engine.startContainer(id, up.signal), service.name);
  } catch (error) {
    const message = error instanceof BerthError ? (error.apiMessage ?? error.message) : String(error);
    if (isPortTakenMessage(message)) {
      const port = portFromMessage(message) ?? service.ports.find((p) => p.published)?.published ?? 0;
      const host = service.ports.find((p) => p.published === port)?.hostIp ?? DEFAULT_HOST_IP;
      throw new PortTakenError(port, host, await findPortHolder(up.engine, port), service.name);
    }
    if (up.signal.aborted) throw error;
    const diagnosis = await diagnoseContainer(up.engine, service.name, id);
    throw new StartFailedError(`Service ${service.name} could not be started: ${message}`, {
      service: service.name,
      ...(diagnosis ? { diagnosis } : {}),
      cause: error,
    });
  }
}

async function waitReady(up: UpRun, run: ServiceRun): Promise<void> {
  const service = run.spec;
  const id = run.id!;
  const info = await up.engine.inspectContainer(id, up.signal);
  if (!run.oneShot && !info.State.Running && !info.State.Restarting) {
    // Gone before the first look: its ports are already unpublished, so no check could run.
    throw await serviceFailure(
      up,
      service.name,
      id,
      new NotReadyError("exited", `it exited with code ${info.State.ExitCode} before it was ready`),
    );
  }
  const endpoints = endpointsFromPorts(service.name, info.NetworkSettings.Ports as never);
  const target: WaitTarget = {
    engine: up.engine,
    service: service.name,
    containerId: id,
    ...(info.State.Pid ? { pid: info.State.Pid } : {}),
    hostAddress: (port) => {
      const e = endpoints.find((x) => x.containerPort === port && x.protocol === "tcp");
      return e ? { host: e.host, port: e.port } : undefined;
    },
    ...(up.hub ? { events: up.hub } : {}),
  };
  // Podman shows an empty Health (status "") on containers without a healthcheck.
  const hasHealth = Boolean((info.State as { Health?: { Status?: string } }).Health?.Status);
  const container = info.Config as { Healthcheck?: ContainerHealth["config"]; Shell?: string[] };
  const exec =
    hasHealth && !run.oneShot
      ? readinessExecPlan(
          {
            ...(container.Healthcheck ? { config: container.Healthcheck } : {}),
            ...(container.Shell ? { shell: container.Shell } : {}),
          },
          await up.daemonApiVersion(),
        )
      : undefined;
  const strategies = run.oneShot ? [] : readinessStrategies(service, hasHealth, exec);
  up.setPhase(
    service.name,
    "waiting",
    run.oneShot ? "until it exits 0" : strategies.map((s) => s.description).join(", ") || "running",
  );
  try {
    const outcome = await up.phase(
      "ready",
      () =>
        waitUntilReady(target, strategies, {
          timeoutMs: service.berth.timeoutMs ?? up.options.serviceTimeoutMs,
          signal: up.signal,
          until: run.oneShot ? "completed" : "ready",
        }),
      service.name,
    );
    run.readyMs = outcome.durationMs;
    up.setPhase(service.name, outcome.state, `${(outcome.durationMs / 1000).toFixed(1)}s`);
  } catch (error) {
    if (error instanceof NotReadyError) throw await serviceFailure(up, service.name, id, error);
    throw error;
  } finally {
    run.readinessExecs = strategies.reduce((n, s) => n + ((s as { execs?: number }).execs ?? 0), 0);
  }
}

/** Starts the created service once its dependencies allow, then waits until it is ready. */
export async function startService(up: UpRun, run: ServiceRun): Promise<void> {
  await up.until(run.created.promise);
  await awaitDependencies(up, run);
  up.setPhase(run.spec.name, "starting");
  await startContainer(up, run);
  run.started.resolve();
  await waitReady(up, run);
  run.ready.resolve();
}

/** The final look: endpoints, and no long-running service that died after it was ready. */
export async function describeService(up: UpRun, run: ServiceRun): Promise<ServiceInfo> {
  const info = await up.engine.inspectContainer(run.id!, up.signal);
  const running = info.State.Running || info.State.Restarting;
  if (!run.oneShot && !running) {
    const diagnosis = await diagnoseContainer(up.engine, run.spec.name, run.id!);
    if (diagnosis?.oomKilled) throw new OomKilledError(diagnosis.exit);
    throw new ServiceExitedError(
      `Service ${run.spec.name} exited (code ${info.State.ExitCode}) after it was ready, while other services started`,
      { service: run.spec.name, ...(diagnosis ? { diagnosis } : {}) },
    );
  }
  return {
    name: run.spec.name,
    containerId: info.Id,
    containerName: run.containerName,
    image: info.Config.Image,
    imageId: info.Image,
    state: run.oneShot ? "completed" : "ready",
    endpoints: endpointsFromPorts(run.spec.name, info.NetworkSettings.Ports as never),
    readyMs: run.readyMs,
    ...(run.readinessExecs > 0 ? { readinessExecs: run.readinessExecs } : {}),
  };
}
