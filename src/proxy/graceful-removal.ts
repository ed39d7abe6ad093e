// The safe-removal rewrite: `DELETE /containers/{id}?force=1` on a running container becomes a
// stop with its own stop signal and grace period, a wait until it no longer runs, and a removal
// without force (keeping `v`). The client gets the answer it expects: 204, or the daemon's error.
import type { Engine } from "../engine/engine.js";
import { BerthError } from "../engine/errors.js";
import { safeRemove } from "../lifecycle/safe-remove.js";
import type { ForceRemoval } from "./classify-request.js";

export type RemovalAnswer =
  /** Not a running container: the daemon can answer the original request itself. */
  | { kind: "pass-through" }
  | { kind: "answer"; status: number; message?: string; graceSeconds?: number; outcome?: string };

export interface GracefulRemovalOptions {
  /** Upper bound on the grace period in seconds, whatever the container asks for. */
  maxGraceSeconds?: number;
  signal?: AbortSignal;
}

export async function gracefulRemoval(
  engine: Engine,
  target: ForceRemoval,
  options: GracefulRemovalOptions = {},
): Promise<RemovalAnswer> {
  try {
    const info = await engine.findContainer(target.container, options.signal);
    // Missing, stopped, paused or dead containers: force changes nothing graceful; let the daemon
    // answer exactly as it would (404 text included).
    if (!info || !(info.State.Running || info.State.Restarting)) return { kind: "pass-through" };
    const record = await safeRemove(engine, info.Id, {
      removeVolumes: target.volumes,
      maxGraceSeconds: options.maxGraceSeconds,
      signal: options.signal,
    });
    return { kind: "answer", status: 204, graceSeconds: record.graceSeconds, outcome: record.outcome };
  } catch (error) {
    if (error instanceof BerthError) {
      return { kind: "answer", status: error.status ?? 500, message: error.apiMessage ?? error.message };
    }
    return { kind: "answer", status: 500, message: `berth proxy: graceful removal failed: ${String(error)}` };
  }
}
