// A pull's progress as people read it: layers done of layers, bytes downloaded of bytes, from the
// daemon's per-layer status lines. Pure; the pull feeds it and decides how often to report.

/** One line of the daemon's pull stream. */
interface PullStreamEvent {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

type ImagePhase =
  /** Another pull of the same image (this process or another) is under way; this one waits for it. */
  | "waiting"
  | "pulling"
  /** A pull failed and is tried again after `delayMs`. */
  | "retrying"
  | "pulled"
  /** Already on the daemon; nothing pulled. */
  | "present"
  | "failed";

/** What the pull of one image reports. */
export interface ImageProgress {
  image: string;
  phase: ImagePhase;
  layers?: { done: number; total: number };
  bytes?: { current: number; total: number };
  attempt?: number;
  delayMs?: number;
  /** Why a retry happens, or why the pull failed. */
  reason?: string;
  imageId?: string;
}

interface Layer {
  current: number;
  total: number;
  done: boolean;
}

export class PullTally {
  private readonly layers = new Map<string, Layer>();

  /** Takes one stream line; answers true when it changed the tally. */
  add(event: PullStreamEvent): boolean {
    const id = event.id;
    const status = event.status ?? "";
    if (!id || status.startsWith("Pulling from")) return false;
    const layer = this.layers.get(id) ?? { current: 0, total: 0, done: false };
    this.layers.set(id, layer);
    if (status === "Downloading") {
      layer.current = event.progressDetail?.current ?? layer.current;
      layer.total = event.progressDetail?.total ?? layer.total;
    } else if (status === "Download complete" || status === "Verifying Checksum") {
      layer.current = layer.total;
    } else if (status === "Pull complete" || status === "Already exists") {
      layer.current = layer.total;
      layer.done = true;
    }
    return true;
  }

  summary(): Pick<ImageProgress, "layers" | "bytes"> {
    let done = 0;
    let current = 0;
    let total = 0;
    for (const layer of this.layers.values()) {
      if (layer.done) done += 1;
      current += layer.current;
      total += layer.total;
    }
    return { layers: { done, total: this.layers.size }, bytes: { current, total } };
  }
}

/** `3/5 layers, 1.2/4.5 MB`: the progress as a short text. */
export function describeImageProgress(progress: ImageProgress): string {
  const parts: string[] = [];
  if (progress.layers && progress.layers.total > 0)
    parts.push(`${progress.layers.done}/${progress.layers.total} layers`);
  if (progress.bytes && progress.bytes.total > 0) {
    const mb = (n: number) => (n / 1_000_000).toFixed(1);
    parts.push(`${mb(progress.bytes.current)}/${mb(progress.bytes.total)} MB`);
  }
  if (progress.phase === "retrying") {
    parts.push(
      `attempt ${(progress.attempt ?? 1) + 1} in ${((progress.delayMs ?? 0) / 1000).toFixed(1)}s: ${progress.reason ?? "failed"}`,
    );
  }
  if (progress.phase === "failed" && progress.reason) parts.push(progress.reason);
  if ((progress.phase === "pulled" || progress.phase === "present") && progress.imageId)
    parts.push(progress.imageId.replace(/^sha256:/, "").slice(0, 12));
  return parts.join(", ");
}
