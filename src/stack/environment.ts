// An environment's lifecycle in the types: `up` gives a StartedEnvironment (endpoints, logs,
// down); its `down` gives a StoppedEnvironment, which has no `down`. `await using` takes a
// started environment down when the scope ends.
import type { Engine, ExecResult } from "../engine/engine.js";
import type { Session } from "../janitor/session.js";
import { type DownReport, downEnvironment } from "./down.js";
import { type Endpoint, endpointEnv, findEndpoint, UnknownEndpointError } from "./endpoints.js";
import type { ProgressListener } from "./progress/events.js";

export interface ServiceInfo {
  name: string;
  containerId: string;
  containerName: string;
  /** `completed` for one-shot services that ran to exit 0. */
  state: "ready" | "completed";
  endpoints: Endpoint[];
  /** Time from start to ready (or completed), ms. */
  readyMs: number;
}

/** The serialisable facts of a started environment (for Vitest's `provide`, files, other processes). */
export interface EnvironmentDescriptor {
  project: string;
  session: string;
  services: { name: string; container: string; state: ServiceInfo["state"] }[];
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
  /** Remove named volumes too (default true: an environment's volumes belong to its run). */
  volumes?: boolean;
  /** Grace period for every container, seconds (default: each service's stop_grace_period). */
  timeoutSeconds?: number;
  onProgress?: ProgressListener;
}

export class StoppedEnvironment {
  constructor(
    readonly project: string,
    readonly session: string,
    readonly report: DownReport,
  ) {}
}

export class StartedEnvironment extends EnvironmentEndpoints implements AsyncDisposable {
  private stopping: Promise<StoppedEnvironment> | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly sessionHandle: Session,
    readonly services: ServiceInfo[],
    readonly warnings: string[],
    /** Time `up` took, ms. */
    readonly durationMs: number,
  ) {
    super({
      project: sessionHandle.project,
      session: sessionHandle.id,
      services: services.map((s) => ({ name: s.name, container: s.containerName, state: s.state })),
      endpoints: services.flatMap((s) => s.endpoints),
    });
  }

  get session(): string {
    return this.sessionHandle.id;
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

  /** Takes the environment down; calling it again answers the same result. */
  down(options: EnvironmentDownOptions = {}): Promise<StoppedEnvironment> {
    this.stopping ??= (async () => {
      const report = await downEnvironment(this.engine, {
        session: this.session,
        volumes: options.volumes ?? true,
        ...(options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds }),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
      // Only a complete down ends the session: otherwise the reaper keeps guarding what is left.
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
