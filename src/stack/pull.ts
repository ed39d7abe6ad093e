// `pull`: makes a project's images present without starting anything (CI cache warm-up): every
// service image that is not built, each image once, all at once. Services whose pull_policy is
// `never` or `build` are left alone, as Compose's `pull` does.
import type { Engine } from "../engine/engine.js";
import { defaultEngine } from "../guard/default-engine.js";
import { ensureImage } from "../images/pull.js";
import type { ComposeProject } from "../model/compose.js";
import type { ProgressListener } from "./progress/events.js";
import { resolveProject, type UpOptions } from "./up.js";

export interface PullOptions
  extends Pick<UpOptions, "files" | "spec" | "cwd" | "env" | "profiles" | "envFile" | "services"> {
  /** `always` (default): pull every image; `missing`: only those the daemon does not have. */
  policy?: "always" | "missing";
  engine?: Engine;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

interface PulledImage {
  image: string;
  services: string[];
  imageId: string;
  /** False when the image was already present and `policy` was `missing`. */
  pulled: boolean;
}

export interface PullReport {
  images: PulledImage[];
  /** Services not pulled, and why (built from a build section, or pull_policy never). */
  skipped: { service: string; reason: string }[];
  durationMs: number;
}

/** The images `pull` would fetch, by image, and the services it leaves alone. */
function imagesToPull(project: ComposeProject): {
  images: Map<string, string[]>;
  skipped: PullReport["skipped"];
} {
  const images = new Map<string, string[]>();
  const skipped: PullReport["skipped"] = [];
  for (const service of Object.values(project.services)) {
    if (service.build) skipped.push({ service: service.name, reason: "built from its build section" });
    else if (service.pullPolicy === "never")
      skipped.push({ service: service.name, reason: "pull_policy never" });
    else if (service.image) images.set(service.image, [...(images.get(service.image) ?? []), service.name]);
  }
  return { images, skipped };
}

export async function pullImages(options: PullOptions = {}): Promise<PullReport> {
  const began = performance.now();
  const { project } = await resolveProject(options);
  const engine = options.engine ?? defaultEngine();
  const { images, skipped } = imagesToPull(project);
  const emit: ProgressListener = (event) => options.onProgress?.(event);
  emit({ type: "project", action: "pull", project: project.name ?? "berth", services: [...images.keys()] });
  for (const { service, reason } of skipped)
    emit({ type: "warning", message: `${service}: not pulled (${reason})` });
  const results = await Promise.allSettled(
    [...images].map(async ([image, services]): Promise<PulledImage> => {
      const done = await ensureImage(engine, image, {
        policy: options.policy ?? "always",
        onProgress: (progress) => emit({ type: "image", services, ...progress }),
        ...(options.env ? { env: options.env } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return { image, services, imageId: done.imageId, pulled: done.pulled };
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  const durationMs = performance.now() - began;
  emit({ type: "done", action: "pull", ok: !failed, durationMs });
  if (failed) throw failed.reason;
  return {
    images: results.map((r) => (r as PromiseFulfilledResult<PulledImage>).value),
    skipped,
    durationMs,
  };
}
