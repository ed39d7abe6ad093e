// The daemon's `oom` event as a second witness of an OOM kill. Docker 20.10 records
// State.OOMKilled only when containerd's OOM notice reaches it before the exit: the two come from
// separate watchers, and on a busy machine the exit can win. The container then reads "exit 137,
// OOMKilled false", while the daemon still logs an `oom` event for it, just after its `die`.
import type { Engine } from "../engine/engine.js";

/** How long after an exit berth waits for a late `oom` event before it calls a 137 a plain SIGKILL. */
export const LATE_OOM_GRACE_MS = 1_500;

interface OomEventQuery {
  /** When the container last started (its State.StartedAt); earlier events are another run's. */
  since: Date;
  /** How long to keep listening for an `oom` still on its way (default LATE_OOM_GRACE_MS). */
  graceMs?: number;
  signal?: AbortSignal;
}

/**
 * Whether the daemon logged an `oom` event for `containerId` since `since`, listening up to
 * `graceMs` longer for one that has not arrived yet. Resolves as soon as one is seen.
 */
export async function oomEventLogged(
  engine: Engine,
  containerId: string,
  query: OomEventQuery,
): Promise<boolean> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(query.signal?.reason);
  query.signal?.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(), query.graceMs ?? LATE_OOM_GRACE_MS);
  try {
    for await (const event of engine.events({
      // Whole seconds: the daemon replays the event log from `since`, then follows it live.
      since: Math.floor(query.since.getTime() / 1000),
      filters: { type: ["container"], container: [containerId], event: ["oom"] },
      signal: controller.signal,
      unref: true,
    })) {
      if (event.Action === "oom" && event.timeNano / 1e6 >= query.since.getTime() - 1) return true;
    }
    return false;
  } catch (error) {
    if (controller.signal.aborted) return false;
    throw error;
  } finally {
    clearTimeout(timer);
    query.signal?.removeEventListener("abort", onAbort);
    controller.abort();
  }
}
