// The engine gateway: the only code in berth that talks to the Docker Engine API. Every call is
// named from the operation catalogue, passes the interceptors (the guard installs its limiter and
// retries there), is observed (operation, class, duration, outcome) and fails with a typed error.
import { PassThrough, type Readable } from "node:stream";
import type Docker from "dockerode";
import { classifyEngineError } from "./classify.js";
import { type DockerEndpoint, type DockerEnv, resolveDockerEndpoint } from "./docker-host.js";
import { BuildFailedError, EngineError, NotFoundError, TransientError } from "./errors.js";
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

export interface PullOptions {
  /** The X-Registry-Auth header value (base64url JSON of the registry credentials). */
  auth?: string;
  /** Each line of the daemon's pull stream, as it arrives. */
  onProgress?: (event: PullEvent) => void;
  signal?: AbortSignal;
}

/** One line of the daemon's pull stream. */
export interface PullEvent {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
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
  if (endpoint.kind === "unix") return new Docker({ socketPath: endpoint.socketPath });
  return new Docker({
    host: endpoint.host,
    port: endpoint.port,
    protocol: endpoint.protocol,
    ...(endpoint.tls ? { ca: endpoint.tls.ca, cert: endpoint.tls.cert, key: endpoint.tls.key } : {}),
  });
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

export class Engine {
  readonly endpoint: DockerEndpoint;
  private docker: Promise<Docker> | undefined;
  private readonly interceptors: EngineInterceptor[] = [];
  private readonly observers = new Set<CallObserver>();

  constructor(options: EngineOptions = {}) {
    const env = options.dockerHost
      ? { ...(options.env ?? process.env), DOCKER_HOST: options.dockerHost }
      : options.env;
    this.endpoint = resolveDockerEndpoint(env ?? process.env);
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
          endpoint: this.endpoint.url,
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
        throw classifyEngineError(error, { operation: "system.events", endpoint: this.endpoint.url });
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

  createContainer(spec: Docker.ContainerCreateOptions, signal?: AbortSignal): Promise<{ id: string }> {
    return this.call(
      "container.create",
      async (d) => ({
        id: (await d.createContainer({ ...spec, abortSignal: signal } as Docker.ContainerCreateOptions)).id,
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

  /**
   * Pulls an image and follows the pull to its end. An error object in the pull stream (the
   * registry failed after the pull began) is an EngineError carrying the daemon's message; a
   * stream that ends without the daemon's final status is a TransientError (retried by the guard).
   */
  pullImage(ref: string, options: PullOptions = {}): Promise<void> {
    return this.call(
      "image.pull",
      async (d) => {
        const stream = (await d
          .pull(ref, {
            abortSignal: options.signal,
            ...(options.auth ? { authconfig: { key: options.auth } } : {}),
          })
          .catch((error: { statusCode?: number; json?: unknown; message?: string }) => {
            // dockerode keeps a streamed call's error body only in its message text.
            const said = /^\(HTTP code \d+\) [^-]* - ([\s\S]*?)\s*$/.exec(error.message ?? "")?.[1];
            if (error.statusCode && !error.json && said) error.json = { message: said };
            throw error;
          })) as Readable;
        let pending = "";
        let failure: string | undefined;
        let finished = false;
        const take = (line: string) => {
          let event: PullEvent;
          try {
            event = JSON.parse(line) as PullEvent;
          } catch {
            return; // empty, or the cut-off last line of a truncated stream
          }
          const error = event.error ?? event.errorDetail?.message;
          if (error) failure ??= error;
          if (event.status?.startsWith("Status:")) finished = true;
          options.onProgress?.(event);
        };
        for await (const chunk of stream) {
          pending += chunk.toString("utf8");
          let newline = pending.indexOf("\n");
          while (newline >= 0) {
            take(pending.slice(0, newline));
            pending = pending.slice(newline + 1);
            newline = pending.indexOf("\n");
          }
        }
        take(pending);
        const details = { operation: "image.pull", resource: ref };
        if (failure)
          throw new EngineError(`image.pull ${ref}: ${failure}`, { ...details, apiMessage: failure });
        if (!finished) {
          throw new TransientError(
            `image.pull ${ref}: the pull stream ended early (no final status)`,
            details,
          );
        }
      },
      { resource: ref, signal: options.signal },
    );
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
