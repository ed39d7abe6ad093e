// Brings a validated project up atomically: images, then networks and volumes, then each service
// created and started in dependency order (independent services at once) and waited on until
// ready. Any failure (build, create, start, unhealthy, early exit, timeout, interrupt) removes
// everything the session created and names the service at fault.
import { setMaxListeners } from "node:events";
import type Docker from "dockerode";
import type { Engine } from "../engine/engine.js";
import { BerthError, ConfigError } from "../engine/errors.js";
import { LABELS } from "../janitor/labels.js";
import type { Session } from "../janitor/session.js";
import { ContainerEventHub } from "../lifecycle/container-events.js";
import { createNamedContainer } from "../lifecycle/create-container.js";
import { diagnoseContainer, formatDiagnosis } from "../lifecycle/diagnose.js";
import {
  findPortHolder,
  isHostPortFree,
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
import {
  type MemoryDefaults,
  type MemoryHostConfig,
  memoryHostConfig,
  verifyAppliedMemory,
} from "../memory/limits.js";
import { containerConfig, DEFAULT_HOST_IP, networksFor } from "./container-config.js";
import { DownIncompleteError, downEnvironment } from "./down.js";
import { endpointsFromPorts } from "./endpoints.js";
import { type ServiceInfo, StartedEnvironment } from "./environment.js";
import { UpInterruptedError, UpTimeoutError } from "./errors.js";
import { archiveOf } from "./file-archive.js";
import { ensureImages } from "./images.js";
import type { ComposeProject, ServiceSpec } from "./model.js";
import { containerNameFor } from "./naming.js";
import type { ProgressListener, ServicePhase, StackEvent } from "./progress/events.js";
import { oneShotServices, readinessStrategies } from "./readiness.js";
import { createProjectResources, type ProjectResources } from "./resources.js";
import { STACK_LABELS } from "./stack-labels.js";

export const DEFAULT_SERVICE_TIMEOUT_MS = 120_000;
export const DEFAULT_UP_TIMEOUT_MS = 300_000;

export interface StartOptions {
  pull: boolean;
  /** Default limit and limit profile for services without a limit of their own. */
  memory: MemoryDefaults;
  /** Overall timeout for the whole `up`, ms. */
  timeoutMs: number;
  /** Readiness timeout per service unless its `x-berth.timeout` says otherwise, ms. */
  serviceTimeoutMs: number;
  warnings: string[];
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

interface ServiceRun {
  spec: ServiceSpec;
  containerName: string;
  oneShot: boolean;
  id?: string;
  phase: ServicePhase;
  started: Deferred;
  ready: Deferred;
  readyMs: number;
  memory: MemoryHostConfig;
}

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

async function serviceFailure(
  engine: Engine,
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
  const diagnosis = await diagnoseContainer(engine, service, containerId, failure.lastProbe);
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

export async function startEnvironment(
  engine: Engine,
  session: Session,
  project: ComposeProject,
  options: StartOptions,
): Promise<StartedEnvironment> {
  const began = performance.now();
  const oneShots = oneShotServices(project);
  const runs = new Map<string, ServiceRun>(
    Object.values(project.services).map((spec) => [
      spec.name,
      {
        spec,
        containerName: containerNameFor(session.project, spec.replica?.of ?? spec.name, spec.replica?.index),
        oneShot: oneShots.has(spec.name),
        phase: "pending",
        started: deferred(),
        ready: deferred(),
        readyMs: 0,
        memory: {},
      },
    ]),
  );
  const emit = (event: StackEvent) => {
    if (event.type === "service") {
      const run = runs.get(event.service);
      if (run) run.phase = event.phase;
    }
    options.onProgress?.(event);
  };
  const setPhase = (service: string, phase: ServicePhase, detail?: string) =>
    emit({ type: "service", service, phase, ...(detail ? { detail } : {}) });

  const controller = new AbortController();
  const signal = controller.signal;
  // Every wait, dependency gate and engine call of the run listens on this one signal.
  setMaxListeners(0, signal);
  const timeoutMarker = new UpTimeoutError(`berth up did not finish within ${options.timeoutMs / 1000} s`);
  const timer = setTimeout(() => controller.abort(timeoutMarker), options.timeoutMs);
  const onInterrupt = () =>
    controller.abort(new UpInterruptedError(`berth up of project ${session.project} was interrupted`));
  options.signal?.addEventListener("abort", onInterrupt, { once: true });
  if (options.signal?.aborted) onInterrupt();

  emit({
    type: "project",
    action: "up",
    project: session.project,
    session: session.id,
    services: [...runs.keys()],
  });
  for (const warning of options.warnings) emit({ type: "warning", message: warning });

  let swapSupport: Promise<boolean> | undefined;
  // Asked once per up, and only when a service has a memory limit.
  const swapLimitSupported = () =>
    (swapSupport ??= engine
      .info()
      .then((info) => info.SwapLimit !== false)
      .catch(() => true));

  const tasks: Promise<unknown>[] = [];
  const track = <T>(promise: Promise<T>): Promise<T> => {
    tasks.push(promise.catch(() => {}));
    return promise;
  };
  let hub: ContainerEventHub | undefined;

  const createService = async (run: ServiceRun, image: string, resources: ProjectResources) => {
    const service = run.spec;
    setPhase(service.name, "creating");
    const memory = run.memory;
    const networks = networksFor(service, resources);
    const { body, laterNetworks, copyIn } = containerConfig(service, {
      name: run.containerName,
      image,
      labels: session.labels(service.name),
      volumeLabels: { ...session.labels(service.name), [STACK_LABELS.volumeKind]: "anonymous" },
      volumeNames: resources.volumes,
      networks,
      memory,
      oneShot: run.oneShot,
    });
    await session.beforeCreate();
    const created = await createNamedContainer(
      engine,
      body as unknown as Docker.ContainerCreateOptions & { name: string },
      {
        session: session.id,
        signal,
      },
    );
    run.id = created.id;
    if (created.replaced) {
      emit({
        type: "warning",
        message: `Removed leftover container ${run.containerName} of a dead berth session to free its name`,
      });
    }
    for (const network of laterNetworks)
      await engine.connectNetwork(network.name, created.id, network.aliases);
    if (copyIn.length > 0) await engine.putArchive(created.id, "/", await archiveOf(copyIn), signal);
    if (Object.keys(memory).length > 0) {
      verifyAppliedMemory(service.name, memory, await engine.inspectContainer(created.id, signal), {
        swapLimitSupported: await swapLimitSupported(),
      });
    }
    setPhase(service.name, "created");
  };

  const startService = async (run: ServiceRun): Promise<void> => {
    const service = run.spec;
    const id = run.id!;
    for (const dep of service.dependsOn) {
      const target = runs.get(dep.service);
      if (!target) continue;
      const gate = dep.condition === "service_started" ? target.started : target.ready;
      await untilAborted(gate.promise, signal);
    }
    setPhase(service.name, "starting");
    try {
      await engine.startContainer(id, signal);
    } catch (error) {
      const message = error instanceof BerthError ? (error.apiMessage ?? error.message) : String(error);
      if (isPortTakenMessage(message)) {
        const port = portFromMessage(message) ?? service.ports.find((p) => p.published)?.published ?? 0;
        const host = service.ports.find((p) => p.published === port)?.hostIp ?? DEFAULT_HOST_IP;
        throw new PortTakenError(port, host, await findPortHolder(engine, port), service.name);
      }
      if (signal.aborted) throw error;
      const diagnosis = await diagnoseContainer(engine, service.name, id);
      throw new StartFailedError(`Service ${service.name} could not be started: ${message}`, {
        service: service.name,
        ...(diagnosis ? { diagnosis } : {}),
        cause: error,
      });
    }
    run.started.resolve();
    const info = await engine.inspectContainer(id, signal);
    if (!run.oneShot && !info.State.Running && !info.State.Restarting) {
      // Gone before the first look: its ports are already unpublished, so no check could run.
      throw await serviceFailure(
        engine,
        service.name,
        id,
        new NotReadyError("exited", `it exited with code ${info.State.ExitCode} before it was ready`),
      );
    }
    const endpoints = endpointsFromPorts(service.name, info.NetworkSettings.Ports as never);
    const target: WaitTarget = {
      engine,
      service: service.name,
      containerId: id,
      hostAddress: (port) => {
        const e = endpoints.find((x) => x.containerPort === port && x.protocol === "tcp");
        return e ? { host: e.host, port: e.port } : undefined;
      },
      ...(hub ? { events: hub } : {}),
    };
    const strategies = run.oneShot
      ? []
      : // Podman shows an empty Health (status "") on containers without a healthcheck.
        readinessStrategies(
          service,
          Boolean((info.State as { Health?: { Status?: string } }).Health?.Status),
        );
    setPhase(
      service.name,
      "waiting",
      run.oneShot ? "until it exits 0" : strategies.map((s) => s.description).join(", ") || "running",
    );
    try {
      const outcome = await waitUntilReady(target, strategies, {
        timeoutMs: service.berth.timeoutMs ?? options.serviceTimeoutMs,
        signal,
        until: run.oneShot ? "completed" : "ready",
      });
      run.readyMs = outcome.durationMs;
      setPhase(service.name, outcome.state, `${(outcome.durationMs / 1000).toFixed(1)}s`);
    } catch (error) {
      if (error instanceof NotReadyError) throw await serviceFailure(engine, service.name, id, error);
      throw error;
    }
    run.ready.resolve();
  };

  /** The final look: endpoints, and no long-running service that died after it was ready. */
  const describeService = async (run: ServiceRun): Promise<ServiceInfo> => {
    const info = await engine.inspectContainer(run.id!, signal);
    const running = info.State.Running || info.State.Restarting;
    if (!run.oneShot && !running) {
      const diagnosis = await diagnoseContainer(engine, run.spec.name, run.id!);
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
      state: run.oneShot ? "completed" : "ready",
      endpoints: endpointsFromPorts(run.spec.name, info.NetworkSettings.Ports as never),
      readyMs: run.readyMs,
    };
  };

  try {
    const all = [...runs.values()];
    // Limits Docker would refuse are configuration errors: found before anything exists.
    for (const run of all) run.memory = memoryHostConfig(run.spec, options.memory);
    // The reaper watchdog must guard the session before its first resource; starting it now lets
    // its start-up overlap the checks below instead of delaying the first create.
    const guarding = track(session.beforeCreate());
    await untilAborted(
      checkFixedPorts(
        engine,
        all.map((r) => r.spec),
      ),
      signal,
    );
    for (const run of all) if (run.spec.build) setPhase(run.spec.name, "building");
    const images = await track(
      untilAborted(
        ensureImages(
          engine,
          all.map((r) => r.spec),
          {
            pull: options.pull,
            projectBase: project.name ?? "berth",
            buildLabels: { "berth.built-by-session": session.id, "berth.built-for-project": session.project },
            onBuild: (service, phase) =>
              setPhase(service, phase === "building" ? "building" : "built", phase),
            signal,
          },
        ),
        signal,
      ),
    );
    await untilAborted(guarding, signal);
    hub = ContainerEventHub.open(engine, [`${LABELS.session}=${session.id}`]);
    const resources = await track(createProjectResources(engine, session, project, emit));
    signal.throwIfAborted();
    await Promise.all(
      all.map((run) =>
        track(
          (async () => {
            // A service is created once its dependencies have been started: services nothing
            // waits for start at once, and later services are created while those warm up.
            for (const dep of run.spec.dependsOn) {
              const target = runs.get(dep.service);
              if (target) await untilAborted(target.started.promise, signal);
            }
            await createService(run, images[run.spec.name]!, resources);
            await startService(run);
          })().catch((error: unknown) => {
            run.started.reject(error);
            run.ready.reject(error);
            if (!signal.aborted) setPhase(run.spec.name, "failed", (error as Error).message.split("\n")[0]);
            controller.abort(error);
            throw error;
          }),
        ),
      ),
    );
    const services = await Promise.all(all.map(describeService));
    emit({ type: "done", action: "up", ok: true, durationMs: performance.now() - began });
    return new StartedEnvironment(engine, session, services, options.warnings, performance.now() - began);
  } catch (caught) {
    if (!signal.aborted) controller.abort(caught);
    await Promise.all(tasks);
    let error: unknown = signal.reason instanceof BerthError ? signal.reason : caught;
    if (error === timeoutMarker) error = await describeTimeout(engine, timeoutMarker, [...runs.values()]);
    await rollback(engine, session, error, emit);
    emit({ type: "done", action: "up", ok: false, durationMs: performance.now() - began });
    throw error;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onInterrupt);
    hub?.close();
  }
}

async function describeTimeout(
  engine: Engine,
  marker: UpTimeoutError,
  runs: ServiceRun[],
): Promise<UpTimeoutError> {
  const pending = runs.filter((r) => r.phase !== "ready" && r.phase !== "completed");
  const lines = [
    `${marker.message}; not ready: ${pending.map((r) => `${r.spec.name} (${r.phase})`).join(", ")}`,
  ];
  for (const run of pending.filter((r) => r.phase === "waiting" && r.id)) {
    const diagnosis = await diagnoseContainer(engine, run.spec.name, run.id!);
    if (diagnosis) lines.push(`service ${run.spec.name}:`, formatDiagnosis(diagnosis));
  }
  return new UpTimeoutError(lines.join("\n"), {
    resource: pending.map((r) => r.spec.name).join(", "),
    hint: "Raise the overall timeout (--timeout) or the service's own (x-berth.timeout).",
  });
}

/** Pause before the rollback's second pass, when the first left something behind. */
const ROLLBACK_RETRY_DELAY_MS = 1_000;

async function rollback(
  engine: Engine,
  session: Session,
  error: unknown,
  emit: ProgressListener,
): Promise<void> {
  const reason = (error as Error)?.message?.split("\n")[0] ?? String(error);
  emit({ type: "rollback", phase: "started", reason });
  // By label, not by memory: a create that was in flight when the failure came is found too.
  const takeDown = () =>
    downEnvironment(engine, {
      session: session.id,
      volumes: true,
      sessionVolumesOnly: true,
      onProgress: emit,
    });
  try {
    try {
      await takeDown();
    } catch (first) {
      // A second pass for what a busy daemon had not settled yet (seen once in CI: a rollback
      // left a container and its network, which the session's reaper removed later). Its own
      // verification decides; what the first pass met is kept in the message if it fails too.
      if (!(first instanceof DownIncompleteError)) throw first;
      emit({ type: "warning", message: `Rollback: a second pass, the first left: ${first.message}` });
      await new Promise((resolve) => setTimeout(resolve, ROLLBACK_RETRY_DELAY_MS));
      try {
        await takeDown();
      } catch (second) {
        (second as Error).message += `\nFirst pass: ${first.message}`;
        throw second;
      }
    }
    await session.end();
  } catch (rollbackError) {
    if (error instanceof Error) {
      error.message += `\nRollback incomplete: ${(rollbackError as Error).message}`;
    }
  }
  emit({ type: "rollback", phase: "finished", reason });
}
