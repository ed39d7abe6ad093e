// Images: list, inspect, remove, pull with progress, import a root filesystem, build.
import type { Readable } from "node:stream";
import { path } from "./core.js";
import { BuildFailedError, EngineError, NotFoundError, PullStreamError } from "./errors.js";
import { jsonLines, type RequestSpec } from "./http.js";
import { NetworkApi } from "./network-api.js";
import { type TarExtra, tarFiles } from "./tar.js";
import type { BuildProgressEvent, Filters, ImageInspect, ImageSummary, PullProgressEvent } from "./types.js";

/** The build settings a Compose file and the build API share. */
export interface BuildFlags {
  labels?: Record<string, string>;
  shmSizeBytes?: number;
  /** `HOST:ADDRESS` entries for RUN steps' /etc/hosts. */
  extraHosts?: string[];
  ulimits?: Record<string, { soft: number; hard: number }>;
  /** Build without the daemon's layer cache. */
  noCache?: boolean;
  /** Pull newer versions of the base images. */
  pull?: boolean;
  platform?: string;
}

export interface BuildOptions extends BuildFlags {
  tag: string;
  /** More names for the image. */
  extraTags?: string[];
  dockerfile?: string;
  buildargs?: Record<string, string>;
  target?: string;
  /** The network of RUN steps: `default`, `host`, `none` (or a network's name). */
  networkMode?: string;
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

export class ImageApi extends NetworkApi {
  listImages(filters?: Filters): Promise<ImageSummary[]> {
    return this.callJson("image.list", { method: "GET", path: "/images/json", query: { filters } });
  }

  inspectImage(ref: string): Promise<ImageInspect> {
    return this.callGet("image.inspect", `/images/${path(ref)}/json`, ref);
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
    return this.callDelete("image.remove", `/images/${path(ref)}`, ref);
  }

  /**
   * Pulls an image and follows the daemon's progress stream to its end. An error the daemon
   * reports inside the stream (after answering 200) is an PullStreamError with its message.
   */
  pullImage(ref: string, options: PullOptions = {}): Promise<void> {
    const request: RequestSpec = {
      method: "POST",
      path: "/images/create",
      query: pullQuery(ref),
      headers: options.auth ? { "X-Registry-Auth": options.auth } : {},
      signal: options.signal,
    };
    return this.callStream("image.pull", request, ref, async (stream) => {
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
    });
  }

  /** Imports a root filesystem tar stream as an image (`docker import`). */
  importImage(tar: Readable, options: ImportOptions): Promise<void> {
    const ref = `${options.repo}:${options.tag ?? "latest"}`;
    const request: RequestSpec = {
      method: "POST",
      path: "/images/create",
      query: { fromSrc: "-", repo: options.repo, tag: options.tag, changes: options.changes },
      headers: { "Content-Type": "application/x-tar" },
      stream: tar,
      signal: options.signal,
    };
    return this.callStream("image.import", request, ref, async (stream) => {
      for await (const event of jsonLines<PullProgressEvent>(stream)) {
        const message = event.errorDetail?.message ?? event.error;
        if (message)
          throw new EngineError(`Importing ${ref} failed: ${message}`, {
            operation: "image.import",
            resource: ref,
            apiMessage: message,
          });
      }
    });
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
    const request: RequestSpec = {
      method: "POST",
      path: "/build",
      query: buildQuery(options),
      headers: { "Content-Type": "application/x-tar" },
      stream: tarFiles(context.dir, context.files, context.extras),
      signal: options.signal,
    };
    return this.callStream("image.build", request, options.tag, async (stream) => {
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
    });
  }
}
