// Progress as plain lines, one per change, for logs and CI where a live display would garble.
import type { ProgressListener, StackEvent } from "./events.js";

export function describeEvent(event: StackEvent): string | undefined {
  switch (event.type) {
    case "project":
      return event.action === "up"
        ? `project ${event.project} (session ${event.session}): starting ${event.services.join(", ")}`
        : `project ${event.project}: taking down ${event.services.length > 0 ? event.services.join(", ") : "(no containers)"}`;
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

export function plainProgress(write: (line: string) => void): ProgressListener {
  return (event) => {
    const line = describeEvent(event);
    if (line !== undefined) write(`berth: ${line}\n`);
  };
}

/** Progress as one JSON object per line, for machines. */
export function jsonProgress(write: (line: string) => void): ProgressListener {
  return (event) => write(`${JSON.stringify({ progress: event })}\n`);
}
