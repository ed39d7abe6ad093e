// An environment's lifecycle in the types: `up` gives a StartedEnvironment (endpoints, logs,
// down); its `down` gives a StoppedEnvironment, which has no `down`. `await using` takes a
// started environment down when the scope ends. While it lives, a watcher follows the daemon's
// events for its containers and reports every death, OOM kill and unhealthy turn as an incident.
import type { Engine, ExecResult } from "../engine/engine.js";
import type { Session } from "../janitor/session.js";
import { type EnvironmentEvent, type EnvironmentWatcher, watchEnvironment } from "../lifecycle/watch.js";
import { type DownReport, downEnvironment } from "./down.js";
import { type Endpoint, endpointEnv, findEndpoint, UnknownEndpointError } from "./endpoints.js";
import type { ProgressListener } from "./progress/events.js";

export interface ServiceInfo {
  name: string;
  containerId: string;
  containerName: string;
  /** The image reference the service runs (as in the file, or the tag berth built). */
  image: string;
  /** The id of that image on the daemon (`sha256:...`): what a pull or build produced. */
  imageId: string;
  /** `completed` for one-shot services that ran to exit 0. */
  state: "ready" | "completed";
  endpoints: Endpoint[];
  /** Time from start to ready (or completed), ms. */
  readyMs: number;
  /** Healthcheck probes berth ran itself with exec before Docker's first probe (absent: none). */
  readinessExecs?: number;
}

/** The serialisable facts of a started environment (for Vitest's `provide`, files, other processes). */
export interface EnvironmentDescriptor {
  project: string;
  session: string;
  /** The reuse key of a reusable environment (absent otherwise). */
  reuseKey?: string;
  /** True when `up` handed over an environment an earlier run left idle. */
  reused?: boolean;
  services: { name: string; container: string; state: ServiceInfo["state"]; imageId?: string }[];
  endpoints: Endpoint[];
}

/** Reading an environment's endpoints, from a live environment or a descriptor. */
export class EnvironmentEndpoints {
  constructor(readonly descriptor: EnvironmentDescriptor) {}

  get project(): string {
    return this.descriptor.project;
  }

  get endpoints(): Endpoint[] {
    return this.descriptor.endpoints;
  }

  /** The host address of a service's container port; throws naming what is published otherwise. */
  endpoint(service: string, containerPort: number, protocol: "tcp" | "udp" = "tcp"): Endpoint {
    if (!this.descriptor.services.some((s) => s.name === service)) {
      throw new UnknownEndpointError(`No service ${service} in project ${this.descriptor.project}`, {
        resource: service,
        hint: `Services: ${this.descriptor.services.map((s) => s.name).join(", ")}`,
      });
    }
    return findEndpoint(this.descriptor.endpoints, service, containerPort, protocol);
  }

  /** `http://127.0.0.1:49153/path` for a service's HTTP port. */
  url(service: string, containerPort: number, path = "/", scheme = "http"): string {
    return `${scheme}://${this.endpoint(service, containerPort).address}${path.startsWith("/") ? path : `/${path}`}`;
  }

  /** Endpoints as environment variables: `REDIS_6379=127.0.0.1:49153`. */
  env(): Record<string, string> {
    return endpointEnv(this.descriptor.endpoints);
  }
}

export interface EnvironmentDownOptions {
  /**
   * A reusable environment is only released by `down` (it stays running for the next `up`);
   * `remove: true` takes it down for good. Without reuse, `down` always removes.
   */
  remove?: boolean;
  /** Remove named volumes too (default true: an environment's volumes belong to its run). */
  volumes?: boolean;
  /** Grace period for every container, seconds (default: each service's stop_grace_period). */
  timeoutSeconds?: number;
  onProgress?: ProgressListener;
}

/** A listener for the environment's incidents (a service died, was OOM-killed, turned unhealthy). */
export type IncidentListener = (incident: EnvironmentEvent) => void;

export interface EnvironmentWatchOptions {
  /** Called for each incident, in order, as it happens. */
  onIncident?: IncidentListener;
  /** The daemon's event stream failed (daemon gone): the environment is no longer watched. */
  onWatchError?: (error: unknown) => void;
  /** Log lines kept per incident (default 50). */
  logLines?: number;
}

/** A reusable environment's side of `down`: the lease this owner holds on it. */
export interface EnvironmentReuse {
  key: string;
  /** The environment was left idle by an earlier run and handed over again. */
  reused: boolean;
  /** Releases the lease and leaves the environment running. */
  release(): Promise<void>;
  /** The environment was removed: stop holding the lease. */
  forget(): Promise<void>;
}

export class StoppedEnvironment {
  constructor(
    readonly project: string,
    readonly session: string,
    readonly report: DownReport,
    /** True when `down` only released a reusable environment's lease: it is still running. */
    readonly released = false,
  ) {}
}

export class StartedEnvironment extends EnvironmentEndpoints implements AsyncDisposable {
  private stopping: Promise<StoppedEnvironment> | undefined;
  private watcher: EnvironmentWatcher | undefined;
  private readonly incidentListeners = new Set<IncidentListener>();
  private readonly watchErrorListeners = new Set<(error: unknown) => void>();
  private readonly incidentList: EnvironmentEvent[] = [];
  private lastWatchError: unknown;

  constructor(
    private readonly engine: Engine,
    private readonly sessionHandle: Session,
    readonly services: ServiceInfo[],
    readonly warnings: string[],
    /** Time `up` took, ms. */
    readonly durationMs: number,
    private readonly reuse?: EnvironmentReuse,
  ) {
    super({
      project: sessionHandle.project,
      session: sessionHandle.id,
      ...(reuse ? { reuseKey: reuse.key, reused: reuse.reused } : {}),
      services: services.map((s) => ({
        name: s.name,
        container: s.containerName,
        state: s.state,
        imageId: s.imageId,
      })),
      endpoints: services.flatMap((s) => s.endpoints),
    });
  }

  get session(): string {
    return this.sessionHandle.id;
  }

  /** True when this environment was reused: an earlier run left it idle and `up` handed it over. */
  get reused(): boolean {
    return this.reuse?.reused ?? false;
  }

  /** The reuse key when the environment is reusable (`up({ reuse: true })`), else undefined. */
  get reuseKey(): string | undefined {
    return this.reuse?.key;
  }

  service(name: string): ServiceInfo {
    const found = this.services.find((s) => s.name === name);
    if (!found) {
      throw new UnknownEndpointError(`No service ${name} in project ${this.project}`, {
        resource: name,
        hint: `Services: ${this.services.map((s) => s.name).join(", ")}`,
      });
    }
    return found;
  }

  /** The service's output so far (stdout and stderr), optionally only the last `tail` lines. */
  async logs(service: string, options: { tail?: number } = {}): Promise<string> {
    const { stdout, stderr } = await this.engine.containerLogs(this.service(service).containerId, {
      tail: options.tail ?? "all",
    });
    return `${stdout}${stderr}`;
  }

  /** Runs a command in the service's container. */
  exec(service: string, command: string[]): Promise<ExecResult> {
    return this.engine.exec(this.service(service).containerId, command);
  }

  /**
   * Every incident reported so far, in order: deaths (exit code, OOM kill at the limit),
   * processes OOM-killed inside a running container, unhealthy turns, and informational ones
   * (a one-shot service's exit 0, a stop through the API by someone else). `severity` tells them
   * apart; `formatEventSummary(env.incidents)` summarises them.
   */
  get incidents(): readonly EnvironmentEvent[] {
    return this.incidentList;
  }

  /** True while the daemon's events for this environment's containers are followed. */
  get watching(): boolean {
    return this.watcher !== undefined;
  }

  /** The last error the watch reported (for example the daemon's event stream failed), if any. */
  get watchError(): unknown {
    return this.lastWatchError;
  }

  /** Calls `listener` for each incident from now on; returns an unsubscribe. */
  onIncident(listener: IncidentListener): () => void {
    this.incidentListeners.add(listener);
    return () => this.incidentListeners.delete(listener);
  }

  /** Calls `listener` if the watch fails (the daemon's event stream broke); returns an unsubscribe. */
  onWatchError(listener: (error: unknown) => void): () => void {
    this.watchErrorListeners.add(listener);
    return () => this.watchErrorListeners.delete(listener);
  }

  /**
   * Starts following the daemon's events for this environment's containers (`up` does this
   * unless `watch: false`). Events before this call are not reported. Calling it again while
   * watching only adds the listeners; once `down` has begun it starts nothing.
   */
  watch(options: EnvironmentWatchOptions = {}): void {
    if (options.onIncident) this.onIncident(options.onIncident);
    if (options.onWatchError) this.onWatchError(options.onWatchError);
    if (this.watcher || this.stopping) return;
    this.watcher = watchEnvironment(this.engine, {
      session: this.session,
      // Like the session's reaper: an environment left without `down` must not hold the process.
      keepAlive: false,
      // One-shot services already ran to exit 0; a later run of theirs exiting 0 is expected too.
      completes: this.services.filter((s) => s.state === "completed").map((s) => s.name),
      ...(options.logLines === undefined ? {} : { logLines: options.logLines }),
      onEvent: (incident) => {
        this.incidentList.push(incident);
        for (const listener of [...this.incidentListeners]) {
          try {
            listener(incident);
          } catch {
            // A listener's failure must not stop the others or the watch.
          }
        }
      },
      onError: (error) => {
        this.lastWatchError = error;
        for (const listener of [...this.watchErrorListeners]) {
          try {
            listener(error);
          } catch {
            // As above.
          }
        }
      },
    });
  }

  /**
   * Stops following events and waits until those already received are reported. `down` calls it
   * first, so the environment's own stops are never reported as deaths.
   */
  async stopWatching(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = undefined;
    await watcher?.stop();
  }

  /**
   * Takes the environment down; calling it again answers the same result. A reusable one is
   * released instead (left running for the next `up`) unless `remove: true`.
   */
  down(options: EnvironmentDownOptions = {}): Promise<StoppedEnvironment> {
    this.stopping ??= (async () => {
      await this.stopWatching();
      if (this.reuse && !options.remove) {
        await this.reuse.release();
        const nothing = {
          containers: [],
          networks: [],
          returnedNetworks: [],
          volumes: [],
          keptVolumes: [],
          durationMs: 0,
        };
        return new StoppedEnvironment(this.project, this.session, nothing, true);
      }
      const report = await downEnvironment(this.engine, {
        session: this.session,
        project: this.project,
        volumes: options.volumes ?? true,
        ...(options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds }),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
      // Only a complete down ends the session: otherwise the reaper keeps guarding what is left.
      await this.reuse?.forget();
      await this.sessionHandle.end();
      return new StoppedEnvironment(this.project, this.session, report);
    })();
    // A failed down may be tried again.
    this.stopping.catch(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }

  toJSON(): EnvironmentDescriptor {
    return this.descriptor;
  }
}
