// Containers: list, inspect, create, start, stop, kill, remove, update, wait, logs, archive, stats.
import { PassThrough, type Readable } from "node:stream";
import { classifyEngineError, endpointContext } from "./classify.js";
import { path } from "./core.js";
import { demuxDockerStream, FrameDecoder } from "./demux.js";
import { NotFoundError } from "./errors.js";
import { fetchBody, jsonLines, type RequestSpec } from "./http.js";
import { SystemApi } from "./system-api.js";
import type {
  ContainerCreateSpec,
  ContainerInspect,
  ContainerStats,
  ContainerSummary,
  Filters,
} from "./types.js";

export interface ContainerLogOptions {
  tail?: number | "all";
  since?: number;
  timestamps?: boolean;
  signal?: AbortSignal;
}

/** Docker's stop timeout when a container names none. */
export const DEFAULT_STOP_TIMEOUT_SECONDS = 10;

export class ContainerApi extends SystemApi {
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
   * `recovered` is set when the guard answered a create whose connection broke by finding a
   * container of that name created since the call began.
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
    const request: RequestSpec = {
      method: "POST",
      path: `/containers/${path(id)}/kill`,
      query: { signal: killSignal },
    };
    return this.callStatus("container.kill", request, { resource: id });
  }

  /** Removes a stopped container. There is deliberately no way to pass `force` here. */
  removeContainer(id: string, options: { volumes: boolean; signal?: AbortSignal }): Promise<void> {
    const { signal } = options;
    const request: RequestSpec = {
      method: "DELETE",
      path: `/containers/${path(id)}`,
      query: { v: options.volumes, force: false },
      signal,
    };
    return this.callStatus("container.remove", request, { resource: id, signal });
  }

  updateContainer(id: string, body: Record<string, unknown>): Promise<void> {
    return this.callStatus(
      "container.update",
      { method: "POST", path: `/containers/${path(id)}/update`, body },
      { resource: id },
    );
  }

  /** Blocks until the container reaches `condition`; answers its exit code. */
  waitContainer(
    id: string,
    condition: "not-running" | "next-exit" | "removed",
    signal?: AbortSignal,
  ): Promise<{ StatusCode: number }> {
    const request: RequestSpec = {
      method: "POST",
      path: `/containers/${path(id)}/wait`,
      query: { condition },
      signal,
    };
    return this.callJson("container.wait", request, { resource: id, signal });
  }

  private logsRequest(id: string, options: ContainerLogOptions, follow: boolean): RequestSpec {
    const { tail = "all", since, timestamps, signal } = options;
    const query = { stdout: true, stderr: true, follow, tail, since, timestamps };
    return { method: "GET", path: `/containers/${path(id)}/logs`, query, signal };
  }

  /** The container's output so far (stdout and stderr interleaved per stream), demultiplexed. */
  async containerLogs(
    id: string,
    options: ContainerLogOptions = {},
  ): Promise<{ stdout: string; stderr: string }> {
    const request = this.logsRequest(id, options, false);
    const { body } = await this.call("container.logs", () => fetchBody(this.link(), request), {
      resource: id,
      signal: options.signal,
    });
    const info = await this.findContainer(id);
    if (info?.Config.Tty) return { stdout: body.toString("utf8"), stderr: "" };
    return demuxDockerStream(body);
  }

  /** Follows the container's output as demultiplexed text until it ends or `signal` aborts. */
  async followLogs(
    id: string,
    options: { tail?: number | "all"; since?: number; timestamps?: boolean; signal?: AbortSignal } = {},
  ): Promise<Readable> {
    const request = this.logsRequest(id, options, true);
    const raw = await this.call("container.logs-follow", () => this.stream(request), {
      resource: id,
      signal: options.signal,
    });
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
}
