// Reads the figures the proxy reports (limit, in-flight, queued) from the guard limiter's snapshot.
import type { LimiterView } from "./metrics.js";

const finiteAt = (value: unknown, keys: string[]): number | null => {
  for (const key of keys) {
    const found = (value as Record<string, unknown> | null | undefined)?.[key];
    // `off` reports an infinite limit: there is none to show.
    if (typeof found === "number" && Number.isFinite(found)) return found;
  }
  return null;
};

export function limiterView(snapshot: unknown): LimiterView {
  return {
    limit: finiteAt(snapshot, ["limit", "currentLimit"]),
    inFlight: finiteAt(snapshot, ["inFlight"]),
    queued: finiteAt(snapshot, ["queued"]),
    highest: finiteAt(snapshot, ["highestLimit"]),
  };
}
