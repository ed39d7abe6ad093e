// Images for a project: `build` sections are built locally (reused when the inputs are
// unchanged), other images must already exist unless `pull` is asked for. Nothing is pulled
// behind the user's back, and every missing image is named before anything is created.
import { createHash } from "node:crypto";
import type { Engine } from "../engine/engine.js";
import { BerthError, BuildFailedError } from "../engine/errors.js";
import { type BuildContext, readBuildContext } from "./build-context.js";
import type { ServiceSpec } from "./model.js";
import { sanitizeProjectBase } from "./naming.js";
import { STACK_LABELS } from "./stack-labels.js";

export class ImageMissingError extends BerthError {
  override readonly code = "BERTH_IMAGE_MISSING";
  readonly images: { service: string; image: string }[];
  constructor(images: { service: string; image: string }[]) {
    super(
      `Image${images.length > 1 ? "s" : ""} not found locally: ${images.map((i) => `${i.image} (service ${i.service})`).join(", ")}`,
      {
        resource: images.map((i) => i.image).join(", "),
        hint: "berth never pulls unless asked: pass --pull (library: `pull: true`), build the image, or give the service a `build` section.",
      },
    );
    this.images = images;
  }
}

export class ImagePullError extends BerthError {
  override readonly code = "BERTH_IMAGE_PULL_FAILED";
}

export interface ImageOptions {
  pull: boolean;
  /** Base for tags of built images without an `image` name. */
  projectBase: string;
  /** Informational labels for built images (never ownership labels: containers inherit image labels). */
  buildLabels: Record<string, string>;
  onBuild?: (service: string, phase: "building" | "built" | "reused") => void;
  signal?: AbortSignal;
}

async function pullImage(engine: Engine, ref: string, service: string, signal?: AbortSignal): Promise<void> {
  try {
    await engine.call(
      "image.pull",
      async (docker) => {
        const stream = (await docker.pull(ref, { abortSignal: signal })) as NodeJS.ReadableStream;
        await new Promise<void>((resolve, reject) => {
          docker.modem.followProgress(stream, (error: Error | null, events: { error?: string }[]) => {
            const failed = events?.find((e) => e.error)?.error;
            if (error || failed) reject(error ?? new Error(failed));
            else resolve();
          });
        });
      },
      { resource: ref, signal },
    );
  } catch (error) {
    throw new ImagePullError(`Pulling ${ref} for service ${service} failed: ${(error as Error).message}`, {
      resource: ref,
      cause: error,
      hint: "Check the image name and that the registry is reachable, or build the image locally.",
    });
  }
}

/**
 * The build's full hash: the context's (files, Dockerfile, args, target) and the ids of the
 * images it builds on as the daemon has them now, so a base re-tagged to a new image (same name,
 * new id) makes a new build instead of reusing one made from the old base.
 */
export async function buildHash(engine: Engine, context: BuildContext): Promise<string> {
  const bases = await Promise.all(
    context.baseImages.map(async (ref) => {
      // A reference the daemon cannot read is left to the build to report.
      const image = await engine.findImage(ref).catch(() => undefined);
      return [ref, image?.Id ?? "missing"] as const;
    }),
  );
  if (bases.length === 0) return context.hash;
  return createHash("sha256").update(context.hash).update(JSON.stringify(bases)).digest("hex");
}

export function builtTag(service: ServiceSpec, base: string, hash: string): string {
  return (
    service.image ??
    `berth-build/${sanitizeProjectBase(base)}-${sanitizeProjectBase(service.name)}:${hash.slice(0, 12)}`
  );
}

/** Makes sure every service's image exists; answers the image reference per service. */
export async function ensureImages(
  engine: Engine,
  services: ServiceSpec[],
  options: ImageOptions,
): Promise<Record<string, string>> {
  const refs: Record<string, string> = {};
  const missing: { service: string; image: string }[] = [];
  const builds: (() => Promise<void>)[] = [];
  const buildsByTag = new Map<string, Promise<void>>();

  for (const service of services) {
    if (service.build) {
      const context = readBuildContext(service.build, service.location.path);
      const hash = await buildHash(engine, context);
      const tag = builtTag(service, options.projectBase, hash);
      refs[service.name] = tag;
      const build = service.build;
      builds.push(async () => {
        let pending = buildsByTag.get(tag);
        if (!pending) {
          pending = (async () => {
            const existing = await engine.findImage(tag);
            if (existing?.Config?.Labels?.[STACK_LABELS.buildHash] === hash) {
              options.onBuild?.(service.name, "reused");
              return;
            }
            options.onBuild?.(service.name, "building");
            try {
              await engine.buildImage(
                { dir: context.dir, files: context.files },
                {
                  tag,
                  dockerfile: build.dockerfile,
                  buildargs: build.args,
                  ...(build.target ? { target: build.target } : {}),
                  labels: { ...options.buildLabels, [STACK_LABELS.buildHash]: hash },
                  ...(options.signal ? { signal: options.signal } : {}),
                },
              );
            } catch (error) {
              if (error instanceof BuildFailedError) {
                const tail = error.log.trimEnd().split("\n").slice(-20);
                const output =
                  tail.length > 0
                    ? `\n  last build output:\n${tail.map((l) => `    | ${l}`).join("\n")}`
                    : "";
                throw new BuildFailedError(`Service ${service.name}: ${error.message}${output}`, error.log, {
                  resource: service.name,
                  cause: error,
                  hint: "The last lines of the build output are in the error's `log`.",
                });
              }
              throw error;
            }
            options.onBuild?.(service.name, "built");
          })();
          buildsByTag.set(tag, pending);
        }
        await pending;
      });
    } else if (service.image) {
      refs[service.name] = service.image;
      if (options.pull) builds.push(() => pullImage(engine, service.image!, service.name, options.signal));
      else if (!(await engine.findImage(service.image)))
        missing.push({ service: service.name, image: service.image });
    }
  }
  if (missing.length > 0) throw new ImageMissingError(missing);
  // Settle every build before answering, so a failure never races a rollback with builds in flight.
  const results = await Promise.allSettled(builds.map((b) => b()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return refs;
}
