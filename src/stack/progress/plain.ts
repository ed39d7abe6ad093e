// Progress as plain lines, one per change, for logs and CI where a live display would garble.
import { describeImageProgress } from "../../images/pull-progress.js";
import type { ProgressListener, StackEvent } from "./events.js";

export function describeEvent(event: StackEvent): string | undefined {
  switch (event.type) {
    case "project":
      if (event.action === "pull") return `project ${event.project}: pulling ${event.services.join(", ")}`;
      return event.action === "up"
        ? `project ${event.project} (session ${event.session}): starting ${event.services.join(", ")}`
        : `project ${event.project}: taking down ${event.services.length > 0 ? event.services.join(", ") : "(no containers)"}`;
    case "image": {
      const detail = describeImageProgress(event);
      return `image ${event.image}: ${event.phase}${detail ? ` (${detail})` : ""}`;
    }
    case "warning":
      return `warning: ${event.message}`;
    case "service":
      if (event.phase === "pending" || event.phase === "created") return undefined;
      return `${event.service}: ${event.phase}${event.detail ? ` (${event.detail})` : ""}`;
    case "resource":
      return `${event.kind} ${event.name}: ${event.action}`;
    case "rollback":
      return event.phase === "started" ? `rolling back: ${event.reason}` : "rollback finished";
    case "done":
      return `${event.action} ${event.ok ? "finished" : "failed"} in ${(event.durationMs / 1000).toFixed(1)}s`;
  }
}

/** A pull's byte progress goes to a log at most this often per image; phase changes at once. */
const PLAIN_PULL_INTERVAL_MS = 3_000;

export function plainProgress(write: (line: string) => void): ProgressListener {
  const lastPullLine = new Map<string, number>();
  return (event) => {
    if (event.type === "image" && event.phase === "pulling" && event.layers) {
      const now = performance.now();
      if (now - (lastPullLine.get(event.image) ?? Number.NEGATIVE_INFINITY) < PLAIN_PULL_INTERVAL_MS) return;
      lastPullLine.set(event.image, now);
    }
    const line = describeEvent(event);
    if (line !== undefined) write(`berth: ${line}\n`);
  };
}

/** Progress as one JSON object per line, for machines. */
export function jsonProgress(write: (line: string) => void): ProgressListener {
  return (event) => write(`${JSON.stringify({ progress: event })}\n`);
}
