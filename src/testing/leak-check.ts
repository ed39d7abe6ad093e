// A leak check for test runners: snapshot the daemon before the run, and after it fail the run if
// containers, networks or volumes of the run remain. Made for a Vitest globalSetup (return the
// teardown it gives), and plain enough for Jest's globalSetup/globalTeardown or node:test.
import type { Engine } from "../engine/engine.js";
import { defaultEngine } from "../guard/default-engine.js";
import { LeakDetectedError } from "../janitor/errors.js";
import { snapshot, waitForNoLeaks } from "../janitor/leaks.js";
import { drainPool, isFreePoolNetwork, networkPoolConfig } from "../janitor/network-pool.js";
import type { LabelSelector } from "../model/labels.js";
import { matchesSelector } from "../model/labels.js";

export interface LeakCheckOptions {
  engine?: Engine;
  /** Only resources with this label are the run's (e.g. `{ key: "berth.suite", value: runId }`). */
  label?: LabelSelector;
  /** Also count new resources without the label's key (created by hand, labels forgotten). Default true. */
  includeUnlabelled?: boolean;
  /** How long to wait for cleanups still in flight (reaper, removals) before failing (ms, default 10 s). */
  waitMs?: number;
  /** Pause between checks while waiting (ms, default 500). */
  intervalMs?: number;
  /** Where the success line goes (default stdout); `null` for silence. */
  log?: ((line: string) => void) | null;
}

/**
 * Takes the "before" snapshot now and answers the teardown: it resolves when nothing of the run
 * is left and throws a LeakDetectedError listing what is.
 */
export async function startLeakCheck(options: LeakCheckOptions = {}): Promise<() => Promise<void>> {
  const engine = options.engine ?? defaultEngine();
  const before = await snapshot(engine);
  const log = options.log === undefined ? (line: string) => process.stdout.write(`${line}\n`) : options.log;
  const pool = networkPoolConfig(process.env, true);
  const label = options.label;
  return async () => {
    const leaks = await waitForNoLeaks(before, {
      engine,
      label,
      // The run's idle pooled networks go; one still held (not returned by a down) is a leak.
      beforeCheck: () => drainPool(engine, pool, { orphaned: false, ...(label ? { label } : {}) }),
      // Another run's idle pooled network is not this run's leftover.
      legitimate: (r) =>
        r.kind === "network" &&
        label !== undefined &&
        !matchesSelector(r.labels, label) &&
        isFreePoolNetwork(r.labels, r.name, pool),
      includeUnlabelled: options.includeUnlabelled ?? true,
      waitMs: options.waitMs ?? 10_000,
      intervalMs: options.intervalMs,
    });
    if (leaks.length > 0) throw new LeakDetectedError(leaks);
    log?.("Leak check: no containers, networks or volumes left by this run.");
  };
}

/**
 * A ready Vitest globalSetup: `export default leakCheckGlobalSetup({ label: ... })` in a file
 * listed under `test.globalSetup`. Vitest calls the returned function as the teardown.
 */
export function leakCheckGlobalSetup(options: LeakCheckOptions = {}): () => Promise<() => Promise<void>> {
  return () => startLeakCheck(options);
}
