// Removes everything of one session until the daemon has shown nothing of it for a settle period.
// One pass is not enough after a crash: the dead owner's last create or start requests may still
// be in flight on the daemon and produce a container after the first listing.
import type { Engine } from "../engine/engine.js";
import { LABELS } from "../model/labels.js";
import { sleep } from "../model/sleep.js";
import { listResources } from "./inventory.js";
import { networkPoolConfig, releaseHeld } from "./network-pool.js";
import { removeResources } from "./remove.js";

interface ReapOptions {
  /** How long the session must stay empty before it counts as clean (ms, default 1500). */
  settleMs?: number;
  /** Give up after this long (ms, default 120 s). */
  deadlineMs?: number;
  /**
   * Upper bound on a container's grace period (seconds, default 5). Nobody waits for a dead
   * owner's environment to shut down cleanly, and a service that has not yet installed its signal
   * handler (killed mid-start) would otherwise hold the whole reap for its full grace period.
   */
  maxGraceSeconds?: number;
  log?: (line: string) => void;
}

export interface ReapResult {
  session: string;
  /** Resources this reap removed (not counting ones someone else removed first). */
  removed: number;
  failures: number;
  /** Ms from the start until the last time anything of the session was seen. */
  cleanAfterMs: number;
  /** False when the deadline passed with resources still present (or the daemon unreachable). */
  clean: boolean;
}

const DEFAULT_REAP_GRACE_SECONDS = 5;

/** `BERTH_REAPER_GRACE` (seconds) overrides the reaper's grace cap. */
export function reapGraceFromEnv(env: Record<string, string | undefined> = process.env): number {
  const value = Number(env.BERTH_REAPER_GRACE);
  return env.BERTH_REAPER_GRACE?.trim() && Number.isFinite(value) && value >= 0
    ? value
    : DEFAULT_REAP_GRACE_SECONDS;
}

/** Pooled networks the dead owner held go back to the pool, once nothing is attached. */
async function releasePooledNetworks(engine: Engine, session: string, log: (line: string) => void) {
  let failed = 0;
  try {
    for (const release of await releaseHeld(engine, { session }, networkPoolConfig(process.env, true))) {
      if (release.outcome) log(`${session}: pooled network ${release.name} ${release.outcome}`);
      else {
        failed++;
        log(
          `${session}: releasing pooled network ${release.name} failed: ${(release.error as Error)?.message}`,
        );
      }
    }
  } catch (error) {
    failed++;
    log(`${session}: releasing pooled networks failed: ${(error as Error).message}`);
  }
  return failed;
}

export async function reapSession(
  engine: Engine,
  session: string,
  options: ReapOptions = {},
): Promise<ReapResult> {
  const settleMs = options.settleMs ?? 1_500;
  const deadlineMs = options.deadlineMs ?? 120_000;
  const log = options.log ?? (() => {});
  const started = performance.now();
  let lastSeen = started;
  let removed = 0;
  let failures = 0;
  for (;;) {
    const now = performance.now();
    let seen = false;
    try {
      const found = await listResources(engine, { labels: [`${LABELS.session}=${session}`] });
      if (found.length > 0) {
        seen = true;
        log(`${session}: sweep at ${Math.round(now - started)} ms found ${found.length}`);
        const outcomes = await removeResources(engine, found, {
          maxGraceSeconds: options.maxGraceSeconds ?? DEFAULT_REAP_GRACE_SECONDS,
          concurrency: 8,
        });
        for (const o of outcomes) {
          if (!o.ok) {
            failures++;
            log(
              `${session}: removing ${o.resource.kind} ${o.resource.name} failed: ${(o.error as Error)?.message}`,
            );
          } else if (!o.alreadyGone) {
            removed++;
            const how = o.container
              ? ` (${o.container.outcome}; ${o.container.steps.map((s) => `${s.step} ${Math.round(s.durationMs)}ms`).join(", ")})`
              : "";
            log(`${session}: removed ${o.resource.kind} ${o.resource.name}${how}`);
          }
        }
      }
    } catch (error) {
      seen = true;
      log(`${session}: listing failed: ${(error as Error).message}`);
    }
    if (seen) lastSeen = performance.now();
    else if (now - lastSeen >= settleMs) {
      failures += await releasePooledNetworks(engine, session, log);
      return { session, removed, failures, cleanAfterMs: lastSeen - started, clean: true };
    }
    if (performance.now() - started > deadlineMs) {
      return { session, removed, failures, cleanAfterMs: lastSeen - started, clean: false };
    }
    await sleep(seen ? 100 : 250);
  }
}
