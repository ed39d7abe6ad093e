// The engine gateway: the only code in berth that talks to the Docker Engine API. Every call is
// named from the operation catalogue, passes the interceptors (the guard installs its limiter and
// retries there), is observed (operation, class, duration, outcome) and fails with a typed error.
import { PassThrough, type Readable } from "node:stream";
import type Docker from "dockerode";
import { classifyEngineError, endpointContext } from "./classify.js";
import {
  type DockerEndpoint,
  type DockerEnv,
  describeEndpoint,
  resolveDockerEndpoint,
} from "./docker-host.js";
import { BuildFailedError, ConfigError, NotFoundError } from "./errors.js";
import { OPERATIONS, type OperationClass, type OperationName } from "./operations.js";

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

export interface BuildOptions {
  tag: string;
  labels?: Record<string, string>;
  dockerfile?: string;
  buildargs?: Record<string, string>;
  target?: string;
  signal?: AbortSignal;
}

export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  time: number;
  timeNano: number;
}

/**
 * dockerode (with its gRPC and SSH dependencies) takes about half a second to import, more than
 * the rest of the CLI together: it is loaded on the first engine call, not at start-up, so
 * `berth --help`, `berth lint` and `berth config` never pay for it.
 */
async function createClient(endpoint: DockerEndpoint): Promise<Docker> {
  const { default: Docker } = await import("dockerode");
  if (endpoint.kind === "ssh") {
    throw new ConfigError(
      `${describeEndpoint(endpoint)}: berth cannot reach ssh:// endpoints with this client yet`,
      { resource: endpoint.url, hint: "Forward the remote socket (ssh -L) and point DOCKER_HOST at it." },
    );
  }
  const docker =
    endpoint.kind === "unix"
      ? new Docker({ socketPath: endpoint.socketPath })
      : new Docker({
          host: endpoint.host,
          port: endpoint.port,
          protocol: endpoint.protocol,
          ...(endpoint.tls ? { ca: endpoint.tls.ca, cert: endpoint.tls.cert, key: endpoint.tls.key } : {}),
        });
  const modem = docker.modem as unknown as { buildQuerystring(opts: Record<string, unknown>): string };
  const buildQuerystring = modem.buildQuerystring.bind(modem);
  modem.buildQuerystring = (opts) => buildQuerystring(queryParameters(opts));
  return docker;
}

/**
 * The parameters a request's query carries: only those that are set. dockerode sends an unset
 * option as an empty one (`filters=`, `since=`, `buildargs=`), which Docker ignores but Podman's
 * compat API parses and refuses with HTTP 400; and the abort signal is not a parameter at all.
 */
export function queryParameters(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(options).filter(([key, value]) => value !== undefined && key !== "abortSignal"),
  );
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks);
}

/** Splits Docker's multiplexed stdout/stderr framing (used when a container has no TTY). */
export function demuxDockerStream(buffer: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let offset = 0;
  const framed =
    buffer.length >= 8 && buffer[0]! <= 2 && buffer[1] === 0 && buffer[2] === 0 && buffer[3] === 0;
  if (!framed) return { stdout: buffer.toString("utf8"), stderr: "" };
  while (offset + 8 <= buffer.length) {
    const kind = buffer[offset]!;
    const size = buffer.readUInt32BE(offset + 4);
    const payload = buffer.subarray(offset + 8, offset + 8 + size);
    (kind === 2 ? err : out).push(payload);
    offset += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}

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
  private docker: Promise<Docker> | undefined;
  private readonly interceptors: EngineInterceptor[] = [];
  private readonly observers = new Set<CallObserver>();

  constructor(options: EngineOptions = {}) {
    this.endpoint = endpointFor(options);
  }

  /** Loads the client now (it is otherwise loaded by the first call); no request is sent. */
  async connect(): Promise<void> {
    await this.client();
  }

  /** The dockerode client, created (and dockerode imported) on first use. */
  private client(): Promise<Docker> {
    this.docker ??= createClient(this.endpoint);
    return this.docker;
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

  /** Runs one named engine operation through interceptors, observers and error classification. */
  async call<T>(
    operation: OperationName,
    perform: (docker: Docker) => Promise<T>,
    context: { resource?: string; signal?: AbortSignal } = {},
  ): Promise<T> {
    const spec = OPERATIONS[operation];
    const call: EngineCall = { operation, class: spec.class, idempotent: spec.idempotent, ...context };
    const dispatch = async (): Promise<T> => {
      // The client first: its one-time import is not the daemon's latency.
      const docker = await this.client();
      const startedAt = Date.now();
      const t0 = performance.now();
      try {
        const value = await perform(docker);
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

  // --- system ---------------------------------------------------------------------------------

  ping(signal?: AbortSignal): Promise<string> {
    return this.call(
      "system.ping",
      async (d) => String(await (d.ping as (o: object) => Promise<unknown>).call(d, { abortSignal: signal })),
      { signal },
    );
  }

  version(): Promise<Docker.DockerVersion> {
    return this.call("system.version", (d) => d.version());
  }

  info(): Promise<Record<string, unknown>> {
    return this.call("system.info", (d) => d.info() as Promise<Record<string, unknown>>);
  }

  /** Follows the daemon's event stream until `signal` aborts. */
  async *events(
    options: {
      filters?: Record<string, string[]>;
      since?: number;
      until?: number;
      signal?: AbortSignal;
      /** The open stream does not keep the process alive (default false). */
      unref?: boolean;
    } = {},
  ): AsyncGenerator<EngineEvent> {
    const { signal, unref, ...query } = options;
    const stream = (await this.call(
      "system.events",
      (d) =>
        d.getEvents({
          ...query,
          filters: query.filters ? JSON.stringify(query.filters) : undefined,
          abortSignal: signal,
        } as Docker.GetEventsOptions) as Promise<NodeJS.ReadableStream>,
      { signal },
    )) as Readable;
    if (unref) (stream as Readable & { socket?: { unref?: () => void } }).socket?.unref?.();
    const onAbort = () => stream.destroy();
    signal?.addEventListener("abort", onAbort, { once: true });
    let pending = "";
    try {
      for await (const chunk of stream) {
        pending += chunk.toString("utf8");
        let newline = pending.indexOf("\n");
        while (newline >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line) yield JSON.parse(line) as EngineEvent;
          newline = pending.indexOf("\n");
        }
      }
    } catch (error) {
      if (!signal?.aborted)
        throw classifyEngineError(error, { operation: "system.events", ...endpointContext(this.endpoint) });
    } finally {
      signal?.removeEventListener("abort", onAbort);
      stream.destroy();
    }
  }

  // --- containers -----------------------------------------------------------------------------

  listContainers(
    options: { all?: boolean; filters?: Record<string, string[]> } = {},
  ): Promise<Docker.ContainerInfo[]> {
    return this.call("container.list", (d) =>
      d.listContainers({ all: options.all ?? true, filters: options.filters }),
    );
  }

  inspectContainer(id: string, signal?: AbortSignal): Promise<Docker.ContainerInspectInfo> {
    return this.call("container.inspect", (d) => d.getContainer(id).inspect({ abortSignal: signal }), {
      resource: id,
      signal,
    });
  }

  /** Inspects, answering `undefined` instead of throwing when the container does not exist. */
  async findContainer(id: string, signal?: AbortSignal): Promise<Docker.ContainerInspectInfo | undefined> {
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
  createContainer(spec: Docker.ContainerCreateOptions, signal?: AbortSignal): Promise<{ id: string }> {
    const full = { StopTimeout: DEFAULT_STOP_TIMEOUT_SECONDS, ...spec, abortSignal: signal };
    return this.call(
      "container.create",
      async (d) => ({
        id: (await d.createContainer(full as Docker.ContainerCreateOptions)).id,
      }),
      { resource: spec.name ?? spec.Image, signal },
    );
  }

  startContainer(id: string, signal?: AbortSignal): Promise<void> {
    return this.call(
      "container.start",
      async (d) => {
        try {
          await d.getContainer(id).start({ abortSignal: signal });
        } catch (error) {
          if ((error as { statusCode?: number }).statusCode !== 304) throw error;
        }
      },
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
      async (d) => {
        try {
          await d.getContainer(id).stop({ t: timeoutSeconds, abortSignal: signal });
          return { alreadyStopped: false };
        } catch (error) {
          if ((error as { statusCode?: number }).statusCode === 304) return { alreadyStopped: true };
          throw error;
        }
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
      (d) =>
        new Promise<{ status: string }>((resolve, reject) => {
          d.modem.dial(
            {
              path: `/v4.0.0/libpod/containers/${encodeURIComponent(id)}/healthcheck?`,
              method: "GET",
              abortSignal: signal,
              statusCodes: {
                200: true,
                404: "no such container",
                409: "the container has no healthcheck or is not running",
                500: "server error",
              },
            } as never,
            (error: unknown, answer: unknown) => {
              if (error) return reject(error);
              const status = (answer as { Status?: unknown } | undefined)?.Status;
              resolve({ status: typeof status === "string" ? status : "unknown" });
            },
          );
        }),
      { resource: id, signal },
    );
  }

  killContainer(id: string, killSignal = "SIGKILL"): Promise<void> {
    return this.call(
      "container.kill",
      async (d) => void (await d.getContainer(id).kill({ signal: killSignal })),
      { resource: id },
    );
  }

  /** Removes a stopped container. There is deliberately no way to pass `force` here. */
  removeContainer(id: string, options: { volumes: boolean; signal?: AbortSignal }): Promise<void> {
    return this.call(
      "container.remove",
      async (d) =>
        void (await d
          .getContainer(id)
          .remove({ v: options.volumes, force: false, abortSignal: options.signal })),
      { resource: id, signal: options.signal },
    );
  }

  updateContainer(id: string, body: Record<string, unknown>): Promise<void> {
    return this.call("container.update", async (d) => void (await d.getContainer(id).update(body)), {
      resource: id,
    });
  }

  /** Blocks until the container reaches `condition`; answers its exit code. */
  waitContainer(
    id: string,
    condition: "not-running" | "next-exit" | "removed",
    signal?: AbortSignal,
  ): Promise<{ StatusCode: number }> {
    return this.call(
      "container.wait",
      (d) => d.getContainer(id).wait({ condition, abortSignal: signal }) as Promise<{ StatusCode: number }>,
      { resource: id, signal },
    );
  }

  /** The container's output so far (stdout and stderr interleaved per stream), demultiplexed. */
  async containerLogs(
    id: string,
    options: ContainerLogOptions = {},
  ): Promise<{ stdout: string; stderr: string }> {
    const buffer = await this.call(
      "container.logs",
      async (d) => {
        const result = (await d.getContainer(id).logs({
          stdout: true,
          stderr: true,
          follow: false,
          tail: options.tail ?? "all",
          since: options.since,
          timestamps: options.timestamps,
          abortSignal: options.signal,
        } as Docker.ContainerLogsOptions & { follow: false })) as unknown;
        return Buffer.isBuffer(result) ? result : readAll(result as NodeJS.ReadableStream);
      },
      { resource: id, signal: options.signal },
    );
    const info = await this.findContainer(id);
    if (info?.Config.Tty) return { stdout: buffer.toString("utf8"), stderr: "" };
    return demuxDockerStream(buffer);
  }

  /** Follows the container's output as demultiplexed text until it ends or `signal` aborts. */
  async followLogs(
    id: string,
    options: { tail?: number | "all"; since?: number; signal?: AbortSignal } = {},
  ): Promise<Readable> {
    const raw = (await this.call(
      "container.logs-follow",
      (d) =>
        d.getContainer(id).logs({
          stdout: true,
          stderr: true,
          follow: true,
          tail: options.tail ?? "all",
          since: options.since,
          abortSignal: options.signal,
        } as Docker.ContainerLogsOptions & { follow: true }) as Promise<NodeJS.ReadableStream>,
      { resource: id, signal: options.signal },
    )) as Readable;
    const info = await this.findContainer(id);
    if (info?.Config.Tty) return raw;
    const out = new PassThrough();
    (await this.client()).modem.demuxStream(raw, out, out);
    raw.on("end", () => out.end());
    raw.on("error", (error) => out.destroy(error));
    out.on("close", () => raw.destroy());
    options.signal?.addEventListener("abort", () => out.end(), { once: true });
    return out;
  }

  /** Extracts a tar archive into the container at `path` (works on a created, not yet started one). */
  putArchive(id: string, path: string, archive: Buffer, signal?: AbortSignal): Promise<void> {
    return this.call(
      "container.put-archive",
      async (d) =>
        void (await d.getContainer(id).putArchive(archive, { path, abortSignal: signal } as never)),
      { resource: id, signal },
    );
  }

  /** One sample of the container's resource usage. */
  containerStats(id: string): Promise<Docker.ContainerStats> {
    return this.call(
      "container.stats",
      (d) => d.getContainer(id).stats({ stream: false }) as Promise<Docker.ContainerStats>,
      { resource: id },
    );
  }

  /** Runs a command inside the container and collects its output and exit code. */
  async exec(
    id: string,
    cmd: string[],
    options: { env?: string[]; user?: string; workingDir?: string; signal?: AbortSignal } = {},
  ): Promise<ExecResult> {
    const exec = await this.call(
      "container.exec-create",
      (d) =>
        d.getContainer(id).exec({
          Cmd: cmd,
          AttachStdout: true,
          AttachStderr: true,
          Env: options.env,
          User: options.user,
          WorkingDir: options.workingDir,
          abortSignal: options.signal,
        } as Docker.ExecCreateOptions),
      { resource: id, signal: options.signal },
    );
    const output = await this.call(
      "container.exec-start",
      async () => readAll((await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadableStream),
      { resource: id, signal: options.signal },
    );
    const inspected = await this.call("container.exec-inspect", () => exec.inspect(), { resource: id });
    const { stdout, stderr } = demuxDockerStream(output);
    return { exitCode: inspected.ExitCode ?? -1, stdout, stderr };
  }

  // --- networks -------------------------------------------------------------------------------

  listNetworks(filters?: Record<string, string[]>): Promise<Docker.NetworkInspectInfo[]> {
    return this.call("network.list", (d) => d.listNetworks({ filters }));
  }

  inspectNetwork(id: string): Promise<Docker.NetworkInspectInfo> {
    return this.call("network.inspect", (d) => d.getNetwork(id).inspect(), { resource: id });
  }

  createNetwork(spec: Docker.NetworkCreateOptions): Promise<{ id: string }> {
    return this.call("network.create", async (d) => ({ id: (await d.createNetwork(spec)).id }), {
      resource: spec.Name,
    });
  }

  removeNetwork(id: string): Promise<void> {
    return this.call("network.remove", async (d) => void (await d.getNetwork(id).remove()), { resource: id });
  }

  connectNetwork(network: string, container: string, aliases: string[] = []): Promise<void> {
    return this.call(
      "network.connect",
      async (d) =>
        void (await d
          .getNetwork(network)
          .connect({ Container: container, EndpointConfig: { Aliases: aliases } })),
      { resource: `${container}@${network}` },
    );
  }

  disconnectNetwork(network: string, container: string): Promise<void> {
    return this.call(
      "network.disconnect",
      async (d) => void (await d.getNetwork(network).disconnect({ Container: container, Force: false })),
      { resource: `${container}@${network}` },
    );
  }

  // --- volumes --------------------------------------------------------------------------------

  async listVolumes(filters?: Record<string, string[]>): Promise<Docker.VolumeInspectInfo[]> {
    const result = await this.call("volume.list", (d) => d.listVolumes({ filters }));
    return result.Volumes ?? [];
  }

  inspectVolume(name: string): Promise<Docker.VolumeInspectInfo> {
    return this.call("volume.inspect", (d) => d.getVolume(name).inspect(), { resource: name });
  }

  createVolume(spec: {
    Name?: string;
    Labels?: Record<string, string>;
    Driver?: string;
    DriverOpts?: Record<string, string>;
  }): Promise<{ name: string }> {
    return this.call(
      "volume.create",
      async (d) => {
        const created = (await d.createVolume(spec as Docker.VolumeCreateOptions)) as unknown as {
          Name?: string;
          name?: string;
        };
        return { name: created.Name ?? created.name ?? spec.Name ?? "" };
      },
      { resource: spec.Name },
    );
  }

  removeVolume(name: string): Promise<void> {
    return this.call("volume.remove", async (d) => void (await d.getVolume(name).remove()), {
      resource: name,
    });
  }

  // --- images ---------------------------------------------------------------------------------

  listImages(filters?: Record<string, string[]>): Promise<Docker.ImageInfo[]> {
    return this.call("image.list", (d) => d.listImages({ filters }));
  }

  inspectImage(ref: string): Promise<Docker.ImageInspectInfo> {
    return this.call("image.inspect", (d) => d.getImage(ref).inspect(), { resource: ref });
  }

  async findImage(ref: string): Promise<Docker.ImageInspectInfo | undefined> {
    try {
      return await this.inspectImage(ref);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  removeImage(ref: string): Promise<void> {
    return this.call("image.remove", async (d) => void (await d.getImage(ref).remove()), { resource: ref });
  }

  /**
   * Builds an image from a directory (the files listed in `files`, relative to `dir`) and
   * follows the build to its end. A failed step is a BuildFailedError with the build's output.
   */
  buildImage(
    context: { dir: string; files: string[] },
    options: BuildOptions,
  ): Promise<{ imageId: string; log: string }> {
    return this.call(
      "image.build",
      async (d) => {
        const stream = await d.buildImage({ context: context.dir, src: context.files }, {
          t: options.tag,
          labels: options.labels,
          dockerfile: options.dockerfile,
          buildargs: options.buildargs,
          target: options.target,
          rm: true,
          forcerm: true,
          abortSignal: options.signal,
        } as Docker.ImageBuildOptions);
        const lines: string[] = [];
        let failure: string | undefined;
        let imageId = "";
        await new Promise<void>((resolve, reject) => {
          d.modem.followProgress(
            stream,
            (error: Error | null) => (error ? reject(error) : resolve()),
            (event: { stream?: string; error?: string; aux?: { ID?: string } }) => {
              if (event.stream) lines.push(event.stream);
              if (event.error) failure = event.error;
              if (event.aux?.ID) imageId = event.aux.ID;
            },
          );
        });
        const log = lines.join("");
        if (failure) {
          throw new BuildFailedError(
            `Building ${options.tag} failed: ${failure.trim()}`,
            log.split("\n").slice(-50).join("\n"),
            {
              operation: "image.build",
              resource: options.tag,
            },
          );
        }
        return { imageId, log };
      },
      { resource: options.tag, signal: options.signal },
    );
  }
}
