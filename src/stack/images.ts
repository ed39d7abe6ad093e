// Images for a project: `build` sections are built locally (reused when the inputs are
// unchanged); other images follow their pull policy (`--pull` over the service's `pull_policy`,
// default `missing`), each pulled once however many services use it. Every image a `never`
// policy finds missing is named before anything is pulled or created.
import { createHash } from "node:crypto";
import type { BuildOptions, Engine } from "../engine/engine.js";
import { BuildFailedError, ConfigError } from "../engine/errors.js";
import { ImageMissingError } from "../images/errors.js";
import { DEFAULT_PULL_POLICY, type PullPolicy } from "../images/policy.js";
import { ensureImage } from "../images/pull.js";
import type { ImageProgress } from "../images/pull-progress.js";
import type { BuildSpec, ServiceSpec } from "../model/compose.js";
import { type BuildContext, readBuildContext } from "./build-context.js";
import { sanitizeProjectBase } from "./naming.js";
import { STACK_LABELS } from "./stack-labels.js";

export { ImageMissingError, ImagePullError } from "../images/errors.js";

interface ImageOptions {
  /** `--pull`: a policy for every service, over their own `pull_policy` (default: theirs, else `missing`). */
  pull?: Exclude<PullPolicy, "build">;
  /** Base for tags of built images without an `image` name. */
  projectBase: string;
  /** Informational labels for built images (never ownership labels: containers inherit image labels). */
  buildLabels: Record<string, string>;
  onBuild?: (service: string, phase: "building" | "built" | "reused") => void;
  /** Progress of each pull, with the services that use the image. */
  onPull?: (services: string[], progress: ImageProgress) => void;
  /** Environment for the docker config (DOCKER_CONFIG, HOME); default process.env. */
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
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

/** The Compose build settings as the engine's build options. */
export function buildSettings(build: BuildSpec): Omit<BuildOptions, "tag"> {
  const options: Omit<BuildOptions, "tag"> = {};
  if (build.target) options.target = build.target;
  if (build.tags?.length) options.extraTags = build.tags;
  if (build.network) options.networkMode = build.network;
  if (build.shmSizeBytes !== undefined) options.shmSizeBytes = build.shmSizeBytes;
  if (build.extraHosts?.length) options.extraHosts = build.extraHosts;
  if (build.ulimits) options.ulimits = build.ulimits;
  if (build.noCache) options.noCache = true;
  if (build.pull) options.pull = true;
  if (build.platform) options.platform = build.platform;
  return options;
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
  const pulls = new Map<string, { image: string; policy: "missing" | "always"; services: string[] }>();

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
            // `no_cache` asks for a fresh build every time: no earlier one is reused.
            const existing = build.noCache ? undefined : await engine.findImage(tag);
            if (existing?.Config?.Labels?.[STACK_LABELS.buildHash] === hash) {
              options.onBuild?.(service.name, "reused");
              return;
            }
            options.onBuild?.(service.name, "building");
            try {
              await engine.buildImage(
                { dir: context.dir, files: context.files, extras: context.extras },
                {
                  ...buildSettings(build),
                  tag,
                  dockerfile: build.dockerfile,
                  buildargs: build.args,
                  labels: { ...build.labels, ...options.buildLabels, [STACK_LABELS.buildHash]: hash },
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
      const policy = options.pull ?? service.pullPolicy ?? DEFAULT_PULL_POLICY;
      if (policy === "build") {
        throw new ConfigError(`Service ${service.name} has pull policy build but nothing to build`, {
          resource: service.name,
          hint: "Give it a build section, or another pull policy.",
        });
      }
      if (policy === "never") {
        if (!(await engine.findImage(service.image)))
          missing.push({ service: service.name, image: service.image });
        continue;
      }
      const key = `${policy} ${service.image}`;
      const pull = pulls.get(key) ?? { image: service.image, policy, services: [] };
      pull.services.push(service.name);
      pulls.set(key, pull);
    }
  }
  if (missing.length > 0) throw new ImageMissingError(missing);
  for (const pull of pulls.values()) {
    builds.push(async () => {
      await ensureImage(engine, pull.image, {
        policy: pull.policy,
        onProgress: (progress) => options.onPull?.(pull.services, progress),
        ...(options.env ? { env: options.env } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    });
  }
  // Settle every build before answering, so a failure never races a rollback with builds in flight.
  const results = await Promise.allSettled(builds.map((b) => b()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return refs;
}
