// The state one `up` shares between its phases: each service's run (its gates: created, started,
// ready), the one abort signal every wait and engine call listens on, progress events, the tasks
// to settle before a rollback, and what is asked of the daemon at most once per up.
import { setMaxListeners } from "node:events";
import type { Engine } from "../engine/engine.js";
import { engineVersion } from "../engine/identity.js";
import type { PullPolicy } from "../images/policy.js";
import type { NetworkPoolConfig } from "../janitor/network-pool.js";
import type { Session } from "../janitor/session.js";
import type { ContainerEventHub } from "../lifecycle/container-events.js";
import type { MemoryDefaults, MemoryHostConfig } from "../memory/limits.js";
import type { ComposeProject, ServiceSpec } from "../model/compose.js";
import { UpInterruptedError, UpTimeoutError } from "./errors.js";
import { containerNameFor } from "./naming.js";
import { type PhaseRunner, phaseRunner } from "./phases.js";
import type { ProgressListener, ServicePhase, StackEvent } from "./progress/events.js";
import { oneShotServices } from "./readiness.js";

export interface StartOptions {
  /** `--pull`: one policy for every service instead of their `pull_policy`. */
  pull?: Exclude<PullPolicy, "build">;
  /** Default limit and limit profile for services without a limit of their own. */
  memory: MemoryDefaults;
  /** Overall timeout for the whole `up`, ms. */
  timeoutMs: number;
  /** Readiness timeout per service unless its `x-berth.timeout` says otherwise, ms. */
  serviceTimeoutMs: number;
  warnings: string[];
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** Plain bridge networks are claimed from this pool when it is enabled. */
  networkPool?: NetworkPoolConfig;
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

export interface ServiceRun {
  spec: ServiceSpec;
  containerName: string;
  oneShot: boolean;
  id?: string;
  phase: ServicePhase;
  created: Deferred;
  started: Deferred;
  ready: Deferred;
  readyMs: number;
  /** Healthcheck probes berth ran itself with exec before Docker's first probe. */
  readinessExecs: number;
  memory: MemoryHostConfig;
}

export class UpRun {
  readonly began = performance.now();
  readonly runs: Map<string, ServiceRun>;
  readonly controller = new AbortController();
  readonly signal: AbortSignal = this.controller.signal;
  readonly timeoutMarker: UpTimeoutError;
  readonly phase: PhaseRunner;
  hub: ContainerEventHub | undefined;
  private readonly tasks: Promise<unknown>[] = [];
  private swapSupport: Promise<boolean> | undefined;
  private apiVersion: Promise<string> | undefined;

  constructor(
    readonly engine: Engine,
    readonly session: Session,
    project: ComposeProject,
    readonly options: StartOptions,
  ) {
    const oneShots = oneShotServices(project);
    this.runs = new Map(
      Object.values(project.services).map((spec) => [
        spec.name,
        {
          spec,
          containerName: containerNameFor(
            session.project,
            spec.replica?.of ?? spec.name,
            spec.replica?.index,
          ),
          oneShot: oneShots.has(spec.name),
          phase: "pending",
          created: deferred(),
          started: deferred(),
          ready: deferred(),
          readyMs: 0,
          readinessExecs: 0,
          memory: {},
        },
      ]),
    );
    // Every wait, dependency gate and engine call of the run listens on this one signal.
    setMaxListeners(0, this.signal);
    this.timeoutMarker = new UpTimeoutError(`berth up did not finish within ${options.timeoutMs / 1000} s`);
    this.phase = phaseRunner(engine, "up");
  }

  /** Arms the overall timeout and the caller's interrupt; answers the disarm. */
  arm(): () => void {
    const timer = setTimeout(() => this.controller.abort(this.timeoutMarker), this.options.timeoutMs);
    const onInterrupt = () =>
      this.controller.abort(
        new UpInterruptedError(`berth up of project ${this.session.project} was interrupted`),
      );
    this.options.signal?.addEventListener("abort", onInterrupt, { once: true });
    if (this.options.signal?.aborted) onInterrupt();
    return () => {
      clearTimeout(timer);
      this.options.signal?.removeEventListener("abort", onInterrupt);
      this.hub?.close();
    };
  }

  emit(event: StackEvent): void {
    if (event.type === "service") {
      const run = this.runs.get(event.service);
      if (run) run.phase = event.phase;
    }
    this.options.onProgress?.(event);
  }

  setPhase(service: string, phase: ServicePhase, detail?: string): void {
    this.emit({ type: "service", service, phase, ...(detail ? { detail } : {}) });
  }

  /** Work the rollback must let settle first, so nothing is created behind its back. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.tasks.push(promise.catch(() => {}));
    return promise;
  }

  settled(): Promise<unknown> {
    return Promise.all(this.tasks);
  }

  until<T>(promise: Promise<T>): Promise<T> {
    return untilAborted(promise, this.signal);
  }

  /** Asked once per up, and only when a service has a memory limit. */
  swapLimitSupported(): Promise<boolean> {
    this.swapSupport ??= this.engine
      .info()
      .then((info) => info.SwapLimit !== false)
      .catch(() => true);
    return this.swapSupport;
  }

  /** The daemon's API version, asked once per up, and only when a service has a healthcheck. */
  daemonApiVersion(): Promise<string> {
    // The same answer tells createNamedContainer whether the engine is Podman. Kept here as well
    // as in engineVersion's per-engine memory for its failure: engineVersion asks again after one
    // (right for a long-lived engine), while one up takes "unknown" ("") once for all services.
    this.apiVersion ??= engineVersion(this.engine)
      .then((v) => v.ApiVersion ?? "")
      .catch(() => "");
    return this.apiVersion;
  }
}
