// The engine gateway: the only code in berth that talks to the Docker Engine API. Every call is
// named from the operation catalogue, passes the interceptors (the guard installs its limiter and
// retries there), is observed (operation, class, duration, outcome) and fails with a typed error.
// Requests go straight over node:http on a keep-alive transport (transport.ts): no client library.
import type { IncomingMessage } from "node:http";
import { type Duplex, PassThrough, type Readable } from "node:stream";
import { classifyEngineError, endpointContext } from "./classify.js";
import { demuxDockerStream, FrameDecoder } from "./demux.js";
import { type DockerEndpoint, type DockerEnv, resolveDockerEndpoint } from "./docker-host.js";
import { BuildFailedError, EngineError, NotFoundError, PullStreamError } from "./errors.js";
import { fetchBody, fetchJson, hijack, jsonLines, type RequestSpec, readBody, send } from "./http.js";
import { OPERATIONS, type OperationClass, type OperationName } from "./operations.js";
import { type TarExtra, tarFiles } from "./tar.js";
import { createTransport, type Transport } from "./transport.js";
import type {
  BuildProgressEvent,
  ContainerCreateSpec,
  ContainerInspect,
  ContainerStats,
  ContainerSummary,
  EngineEvent,
  ExecInspect,
  Filters,
  ImageInspect,
  ImageSummary,
  NetworkCreateSpec,
  NetworkInspect,
  PullProgressEvent,
  VersionInfo,
  VolumeCreateSpec,
  VolumeInspect,
} from "./types.js";

export { demuxDockerStream } from "./demux.js";
export type { EngineEvent } from "./types.js";

export interface EngineCall {
  operation: OperationName;
  class: OperationClass;
  idempotent: boolean;
  /** Container, network, volume or image the call is about, for errors and logs. */
  resource?: string;
  signal?: AbortSignal;
}

/** Wraps every engine call; `next` performs it (and may be called again to retry). */
export type EngineInterceptor = <T>(call: EngineCall, next: () => Promise<T>) => Promise<T>;

/** One dispatch to the daemon, as the daemon saw it: no time queued in berth is included. */
export interface CallRecord {
  operation: OperationName;
  class: OperationClass;
  resource?: string;
  startedAt: number;
  durationMs: number;
  outcome: "ok" | "error";
  errorCode?: string;
  status?: number;
}

export type CallObserver = (record: CallRecord) => void;

export interface EngineOptions {
  /** Environment to read DOCKER_HOST and TLS settings from (default: process.env). */
  env?: DockerEnv;
  /** An explicit endpoint, overriding the environment. */
  dockerHost?: string;
}

export interface ContainerLogOptions {
  tail?: number | "all";
  since?: number;
  timestamps?: boolean;
  signal?: AbortSignal;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecStartOptions {
  env?: string[];
  user?: string;
  workingDir?: string;
  /** Attach the command's standard input. */
  stdin?: boolean;
  /** Allocate a pseudo-terminal (output then comes unframed, stdout and stderr as one). */
  tty?: boolean;
  signal?: AbortSignal;
}

export interface BuildOptions {
  tag: string;
  /** More names for the image. */
  extraTags?: string[];
  labels?: Record<string, string>;
  dockerfile?: string;
  buildargs?: Record<string, string>;
  target?: string;
  /** The network of RUN steps: `default`, `host`, `none` (or a network's name). */
  networkMode?: string;
  shmSizeBytes?: number;
  /** `HOST:ADDRESS` entries for RUN steps' /etc/hosts. */
  extraHosts?: string[];
  ulimits?: Record<string, { soft: number; hard: number }>;
  noCache?: boolean;
  /** Pull newer versions of the base images. */
  pull?: boolean;
  platform?: string;
  signal?: AbortSignal;
}

export interface PullOptions {
  /** The `X-Registry-Auth` header's value (base64url JSON of the registry credentials). */
  auth?: string;
  /** Called with every line of the daemon's progress stream. */
  onProgress?: (event: PullProgressEvent) => void;
  signal?: AbortSignal;
}

export interface ImportOptions {
  repo: string;
  tag?: string;
  /** Dockerfile instructions applied to the imported tree (`ENV`, `CMD`, `LABEL`, ...). */
  changes?: string[];
  signal?: AbortSignal;
}

export interface AttachOptions {
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  /** Also send the output the container wrote before the attach. */
  logs?: boolean;
  signal?: AbortSignal;
}

/** The build query with only the parameters that are set (Podman answers 400 to an empty `buildargs=`). */
export function buildQuery(options: BuildOptions): Record<string, unknown> {
  const query: Record<string, unknown> = {
    t: options.extraTags?.length ? [options.tag, ...options.extraTags] : options.tag,
    labels: options.labels,
    dockerfile: options.dockerfile,
    buildargs: options.buildargs,
    target: options.target,
    networkmode: options.networkMode,
    shmsize: options.shmSizeBytes,
    extrahosts: options.extraHosts,
    // A JSON list (an array would become repeated parameters).
    ulimits:
      options.ulimits &&
      JSON.stringify(
        Object.entries(options.ulimits).map(([Name, { soft, hard }]) => ({ Name, Soft: soft, Hard: hard })),
      ),
    nocache: options.noCache || undefined,
    pull: options.pull || undefined,
    platform: options.platform,
    rm: true,
    forcerm: true,
  };
  return Object.fromEntries(Object.entries(query).filter(([, value]) => value !== undefined));
}

/** `name:tag` or `name@digest` for the pull query; a bare name means its `latest` tag, as the CLI does. */
export function pullQuery(ref: string): { fromImage: string; tag?: string } {
  if (ref.includes("@")) return { fromImage: ref };
  const colon = ref.lastIndexOf(":");
  if (colon > ref.lastIndexOf("/")) return { fromImage: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { fromImage: ref, tag: "latest" };
}

const path = encodeURIComponent;
/**
 * The endpoint for an engine's options. An explicit `dockerHost` that names the address the
 * environment resolves to (a child engine made from `engine.endpoint.url`) keeps that
 * endpoint's TLS material and source, so a context's certificates are not lost on the way.
 */
function endpointFor(options: EngineOptions): DockerEndpoint {
  const env = options.env ?? process.env;
  if (!options.dockerHost) return resolveDockerEndpoint(env);
  let fromEnv: DockerEndpoint | undefined;
  try {
    fromEnv = resolveDockerEndpoint(env);
  } catch {
    fromEnv = undefined;
  }
  if (fromEnv?.url === options.dockerHost) return fromEnv;
  return resolveDockerEndpoint({ ...env, DOCKER_HOST: options.dockerHost });
}

/** Docker's stop timeout when a container names none. */
export const DEFAULT_STOP_TIMEOUT_SECONDS = 10;

export class Engine {
  readonly endpoint: DockerEndpoint;
  private transport: Transport | undefined;
  private readonly interceptors: EngineInterceptor[] = [];
  private readonly observers = new Set<CallObserver>();

  constructor(options: EngineOptions = {}) {
    this.endpoint = endpointFor(options);
  }

  /** Prepares the transport now (it is otherwise made by the first call); no request is sent. */
  async connect(): Promise<void> {
    this.link();
  }

  /** Closes idle pooled connections (for an ssh endpoint, their ssh processes). */
  close(): void {
    this.transport?.close();
    this.transport = undefined;
  }

  private link(): Transport {
    this.transport ??= createTransport(this.endpoint);
    return this.transport;
  }

  /** Adds an interceptor; the first one added is the outermost. */
  use(interceptor: EngineInterceptor): this {
    this.interceptors.push(interceptor);
    return this;
  }

  /** Observes every dispatch to the daemon. Returns a function that stops observing. */
  observe(observer: CallObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /**
   * Runs one named engine operation through interceptors, observers and error classification.
   * `perform` sends the request(s) with the engine's own methods; there is no raw client.
   */
  async call<T>(
    operation: OperationName,
    perform: () => Promise<T>,
    context: { resource?: string; signal?: AbortSignal } = {},
  ): Promise<T> {
    const spec = OPERATIONS[operation];
    const call: EngineCall = { operation, class: spec.class, idempotent: spec.idempotent, ...context };
    const dispatch = async (): Promise<T> => {
      const startedAt = Date.now();
      const t0 = performance.now();
      try {
        const value = await perform();
        this.emit({
          operation,
          class: spec.class,
          resource: context.resource,
          startedAt,
          durationMs: performance.now() - t0,
          outcome: "ok",
        });
        return value;
      } catch (raw) {
        const error = classifyEngineError(raw, {
          operation,
          ...endpointContext(this.endpoint),
          resource: context.resource,
        });
        this.emit({
          operation,
          class: spec.class,
          resource: context.resource,
          startedAt,
          durationMs: performance.now() - t0,
          outcome: "error",
          errorCode: error.code,
          status: error.status,
        });
        throw error;
      }
    };
    let next: () => Promise<T> = dispatch;
    for (let i = this.interceptors.length - 1; i >= 0; i--) {
      const interceptor = this.interceptors[i]!;
      const inner = next;
      next = () => interceptor(call, inner);
    }
    return next();
  }

  private emit(record: CallRecord): void {
    for (const observer of this.observers) observer(record);
  }

  private json<T>(spec: RequestSpec): Promise<T> {
    return fetchJson<T>(this.link(), spec);
  }

  /** Sends the request, reads and drops the answer, and answers its status. */
  private async status(spec: RequestSpec): Promise<number> {
    return (await fetchBody(this.link(), spec)).status;
  }

  private stream(spec: RequestSpec): Promise<IncomingMessage> {
    return send(this.link(), spec);
  }

  // --- system ---------------------------------------------------------------------------------

  ping(signal?: AbortSignal): Promise<string> {
    return this.call(
      "system.ping",
      async () => (await fetchBody(this.link(), { method: "GET", path: "/_ping", signal })).body.toString(),
      { signal },
    );
  }

  /**
   * Pings over a new connection: fails once the daemon stops accepting connections (it is
   * shutting down or gone), even while it still answers on the connections it has.
   */
  pingFresh(signal?: AbortSignal): Promise<void> {
    return this.call(
      "system.ping",
      async () => {
        await fetchBody(this.link(), { method: "GET", path: "/_ping", signal, fresh: true });
      },
      { signal },
    );
  }

  version(): Promise<VersionInfo> {
    return this.call("system.version", () => this.json<VersionInfo>({ method: "GET", path: "/version" }));
  }

  info(): Promise<Record<string, unknown>> {
    return this.call("system.info", () =>
      this.json<Record<string, unknown>>({ method: "GET", path: "/info" }),
    );
  }

  /** Follows the daemon's event stream until `signal` aborts. */
  async *events(
    options: {
      filters?: Filters;
      since?: number;
      until?: number;
      signal?: AbortSignal;
      /** The open stream does not keep the process alive (default false). */
      unref?: boolean;
    } = {},
  ): AsyncGenerator<EngineEvent> {
    const { signal, unref, ...query } = options;
    const stream = await this.call(
      "system.events",
      () => this.stream({ method: "GET", path: "/events", query, signal }),
      { signal },
    );
    if (unref) stream.socket?.unref();
    const onAbort = () => stream.destroy();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      yield* jsonLines<EngineEvent>(stream);
    } catch (error) {
      if (!signal?.aborted)
        throw classifyEngineError(error, { operation: "system.events", ...endpointContext(this.endpoint) });
    } finally {
      signal?.removeEventListener("abort", onAbort);
      stream.destroy();
    }
  }

  // --- containers -----------------------------------------------------------------------------

  listContainers(options: { all?: boolean; filters?: Filters } = {}): Promise<ContainerSummary[]> {
    return this.call("container.list", () =>
      this.json<ContainerSummary[]>({
        method: "GET",
        path: "/containers/json",
        query: { all: options.all ?? true, filters: options.filters },
      }),
    );
  }

  inspectContainer(id: string, signal?: AbortSignal): Promise<ContainerInspect> {
    return this.call(
      "container.inspect",
      () => this.json<ContainerInspect>({ method: "GET", path: `/containers/${path(id)}/json`, signal }),
      { resource: id, signal },
    );
  }

  /** Inspects, answering `undefined` instead of throwing when the container does not exist. */
  async findContainer(id: string, signal?: AbortSignal): Promise<ContainerInspect | undefined> {
    try {
      return await this.inspectContainer(id, signal);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  /**
   * Creates a container. Its stop timeout is always explicit (Docker's default of 10 s when the
   * spec has none): Podman's compat API records an absent one as 0, and then stops by killing.
   */
  /**
   * Creates a container. `recovered` is set when the guard answered a create whose connection
   * broke by finding a container of that name created since the call began.
   */
  createContainer(
    spec: ContainerCreateSpec,
    signal?: AbortSignal,
  ): Promise<{ id: string; recovered?: boolean }> {
    const { name, platform, ...body } = { StopTimeout: DEFAULT_STOP_TIMEOUT_SECONDS, ...spec };
    return this.call(
      "container.create",
      async () => {
        const created = await this.json<{ Id: string }>({
          method: "POST",
          path: "/containers/create",
          query: { name, platform },
          body,
          signal,
        });
        return { id: created.Id };
      },
      { resource: name ?? spec.Image, signal },
    );
  }

  startContainer(id: string, signal?: AbortSignal): Promise<void> {
    // 304: already started, which is what was asked.
    return this.call(
      "container.start",
      async () => void (await this.status({ method: "POST", path: `/containers/${path(id)}/start`, signal })),
      { resource: id, signal },
    );
  }

  /**
   * Stops with the container's own stop signal; the daemon escalates to SIGKILL after
   * `timeoutSeconds`. Answers whether the container was already stopped (HTTP 304).
   */
  stopContainer(
    id: string,
    timeoutSeconds: number,
    signal?: AbortSignal,
  ): Promise<{ alreadyStopped: boolean }> {
    return this.call(
      "container.stop",
      async () => {
        const status = await this.status({
          method: "POST",
          path: `/containers/${path(id)}/stop`,
          query: { t: timeoutSeconds },
          signal,
        });
        return { alreadyStopped: status === 304 };
      },
      { resource: id, signal },
    );
  }

  /**
   * Runs the container's healthcheck once, now, through Podman's own API, and answers that
   * probe's result. Podman schedules healthchecks with systemd timers; without systemd they never
   * run unless someone asks. Docker has no such call (its daemon runs them itself).
   */
  runHealthcheck(id: string, signal?: AbortSignal): Promise<{ status: string }> {
    return this.call(
      "container.healthcheck",
      async () => {
        const answer = await this.json<{ Status?: unknown }>({
          method: "GET",
          path: `/v4.0.0/libpod/containers/${path(id)}/healthcheck`,
          signal,
        });
        return { status: typeof answer?.Status === "string" ? answer.Status : "unknown" };
      },
      { resource: id, signal },
    );
  }

  killContainer(id: string, killSignal = "SIGKILL"): Promise<void> {
    return this.call(
      "container.kill",
      async () =>
        void (await this.status({
          method: "POST",
          path: `/containers/${path(id)}/kill`,
          query: { signal: killSignal },
        })),
      { resource: id },
    );
  }

  /** Removes a stopped container. There is deliberately no way to pass `force` here. */
  removeContainer(id: string, options: { volumes: boolean; signal?: AbortSignal }): Promise<void> {
    return this.call(
      "container.remove",
      async () =>
        void (await this.status({
          method: "DELETE",
          path: `/containers/${path(id)}`,
          query: { v: options.volumes, force: false },
          signal: options.signal,
        })),
      { resource: id, signal: options.signal },
    );
  }

  updateContainer(id: string, body: Record<string, unknown>): Promise<void> {
    return this.call(
      "container.update",
      async () => void (await this.status({ method: "POST", path: `/containers/${path(id)}/update`, body })),
      { resource: id },
    );
  }

  /** Blocks until the container reaches `condition`; answers its exit code. */
  waitContainer(
    id: string,
    condition: "not-running" | "next-exit" | "removed",
    signal?: AbortSignal,
  ): Promise<{ StatusCode: number }> {
    return this.call(
      "container.wait",
      () =>
        this.json<{ StatusCode: number }>({
          method: "POST",
          path: `/containers/${path(id)}/wait`,
          query: { condition },
          signal,
        }),
      { resource: id, signal },
    );
  }

  private logsQuery(options: ContainerLogOptions, follow: boolean): Record<string, unknown> {
    return {
      stdout: true,
      stderr: true,
      follow,
      tail: options.tail ?? "all",
      since: options.since,
      timestamps: options.timestamps,
    };
  }

  /** The container's output so far (stdout and stderr interleaved per stream), demultiplexed. */
  async containerLogs(
    id: string,
    options: ContainerLogOptions = {},
  ): Promise<{ stdout: string; stderr: string }> {
    const { body } = await this.call(
      "container.logs",
      () =>
        fetchBody(this.link(), {
          method: "GET",
          path: `/containers/${path(id)}/logs`,
          query: this.logsQuery(options, false),
          signal: options.signal,
        }),
      { resource: id, signal: options.signal },
    );
    const info = await this.findContainer(id);
    if (info?.Config.Tty) return { stdout: body.toString("utf8"), stderr: "" };
    return demuxDockerStream(body);
  }

  /** Follows the container's output as demultiplexed text until it ends or `signal` aborts. */
  async followLogs(
    id: string,
    options: { tail?: number | "all"; since?: number; timestamps?: boolean; signal?: AbortSignal } = {},
  ): Promise<Readable> {
    const raw = await this.call(
      "container.logs-follow",
      () =>
        this.stream({
          method: "GET",
          path: `/containers/${path(id)}/logs`,
          query: this.logsQuery(options, true),
          signal: options.signal,
        }),
      { resource: id, signal: options.signal },
    );
    const info = await this.findContainer(id);
    const out = info?.Config.Tty ? new PassThrough() : new FrameDecoder();
    raw.on("error", (error) => (options.signal?.aborted ? out.end() : out.destroy(error)));
    raw.pipe(out);
    out.on("close", () => raw.destroy());
    options.signal?.addEventListener("abort", () => out.end(), { once: true });
    return out;
  }

  /** Extracts a tar archive into the container at `path` (works on a created, not yet started one). */
  putArchive(id: string, path: string, archive: Buffer, signal?: AbortSignal): Promise<void> {
    return this.call(
      "container.put-archive",
      async () =>
        void (await this.status({
          method: "PUT",
          path: `/containers/${encodeURIComponent(id)}/archive`,
          query: { path },
          raw: archive,
          headers: { "Content-Type": "application/x-tar" },
          signal,
        })),
      { resource: id, signal },
    );
  }

  /**
   * One sample of the container's resource usage. `oneShot` (API 1.41+) answers after one
   * collection cycle instead of two, without CPU deltas; older daemons ignore it.
   */
  containerStats(
    id: string,
    options: { oneShot?: boolean; signal?: AbortSignal } = {},
  ): Promise<ContainerStats> {
    return this.call(
      "container.stats",
      () =>
        this.json<ContainerStats>({
          method: "GET",
          path: `/containers/${path(id)}/stats`,
          query: { stream: false, "one-shot": options.oneShot || undefined },
          signal: options.signal,
        }),
      { resource: id, signal: options.signal },
    );
  }

  /** The container's stats as the daemon streams them (about once a second) until `signal` aborts. */
  async *streamStats(id: string, signal?: AbortSignal): AsyncGenerator<ContainerStats> {
    const stream = await this.call(
      "container.stats-stream",
      () =>
        this.stream({
          method: "GET",
          path: `/containers/${path(id)}/stats`,
          query: { stream: true },
          signal,
        }),
      { resource: id, signal },
    );
    try {
      yield* jsonLines<ContainerStats>(stream);
    } catch (error) {
      if (!signal?.aborted)
        throw classifyEngineError(error, {
          operation: "container.stats-stream",
          ...endpointContext(this.endpoint),
          resource: id,
        });
    } finally {
      stream.destroy();
    }
  }

  /** Runs a command inside the container and collects its output and exit code. */
  async exec(
    id: string,
    cmd: string[],
    options: { env?: string[]; user?: string; workingDir?: string; signal?: AbortSignal } = {},
  ): Promise<ExecResult> {
    const { signal } = options;
    const created = await this.call(
      "container.exec-create",
      () =>
        this.json<{ Id: string }>({
          method: "POST",
          path: `/containers/${path(id)}/exec`,
          body: {
            Cmd: cmd,
            AttachStdout: true,
            AttachStderr: true,
            Env: options.env,
            User: options.user,
            WorkingDir: options.workingDir,
          },
          signal,
        }),
      { resource: id, signal },
    );
    const output = await this.call(
      "container.exec-start",
      async () => {
        const connection = await hijack(this.link(), {
          method: "POST",
          path: `/exec/${path(created.Id)}/start`,
          body: { Detach: false, Tty: false },
          signal,
        });
        // Nothing is written: stdin was not attached, and TLS has no half-close to say so.
        return readBody(connection);
      },
      { resource: id, signal },
    );
    const inspected = await this.call(
      "container.exec-inspect",
      () => this.json<ExecInspect>({ method: "GET", path: `/exec/${path(created.Id)}/json` }),
      { resource: id },
    );
    const { stdout, stderr } = demuxDockerStream(output);
    return { exitCode: inspected.ExitCode ?? -1, stdout, stderr };
  }

  /**
   * Starts a command in the container with its standard streams on one upgraded connection:
   * what is written to `stream` is the command's stdin (when `stdin`; ending it closes stdin),
   * and its output comes back raw with a `tty`, framed as `FrameDecoder` reads it without.
   * `resizeExec` sizes the terminal; `inspectExec` reads the exit code once the output ended.
   */
  async startExec(
    id: string,
    cmd: string[],
    options: ExecStartOptions = {},
  ): Promise<{ execId: string; stream: Duplex }> {
    const { signal } = options;
    const created = await this.call(
      "container.exec-create",
      () =>
        this.json<{ Id: string }>({
          method: "POST",
          path: `/containers/${path(id)}/exec`,
          body: {
            Cmd: cmd,
            AttachStdin: options.stdin ?? false,
            AttachStdout: true,
            AttachStderr: true,
            Tty: options.tty ?? false,
            Env: options.env,
            User: options.user,
            WorkingDir: options.workingDir,
          },
          signal,
        }),
      { resource: id, signal },
    );
    const stream = await this.call(
      "container.exec-start",
      async () =>
        (await hijack(this.link(), {
          method: "POST",
          path: `/exec/${path(created.Id)}/start`,
          body: { Detach: false, Tty: options.tty ?? false },
          signal,
        })) as Duplex,
      { resource: id, signal },
    );
    return { execId: created.Id, stream };
  }

  /** Sets the size of an exec's terminal (it must be running). */
  resizeExec(execId: string, size: { rows: number; columns: number }): Promise<void> {
    return this.call(
      "container.exec-resize",
      async () =>
        void (await this.status({
          method: "POST",
          path: `/exec/${path(execId)}/resize`,
          query: { h: size.rows, w: size.columns },
        })),
      { resource: execId },
    );
  }

  inspectExec(execId: string): Promise<ExecInspect> {
    return this.call(
      "container.exec-inspect",
      () => this.json<ExecInspect>({ method: "GET", path: `/exec/${path(execId)}/json` }),
      { resource: execId },
    );
  }

  /**
   * Attaches to the container: the raw, upgraded connection (stdin written to it; output framed
   * as `FrameDecoder` reads it unless the container has a TTY).
   */
  attach(id: string, options: AttachOptions = {}): Promise<Readable & NodeJS.WritableStream> {
    return this.call(
      "container.attach",
      async () =>
        (await hijack(this.link(), {
          method: "POST",
          path: `/containers/${path(id)}/attach`,
          query: {
            stream: true,
            stdin: options.stdin ?? false,
            stdout: options.stdout ?? true,
            stderr: options.stderr ?? true,
            logs: options.logs ?? false,
          },
          signal: options.signal,
        })) as Readable & NodeJS.WritableStream,
      { resource: id, signal: options.signal },
    );
  }

  // --- networks -------------------------------------------------------------------------------

  listNetworks(filters?: Filters): Promise<NetworkInspect[]> {
    return this.call("network.list", () =>
      this.json<NetworkInspect[]>({ method: "GET", path: "/networks", query: { filters } }),
    );
  }

  inspectNetwork(id: string): Promise<NetworkInspect> {
    return this.call(
      "network.inspect",
      () => this.json<NetworkInspect>({ method: "GET", path: `/networks/${path(id)}` }),
      { resource: id },
    );
  }

  createNetwork(spec: NetworkCreateSpec): Promise<{ id: string }> {
    return this.call(
      "network.create",
      async () => ({
        id: (await this.json<{ Id: string }>({ method: "POST", path: "/networks/create", body: spec })).Id,
      }),
      { resource: spec.Name },
    );
  }

  removeNetwork(id: string): Promise<void> {
    return this.call(
      "network.remove",
      async () => void (await this.status({ method: "DELETE", path: `/networks/${path(id)}` })),
      { resource: id },
    );
  }

  connectNetwork(network: string, container: string, aliases: string[] = []): Promise<void> {
    return this.call(
      "network.connect",
      async () =>
        void (await this.status({
          method: "POST",
          path: `/networks/${path(network)}/connect`,
          body: { Container: container, EndpointConfig: { Aliases: aliases } },
        })),
      { resource: `${container}@${network}` },
    );
  }

  disconnectNetwork(network: string, container: string): Promise<void> {
    return this.call(
      "network.disconnect",
      async () =>
        void (await this.status({
          method: "POST",
          path: `/networks/${path(network)}/disconnect`,
          body: { Container: container, Force: false },
        })),
      { resource: `${container}@${network}` },
    );
  }

  // --- volumes --------------------------------------------------------------------------------

  async listVolumes(filters?: Filters): Promise<VolumeInspect[]> {
    const result = await this.call("volume.list", () =>
      this.json<{ Volumes: VolumeInspect[] | null }>({ method: "GET", path: "/volumes", query: { filters } }),
    );
    return result.Volumes ?? [];
  }

  inspectVolume(name: string): Promise<VolumeInspect> {
    return this.call(
      "volume.inspect",
      () => this.json<VolumeInspect>({ method: "GET", path: `/volumes/${path(name)}` }),
      { resource: name },
    );
  }

  createVolume(spec: VolumeCreateSpec): Promise<{ name: string }> {
    return this.call(
      "volume.create",
      async () => {
        const created = await this.json<{ Name?: string }>({
          method: "POST",
          path: "/volumes/create",
          body: spec,
        });
        return { name: created.Name ?? spec.Name ?? "" };
      },
      { resource: spec.Name },
    );
  }

  removeVolume(name: string): Promise<void> {
    return this.call(
      "volume.remove",
      async () => void (await this.status({ method: "DELETE", path: `/volumes/${path(name)}` })),
      { resource: name },
    );
  }

  // --- images ---------------------------------------------------------------------------------

  listImages(filters?: Filters): Promise<ImageSummary[]> {
    return this.call("image.list", () =>
      this.json<ImageSummary[]>({ method: "GET", path: "/images/json", query: { filters } }),
    );
  }

  inspectImage(ref: string): Promise<ImageInspect> {
    return this.call(
      "image.inspect",
      () => this.json<ImageInspect>({ method: "GET", path: `/images/${path(ref)}/json` }),
      { resource: ref },
    );
  }

  async findImage(ref: string): Promise<ImageInspect | undefined> {
    try {
      return await this.inspectImage(ref);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  removeImage(ref: string): Promise<void> {
    return this.call(
      "image.remove",
      async () => void (await this.status({ method: "DELETE", path: `/images/${path(ref)}` })),
      { resource: ref },
    );
  }

  /**
   * Pulls an image and follows the daemon's progress stream to its end. An error the daemon
   * reports inside the stream (after answering 200) is an PullStreamError with its message.
   */
  pullImage(ref: string, options: PullOptions = {}): Promise<void> {
    const { signal } = options;
    return this.call(
      "image.pull",
      async () => {
        const stream = await this.stream({
          method: "POST",
          path: "/images/create",
          query: pullQuery(ref),
          headers: options.auth ? { "X-Registry-Auth": options.auth } : {},
          signal,
        });
        for await (const event of jsonLines<PullProgressEvent>(stream)) {
          options.onProgress?.(event);
          if (event.error || event.errorDetail?.message) {
            stream.destroy();
            const message = event.errorDetail?.message ?? event.error ?? "unknown error";
            throw new PullStreamError(`Pulling ${ref} failed: ${message}`, {
              operation: "image.pull",
              resource: ref,
              apiMessage: message,
              errorDetail: event.errorDetail,
            });
          }
        }
      },
      { resource: ref, signal },
    );
  }

  /** Imports a root filesystem tar stream as an image (`docker import`). */
  importImage(tar: Readable, options: ImportOptions): Promise<void> {
    const ref = `${options.repo}:${options.tag ?? "latest"}`;
    return this.call(
      "image.import",
      async () => {
        const stream = await this.stream({
          method: "POST",
          path: "/images/create",
          query: { fromSrc: "-", repo: options.repo, tag: options.tag, changes: options.changes },
          headers: { "Content-Type": "application/x-tar" },
          stream: tar,
          signal: options.signal,
        });
        for await (const event of jsonLines<PullProgressEvent>(stream)) {
          const message = event.errorDetail?.message ?? event.error;
          if (message)
            throw new EngineError(`Importing ${ref} failed: ${message}`, {
              operation: "image.import",
              resource: ref,
              apiMessage: message,
            });
        }
      },
      { resource: ref, signal: options.signal },
    );
  }

  /**
   * Builds an image from a directory (the files listed in `files`, relative to `dir`, sent
   * exactly as given: berth applied .dockerignore already) and follows the build to its end. A
   * failed step is a BuildFailedError with the build's output.
   */
  buildImage(
    context: { dir: string; files: string[]; extras?: TarExtra[] },
    options: BuildOptions,
  ): Promise<{ imageId: string; log: string }> {
    return this.call(
      "image.build",
      async () => {
        const stream = await this.stream({
          method: "POST",
          path: "/build",
          query: buildQuery(options),
          headers: { "Content-Type": "application/x-tar" },
          stream: tarFiles(context.dir, context.files, context.extras),
          signal: options.signal,
        });
        const lines: string[] = [];
        let failure: string | undefined;
        let imageId = "";
        for await (const event of jsonLines<BuildProgressEvent>(stream)) {
          if (event.stream) lines.push(event.stream);
          if (event.error) failure = event.errorDetail?.message ?? event.error;
          if (event.aux?.ID) imageId = event.aux.ID;
        }
        const log = lines.join("");
        if (failure) {
          throw new BuildFailedError(
            `Building ${options.tag} failed: ${failure.trim()}`,
            log.split("\n").slice(-50).join("\n"),
            { operation: "image.build", resource: options.tag },
          );
        }
        return { imageId, log };
      },
      { resource: options.tag, signal: options.signal },
    );
  }
}
